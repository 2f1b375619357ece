package snapshot

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/portico-gw/portico/internal/model"
)

func deltaConfig(subs int) *Config {
	c := &Config{Revision: 1, GatewayID: "gw", Subscriptions: map[string]SubscriptionKey{}}
	for i := 0; i < 50; i++ {
		c.APIs = append(c.APIs, API{ID: fmt.Sprintf("api-%03d", i), Path: fmt.Sprintf("p%d", i), ServiceURL: "http://b", SubscriptionRequired: true,
			Operations: []Operation{{ID: "get", Method: "GET", URLTemplate: "/r"}}})
	}
	c.Products = []Product{{ID: "p", State: "published", APIs: []string{"api-000"}}}
	for i := 0; i < subs; i++ {
		c.Subscriptions[fmt.Sprintf("%064x", i)] = SubscriptionKey{SubscriptionID: fmt.Sprintf("s%d", i), Key: "primary", Scope: "/apis", State: "active"}
	}
	c.Backends = []Backend{{ID: "b1", Backend: model.Backend{URL: "https://b1"}}}
	c.Policies = []Policy{{Scope: "global", Format: "rawxml", Value: "<policies/>"}}
	return c
}

func cloneConfig(c *Config) *Config {
	raw, _ := json.Marshal(c)
	var out Config
	json.Unmarshal(raw, &out)
	return &out
}

func TestDelta(t *testing.T) {
	base := deltaConfig(1000)
	tests := []struct {
		name     string
		change   func(c *Config)
		wantSize int
	}{
		{"nothing", func(c *Config) {}, 0},
		{"one subscription suspended", func(c *Config) {
			k := c.Subscriptions[fmt.Sprintf("%064x", 7)]
			k.State = "suspended"
			c.Subscriptions[fmt.Sprintf("%064x", 7)] = k
		}, 1},
		{"key regenerated", func(c *Config) {
			delete(c.Subscriptions, fmt.Sprintf("%064x", 8))
			c.Subscriptions["new"] = SubscriptionKey{SubscriptionID: "s8", Key: "primary", Scope: "/apis", State: "active"}
		}, 2},
		{"api added and one removed", func(c *Config) {
			c.APIs = append(c.APIs[1:], API{ID: "zzz", Path: "z", ServiceURL: "http://z"})
		}, 2},
		{"operation added", func(c *Config) {
			c.APIs[3].Operations = append(c.APIs[3].Operations, Operation{ID: "post", Method: "POST", URLTemplate: "/r"})
		}, 1},
		{"policy and named value", func(c *Config) {
			c.Policies[0].Value = "<policies><inbound/></policies>"
			c.NamedValues = append(c.NamedValues, NamedValue{ID: "nv", DisplayName: "nv", Value: "x"})
		}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cur := cloneConfig(base)
			cur.Revision = 2
			tc.change(cur)
			d := Diff(base, cur)
			if d.Size() != tc.wantSize {
				t.Fatalf("delta changes %d objects, want %d", d.Size(), tc.wantSize)
			}
			raw, _ := json.Marshal(d)
			var back Delta
			if err := json.Unmarshal(raw, &back); err != nil {
				t.Fatal(err)
			}
			got, err := back.Apply(cloneConfig(base))
			if err != nil {
				t.Fatal(err)
			}
			if ContentTag(got) != ContentTag(cur) || got.Revision != 2 {
				t.Fatal("applying the delta does not give the new configuration")
			}
		})
	}
	t.Run("wrong base is refused", func(t *testing.T) {
		cur := cloneConfig(base)
		cur.APIs = cur.APIs[1:]
		d := Diff(base, cur)
		other := cloneConfig(base)
		other.Backends = nil
		if _, err := d.Apply(other); err != ErrDeltaMismatch {
			t.Fatalf("err = %v", err)
		}
	})
}

// BenchmarkDeltaOneSubscription measures the delta of one subscription
// change among 100,000 keys: bytes on the wire and time to diff and apply.
func BenchmarkDeltaOneSubscription(b *testing.B) {
	base := deltaConfig(100000)
	cur := cloneConfig(base)
	k := cur.Subscriptions[fmt.Sprintf("%064x", 7)]
	k.State = "suspended"
	cur.Subscriptions[fmt.Sprintf("%064x", 7)] = k
	full, _ := json.Marshal(cur)
	d := Diff(base, cur)
	raw, _ := json.Marshal(d)
	b.ReportMetric(float64(len(full)), "full-bytes")
	b.ReportMetric(float64(len(raw)), "delta-bytes")
	for b.Loop() {
		d := Diff(base, cur)
		if _, err := d.Apply(base); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDeltaDebugTokenKey checks that a delta carries a changed debug-token
// key (regenerated primary key) and that the tag covers it.
func TestDeltaDebugTokenKey(t *testing.T) {
	old := &Config{Revision: 1, GatewayID: "gw1", DebugTokenKey: "a"}
	cur := &Config{Revision: 2, GatewayID: "gw1", DebugTokenKey: "b"}
	if ContentTag(old) == ContentTag(cur) {
		t.Fatal("the content tag ignores the debug-token key")
	}
	got, err := Diff(old, cur).Apply(old)
	if err != nil || got.DebugTokenKey != "b" {
		t.Fatalf("%v %+v", err, got)
	}
}
