package console

import (
	"html/template"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/mgmt/mgmtclient"
	"github.com/portico-gw/portico/internal/portal/web"
)

var funcs = template.FuncMap{
	"lower":     strings.ToLower,
	"hasPrefix": strings.HasPrefix,
	"join":      strings.Join,
	"deref":     func(b *bool) bool { return b != nil && *b },
	"limit": func(n *int) string {
		if n == nil {
			return ""
		}
		return strconv.Itoa(*n)
	},
	"date": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04")
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"num":  web.FormatNumber,
	"list": func(xs ...string) []string { return xs },
	"args": func(csrf, id, state, label, filter string) actArgs {
		return actArgs{CSRF: csrf, ID: id, State: state, Label: label, Filter: filter}
	},
	"hasAPI": func(list []mgmtclient.API, id string) bool {
		return slices.ContainsFunc(list, func(a mgmtclient.API) bool { return a.Name == id })
	},
	"hasGroup": func(list []mgmtclient.Group, id string) bool {
		return slices.ContainsFunc(list, func(g mgmtclient.Group) bool { return g.Name == id })
	},
}

// actArgs feeds the subscription action button template.
type actArgs struct {
	CSRF, ID, State, Label, Filter string
}
