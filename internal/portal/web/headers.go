package web

import "net/http"

// ContentSecurityPolicy allows scripts, styles and fonts from the page's own
// origin only (no inline script), images from itself and data: URLs, and
// forbids framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// SecurityHeaders sets the security headers of every portal and console
// response: CSP, nosniff, a same-origin referrer policy, no framing, and
// no caching of HTML (pages may show keys).
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

// NoStore marks a response as not cacheable.
func NoStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }
