package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/policy"
	"github.com/portico-gw/portico/internal/router"
)

// Object kinds named by ObjectError.Kind: the stored kinds of model, plus
// KindConfig for the configuration as a whole.
const (
	KindConfig         = "config"
	KindAPI            = string(model.KindAPI)
	KindOperation      = string(model.KindOperation)
	KindProduct        = string(model.KindProduct)
	KindSubscription   = string(model.KindSubscription)
	KindBackend        = string(model.KindBackend)
	KindNamedValue     = string(model.KindNamedValue)
	KindPolicy         = string(model.KindPolicy)
	KindPolicyFragment = string(model.KindPolicyFragment)
)

// ObjectError reports one object that Compile skipped; the rest of the
// configuration is live without it.
type ObjectError struct {
	// Kind is one of the Kind* constants.
	Kind string
	// ID identifies the object: its id, "apiId/operationId" for an
	// operation, the subscription id for a subscription key, the scope for a
	// policy.
	ID string
	// Err is the cause.
	Err error
}

// Error returns a lowercase message naming the object and the cause.
func (e ObjectError) Error() string {
	return fmt.Sprintf("%s %q: %v", e.Kind, e.ID, e.Err)
}

// Unwrap returns the cause.
func (e ObjectError) Unwrap() error { return e.Err }

// ScopeKind is what a subscription is scoped to.
type ScopeKind uint8

// Subscription scope kinds.
const (
	// ScopeAllAPIs is the "/apis" scope: every API.
	ScopeAllAPIs ScopeKind = iota + 1
	// ScopeAPI is "/apis/{apiId}": one API.
	ScopeAPI
	// ScopeProduct is "/products/{productId}": the APIs of one product.
	ScopeProduct
)

// Snapshot is the compiled, immutable configuration a gateway serves from.
// All methods are safe for concurrent use; the values they return point into
// the snapshot and must not be modified.
type Snapshot struct {
	cfg      *Config
	router   *router.Router
	apis     []*CompiledAPI
	apiByID  map[string]*CompiledAPI
	products map[string]*CompiledProduct
	keys     map[[sha256.Size]byte]*CompiledSubscription
	backends map[string]*CompiledBackend
	policies map[string]*Policy
	values   map[string]*NamedValue
	frags    map[string]*PolicyFragment
	errs     []ObjectError
	opts     CompileOptions
}

// CompileOptions is what CompileWith takes besides the configuration: state
// that the gateway keeps for its lifetime and that every snapshot shares.
type CompileOptions struct {
	// Keys holds the signing keys validate-jwt fetches from OpenID
	// configurations (policy.Env.Keys); nil lets each compiled
	// validate-jwt keep its own, fetched again in every snapshot.
	Keys *policy.KeyCache
}

// CompiledAPI is the runtime form of one API.
type CompiledAPI struct {
	ID          string
	DisplayName string
	// Path is the API path without surrounding slashes.
	Path string
	// ServiceURL is the parsed backend base URL; its scheme is "http" or
	// "https" (ws and wss are mapped to them).
	ServiceURL *url.URL
	// KeyHeader is the canonical name of the header carrying the key.
	KeyHeader string
	// KeyQuery is the name of the query parameter carrying the key.
	KeyQuery string
	// SubscriptionRequired is the API's own setting.
	SubscriptionRequired bool
	// MaxRequestBodyBytes is the API's body limit; 0 means the gateway
	// default.
	MaxRequestBodyBytes int64
	// AllowEncodedSlashes lets request paths hold %2F and %5C (see
	// router.CleanPath); otherwise the gateway refuses them with 400.
	AllowEncodedSlashes bool
	// Schemes are the request schemes the API is served on (see Admits).
	Schemes Schemes
	// Products are the products containing the API, ordered by id.
	Products []*CompiledProduct
	// OpenProduct is the published product with subscriptionRequired false
	// that contains the API (the one with the lowest id when there are
	// several), or nil. It lets keyless calls through.
	OpenProduct *CompiledProduct
	// Operations are the operations that compiled, in configuration order.
	Operations []*CompiledOperation
	// Config is the API's configuration.
	Config *API
}

