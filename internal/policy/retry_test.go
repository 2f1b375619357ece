package policy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// seqBackend answers with statuses in turn (the last one repeats) and
// records the body of every call.
type seqBackend struct {
	statuses []int
	bodies   []string
}

func (f *seqBackend) Forward(c *Context, timeout time.Duration) error {
	r, _ := c.Request.Body.Reader()
	b, _ := io.ReadAll(r)
	f.bodies = append(f.bodies, string(b))
	st := f.statuses[min(len(f.bodies)-1, len(f.statuses)-1)]
	c.Response.StatusCode = st
	c.Response.Header = http.Header{}
	c.Response.Body.SetStream(io.NopCloser(strings.NewReader("attempt")), 7)
	return nil
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name       string
		retry      string
		statuses   []int
		wantCalls  int
		wantStatus int
	}{
		{name: "retries until the condition is false", retry: `<retry condition="@(context.Response.StatusCode >= 500)" count="5" interval="0">`,
			statuses: []int{500, 503, 200}, wantCalls: 3, wantStatus: 200},
		{name: "gives up after count retries", retry: `<retry condition="@(context.Response.StatusCode >= 500)" count="2" interval="0" first-fast-retry="true">`,
			statuses: []int{503}, wantCalls: 3, wantStatus: 503},
		{name: "no retry when the condition is false", retry: `<retry condition="@(context.Response.StatusCode >= 500)" count="3" interval="0">`,
			statuses: []int{404}, wantCalls: 1, wantStatus: 404},
		{name: "literal false condition", retry: `<retry condition="false" count="3" interval="0">`,
			statuses: []int{500}, wantCalls: 1, wantStatus: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustExprPipeline(t, `<policies><backend>`+tc.retry+`<forward-request/></retry></backend></policies>`)
			be := &seqBackend{statuses: tc.statuses}
			c := newCtx(httptest.NewRequest("POST", "/api/r", strings.NewReader("payload")), be, nil, time.Now())
			p.Run(c)
			if c.LastError != nil {
				t.Fatalf("LastError = %+v", c.LastError)
			}
			if len(be.bodies) != tc.wantCalls || c.Response.StatusCode != tc.wantStatus {
				t.Fatalf("calls = %d, status = %d; want %d, %d", len(be.bodies), c.Response.StatusCode, tc.wantCalls, tc.wantStatus)
			}
			for i, b := range be.bodies {
				if b != "payload" {
					t.Errorf("attempt %d sent body %q", i+1, b)
				}
			}
		})
	}
}

func TestRetryDelay(t *testing.T) {
	s := func(interval, max, delta int, fast bool) *retry {
		return &retry{interval: time.Duration(interval) * time.Second, maxInterval: time.Duration(max) * time.Second,
			delta: time.Duration(delta) * time.Second, hasMax: max > 0, hasDelta: delta > 0, firstFast: fast}
	}
	tests := []struct {
		name   string
		r      *retry
		n      int64
		lo, hi time.Duration
	}{
		{name: "fixed", r: s(2, 0, 0, false), n: 3, lo: 2 * time.Second, hi: 2 * time.Second},
		{name: "first fast", r: s(2, 0, 0, true), n: 1, lo: 0, hi: 0},
		{name: "first fast only first", r: s(2, 0, 0, true), n: 2, lo: 2 * time.Second, hi: 2 * time.Second},
		{name: "linear", r: s(1, 0, 3, false), n: 3, lo: 7 * time.Second, hi: 7 * time.Second},
		{name: "exponential first", r: s(1, 100, 2, false), n: 1, lo: time.Second, hi: time.Second},
		{name: "exponential third", r: s(1, 100, 2, false), n: 3, lo: 1*time.Second + 4800*time.Millisecond, hi: 1*time.Second + 7200*time.Millisecond},
		{name: "exponential capped", r: s(1, 10, 2, false), n: 20, lo: 10 * time.Second, hi: 10 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := tc.r.delay(tc.n); d < tc.lo || d > tc.hi {
				t.Fatalf("delay(%d) = %s, want %s…%s", tc.n, d, tc.lo, tc.hi)
			}
		})
	}
}

