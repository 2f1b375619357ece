package model

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Default names under which the gateway looks for a subscription key.
const (
	DefaultKeyHeader = "Ocp-Apim-Subscription-Key"
	DefaultKeyQuery  = "subscription-key"
)

// KeyParameterNames names the header and query parameter carrying the
// subscription key for one API.
type KeyParameterNames struct {
	Header string `json:"header"`
	Query  string `json:"query"`
}

// API is a set of operations under one URL suffix (Path) served by a backend
// (ServiceURL). Path is stored without leading or trailing slashes; it may be
// empty, and it is unique among APIs of the same version.
type API struct {
	DisplayName                   string             `json:"displayName"`
	Description                   string             `json:"description,omitempty"`
	Path                          string             `json:"path"`
	ServiceURL                    string             `json:"serviceUrl,omitempty"`
	Protocols                     []string           `json:"protocols"`
	SubscriptionRequired          *bool              `json:"subscriptionRequired"`
	SubscriptionKeyParameterNames *KeyParameterNames `json:"subscriptionKeyParameterNames"`
	APIVersion                    string             `json:"apiVersion,omitempty"`
	APIVersionSetID               string             `json:"apiVersionSetId,omitempty"`
	APIRevision                   string             `json:"apiRevision,omitempty"`
	Type                          string             `json:"type,omitempty"`
	Tags                          []string           `json:"tags,omitempty"`
	// MaxRequestBodyBytes limits request bodies accepted by the gateway for
	// this API; 0 means the gateway's default.
	MaxRequestBodyBytes int64 `json:"maxRequestBodyBytes,omitempty"`
	// AllowEncodedSlashes lets request paths of this API hold an encoded
	// slash or backslash (%2F, %5C), forwarded as sent. Off by default: the
	// gateway answers such a path with 400, since a backend that decodes it
	// sees other segments than the gateway routed (a Portico extension).
	AllowEncodedSlashes bool `json:"allowEncodedSlashes,omitempty"`
}

var pathSegment = regexp.MustCompile(`^[A-Za-z0-9._~!$&'()*+,;=:@%-]+$`)
var headerToken = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// Normalize trims slashes off Path and fills defaults.
func (a *API) Normalize() {
	a.DisplayName = strings.TrimSpace(a.DisplayName)
	a.Path = strings.Trim(strings.TrimSpace(a.Path), "/")
	a.ServiceURL = strings.TrimSpace(a.ServiceURL)
	if len(a.Protocols) == 0 {
		a.Protocols = []string{"https"}
	}
	for i, p := range a.Protocols {
		a.Protocols[i] = strings.ToLower(strings.TrimSpace(p))
	}
	if a.SubscriptionRequired == nil {
		t := true
		a.SubscriptionRequired = &t
	}
	if a.SubscriptionKeyParameterNames == nil {
		a.SubscriptionKeyParameterNames = &KeyParameterNames{}
	}
	if a.SubscriptionKeyParameterNames.Header == "" {
		a.SubscriptionKeyParameterNames.Header = DefaultKeyHeader
	}
	if a.SubscriptionKeyParameterNames.Query == "" {
		a.SubscriptionKeyParameterNames.Query = DefaultKeyQuery
	}
	if a.Type == "" {
		a.Type = "http"
	}
}

// Validate checks the API's own fields.
func (a *API) Validate() FieldErrors {
	var fe FieldErrors
	requireText(&fe, "displayName", a.DisplayName, 300)
	maxLen(&fe, "description", a.Description, 10000)
	maxLen(&fe, "path", a.Path, 400)
	if a.Path != "" {
		for _, seg := range strings.Split(a.Path, "/") {
			if seg == "" || !pathSegment.MatchString(seg) || strings.ContainsAny(seg, "{}") {
				fe.Add("path", "must be slash-separated URL segments without empty segments or templates, got %q", a.Path)
				break
			}
		}
	}
	if a.ServiceURL != "" {
		ValidateURL(&fe, "serviceUrl", a.ServiceURL)
	}
	seen := map[string]bool{}
	for i, p := range a.Protocols {
		f := fmt.Sprintf("protocols[%d]", i)
		oneOf(&fe, f, p, "http", "https", "ws", "wss")
		if seen[p] {
			fe.Add(f, "duplicates protocol %q", p)
		}
		seen[p] = true
	}
	if n := a.SubscriptionKeyParameterNames; n != nil {
		if !headerToken.MatchString(n.Header) {
			fe.Add("subscriptionKeyParameterNames.header", "must be a valid HTTP header name, got %q", n.Header)
		}
		if url.QueryEscape(n.Query) != n.Query || n.Query == "" {
			fe.Add("subscriptionKeyParameterNames.query", "must be a query parameter name without reserved characters, got %q", n.Query)
		}
	}
	maxLen(&fe, "apiVersion", a.APIVersion, 100)
	if a.APIVersionSetID != "" && !ValidID(a.APIVersionSetID) {
		fe.Add("apiVersionSetId", "must be an id of lowercase letters, digits, '-' or '_'")
	}
	oneOf(&fe, "type", a.Type, "http", "soap", "websocket", "graphql")
	validTags(&fe, "tags", a.Tags)
	if a.MaxRequestBodyBytes < 0 {
		fe.Add("maxRequestBodyBytes", "must not be negative")
	}
	return fe
}

// ValidateURL checks that v is an absolute http(s) URL.
func ValidateURL(fe *FieldErrors, field, v string) {
	u, err := url.Parse(v)
	if err != nil {
		fe.Add(field, "is not a valid URL: %v", err)
		return
	}
	if u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ws" && u.Scheme != "wss" {
		fe.Add(field, "must be an absolute http or https URL, got %q", v)
		return
	}
	if u.Host == "" {
		fe.Add(field, "must name a host, got %q", v)
	}
	maxLen(fe, field, v, 2000)
}

// HTTPMethods lists the methods an operation may declare.
var HTTPMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodHead, http.MethodOptions, http.MethodTrace}