// CompiledOperation is the runtime form of one operation.
type CompiledOperation struct {
	ID          string
	DisplayName string
	// Method is the uppercase method, or "*".
	Method      string
	URLTemplate string
	// API is the operation's API.
	API *CompiledAPI
	// Examples are the operation's example responses, ready to send (see
	// ResponseExample). Shared by every request: do not modify.
	Examples []policy.Example

	pipelines   map[string]*policy.Pipeline // by product id, "" for none
	policyErr   error
	productErrs []productErr
}

// CompiledProduct is the runtime form of one product.
type CompiledProduct struct {
	ID                   string
	DisplayName          string
	State                string
	Published            bool
	SubscriptionRequired bool
	apis                 map[string]struct{}
}

// Contains reports whether the product contains the API with this id.
func (p *CompiledProduct) Contains(apiID string) bool {
	_, ok := p.apis[apiID]
	return ok
}

// CompiledSubscription is the runtime form of the subscription holding one
// key.
type CompiledSubscription struct {
	ID    string
	Scope string
	Kind  ScopeKind
	// ScopeID is the API or product id of the scope ("" for all APIs).
	ScopeID string
	State   string
	// UserID is the owner's user id, or "".
	UserID string
	// AllowTracing lets the subscription's calls ask for a policy trace.
	AllowTracing bool
	// Product is the product of a product scope; nil for other scopes and
	// when the product is not in the snapshot.
	Product *CompiledProduct
}

// Active reports whether the subscription is in the active state, the only
// state in which its keys admit calls.
func (s *CompiledSubscription) Active() bool { return s.State == model.SubActive }

// CompiledBackend is the runtime form of one named backend.
type CompiledBackend struct {
	ID  string
	URL *url.URL
	// Config is the backend's configuration.
	Config *Backend
}

// Admits reports whether the subscription grants access to the API: it must
// be active and scoped to all APIs, to this API, or to a published product
// containing this API. Product is the subscription's product when access is
// granted through one, else nil. A subscription to a product that is not
// published admits nothing, even for administrators.
func (a *CompiledAPI) Admits(s *CompiledSubscription) (product *CompiledProduct, ok bool) {
	if s == nil || !s.Active() {
		return nil, false
	}
	switch s.Kind {
	case ScopeAllAPIs:
		return nil, true
	case ScopeAPI:
		return nil, s.ScopeID == a.ID
	case ScopeProduct:
		if p := s.Product; p != nil && p.Published && p.Contains(a.ID) {
			return p, true
		}
	}
	return nil, false
}

// OpenAccess reports whether calls without a key may use the API, and
// through which product: the API does not require a subscription (product
// nil), or a published product that does not require one contains it.
func (a *CompiledAPI) OpenAccess() (product *CompiledProduct, ok bool) {
	if !a.SubscriptionRequired {
		return nil, true
	}
	if a.OpenProduct != nil {
		return a.OpenProduct, true
	}
	return nil, false
}

// Revision is the config revision the snapshot was compiled from.
func (s *Snapshot) Revision() int64 { return s.cfg.Revision }

// GatewayID is the gateway the snapshot is for.
func (s *Snapshot) GatewayID() string { return s.cfg.GatewayID }

// Config returns the configuration the snapshot was compiled from. Callers
// must not modify it.
func (s *Snapshot) Config() *Config { return s.cfg }

// Errors returns the objects Compile skipped.
func (s *Snapshot) Errors() []ObjectError { return slices.Clone(s.errs) }

// APIs returns the live APIs in configuration order.
func (s *Snapshot) APIs() []*CompiledAPI { return slices.Clone(s.apis) }

// API returns the live API with this id, or nil.
func (s *Snapshot) API(id string) *CompiledAPI { return s.apiByID[id] }

// Product returns the product with this id, or nil.
func (s *Snapshot) Product(id string) *CompiledProduct { return s.products[id] }

