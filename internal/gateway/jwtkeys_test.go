package gateway

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/portico-gw/portico/internal/snapshot"
)

// TestJWTKeysOutliveSnapshots: the keys validate-jwt fetches from an OpenID
// configuration belong to the gateway, so a configuration change (a new
// snapshot built by the Reloader) does not fetch them again.
func TestJWTKeysOutliveSnapshots(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var docs, sets atomic.Int64
	var idp *httptest.Server
	idp = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			docs.Add(1)
			json.NewEncoder(w).Encode(map[string]string{"issuer": idp.URL, "jwks_uri": idp.URL + "/keys"})
		case "/keys":
			sets.Add(1)
			k, _ := jwk.Import(&key.PublicKey)
			k.Set(jwk.KeyIDKey, "k1")
			set := jwk.NewSet()
			set.AddKey(k)
			json.NewEncoder(w).Encode(set)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(idp.Close)
	tok, err := jwt.NewBuilder().Issuer(idp.URL).Expiration(time.Now().Add(time.Hour)).Build()
	if err != nil {
		t.Fatal(err)
	}
	sk, _ := jwk.Import(key)
	sk.Set(jwk.KeyIDKey, "k1")
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), sk))
	if err != nil {
		t.Fatal(err)
	}

	be := newBackend(t, nil)
	e := newEnv(t, Config{}, nil)
	var rev atomic.Int64
	src := func(_ context.Context, have int64) (*snapshot.Config, error) {
		r := rev.Load()
		if r == have {
			return nil, nil
		}
		c := policyConfig(be.URL, map[string]string{"apis/open": fmt.Sprintf(`<policies><inbound><base/>
			<validate-jwt header-name="Authorization" require-scheme="Bearer"><openid-config url="%s/.well-known/openid-configuration"/></validate-jwt>
			<set-header name="X-Revision" exists-action="override"><value>%d</value></set-header>
		</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`, idp.URL, r)})
		c.Revision = r
		return c, nil
	}
	reloader := NewReloader(e.gw, src, time.Hour)
	for r := int64(1); r <= 2; r++ {
		rev.Store(r)
		if err := reloader.Reload(context.Background()); err != nil || revisionOf(e.gw) != r {
			t.Fatalf("reload to revision %d: %v (serving %d)", r, err, revisionOf(e.gw))
		}
		if res := e.do("GET", "/open/resource", nil, "Authorization", "Bearer "+string(signed)); res.status != 200 {
			t.Fatalf("revision %d: %d %s", r, res.status, res.body)
		}
		if got := be.last(t).header.Get("X-Revision"); got != fmt.Sprint(r) {
			t.Fatalf("the request ran on revision %s, want %d", got, r)
		}
	}
	if d, s := docs.Load(), sets.Load(); d != 1 || s != 1 {
		t.Fatalf("two snapshots fetched %d OpenID configurations and %d key sets, want 1 and 1", d, s)
	}
}
