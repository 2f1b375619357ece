// Package fromstore reads a gateway's snapshot.Config out of the store, in
// one consistent view. It is the only bridge between the store and the
// snapshot: the gateway itself never imports the store.
package fromstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/secret"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/store"
)

// Load reads the configuration of gatewayID: for model.ManagedGatewayID every API
// not assigned to a self-hosted gateway, otherwise the APIs linked to the
// gateway. Products list only those
// APIs; policies are kept for the global scope, every product, and those
// APIs and their operations. Subscription keys are hashed on the way: the
// returned Config holds no key.
//
// The configuration of a self-hosted gateway is then reduced with
// snapshot.Restrict to what its APIs need: it holds no named value,
// backend, fragment, product, policy or subscription that only other
// gateways use. The built-in gateway runs inside the management plane and
// gets everything.
//
// Everything is read in one store.View. Config.Revision is the store
// revision read just before the view, so the configuration is at least as
// new as the revision it claims (never older): a later change always has a
// higher revision and triggers a rebuild.
func Load(ctx context.Context, st store.Store, gatewayID string) (*snapshot.Config, error) {
	rev, err := st.Revision(ctx)
	if err != nil {
		return nil, fmt.Errorf("load snapshot: %w", err)
	}
	cfg := &snapshot.Config{Revision: rev, GatewayID: gatewayID, Subscriptions: map[string]snapshot.SubscriptionKey{}}
	err = st.View(ctx, func(rd store.Reader) error {
		l := loader{ctx: ctx, rd: rd, cfg: cfg}
		return l.load()
	})
	if err != nil {
		return nil, fmt.Errorf("load snapshot for gateway %q: %w", gatewayID, err)
	}
	if gatewayID != model.ManagedGatewayID {
		snapshot.Restrict(cfg)
	}
	return cfg, nil
}

type loader struct {
	ctx context.Context
	rd  store.Reader
	cfg *snapshot.Config
}

// list returns every record of kind under parent.
func (l *loader) list(kind model.Kind, parent string) ([]store.Record, error) {
	recs, _, err := l.rd.List(l.ctx, string(kind), parent, store.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", kind, err)
	}
	return recs, nil
}

func decode(rec store.Record, obj model.Resource) error {
	if err := json.Unmarshal(rec.Doc, obj); err != nil {
		return fmt.Errorf("decode %s %q: %w", rec.Kind, rec.ID, err)
	}
	obj.Normalize()
	return nil
}

func (l *loader) load() error {
	id, err := installationID(l.ctx, l.rd)
	if err != nil {
		return err
	}
	l.cfg.InstallationID = id
	included, err := l.apis()
	if err != nil {
		return err
	}
	for _, step := range []func(map[string]bool) error{l.products, l.subscriptions, l.backends, l.namedValues, l.policies, l.fragments, l.hostnames} {
		if err := step(included); err != nil {
			return err
		}
	}
	return nil
}

// apis loads the gateway's APIs with their operations and returns their ids.
func (l *loader) apis() (map[string]bool, error) {
	var assigned, selfHosted map[string]bool
	if l.cfg.GatewayID == model.ManagedGatewayID {
		// The built-in gateway serves every API that is not assigned to a
		// self-hosted gateway.
		links, err := l.rd.AllLinks(l.ctx, string(model.RelGatewayAPI))
		if err != nil {
			return nil, fmt.Errorf("gateway apis: %w", err)
		}
		selfHosted = make(map[string]bool, len(links))
		for _, p := range links {
			selfHosted[p[1]] = true
		}
	} else {
		ids, err := l.rd.Links(l.ctx, string(model.RelGatewayAPI), l.cfg.GatewayID, false)
		if err != nil {
			return nil, fmt.Errorf("gateway apis: %w", err)
		}
		assigned = make(map[string]bool, len(ids))
		for _, id := range ids {
			assigned[id] = true
		}
	}
	recs, err := l.list(model.KindAPI, "")
	if err != nil {
		return nil, err
	}
	opRecs, err := l.list(model.KindOperation, "*")
	if err != nil {
		return nil, err
	}
	ops := map[string][]snapshot.Operation{}
	for _, rec := range opRecs {
		var o model.Operation
		if err := decode(rec, &o); err != nil {
			return nil, err
		}
		ops[rec.Parent] = append(ops[rec.Parent], snapshot.Operation{ID: rec.ID, DisplayName: o.DisplayName, Method: o.Method, URLTemplate: o.URLTemplate, Examples: responseExamples(&o)})
	}
	included := map[string]bool{}
	for _, rec := range recs {
		if assigned != nil && !assigned[rec.ID] || selfHosted[rec.ID] {
			continue
		}
		var a model.API
		if err := decode(rec, &a); err != nil {
			return nil, err
		}
		api := snapshot.API{
			ID: rec.ID, DisplayName: a.DisplayName, Path: a.Path, ServiceURL: a.ServiceURL, Protocols: a.Protocols,
			SubscriptionRequired: a.SubscriptionRequired == nil || *a.SubscriptionRequired,
			APIVersion:           a.APIVersion, Type: a.Type, MaxRequestBodyBytes: a.MaxRequestBodyBytes,
			AllowEncodedSlashes: a.AllowEncodedSlashes, Operations: ops[rec.ID],
		}
		if n := a.SubscriptionKeyParameterNames; n != nil {
			api.SubscriptionKeyParameterNames = *n
		}
		if api.Operations == nil {
			api.Operations = []snapshot.Operation{}
		}
		l.cfg.APIs = append(l.cfg.APIs, api)
		included[rec.ID] = true
	}
	return included, nil
}

