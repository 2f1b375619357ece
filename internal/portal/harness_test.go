package portal_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/console"
	"github.com/portico-gw/portico/internal/echo"
	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/mgmt"
	"github.com/portico-gw/portico/internal/mgmt/mgmtclient"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/portal"
	"github.com/portico-gw/portico/internal/portal/web"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/snapshot/fromstore"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/telemetry"
	"github.com/portico-gw/portico/internal/testenv"
)

const adminToken = "portal-test-admin-token-0123456789"

// stack is a whole Portico instance in one test process: a SQLite store,
// the management API with the admin console, a built-in gateway fed from
// the store, the echo backend and the developer portal, each on its own
// loopback HTTP server.
type stack struct {
	t          *testing.T
	store      store.Store
	api        *mgmtclient.Client
	mailer     *web.Mailer
	portalURL  string
	mgmtURL    string
	gatewayURL string
}

func newStack(t *testing.T) *stack {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(ctx, testenv.SQLite(t))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	echoSrv := httptest.NewServer(echo.Handler())
	t.Cleanup(echoSrv.Close)

	// Request records go from the gateway to the store, as in serve, so
	// that the reports API (usage charts) sees the calls.
	queue, err := telemetry.NewQueue(telemetry.QueueConfig{GatewayID: model.ManagedGatewayID, InstanceID: "portal-test",
		FlushInterval: 100 * time.Millisecond, Logger: log,
		Shipper: telemetry.ShipperFunc(func(ctx context.Context, b *telemetry.Batch) error {
			_, err := st.IngestBatch(ctx, b)
			return err
		})})
	if err != nil {
		t.Fatal(err)
	}
	go queue.Run(ctx)
	gw, err := gateway.New(gateway.Config{Logger: log, Telemetry: queue, InstanceID: "portal-test"})
	if err != nil {
		t.Fatal(err)
	}
	reloader := gateway.NewReloader(gw, func(ctx context.Context, have int64) (*snapshot.Config, error) {
		return fromstore.Load(ctx, st, model.ManagedGatewayID)
	}, time.Minute)
	gwSrv := httptest.NewServer(gw)
	t.Cleanup(gwSrv.Close)

	m := mgmt.New(mgmt.Config{Store: st, AdminToken: adminToken, Logger: log, OnCommit: reloader.Notify,
		GatewayURL: gwSrv.URL})
	if _, err := m.Seed(ctx, echoSrv.URL); err != nil {
		t.Fatal(err)
	}
	go reloader.Run(ctx)

	mailer := &web.Mailer{Log: log}
	p := portal.New(portal.Config{Mgmt: m.Handler(), AdminToken: adminToken, Store: st, GatewayURL: gwSrv.URL, Mailer: mailer, Logger: log})
	portalSrv := httptest.NewServer(p.Handler())
	t.Cleanup(portalSrv.Close)

	rev, _ := st.Revision(ctx)
	syncSrv := gwsync.NewServer(st, gwsync.NewWatcher(rev), log)
	t.Cleanup(syncSrv.Close)
	c := console.New(console.Config{Mgmt: m.Handler(), AdminToken: adminToken, Store: st, Mailer: mailer, Logger: log, PortalURL: portalSrv.URL})
	mux := http.NewServeMux()
	mux.Handle("/gateway/v1/", syncSrv)
	mux.Handle("/api/", m.Handler())
	mux.Handle("/", c.Handler())
	mgmtSrv := httptest.NewServer(mux)
	t.Cleanup(mgmtSrv.Close)

	s := &stack{t: t, store: st, api: mgmtclient.New(m.Handler(), adminToken), mailer: mailer,
		portalURL: portalSrv.URL, mgmtURL: mgmtSrv.URL, gatewayURL: gwSrv.URL}
	s.waitGateway()
	return s
}

// waitGateway polls until the gateway serves a snapshot.
func (s *stack) waitGateway() {
	s.t.Helper()
	testenv.Eventually(s.t, "the gateway to load a snapshot", func() bool {
		res, err := http.Get(s.gatewayURL + "/echo/resource")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode != http.StatusServiceUnavailable
	})
}

// lastMail returns the newest message to addr.
func (s *stack) lastMail(to string) web.Message {
	s.t.Helper()
	for _, m := range s.mailer.Outbox() {
		if m.To == to {
			return m
		}
	}
	s.t.Fatalf("no message to %s in the outbox", to)
	return web.Message{}
}

var linkRE = regexp.MustCompile(`https?://\S+`)

// link returns the first URL in the newest message to addr.
func (s *stack) link(to string) string {
	s.t.Helper()
	m := s.lastMail(to)
	l := linkRE.FindString(m.Body)
	if l == "" {
		s.t.Fatalf("no link in %q", m.Body)
	}
	return l
}

// browser is an HTTP client with its own cookie jar, like one browser.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (s *stack) browser(base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: s.t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

type page struct {
	status int
	body   string
	url    string
	header http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, body: string(body), url: res.Request.URL.String(), header: res.Header}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.abs(path), nil)
	return b.do(req)
}

func (b *browser) abs(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return b.base + path
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the form token from the page at path.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	p := b.get(path)
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("no csrf token on %s (status %d)", path, p.status)
	}
	return m[1]
}

// post submits a form; with a non-empty token it is added as the csrf field.
func (b *browser) post(path, token string, form url.Values) page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if token != "" {
		form.Set("csrf", token)
	}
	req, _ := http.NewRequest(http.MethodPost, b.abs(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// submit posts a form with the token read from the page at from.
func (b *browser) submit(from, path string, form url.Values) page {
	b.t.Helper()
	return b.post(path, b.csrf(from), form)
}

// signUp creates and confirms a developer through the portal.
func (s *stack) signUp(b *browser, email, password string) {
	s.t.Helper()
	p := b.submit("/signup", "/signup", url.Values{"email": {email}, "firstName": {"Dev"}, "lastName": {"Eloper"}, "password": {password}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "Check your e-mail") {
		s.t.Fatalf("sign up: %d %s", p.status, p.body)
	}
	if p := b.get(s.link(email)); !strings.Contains(p.body, "confirmed") {
		s.t.Fatalf("confirm: %d %s", p.status, p.body)
	}
}

func (s *stack) signIn(b *browser, email, password string) page {
	s.t.Helper()
	return b.submit("/signin", "/signin", url.Values{"email": {email}, "password": {password}})
}

var subIDRE = regexp.MustCompile(`<section class="sub" id="(sub-[0-9a-f]+)"`)
