// Package gwsync is the protocol between self-hosted gateways and the
// management plane: gateway tokens, the config endpoint (long-poll with a
// polling fallback), heartbeats, and on the gateway side the agent that keeps
// a gateway's snapshot current and its last good configuration on disk.
//
// Every connection is opened by the gateway (outbound only). The management
// plane serves /gateway/v1/config, /gateway/v1/heartbeat,
// /gateway/v1/telemetry and /gateway/v1/traces (policy debugger traces),
// authorised by a gateway token:
//
//	Authorization: GatewayKey <gatewayId>&<expiry yyyyMMddHHmmss UTC>&<keyType>&<signature>
//
// The signature is HMAC-SHA256 over "<gatewayId>\n<expiry>\n<keyType>" with
// the gateway key named by keyType (primary or secondary), base64url without
// padding. Regenerating a key invalidates every token signed with it.
package gwsync

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Token key types.
const (
	KeyPrimary   = "primary"
	KeySecondary = "secondary"
)

// TokenScheme is the Authorization scheme of gateway tokens (APIM's).
const TokenScheme = "GatewayKey"

// MaxTokenLifetime is the longest expiry a token may be issued with.
const MaxTokenLifetime = 30 * 24 * time.Hour

const expiryLayout = "20060102150405"

// Token is a parsed gateway token. Parsing does not verify it.
type Token struct {
	GatewayID string
	Expiry    time.Time
	KeyType   string
	sig       []byte
	signed    string
}

// NewKey returns a random gateway key (64 bytes, base64).
func NewKey() string {
	b := make([]byte, 64)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(b)
}

func mac(key, msg string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// Sign issues a token for gatewayID signed with key (of type keyType),
// valid until expiry (truncated to the second). It returns the value to send
// after "GatewayKey ".
func Sign(gatewayID, keyType, key string, expiry time.Time) string {
	exp := expiry.UTC().Format(expiryLayout)
	msg := gatewayID + "\n" + exp + "\n" + keyType
	return gatewayID + "&" + exp + "&" + keyType + "&" + base64.RawURLEncoding.EncodeToString(mac(key, msg))
}

// ParseToken splits a token (with or without the "GatewayKey " prefix).
func ParseToken(s string) (Token, error) {
	s = strings.TrimSpace(s)
	if scheme, rest, ok := strings.Cut(s, " "); ok {
		if !strings.EqualFold(scheme, TokenScheme) {
			return Token{}, fmt.Errorf("token scheme must be %s, got %q", TokenScheme, scheme)
		}
		s = strings.TrimSpace(rest)
	}
	parts := strings.Split(s, "&")
	if len(parts) != 4 {
		return Token{}, errors.New("malformed gateway token: want <gatewayId>&<expiry>&<keyType>&<signature>")
	}
	exp, err := time.Parse(expiryLayout, parts[1])
	if err != nil {
		return Token{}, errors.New("malformed gateway token: bad expiry")
	}
	if parts[2] != KeyPrimary && parts[2] != KeySecondary {
		return Token{}, errors.New("malformed gateway token: key type must be primary or secondary")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil || len(sig) != sha256.Size {
		return Token{}, errors.New("malformed gateway token: bad signature encoding")
	}
	if parts[0] == "" {
		return Token{}, errors.New("malformed gateway token: no gateway id")
	}
	return Token{GatewayID: parts[0], Expiry: exp.UTC(), KeyType: parts[2], sig: sig,
		signed: parts[0] + "\n" + parts[1] + "\n" + parts[2]}, nil
}

// ErrTokenExpired is returned by Verify for a token past its expiry.
var ErrTokenExpired = errors.New("gateway token expired")

// ErrBadSignature is returned by Verify when the signature does not match
// the key: forged, or signed with a key that was regenerated since.
var ErrBadSignature = errors.New("gateway token signature is invalid (forged, or its key was regenerated)")

// Verify checks the token's signature against key (constant time) and its
// expiry against now.
func (t Token) Verify(key string, now time.Time) error {
	if !hmac.Equal(t.sig, mac(key, t.signed)) {
		return ErrBadSignature
	}
	if !now.Before(t.Expiry) {
		return fmt.Errorf("%w at %s", ErrTokenExpired, t.Expiry.Format(time.RFC3339))
	}
	return nil
}

// DebugTokenKey returns the key of the policy debugger's debug tokens for
// a self-hosted gateway: HMAC-SHA256(primaryKey, "portico-debug-token\n" +
// gatewayID), base64url without padding. The management plane signs debug
// tokens with it and ships it to that gateway only, in its configuration
// (snapshot.Config.DebugTokenKey). It is one-way, so the gateway learns
// nothing of its primary key, and another gateway's key verifies none of
// its tokens; regenerating the primary key changes it and so invalidates
// every debug token issued before.
func DebugTokenKey(gatewayID, primaryKey string) string {
	return base64.RawURLEncoding.EncodeToString(mac(primaryKey, "portico-debug-token\n"+gatewayID))
}