func (l *loader) products(included map[string]bool) error {
	recs, err := l.list(model.KindProduct, "")
	if err != nil {
		return err
	}
	for _, rec := range recs {
		var p model.Product
		if err := decode(rec, &p); err != nil {
			return err
		}
		ids, err := l.rd.Links(l.ctx, string(model.RelProductAPI), rec.ID, false)
		if err != nil {
			return fmt.Errorf("product %q apis: %w", rec.ID, err)
		}
		apis := []string{}
		for _, id := range ids {
			if included[id] {
				apis = append(apis, id)
			}
		}
		l.cfg.Products = append(l.cfg.Products, snapshot.Product{
			ID: rec.ID, DisplayName: p.DisplayName, State: p.State,
			SubscriptionRequired: p.SubscriptionRequired == nil || *p.SubscriptionRequired, APIs: apis,
		})
	}
	return nil
}

func (l *loader) subscriptions(map[string]bool) error {
	recs, err := l.list(model.KindSubscription, "")
	if err != nil {
		return err
	}
	for _, rec := range recs {
		var s model.Subscription
		if err := decode(rec, &s); err != nil {
			return err
		}
		entry := snapshot.SubscriptionKey{SubscriptionID: rec.ID, Scope: s.Scope, State: s.State, OwnerID: s.OwnerUserID(), AllowTracing: s.AllowTracing}
		if kind, id, ok := model.ScopeKind(s.Scope); ok && kind == model.KindProduct {
			entry.ProductID = id
		}
		for which, key := range map[string]string{"primary": s.PrimaryKey, "secondary": s.SecondaryKey} {
			if key == "" {
				continue
			}
			e := entry
			e.Key = which
			l.cfg.Subscriptions[secret.KeyHash(key)] = e
		}
	}
	return nil
}

func (l *loader) backends(map[string]bool) error {
	recs, err := l.list(model.KindBackend, "")
	if err != nil {
		return err
	}
	for _, rec := range recs {
		var b model.Backend
		if err := decode(rec, &b); err != nil {
			return err
		}
		l.cfg.Backends = append(l.cfg.Backends, snapshot.Backend{ID: rec.ID, Backend: b})
	}
	return nil
}

func (l *loader) namedValues(map[string]bool) error {
	recs, err := l.list(model.KindNamedValue, "")
	if err != nil {
		return err
	}
	for _, rec := range recs {
		var nv model.NamedValue
		if err := decode(rec, &nv); err != nil {
			return err
		}
		l.cfg.NamedValues = append(l.cfg.NamedValues, snapshot.NamedValue{ID: rec.ID, DisplayName: nv.DisplayName, Value: nv.Value, Secret: nv.Secret})
	}
	return nil
}

// policies keeps the documents of the global scope, every product, and the
// included APIs and their operations.
func (l *loader) policies(included map[string]bool) error {
	recs, err := l.list(model.KindPolicy, "")
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if rest, ok := strings.CutPrefix(rec.ID, "apis/"); ok {
			apiID, _, _ := strings.Cut(rest, "/")
			if !included[apiID] {
				continue
			}
		}
		var p model.Policy
		if err := decode(rec, &p); err != nil {
			return err
		}
		l.cfg.Policies = append(l.cfg.Policies, snapshot.Policy{Scope: rec.ID, Format: p.Format, Value: p.Value})
	}
	return nil
}

// hostnames loads the hostname configurations of a self-hosted gateway.
func (l *loader) hostnames(map[string]bool) error {
	if l.cfg.GatewayID == model.ManagedGatewayID {
		return nil
	}
	recs, err := l.list(model.KindHostnameConfiguration, l.cfg.GatewayID)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		var h model.HostnameConfiguration
		if err := decode(rec, &h); err != nil {
			return err
		}
		l.cfg.Hostnames = append(l.cfg.Hostnames, snapshot.Hostname{ID: rec.ID, Hostname: h.Hostname, CertificatePEM: h.CertificatePEM,
			KeyPEM: h.KeyPEM, HTTP2Enabled: h.HTTP2Enabled == nil || *h.HTTP2Enabled, NegotiateClientCertificate: h.NegotiateClientCertificate})
	}
	return nil
}

func (l *loader) fragments(map[string]bool) error {
	recs, err := l.list(model.KindPolicyFragment, "")
	if err != nil {
		return err
	}
	for _, rec := range recs {
		var f model.PolicyFragment
		if err := decode(rec, &f); err != nil {
			return err
		}
		l.cfg.PolicyFragments = append(l.cfg.PolicyFragments, snapshot.PolicyFragment{ID: rec.ID, Format: f.Format, Value: f.Value})
	}
	return nil
}

// responseExamples keeps, of an operation's responses, one example per
// status code and content type (the first by name) for mock-response.
func responseExamples(o *model.Operation) []snapshot.ResponseExample {
	var out []snapshot.ResponseExample
	for _, r := range o.Responses {
		for _, rep := range r.Representations {
			names := make([]string, 0, len(rep.Examples))
			for name, ex := range rep.Examples {
				if len(ex.Value) > 0 {
					names = append(names, name)
				}
			}
			if len(names) == 0 {
				continue
			}
			slices.Sort(names)
			out = append(out, snapshot.ResponseExample{StatusCode: r.StatusCode, ContentType: rep.ContentType, Value: rep.Examples[names[0]].Value})
		}
	}
	return out
}
