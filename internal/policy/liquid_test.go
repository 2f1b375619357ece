package policy

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestLiquid(t *testing.T) {
	tests := []struct {
		name, tmpl, reqBody, want string
	}{
		{name: "body paths", tmpl: `{"id": "{{ body.order.id }}", "first": "{{ body.order.items[0].sku }}", "n": {{ body.order.items.size }}}`,
			reqBody: `{"order":{"id":7,"items":[{"sku":"a"},{"sku":"b"}]}}`, want: `{"id": "7", "first": "a", "n": 2}`},
		{name: "quoted keys and objects", tmpl: `{{ body["odd key"] }} {{ body.obj }}`, reqBody: `{"odd key":"v","obj":{"a":[1,true,null]}}`, want: `v {"a":[1,true,null]}`},
		{name: "context paths", tmpl: `{{ context.Request.Method }} {{ context.Request.Headers["x-kind"] }} {{ context.Request.Url.Query.a }} {{ context.Subscription.Id }} {{ context.Variables.v }}`,
			want: `POST k1 1 sub1 set`},
		{name: "if elsif else", tmpl: `{% if body.kind == "a" %}A{% elsif body.kind != "b" %}not b{% else %}B{% endif %}`, reqBody: `{"kind":"c"}`, want: `not b`},
		{name: "if with a missing path", tmpl: `[{% if body.missing %}yes{% else %}no{% endif %}]`, reqBody: `{}`, want: `[no]`},
		{name: "nested if and numbers", tmpl: `{% if body.n == 2 %}{% if body.ok %}two ok{% endif %}{% endif %}`, reqBody: `{"n":2,"ok":true}`, want: `two ok`},
		{name: "not json body", tmpl: `<{{ body.x }}>`, reqBody: `plain`, want: `<>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustExprPipeline(t, `<policies><inbound><set-variable name="v" value="set"/><set-body template="liquid">`+
				strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(tc.tmpl)+`</set-body></inbound></policies>`)
			req := httptest.NewRequest("POST", "/api/r?a=1", strings.NewReader(tc.reqBody))
			req.Header.Set("X-Kind", "k1")
			be := &fakeBackend{}
			c := newCtx(req, be, nil, time.Now())
			p.Run(c)
			if c.LastError != nil {
				t.Fatalf("LastError = %+v", c.LastError)
			}
			if be.body != tc.want {
				t.Fatalf("body = %q, want %q", be.body, tc.want)
			}
		})
	}
}

func TestLiquidCompileErrors(t *testing.T) {
	tests := []struct{ name, tmpl, want string }{
		{name: "unknown root", tmpl: `{{ request.x }}`, want: `a path must start with body or context`},
		{name: "filters", tmpl: `{{ body.x | upcase }}`, want: `filters`},
		{name: "unknown tag", tmpl: `{% for x in body.items %}{% endfor %}`, want: `tag {% for %} is not supported`},
		{name: "unclosed if", tmpl: `{% if body.x %}a`, want: `without {% endif %}`},
		{name: "stray endif", tmpl: `a{% endif %}`, want: `without {% if %}`},
		{name: "unclosed output", tmpl: `{{ body.x`, want: `unclosed {{`},
		{name: "other template kind", tmpl: ``, want: `(xslt templates) is not supported`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kind := "liquid"
			if tc.tmpl == "" {
				kind = "xslt"
			}
			_, err := CompileDocument(`<policies><inbound><set-body template="`+kind+`">`+tc.tmpl+`</set-body></inbound></policies>`, &Env{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// FuzzLiquid feeds arbitrary templates to the parser and renders what
// parses: neither may panic.
func FuzzLiquid(f *testing.F) {
	for _, s := range []string{`{{ body.a[0]["b"] }}`, `{% if body.x == "1" %}a{% elsif context.Request.Method %}b{% else %}c{% endif %}`, `{{`, `{%`, `{% if %}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		l, err := parseLiquid(src)
		if err != nil {
			return
		}
		c := newCtx(httptest.NewRequest("POST", "/api/r", strings.NewReader(`{"a":[{"b":1}],"x":"1"}`)), nil, nil, time.Now())
		c.section = inbound
		if _, err := l.render(c); err != nil {
			t.Fatal(err)
		}
	})
}
