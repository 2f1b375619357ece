package snapshot

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// A Delta turns one Config into a later one by listing only the objects
// that changed, so that a change to one subscription among a million sends
// one record to a self-hosted gateway rather than its whole configuration.
// Base and Tag are content tags (ContentTag) of the Config the Delta
// applies to and of the Config it produces: a gateway applies a Delta only
// to the Config tagged Base, and checks the result against Tag.
type Delta struct {
	Revision        int64                   `json:"revision"`
	Base            string                  `json:"base"`
	Tag             string                  `json:"tag"`
	APIs            Changes[API]            `json:"apis"`
	Products        Changes[Product]        `json:"products"`
	Subscriptions   KeyChanges              `json:"subscriptions"`
	Backends        Changes[Backend]        `json:"backends"`
	NamedValues     Changes[NamedValue]     `json:"namedValues"`
	Policies        Changes[Policy]         `json:"policies"`
	PolicyFragments Changes[PolicyFragment] `json:"policyFragments"`
	Hostnames       Changes[Hostname]       `json:"hostnames"`
	// DebugTokenKey is the new configuration's Config.DebugTokenKey,
	// whether or not it changed.
	DebugTokenKey string `json:"debugTokenKey,omitempty"`
	// InstallationID is the new configuration's Config.InstallationID.
	InstallationID string `json:"installationId,omitempty"`
}

// Changes lists the objects of one collection to create or replace, and the
// ids of those to remove.
type Changes[T any] struct {
	Upsert []T      `json:"upsert,omitempty"`
	Delete []string `json:"delete,omitempty"`
}

// KeyChanges lists subscription keys (by hash) to add or replace and remove.
type KeyChanges struct {
	Upsert map[string]SubscriptionKey `json:"upsert,omitempty"`
	Delete []string                   `json:"delete,omitempty"`
}

// Size returns how many objects the Delta changes.
func (d *Delta) Size() int {
	return len(d.APIs.Upsert) + len(d.APIs.Delete) + len(d.Products.Upsert) + len(d.Products.Delete) +
		len(d.Subscriptions.Upsert) + len(d.Subscriptions.Delete) + len(d.Backends.Upsert) + len(d.Backends.Delete) +
		len(d.NamedValues.Upsert) + len(d.NamedValues.Delete) + len(d.Policies.Upsert) + len(d.Policies.Delete) +
		len(d.PolicyFragments.Upsert) + len(d.PolicyFragments.Delete) + len(d.Hostnames.Upsert) + len(d.Hostnames.Delete)
}

func idOfAPI(a API) string                 { return a.ID }
func idOfProduct(p Product) string         { return p.ID }
func idOfBackend(b Backend) string         { return b.ID }
func idOfNamedValue(n NamedValue) string   { return n.ID }
func idOfPolicy(p Policy) string           { return p.Scope }
func idOfHostname(h Hostname) string       { return h.ID }
func idOfFragment(f PolicyFragment) string { return f.ID }
func sortByID[T any](s []T, id func(T) string) {
	slices.SortFunc(s, func(a, b T) int { return cmp.Compare(id(a), id(b)) })
}

// sortedClone returns a sorted copy of s; nil when s is empty, so that an
// empty and an absent collection hash alike.
func sortedClone[T any](s []T, id func(T) string) []T {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	sortByID(out, id)
	return out
}

// canonical returns a copy of cfg with every collection sorted by id (and
// empty ones nil), the form ContentTag hashes.
func canonical(cfg *Config) *Config {
	cp := *cfg
	cp.APIs = sortedClone(cfg.APIs, idOfAPI)
	cp.Products = sortedClone(cfg.Products, idOfProduct)
	cp.Backends = sortedClone(cfg.Backends, idOfBackend)
	cp.NamedValues = sortedClone(cfg.NamedValues, idOfNamedValue)
	cp.Policies = sortedClone(cfg.Policies, idOfPolicy)
	cp.PolicyFragments = sortedClone(cfg.PolicyFragments, idOfFragment)
	cp.Hostnames = sortedClone(cfg.Hostnames, idOfHostname)
	if len(cp.Subscriptions) == 0 {
		cp.Subscriptions = nil
	}
	return &cp
}

