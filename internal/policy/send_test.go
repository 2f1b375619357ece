package policy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/policy/expr"
)

// mustExprPipeline compiles one document with the real expression
// interpreter.
func mustExprPipeline(t testing.TB, doc string) *Pipeline {
	t.Helper()
	d, err := CompileDocument(doc, &Env{Scope: "apis/a"})
	if err != nil {
		t.Fatal(err)
	}
	return Compose(d)
}

// echoServer answers with a JSON description of the request it got.
func echoServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", "yes")
		if r.URL.Query().Get("status") == "404" {
			w.WriteHeader(http.StatusNotFound)
		}
		json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery,
			"auth": r.Header.Get("Authorization"), "kind": r.Header.Get("X-Kind"), "body": string(b)})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSendRequest(t *testing.T) {
	srv := echoServer(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(block); slow.Close() })

	tests := []struct {
		name       string
		doc        string
		reqBody    string
		wantHdr    map[string]string // headers forwarded to the backend
		wantStatus int
		wantReason string
	}{
		{name: "new request, response read by a later expression", doc: `<policies><inbound>
			<send-request mode="new" response-variable-name="r" timeout="10" ignore-error="false">
				<set-url>` + srv.URL + `/token?x=1</set-url>
				<set-method>POST</set-method>
				<set-header name="Authorization" exists-action="override"><value>Basic abc</value></set-header>
				<set-body>@("hello " + context.Request.Method)</set-body>
			</send-request>
			<set-header name="X-Method" exists-action="override"><value>@(context.Variables["r"].Body.As<JObject>(preserveContent: true)["method"].ToString())</value></set-header>
			<set-header name="X-Body" exists-action="override"><value>@(context.Variables["r"].Body.As<JObject>(preserveContent: true)["body"].ToString())</value></set-header>
			<set-header name="X-Auth" exists-action="override"><value>@(context.Variables["r"].Body.As<JObject>()["auth"].ToString())</value></set-header>
			<set-header name="X-Status" exists-action="override"><value>@(context.Variables["r"].StatusCode.ToString())</value></set-header>
			<set-header name="X-Echo" exists-action="override"><value>@(context.Variables["r"].Headers.GetValueOrDefault("X-Echo", "none"))</value></set-header>
			</inbound></policies>`,
			wantHdr: map[string]string{"X-Method": "POST", "X-Body": "hello GET", "X-Auth": "Basic abc", "X-Status": "200", "X-Echo": "yes"}},
		{name: "copy mode copies method, headers and body", doc: `<policies><inbound>
			<send-request mode="copy" response-variable-name="r">
				<set-url>@("` + srv.URL + `/copy")</set-url>
				<set-header name="X-Extra" exists-action="override"><value>1</value></set-header>
			</send-request>
			<set-header name="X-Got" exists-action="override"><value>@{ var j = context.Variables["r"].Body.As<JObject>(); return j["method"] + " " + j["kind"] + " " + j["body"]; }</value></set-header>
			</inbound></policies>`,
			reqBody: "original", wantHdr: map[string]string{"X-Got": "GET k1 original"}},
		{name: "error status is a response, not an error", doc: `<policies><inbound>
			<send-request mode="new" response-variable-name="r"><set-url>` + srv.URL + `/?status=404</set-url></send-request>
			<set-header name="X-Status" exists-action="override"><value>@(context.Variables["r"].StatusCode.ToString())</value></set-header>
			</inbound></policies>`,
			wantHdr: map[string]string{"X-Status": "404"}},
		{name: "ignore-error leaves a null variable", doc: `<policies><inbound>
			<send-request mode="new" response-variable-name="r" ignore-error="true"><set-url>` + closed.URL + `/</set-url></send-request>
			<set-header name="X-Null" exists-action="override"><value>@((context.Variables["r"] == null).ToString())</value></set-header>
			</inbound></policies>`,
			wantHdr: map[string]string{"X-Null": "True"}},
		{name: "connection failure goes to on-error", doc: `<policies><inbound>
			<send-request mode="new" response-variable-name="r"><set-url>` + closed.URL + `/</set-url></send-request>
			</inbound></policies>`,
			wantStatus: 500, wantReason: ReasonBackendConnectionFailure},
		{name: "timeout goes to on-error", doc: `<policies><inbound>
			<send-request mode="new" response-variable-name="r" timeout="1"><set-url>` + slow.URL + `/</set-url></send-request>
			</inbound></policies>`,
			wantStatus: 500, wantReason: ReasonTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustExprPipeline(t, tc.doc)
			req := httptest.NewRequest("GET", "/api/r?a=1", strings.NewReader(tc.reqBody))
			req.Header.Set("X-Kind", "k1")
			be := &fakeBackend{}
			c := newCtx(req, be, nil, time.Now())
			p.Run(c)
			if tc.wantReason != "" {
				if c.LastError == nil || c.LastError.Reason != tc.wantReason || c.LastError.Source != "send-request" {
					t.Fatalf("LastError = %+v, want reason %s", c.LastError, tc.wantReason)
				}
				if c.Response.StatusCode != tc.wantStatus {
					t.Fatalf("status = %d, want %d", c.Response.StatusCode, tc.wantStatus)
				}
				return
			}
			if c.LastError != nil {
				t.Fatalf("LastError = %+v (%v)", c.LastError, c.LastError.Err)
			}
			for k, v := range tc.wantHdr {
				if got := be.header.Get(k); got != v {
					t.Errorf("backend header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestSendRequestVariableForGo(t *testing.T) {
	srv := echoServer(t)
	p := mustExprPipeline(t, `<policies><inbound><send-request mode="new" response-variable-name="r"><set-url>`+srv.URL+`/x</set-url></send-request>
		<return-response><set-status code="200"/></return-response></inbound></policies>`)
	c := newCtx(httptest.NewRequest("GET", "/api/r", nil), &fakeBackend{}, nil, time.Now())
	p.Run(c)
	v, _ := c.Var("r")
	res, ok := v.(*expr.Response)
	if !ok {
		t.Fatalf("variable r is %T", v)
	}
	b, _ := res.Body.Bytes()
	if res.StatusCode != 200 || !strings.Contains(string(b), `"path":"/x"`) {
		t.Fatalf("response = %d %s", res.StatusCode, b)
	}
}

func TestSendOneWayRequest(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.Method + " " + r.URL.Path + " " + r.Header.Get("X-Kind") + " " + string(b)
	}))
	t.Cleanup(srv.Close)
	p := mustExprPipeline(t, `<policies><outbound><send-one-way-request mode="new" timeout="5">
		<set-url>`+srv.URL+`/log</set-url><set-method>PUT</set-method>
		<set-header name="X-Kind" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("X-Kind", ""))</value></set-header>
		<set-body>@(context.Response.StatusCode.ToString())</set-body>
	</send-one-way-request></outbound></policies>`)
	req := httptest.NewRequest("GET", "/api/r", nil)
	req.Header.Set("X-Kind", "k2")
	c := newCtx(req, &fakeBackend{}, nil, time.Now())
	p.Run(c)
	if c.LastError != nil || c.Response.StatusCode != 200 {
		t.Fatalf("status %d, LastError %+v", c.Response.StatusCode, c.LastError)
	}
	select {
	case s := <-got:
		if s != "PUT /log k2 200" {
			t.Fatalf("one-way request = %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the one-way request never arrived")
	}
}

func TestSendRequestCompileErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{name: "variable required", doc: `<send-request mode="new"><set-url>http://a/</set-url></send-request>`, want: `attribute "response-variable-name" is required`},
		{name: "url required in new mode", doc: `<send-request response-variable-name="r"/>`, want: `<set-url> is required when mode is "new"`},
		{name: "bad mode", doc: `<send-request mode="old" response-variable-name="r"/>`, want: `attribute "mode" must be one of new, copy`},
		{name: "relative url", doc: `<send-request response-variable-name="r"><set-url>/x</set-url></send-request>`, want: `is not an absolute http or https URL`},
		{name: "timeout too long", doc: `<send-request response-variable-name="r" timeout="600"><set-url>http://a/</set-url></send-request>`, want: `at most 240 seconds`},
		{name: "set-url twice", doc: `<send-request response-variable-name="r"><set-url>http://a/</set-url><set-url>http://b/</set-url></send-request>`, want: `<set-url> may appear once`},
		{name: "certificate refused", doc: `<send-request response-variable-name="r"><set-url>http://a/</set-url><authentication-certificate thumbprint="x"/></send-request>`, want: `not supported by Portico yet`},
		{name: "one-way has no variable", doc: `<send-one-way-request response-variable-name="r"><set-url>http://a/</set-url></send-one-way-request>`, want: `attribute "response-variable-name" is not allowed`},
		{name: "bad header child", doc: `<send-request response-variable-name="r"><set-url>http://a/</set-url><set-header name="a" exists-action="nope"><value>x</value></set-header></send-request>`, want: `exists-action`},
		{name: "unknown child", doc: `<send-request response-variable-name="r"><set-url>http://a/</set-url><set-status code="200"/></send-request>`, want: `unexpected element <set-status>`},
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

func TestReturnResponseVariable(t *testing.T) {
	srv := echoServer(t)
	tests := []struct {
		name, doc  string
		wantStatus int
		wantBody   string
		wantHdr    map[string]string
	}{
		{name: "answers with the send-request response, edited", doc: `<send-request mode="new" response-variable-name="r"><set-url>` + srv.URL + `/x?status=404</set-url></send-request>
			<return-response response-variable-name="r"><set-header name="X-Extra" exists-action="override"><value>1</value></set-header></return-response>`,
			wantStatus: 404, wantBody: `"path":"/x"`, wantHdr: map[string]string{"X-Echo": "yes", "X-Extra": "1", "Content-Type": "application/json"}},
		{name: "a variable without a response fails", doc: `<set-variable name="r" value="text"/><return-response response-variable-name="r"/>`,
			wantStatus: 500, wantBody: `Internal server error`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustExprPipeline(t, `<policies><inbound>`+tc.doc+`</inbound></policies>`)
			be := &fakeBackend{}
			c := newCtx(httptest.NewRequest("GET", "/api/r", nil), be, nil, time.Now())
			p.Run(c)
			if c.Response.StatusCode != tc.wantStatus || be.calls != 0 {
				t.Fatalf("status = %d, backend calls %d", c.Response.StatusCode, be.calls)
			}
			if got := body(t, &c.Response.Body); !strings.Contains(got, tc.wantBody) {
				t.Errorf("body = %q, want it to contain %q", got, tc.wantBody)
			}
			for k, v := range tc.wantHdr {
				if got := c.Response.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}