// Backend returns the named backend with this id, or nil.
func (s *Snapshot) Backend(id string) *CompiledBackend { return s.backends[id] }

// Policy returns the raw policy document of a scope ("global",
// "products/{id}", "apis/{id}", "apis/{id}/operations/{opId}").
func (s *Snapshot) Policy(scope string) (*Policy, bool) {
	p, ok := s.policies[scope]
	return p, ok
}

// NamedValue returns the named value whose display name is name (compared
// ignoring case, as policies' {{name}} references are), or nil.
func (s *Snapshot) NamedValue(name string) *NamedValue { return s.values[strings.ToLower(name)] }

// PolicyFragment returns the policy fragment with this id, or nil.
func (s *Snapshot) PolicyFragment(id string) *PolicyFragment { return s.frags[id] }

// Route selects the API and the operation for a request (see router.Match
// for the rules and the meaning of host, method and path) and fills m with
// the captured parameters and the rest of the path. api is nil when no API
// matched; op is nil when no operation of api matched. Route does not
// allocate.
func (s *Snapshot) Route(host, method, path string, m *router.Match) (api *CompiledAPI, op *CompiledOperation) {
	apiFound, opFound := s.router.Match(host, method, path, m)
	if !apiFound {
		return nil, nil
	}
	api = m.API.Value.(*CompiledAPI)
	if !opFound {
		return api, nil
	}
	return api, m.Operation.Value.(*CompiledOperation)
}

// SubscriptionByKey returns the subscription holding key, or nil. The key is
// hashed with SHA-256 and looked up by hash, so the time taken does not
// depend on how much of the key matches a stored one.
func (s *Snapshot) SubscriptionByKey(key string) *CompiledSubscription {
	return s.keys[sha256.Sum256([]byte(key))]
}

// Compile builds the runtime form of cfg. Every object that fails to
// compile is skipped and reported; the snapshot holds the rest. An API is
// skipped when its id is empty or repeated, its serviceUrl is not an
// absolute http(s) URL, its key parameter names are invalid, or the router
// refuses its path; an operation when its id is empty or repeated within its
// API or the router refuses its method or template; a product when its id is
// empty or repeated or its state unknown; a subscription key when its hash is
// not 64 lowercase hex digits or its scope is malformed; a backend when its
// URL is not an absolute http(s) URL; a named value when its display name is
// empty or repeated (ignoring case); a policy or fragment when its scope or
// id is empty or repeated; a policy document when it does not compile (the
// operations whose effective policy needs it are then isolated: see
// CompiledOperation.Pipeline).
//
// Compile returns a nil Snapshot only when cfg is nil. cfg must not be
// modified after Compile returns.
func Compile(cfg *Config) (*Snapshot, []ObjectError) {
	return CompileWith(cfg, CompileOptions{})
}

// CompileWith is Compile with the gateway's state in o.
func CompileWith(cfg *Config, o CompileOptions) (*Snapshot, []ObjectError) {
	if cfg == nil {
		return nil, []ObjectError{{Kind: KindConfig, Err: errors.New("no configuration")}}
	}
	s := &Snapshot{
		cfg:      cfg,
		apiByID:  make(map[string]*CompiledAPI, len(cfg.APIs)),
		products: make(map[string]*CompiledProduct, len(cfg.Products)),
		keys:     make(map[[sha256.Size]byte]*CompiledSubscription, len(cfg.Subscriptions)),
		backends: make(map[string]*CompiledBackend, len(cfg.Backends)),
		policies: make(map[string]*Policy, len(cfg.Policies)),
		values:   make(map[string]*NamedValue, len(cfg.NamedValues)),
		frags:    make(map[string]*PolicyFragment, len(cfg.PolicyFragments)),
		opts:     o,
	}
	s.compileProducts()
	s.compileAPIs()
	s.compileKeys()
	s.compileBackends()
	s.compilePolicies()
	s.compileNamedValues()
	s.compilePipelines()
	return s, slices.Clone(s.errs)
}

func (s *Snapshot) fail(kind, id string, err error) {
	s.errs = append(s.errs, ObjectError{Kind: kind, ID: id, Err: err})
}

