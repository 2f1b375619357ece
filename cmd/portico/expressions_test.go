package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestServePolicyExpressions runs an APIM-style document with C#
// expressions through portico serve: header reads with GetValueOrDefault,
// a choose on an expression, a variable, a JObject body rewrite and a
// return-response built from expressions.
func TestServePolicyExpressions(t *testing.T) {
	s := startServe(t)
	key := s.key("admin-unlimited")
	doc := `<policies>
  <inbound>
    <base />
    <set-variable name="caller" value="@(context.Request.Headers.GetValueOrDefault(&quot;X-Caller&quot;, &quot;anonymous&quot;).ToUpperInvariant())" />
    <choose>
      <when condition="@(context.Request.Url.Query.GetValueOrDefault(&quot;mode&quot;, &quot;&quot;) == &quot;short&quot;)">
        <return-response>
          <set-status code="200" reason="OK" />
          <set-header name="X-Caller" exists-action="override"><value>@((string)context.Variables[&quot;caller&quot;])</value></set-header>
          <set-body>@{
            var o = new JObject();
            o["caller"] = (string)context.Variables["caller"];
            o["op"] = context.Operation.Id;
            o["len"] = ((string)context.Variables["caller"]).Length;
            return o.ToString(Newtonsoft.Json.Formatting.None);
          }</set-body>
        </return-response>
      </when>
    </choose>
    <set-header name="X-From-Expression" exists-action="override"><value>@($"{context.Api.Name}:{context.Request.Method}")</value></set-header>
    <set-body>@{
      var body = context.Request.Body.As<JObject>(preserveContent: true);
      body["stamped"] = true;
      body["caller"] = (string)context.Variables["caller"];
      return body.ToString();
    }</set-body>
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>`
	if status, body := s.putXML("/api/v1/apis/echo-api/policy", doc); status != 201 {
		t.Fatalf("PUT policy = %d %s", status, body)
	}
	if status, body := s.putXML("/api/v1/policy", `<policies><inbound><set-header name="X" exists-action="override"><value>@(context.Request.Headers["a"].Nope(</value></set-header></inbound></policies>`); status != 400 || !strings.Contains(body, "line 1") {
		t.Fatalf("a broken expression was not refused with its position: %d %s", status, body)
	}

	t.Run("return-response built by expressions", func(t *testing.T) {
		var r gwResult
		s.poll("the policy to be served", func() bool {
			var err error
			r, err = s.call("/echo/resource?mode=short", key)
			return err == nil && r.status == 200 && strings.Contains(r.body, `"caller"`)
		})
		var got map[string]any
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatalf("body %q: %v", r.body, err)
		}
		if got["caller"] != "ANONYMOUS" || got["op"] != "retrieve-resource" || got["len"] != float64(9) || r.header.Get("X-Caller") != "ANONYMOUS" {
			t.Fatalf("response %v %s", r.header, r.body)
		}
	})

	t.Run("request rewritten with expressions reaches the backend", func(t *testing.T) {
		req := `{"item": 1}`
		res := s.post("/echo/resource", key, req, map[string]string{"X-Caller": "ann", "Content-Type": "application/json"})
		var echo struct {
			Headers map[string][]string `json:"headers"`
			Body    string              `json:"body"`
		}
		if err := json.Unmarshal([]byte(res), &echo); err != nil {
			t.Fatalf("echo %q: %v", res, err)
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(echo.Body), &body); err != nil {
			t.Fatalf("backend body %q: %v", echo.Body, err)
		}
		if body["stamped"] != true || body["caller"] != "ANN" || body["item"] != float64(1) {
			t.Fatalf("backend got body %v", body)
		}
		if got := echo.Headers["X-From-Expression"]; len(got) != 1 || got[0] != "Echo API:POST" {
			t.Fatalf("backend got X-From-Expression %v", got)
		}
	})
}

// post sends a POST through the gateway and returns the body (status 200 required).
func (s *stack) post(path, key, body string, hdr map[string]string) string {
	s.t.Helper()
	req, _ := http.NewRequest("POST", s.gwURL+path, strings.NewReader(body))
	req.Header.Set("Ocp-Apim-Subscription-Key", key)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		s.t.Fatalf("POST %s = %d %s", path, res.StatusCode, raw)
	}
	return string(raw)
}