func TestWait(t *testing.T) {
	fast := echoServer(t)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })

	t.Run("all sets every variable", func(t *testing.T) {
		p := mustExprPipeline(t, `<policies><inbound><wait for="all">
			<send-request mode="new" response-variable-name="a"><set-url>`+fast.URL+`/a</set-url></send-request>
			<send-request mode="new" response-variable-name="b"><set-url>`+fast.URL+`/b</set-url></send-request>
			<choose><when condition="true"><set-variable name="c" value="chosen"/></when></choose>
			</wait>
			<set-header name="X-All" exists-action="override"><value>@(context.Variables["a"].Body.As<JObject>()["path"] + context.Variables["b"].Body.As<JObject>()["path"] + context.Variables["c"])</value></set-header>
			</inbound></policies>`)
		be := &fakeBackend{}
		c := newCtx(httptest.NewRequest("GET", "/api/r", nil), be, nil, time.Now())
		p.Run(c)
		if c.LastError != nil {
			t.Fatalf("LastError = %+v", c.LastError)
		}
		if got := be.header.Get("X-All"); got != "/a/bchosen" {
			t.Fatalf("X-All = %q", got)
		}
	})
	t.Run("any takes the first and cancels the others", func(t *testing.T) {
		p := mustExprPipeline(t, `<policies><inbound><wait for="any">
			<send-request mode="new" response-variable-name="slow"><set-url>`+slow.URL+`/</set-url></send-request>
			<send-request mode="new" response-variable-name="fast"><set-url>`+fast.URL+`/f</set-url></send-request>
			</wait>
			<set-header name="X-Any" exists-action="override"><value>@(context.Variables["fast"].Body.As<JObject>()["path"] + " " + context.Variables.ContainsKey("slow"))</value></set-header>
			</inbound></policies>`)
		be := &fakeBackend{}
		c := newCtx(httptest.NewRequest("GET", "/api/r", nil), be, nil, time.Now())
		p.Run(c)
		if c.LastError != nil {
			t.Fatalf("LastError = %+v", c.LastError)
		}
		if got := be.header.Get("X-Any"); got != "/f False" {
			t.Fatalf("X-Any = %q", got)
		}
		// Run returned while the slow server still holds its request (if it
		// got it at all): the slow call was cancelled.
	})
	t.Run("a failing child is located", func(t *testing.T) {
		closed := httptest.NewServer(http.NotFoundHandler())
		closed.Close()
		p := mustExprPipeline(t, `<policies><inbound><wait for="all">
			<send-request mode="new" response-variable-name="a"><set-url>`+fast.URL+`/a</set-url></send-request>
			<send-request mode="new" response-variable-name="b" id="second"><set-url>`+closed.URL+`/b</set-url></send-request>
			</wait></inbound></policies>`)
		c := newCtx(httptest.NewRequest("GET", "/api/r", nil), &fakeBackend{}, nil, time.Now())
		p.Run(c)
		if c.LastError == nil || c.LastError.Path != "inbound/wait/send-request[2]" || c.LastError.PolicyID != "second" || c.LastError.Reason != ReasonBackendConnectionFailure {
			t.Fatalf("LastError = %+v", c.LastError)
		}
		if _, ok := c.Var("a"); !ok {
			t.Error("the successful call's variable is missing")
		}
	})
}

func TestRetryWaitCompileErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{name: "condition required", doc: `<retry count="1" interval="1"/>`, want: `attribute "condition" is required`},
		{name: "count zero", doc: `<retry condition="true" count="0" interval="1"/>`, want: `attribute "count" must be an integer of at least 1`},
		{name: "count too big", doc: `<retry condition="true" count="51" interval="1"/>`, want: `attribute "count" must be at most 50`},
		{name: "interval too long", doc: `<retry condition="true" count="1" interval="301"/>`, want: `attribute "interval" must be at most 300 seconds`},
		{name: "max below interval", doc: `<retry condition="true" count="1" interval="5" max-interval="2"/>`, want: `must not be less than "interval"`},
		{name: "literal condition", doc: `<retry condition="maybe" count="1" interval="1"/>`, want: `must be a boolean expression`},
		{name: "bad child in wait", doc: `<wait><set-header name="a"><value>b</value></set-header></wait>`, want: `unexpected element <set-header> in <wait>`},
		{name: "bad for", doc: `<wait for="some"><choose><when condition="true"/></choose></wait>`, want: `attribute "for" must be one of all, any`},
		{name: "empty wait", doc: `<wait/>`, want: `<wait> needs at least one child policy`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompileDocument(`<policies><inbound>`+tc.doc+`</inbound></policies>`, &Env{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
