package portal_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func checkSecurityHeaders(t *testing.T, p page) {
	t.Helper()
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", p.url, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s: CSP allows unsafe-inline: %q", p.url, csp)
	}
	if p.header.Get("X-Content-Type-Options") != "nosniff" || p.header.Get("Referrer-Policy") == "" {
		t.Errorf("%s: missing nosniff or Referrer-Policy: %v", p.url, p.header)
	}
}

func TestPortalPagesRender(t *testing.T) {
	s := newStack(t)
	b := s.browser(s.portalURL)
	tests := []struct {
		name, path, want string
		status           int
	}{
		{"home", "/", "Build with our APIs", 200},
		{"catalogue", "/apis", "Echo API", 200},
		{"search hit", "/apis?q=echo", "1 of 1 APIs", 200},
		{"search miss", "/apis?q=nothing-like-this", "0 of 1 APIs", 200},
		{"reference", "/apis/echo-api", "retrieve-resource", 200},
		{"operation", "/apis/echo-api/operations/retrieve-resource", "param1", 200},
		{"curl sample", "/apis/echo-api/operations/retrieve-resource", "curl -X GET", 200},
		{"definition", "/apis/echo-api/definition", `"openapi"`, 200},
		{"products", "/products", "5 calls per minute", 200},
		{"product", "/products/starter", "100 calls per week", 200},
		{"product approval", "/products/unlimited", "administrator&#39;s approval", 200},
		{"sign in", "/signin", `name="password"`, 200},
		{"sign up", "/signup", `autocomplete="new-password"`, 200},
		{"reset", "/reset", "Send me a link", 200},
		{"unknown API", "/apis/nope", "Page not found", 404},
		{"unknown page", "/nope", "Page not found", 404},
		{"profile needs sign-in", "/profile", "Sign in", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := b.get(tc.path)
			if p.status != tc.status || !strings.Contains(p.body, tc.want) {
				t.Fatalf("GET %s: %d, want %d with %q; body:\n%.2000s", tc.path, p.status, tc.status, tc.want, p.body)
			}
			checkSecurityHeaders(t, p)
			if len(p.body) > 100<<10 {
				t.Errorf("GET %s weighs %d bytes, over 100 KB", tc.path, len(p.body))
			}
			t.Logf("GET %s: %d bytes", tc.path, len(p.body))
		})
	}
}

// developer signs up, confirms, signs in and subscribes to Starter.
func (s *stack) developer(t *testing.T, email string) (*browser, string) {
	t.Helper()
	b := s.browser(s.portalURL)
	s.signUp(b, email, "correct horse battery")
	if p := s.signIn(b, email, "correct horse battery"); p.status != 200 || !strings.Contains(p.body, "Sign out") {
		t.Fatalf("sign in: %d %.1500s", p.status, p.body)
	}
	p := b.submit("/products/starter", "/products/starter/subscribe", url.Values{"name": {"My Starter"}, "terms": {"on"}})
	if p.status != 200 || !strings.Contains(p.body, "You are subscribed to Starter") {
		t.Fatalf("subscribe: %d %.3000s", p.status, p.body)
	}
	m := subIDRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no subscription on the profile page")
	}
	return b, m[1]
}

