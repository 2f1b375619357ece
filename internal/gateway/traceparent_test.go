package gateway

import (
	"net/http"
	"strings"
	"testing"
)

func TestChildTraceparent(t *testing.T) {
	const tid, pid = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	tests := []struct {
		name, in, flags string
		ok              bool
	}{
		{name: "valid sampled", in: "00-" + tid + "-" + pid + "-01", flags: "01", ok: true},
		{name: "valid not sampled", in: "00-" + tid + "-" + pid + "-00", flags: "00", ok: true},
		{name: "future version with more fields", in: "cc-" + tid + "-" + pid + "-09-what-the-future-holds", flags: "01", ok: true},
		{name: "version 00 too long", in: "00-" + tid + "-" + pid + "-01-x"},
		{name: "version ff", in: "ff-" + tid + "-" + pid + "-01"},
		{name: "upper case", in: "00-" + strings.ToUpper(tid) + "-" + pid + "-01"},
		{name: "zero trace id", in: "00-" + strings.Repeat("0", 32) + "-" + pid + "-01"},
		{name: "zero parent id", in: "00-" + tid + "-" + strings.Repeat("0", 16) + "-01"},
		{name: "short", in: "00-" + tid + "-" + pid},
		{name: "garbage", in: "hello"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := childTraceparent(tc.in)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v (%q)", ok, tc.ok, got)
			}
			if !ok {
				return
			}
			parts := strings.Split(got, "-")
			if len(parts) != 4 || parts[0] != "00" || parts[1] != tid || parts[2] == pid || len(parts[2]) != 16 || !isLowerHex(parts[2]) || allZero(parts[2]) || parts[3] != tc.flags {
				t.Fatalf("child of %q = %q", tc.in, got)
			}
		})
	}
}

func TestTraceContextPropagation(t *testing.T) {
	be := newBackend(t, func(http.ResponseWriter, *http.Request) {})
	const in = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, tc := range []struct{ name string }{{name: "plain proxy"}, {name: "policy pipeline"}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(be.URL)
			if tc.name == "policy pipeline" {
				cfg = policyConfig(be.URL, map[string]string{"apis/echo": `<policies><inbound><set-header name="X-P" exists-action="override"><value>1</value></set-header></inbound></policies>`})
			}
			e := newEnv(t, Config{}, cfg)
			e.do("GET", "/echo/resource", nil, "Ocp-Apim-Subscription-Key", keyAll, "Traceparent", in, "Tracestate", "vendor=x")
			h := be.last(t).header
			tp := h.Get("Traceparent")
			if !strings.HasPrefix(tp, "00-4bf92f3577b34da6a3ce929d0e0e4736-") || !strings.HasSuffix(tp, "-01") || tp == in || h.Get("Tracestate") != "vendor=x" {
				t.Fatalf("backend got traceparent %q tracestate %q", tp, h.Get("Tracestate"))
			}
			e.do("GET", "/echo/resource", nil, "Ocp-Apim-Subscription-Key", keyAll, "Traceparent", "bogus", "Tracestate", "vendor=x")
			if h := be.last(t).header; h.Get("Traceparent") != "" || h.Get("Tracestate") != "" {
				t.Fatalf("invalid trace context forwarded: %v", h)
			}
			e.do("GET", "/echo/resource", nil, "Ocp-Apim-Subscription-Key", keyAll)
			if h := be.last(t).header; h.Get("Traceparent") != "" {
				t.Fatalf("traceparent added: %v", h)
			}
		})
	}
}
