package model

import (
	"regexp"
	"strings"
)

// BackendAuthorization is an Authorization header sent to a backend.
type BackendAuthorization struct {
	Scheme    string `json:"scheme"`
	Parameter string `json:"parameter"`
}

// BackendCredentials are added to every request forwarded to a backend.
type BackendCredentials struct {
	Header        map[string][]string   `json:"header,omitempty"`
	Query         map[string][]string   `json:"query,omitempty"`
	Authorization *BackendAuthorization `json:"authorization,omitempty"`
}

// BackendTLS controls certificate validation towards a backend.
type BackendTLS struct {
	ValidateCertificateChain bool `json:"validateCertificateChain"`
	ValidateCertificateName  bool `json:"validateCertificateName"`
}

// Backend is a named backend service that policies (set-backend-service
// backend-id="…") route to.
type Backend struct {
	Title       string              `json:"title,omitempty"`
	Description string              `json:"description,omitempty"`
	URL         string              `json:"url"`
	Protocol    string              `json:"protocol"`
	Credentials *BackendCredentials `json:"credentials,omitempty"`
	TLS         *BackendTLS         `json:"tls"`
}

// Normalize defaults the protocol to http and TLS validation to on.
func (b *Backend) Normalize() {
	b.URL = strings.TrimSpace(b.URL)
	if b.Protocol == "" {
		b.Protocol = "http"
	}
	if b.TLS == nil {
		b.TLS = &BackendTLS{ValidateCertificateChain: true, ValidateCertificateName: true}
	}
}

// Validate checks the backend's own fields.
func (b *Backend) Validate() FieldErrors {
	var fe FieldErrors
	if b.URL == "" {
		fe.Add("url", "is required")
	} else {
		ValidateURL(&fe, "url", b.URL)
	}
	oneOf(&fe, "protocol", b.Protocol, "http", "soap")
	maxLen(&fe, "title", b.Title, 300)
	maxLen(&fe, "description", b.Description, 2000)
	if c := b.Credentials; c != nil {
		for _, name := range sortedKeys(c.Header) {
			if !headerToken.MatchString(name) {
				fe.Add("credentials.header."+name, "is not a valid HTTP header name")
			}
		}
		for _, name := range sortedKeys(c.Query) {
			if name == "" {
				fe.Add("credentials.query", "has an empty parameter name")
			}
		}
		if a := c.Authorization; a != nil && strings.TrimSpace(a.Scheme) == "" {
			fe.Add("credentials.authorization.scheme", "is required")
		}
	}
	return fe
}

var namedValueName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,256}$`)

// NamedValue is a named string usable in policies as {{displayName}}. A secret
// value is never returned by GET or list; listValue returns it.
type NamedValue struct {
	DisplayName string   `json:"displayName"`
	Value       string   `json:"value"`
	Secret      bool     `json:"secret"`
	Tags        []string `json:"tags,omitempty"`
}

// Normalize trims the display name.
func (n *NamedValue) Normalize() { n.DisplayName = strings.TrimSpace(n.DisplayName) }

// Validate checks the named value's own fields.
func (n *NamedValue) Validate() FieldErrors {
	var fe FieldErrors
	if !namedValueName.MatchString(n.DisplayName) {
		fe.Add("displayName", "must be 1 to 256 letters, digits, '.', '-' or '_', got %q", n.DisplayName)
	}
	if n.Value == "" {
		fe.Add("value", "is required")
	}
	maxLen(&fe, "value", n.Value, 4096)
	if len(n.Tags) > 32 {
		fe.Add("tags", "must hold at most 32 tags")
	}
	validTags(&fe, "tags", n.Tags)
	return fe
}

// PolicyFragment is a reusable piece of policy XML included with
// <include-fragment fragment-id="…"/>.
type PolicyFragment struct {
	Description string `json:"description,omitempty"`
	Format      string `json:"format"`
	Value       string `json:"value"`
}

// Normalize defaults the format to rawxml.
func (f *PolicyFragment) Normalize() {
	if f.Format == "" || f.Format == "xml" {
		f.Format = "rawxml"
	}
}

// Validate checks the fragment is well-formed XML with a <fragment> root.
func (f *PolicyFragment) Validate() FieldErrors {
	var fe FieldErrors
	maxLen(&fe, "description", f.Description, 1000)
	oneOf(&fe, "format", f.Format, "rawxml")
	if err := CheckPolicySize(f.Value); err != nil {
		fe.Add("value", "%v", err)
	} else if err := CheckXML(f.Value, "fragment"); err != nil {
		fe.Add("value", "%v", err)
	}
	return fe
}

// Policy is a policy document at one scope (global, product, API or
// operation), stored as raw XML.
type Policy struct {
	Format string `json:"format"`
	Value  string `json:"value"`
}

// Normalize defaults the format to rawxml.
func (p *Policy) Normalize() {
	if p.Format == "" || p.Format == "xml" {
		p.Format = "rawxml"
	}
}

// Validate checks that the document is well-formed XML with a <policies> root.
func (p *Policy) Validate() FieldErrors {
	var fe FieldErrors
	oneOf(&fe, "format", p.Format, "rawxml")
	if err := CheckPolicySize(p.Value); err != nil {
		fe.Add("value", "%v", err)
	} else if err := CheckXML(p.Value, "policies"); err != nil {
		fe.Add("value", "%v", err)
	}
	return fe
}

// GatewayLocation describes where a self-hosted gateway runs.
type GatewayLocation struct {
	Name            string `json:"name"`
	City            string `json:"city,omitempty"`
	District        string `json:"district,omitempty"`
	CountryOrRegion string `json:"countryOrRegion,omitempty"`
}

// Gateway is a registered gateway location. Id ManagedGatewayID ("managed")
// is the built-in one.
type Gateway struct {
	LocationData GatewayLocation `json:"locationData"`
	Description  string          `json:"description,omitempty"`
}

// Normalize trims the location name.
func (g *Gateway) Normalize() { g.LocationData.Name = strings.TrimSpace(g.LocationData.Name) }

// Validate checks the gateway's own fields.
func (g *Gateway) Validate() FieldErrors {
	var fe FieldErrors
	requireText(&fe, "locationData.name", g.LocationData.Name, 256)
	maxLen(&fe, "description", g.Description, 1000)
	for f, v := range map[string]string{"locationData.city": g.LocationData.City, "locationData.district": g.LocationData.District, "locationData.countryOrRegion": g.LocationData.CountryOrRegion} {
		maxLen(&fe, f, v, 256)
	}
	return fe
}