func (b *browser) postJSON(path, token string, form url.Values, out any) int {
	b.t.Helper()
	form.Set("csrf", token)
	req, _ := http.NewRequest(http.MethodPost, b.abs(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil && res.StatusCode == 200 {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			b.t.Fatalf("decode %s: %v", path, err)
		}
	}
	return res.StatusCode
}

func TestDeveloperJourneyHTTP(t *testing.T) {
	s := newStack(t)
	b, sub := s.developer(t, "dev@example.com")
	tok := b.csrf("/profile")
	var keys struct{ PrimaryKey, SecondaryKey string }
	if st := b.postJSON("/subscriptions/"+sub+"/secrets", tok, url.Values{}, &keys); st != 200 || len(keys.PrimaryKey) != 32 {
		t.Fatalf("secrets: %d %+v", st, keys)
	}
	var res struct {
		Status int
		Body   string
		Error  string
	}
	if st := b.postJSON("/apis/echo-api/operations/retrieve-resource/try", tok, url.Values{"subscription": {sub}, "p.query.param1": {"hello"}}, &res); st != 200 || res.Status != 200 {
		t.Fatalf("try: %d %+v", st, res)
	}
	if !strings.Contains(res.Body, "hello") || strings.Contains(res.Body, keys.PrimaryKey) {
		t.Fatalf("try body should echo the parameter and never the key: %s", res.Body)
	}
	// The plain form post (no script) renders the result in the page.
	p := b.post("/apis/echo-api/operations/retrieve-resource/try", tok, url.Values{"subscription": {sub}, "p.query.param1": {"x"}})
	if p.status != 200 || !strings.Contains(p.body, `id="result-status">200 OK`) {
		t.Fatalf("try (form): %d %.3000s", p.status, p.body)
	}
	// subscriptionsLimit 1: a second Starter subscription is refused.
	p = b.submit("/products/starter", "/products/starter/subscribe", url.Values{"name": {"Again"}, "terms": {"on"}})
	if !strings.Contains(p.body, "the most this product allows") {
		t.Fatalf("second subscription: %.3000s", p.body)
	}
	// approvalRequired: Unlimited starts submitted and its key does not work.
	p = b.submit("/products/unlimited", "/products/unlimited/subscribe", url.Values{"name": {"Big"}})
	if !strings.Contains(p.body, "was submitted") || !strings.Contains(p.body, "Submitted: waiting for approval") {
		t.Fatalf("unlimited: %.3000s", p.body)
	}
	// Rename, regenerate, cancel.
	p = b.post("/subscriptions/"+sub+"/rename", tok, url.Values{"name": {"Renamed"}})
	if !strings.Contains(p.body, "Renamed") {
		t.Fatalf("rename: %.2000s", p.body)
	}
	b.post("/subscriptions/"+sub+"/regenerate", tok, url.Values{"key": {"primary"}})
	var keys2 struct{ PrimaryKey, SecondaryKey string }
	b.postJSON("/subscriptions/"+sub+"/secrets", tok, url.Values{}, &keys2)
	if keys2.PrimaryKey == keys.PrimaryKey || keys2.SecondaryKey != keys.SecondaryKey {
		t.Fatalf("regenerate primary: before %+v after %+v", keys, keys2)
	}
	p = b.post("/subscriptions/"+sub+"/cancel", tok, nil)
	if !strings.Contains(p.body, "cancelled") {
		t.Fatalf("cancel: %.2000s", p.body)
	}
	// Usage page renders (the reports API may not exist yet).
	if p := b.get("/subscriptions/" + sub + "/usage"); p.status != 200 || !(strings.Contains(p.body, "No data yet") || strings.Contains(p.body, "chart-calls")) {
		t.Fatalf("usage: %d %.2000s", p.status, p.body)
	}
	// Profile edit and sign out.
	p = b.post("/profile", tok, url.Values{"firstName": {"Ada"}, "lastName": {"Lovelace"}})
	if !strings.Contains(p.body, "Ada") {
		t.Fatalf("profile: %.2000s", p.body)
	}
	b.post("/signout", tok, nil)
	if p := b.get("/profile"); !strings.Contains(p.url, "/signin") {
		t.Fatalf("after sign-out /profile should redirect to sign-in, got %s", p.url)
	}
}

func TestPasswordResetAndClose(t *testing.T) {
	s := newStack(t)
	b := s.browser(s.portalURL)
	s.signUp(b, "reset@example.com", "first password")
	p := b.submit("/reset", "/reset", url.Values{"email": {"reset@example.com"}})
	if !strings.Contains(p.body, "Check your e-mail") {
		t.Fatalf("reset: %.2000s", p.body)
	}
	link := s.link("reset@example.com")
	u, _ := url.Parse(link)
	p = b.submit(u.RequestURI(), "/reset/confirm", url.Values{"token": {u.Query().Get("token")}, "password": {"second password"}})
	if !strings.Contains(p.body, "password was changed") {
		t.Fatalf("reset confirm: %.2000s", p.body)
	}
	if p := b.get(u.RequestURI()); p.status != 400 {
		t.Fatalf("a used reset link must not work again: %d", p.status)
	}
	if p := s.signIn(b, "reset@example.com", "first password"); p.status != 401 {
		t.Fatalf("old password: %d", p.status)
	}
	if p := s.signIn(b, "reset@example.com", "second password"); !strings.Contains(p.body, "Sign out") {
		t.Fatalf("new password: %d", p.status)
	}
	p = b.submit("/profile", "/profile/close", url.Values{"password": {"second password"}})
	if !strings.Contains(p.body, "Your account is closed") {
		t.Fatalf("close: %.2000s", p.body)
	}
	if p := s.signIn(b, "reset@example.com", "second password"); p.status != 401 {
		t.Fatalf("a closed account must not sign in: %d", p.status)
	}
}

func TestCSRFRefusal(t *testing.T) {
	s := newStack(t)
	b, sub := s.developer(t, "csrf@example.com")
	other := s.browser(s.portalURL)
	otherToken := other.csrf("/signin")
	tests := []struct {
		name, path, token string
	}{
		{"subscribe without token", "/products/starter/subscribe", ""},
		{"secrets with a forged token", "/subscriptions/" + sub + "/secrets", "forged"},
		{"cancel with another browser's token", "/subscriptions/" + sub + "/cancel", otherToken},
		{"sign out without token", "/signout", ""},
		{"close account without token", "/profile/close", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if p := b.post(tc.path, tc.token, url.Values{"password": {"correct horse battery"}}); p.status != http.StatusForbidden {
				t.Fatalf("POST %s: %d, want 403", tc.path, p.status)
			}
		})
	}
	// An anonymous form needs its own cookie-bound token too.
	if p := s.browser(s.portalURL).post("/signin", otherToken, url.Values{"email": {"csrf@example.com"}, "password": {"correct horse battery"}}); p.status != http.StatusForbidden {
		t.Fatalf("sign-in with a token bound to another browser: %d, want 403", p.status)
	}
	// A cross-site POST is refused by origin as well.
	req, _ := http.NewRequest(http.MethodPost, s.portalURL+"/signout", strings.NewReader("csrf="+b.csrf("/profile")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.do(req); p.status != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d, want 403", p.status)
	}
}

func TestSessionFixation(t *testing.T) {
	s := newStack(t)
	b := s.browser(s.portalURL)
	s.signUp(b, "fix@example.com", "correct horse battery")
	planted := strings.Repeat("ab", 32)
	u, _ := url.Parse(s.portalURL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "portico_portal", Value: planted, Path: "/"}})
	if p := s.signIn(b, "fix@example.com", "correct horse battery"); !strings.Contains(p.body, "Sign out") {
		t.Fatalf("sign in: %d", p.status)
	}
	var got string
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "portico_portal" {
			got = c.Value
		}
	}
	if got == "" || got == planted {
		t.Fatalf("the session id after sign-in is %q: it must be new, not the planted one", got)
	}
	attacker := s.browser(s.portalURL)
	attacker.c.Jar.SetCookies(u, []*http.Cookie{{Name: "portico_portal", Value: planted, Path: "/"}})
	if p := attacker.get("/profile"); !strings.Contains(p.url, "/signin") {
		t.Fatalf("the planted id must not be signed in; /profile gave %s", p.url)
	}
	// The cookie is HttpOnly and SameSite.
	res, _ := http.PostForm(s.portalURL+"/signin", nil)
	res.Body.Close()
	b2 := s.browser(s.portalURL)
	tok := b2.csrf("/signin")
	req, _ := http.NewRequest(http.MethodPost, s.portalURL+"/signin", strings.NewReader(url.Values{"csrf": {tok}, "email": {"fix@example.com"}, "password": {"correct horse battery"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range b2.c.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var sc *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "portico_portal" {
			sc = c
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie must be HttpOnly and SameSite: %+v", sc)
	}
}

func TestSignInThrottle(t *testing.T) {
	s := newStack(t)
	b := s.browser(s.portalURL)
	s.signUp(b, "victim@example.com", "correct horse battery")
	s.signUp(b, "bystander@example.com", "correct horse battery")
	t.Run("per account", func(t *testing.T) {
		for i := 0; i < 5; i++ {
			if p := s.signIn(b, "victim@example.com", "wrong password"); p.status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d", i, p.status)
			}
		}
		p := s.signIn(b, "victim@example.com", "correct horse battery")
		if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "Too many attempts") {
			t.Fatalf("6th attempt, right password: %d, want 429", p.status)
		}
		// Unknown accounts are throttled the same way (no enumeration).
		for i := 0; i < 5; i++ {
			s.signIn(b, "nobody@example.com", "x")
		}
		if p := s.signIn(b, "nobody@example.com", "x"); p.status != http.StatusTooManyRequests {
			t.Fatalf("unknown account: %d, want 429", p.status)
		}
	})
	t.Run("per IP", func(t *testing.T) {
		for i := 0; i < 20; i++ {
			s.signIn(b, "spray"+string(rune('a'+i))+"@example.com", "guess")
		}
		if p := s.signIn(b, "bystander@example.com", "correct horse battery"); p.status != http.StatusTooManyRequests {
			t.Fatalf("after 20 failures from one IP: %d, want 429", p.status)
		}
	})
}

func TestNoUserEnumeration(t *testing.T) {
	s := newStack(t)
	b := s.browser(s.portalURL)
	s.signUp(b, "known@example.com", "correct horse battery")
	tests := []struct {
		name, path string
		form       url.Values
		other      url.Values
	}{
		{"sign in: wrong password vs unknown account", "/signin",
			url.Values{"email": {"known@example.com"}, "password": {"wrong password"}},
			url.Values{"email": {"unknown@example.com"}, "password": {"wrong password"}}},
		{"sign up: taken vs free address", "/signup",
			url.Values{"email": {"known@example.com"}, "firstName": {"A"}, "lastName": {"B"}, "password": {"long enough"}},
			url.Values{"email": {"free@example.com"}, "firstName": {"A"}, "lastName": {"B"}, "password": {"long enough"}}},
		{"reset: known vs unknown", "/reset",
			url.Values{"email": {"known@example.com"}}, url.Values{"email": {"unknown@example.com"}}},
	}
	norm := func(body string) string {
		body = csrfRE.ReplaceAllString(body, "")
		for _, e := range []string{"unknown@example.com", "known@example.com", "free@example.com"} {
			body = strings.ReplaceAll(body, e, "EMAIL")
		}
		return body
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := s.browser(s.portalURL)
			p1 := x.submit(tc.path, tc.path, tc.form)
			p2 := x.submit(tc.path, tc.path, tc.other)
			if p1.status != p2.status || norm(p1.body) != norm(p2.body) {
				t.Fatalf("the answers differ: %d vs %d\n%.1500s\n----\n%.1500s", p1.status, p2.status, p1.body, p2.body)
			}
		})
	}
}

