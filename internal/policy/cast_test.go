package policy

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestResponseVariableCast checks the APIM idiom of casting the variable a
// send-request stored: ((IResponse)context.Variables["r"]).Body.As<JObject>().
func TestResponseVariableCast(t *testing.T) {
	srv := echoServer(t)
	send := `<send-request mode="new" response-variable-name="tokenResponse" timeout="10">
		<set-url>` + srv.URL + `/token</set-url><set-method>POST</set-method><set-body>secret</set-body>
	</send-request>`
	tests := []struct {
		name       string
		inbound    string
		wantHdr    map[string]string
		wantBody   string
		wantReason string
	}{
		{name: "set-header reads the cast response", inbound: send + `
			<set-header name="X-Path" exists-action="override"><value>@((string)((IResponse)context.Variables["tokenResponse"]).Body.As<JObject>(preserveContent: true)["path"])</value></set-header>
			<set-header name="X-Status" exists-action="override"><value>@(((IResponse)context.Variables["tokenResponse"]).StatusCode.ToString())</value></set-header>`,
			wantHdr: map[string]string{"X-Path": "/token", "X-Status": "200"}},
		{name: "set-body reads the cast response", inbound: send + `
			<set-body>@{ var j = ((IResponse)context.Variables["tokenResponse"]).Body.As<JObject>(); return j["method"] + " " + j["body"]; }</set-body>`,
			wantBody: "POST secret"},
		{name: "as IResponse", inbound: send + `
			<set-header name="X-As" exists-action="override"><value>@((context.Variables["tokenResponse"] as IResponse)?.Headers.GetValueOrDefault("X-Echo", "none") ?? "null")</value></set-header>
			<set-header name="X-Not" exists-action="override"><value>@(((context.Variables["tokenResponse"] as IRequest) == null).ToString())</value></set-header>`,
			wantHdr: map[string]string{"X-As": "yes", "X-Not": "True"}},
		{name: "cast of something else goes to on-error", inbound: `<set-variable name="tokenResponse" value="text"/>
			<set-header name="X-Bad" exists-action="override"><value>@(((IResponse)context.Variables["tokenResponse"]).StatusCode.ToString())</value></set-header>`,
			wantReason: "InvalidCastException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustExprPipeline(t, `<policies><inbound>`+tc.inbound+`</inbound><backend><forward-request/></backend></policies>`)
			be := &fakeBackend{}
			c := newCtx(httptest.NewRequest("GET", "/api/r", nil), be, nil, time.Now())
			p.Run(c)
			if tc.wantReason != "" {
				if c.LastError == nil || !strings.Contains(c.LastError.Message+" "+c.LastError.Reason, tc.wantReason) || be.calls != 0 {
					t.Fatalf("LastError = %+v, backend calls %d, want %s", c.LastError, be.calls, tc.wantReason)
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
			if tc.wantBody != "" && be.body != tc.wantBody {
				t.Errorf("backend body = %q, want %q", be.body, tc.wantBody)
			}
		})
	}
}
