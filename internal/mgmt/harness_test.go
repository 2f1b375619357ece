package mgmt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/portico-gw/portico/internal/mgmt"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/testenv"
)

const testToken = "test-admin-token-0123456789"

// env is one management API over a real store and a real HTTP server.
type env struct {
	t       *testing.T
	url     string
	store   store.Store
	handler http.Handler // the management API, for in-process requests
}

// forEachStore runs fn against a freshly seeded instance on every dialect.
func forEachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, st := range testenv.Stores() {
		t.Run(st.Name, func(t *testing.T) {
			fn(t, newEnv(t, st.DSN(t)))
		})
	}
}

var (
	fuzzOnce sync.Once
	fuzzE    *env
)

// fuzzEnv is one SQLite-backed instance shared by every fuzz iteration of
// the process (opening a store per input would dominate the run).
func fuzzEnv(t *testing.T) *env {
	fuzzOnce.Do(func() {
		dir, err := os.MkdirTemp("", "portico-fuzz-")
		if err != nil {
			t.Fatal(err)
		}
		s, err := store.Open(context.Background(), filepath.Join(dir, "fuzz.db"))
		if err != nil {
			t.Fatal(err)
		}
		m := mgmt.New(mgmt.Config{Store: s, AdminToken: testToken})
		if _, err := m.Seed(context.Background(), "http://127.0.0.1:9"); err != nil {
			t.Fatal(err)
		}
		fuzzE = &env{url: httptest.NewServer(m.Handler()).URL, store: s}
	})
	fuzzE.t = t
	return fuzzE
}

func newEnv(t *testing.T, dsn string) *env {
	t.Helper()
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	m := mgmt.New(mgmt.Config{Store: s, AdminToken: testToken, GatewayURL: "http://gw.example"})
	if _, err := m.Seed(context.Background(), "http://127.0.0.1:9/echo"); err != nil {
		t.Fatalf("seed: %v", err)
	}
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, url: srv.URL, store: s, handler: m.Handler()}
}

// resp is a decoded response.
type resp struct {
	status int
	header http.Header
	raw    []byte
	json   map[string]any
}

// get walks a dotted path ("errors.0.field") through the JSON body.
func (r resp) get(path string) any {
	var cur any = r.json
	for _, p := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			i := 0
			for _, ch := range p {
				i = i*10 + int(ch-'0')
			}
			if i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

func (r resp) str(path string) string {
	s, _ := r.get(path).(string)
	return s
}

func (r resp) num(path string) int {
	f, _ := r.get(path).(float64)
	return int(f)
}

// fields lists the field names of a problem's errors.
func (r resp) fields() []string {
	var out []string
	errs, _ := r.get("errors").([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m["field"].(string))
		}
	}
	return out
}

// do sends a request; body may be a string (sent as is) or a value (JSON).
// hdr holds header name/value pairs.
func (e *env) do(method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.json)
	return r
}

// must sends a request and fails the test unless the status is want.
func (e *env) must(want int, method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	r := e.do(method, path, body, hdr...)
	if r.status != want {
		e.t.Fatalf("%s %s = %d, want %d: %s", method, path, r.status, want, r.raw)
	}
	return r
}

func (e *env) revision() int64 {
	e.t.Helper()
	rev, err := e.store.Revision(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return rev
}

// call is one declarative step of a table test.
type call struct {
	name       string
	method     string
	path       string
	body       any
	hdr        []string
	wantStatus int
	wantField  string // a field the problem must name
	wantIn     string // a substring the body must hold
	wantNotIn  string // a substring the body must not hold
}

func (e *env) run(t *testing.T, calls []call) {
	outer := e.t
	defer func() { e.t = outer }()
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			before := e.revision()
			r := e.do(c.method, c.path, c.body, c.hdr...)
			if r.status != c.wantStatus {
				t.Fatalf("%s %s = %d, want %d: %s", c.method, c.path, r.status, c.wantStatus, r.raw)
			}
			if c.wantField != "" {
				found := false
				for _, f := range r.fields() {
					found = found || f == c.wantField
				}
				if !found || r.header.Get("Content-Type") != "application/problem+json" {
					t.Fatalf("problem does not name field %q: %s", c.wantField, r.raw)
				}
			}
			if c.wantIn != "" && !strings.Contains(string(r.raw), c.wantIn) {
				t.Fatalf("body lacks %q: %s", c.wantIn, r.raw)
			}
			if c.wantNotIn != "" && strings.Contains(string(r.raw), c.wantNotIn) {
				t.Fatalf("body holds %q: %s", c.wantNotIn, r.raw)
			}
			if r.status >= 400 && e.revision() != before {
				t.Fatalf("a refused request changed the store (revision %d -> %d)", before, e.revision())
			}
		})
	}
}
