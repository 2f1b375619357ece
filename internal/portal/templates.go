package portal

import (
	"html/template"
	"io/fs"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/portal/web"
)

var funcs = template.FuncMap{
	"lower": strings.ToLower,
	"join":  strings.Join,
	"date": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2 Jan 2006")
	},
	"statusClass": func(code int) string {
		switch {
		case code >= 500:
			return "s5"
		case code >= 400:
			return "s4"
		case code >= 300:
			return "s3"
		}
		return "s2"
	},
	"deref": func(b *bool) bool { return b != nil && *b },
	"num":   web.FormatNumber,
}

// parsePages parses each page template together with the layout.
func parsePages() map[string]*template.Template {
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	pages := map[string]*template.Template{}
	names, _ := fs.Glob(templateFS, "templates/*.html")
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		pages[base] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
	}
	return pages
}