func TestGroupVisibility(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	must := func(method, path string, body any) {
		t.Helper()
		if err := s.api.Call(ctx, method, path, body, nil); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	must("PUT", "/api/v1/apis/partner-api", map[string]any{"displayName": "Partner API", "path": "partner", "serviceUrl": "http://127.0.0.1:9"})
	must("PUT", "/api/v1/groups/partners", map[string]any{"displayName": "Partners"})
	must("PUT", "/api/v1/products/partners", map[string]any{"displayName": "Partner program", "state": "published"})
	must("PUT", "/api/v1/products/partners/apis/partner-api", nil)
	must("PUT", "/api/v1/products/partners/groups/partners", nil)
	must("PUT", "/api/v1/apis/hidden-api", map[string]any{"displayName": "Draft API", "path": "draft", "serviceUrl": "http://127.0.0.1:9"})
	must("PUT", "/api/v1/products/drafts", map[string]any{"displayName": "Drafts", "state": "notPublished"})
	must("PUT", "/api/v1/products/drafts/apis/hidden-api", nil)
	must("PUT", "/api/v1/products/drafts/groups/developers", nil)

	guest := s.browser(s.portalURL)
	dev, _ := s.developer(t, "member@example.com")
	outsider, _ := s.developer(t, "outsider@example.com")
	var member struct {
		Value []struct{ Name string } `json:"value"`
	}
	if err := s.api.Get(ctx, "/api/v1/users?filter="+url.QueryEscape("email eq 'member@example.com'"), &member); err != nil || len(member.Value) != 1 {
		t.Fatalf("find member: %v", err)
	}
	must("PUT", "/api/v1/groups/partners/users/"+member.Value[0].Name, nil)

	tests := []struct {
		name    string
		b       *browser
		visible bool
	}{
		{"guest", guest, false},
		{"developer outside the group", outsider, false},
		{"developer in the group", dev, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/products", "/apis", "/"} {
				p := tc.b.get(path)
				if got := strings.Contains(p.body, "Partner"); got != tc.visible {
					t.Errorf("%s shows the partner product or API: %v, want %v", path, got, tc.visible)
				}
				if strings.Contains(p.body, "Draft") {
					t.Errorf("%s shows an unpublished product's API", path)
				}
			}
			want := http.StatusNotFound
			if tc.visible {
				want = http.StatusOK
			}
			for _, path := range []string{"/products/partners", "/apis/partner-api", "/apis/partner-api/definition"} {
				if p := tc.b.get(path); p.status != want {
					t.Errorf("GET %s: %d, want %d", path, p.status, want)
				}
			}
			if p := tc.b.get("/apis/hidden-api"); p.status != http.StatusNotFound {
				t.Errorf("unpublished product's API: %d, want 404", p.status)
			}
		})
	}
}

