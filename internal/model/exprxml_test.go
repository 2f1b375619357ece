package model

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestEscapeExpressions(t *testing.T) {
	tests := []struct {
		name     string
		doc      string
		wantAttr string // value of attribute v of the root, when set
		wantText string // text of the root, when set
	}{
		{"raw quotes in attribute", `<a v="@(context.Request.Headers.GetValueOrDefault("X", ""))"/>`, `@(context.Request.Headers.GetValueOrDefault("X", ""))`, ""},
		{"escaped form unchanged", `<a v="@(context.Request.Headers.GetValueOrDefault(&quot;X&quot;, &quot;&quot;))"/>`, `@(context.Request.Headers.GetValueOrDefault("X", ""))`, ""},
		{"generic in text", `<a>@(context.Request.Body.As<JObject>(preserveContent: true))</a>`, "", `@(context.Request.Body.As<JObject>(preserveContent: true))`},
		{"and operator", `<a v="@(1 < 2 && true)"/>`, `@(1 < 2 && true)`, ""},
		{"single-quoted attribute", `<a v='@("it" + 'x'.ToString())'/>`, `@("it" + 'x'.ToString())`, ""},
		{"block with strings and comments", "<a>@{\n // a ) comment\n var s = \")\"; /* } */ return s + $\"{(1 < 2 ? \"a\" : \"b\")}\";\n}</a>", "", "@{\n // a ) comment\n var s = \")\"; /* } */ return s + $\"{(1 < 2 ? \"a\" : \"b\")}\";\n}"},
		{"verbatim string", `<a v="@(@"C:\x""y" + "q")"/>`, `@(@"C:\x""y" + "q")`, ""},
		{"not an expression", `<a v="mail@example.com">x &amp; y</a>`, `mail@example.com`, "x & y"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			esc, _ := EscapeExpressions(tc.doc)
			var root struct {
				V    string `xml:"v,attr"`
				Text string `xml:",chardata"`
			}
			if err := xml.Unmarshal([]byte(esc), &root); err != nil {
				t.Fatalf("escaped document %q does not parse: %v", esc, err)
			}
			if tc.wantAttr != "" && root.V != tc.wantAttr {
				t.Fatalf("attribute = %q, want %q", root.V, tc.wantAttr)
			}
			if tc.wantText != "" && root.Text != tc.wantText {
				t.Fatalf("text = %q, want %q", root.Text, tc.wantText)
			}
		})
	}
	t.Run("offsets map back", func(t *testing.T) {
		doc := "<a v=\"@(\"x\")\">\n<b/></a>"
		esc, back := EscapeExpressions(doc)
		if got := back(strings.Index(esc, "<b/>")); got != strings.Index(doc, "<b/>") {
			t.Fatalf("offset of <b/> maps to %d, want %d", got, strings.Index(doc, "<b/>"))
		}
	})
	t.Run("CheckXML accepts APIM's raw form", func(t *testing.T) {
		doc := `<policies><inbound><set-variable name="a" value="@(context.Request.Headers.GetValueOrDefault("A","").Length > 0 && true)" /></inbound></policies>`
		if err := CheckXML(doc, "policies"); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzEscapeExpressions(f *testing.F) {
	f.Add(`<a v="@(x("y"))">@{ return "<"; }</a>`)
	f.Add(`<a>@(`)
	f.Fuzz(func(t *testing.T, doc string) {
		esc, back := EscapeExpressions(doc)
		for _, off := range []int{0, len(esc) / 2, len(esc)} {
			if o := back(off); o < 0 || o > len(doc) {
				t.Fatalf("offset %d maps to %d outside the document (%d bytes)", off, o, len(doc))
			}
		}
		if !strings.Contains(doc, "@") && esc != doc {
			t.Fatal("a document without expressions was changed")
		}
	})
}