func (s *Snapshot) compileProducts() {
	for i := range s.cfg.Products {
		p := &s.cfg.Products[i]
		switch {
		case p.ID == "":
			s.fail(KindProduct, p.ID, errors.New("empty id"))
			continue
		case s.products[p.ID] != nil:
			s.fail(KindProduct, p.ID, errors.New("duplicate product id"))
			continue
		case p.State != model.ProductPublished && p.State != model.ProductNotPublished:
			s.fail(KindProduct, p.ID, fmt.Errorf("unknown state %q", p.State))
			continue
		}
		cp := &CompiledProduct{
			ID: p.ID, DisplayName: p.DisplayName, State: p.State,
			Published: p.State == model.ProductPublished, SubscriptionRequired: p.SubscriptionRequired,
			apis: make(map[string]struct{}, len(p.APIs)),
		}
		for _, id := range p.APIs {
			cp.apis[id] = struct{}{}
		}
		s.products[p.ID] = cp
	}
}

func (s *Snapshot) compileAPIs() {
	routes := make([]router.API, 0, len(s.cfg.APIs))
	candidates := make([]*CompiledAPI, 0, len(s.cfg.APIs))
	seen := make(map[string]bool, len(s.cfg.APIs))
	for i := range s.cfg.APIs {
		a := &s.cfg.APIs[i]
		if a.ID == "" || seen[a.ID] {
			s.fail(KindAPI, a.ID, errors.New("empty or duplicate api id"))
			continue
		}
		seen[a.ID] = true
		u, err := parseServiceURL(a.ServiceURL)
		if err != nil {
			s.fail(KindAPI, a.ID, err)
			continue
		}
		header, query, err := keyNames(a.SubscriptionKeyParameterNames)
		if err != nil {
			s.fail(KindAPI, a.ID, err)
			continue
		}
		if a.MaxRequestBodyBytes < 0 {
			s.fail(KindAPI, a.ID, errors.New("negative maxRequestBodyBytes"))
			continue
		}
		ca := &CompiledAPI{
			ID: a.ID, DisplayName: a.DisplayName, Path: strings.Trim(a.Path, "/"), ServiceURL: u,
			KeyHeader: header, KeyQuery: query, SubscriptionRequired: a.SubscriptionRequired,
			MaxRequestBodyBytes: a.MaxRequestBodyBytes, AllowEncodedSlashes: a.AllowEncodedSlashes, Config: a,
			Schemes: compileSchemes(a.Protocols),
		}
		ops := make([]router.Operation, 0, len(a.Operations))
		opSeen := make(map[string]bool, len(a.Operations))
		for j := range a.Operations {
			o := &a.Operations[j]
			if o.ID == "" || opSeen[o.ID] {
				s.fail(KindOperation, a.ID+"/"+o.ID, errors.New("empty or duplicate operation id"))
				continue
			}
			opSeen[o.ID] = true
			co := &CompiledOperation{ID: o.ID, DisplayName: o.DisplayName, Method: strings.ToUpper(o.Method), URLTemplate: o.URLTemplate, API: ca, Examples: compileExamples(o.Examples)}
			ca.Operations = append(ca.Operations, co)
			ops = append(ops, router.Operation{ID: o.ID, Method: o.Method, Template: o.URLTemplate, Value: co})
		}
		candidates = append(candidates, ca)
		routes = append(routes, router.API{ID: a.ID, Path: a.Path, Operations: ops, Value: ca})
	}

	r, berrs := router.Build(routes)
	s.router = r
	droppedAPI := map[string]bool{}
	droppedOp := map[string]bool{}
	for _, be := range berrs {
		if be.OperationID == "" {
			droppedAPI[be.APIID] = true
			s.fail(KindAPI, be.APIID, be.Err)
		} else {
			droppedOp[be.APIID+"/"+be.OperationID] = true
			s.fail(KindOperation, be.APIID+"/"+be.OperationID, be.Err)
		}
	}
	for _, ca := range candidates {
		if droppedAPI[ca.ID] {
			continue
		}
		if len(droppedOp) > 0 {
			ca.Operations = slices.DeleteFunc(ca.Operations, func(o *CompiledOperation) bool { return droppedOp[ca.ID+"/"+o.ID] })
		}
		s.apis = append(s.apis, ca)
		s.apiByID[ca.ID] = ca
	}

	// Products per API, ordered by product id, and the open product.
	ids := make([]string, 0, len(s.products))
	for id := range s.products {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p := s.products[id]
		for apiID := range p.apis {
			ca := s.apiByID[apiID]
			if ca == nil {
				continue
			}
			ca.Products = append(ca.Products, p)
			if p.Published && !p.SubscriptionRequired && ca.OpenProduct == nil {
				ca.OpenProduct = p
			}
		}
	}
}

