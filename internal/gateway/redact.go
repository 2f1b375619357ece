package gateway

import (
	"net/url"
	"strings"

	"github.com/portico-gw/portico/internal/telemetry"
)

// Masking of subscription keys in everything the gateway records about a
// request: request records (url, backendUrl, lastErrorMessage), policy
// debugger traces (debug.go's redactor) and exported spans (url.full).
//
// A key is masked by name and by value. By name: the values of the API's
// key query parameter and of APIM's default one (subscription-key) become
// "***", whatever the case a client spelt the name in (the gateway reads
// the key only from the exact name, but a key sent as Subscription-Key is
// still a key). By value: the key the request presented, raw or
// percent-encoded, becomes "***" wherever it appears, so that a key copied
// into another parameter, the path or an error message by a policy is not
// recorded either.

// maskQueryNames masks the key query parameters of req's API (APIM's
// default one when no API matched) in rawQuery.
func maskQueryNames(req *Request, rawQuery string) string {
	if req.API != nil && !strings.EqualFold(req.API.KeyQuery, defaultKeyQuery) {
		return telemetry.MaskQuery(rawQuery, req.API.KeyQuery, defaultKeyQuery)
	}
	return telemetry.MaskQuery(rawQuery, defaultKeyQuery)
}

// maskURL masks the subscription key in u, an absolute or relative URL:
// the key query parameters by name, and the presented key by value.
func maskURL(req *Request, u string) string {
	if base, q, ok := strings.Cut(u, "?"); ok {
		if m := maskQueryNames(req, q); m != q {
			u = base + "?" + m
		}
	}
	return scrubKey(req, u)
}

// scrubKey replaces the key req presented, and its percent-encoded forms,
// by "***" in s. It does not allocate when s does not hold the key.
func scrubKey(req *Request, s string) string {
	k := req.SubscriptionKey
	if k == "" || s == "" {
		return s
	}
	if strings.Contains(s, k) {
		s = strings.ReplaceAll(s, k, redacted)
	}
	if q := url.QueryEscape(k); q != k && strings.Contains(s, q) {
		s = strings.ReplaceAll(s, q, redacted)
	}
	if p := url.PathEscape(k); p != k && strings.Contains(s, p) {
		s = strings.ReplaceAll(s, p, redacted)
	}
	return s
}

// keyEncodings returns the key and its percent-encoded forms that differ
// from it, for the trace redactor.
func keyEncodings(k string) []string {
	out := []string{k}
	if q := url.QueryEscape(k); q != k {
		out = append(out, q)
	}
	if p := url.PathEscape(k); p != k && p != url.QueryEscape(k) {
		out = append(out, p)
	}
	return out
}
