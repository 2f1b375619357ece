package portal_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portico-gw/portico/internal/testenv"
)

// chromium finds Debian's chromium (or another Chrome) for browser tests.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PORTICO_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Unavailable(t, "Chromium is not installed (apt-get install chromium, or set PORTICO_TEST_CHROMIUM)")
	return ""
}

// artifactsDir is where screenshots go: $PORTICO_TEST_ARTIFACTS (docs use
// docs/images/portal), else a directory kept after the test and logged.
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("PORTICO_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "portico-browser-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

type tab struct {
	t   *testing.T
	ctx context.Context
	dir string
}

func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.shot("failure-" + strings.ReplaceAll(what, " ", "-"))
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		html, _ := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("main")))
		b.t.Fatalf("%s: %v (at %s)\n%.3000s", what, err, loc, html)
	}
}

// waitText waits until the element matching css contains text. It
// re-evaluates across navigations (a click that submits a form replaces the
// document under a running poll).
func (b *tab) waitText(css, text string) chromedp.Action[chromedp.Void] {
	return b.waitJS(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, css, text))
}

// waitJS waits until the expression is true in the current document.
func (b *tab) waitJS(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(15 * time.Second)
		var last error
		for time.Now().Before(deadline) {
			ok, err := chromedp.Evaluate[bool](expr)(ctx, t)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			last = err
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
		return chromedp.Void{}, fmt.Errorf("timed out waiting for %s (last error: %v)", expr, last)
	}
}

func (b *tab) text(css string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.CSS(css)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", css, err)
	}
	return s
}

