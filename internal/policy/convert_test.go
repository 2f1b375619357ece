package policy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestJSONToXML(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "object", in: `{"b":1,"a":"x<y","t":true,"n":null}`, want: `<Document><b>1</b><a>x&lt;y</a><t>true</t><n /></Document>`},
		{name: "nested and arrays", in: `{"order":{"id":7,"items":[{"sku":"a"},{"sku":"b"}]}}`,
			want: `<Document><order><id>7</id><items><sku>a</sku></items><items><sku>b</sku></items></order></Document>`},
		{name: "attributes and text", in: `{"p":{"@id":"1","#text":"hi"}}`, want: `<Document><p id="1">hi</p></Document>`},
		{name: "only attributes", in: `{"p":{"@id":"1"},"e":{}}`, want: `<Document><p id="1" /><e /></Document>`},
		{name: "root array", in: `[1,2]`, want: `<Document><Array>1</Array><Array>2</Array></Document>`},
		{name: "names encoded", in: `{"first name":1,"2x":2}`, want: `<Document><first_x0020_name>1</first_x0020_name><_x0032_x>2</_x0032_x></Document>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := JSONToXML([]byte(tc.in))
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %s, %v\nwant %s", got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{`{"a":`, `{"a":1} 2`, ``} {
		if _, err := JSONToXML([]byte(bad)); err == nil {
			t.Errorf("%q converted", bad)
		}
	}
}

func TestXMLToJSON(t *testing.T) {
	tests := []struct {
		name            string
		in              string
		friendly, array bool
		want            string
	}{
		{name: "direct", in: `<?xml version="1.0" encoding="utf-8"?><order id="7"><item>a</item><item>b</item><note/><total>3</total></order>`,
			want: `{"?xml":{"@version":"1.0","@encoding":"utf-8"},"order":{"@id":"7","item":["a","b"],"note":null,"total":"3"}}`},
		{name: "text beside attributes", in: `<p lang="en">hi</p>`, want: `{"p":{"@lang":"en","#text":"hi"}}`},
		{name: "prefixes kept in direct", in: `<s:Envelope xmlns:s="urn:s"><s:Body>x</s:Body></s:Envelope>`,
			want: `{"s:Envelope":{"@xmlns:s":"urn:s","s:Body":"x"}}`},
		{name: "javascript-friendly", friendly: true, in: `<?xml version="1.0"?><s:Envelope xmlns:s="urn:s" a="1"><s:Body>x</s:Body></s:Envelope>`,
			want: `{"Envelope":{"a":"1","Body":"x"}}`},
		{name: "always array", array: true, in: `<r><one>1</one></r>`, want: `{"r":{"one":["1"]}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := XMLToJSON([]byte(tc.in), tc.friendly, tc.array)
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %s, %v\nwant %s", got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{`<a>`, `<a></b>`, `<a/><b/>`, `text`} {
		if _, err := XMLToJSON([]byte(bad), false, false); err == nil {
			t.Errorf("%q converted", bad)
		}
	}
}

// bodyBackend answers with a fixed body and content type.
type bodyBackend struct {
	ct, body string
	got      string
}

func (f *bodyBackend) Forward(c *Context, timeout time.Duration) error {
	b, _ := c.Request.Body.Bytes()
	f.got = string(b) + " | " + c.Request.Header.Get("Content-Type")
	c.Response.StatusCode = 200
	c.Response.Header = http.Header{"Content-Type": {f.ct}}
	c.Response.Body.Set([]byte(f.body))
	return nil
}

func TestConversionPolicies(t *testing.T) {
	tests := []struct {
		name             string
		doc              string
		accept, reqCT    string
		reqBody          string
		beCT, beBody     string
		wantBackend      string
		wantBody, wantCT string
		wantStatus       int
	}{
		{name: "find-and-replace both ways", doc: `<inbound><find-and-replace from="cat" to="dog"/></inbound><outbound><find-and-replace from="backend" to="@(&quot;gateway&quot;)"/></outbound>`,
			reqBody: "cat and cat", reqCT: "text/plain", beCT: "text/plain", beBody: "from backend",
			wantBackend: "dog and dog | text/plain", wantBody: "from gateway", wantCT: "text/plain"},
		{name: "xml-to-json on the response when json is accepted", doc: `<outbound><xml-to-json kind="direct" apply="content-type-xml" consider-accept-header="true"/></outbound>`,
			accept: "application/json", beCT: "text/xml; charset=utf-8", beBody: `<a><b>1</b></a>`, wantBody: `{"a":{"b":"1"}}`, wantCT: "application/json"},
		{name: "xml-to-json skipped when the client wants xml", doc: `<outbound><xml-to-json kind="direct" apply="always"/></outbound>`,
			accept: "application/xml", beCT: "text/xml", beBody: `<a/>`, wantBody: `<a/>`, wantCT: "text/xml"},
		{name: "xml-to-json skipped for json content", doc: `<outbound><xml-to-json kind="direct" apply="content-type-xml" consider-accept-header="false"/></outbound>`,
			beCT: "application/json", beBody: `{}`, wantBody: `{}`, wantCT: "application/json"},
		{name: "json-to-xml on the request", doc: `<inbound><json-to-xml apply="content-type-json" consider-accept-header="false"/></inbound>`,
			reqCT: "application/json", reqBody: `{"a":1}`, beCT: "text/plain", beBody: "ok",
			wantBackend: "<Document><a>1</a></Document> | application/xml", wantBody: "ok", wantCT: "text/plain"},
		{name: "json-to-xml on the response", doc: `<outbound><json-to-xml apply="always" consider-accept-header="true" parse-date="false"/></outbound>`,
			accept: "text/xml", beCT: "application/json", beBody: `{"a":[1,2]}`, wantBody: `<Document><a>1</a><a>2</a></Document>`, wantCT: "application/xml"},
		{name: "invalid json request is a 400", doc: `<inbound><json-to-xml apply="always" consider-accept-header="false"/></inbound>`,
			reqBody: `{"a":`, wantStatus: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustExprPipeline(t, `<policies>`+tc.doc+`</policies>`)
			req := httptest.NewRequest("POST", "/api/r", strings.NewReader(tc.reqBody))
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			if tc.reqCT != "" {
				req.Header.Set("Content-Type", tc.reqCT)
			}
			be := &bodyBackend{ct: tc.beCT, body: tc.beBody}
			c := newCtx(req, be, nil, time.Now())
			p.Run(c)
			if tc.wantStatus != 0 {
				if c.Response.StatusCode != tc.wantStatus {
					t.Fatalf("status = %d, want %d", c.Response.StatusCode, tc.wantStatus)
				}
				return
			}
			if c.LastError != nil {
				t.Fatalf("LastError = %+v", c.LastError)
			}
			if tc.wantBackend != "" && be.got != tc.wantBackend {
				t.Errorf("backend got %q, want %q", be.got, tc.wantBackend)
			}
			if got := body(t, &c.Response.Body); got != tc.wantBody {
				t.Errorf("body = %q, want %q", got, tc.wantBody)
			}
			if got := c.Response.Header.Get("Content-Type"); got != tc.wantCT {
				t.Errorf("Content-Type = %q, want %q", got, tc.wantCT)
			}
		})
	}
}

func TestConversionCompileErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{name: "find-and-replace from required", doc: `<inbound><find-and-replace to="x"/></inbound>`, want: `attribute "from" is required`},
		{name: "find-and-replace empty from", doc: `<inbound><find-and-replace from="" to="x"/></inbound>`, want: `must not be empty`},
		{name: "json-to-xml apply required", doc: `<inbound><json-to-xml/></inbound>`, want: `attribute "apply" is required`},
		{name: "json-to-xml bad apply", doc: `<inbound><json-to-xml apply="content-type-xml"/></inbound>`, want: `must be one of always, content-type-json`},
		{name: "json-to-xml namespace", doc: `<inbound><json-to-xml apply="always" namespace-prefix="x"/></inbound>`, want: `"namespace-prefix" is not supported by Portico yet`},
		{name: "xml-to-json kind required", doc: `<outbound><xml-to-json apply="always"/></outbound>`, want: `attribute "kind" is required`},
		{name: "xml-to-json not in backend", doc: `<backend><xml-to-json kind="direct" apply="always"/></backend>`, want: `not allowed in the backend section`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompileDocument(`<policies>`+tc.doc+`</policies>`, &Env{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRedirectContentURLs(t *testing.T) {
	tests := []struct {
		name, doc, reqBody, beBody, wantBackend, wantBody string
	}{
		{name: "outbound masks backend links", doc: `<outbound><redirect-content-urls/></outbound>`,
			beBody: `{"next":"http://backend.example/base/r?page=2"}`, wantBody: `{"next":"https://gw.example/orders/r?page=2"}`},
		{name: "inbound unmasks gateway links", doc: `<inbound><redirect-content-urls/></inbound>`,
			reqBody: `see https://gw.example/orders/r`, beBody: "ok", wantBackend: `see http://backend.example/base/r | `, wantBody: "ok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustExprPipeline(t, `<policies>`+tc.doc+`</policies>`)
			req := httptest.NewRequest("POST", "https://gw.example/api/r", strings.NewReader(tc.reqBody))
			be := &bodyBackend{ct: "application/json", body: tc.beBody}
			c := newCtx(req, be, nil, time.Now())
			c.API = APIInfo{ID: "orders", Path: "orders"}
			p.Run(c)
			if c.LastError != nil {
				t.Fatalf("LastError = %+v", c.LastError)
			}
			if tc.wantBackend != "" && be.got != tc.wantBackend {
				t.Errorf("backend got %q, want %q", be.got, tc.wantBackend)
			}
			if got := body(t, &c.Response.Body); got != tc.wantBody {
				t.Errorf("body = %q, want %q", got, tc.wantBody)
			}
		})
	}
}

// FuzzJSONToXML converts arbitrary input: it must not panic, and what it
// produces must be well-formed XML.
func FuzzJSONToXML(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"@b":"c","#text":"d"}],"e f":null}`, `[[1]]`, `"x"`, `{"@a":{}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out, err := JSONToXML([]byte(src))
		if err != nil {
			return
		}
		if _, err := XMLToJSON(out, false, false); err != nil {
			t.Fatalf("%q gave malformed XML %q: %v", src, out, err)
		}
	})
}

// FuzzXMLToJSON converts arbitrary input: it must not panic, and what it
// produces must be valid JSON.
func FuzzXMLToJSON(f *testing.F) {
	for _, s := range []string{`<?xml version="1.0"?><a x="1"><b>t</b><b/>tail</a>`, `<s:E xmlns:s="u"><s:B/></s:E>`, `<a><![CDATA[x]]></a>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, friendly := range []bool{false, true} {
			out, err := XMLToJSON([]byte(src), friendly, friendly)
			if err != nil {
				return
			}
			if !json.Valid(out) {
				t.Fatalf("%q gave invalid JSON %q", src, out)
			}
		}
	})
}
