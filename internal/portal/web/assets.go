package web

import (
	"embed"
	"net/http"
)

//go:embed assets/portico.css
var assets embed.FS

// Stylesheet serves the shared stylesheet (portal and console) at
// /assets/portico.css.
func Stylesheet() http.Handler {
	b, _ := assets.ReadFile("assets/portico.css") // embedded: read once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(b)
	})
}
