package agent_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/telemetry"
	"github.com/portico-gw/portico/internal/testenv"
)

// putPolicy stores an XML policy document at path (".../policy").
func (p *plane) putPolicy(path, xml string) {
	p.t.Helper()
	req, _ := http.NewRequest("PUT", p.admin+"/api/v1"+path, strings.NewReader(xml))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/xml")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode >= 300 {
		p.t.Fatalf("PUT %s = %d: %s", path, res.StatusCode, body)
	}
}

// fetchConfig asks the config endpoint with a gateway token, as an agent
// does; held (an ETag) asks for a delta.
func (p *plane) fetchConfig(token, held string) (etag string, contentType string, body []byte) {
	p.t.Helper()
	req, _ := http.NewRequest("GET", p.gwURL+"/gateway/v1/config?revision=-1", nil)
	req.Header.Set("Authorization", token)
	if held != "" {
		req.Header.Set("If-None-Match", held)
		req.Header.Set("Accept", gwsync.DeltaType+", application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ = io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		p.t.Fatalf("config = %d: %s", res.StatusCode, body)
	}
	return res.Header.Get("ETag"), res.Header.Get("Content-Type"), body
}

// isolation is an instance with two self-hosted gateways whose APIs use
// different secret named values, fragments, backends and products.
type isolation struct {
	p      *plane
	tokens map[string]string
	key    string // primary key of the all-APIs subscription
	// secrets[gw] are the secret values only gw's APIs use; shared are
	// used by both; unused by none. Every one must stay out of backups.
	secrets map[string][]string
	shared  []string
	unused  []string
	// ids[gw] are the ids of the named values, backends, fragments,
	// products and subscriptions that only gw's APIs use.
	ids map[string]map[string][]string
}

func newIsolation(t *testing.T) *isolation {
	p := newPlane(t)
	is := &isolation{p: p, tokens: map[string]string{}, secrets: map[string][]string{}, ids: map[string]map[string][]string{}}
	nv := func(id, value string, secret bool) {
		p.call("PUT", "/namedValues/"+id, map[string]any{"displayName": id, "value": value, "secret": secret}, 201)
	}
	nv("shared", "shared-plain-value", false)
	nv("shared-secret", "shared-secret-value-0f3a", true)
	is.shared = []string{"shared-secret-value-0f3a"}
	nv("unused-secret", "unused-secret-value-77c1", true)
	p.call("PUT", "/backends/be-unused", map[string]any{"url": "https://unused.example", "protocol": "http",
		"credentials": map[string]any{"header": map[string][]string{"x-unused": {"unused-backend-credential-5d2e"}}}}, 201)
	is.unused = []string{"unused-secret-value-77c1", "unused-backend-credential-5d2e"}
	p.putPolicy("/policy", `<policies><inbound><set-header name="X-Shared" exists-action="override"><value>{{shared}}-{{shared-secret}}</value></set-header></inbound></policies>`)

	for i, gw := range []string{"gw1", "gw2"} {
		n := fmt.Sprint(i + 1)
		backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s|%s|%s|%s|%s", gw, r.Header.Get("X-Secret"), r.Header.Get("X-Frag"), r.Header.Get("X-Product"), r.Header.Get("X-Shared"))
		}))
		t.Cleanup(backend.Close)
		p.call("PUT", "/gateways/"+gw, map[string]any{"locationData": map[string]string{"name": gw}}, 201)
		sec, cred, literal, frag, psec := "sec"+n, "cred"+n, "backend-literal-credential-"+n+"-a81b", "fragsec"+n, "psec"+n
		nv(sec, "secret-value-of-gw"+n+"-9d4c", true)
		nv(cred, "backend-credential-of-gw"+n+"-2b7e", true)
		nv(frag, "fragment-secret-of-gw"+n+"-61aa", true)
		nv(psec, "product-secret-of-gw"+n+"-c3d0", true)
		is.secrets[gw] = []string{"secret-value-of-gw" + n + "-9d4c", "backend-credential-of-gw" + n + "-2b7e", literal,
			"fragment-secret-of-gw" + n + "-61aa", "product-secret-of-gw" + n + "-c3d0"}
		be, api, fragID, prod := "be"+n, "api"+n, "frag"+n, "p"+n
		p.call("PUT", "/backends/"+be, map[string]any{"url": backend.URL, "protocol": "http", "credentials": map[string]any{
			"header":        map[string][]string{"x-cred": {"{{" + cred + "}}"}, "x-literal": {literal}},
			"authorization": map[string]string{"scheme": "Basic", "parameter": "{{" + cred + "}}"}}}, 201)
		p.call("PUT", "/policyFragments/"+fragID, map[string]any{"value": `<fragment><set-header name="X-Frag" exists-action="override"><value>{{` + frag + `}}</value></set-header></fragment>`}, 201)
		// the API's own serviceUrl leads nowhere: only the named backend answers
		p.call("PUT", "/apis/"+api, map[string]any{"displayName": api, "path": api, "protocols": []string{"http"}, "serviceUrl": "http://127.0.0.1:9"}, 201)
		p.call("PUT", "/apis/"+api+"/operations/get", map[string]any{"displayName": "get", "method": "GET", "urlTemplate": "/x"}, 201)
		p.putPolicy("/apis/"+api+"/policy", `<policies><inbound><base/>`+
			`<set-header name="X-Secret" exists-action="override"><value>{{`+sec+`}}</value></set-header>`+
			`<include-fragment fragment-id="`+fragID+`"/><set-backend-service backend-id="`+be+`"/></inbound></policies>`)
		p.call("PUT", "/products/"+prod, map[string]any{"displayName": prod, "state": "published", "subscriptionRequired": true}, 201)
		p.call("PUT", "/products/"+prod+"/apis/"+api, nil, 201)
		p.putPolicy("/products/"+prod+"/policy", `<policies><inbound><base/><set-header name="X-Product" exists-action="override"><value>{{`+psec+`}}</value></set-header></inbound></policies>`)
		p.call("PUT", "/gateways/"+gw+"/apis/"+api, nil, 201)
		p.call("PUT", "/subscriptions/s"+n, map[string]any{"scope": "/apis/" + api, "displayName": "s" + n}, 201)
		p.call("PUT", "/subscriptions/ps"+n, map[string]any{"scope": "/products/" + prod, "displayName": "ps" + n, "ownerId": "/users/1"}, 201)
		is.ids[gw] = map[string][]string{
			"namedValues": {sec, cred, frag, psec}, "backends": {be}, "policyFragments": {fragID},
			"products": {prod}, "apis": {api}, "subscriptions": {"s" + n, "ps" + n},
		}
		is.tokens[gw] = p.token(gw, "primary", time.Now().Add(24*time.Hour))
	}
	p.call("PUT", "/subscriptions/all", map[string]any{"scope": "/apis", "displayName": "all"}, 201)
	var keys struct{ PrimaryKey string }
	json.Unmarshal(p.call("POST", "/subscriptions/all/listSecrets", nil, 200), &keys)
	is.key = keys.PrimaryKey
	return is
}

