package policy

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// TestErrorBodyMatchesJSON: the error document is what encoding/json makes
// of {"statusCode":…,"message":…}, whatever the message holds.
func TestErrorBodyMatchesJSON(t *testing.T) {
	msgs := []string{"", "Resource not found", `quote " backslash \ slash /`, "<script>&amp;</script>", "tab\tnewline\ncr\rbs\bff\f",
		"\x00\x01\x1f\x7f", "é ü 日本 😀", "line\u2028para\u2029", "bad \xff utf8 \xc3", "trailing \xe2\x82"}
	for _, m := range msgs {
		want, err := json.Marshal(struct {
			StatusCode int    `json:"statusCode"`
			Message    string `json:"message"`
		}{429, m})
		if err != nil {
			t.Fatal(err)
		}
		if got := ErrorBody(429, m); string(got) != string(want) {
			t.Errorf("ErrorBody(%q) = %s, want %s", m, got, want)
		}
	}
}

// TestWriteError: the one writer answers with the status, e.Header, JSON
// and its length, and hides the message of server errors other than
// 502/503/504; the policy runner's answer (setErrorResponse) is the same.
func TestWriteError(t *testing.T) {
	tests := []struct {
		e        *Error
		status   int
		wantBody string
	}{
		{&Error{Status: 404, Message: "Resource not found"}, 404, `{"statusCode":404,"message":"Resource not found"}`},
		{&Error{Status: 429, Message: "Rate limit", Header: http.Header{"Retry-After": {"7"}}}, 429, `{"statusCode":429,"message":"Rate limit"}`},
		{&Error{Message: "set-status: 7 is not an HTTP status code"}, 500, `{"statusCode":500,"message":"Internal server error"}`},
		{&Error{Status: 502, Message: "Bad gateway"}, 502, `{"statusCode":502,"message":"Bad gateway"}`},
		{&Error{Status: 504, Message: "Gateway timeout"}, 504, `{"statusCode":504,"message":"Gateway timeout"}`},
		{&Error{Status: 503, Message: "Not ready"}, 503, `{"statusCode":503,"message":"Not ready"}`},
	}
	for _, tc := range tests {
		w := httptest.NewRecorder()
		w.Header().Set("Content-Encoding", "gzip")
		WriteError(w, tc.e)
		if w.Code != tc.status || w.Body.String() != tc.wantBody || w.Header().Get("Content-Type") != "application/json" ||
			w.Header().Get("Content-Length") != strconv.Itoa(len(tc.wantBody)) || w.Header().Get("Content-Encoding") != "" {
			t.Errorf("WriteError(%+v) = %d %q %v", tc.e, w.Code, w.Body.String(), w.Header())
		}
		for k := range tc.e.Header {
			if w.Header().Get(k) != tc.e.Header.Get(k) {
				t.Errorf("header %s = %q", k, w.Header().Get(k))
			}
		}
		var c Context
		setErrorResponse(&c, tc.e)
		body, _ := c.Response.Body.Bytes()
		if c.Response.StatusCode != tc.status || string(body) != tc.wantBody || c.Response.Header.Get("Content-Type") != "application/json" {
			t.Errorf("setErrorResponse(%+v) = %d %q %v", tc.e, c.Response.StatusCode, body, c.Response.Header)
		}
	}
}

// TestErrorString: Error() names the source, reason, message and cause;
// Unwrap reaches the cause.
func TestErrorString(t *testing.T) {
	cause := errors.New("dial tcp: refused")
	e := &Error{Source: "forward-request", Reason: ReasonBackendConnectionFailure, Message: "Bad gateway", Err: cause}
	if e.Error() != "forward-request: BackendConnectionFailure: Bad gateway: dial tcp: refused" || !errors.Is(e, cause) {
		t.Fatalf("%q", e.Error())
	}
	if e := (&Error{Reason: ReasonTimeout, Message: "late"}); e.Error() != "Timeout: late" {
		t.Fatalf("%q", e.Error())
	}
}

// TestLastErrorIsLocatedCopy: the runner keeps a located copy of the
// step's error as LastError (source defaulted to the policy's name,
// section, path, policy id, status) and never modifies the step's value,
// which may be shared by every request.
func TestLastErrorIsLocatedCopy(t *testing.T) {
	shared := &Error{Reason: ReasonBackendConnectionFailure, Message: "Bad gateway"}
	doc, err := CompileDocument(`<policies><backend><forward-request id="fw"/></backend></policies>`, &Env{})
	if err != nil {
		t.Fatal(err)
	}
	p := Compose(doc)
	for range 2 {
		c := newCtx(httptest.NewRequest("GET", "/api/x", nil), &fakeBackend{err: shared}, nil, time.Now())
		p.Run(c)
		le := c.LastError
		if le == nil || le == shared || le.Source != "forward-request" || le.Section != SectionBackend || le.Path != "backend/forward-request" ||
			le.PolicyID != "fw" || le.Status != 500 || le.Reason != ReasonBackendConnectionFailure || c.Response.StatusCode != 500 {
			t.Fatalf("LastError %+v, response %d", le, c.Response.StatusCode)
		}
		if shared.Source != "" || shared.Section != "" || shared.Path != "" || shared.PolicyID != "" || shared.Status != 0 {
			t.Fatalf("the step's error was modified: %+v", shared)
		}
	}
}
