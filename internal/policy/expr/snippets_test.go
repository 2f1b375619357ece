package expr_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/portico-gw/portico/internal/policy/expr"
	"github.com/portico-gw/portico/internal/policy/expr/exprtest"
)

// Realistic policy snippets, run end to end against the Context interface.
func TestSnippets(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
		ctx  func(c *exprtest.Context)
	}{
		{
			name: "jwt claim routing",
			src: `@{
				var jwt = context.Request.Headers.GetValueOrDefault("Authorization", "").AsJwt();
				if (jwt == null) { return "https://public.contoso.com"; }
				var tenant = jwt.Claims.GetValueOrDefault("tid", "default");
				var roles = jwt.Claims.GetValueOrDefault("roles", "").Split(',');
				if (roles.Contains("admin")) { return $"https://admin.contoso.com/{tenant}"; }
				return $"https://{tenant}.contoso.com";
			}`,
			want: "https://admin.contoso.com/tenant-1",
		},
		{
			name: "jwt missing header",
			src:  `@(context.Request.Headers.GetValueOrDefault("Authorization", "").AsJwt()?.Subject ?? "anonymous")`,
			want: "anonymous",
			ctx:  func(c *exprtest.Context) { c.Req.Headers.Del("Authorization") },
		},
		{
			name: "body rewriting with JObject",
			src: `@{
				var body = context.Request.Body.As<JObject>(preserveContent: true);
				body["fullName"] = body["name"] + " " + context.User.LastName;
				body.Remove("tags");
				body["address"]["country"] = "UK";
				body["receivedAt"] = context.Timestamp.ToString("o");
				var items = new JArray();
				foreach (var t in new[] { "x", "y" }) { items.Add(new JObject { { "tag", t } }); }
				body.Add("items", items);
				return body.ToString(Newtonsoft.Json.Formatting.None);
			}`,
			want: `{"id":42,"name":"Ada","address":{"city":"London","zip":"N1","country":"UK"},"active":true,"score":9.5,"fullName":"Ada Lovelace","receivedAt":"2024-03-15T10:30:45.1234567Z","items":[{"tag":"x"},{"tag":"y"}]}`,
		},
		{
			name: "hmac signed header",
			src: `@{
				var key = Encoding.UTF8.GetBytes("secret");
				var date = context.Timestamp.ToString("r");
				var toSign = context.Request.Method + "\n" + context.Request.Url.Path + "\n" + date;
				using (var hmac = new HMACSHA256(key))
				{
					var sig = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(toSign)));
					return $"HMAC-SHA256 date={date};sig={sig}";
				}
			}`,
			want: "HMAC-SHA256 date=Fri, 15 Mar 2024 10:30:45 GMT;sig=",
		},
		{
			name: "comb id",
			src: `@{
				var guid = Guid.NewGuid().ToByteArray();
				var ticks = BitConverter.GetBytes(context.Timestamp.Ticks);
				Array.Reverse(ticks);
				var comb = new byte[16];
				Array.Copy(guid, 0, comb, 0, 10);
				Array.Copy(ticks, 2, comb, 10, 6);
				return new Guid(comb).ToString();
			}`,
			want: "-",
		},
		{
			name: "query rewriting",
			src: `@{
				var q = context.Request.Url.Query;
				var parts = new List<string>();
				foreach (var kv in q) {
					if (kv.Key == "page") { continue; }
					parts.Add(Uri.EscapeDataString(kv.Key) + "=" + Uri.EscapeDataString(string.Join(",", kv.Value)));
				}
				var page = int.Parse(q.GetValueOrDefault("page", "1"));
				parts.Add("offset=" + ((page - 1) * 20));
				return context.Request.Url.Path + "?" + string.Join("&", parts);
			}`,
			want: "/echo/users/42?filter=active&offset=20",
		},
		{
			name: "choose backend by header and product",
			src:  `@(context.Product?.Name == "Starter" && context.Request.Headers.GetValueOrDefault("X-Tenant", "") == "contoso" ? "pool-a" : "pool-b")`,
			want: "pool-a",
		},
		{
			name: "xml to json",
			src: `@{
				var doc = XDocument.Parse("<order id=\"7\"><line sku=\"a\" qty=\"2\"/><line sku=\"b\" qty=\"1\"/></order>");
				var o = new JObject();
				o["id"] = (int)doc.Root.Attribute("id");
				o["lines"] = new JArray(doc.Root.Elements("line").Select(l => new JObject { { "sku", (string)l.Attribute("sku") }, { "qty", (int)l.Attribute("qty") } }));
				o["total"] = doc.Root.Elements("line").Sum(l => (int)l.Attribute("qty"));
				return o.ToString(Formatting.None);
			}`,
			want: `{"id":7,"lines":[{"sku":"a","qty":2},{"sku":"b","qty":1}],"total":3}`,
		},
		{
			name: "error response body",
			src: `@(new JObject(
				new JProperty("statusCode", context.Response.StatusCode),
				new JProperty("error", context.LastError.Reason),
				new JProperty("requestId", context.RequestId.ToString())).ToString(Formatting.None))`,
			want: `{"statusCode":200,"error":"RateLimitExceeded","requestId":"0f8fad5b-d9cb-469f-a165-70867728950e"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := expr.Compile(tt.src, 10, 5)
			if err != nil {
				t.Fatal(err)
			}
			c := exprtest.New()
			if tt.ctx != nil {
				tt.ctx(c)
			}
			got, err := p.EvalString(c, testLimits)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.want == "-": // COMB: just a Guid
				if len(got) != 36 || strings.Count(got, "-") != 4 {
					t.Errorf("got %q, want a Guid", got)
				}
			case strings.HasSuffix(tt.want, "sig="):
				if !strings.HasPrefix(got, tt.want) || len(got) != len(tt.want)+44 {
					t.Errorf("got %q", got)
				}
			case got != tt.want:
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestHMACMatchesKnownSignature(t *testing.T) {
	p := expr.MustCompile(`@(Convert.ToBase64String(new HMACSHA256(Encoding.UTF8.GetBytes("secret")).ComputeHash(Encoding.UTF8.GetBytes("POST\n/echo/users/42"))))`)
	got, err := p.EvalString(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != "va2tCx0ntD2or7edp3DFqzeHi2GXZdHuSUMxr1fc0LM=" {
		t.Errorf("got %s", got)
	}
}

func TestCompileErrorPositions(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		line, col int
		wantLine  int
		wantCol   int
	}{
		{name: "first line", src: `@(context.Foo)`, line: 3, col: 20, wantLine: 3, wantCol: 30},
		{name: "block later line", src: "@{\n  var x = 1;\n  return y;\n}", line: 7, col: 9, wantLine: 9, wantCol: 10},
		{name: "leading space", src: "  @(1 +)", line: 1, col: 1, wantLine: 1, wantCol: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := expr.Compile(tt.src, tt.line, tt.col)
			var ce *expr.Error
			if !errors.As(err, &ce) {
				t.Fatalf("want *expr.Error, got %v", err)
			}
			if ce.Line != tt.wantLine || ce.Col != tt.wantCol {
				t.Errorf("got %d:%d (%s), want %d:%d", ce.Line, ce.Col, ce.Msg, tt.wantLine, tt.wantCol)
			}
		})
	}
}

func TestEvalErrorPosition(t *testing.T) {
	p, err := expr.Compile("@{\n  var s = (string)null;\n  return s.Length;\n}", 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Eval(exprtest.New(), nil)
	var ee *expr.EvalError
	if !errors.As(err, &ee) {
		t.Fatalf("want *EvalError, got %v", err)
	}
	if ee.Exception != "NullReferenceException" || ee.Line != 7 || ee.Reason() != expr.ReasonEvaluationFailure {
		t.Errorf("got %+v", ee)
	}
}

func TestUsesBody(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		req, resp bool
	}{
		{name: "none", src: `@(context.Request.Headers.GetValueOrDefault("a", ""))`},
		{name: "request", src: `@(context.Request.Body.As<string>())`, req: true},
		{name: "response", src: `@(context.Response.Body.As<JObject>()["a"])`, resp: true},
		{name: "indirect", src: `@{ var r = context.Request; return r.Body.As<string>(); }`, req: true, resp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := expr.MustCompile(tt.src)
			if p.UsesRequestBody() != tt.req || p.UsesResponseBody() != tt.resp {
				t.Errorf("req=%v resp=%v", p.UsesRequestBody(), p.UsesResponseBody())
			}
		})
	}
}

func TestBodyConsumption(t *testing.T) {
	c := exprtest.New()
	p := expr.MustCompile(`@(context.Request.Body.As<string>(preserveContent: true).Length)`)
	if _, err := p.Eval(c, nil); err != nil || c.Req.Body.Consumed() {
		t.Fatalf("preserveContent consumed the body: %v", err)
	}
	p = expr.MustCompile(`@(context.Request.Body.As<JObject>()["id"])`)
	if _, err := p.Eval(c, nil); err != nil || !c.Req.Body.Consumed() {
		t.Fatalf("As<T>() did not consume the body: %v", err)
	}
}

func TestEvalBoolAndString(t *testing.T) {
	c := exprtest.New()
	b, err := expr.MustCompile(`@(context.Response.StatusCode >= 200)`).EvalBool(c, nil)
	if err != nil || !b {
		t.Fatalf("EvalBool = %v, %v", b, err)
	}
	if _, err := expr.MustCompile(`@("x")`).EvalBool(c, nil); !expr.IsEvalError(err) {
		t.Fatalf("EvalBool of a string: %v", err)
	}
	s, err := expr.MustCompile(`@(1.5)`).EvalString(c, nil)
	if err != nil || s != "1.5" {
		t.Fatalf("EvalString = %q, %v", s, err)
	}
}

func TestTrace(t *testing.T) {
	c := exprtest.New()
	if _, err := expr.MustCompile(`@{ context.Trace("auth", "checked " + 2); return true; }`).Eval(c, nil); err != nil {
		t.Fatal(err)
	}
	if len(c.TraceRecords) != 1 || c.TraceRecords[0].Source != "auth" || c.TraceRecords[0].Message != "checked 2" {
		t.Errorf("trace = %+v", c.TraceRecords)
	}
}

func TestIsExpression(t *testing.T) {
	for s, want := range map[string]bool{"@(1)": true, " @{ return 1; }": true, "plain": false, "@@": false, "": false} {
		if expr.IsExpression(s) != want {
			t.Errorf("IsExpression(%q) != %v", s, want)
		}
	}
}

func TestBudgets(t *testing.T) {
	p := expr.MustCompile(`@{ var n = 0; while (true) { n++; } }`)
	_, err := p.Eval(nil, &expr.Limits{MaxSteps: 1000})
	var ee *expr.EvalError
	if !errors.As(err, &ee) || ee.Exception != "StepBudgetExceeded" {
		t.Fatalf("got %v", err)
	}
	p = expr.MustCompile(`@{ try { while (true) { } } catch (Exception) { return "caught"; } }`)
	if _, err := p.Eval(nil, &expr.Limits{MaxSteps: 100}); !expr.IsEvalError(err) {
		t.Fatalf("a budget error must not be catchable: %v", err)
	}
	p = expr.MustCompile(`@(new string('x', 1000))`)
	if _, err := p.Eval(nil, &expr.Limits{MaxMemory: 100}); !expr.IsEvalError(err) {
		t.Fatalf("memory budget not enforced: %v", err)
	}
}

func TestConcurrentEval(t *testing.T) {
	p := expr.MustCompile(`@{ var b = context.Request.Body.As<JObject>(true); var n = 0; foreach (var t in b["tags"]) { n++; } return (string)b["name"] + n; }`)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				s, err := p.EvalString(exprtest.New(), nil)
				if err != nil || s != "Ada2" {
					t.Errorf("got %q, %v", s, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestNoContext(t *testing.T) {
	_, err := expr.MustCompile(`@(context.Api.Name)`).Eval(nil, nil)
	if !expr.IsEvalError(err) {
		t.Fatalf("got %v", err)
	}
}
