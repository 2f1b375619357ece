package expr_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/policy/expr"
)

// TestTypeErrors: member accesses, calls and indexers that fail on every
// evaluation are refused when the document is saved, with the position of
// the member in the document. Each expression starts at line 3, column 10
// of its document.
func TestTypeErrors(t *testing.T) {
	tests := []struct {
		src       string
		line, col int
		msg       string
	}{
		{`@("abc".Claims)`, 3, 18, "'string' does not contain a definition for 'Claims'"},
		{`@(1.Trim())`, 3, 14, "'int' does not contain a definition for 'Trim'"},
		{`@("x".Substring(1, 2, 3))`, 3, 16, "no overload for method 'Substring' takes 3 arguments"},
		{`@(context.Request.Headers.Count.Length)`, 3, 42, "'int' does not contain a definition for 'Length'"},
		{`@(context.Request.Body.As<JObject>()["name"].Trim())`, 3, 55, "'JToken' does not contain a definition for 'Trim'"},
		{`@(context.Response.StatusCode.ToUpper())`, 3, 40, "'int' does not contain a definition for 'ToUpper'"},
		{`@(context.User.Email.Claims)`, 3, 31, "'string' does not contain a definition for 'Claims'"},
		{`@(DateTime.UtcNow.Length)`, 3, 28, "'DateTime' does not contain a definition for 'Length'"},
		{`@(context.Timestamp.AddDays())`, 3, 30, "no overload for method 'AddDays' takes 0 arguments"},
		{`@(context.Request.Url.Query.Length)`, 3, 38, "'IQueryDictionary' does not contain a definition for 'Length'"},
		{`@(5[0])`, 3, 13, "cannot apply indexing with [] to an expression of type 'int'"},
		{`@(context.Trace("x").Length)`, 3, 31, "'void' does not contain a definition for 'Length'"},
		{`@(string.IsNullOrEmpty("a", "b"))`, 3, 19, "no overload for method 'string.IsNullOrEmpty' takes 2 arguments"},
		{`@(Math.Max(1))`, 3, 17, "no overload for method 'Math.Max' takes 1 arguments"},
		{`@(new Uri())`, 3, 12, "'Uri' does not contain a constructor that takes 0 arguments"},
		{"@{\n    var s = context.Request.Headers.GetValueOrDefault(\"X\", \"\");\n    return s.Claims;\n}", 5, 14, "'string' does not contain a definition for 'Claims'"},
		{`@{ foreach (var c in "abc") { return c.Length; } return 0; }`, 3, 49, "'char' does not contain a definition for 'Length'"},
		{`@(new { Name = "a" }.Name.Count)`, 3, 36, "'string' does not contain a definition for 'Count'"},
		{`@(((JObject)context.Variables["x"]).Length)`, 3, 46, "'JObject' does not contain a definition for 'Length'"},
		{`@(Guid.NewGuid().Trim())`, 3, 27, "'Guid' does not contain a definition for 'Trim'"},
		{`@(context.Request.Body.As<string>().Properties())`, 3, 46, "'string' does not contain a definition for 'Properties'"},
		{`@("a,b".Split(',').Trim())`, 3, 29, "'string[]' does not contain a definition for 'Trim'"},
		{`@(context.Request.Headers.GetValueOrDefault("a", "").Split(',')[0].Claims)`, 3, 77, "'string' does not contain a definition for 'Claims'"},
		{`@{ string s = "x"; s = s + "y"; return s.Keys; }`, 3, 51, "'string' does not contain a definition for 'Keys'"},
		{`@(new[] { "a" }.Select(s => s.Claims))`, 3, 40, "'string' does not contain a definition for 'Claims'"},
		{`@(context.Request.Body.As<JArray>().Where(t => t.Trim() == ""))`, 3, 59, "'JToken' does not contain a definition for 'Trim'"},
		{`@("a,b".Split(',').Where((p, i) => i.StartsWith("x")))`, 3, 47, "'int' does not contain a definition for 'StartsWith'"},
		{`@(context.Request.Body.As<JObject>().Count())`, 3, 0, ""}, // valid: LINQ on a JObject
	}
	for _, tc := range tests {
		_, err := expr.Compile(tc.src, 3, 10)
		if tc.msg == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.src, err)
			}
			continue
		}
		var ce *expr.Error
		if !errors.As(err, &ce) {
			t.Errorf("%s: compiled (err %v), want %d:%d: %s", tc.src, err, tc.line, tc.col, tc.msg)
			continue
		}
		if ce.Line != tc.line || ce.Col != tc.col || !strings.Contains(ce.Msg, tc.msg) {
			t.Errorf("%s:\n got %d:%d: %s\nwant %d:%d: %s", tc.src, ce.Line, ce.Col, ce.Msg, tc.line, tc.col, tc.msg)
		}
	}
}

