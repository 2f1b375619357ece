package web

import (
	"html/template"
	"io/fs"
	"strings"
)

// ParsePages parses every templates/*.html page of fsys together with
// templates/layout.html, keyed by base name ("home" for templates/home.html).
// Templates are embedded in the binary, so a bad one is a build defect: it
// panics, and every test that starts the portal or the console catches it.
func ParsePages(fsys fs.FS, funcs template.FuncMap) map[string]*template.Template {
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(fsys, "templates/layout.html"))
	pages := map[string]*template.Template{}
	names, _ := fs.Glob(fsys, "templates/*.html")
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		pages[base] = template.Must(template.Must(layout.Clone()).ParseFS(fsys, n))
	}
	return pages
}
