package web

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
)

type forwardedTLSKey struct{}

// ForwardedTLS passes requests to h, marking those that a trusted reverse
// proxy (a peer address within trusted) says the browser sent over HTTPS,
// with X-Forwarded-Proto: https or Forwarded: proto=https; IsHTTPS reports
// them. The headers of other peers are ignored. With no trusted ranges it
// returns h.
func ForwardedTLS(trusted []netip.Prefix, h http.Handler) http.Handler {
	if len(trusted) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil && forwardedHTTPS(r.Header) && trustedPeer(r.RemoteAddr, trusted) {
			r = r.WithContext(context.WithValue(r.Context(), forwardedTLSKey{}, true))
		}
		h.ServeHTTP(w, r)
	})
}

// IsHTTPS reports whether the browser reached r over HTTPS: r came over
// TLS, or through a trusted proxy that says so (ForwardedTLS).
func IsHTTPS(r *http.Request) bool {
	return r.TLS != nil || r.Context().Value(forwardedTLSKey{}) != nil
}

// forwardedHTTPS reads the scheme the nearest proxy was reached with: the
// first X-Forwarded-Proto value, else the proto of Forwarded's first
// element.
func forwardedHTTPS(h http.Header) bool {
	if v := h.Get("X-Forwarded-Proto"); v != "" {
		first, _, _ := strings.Cut(v, ",")
		return strings.EqualFold(strings.TrimSpace(first), "https")
	}
	if v := h.Get("Forwarded"); v != "" {
		first, _, _ := strings.Cut(v, ",")
		for _, pair := range strings.Split(first, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if ok && strings.EqualFold(k, "proto") {
				return strings.EqualFold(strings.Trim(val, `"`), "https")
			}
		}
	}
	return false
}

func trustedPeer(remoteAddr string, trusted []netip.Prefix) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	a := ap.Addr().Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
