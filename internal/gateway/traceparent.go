package gateway

import (
	"math/rand/v2"
	"net/http"
)

// W3C Trace Context (https://www.w3.org/TR/trace-context/) headers.
const (
	headerTraceparent = "Traceparent"
	headerTracestate  = "Tracestate"
)

// propagateTraceContext makes the gateway a hop of the caller's W3C trace
// on an outbound request's headers h: a valid traceparent is replaced by
// one with the same trace id and flags and a new parent id (the gateway's
// span for this exchange, new on every attempt), and tracestate passes
// through unchanged. An invalid traceparent (malformed, all-zero ids,
// version ff, or repeated) is removed together with tracestate, as the
// specification requires. Without a traceparent nothing is added: the
// gateway does not start traces of its own (no spans are exported yet).
func propagateTraceContext(h http.Header) {
	vs, ok := h[headerTraceparent]
	if !ok {
		return
	}
	if len(vs) == 1 {
		if tp, ok := childTraceparent(vs[0]); ok {
			vs[0] = tp
			return
		}
	}
	delete(h, headerTraceparent)
	delete(h, headerTracestate)
}

// childTraceparent returns the traceparent of a child span of the span in
// s, in version 00, or false when s is not a valid traceparent.
func childTraceparent(s string) (string, bool) {
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' || !isLowerHex(s[:2]) || s[:2] == "ff" {
		return "", false
	}
	if s[:2] == "00" && len(s) != 55 || s[:2] != "00" && len(s) > 55 && s[55] != '-' {
		return "", false
	}
	traceID, parentID, flags := s[3:35], s[36:52], s[53:55]
	if !isLowerHex(traceID) || !isLowerHex(parentID) || !isLowerHex(flags) || allZero(traceID) || allZero(parentID) {
		return "", false
	}
	if s[:2] != "00" {
		// A later version's flags may use bits 00 does not define: keep
		// only "sampled".
		flags = "0" + string("01"[hexVal(flags[1])&1])
	}
	return "00-" + traceID + "-" + newSpanID() + "-" + flags, true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

func hexVal(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}

// newSpanID returns 16 random lowercase hex digits, not all zero. Span ids
// must be unique, not secret.
func newSpanID() string {
	const hexd = "0123456789abcdef"
	v := rand.Uint64()
	for v == 0 {
		v = rand.Uint64()
	}
	var b [16]byte
	for i := range b {
		b[15-i] = hexd[v&0xf]
		v >>= 4
	}
	return string(b[:])
}
