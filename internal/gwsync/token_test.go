package gwsync

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	key, other := NewKey(), NewKey()
	tok := Sign("edge-1", KeyPrimary, key, now.Add(24*time.Hour))
	tests := []struct {
		name    string
		token   string
		key     string
		at      time.Time
		wantErr string
	}{
		{"valid", tok, key, now, ""},
		{"valid with scheme", "GatewayKey " + tok, key, now, ""},
		{"expired", tok, key, now.Add(25 * time.Hour), "expired"},
		{"other key (regenerated)", tok, other, now, "signature is invalid"},
		{"tampered gateway", strings.Replace(tok, "edge-1", "edge-2", 1), key, now, "signature is invalid"},
		{"tampered expiry", strings.Replace(tok, "20261128", "20271128", 1), key, now, "signature is invalid"},
		{"wrong scheme", "Bearer " + tok, key, now, "scheme"},
		{"too few parts", "edge-1&20261128120000&primary", key, now, "malformed"},
		{"bad key type", "edge-1&20261128120000&tertiary&" + strings.Repeat("A", 43), key, now, "key type"},
		{"bad signature encoding", "edge-1&20261128120000&primary&!!", key, now, "signature encoding"},
		{"empty", "", key, now, "malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pt, err := ParseToken(tc.token)
			if err == nil {
				err = pt.Verify(tc.key, tc.at)
			}
			if tc.wantErr == "" {
				if err != nil || pt.GatewayID != "edge-1" || pt.KeyType != KeyPrimary {
					t.Fatalf("token %+v: %v", pt, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
	pt, _ := ParseToken(tok)
	if err := pt.Verify(key, now.Add(48*time.Hour)); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("expired token error is not ErrTokenExpired: %v", err)
	}
}

func FuzzParseToken(f *testing.F) {
	f.Add(Sign("g", KeyPrimary, "k", time.Now()))
	f.Add("GatewayKey a&b&c&d")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err == nil {
			_ = tok.Verify("k", time.Now())
		}
	})
}
