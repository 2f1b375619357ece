package web

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	now := time.Unix(1000, 0)
	th := NewThrottle(3, time.Minute)
	th.now = func() time.Time { return now }
	tests := []struct {
		name    string
		advance time.Duration
		fail    bool
		allowed bool
	}{
		{"fresh", 0, true, true},
		{"second failure", 0, true, true},
		{"third failure", 0, true, true},
		{"limit reached", 10 * time.Second, false, false},
		{"oldest failures aged out", time.Minute, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now = now.Add(tc.advance)
			ok, wait := th.Allow("k")
			if ok != tc.allowed {
				t.Fatalf("Allow = %v (wait %s), want %v", ok, wait, tc.allowed)
			}
			if !ok && (wait <= 0 || wait > time.Minute) {
				t.Fatalf("wait %s out of range", wait)
			}
			if tc.fail {
				th.Fail("k")
			}
		})
	}
	th.Reset("k")
	if ok, _ := th.Allow("k"); !ok {
		t.Fatal("Reset did not clear the key")
	}
}

func TestCSRF(t *testing.T) {
	c := NewCSRF("anon")
	s := NewSessions("sess")
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	anonTok := c.Token(rec, r, nil)
	cookie := rec.Result().Cookies()[0]
	sess := s.Start(httptest.NewRecorder(), r, "u1", "U")
	sessTok := c.Token(httptest.NewRecorder(), r, sess)
	tests := []struct {
		name   string
		token  string
		cookie *http.Cookie
		sess   *Session
		ok     bool
	}{
		{"anonymous token with its cookie", anonTok, cookie, nil, true},
		{"anonymous token without cookie", anonTok, nil, nil, false},
		{"anonymous token for a session", anonTok, cookie, sess, false},
		{"session token", sessTok, nil, sess, true},
		{"session token for another session", sessTok, nil, &Session{ID: "other"}, false},
		{"empty", "", cookie, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("csrf="+tc.token))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.cookie != nil {
				r.AddCookie(tc.cookie)
			}
			if got := c.Valid(r, tc.sess); got != tc.ok {
				t.Fatalf("Valid = %v, want %v", got, tc.ok)
			}
		})
	}
}

func TestChartSVG(t *testing.T) {
	at := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		chart Chart
		want  []string
	}{
		{"stacked counts", Chart{Title: "Calls <x>", Unit: "calls", Stack: true, Integer: true, Series: []string{"ok", "errors"},
			Points: []Point{{At: at, Values: []float64{1, 0}}, {At: at.Add(5 * time.Minute), Values: []float64{2, 1}}}},
			[]string{`aria-label="Calls &lt;x&gt;: ok 3, errors 1"`, `class="s1"`, `>4</text>`, "10:05"}},
		{"line with gap", Chart{Title: "ms", Series: []string{"avg"},
			Points: []Point{{At: at, Values: []float64{2}}, {At: at, Values: []float64{math.NaN()}}, {At: at, Values: []float64{3}}}},
			[]string{`<circle class="l0"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svg := string(tc.chart.SVG())
			for _, w := range tc.want {
				if !strings.Contains(svg, w) {
					t.Errorf("SVG lacks %q:\n%s", w, svg)
				}
			}
			if strings.Contains(svg, "NaN") || strings.Contains(svg, "style=") {
				t.Errorf("SVG has NaN or inline style:\n%s", svg)
			}
		})
	}
}

func TestISODuration(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    time.Duration
		want string
	}{{"minutes", 5 * time.Minute, "PT5M"}, {"hour", time.Hour, "PT1H"}, {"day", 24 * time.Hour, "P1D"}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := isoDuration(tc.d); got != tc.want {
				t.Fatalf("%s: %s, want %s", tc.d, got, tc.want)
			}
		})
	}
}