func other(gw string) string {
	if gw == "gw1" {
		return "gw2"
	}
	return "gw1"
}

// idsOf lists the ids of every object of cfg, by collection.
func idsOf(cfg *snapshot.Config) map[string][]string {
	out := map[string][]string{}
	for _, a := range cfg.APIs {
		out["apis"] = append(out["apis"], a.ID)
	}
	for _, x := range cfg.Products {
		out["products"] = append(out["products"], x.ID)
	}
	for _, x := range cfg.Backends {
		out["backends"] = append(out["backends"], x.ID)
	}
	for _, x := range cfg.NamedValues {
		out["namedValues"] = append(out["namedValues"], x.ID)
	}
	for _, x := range cfg.PolicyFragments {
		out["policyFragments"] = append(out["policyFragments"], x.ID)
	}
	for _, x := range cfg.Subscriptions {
		if !slices.Contains(out["subscriptions"], x.SubscriptionID) {
			out["subscriptions"] = append(out["subscriptions"], x.SubscriptionID)
		}
	}
	for _, x := range cfg.Policies {
		out["policies"] = append(out["policies"], x.Scope)
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

// wantIDs is exactly what gw's configuration must hold.
func (is *isolation) wantIDs(gw string) map[string][]string {
	own := is.ids[gw]
	want := map[string][]string{
		"apis":            own["apis"],
		"products":        own["products"],
		"backends":        own["backends"],
		"policyFragments": own["policyFragments"],
		"namedValues":     append(slices.Clone(own["namedValues"]), "shared", "shared-secret"),
		"subscriptions":   append(slices.Clone(own["subscriptions"]), "all"),
		"policies":        {"global", "apis/" + own["apis"][0], "products/" + own["products"][0]},
	}
	for _, v := range want {
		slices.Sort(v)
	}
	return want
}

// TestGatewaysReceiveOnlyTheirOwn: two self-hosted gateways whose APIs use
// different secret named values, fragments, backends and products each
// receive, serve and back up only their own, and no secret is in clear in
// any file of either backup directory.
func TestGatewaysReceiveOnlyTheirOwn(t *testing.T) {
	is := newIsolation(t)
	p := is.p
	dirs := map[string]string{"gw1": t.TempDir(), "gw2": t.TempDir()}
	nodes := map[string]*node{}
	for _, gw := range []string{"gw1", "gw2"} {
		nodes[gw] = startNode(t, p, is.tokens[gw], dirs[gw])
	}

	// The gateways run their policies with what they received: the
	// secrets reach their backends (named backends, fragments, product
	// and global scopes all resolved on the gateway).
	for _, gw := range []string{"gw1", "gw2"} {
		n := strings.TrimPrefix(gw, "gw")
		want := fmt.Sprintf("%s|secret-value-of-gw%s-9d4c|fragment-secret-of-gw%s-61aa||shared-plain-value-shared-secret-value-0f3a", gw, n, n)
		url := nodes[gw].url + "/api" + n + "/x"
		testenv.Eventually(t, gw+" serves its API with its secrets", func() bool { return body(url, is.key) == want })
		var keys struct{ PrimaryKey string }
		json.Unmarshal(p.call("POST", "/subscriptions/ps"+n+"/listSecrets", nil, 200), &keys)
		if got, want := body(url, keys.PrimaryKey), fmt.Sprintf("%s|secret-value-of-gw%s-9d4c|fragment-secret-of-gw%s-61aa|product-secret-of-gw%s-c3d0|shared-plain-value-shared-secret-value-0f3a", gw, n, n, n); got != want {
			t.Errorf("%s through its product = %q, want %q", gw, got, want)
		}
		if c := get(nodes[gw].url+"/api"+strings.TrimPrefix(other(gw), "gw")+"/x", is.key); c != 404 {
			t.Errorf("%s serves the other gateway's API: %d", gw, c)
		}
	}

	t.Run("configuration holds only the gateway's own", func(t *testing.T) {
		for _, gw := range []string{"gw1", "gw2"} {
			_, _, raw := p.fetchConfig(is.tokens[gw], "")
			var cfg snapshot.Config
			if err := json.Unmarshal(raw, &cfg); err != nil {
				t.Fatal(err)
			}
			got, want := idsOf(&cfg), is.wantIDs(gw)
			for coll, ids := range want {
				if !slices.Equal(got[coll], ids) {
					t.Errorf("%s %s = %v, want %v", gw, coll, got[coll], ids)
				}
			}
			for _, s := range append(slices.Clone(is.secrets[other(gw)]), is.unused...) {
				if bytes.Contains(raw, []byte(s)) {
					t.Errorf("%s's configuration holds %q, which it does not use", gw, s)
				}
			}
		}
	})

	t.Run("backups hold only the gateway's own, and no secret in clear", func(t *testing.T) {
		for _, gw := range []string{"gw1", "gw2"} {
			// the backup is written just after the configuration is served
			testenv.Eventually(t, gw+"'s backup", func() bool {
				_, err := os.Stat(filepath.Join(dirs[gw], "config.json"))
				return err == nil
			})
			raw, err := os.ReadFile(filepath.Join(dirs[gw], "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			var cfg snapshot.Config
			if err := json.Unmarshal(raw, &cfg); err != nil {
				t.Fatal(err)
			}
			got, want := idsOf(&cfg), is.wantIDs(gw)
			for coll, ids := range want {
				if !slices.Equal(got[coll], ids) {
					t.Errorf("%s backup %s = %v, want %v", gw, coll, got[coll], ids)
				}
			}
			assertNoSecretInDir(t, dirs[gw], is.allSecrets())
		}
	})

	t.Run("deltas are restricted alike", func(t *testing.T) {
		etag1, _, _ := p.fetchConfig(is.tokens["gw1"], "")
		etag2, _, _ := p.fetchConfig(is.tokens["gw2"], "")
		// gw1's API stops using sec1 and starts using a new secret; gw2
		// gets a new secret named value it does not use.
		p.call("PUT", "/namedValues/sec1-next", map[string]any{"displayName": "sec1-next", "value": "next-secret-of-gw1-40e2", "secret": true}, 201)
		p.call("PUT", "/namedValues/gw2-spare", map[string]any{"displayName": "gw2-spare", "value": "spare-secret-4b19", "secret": true}, 201)
		p.putPolicy("/apis/api1/policy", `<policies><inbound><base/>`+
			`<set-header name="X-Secret" exists-action="override"><value>{{sec1-next}}</value></set-header>`+
			`<include-fragment fragment-id="frag1"/><set-backend-service backend-id="be1"/></inbound></policies>`)

		etag, ctype, raw := p.fetchConfig(is.tokens["gw1"], etag1)
		if ctype != gwsync.DeltaType {
			t.Fatalf("gw1 got %s, want a delta", ctype)
		}
		var d snapshot.Delta
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		var ups, dels []string
		for _, nv := range d.NamedValues.Upsert {
			ups = append(ups, nv.ID)
		}
		dels = d.NamedValues.Delete
		if !slices.Equal(ups, []string{"sec1-next"}) || !slices.Equal(dels, []string{"sec1"}) {
			t.Fatalf("gw1's delta: named values upserted %v deleted %v, want [sec1-next] and [sec1]", ups, dels)
		}
		if bytes.Contains(raw, []byte("spare-secret-4b19")) {
			t.Fatal("gw1's delta holds a named value it does not use")
		}
		// the full configuration of the same revision is the delta's result
		fullTag, _, _ := p.fetchConfig(is.tokens["gw1"], "")
		if etag != fullTag || d.Tag != fullTag {
			t.Fatalf("delta tag %s, full configuration %s", d.Tag, fullTag)
		}
		// nothing gw2 uses changed: its content tag stays
		if tag2, _, _ := p.fetchConfig(is.tokens["gw2"], ""); tag2 != etag2 {
			t.Fatal("gw2's configuration changed with a named value it does not use")
		}

		url := nodes["gw1"].url + "/api1/x"
		testenv.Eventually(t, "gw1 serves the new secret", func() bool { return strings.HasPrefix(body(url, is.key), "gw1|next-secret-of-gw1-40e2|") })
		testenv.Eventually(t, "gw1's backup drops the secret it no longer uses", func() bool {
			raw, _ := os.ReadFile(filepath.Join(dirs["gw1"], "config.json"))
			var cfg snapshot.Config
			return json.Unmarshal(raw, &cfg) == nil && slices.Contains(idsOf(&cfg)["namedValues"], "sec1-next") &&
				!slices.Contains(idsOf(&cfg)["namedValues"], "sec1")
		})
		secrets := append(is.allSecrets(), "next-secret-of-gw1-40e2", "spare-secret-4b19")
		for _, gw := range []string{"gw1", "gw2"} {
			assertNoSecretInDir(t, dirs[gw], secrets)
		}
		raw2, _ := os.ReadFile(filepath.Join(dirs["gw2"], "config.json"))
		if bytes.Contains(raw2, []byte("gw2-spare")) || bytes.Contains(raw2, []byte("sec1-next")) {
			t.Fatal("gw2's backup holds a named value it does not use")
		}
	})
}

func (is *isolation) allSecrets() []string {
	out := append(slices.Clone(is.shared), is.unused...)
	for _, s := range is.secrets {
		out = append(out, s...)
	}
	return append(out, is.key)
}

// assertNoSecretInDir reads every file under dir and fails when one holds
// a secret in clear.
func assertNoSecretInDir(t *testing.T, dir string, secrets []string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, s := range secrets {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("%s holds %q in clear", path, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no file in %s", dir)
	}
}

func body(url, key string) string {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Ocp-Apim-Subscription-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return fmt.Sprintf("%d %s", res.StatusCode, raw)
	}
	return string(raw)
}

// TestTelemetryOnlyForOwnAPIs: a gateway token may only post records of
// requests its gateway can have served; the others are dropped, counted in
// the answer and not stored, and the rest of the batch is stored.
func TestTelemetryOnlyForOwnAPIs(t *testing.T) {
	is := newIsolation(t)
	p := is.p
	now := time.Now().UTC()
	rec := func(id, api, product, sub, user string) telemetry.Record {
		return telemetry.Record{Time: now, RequestID: id, APIID: api, OperationID: "get", ProductID: product, SubscriptionID: sub, UserID: user, ResponseCode: 200}
	}
	accepted := []telemetry.Record{
		rec("ok-open", "api1", "", "", ""),
		rec("ok-all-apis", "api1", "", "all", ""),
		rec("ok-api-scope", "api1", "", "s1", ""),
		rec("ok-product", "api1", "p1", "ps1", "1"),
		rec("ok-unrouted", "", "", "", ""),
		rec("ok-unrouted-key", "", "", "s1", ""),
	}
	rejected := []telemetry.Record{
		rec("no-other-api", "api2", "", "", ""),
		rec("no-unknown-api", "nope", "", "", ""),
		rec("no-other-sub", "api1", "", "s2", ""),
		rec("no-other-product-sub", "api1", "", "ps2", ""),
		rec("no-unknown-sub", "api1", "", "nope", ""),
		rec("no-other-product", "api1", "p2", "", ""),
		rec("no-product-mismatch", "api2", "p1", "", ""),
		rec("no-unrouted-other-sub", "", "", "s2", ""),
		rec("no-forged-user", "api1", "p1", "ps1", "someone-else"),
		rec("no-user-without-sub", "api1", "", "", "1"),
	}
	batch := telemetry.Batch{ID: "mixed-batch", InstanceID: "inst", Records: append(slices.Clone(accepted), rejected...)}
	raw, _ := json.Marshal(batch)
	post := func(token string, body []byte) (int, gwsync.TelemetryAck) {
		t.Helper()
		req, _ := http.NewRequest("POST", p.gwURL+"/gateway/v1/telemetry", bytes.NewReader(body))
		req.Header.Set("Authorization", token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var ack gwsync.TelemetryAck
		json.NewDecoder(res.Body).Decode(&ack)
		return res.StatusCode, ack
	}
	status, ack := post(is.tokens["gw1"], raw)
	if status != 200 || ack.Records != len(accepted) || ack.Rejected != len(rejected) || ack.Duplicate {
		t.Fatalf("= %d %+v, want %d accepted and %d rejected", status, ack, len(accepted), len(rejected))
	}
	stored := func(id string) []telemetry.Record {
		var page struct{ Value []telemetry.Record }
		json.Unmarshal(p.call("GET", "/reports/byRequest?filter=requestId%20eq%20'"+id+"'", nil, 200), &page)
		return page.Value
	}
	for _, r := range accepted {
		if got := stored(r.RequestID); len(got) != 1 || got[0].GatewayID != "gw1" {
			t.Errorf("record %s: stored %+v, want one of gw1", r.RequestID, got)
		}
	}
	for _, r := range rejected {
		if got := stored(r.RequestID); len(got) != 0 {
			t.Errorf("record %s was stored: %+v", r.RequestID, got)
		}
	}

	// The same records are gw2's to report when they name its API.
	status, ack = post(is.tokens["gw2"], mustJSON(telemetry.Batch{ID: "gw2-batch", Records: []telemetry.Record{
		rec("gw2-own", "api2", "p2", "ps2", "1"), rec("gw2-foreign", "api1", "", "s1", ""),
	}}))
	if status != 200 || ack.Records != 1 || ack.Rejected != 1 {
		t.Fatalf("gw2 = %d %+v", status, ack)
	}
	if len(stored("gw2-own")) != 1 || len(stored("gw2-foreign")) != 0 {
		t.Fatal("gw2's records were not filtered by gw2's APIs")
	}

	// A batch of foreign records only is acknowledged (so that a gateway
	// does not retry it forever) and stores nothing.
	status, ack = post(is.tokens["gw1"], mustJSON(telemetry.Batch{ID: "all-foreign", Records: []telemetry.Record{rec("all-foreign-1", "api2", "", "s2", "")}}))
	if status != 200 || ack.Records != 0 || ack.Rejected != 1 || len(stored("all-foreign-1")) != 0 {
		t.Fatalf("all-foreign batch = %d %+v", status, ack)
	}

	// Records of an API that moved to another gateway since are still
	// accepted while the server holds the configuration that assigned it.
	p.call("DELETE", "/gateways/gw1/apis/api1", nil, 204)
	p.call("PUT", "/gateways/gw2/apis/api1", nil, 201)
	status, ack = post(is.tokens["gw1"], mustJSON(telemetry.Batch{ID: "after-move", Records: []telemetry.Record{rec("late-record", "api1", "", "s1", "")}}))
	if status != 200 || ack.Records != 1 || ack.Rejected != 0 {
		t.Fatalf("record buffered before the API moved = %d %+v", status, ack)
	}
}

func mustJSON(v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return raw
}