// ContentTag hashes a Config's content, its revision left out: two
// revisions with the same content for a gateway have the same tag. It
// detects a delta applied to the wrong base (it is not a security check):
// subscription keys, which may number millions, are folded in with an
// order-independent sum of 64-bit xxHash hashes instead of being sorted.
func ContentTag(cfg *Config) string {
	cp := canonical(cfg)
	cp.Revision = 0
	subs := cp.Subscriptions
	cp.Subscriptions = nil
	b, _ := json.Marshal(cp)
	var sum, xor uint64
	for h, k := range subs {
		var v uint64
		for _, f := range [...]string{h, k.SubscriptionID, k.Key, k.Scope, k.State, k.OwnerID, k.ProductID} {
			v = (v^xxhash.Sum64String(f))*0x9e3779b97f4a7c15 + 1
		}
		if k.AllowTracing {
			v = (v^xxhash.Sum64String("allowTracing"))*0x9e3779b97f4a7c15 + 1
		}
		sum += v
		xor ^= v * 0x9e3779b97f4a7c15
	}
	h := sha256.New()
	h.Write(b)
	fmt.Fprintf(h, "|%d|%x|%x", len(subs), sum, xor)
	return `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
}

func diff[T any](old, cur []T, id func(T) string) Changes[T] {
	var ch Changes[T]
	prev := make(map[string]T, len(old))
	for _, o := range old {
		prev[id(o)] = o
	}
	seen := make(map[string]bool, len(cur))
	for _, c := range cur {
		k := id(c)
		seen[k] = true
		if o, ok := prev[k]; !ok || !reflect.DeepEqual(o, c) {
			ch.Upsert = append(ch.Upsert, c)
		}
	}
	for _, o := range old {
		if !seen[id(o)] {
			ch.Delete = append(ch.Delete, id(o))
		}
	}
	return ch
}

// Diff returns the Delta from old to cur.
func Diff(old, cur *Config) *Delta {
	d := &Delta{Revision: cur.Revision, Base: ContentTag(old), Tag: ContentTag(cur),
		APIs: diff(old.APIs, cur.APIs, idOfAPI), Products: diff(old.Products, cur.Products, idOfProduct),
		Backends: diff(old.Backends, cur.Backends, idOfBackend), NamedValues: diff(old.NamedValues, cur.NamedValues, idOfNamedValue),
		Policies: diff(old.Policies, cur.Policies, idOfPolicy), PolicyFragments: diff(old.PolicyFragments, cur.PolicyFragments, idOfFragment),
		Hostnames: diff(old.Hostnames, cur.Hostnames, idOfHostname), DebugTokenKey: cur.DebugTokenKey,
		InstallationID: cur.InstallationID}
	for h, k := range cur.Subscriptions {
		if o, ok := old.Subscriptions[h]; !ok || o != k {
			if d.Subscriptions.Upsert == nil {
				d.Subscriptions.Upsert = map[string]SubscriptionKey{}
			}
			d.Subscriptions.Upsert[h] = k
		}
	}
	for h := range old.Subscriptions {
		if _, ok := cur.Subscriptions[h]; !ok {
			d.Subscriptions.Delete = append(d.Subscriptions.Delete, h)
		}
	}
	slices.Sort(d.Subscriptions.Delete)
	return d
}

func apply[T any](old []T, ch Changes[T], id func(T) string) []T {
	m := make(map[string]T, len(old)+len(ch.Upsert))
	for _, o := range old {
		m[id(o)] = o
	}
	for _, k := range ch.Delete {
		delete(m, k)
	}
	for _, u := range ch.Upsert {
		m[id(u)] = u
	}
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sortByID(out, id)
	return out
}

// ErrDeltaMismatch is returned by Apply when the Delta does not apply to
// the given Config or does not produce its Tag: ask for a full Config.
var ErrDeltaMismatch = errors.New("configuration delta does not apply cleanly")

// Apply returns a new Config: old with d applied. old is not modified.
func (d *Delta) Apply(old *Config) (*Config, error) {
	if ContentTag(old) != d.Base {
		return nil, ErrDeltaMismatch
	}
	cfg := &Config{Revision: d.Revision, GatewayID: old.GatewayID,
		APIs: apply(old.APIs, d.APIs, idOfAPI), Products: apply(old.Products, d.Products, idOfProduct),
		Backends: apply(old.Backends, d.Backends, idOfBackend), NamedValues: apply(old.NamedValues, d.NamedValues, idOfNamedValue),
		Policies: apply(old.Policies, d.Policies, idOfPolicy), PolicyFragments: apply(old.PolicyFragments, d.PolicyFragments, idOfFragment),
		Hostnames: apply(old.Hostnames, d.Hostnames, idOfHostname), DebugTokenKey: d.DebugTokenKey, InstallationID: d.InstallationID,
		Subscriptions: make(map[string]SubscriptionKey, len(old.Subscriptions)+len(d.Subscriptions.Upsert))}
	for h, k := range old.Subscriptions {
		cfg.Subscriptions[h] = k
	}
	for _, h := range d.Subscriptions.Delete {
		delete(cfg.Subscriptions, h)
	}
	for h, k := range d.Subscriptions.Upsert {
		cfg.Subscriptions[h] = k
	}
	if ContentTag(cfg) != d.Tag {
		return nil, ErrDeltaMismatch
	}
	return cfg, nil
}
