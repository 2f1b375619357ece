package expr_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/policy/expr"
	"github.com/portico-gw/portico/internal/policy/expr/exprtest"
)

// stepsUsed finds the smallest step budget p runs within, by bisection.
func stepsUsed(tb testing.TB, p *expr.Program, c expr.Context) int {
	lo, hi := 1, 1<<34
	for lo < hi {
		mid := lo + (hi-lo)/2
		if _, err := p.Eval(c, &expr.Limits{MaxSteps: mid, MaxMemory: 1 << 40}); err != nil {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if _, err := p.Eval(c, &expr.Limits{MaxSteps: lo, MaxMemory: 1 << 40}); err != nil {
		tb.Fatal(err)
	}
	return lo
}

// BenchmarkCosts runs operations over large inputs with an unlimited
// budget and reports the steps they are charged and the time per step: the
// cost model keeps ns/step within a small factor of a plain loop's, so that
// the step budget bounds CPU time whatever the expression does.
func BenchmarkCosts(b *testing.B) {
	big := strings.Repeat("abcdefgh", 1<<17) // 1 MiB of ASCII
	var js strings.Builder
	js.WriteString("{")
	for i := range 20000 {
		if i > 0 {
			js.WriteString(",")
		}
		js.WriteString(`"k` + strconv.Itoa(i) + `":{"b":[1,2,3],"c":"some text here"}`)
	}
	js.WriteString("}")
	vars := map[string]any{"big": big, "small": big[:20000], "json": js.String()}
	cases := []struct{ name, src string }{
		{"loop", `@{ int s = 0; for (int i = 0; i < 30000; i++) { s += i; } return s; }`},
		{"IndexOf", `@(((string)context.Variables["big"]).IndexOf("zz"))`},
		{"ToUpper", `@(((string)context.Variables["big"]).ToUpper().Length)`},
		{"Replace", `@(((string)context.Variables["big"]).Replace("ab", "xy").Length)`},
		{"Substring", `@(((string)context.Variables["big"]).Substring(1).Length)`},
		{"Concat", `@((((string)context.Variables["big"]) + "x").Length)`},
		{"Split", `@(((string)context.Variables["big"]).Split('a').Length)`},
		{"SplitJoin", `@(string.Join(",", ((string)context.Variables["big"]).Split('a')).Length)`},
		{"Regex", `@(Regex.IsMatch((string)context.Variables["big"], "[0-9]+x"))`},
		{"RegexReplace", `@(Regex.Replace((string)context.Variables["big"], "a", "b").Length)`},
		{"JObjectParse", `@(JObject.Parse((string)context.Variables["json"]).Count)`},
		{"JObjectParseToString", `@(JObject.Parse((string)context.Variables["json"]).ToString().Length)`},
		{"Base64", `@(Convert.ToBase64String(Encoding.UTF8.GetBytes((string)context.Variables["big"])).Length)`},
		{"SHA256", `@(SHA256.Create().ComputeHash(Encoding.UTF8.GetBytes((string)context.Variables["big"])).Length)`},
		{"LinqOverChars", `@(((string)context.Variables["big"]).Count(c => c == 'a'))`},
		{"OrderBy", `@(((string)context.Variables["small"]).Split('a').OrderBy(x => x).Count())`},
		{"IndexLoop", `@{ var s = (string)context.Variables["small"]; int n = 0; for (int i = 0; i < s.Length; i++) { if (s[i] == 'a') n++; } return n; }`},
	}
	for _, tc := range cases {
		p := expr.MustCompile(tc.src)
		c := exprtest.New()
		c.Vars = vars
		steps := stepsUsed(b, p, c)
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := p.Eval(c, &expr.Limits{MaxSteps: 1 << 40, MaxMemory: 1 << 40}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(steps), "steps")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(steps), "ns/step")
		})
	}
}