// parseServiceURL checks that v is an absolute http, https, ws or wss URL
// with a host and returns it with ws mapped to http and wss to https.
func parseServiceURL(v string) (*url.URL, error) {
	if strings.TrimSpace(v) == "" {
		return nil, errors.New("no serviceUrl")
	}
	u, err := url.Parse(v)
	if err != nil {
		return nil, fmt.Errorf("serviceUrl: %w", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "ws":
		u.Scheme = "http"
	case "https", "wss":
		u.Scheme = "https"
	default:
		return nil, fmt.Errorf("serviceUrl %q: scheme must be http or https", v)
	}
	if u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("serviceUrl %q: must be an absolute URL with a host", v)
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// keyNames applies APIM's default key parameter names and checks them.
func keyNames(n model.KeyParameterNames) (header, query string, err error) {
	header, query = n.Header, n.Query
	if header == "" {
		header = model.DefaultKeyHeader
	}
	if query == "" {
		query = model.DefaultKeyQuery
	}
	for i := 0; i < len(header); i++ {
		if c := header[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return "", "", fmt.Errorf("subscription key header %q is not a valid header name", header)
		}
	}
	if url.QueryEscape(query) != query {
		return "", "", fmt.Errorf("subscription key query parameter %q has reserved characters", query)
	}
	return http.CanonicalHeaderKey(header), query, nil
}

func (s *Snapshot) compileKeys() {
	var errs []ObjectError
	for hash, k := range s.cfg.Subscriptions {
		sum, err := parseHash(hash)
		if err != nil {
			errs = append(errs, ObjectError{Kind: KindSubscription, ID: k.SubscriptionID, Err: err})
			continue
		}
		kind, id, ok := model.ScopeKind(k.Scope)
		if !ok || k.SubscriptionID == "" {
			errs = append(errs, ObjectError{Kind: KindSubscription, ID: k.SubscriptionID,
				Err: fmt.Errorf("malformed scope %q or empty subscription id", k.Scope)})
			continue
		}
		cs := &CompiledSubscription{ID: k.SubscriptionID, Scope: k.Scope, ScopeID: id, State: k.State, UserID: k.OwnerID, AllowTracing: k.AllowTracing}
		switch kind {
		case model.KindAllAPIs:
			cs.Kind = ScopeAllAPIs
		case model.KindAPI:
			cs.Kind = ScopeAPI
		case model.KindProduct:
			cs.Kind = ScopeProduct
			cs.Product = s.products[id]
		}
		s.keys[sum] = cs
	}
	// Map iteration order is random: report in a stable order.
	slices.SortFunc(errs, func(a, b ObjectError) int { return strings.Compare(a.ID, b.ID) })
	s.errs = append(s.errs, errs...)
}

// parseHash decodes a lowercase hex SHA-256.
func parseHash(h string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	if len(h) != 2*sha256.Size || strings.ToLower(h) != h {
		return sum, errors.New("key hash is not 64 lowercase hex digits")
	}
	if _, err := hex.Decode(sum[:], []byte(h)); err != nil {
		return sum, errors.New("key hash is not 64 lowercase hex digits")
	}
	return sum, nil
}

func (s *Snapshot) compileBackends() {
	for i := range s.cfg.Backends {
		b := &s.cfg.Backends[i]
		if b.ID == "" || s.backends[b.ID] != nil {
			s.fail(KindBackend, b.ID, errors.New("empty or duplicate backend id"))
			continue
		}
		u, err := parseServiceURL(b.URL)
		if err != nil {
			s.fail(KindBackend, b.ID, err)
			continue
		}
		s.backends[b.ID] = &CompiledBackend{ID: b.ID, URL: u, Config: b}
	}
}

func (s *Snapshot) compilePolicies() {
	for i := range s.cfg.Policies {
		p := &s.cfg.Policies[i]
		if p.Scope == "" || s.policies[p.Scope] != nil {
			s.fail(KindPolicy, p.Scope, errors.New("empty or duplicate policy scope"))
			continue
		}
		s.policies[p.Scope] = p
	}
}

func (s *Snapshot) compileNamedValues() {
	for i := range s.cfg.NamedValues {
		nv := &s.cfg.NamedValues[i]
		name := strings.ToLower(nv.DisplayName)
		if name == "" || s.values[name] != nil {
			s.fail(KindNamedValue, nv.ID, fmt.Errorf("empty or duplicate display name %q", nv.DisplayName))
			continue
		}
		s.values[name] = nv
	}
	for i := range s.cfg.PolicyFragments {
		f := &s.cfg.PolicyFragments[i]
		if f.ID == "" || s.frags[f.ID] != nil {
			s.fail(KindPolicyFragment, f.ID, errors.New("empty or duplicate fragment id"))
			continue
		}
		s.frags[f.ID] = f
	}
}

// compileExamples turns examples into the bodies mock-response sends: a
// JSON string is sent as its text unless the content type is JSON.
func compileExamples(exs []ResponseExample) []policy.Example {
	if len(exs) == 0 {
		return nil
	}
	out := make([]policy.Example, 0, len(exs))
	for _, e := range exs {
		body := []byte(e.Value)
		var text string
		if !isJSONType(e.ContentType) && json.Unmarshal(e.Value, &text) == nil {
			body = []byte(text)
		}
		out = append(out, policy.Example{Status: e.StatusCode, ContentType: e.ContentType, Body: body})
	}
	return out
}

// isJSONType reports whether ct is application/json or a +json type.
func isJSONType(ct string) bool {
	mt, _, _ := strings.Cut(strings.ToLower(ct), ";")
	mt = strings.TrimSpace(mt)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// Schemes is a set of request schemes an API is served on.
type Schemes uint8

// The schemes of Schemes.
const (
	SchemeHTTP Schemes = 1 << iota
	SchemeHTTPS
	SchemeWS
	SchemeWSS
)

// compileSchemes turns an API's protocols into Schemes. No protocols at all
// (a hand-built configuration; the management API always stores some) means
// every scheme; unknown names, refused on save, are ignored.
func compileSchemes(protocols []string) Schemes {
	if len(protocols) == 0 {
		return SchemeHTTP | SchemeHTTPS | SchemeWS | SchemeWSS
	}
	var s Schemes
	for _, p := range protocols {
		switch strings.ToLower(strings.TrimSpace(p)) {
		case "http":
			s |= SchemeHTTP
		case "https":
			s |= SchemeHTTPS
		case "ws":
			s |= SchemeWS
		case "wss":
			s |= SchemeWSS
		}
	}
	return s
}

// Admits tells whether a request may reach the API: one that came over TLS
// needs https in the API's protocols, one in the clear http. A WebSocket
// handshake (an HTTP request asking to upgrade) is also admitted by wss or
// ws respectively, so an API listing only ws or wss answers its handshakes
// and nothing else.
func (s Schemes) Admits(tls, websocket bool) bool {
	switch {
	case tls && websocket:
		return s&(SchemeHTTPS|SchemeWSS) != 0
	case tls:
		return s&SchemeHTTPS != 0
	case websocket:
		return s&(SchemeHTTP|SchemeWS) != 0
	default:
		return s&SchemeHTTP != 0
	}
}