// TestTypeChecksAllowUnknown: where the static type is unknown or only
// possibly wrong, nothing is refused.
func TestTypeChecksAllowUnknown(t *testing.T) {
	for _, src := range []string{
		`@(context.Variables["x"].Length)`,                                     // object
		`@{ object o = "s"; return o.Length; }`,                                // declared object
		`@{ dynamic d = context.Variables["x"]; return d.Count; }`,             // dynamic
		`@{ var x = "a"; x = null; return x?.Length; }`,                        // a var assigned again
		`@((context.Variables["x"] as string).Length)`,                         // as string
		`@(context.Request.Body.As<JObject>()["items"].Count)`,                 // JToken: a JArray has Count
		`@(context.Request.Body.As<JObject>()["items"][0]["id"].Value<int>())`, // JToken indexers
		`@(((JToken)context.Variables["x"]).Count())`,                          // LINQ on a token
		`@(context.Variables.GetValueOrDefault("x", "").Length)`,               // the stored value's type
		`@(context.Request.Headers.Select(h => h.Value.Trim()).Count())`,       // lambda parameters
		`@(new[] { 1, 2 }.Select(i => i.ToString().Length).Sum())`,
		`@(new[] { "a", "b" }.Aggregate((acc, s) => acc + s).Length)`, // Aggregate's accumulator is not an element
		`@(new[] { 1, 2 }.Zip(new[] { "a", "b" }, (n, s) => s.Length + n).Sum())`,
		`@{ var l = new List<string> { "b", "a" }; l.Sort((x, y) => string.Compare(x, y)); return l[0]; }`,
		`@(new { A = 1 }.A + 1)`,
		`@((string)null)`,
		`@(((string)null)?.Length)`,
		`@(context.Api.SubscriptionKeyParameterNames.Header)`, // an anonymous object
		`@("abc".Zip("xyz").First().Item1)`,
	} {
		if _, err := expr.Compile(src, 1, 1); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
}

// TestCorpus: the expressions that Azure API Management documents
// (testdata/corpus/apim.txt) and those of Portico's documentation all
// compile.
func TestCorpus(t *testing.T) {
	n := 0
	b, err := os.ReadFile("testdata/corpus/apim.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range strings.Split(string(b), "\n----\n") {
		var lines []string
		for _, l := range strings.Split(e, "\n") {
			if !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
		src := strings.TrimSpace(strings.Join(lines, "\n"))
		n++
		if _, err := expr.Compile(src, 1, 1); err != nil {
			t.Errorf("apim.txt: %s\n%v", src, err)
		}
	}
	// The documentation, except placeholders and the documented examples of
	// refused expressions.
	refused, found := map[string]bool{}, map[string]bool{}
	for _, src := range docRefused {
		refused[src] = true
	}
	files, _ := filepath.Glob("../../../docs/*.md")
	if len(files) == 0 {
		t.Fatal("no documentation found")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// examples inside XML attributes are escaped
		text := strings.NewReplacer("&quot;", `"`, "&lt;", "<", "&gt;", ">", "&apos;", "'", "&amp;", "&").Replace(string(b))
		for _, src := range extractExpressions(text) {
			if strings.Contains(src, "…") || strings.Contains(src, "...") || placeholder.MatchString(src) {
				continue
			}
			n++
			_, err := expr.Compile(src, 1, 1)
			if refused[src] {
				found[src] = true
			}
			switch {
			case refused[src] && err == nil:
				t.Errorf("%s: %s compiled; it is documented as refused", f, src)
			case !refused[src] && err != nil:
				t.Errorf("%s: %s\n%v", f, src, err)
			}
		}
	}
	for _, src := range docRefused {
		if !found[src] {
			t.Errorf("%s: not found in the documentation", src)
		}
	}
	t.Logf("%d expressions", n)
}

// docRefused are the examples of refused expressions in docs/expressions.md.
var docRefused = []string{
	`@("abc".Claims)`,
	`@(1.Trim())`,
	`@(context.Request.Url.Path.Substring(1, 2, 3))`,
	`@(context.Request.Body.As<JObject>()["name"].Trim())`,
	`@(new[] { "a" }.Select(s => s.Claims))`,
	`@(context.Trace("x").Length)`,
	`@(string.IsNullOrEmpty())`,
	`@(new Uri())`,
}

var placeholder = regexp.MustCompile(`^@[({]\s*(expression|statements)\s*[)}]$`)

// extractExpressions finds the policy expressions "@(...)" and "@{...}" of
// a text, by balancing brackets outside string and character literals.
func extractExpressions(s string) []string {
	var out []string
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '@' || (s[i+1] != '(' && s[i+1] != '{') {
			continue
		}
		depth, end := 0, -1
		var quote byte
	scan:
		for j := i + 1; j < len(s); j++ {
			c := s[j]
			if quote != 0 {
				switch c {
				case '\\':
					j++
				case quote:
					quote = 0
				}
				continue
			}
			switch c {
			case '"', '\'':
				quote = c
			case '(', '{', '[':
				depth++
			case ')', '}', ']':
				depth--
				if depth == 0 {
					end = j
					break scan
				}
			}
		}
		if end > 0 {
			out = append(out, s[i:end+1])
			i = end
		}
	}
	return out
}
