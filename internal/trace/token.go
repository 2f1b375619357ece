package trace

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// PurposeTracing is the debug-token purpose that allows Ocp-Apim-Trace.
const PurposeTracing = "tracing"

// MaxTokenLifetime bounds how long a debug token may be valid.
const MaxTokenLifetime = time.Hour

// Claims are what a debug token grants: tracing (the purposes) of calls to
// one API on one gateway until Expires.
type Claims struct {
	GatewayID string    `json:"gw"`
	APIID     string    `json:"api"`
	Purposes  []string  `json:"p"`
	Expires   time.Time `json:"exp"`
}

// Signer issues and checks debug tokens with an HMAC-SHA256 key that the
// management plane and the gateways share (for the built-in gateway, a
// random key of the process). A token is "v1.<claims>.<mac>", both parts
// base64url without padding; it is not encrypted (the claims hold only
// ids) but cannot be forged or altered without the key.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner returns a Signer with key, which must be at least 32 bytes.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < 32 {
		return nil, errors.New("debug token key must be at least 32 bytes")
	}
	return &Signer{key: slices.Clone(key), now: time.Now}, nil
}

// Issue returns a token for c.
func (s *Signer) Issue(c Claims) string {
	c.Expires = c.Expires.UTC().Truncate(time.Second)
	raw, _ := json.Marshal(c)
	body := "v1." + base64.RawURLEncoding.EncodeToString(raw)
	return body + "." + base64.RawURLEncoding.EncodeToString(s.mac(body))
}

func (s *Signer) mac(body string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(body))
	return m.Sum(nil)
}

// Verify checks token's signature and expiry and that it grants purpose
// for apiID on gatewayID, and returns its claims.
func (s *Signer) Verify(token, gatewayID, apiID, purpose string) (Claims, error) {
	var c Claims
	i := strings.LastIndexByte(token, '.')
	if i < 0 || !strings.HasPrefix(token, "v1.") {
		return c, errors.New("malformed debug token")
	}
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil || !hmac.Equal(sig, s.mac(token[:i])) {
		return c, errors.New("invalid debug token signature")
	}
	raw, err := base64.RawURLEncoding.DecodeString(token[len("v1."):i])
	if err != nil {
		return c, errors.New("malformed debug token")
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("malformed debug token: %w", err)
	}
	switch {
	case !s.now().Before(c.Expires):
		return c, errors.New("debug token expired")
	case c.GatewayID != gatewayID:
		return c, errors.New("debug token is for another gateway")
	case c.APIID != apiID:
		return c, errors.New("debug token is for another API")
	case !slices.Contains(c.Purposes, purpose):
		return c, fmt.Errorf("debug token does not grant %s", purpose)
	}
	return c, nil
}
