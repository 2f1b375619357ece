package expr_test

import (
	"testing"

	"github.com/portico-gw/portico/internal/policy/expr"
	"github.com/portico-gw/portico/internal/policy/expr/exprtest"
)

// BenchmarkHeaderCompare is the goal benchmark: read a header with
// GetValueOrDefault and compare it (goal < 200 ns, <= 2 allocs).
func BenchmarkHeaderCompare(b *testing.B) {
	p := expr.MustCompile(`@(context.Request.Headers.GetValueOrDefault("X-Tenant", "") == "contoso")`)
	c := exprtest.New()
	b.ReportAllocs()
	for b.Loop() {
		v, err := p.EvalBool(c, nil)
		if err != nil || !v {
			b.Fatal(v, err)
		}
	}
}

const block20 = `@{
	var body = context.Request.Body.As<JObject>(preserveContent: true);
	var name = (string)body["name"];
	var id = (int)body["id"];
	var tenant = context.Request.Headers.GetValueOrDefault("X-Tenant", "default");
	var city = (string)body.SelectToken("address.city");
	var tags = body["tags"].Select(t => ((string)t).ToUpperInvariant()).ToArray();
	var score = (double)body["score"];
	var result = new JObject();
	result["id"] = id;
	result["displayName"] = $"{name} ({tenant})";
	result["city"] = city?.ToLower() ?? "unknown";
	result["tags"] = new JArray(tags);
	result["grade"] = score >= 9 ? "A" : score >= 7 ? "B" : "C";
	if ((bool)body["active"]) {
		result["status"] = "active";
	}
	result["user"] = context.User.Email;
	result["at"] = context.Timestamp.ToString("o");
	return result.ToString(Newtonsoft.Json.Formatting.None);
}`

// BenchmarkBlock20JSON is the goal benchmark for a 20-line block over a JSON
// body (goal < 20 µs).
func BenchmarkBlock20JSON(b *testing.B) {
	p := expr.MustCompile(block20)
	c := exprtest.New()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Eval(c, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompileBlock20(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := expr.Compile(block20, 1, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInterpolation(b *testing.B) {
	p := expr.MustCompile(`@($"{context.Request.Method} {context.Request.Url.Path} {context.Response.StatusCode}")`)
	c := exprtest.New()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Eval(c, nil); err != nil {
			b.Fatal(err)
		}
	}
}
