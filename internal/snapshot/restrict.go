package snapshot

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/policy"
)

// Restrict reduces cfg, in place, to what its APIs need, so that a
// self-hosted gateway receives (and keeps in its backup) nothing that only
// other gateways use:
//
//   - products that contain at least one of cfg's APIs (their API lists
//     restricted to cfg's APIs);
//   - the policy documents of the global scope, of those products, and of
//     cfg's APIs and their operations;
//   - the subscription keys that can reach one of cfg's APIs: scoped to all
//     APIs, to one of cfg's APIs, or to one of the products kept;
//   - the policy fragments, named values and backends those documents
//     reference, followed transitively: fragments included by fragments,
//     named values referenced ({{name}}) by the documents, the fragments, the
//     backends and other kept named values, and backends named by
//     backend-id attributes (also when the id is itself a {{name}}).
//
// References are found twice, and the union is kept: by compiling each
// document with the real policy compiler and recording every named value,
// fragment and backend it looks up (exactly what the gateway will look up),
// and by scanning the XML's attributes and text, which also finds the
// references that follow a compile error and those of policies a newer
// gateway may know. A reference that names nothing is ignored: the
// gateway reports it as a compile error, as it would have anyway.
//
// APIs, hostnames and the debug-token key are left as they are.
func Restrict(cfg *Config) {
	if cfg == nil {
		return
	}
	apis := make(map[string]bool, len(cfg.APIs))
	for _, a := range cfg.APIs {
		apis[a.ID] = true
	}

	products := map[string]bool{}
	var keptProducts []Product
	for _, p := range cfg.Products {
		var ids []string
		for _, id := range p.APIs {
			if apis[id] {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			continue
		}
		p.APIs = ids
		products[p.ID] = true
		keptProducts = append(keptProducts, p)
	}
	cfg.Products = keptProducts

	var keptPolicies []Policy
	for _, p := range cfg.Policies {
		if policyInScope(p.Scope, apis, products) {
			keptPolicies = append(keptPolicies, p)
		}
	}
	cfg.Policies = keptPolicies

	reaches := map[string]bool{} // by scope: there are far fewer scopes than keys
	for hash, k := range cfg.Subscriptions {
		ok, seen := reaches[k.Scope]
		if !seen {
			ok = subscriptionReaches(k.Scope, apis, products)
			reaches[k.Scope] = ok
		}
		if !ok {
			delete(cfg.Subscriptions, hash)
		}
	}

	r := newReferences(cfg)
	for _, p := range cfg.Policies {
		r.document(p.Scope, p.Value)
	}
	r.drain()

	var values []NamedValue
	for i, nv := range cfg.NamedValues {
		if r.keepValue[i] {
			values = append(values, nv)
		}
	}
	cfg.NamedValues = values
	var frags []PolicyFragment
	for _, f := range cfg.PolicyFragments {
		if r.keepFrag[f.ID] {
			frags = append(frags, f)
		}
	}
	cfg.PolicyFragments = frags
	var backends []Backend
	for _, b := range cfg.Backends {
		if r.keepBackend[b.ID] {
			backends = append(backends, b)
		}
	}
	cfg.Backends = backends
}

// policyInScope reports whether the policy at scope applies to one of the
// APIs: global, a kept product, one of the APIs or one of their operations.
func policyInScope(scope string, apis, products map[string]bool) bool {
	if scope == "global" {
		return true
	}
	if id, ok := strings.CutPrefix(scope, "products/"); ok {
		return products[id]
	}
	if rest, ok := strings.CutPrefix(scope, "apis/"); ok {
		id, _, _ := strings.Cut(rest, "/")
		return apis[id]
	}
	return false
}

// subscriptionReaches reports whether a subscription of this scope can
// call one of the APIs.
func subscriptionReaches(scope string, apis, products map[string]bool) bool {
	kind, id, ok := model.ScopeKind(scope)
	switch {
	case !ok:
		return false
	case kind == model.KindAllAPIs:
		return true
	case kind == model.KindAPI:
		return apis[id]
	case kind == model.KindProduct:
		return products[id]
	}
	return false
}

// references finds what a set of policy documents needs, transitively.
type references struct {
	cfg      *Config
	values   map[string][]int // lowercase display name -> indexes in cfg.NamedValues
	frags    map[string]int   // id -> index in cfg.PolicyFragments
	backends map[string]int   // id -> index in cfg.Backends

	keepValue   map[int]bool
	keepFrag    map[string]bool
	keepBackend map[string]bool

	pending []func() // scans of newly kept objects
}

func newReferences(cfg *Config) *references {
	r := &references{cfg: cfg, values: map[string][]int{}, frags: map[string]int{}, backends: map[string]int{},
		keepValue: map[int]bool{}, keepFrag: map[string]bool{}, keepBackend: map[string]bool{}}
	for i, nv := range cfg.NamedValues {
		name := strings.ToLower(nv.DisplayName)
		r.values[name] = append(r.values[name], i)
	}
	for i, f := range cfg.PolicyFragments {
		if _, dup := r.frags[f.ID]; !dup {
			r.frags[f.ID] = i
		}
	}
	for i, b := range cfg.Backends {
		if _, dup := r.backends[b.ID]; !dup {
			r.backends[b.ID] = i
		}
	}
	return r
}

// drain scans every object kept since the last drain, and those they keep.
func (r *references) drain() {
	for len(r.pending) > 0 {
		f := r.pending[len(r.pending)-1]
		r.pending = r.pending[:len(r.pending)-1]
		f()
	}
}

// value keeps the named values called name (ignoring case) and returns the
// first one's value, as the snapshot resolves {{name}}.
func (r *references) value(name string) (nv *NamedValue, ok bool) {
	idx := r.values[strings.ToLower(name)]
	for _, i := range idx {
		if !r.keepValue[i] {
			r.keepValue[i] = true
			v := r.cfg.NamedValues[i].Value
			r.pending = append(r.pending, func() { r.text(v) })
		}
	}
	if len(idx) == 0 {
		return nil, false
	}
	return &r.cfg.NamedValues[idx[0]], true
}

func (r *references) fragment(id string) (*PolicyFragment, bool) {
	i, ok := r.frags[id]
	if !ok {
		return nil, false
	}
	if !r.keepFrag[id] {
		r.keepFrag[id] = true
		src := r.cfg.PolicyFragments[i].Value
		r.pending = append(r.pending, func() { r.scanXML(src) })
	}
	return &r.cfg.PolicyFragments[i], true
}

func (r *references) backend(id string) (*Backend, bool) {
	i, ok := r.backends[id]
	if !ok {
		return nil, false
	}
	if !r.keepBackend[id] {
		r.keepBackend[id] = true
		b := r.cfg.Backends[i].Backend
		r.pending = append(r.pending, func() {
			// every property (url, credentials, …) may hold {{name}}
			raw, _ := json.Marshal(b)
			r.text(string(raw))
		})
	}
	return &r.cfg.Backends[i], true
}

// document finds the references of the policy document at scope: what the
// compiler looks up, and what a scan of its XML finds.
func (r *references) document(scope, src string) {
	env := PolicyEnv(scope,
		func(name string) (string, bool, bool) {
			nv, ok := r.value(name)
			if !ok {
				return "", false, false
			}
			return nv.Value, nv.Secret, true
		},
		func(id string) (string, bool) {
			f, ok := r.fragment(id)
			if !ok {
				return "", false
			}
			return f.Value, true
		},
		func(id string) (*url.URL, bool) {
			b, ok := r.backend(id)
			if !ok {
				return nil, false
			}
			u, err := parseServiceURL(b.URL)
			return u, err == nil
		})
	_, _ = policy.CompileDocument(src, env) // errors are the gateway's to report
	r.scanXML(src)
}

// namedValueRef matches a {{name}} reference (the names policies accept).
var namedValueRef = regexp.MustCompile(`\{\{([A-Za-z0-9._-]{1,256})\}\}`)

// refAttr matches a fragment-id or backend-id attribute in raw XML.
var refAttr = regexp.MustCompile(`(fragment-id|backend-id)\s*=\s*(?:"([^"]*)"|'([^']*)')`)

// text keeps the named values referenced in s.
func (r *references) text(s string) {
	if !strings.Contains(s, "{{") {
		return
	}
	for _, m := range namedValueRef.FindAllStringSubmatch(s, -1) {
		r.value(m[1])
	}
}

// substitute replaces the {{name}} references of an attribute value with
// the named values, as the compiler does before reading an id.
func (r *references) substitute(s string) string {
	return namedValueRef.ReplaceAllStringFunc(s, func(m string) string {
		if nv, ok := r.value(m[2 : len(m)-2]); ok {
			return nv.Value
		}
		return m
	})
}

// idAttr keeps the fragment or backend an attribute names.
func (r *references) idAttr(name, value string) {
	id := strings.TrimSpace(r.substitute(value))
	switch name {
	case "fragment-id":
		r.fragment(id)
	case "backend-id":
		r.backend(id)
	}
}

// scanXML keeps what the attributes and text of an XML document (a policy
// document or a fragment) reference. Comments are skipped, as the compiler
// skips them. XML that does not parse is scanned as raw text.
func (r *references) scanXML(src string) {
	escaped, _ := model.EscapeExpressions(src)
	d := xml.NewDecoder(strings.NewReader(escaped))
	d.Strict = true
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			r.scanRaw(src)
			return
		}
		switch t := tok.(type) {
		case xml.StartElement:
			for _, a := range t.Attr {
				r.text(a.Value)
				if a.Name.Space == "" && (a.Name.Local == "fragment-id" || a.Name.Local == "backend-id") {
					r.idAttr(a.Name.Local, a.Value)
				}
			}
		case xml.CharData:
			r.text(string(t))
		}
	}
}

// scanRaw is scanXML for a document that does not parse.
func (r *references) scanRaw(src string) {
	r.text(src)
	for _, m := range refAttr.FindAllStringSubmatch(src, -1) {
		r.idAttr(m[1], m[2]+m[3])
	}
}
