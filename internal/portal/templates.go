package portal

import (
	"html/template"
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
