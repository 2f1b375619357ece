package policy

import (
	"errors"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

// testExpr is an Expression of the test expression compiler.
type testExpr struct {
	f       func(c *Context) (any, error)
	reqBody bool
}

func (e testExpr) Eval(c *Context) (any, error) { return e.f(c) }
func (e testExpr) UsesRequestBody() bool        { return e.reqBody }
func (e testExpr) UsesResponseBody() bool       { return false }

// testExprs stands in for the expression interpreter: a fixed set of
// sources with their Go meaning.
var testExprs = map[string]func(c *Context) (any, error){
	"@(true)":  func(*Context) (any, error) { return true, nil },
	"@(false)": func(*Context) (any, error) { return false, nil },
	"@(kind)":  func(c *Context) (any, error) { return c.Request.Header.Get("X-Kind"), nil },
	"@(kind == a)": func(c *Context) (any, error) {
		v, _ := c.Var("kind")
		return v == "a", nil
	},
	"@(kind == b)": func(c *Context) (any, error) {
		v, _ := c.Var("kind")
		return v == "b", nil
	},
	"@(lasterror.reason)": func(c *Context) (any, error) {
		if c.LastError == nil {
			return "", nil
		}
		return c.LastError.Reason, nil
	},
	"@(ip)":   func(c *Context) (any, error) { return c.ClientIP.String(), nil },
	"@(ok)":   func(c *Context) (any, error) { return c.Response.StatusCode < 400, nil },
	"@(boom)": func(*Context) (any, error) { return nil, errors.New("boom") },
	"@(status)": func(c *Context) (any, error) {
		return c.Response.StatusCode, nil
	},
	"@(body)": func(c *Context) (any, error) {
		b, err := c.Request.Body.Bytes()
		return "got " + string(b), err
	},
}

func testCompiler(src string, line, col int) (Expression, error) {
	f, ok := testExprs[src]
	if !ok {
		return nil, errors.New("unknown test expression " + src)
	}
	return testExpr{f: f, reqBody: src == "@(body)"}, nil
}

// testEnv is the environment of the golden documents.
func testEnv(scope string) *Env {
	values := map[string][2]string{
		"backend-key": {"k-123", ""},
		"host":        {"api.example.org", ""},
		"secret-pass": {"s3cr3t-PASSWORD", "secret"},
	}
	frags := map[string]string{
		"common": `<fragment><set-header name="X-Common" exists-action="override"><value>c</value></set-header></fragment>`,
		"broken": "<fragment>\n  <set-header name=\"a\" exists-action=\"nope\"><value>x</value></set-header>\n</fragment>",
		"loop":   `<fragment><include-fragment fragment-id="loop"/></fragment>`,
	}
	return &Env{
		Scope: scope,
		NamedValue: func(name string) (string, bool, bool) {
			v, ok := values[strings.ToLower(name)]
			return v[0], v[1] != "", ok
		},
		Fragment: func(id string) (string, bool) { f, ok := frags[id]; return f, ok },
		Backend: func(id string) (*url.URL, bool) {
			if id == "orders" {
				u, _ := url.Parse("http://orders.internal:8080/api")
				return u, true
			}
			return nil, false
		},
		Expressions: testCompiler,
	}
}

func compileFile(t *testing.T, path, scope string) *Document {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := CompileDocument(string(src), testEnv(scope))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestGolden compiles each testdata/*.xml as an operation document under
// the default root and compares the description of the pipeline.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.xml")
	if len(files) == 0 {
		t.Fatal("no golden documents")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		t.Run(name, func(t *testing.T) {
			p := Compose(compileFile(t, f, "apis/a/operations/"+name))
			out := p.Describe()
			if strings.Contains(out, "s3cr3t") {
				t.Fatalf("a secret named value leaked into the description:\n%s", out)
			}
			golden(t, strings.TrimSuffix(f, ".xml")+".golden", out)
		})
	}
}

// TestGoldenCompose composes global, product, API and operation documents.
func TestGoldenCompose(t *testing.T) {
	docs := map[string]*Document{}
	for _, s := range []string{"global", "product", "api", "operation"} {
		docs[s] = compileFile(t, "testdata/compose/"+s+".xml", s)
	}
	tests := []struct {
		name string
		docs []*Document
	}{
		{name: "all", docs: []*Document{docs["global"], docs["product"], docs["api"], docs["operation"]}},
		{name: "no-product", docs: []*Document{docs["global"], nil, docs["api"], docs["operation"]}},
		{name: "product-only", docs: []*Document{nil, docs["product"], nil, nil}},
		{name: "none", docs: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, "testdata/compose/"+tc.name+".golden", Compose(tc.docs...).Describe())
		})
	}
	if !Compose().Trivial() || !Compose(docs["api"]).Trivial() == false {
		// api.xml has inbound and outbound policies: not trivial.
	}
	if !Compose().Trivial() {
		t.Error("the empty pipeline is not trivial")
	}
	if Compose(docs["api"]).Trivial() {
		t.Error("a pipeline with policies is trivial")
	}
}

// TestCompileErrors checks the message, location and path of refused
// documents against testdata/errors/*.golden.
func TestCompileErrors(t *testing.T) {
	files, _ := filepath.Glob("testdata/errors/*.xml")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = CompileDocument(string(src), testEnv("apis/a"))
			if err == nil {
				t.Fatal("the document compiled")
			}
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("%T is not a *CompileError: %v", err, err)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("the error echoes a secret: %v", err)
			}
			golden(t, strings.TrimSuffix(f, ".xml")+".golden", err.Error()+"\n")
		})
	}
}

func TestFragmentValidation(t *testing.T) {
	tests := []struct {
		name, src, wantErr string
	}{
		{name: "ok", src: `<fragment><set-header name="a"><value>b</value></set-header><rate-limit calls="1" renewal-period="1"/></fragment>`},
		{name: "base refused", src: `<fragment><base/></fragment>`, wantErr: "<base/> may appear only directly inside a section"},
		{name: "unknown", src: `<fragment><nope/></fragment>`, wantErr: "policy 'nope' is not supported by Portico"},
		{name: "loop", src: `<fragment><include-fragment fragment-id="loop"/></fragment>`, wantErr: `includes itself`},
		{name: "wrong root", src: `<policies/>`, wantErr: "root element must be <fragment>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CompileFragment(tc.src, testEnv("fragment"))
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestExpressionsByDefault(t *testing.T) {
	if _, err := CompileDocument(`<policies><inbound><set-header name="a" exists-action="override"><value>@(1 + 2)</value></set-header></inbound></policies>`, &Env{}); err != nil {
		t.Fatalf("a valid expression was refused: %v", err)
	}
	_, err := CompileDocument("<policies>\n<inbound>\n<set-header name=\"a\" exists-action=\"override\"><value>@(1 +)</value></set-header></inbound></policies>", &Env{})
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "inbound/set-header") {
		t.Fatalf("err = %v", err)
	}
	_, err = CompileDocument(`<policies><inbound><set-header name="a"><value>@(1)</value></set-header></inbound></policies>`, &Env{Expressions: NoExpressions})
	if err == nil || !strings.Contains(err.Error(), "not available") {
		t.Fatalf("NoExpressions: err = %v", err)
	}
}

func TestXMLPositions(t *testing.T) {
	src := "<policies>\n  <inbound>\n    <set-header  name=\"x\"\n\t exists-action='skip'>é<value>v</value></set-header>\n  </inbound>\n</policies>"
	root, err := parseXML(src, "policies")
	if err != nil {
		t.Fatal(err)
	}
	sh := root.Children[0].Children[0]
	if sh.Line != 3 || sh.Col != 5 {
		t.Errorf("set-header at %d:%d", sh.Line, sh.Col)
	}
	if a := sh.Attr("name"); a.Line != 3 || a.Col != 18 {
		t.Errorf("name at %d:%d", a.Line, a.Col)
	}
	if a := sh.Attr("exists-action"); a.Line != 4 || a.Col != 3 || a.Value != "skip" {
		t.Errorf("exists-action at %d:%d = %q", a.Line, a.Col, a.Value)
	}
	if v := sh.Children[0]; v.Line != 4 || v.Col != 25 {
		t.Errorf("value at %d:%d", v.Line, v.Col)
	}
}

// FuzzCompileDocument feeds arbitrary documents to the compiler: it must
// never panic, and every refusal must be a located *CompileError.
func FuzzCompileDocument(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.xml")
	more, _ := filepath.Glob("testdata/*/*.xml")
	for _, p := range append(files, more...) {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(string(b))
		}
	}
	f.Add(`<policies><inbound><base/><include-fragment fragment-id="loop"/></inbound></policies>`)
	f.Fuzz(func(t *testing.T, src string) {
		d, err := CompileDocument(src, testEnv("global"))
		if err != nil {
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("%T: %v", err, err)
			}
			return
		}
		_ = Compose(d, d).Describe()
	})
}
