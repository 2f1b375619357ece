package expr_test

import (
	"bufio"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/policy/expr"
	"github.com/portico-gw/portico/internal/policy/expr/exprtest"
)

// fixedNow is the clock of the conformance suite.
var fixedNow = time.Date(2024, 3, 15, 10, 30, 45, 123456700, time.UTC)

var testLimits = &expr.Limits{Now: func() time.Time { return fixedNow }}

// conformanceCase is one line of testdata/*.txt:
//
//	source ==> expected       expected value (see repr)
//	source ==> !Exception     runtime failure with that exception type
//	source ==> !!fragment     compile error whose message contains fragment
type conformanceCase struct {
	name, src, want string
	file            string
	line            int
}

func loadCases(t testing.TB) []conformanceCase {
	t.Helper()
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	sort.Strings(files)
	var cases []conformanceCase
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		n := 0
		for sc.Scan() {
			n++
			line := sc.Text()
			if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
				continue
			}
			src, want, ok := strings.Cut(line, " ==> ")
			if !ok {
				t.Fatalf("%s:%d: missing ' ==> '", f, n)
			}
			cases = append(cases, conformanceCase{
				name: fmt.Sprintf("%s:%d", filepath.Base(f), n), src: strings.TrimSpace(src), want: strings.TrimSpace(want), file: f, line: n,
			})
		}
		fh.Close()
	}
	return cases
}

// repr renders a value for comparison with expectations.
func repr(v expr.Value) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", x)
	case bool:
		return fmt.Sprint(x)
	case int32:
		return fmt.Sprint(x)
	case int64:
		return fmt.Sprintf("%dL", x)
	case float64:
		return expr.ToString(x) + "d"
	case expr.Decimal:
		return x.String() + "m"
	case expr.Char:
		return "'" + strings.Trim(strconv.Quote(expr.ToString(x)), "\"") + "'"
	case uint8:
		return fmt.Sprintf("(byte)%d", x)
	case []byte:
		return fmt.Sprintf("bytes:%x", x)
	case *expr.List:
		parts := make([]string, len(x.Items))
		for i, it := range x.Items {
			parts[i] = repr(it)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *expr.Dict:
		parts := make([]string, 0, x.Len())
		for i, k := range x.Keys() {
			parts = append(parts, repr(k)+": "+repr(x.Values()[i]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case expr.KeyValuePair:
		return "[" + repr(x.Key) + ", " + repr(x.Value) + "]"
	case *expr.JObject, *expr.JArray, *expr.JProperty, *expr.JValue:
		return "json:" + expr.JSON(x, false)
	case expr.DateTime:
		s, _ := expr.FormatValue(x, "o")
		return "DateTime:" + s
	case expr.DateTimeOffset:
		s, _ := expr.FormatValue(x, "o")
		return "DateTimeOffset:" + s
	case time.Duration:
		return "TimeSpan:" + expr.ToString(x)
	case expr.Guid:
		return "Guid:" + x.String()
	}
	return fmt.Sprintf("%T:%s", v, expr.ToString(v))
}

// fileContexts change the sample context for the cases of one file.
var fileContexts = map[string]func(t testing.TB, c *exprtest.Context){
	// a request with a client certificate and a form body
	"tls-form.txt": func(t testing.TB, c *exprtest.Context) {
		b, err := os.ReadFile("testdata/client-cert.pem")
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			t.Fatal("testdata/client-cert.pem: no PEM block")
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		c.Req.Certificate = cert
		c.Req.Headers.Set("Content-Type", "application/x-www-form-urlencoded")
		c.Req.Body = expr.NewBody([]byte("name=Ada+Lovelace&tag=a&tag=b"))
	},
}

// newContext is the context of a conformance case.
func newContext(t testing.TB, c conformanceCase) *exprtest.Context {
	ctx := exprtest.New()
	if f := fileContexts[filepath.Base(c.file)]; f != nil {
		f(t, ctx)
	}
	return ctx
}

func runCase(t testing.TB, c conformanceCase) (got string, ok bool) {
	p, err := expr.Compile(c.src, 1, 1)
	if strings.HasPrefix(c.want, "!!") {
		if err == nil {
			return "compiled fine", false
		}
		return "!!" + err.Error(), strings.Contains(err.Error(), c.want[2:])
	}
	if err != nil {
		return "compile error: " + err.Error(), false
	}
	v, err := p.Eval(newContext(t, c), testLimits)
	if err != nil {
		ee, isEval := err.(*expr.EvalError)
		if !isEval {
			return "non-EvalError " + err.Error(), false
		}
		return "!" + ee.Exception + " (" + ee.Msg + ")", strings.HasPrefix(c.want, "!") && ee.Exception == c.want[1:]
	}
	got = repr(v)
	return got, got == c.want
}

func TestConformance(t *testing.T) {
	cases := loadCases(t)
	t.Logf("%d conformance cases", len(cases))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := runCase(t, c)
			if !ok {
				t.Errorf("%s\n  source: %s\n  want:   %s\n  got:    %s", c.name, c.src, c.want, got)
			}
		})
	}
}
