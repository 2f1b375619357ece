package policy

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// oidcProvider serves an OpenID configuration and a JWKS whose key can be
// rotated.
type oidcProvider struct {
	srv     *httptest.Server
	key     atomic.Pointer[rsa.PrivateKey]
	kid     atomic.Value
	docs    atomic.Int64 // configuration documents served
	fetches atomic.Int64 // key sets served
	// hold, when set, holds every key set request until it is closed.
	hold chan struct{}
}

func newOIDC(t *testing.T) *oidcProvider { return startOIDC(t, nil) }

// startOIDC starts a provider whose key set requests wait for hold to be
// closed (none when hold is nil).
func startOIDC(t *testing.T, hold chan struct{}) *oidcProvider {
	p := &oidcProvider{hold: hold}
	p.rotate(t, "k1")
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			p.docs.Add(1)
			json.NewEncoder(w).Encode(map[string]string{"issuer": p.srv.URL, "jwks_uri": p.srv.URL + "/keys"})
		case "/keys":
			p.fetches.Add(1)
			if p.hold != nil {
				<-p.hold
			}
			k, _ := jwk.Import(&p.key.Load().PublicKey)
			k.Set(jwk.KeyIDKey, p.kid.Load().(string))
			k.Set(jwk.AlgorithmKey, jwa.RS256())
			set := jwk.NewSet()
			set.AddKey(k)
			json.NewEncoder(w).Encode(set)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *oidcProvider) rotate(t *testing.T, kid string) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p.key.Store(k)
	p.kid.Store(kid)
}

func (p *oidcProvider) token(t *testing.T, claims map[string]any) string {
	b := jwt.NewBuilder()
	for k, v := range claims {
		b.Claim(k, v)
	}
	tok, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	k, _ := jwk.Import(p.key.Load())
	k.Set(jwk.KeyIDKey, p.kid.Load().(string))
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), k))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

func hsToken(t *testing.T, secret []byte, claims map[string]any) string {
	b := jwt.NewBuilder()
	for k, v := range claims {
		b.Claim(k, v)
	}
	tok, _ := b.Build()
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.HS256(), secret))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