func TestNoKeyLeaksBetweenUsers(t *testing.T) {
	s := newStack(t)
	alice, aliceSub := s.developer(t, "alice@example.com")
	bob, bobSub := s.developer(t, "bob@example.com")
	var aliceKeys struct{ PrimaryKey, SecondaryKey string }
	if st := alice.postJSON("/subscriptions/"+aliceSub+"/secrets", alice.csrf("/profile"), url.Values{}, &aliceKeys); st != 200 {
		t.Fatalf("alice's own keys: %d", st)
	}
	bobToken := bob.csrf("/profile")
	tests := []struct {
		name, method, path string
	}{
		{"secrets", "POST", "/subscriptions/" + aliceSub + "/secrets"},
		{"regenerate", "POST", "/subscriptions/" + aliceSub + "/regenerate"},
		{"rename", "POST", "/subscriptions/" + aliceSub + "/rename"},
		{"cancel", "POST", "/subscriptions/" + aliceSub + "/cancel"},
		{"usage", "GET", "/subscriptions/" + aliceSub + "/usage"},
		{"try with alice's subscription", "POST", "/apis/echo-api/operations/retrieve-resource/try"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p page
			if tc.method == "GET" {
				p = bob.get(tc.path)
			} else {
				p = bob.post(tc.path, bobToken, url.Values{"subscription": {aliceSub}, "name": {"pwned"}, "key": {"primary"}, "p.query.param1": {"x"}})
			}
			if strings.Contains(p.body, aliceKeys.PrimaryKey) || strings.Contains(p.body, aliceKeys.SecondaryKey) {
				t.Fatalf("%s %s leaked alice's key", tc.method, tc.path)
			}
			if tc.name != "try with alice's subscription" && p.status != http.StatusNotFound {
				t.Fatalf("%s %s: %d, want 404", tc.method, tc.path, p.status)
			}
		})
	}
	var after struct{ PrimaryKey, SecondaryKey string }
	alice.postJSON("/subscriptions/"+aliceSub+"/secrets", alice.csrf("/profile"), url.Values{}, &after)
	if after != aliceKeys {
		t.Fatalf("bob changed alice's keys")
	}
	var st struct{ State, DisplayName string }
	_ = s.api.Get(context.Background(), "/api/v1/subscriptions/"+aliceSub, &st)
	if st.State != "active" || st.DisplayName == "pwned" {
		t.Fatalf("bob changed alice's subscription: %+v", st)
	}
	// No page bob can open shows alice's keys, and bob's keys are his own.
	for _, path := range []string{"/", "/apis", "/products", "/profile", "/apis/echo-api/operations/retrieve-resource", "/subscriptions/" + bobSub + "/usage"} {
		p := bob.get(path)
		if strings.Contains(p.body, aliceKeys.PrimaryKey) || strings.Contains(p.body, aliceKeys.SecondaryKey) || strings.Contains(p.body, aliceSub) {
			t.Errorf("%s shows alice's subscription or keys to bob", path)
		}
	}
	// Pages never carry keys until their owner asks for them.
	if p := alice.get("/profile"); strings.Contains(p.body, aliceKeys.PrimaryKey) {
		t.Errorf("the profile page shows keys before they are asked for")
	}
}
