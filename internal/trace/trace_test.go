package trace

import (
	"strings"
	"testing"
	"time"
)

func TestStoreBoundAndExpiry(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s := NewStore(3, time.Minute)
	s.now = func() time.Time { return now }
	for _, id := range []string{"a", "b", "c", "d"} {
		s.Put(&Trace{ID: id})
	}
	if s.Get("a") != nil || s.Get("b") == nil || s.Get("d") == nil || s.Len() != 3 {
		t.Fatalf("bound: a=%v b=%v d=%v len=%d", s.Get("a"), s.Get("b"), s.Get("d"), s.Len())
	}
	now = now.Add(time.Minute)
	if s.Get("d") != nil {
		t.Fatal("expired trace returned")
	}
	s.Put(&Trace{ID: "e"})
	if s.Len() != 1 || s.Get("e") == nil {
		t.Fatalf("expired traces not evicted: %d", s.Len())
	}
}

func TestNewID(t *testing.T) {
	a, b := NewID(), NewID()
	if len(a) != 32 || a == b {
		t.Fatalf("%q %q", a, b)
	}
}

func TestSigner(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	key := []byte(strings.Repeat("k", 32))
	s, err := NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return now }
	other, _ := NewSigner([]byte(strings.Repeat("o", 32)))
	tok := s.Issue(Claims{GatewayID: "managed", APIID: "echo", Purposes: []string{PurposeTracing}, Expires: now.Add(time.Hour)})
	tests := []struct {
		name, token, gw, api string
		signer               *Signer
		at                   time.Time
		wantErr              string
	}{
		{name: "valid", token: tok, gw: "managed", api: "echo", signer: s, at: now},
		{name: "expired", token: tok, gw: "managed", api: "echo", signer: s, at: now.Add(time.Hour), wantErr: "expired"},
		{name: "other gateway", token: tok, gw: "gw2", api: "echo", signer: s, at: now, wantErr: "another gateway"},
		{name: "other api", token: tok, gw: "managed", api: "orders", signer: s, at: now, wantErr: "another API"},
		{name: "other key", token: tok, gw: "managed", api: "echo", signer: other, at: now, wantErr: "signature"},
		{name: "altered claims", token: strings.Replace(tok, "v1.", "v1.e", 1), gw: "managed", api: "echo", signer: s, at: now, wantErr: "signature"},
		{name: "garbage", token: "nope", gw: "managed", api: "echo", signer: s, at: now, wantErr: "malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.signer.now = func() time.Time { return tc.at }
			c, err := tc.signer.Verify(tc.token, tc.gw, tc.api, PurposeTracing)
			if tc.wantErr == "" {
				if err != nil || c.APIID != "echo" {
					t.Fatalf("%v %+v", err, c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
	if _, err := NewSigner([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}