func TestValidateJWT(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	idp := newOIDC(t)
	secret := []byte("0123456789abcdef0123456789abcdef")
	oidcDoc := fmt.Sprintf(`<policies><inbound><validate-jwt header-name="Authorization" require-scheme="Bearer" output-token-variable-name="jwt">
		<openid-config url="%s/.well-known/openid-configuration" />
		<audiences><audience>api://orders</audience></audiences>
		<issuers><issuer>%s</issuer></issuers>
		<required-claims><claim name="roles" match="any"><value>admin</value><value>writer</value></claim></required-claims>
	</validate-jwt></inbound></policies>`, idp.srv.URL, idp.srv.URL)
	hsDoc := fmt.Sprintf(`<policies><inbound><validate-jwt query-parameter-name="token" failed-validation-httpcode="403" clock-skew="30">
		<issuer-signing-keys><key>%s</key></issuer-signing-keys>
		<required-claims><claim name="scp" match="all" separator=" "><value>read</value><value>write</value></claim></required-claims>
	</validate-jwt></inbound></policies>`, base64.StdEncoding.EncodeToString(secret))
	good := func() map[string]any {
		return map[string]any{"iss": idp.srv.URL, "aud": []string{"api://orders"}, "exp": now.Add(time.Hour).Unix(), "roles": []string{"reader", "writer"}, "sub": "ann"}
	}
	with := func(k string, v any) map[string]any { c := good(); c[k] = v; return c }
	without := func(k string) map[string]any { c := good(); delete(c, k); return c }
	tests := []struct {
		name       string
		doc        string
		header     string
		query      string
		wantStatus int
		wantReason string
	}{
		{"valid openid token", oidcDoc, "Bearer " + idp.token(t, good()), "", 200, ""},
		{"missing token", oidcDoc, "", "", 401, "TokenNotPresent"},
		{"wrong scheme", oidcDoc, "Basic " + idp.token(t, good()), "", 401, "TokenSchemeNotAllowed"},
		{"expired", oidcDoc, "Bearer " + idp.token(t, with("exp", now.Add(-time.Minute).Unix())), "", 401, "TokenExpired"},
		{"no expiration", oidcDoc, "Bearer " + idp.token(t, without("exp")), "", 401, "TokenExpired"},
		{"not yet valid", oidcDoc, "Bearer " + idp.token(t, with("nbf", now.Add(time.Hour).Unix())), "", 401, "TokenNotYetValid"},
		{"wrong audience", oidcDoc, "Bearer " + idp.token(t, with("aud", []string{"api://other"})), "", 401, "TokenAudienceNotAllowed"},
		{"wrong issuer", oidcDoc, "Bearer " + idp.token(t, with("iss", "https://evil.example")), "", 401, "TokenIssuerNotAllowed"},
		{"claim missing", oidcDoc, "Bearer " + idp.token(t, without("roles")), "", 401, "TokenClaimNotFound"},
		{"claim value not allowed", oidcDoc, "Bearer " + idp.token(t, with("roles", []string{"reader"})), "", 401, "TokenClaimValueNotAllowed"},
		{"signed by another key", oidcDoc, "Bearer " + hsToken(t, secret, good()), "", 401, "TokenSignatureInvalid"},
		{"garbage", oidcDoc, "Bearer not.a.jwt", "", 401, "TokenInvalid"},
		{"symmetric key in query", hsDoc, "", hsToken(t, secret, map[string]any{"exp": now.Add(time.Hour).Unix(), "scp": "read write"}), 200, ""},
		{"clock skew tolerates", hsDoc, "", hsToken(t, secret, map[string]any{"exp": now.Add(-10 * time.Second).Unix(), "scp": "read write"}), 200, ""},
		{"match all needs every value", hsDoc, "", hsToken(t, secret, map[string]any{"exp": now.Add(time.Hour).Unix(), "scp": "read"}), 403, "TokenClaimValueNotAllowed"},
		{"wrong secret", hsDoc, "", hsToken(t, []byte("another-secret-another-secret-00"), map[string]any{"exp": now.Add(time.Hour).Unix(), "scp": "read write"}), 403, "TokenSignatureInvalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustPipeline(t, tc.doc)
			target := "/api/r"
			if tc.query != "" {
				target += "?token=" + tc.query
			}
			req := httptest.NewRequest("GET", target, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			c := newCtx(req, &fakeBackend{}, NewMemoryCounters(), now)
			p.Run(c)
			if c.Response.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d (last error %+v)", c.Response.StatusCode, tc.wantStatus, c.LastError)
			}
			if tc.wantReason != "" && (c.LastError == nil || c.LastError.Reason != tc.wantReason) {
				t.Fatalf("last error %+v, want reason %s", c.LastError, tc.wantReason)
			}
			if tc.name == "valid openid token" {
				if _, ok := c.Variables["jwt"]; !ok {
					t.Fatal("output-token-variable-name not set")
				}
			}
		})
	}
	t.Run("key rotation refreshes the keys", func(t *testing.T) {
		p := mustPipeline(t, oidcDoc)
		run := func(tok string) int {
			req := httptest.NewRequest("GET", "/api/r", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			c := newCtx(req, &fakeBackend{}, NewMemoryCounters(), now)
			p.Run(c)
			return c.Response.StatusCode
		}
		if s := run(idp.token(t, good())); s != 200 {
			t.Fatalf("before rotation: %d", s)
		}
		before := idp.fetches.Load()
		idp.rotate(t, "k2")
		if s := run(idp.token(t, good())); s != 200 {
			t.Fatalf("token signed with the rotated key: %d", s)
		}
		if idp.fetches.Load() == before {
			t.Fatal("the keys were not fetched again after rotation")
		}
	})
	t.Run("compile errors", func(t *testing.T) {
		for _, doc := range []string{
			`<policies><inbound><validate-jwt header-name="Authorization"/></inbound></policies>`,
			`<policies><inbound><validate-jwt><issuer-signing-keys><key>c2hvcnQ=</key></issuer-signing-keys></validate-jwt></inbound></policies>`,
			`<policies><inbound><validate-jwt header-name="A" require-signed-tokens="false"><issuer-signing-keys><key>MDEyMzQ1Njc4OWFiY2RlZg==</key></issuer-signing-keys></validate-jwt></inbound></policies>`,
		} {
			if _, err := CompileDocument(doc, testEnv("t")); err == nil || !strings.Contains(err.Error(), "validate-jwt") {
				t.Errorf("accepted or unclear: %v\n%s", err, doc)
			}
		}
	})
}