// shot saves a PNG of the whole page. The viewport is stretched to the
// page's height first: a capture beyond the viewport leaves the text of
// scrolling elements (textareas) unpainted.
func (b *tab) shot(name string) {
	h, err := chromedp.Run(b.ctx, chromedp.Evaluate[int64](`Math.min(Math.ceil(document.documentElement.scrollHeight), 6000)`))
	if err != nil || h < 900 {
		h = 900
	}
	var png []byte
	if err = chromedp.Do(b.ctx, chromedp.EmulateViewport(1280, h)); err == nil {
		png, err = chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	}
	_ = chromedp.Do(b.ctx, chromedp.EmulateViewport(1280, 900))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

const petstoreDoc = `openapi: 3.0.3
info: {title: Petstore, version: '1.0', description: Pets to adopt.}
paths:
  /pets/{petId}:
    get:
      operationId: getPet
      summary: Find a pet
      tags: [pets]
      parameters:
        - {name: petId, in: path, required: true, schema: {type: integer}}
      responses:
        '200':
          description: The pet
          content:
            application/json:
              schema:
                type: object
                required: [id, name]
                properties:
                  id: {type: integer, description: The pet's id}
                  name: {type: string}
                  tags: {type: array, items: {type: string}}
`

// TestBrowserJourney drives headless Chromium through the developer's and
// the administrator's main journeys, taking a screenshot of each page.
func TestBrowserJourney(t *testing.T) {
	path := chromium(t)
	s := newStack(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		testenv.Unavailable(t, "Chromium at %s does not start: %v", path, err)
	}
	b := &tab{t: t, ctx: ctx, dir: artifactsDir(t)}
	start := time.Now()
	P, C := s.portalURL, s.mgmtURL
	const email, password = "new.dev@example.com", "a long pass phrase"

	// A new developer signs up and confirms the address.
	b.do("sign up",
		chromedp.Navigate(P+"/signup"),
		chromedp.SetValue(chromedp.ID("email"), email), chromedp.SetValue(chromedp.ID("firstName"), "Grace"),
		chromedp.SetValue(chromedp.ID("lastName"), "Hopper"), chromedp.SetValue(chromedp.ID("password"), password))
	b.shot("portal-signup")
	b.do("send sign-up", chromedp.Click(chromedp.ID("signup")), b.waitText("main h1", "Check your e-mail"))
	b.do("confirm", chromedp.Navigate(s.link(email)), b.waitText("main h1", "confirmed"))
	b.do("sign in",
		chromedp.Navigate(P+"/signin"),
		chromedp.SetValue(chromedp.ID("email"), email), chromedp.SetValue(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("signin")), b.waitText("main h1", "APIs"), b.waitText("header", "Sign out"))
	b.shot("portal-catalogue")
	b.do("home", chromedp.Navigate(P+"/"), b.waitText("main", "Echo API"))
	b.shot("portal-home")

	// Browses the Echo API reference.
	b.do("API reference", chromedp.Navigate(P+"/apis/echo-api"), b.waitText("main h1", "Echo API"),
		chromedp.Click(chromedp.CSS(`a[href="/apis/echo-api/operations/retrieve-resource"]`)),
		b.waitText("main h1", "Retrieve resource"), b.waitText("main", "param1"), b.waitText("#curl", "curl -X GET"))
	b.shot("portal-api-reference")

	// Subscribes to Starter and reveals the key.
	b.do("product", chromedp.Navigate(P+"/products/starter"), b.waitText("main", "5 calls per minute"))
	b.shot("portal-product")
	b.do("subscribe", chromedp.Click(chromedp.ID("terms")), chromedp.Click(chromedp.ID("subscribe")),
		b.waitText(".flash", "You are subscribed to Starter"))
	sub, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("section.sub").id`))
	if err != nil || !strings.HasPrefix(sub, "sub-") {
		t.Fatalf("subscription id on the profile: %q %v", sub, err)
	}
	if k := b.text("#" + sub + "-primary"); strings.Trim(k, "•") != "" {
		t.Fatalf("the key is shown before it is asked for: %q", k)
	}
	b.do("reveal key", chromedp.Click(chromedp.ID("show-"+sub)),
		b.waitJS(fmt.Sprintf(`/^[0-9a-f]{32}$/.test(document.getElementById(%q).textContent)`, sub+"-primary")))
	key := b.text("#" + sub + "-primary")
	b.shot("portal-profile-keys")

	// Calls an operation from the try-it console and sees the 200.
	b.do("try it", chromedp.Navigate(P+"/apis/echo-api/operations/retrieve-resource"),
		chromedp.SetValue(chromedp.ID("f-query-param1"), "from-the-browser"),
		chromedp.Click(chromedp.ID("send")), b.waitText("#result-status", "200"), b.waitText("#result-body", "from-the-browser"))
	if strings.Contains(b.text("#result"), key) {
		t.Fatalf("the try-it result shows the key")
	}
	b.do("key in sample", chromedp.Click(chromedp.ID("use-key")), b.waitText("#curl-key", key))
	b.shot("portal-try-it")

	// Sees the call in the usage chart (when the reports API exists).
	b.do("usage", chromedp.Navigate(P+"/subscriptions/"+sub+"/usage"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if avail, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.getElementById("usage-empty")`)); avail {
		deadline := time.Now().Add(15 * time.Second)
		for !strings.Contains(b.text("#usage-total"), "calls") || strings.HasPrefix(strings.TrimSpace(b.text("#usage-total")), "0 calls") {
			if time.Now().After(deadline) {
				t.Fatalf("the try-it call did not appear in the usage chart: %s", b.text("#usage-total"))
			}
			time.Sleep(500 * time.Millisecond)
			b.do("reload usage", chromedp.Reload())
		}
		b.do("usage chart", chromedp.WaitVisible(chromedp.CSS("#chart-calls svg rect")))
	} else {
		t.Log("the reports API is not available: the usage page shows 'no data yet'")
	}
	b.shot("portal-usage")

	// An admin signs in to the console with the token.
	b.do("console sign in", chromedp.Navigate(C+"/"), b.waitText("main h1", "Sign in"),
		chromedp.SetValue(chromedp.ID("token"), adminToken), chromedp.Click(chromedp.ID("signin")), b.waitText("main h1", "Dashboard"))
	b.shot("console-dashboard")

	// Imports an OpenAPI document.
	b.do("import", chromedp.Navigate(C+"/apis"),
		chromedp.SetValue(chromedp.ID("imp-id"), "petstore"), chromedp.SetValue(chromedp.ID("imp-path"), "petstore"),
		chromedp.SetValue(chromedp.ID("imp-svc"), "http://127.0.0.1:9/v1"),
		chromedp.SetValue(chromedp.ID("imp-value"), petstoreDoc))
	b.shot("console-import")
	b.do("send import", chromedp.Click(chromedp.ID("import-btn")), b.waitText(".flash", "Imported 1 operation"), b.waitText("main", "Find a pet"))
	b.shot("console-api")

	// A policy with a mistake is refused at its line.
	b.do("policy error", chromedp.Navigate(C+"/policy?scope=apis/petstore"),
		chromedp.SetValue(chromedp.ID("value"), "<policies>\n  <inbound>\n    <base />\n    <rate-limit calls=\"x\" renewal-period=\"60\" />\n  </inbound>\n</policies>"),
		chromedp.Click(chromedp.ID("save-policy")), b.waitText("#policy-errors", "Line 4"))
	b.shot("console-policy-error")

	// Publishes a product with approval that holds the API.
	b.do("create product", chromedp.Navigate(C+"/products"),
		chromedp.SetValue(chromedp.ID("p-id"), "pets"), chromedp.SetValue(chromedp.ID("p-name"), "Pets"),
		chromedp.Click(chromedp.ID("p-appr")), chromedp.Click(chromedp.ID("create-product")), b.waitText("main h1", "Pets"),
		chromedp.SetValue(chromedp.ID("add-api"), "petstore"), chromedp.Click(chromedp.ID("add-api-btn")), b.waitText(".flash", "API petstore added"),
		chromedp.SetValue(chromedp.ID("add-group"), "developers"), chromedp.Click(chromedp.ID("add-group-btn")), b.waitText(".flash", "Group developers added"),
		chromedp.SetValue(chromedp.ID("p-state"), "published"), chromedp.Click(chromedp.ID("save-product")), b.waitText("#product-state", "published"))
	b.shot("console-product")

	// The developer subscribes; the subscription waits for approval.
	b.do("subscribe to Pets", chromedp.Navigate(P+"/products/pets"), b.waitText("main", "administrator's approval"),
		chromedp.Click(chromedp.ID("subscribe")), b.waitText(".flash", "was submitted"))
	pending, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("section.sub").id`))

	// The admin approves it.
	b.do("approve", chromedp.Navigate(C+"/subscriptions?state=submitted"), b.waitText("#subs", pending))
	b.shot("console-subscriptions")
	b.do("approve click", chromedp.Click(chromedp.CSS("#sub-"+pending+" button")), b.waitText(".flash", "is now active"))
	var st struct{ State string }
	if err := s.api.Get(context.Background(), "/api/v1/subscriptions/"+pending, &st); err != nil || st.State != "active" {
		t.Fatalf("approved subscription: %+v %v", st, err)
	}
	b.do("developer sees it active", chromedp.Navigate(P+"/profile"), b.waitText("#"+pending, "Active"))

	// Registers a gateway, generates its token; an instance reports; the
	// admin sees the instance list.
	b.do("gateway", chromedp.Navigate(C+"/gateways"),
		chromedp.SetValue(chromedp.ID("gw-id"), "edge"), chromedp.SetValue(chromedp.ID("gw-name"), "Edge, Paris"),
		chromedp.Click(chromedp.ID("create-gateway")), b.waitText("main h1", "Gateway edge"),
		chromedp.SetValue(chromedp.ID("gw-api"), "petstore"), chromedp.Click(chromedp.ID("assign-api")), b.waitText(".flash", "updated"),
		chromedp.Click(chromedp.ID("gen-token")), chromedp.WaitVisible(chromedp.ID("gateway-token")))
	token := strings.TrimSpace(b.text("#gateway-token"))
	heartbeat(t, C, token)
	b.do("instances", chromedp.Navigate(C+"/gateways/edge"), b.waitText("#instances", "edge-node-1"), b.waitText("#instances", "connected"))
	b.shot("console-gateway")
	b.do("outbox", chromedp.Navigate(C+"/outbox"), b.waitText("main", "Confirm your account"))
	b.shot("console-outbox")
	t.Logf("browser journey took %s; screenshots in %s", time.Since(start).Round(time.Millisecond), b.dir)
}

// heartbeat reports one gateway instance as a self-hosted gateway would.
func heartbeat(t *testing.T, mgmtURL, token string) {
	t.Helper()
	body := `{"instanceId":"edge-node-1","hostname":"edge-1.example","version":"test","revision":1,"event":"start","syncState":"connected"}`
	req, _ := http.NewRequest(http.MethodPost, mgmtURL+"/gateway/v1/heartbeat", strings.NewReader(body))
	req.Header.Set("Authorization", token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("heartbeat: %d", res.StatusCode)
	}
}
