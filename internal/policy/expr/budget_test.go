package expr_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/policy/expr"
	"github.com/portico-gw/portico/internal/policy/expr/exprtest"
)

// bigBody is a context whose request body is n bytes without the needle.
func bigBody(n int) *exprtest.Context {
	c := exprtest.New()
	c.Req.Body = expr.NewBody(bytes.Repeat([]byte("abcdefgh"), n/8))
	return c
}

func wantException(t *testing.T, err error, exception string) *expr.EvalError {
	t.Helper()
	var ee *expr.EvalError
	if !errors.As(err, &ee) || ee.Exception != exception {
		t.Fatalf("err = %v, want %s", err, exception)
	}
	return ee
}

// TestBudgetChargesBytes: scanning a multi-MB body counts by its size, so
// a loop of IndexOf over an 8 MB body runs out of steps after a few
// iterations (each was one step before, and the loop took seconds of CPU).
func TestBudgetChargesBytes(t *testing.T) {
	c := bigBody(8 << 20)
	p := expr.MustCompile(`@{
		var s = context.Request.Body.As<string>(preserveContent: true);
		int n = 0;
		for (int i = 0; i < 10000; i++) { if (s.IndexOf("needle") >= 0) { n++; } }
		return n;
	}`)
	_, err0 := p.Eval(c, nil)
	wantException(t, err0, "StepBudgetExceeded")

	// One operation larger than the whole budget is refused before it runs.
	p = expr.MustCompile(`@(context.Request.Body.As<string>(preserveContent: true).ToUpper().Length)`)
	_, err := p.Eval(bigBody(1<<20), &expr.Limits{MaxSteps: 10000})
	wantException(t, err, "StepBudgetExceeded")
	if _, err := p.Eval(bigBody(1<<20), nil); err != nil {
		t.Fatalf("one ToUpper of a 1 MiB body is within the default budget: %v", err)
	}

	for name, src := range map[string]string{
		"concatenation": `@{ var s = "x"; for (int i = 0; i < 40; i++) { s = s + s.Substring(0, Math.Min(s.Length, 1 << 20)); } return s.Length; }`,
		"regex":         `@{ var s = context.Request.Body.As<string>(true); int n = 0; for (int i = 0; i < 100; i++) { if (Regex.IsMatch(s, "[0-9]+x")) n++; } return n; }`,
		"json":          `@{ var s = "[" + string.Join(",", Enumerable.Repeat("{\"a\":[1,2,3]}", 20000)) + "]"; int n = 0; for (int i = 0; i < 100; i++) { n += JArray.Parse(s).Count; } return n; }`,
		"split":         `@{ var s = context.Request.Body.As<string>(true); int n = 0; for (int i = 0; i < 100; i++) { n += s.Split('a').Length; } return n; }`,
		"linq":          `@{ var l = Enumerable.Range(0, 100000).ToList(); int n = 0; for (int i = 0; i < 100; i++) { n += l.Where(x => x % 2 == 0).Count(); } return n; }`,
		"join":          `@{ var l = Enumerable.Range(0, 100000).ToList(); int n = 0; for (int i = 0; i < 100; i++) { n += string.Join(",", l).Length; } return n; }`,
		"list contains": `@{ var l = Enumerable.Range(0, 100000).ToList(); int n = 0; for (int i = 0; i < 1000; i++) { if (l.Contains(-1)) n++; } return n; }`,
		"index loop":    `@{ var s = context.Request.Body.As<string>(true); int n = 0; for (int i = 0; i < s.Length; i++) { if (s[i] == 'a') n++; } return n; }`,
	} {
		t.Run(name, func(t *testing.T) {
			p := expr.MustCompile(src)
			_, err := p.Eval(bigBody(1<<20), &expr.Limits{MaxMemory: 1 << 30})
			wantException(t, err, "StepBudgetExceeded")
		})
	}
}

// TestCancelledContextStopsEvaluation: an evaluation whose context is
// cancelled, or whose deadline has passed, stops within CheckEvery steps
// with an OperationCanceledException that try/catch cannot catch, and the
// error unwraps to the context's error.
func TestCancelledContextStopsEvaluation(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	loop := expr.MustCompile(`@{ int i = 0; while (true) { i++; } }`)
	caught := expr.MustCompile(`@{ try { while (true) { } } catch (Exception) { return "caught"; } }`)
	for _, tc := range []struct {
		ctx  context.Context
		want error
	}{{cancelled, context.Canceled}, {expired, context.DeadlineExceeded}} {
		// A budget this large would take minutes: only the context can stop it.
		lim := &expr.Limits{MaxSteps: 1 << 50, Context: tc.ctx}
		for _, p := range []*expr.Program{loop, caught} {
			_, err := p.Eval(nil, lim)
			ee := wantException(t, err, "OperationCanceledException")
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v does not unwrap to %v", err, tc.want)
			}
			if ee.Line != 1 {
				t.Fatalf("error not located: %+v", ee)
			}
		}
		// One large operation is checked before it runs.
		big := expr.MustCompile(`@(context.Request.Body.As<string>(true).IndexOf("needle"))`)
		_, err := big.Eval(bigBody(1<<20), lim)
		wantException(t, err, "OperationCanceledException")
	}

	// A short expression still runs: on-error may answer after a timeout.
	short := expr.MustCompile(`@{ int n = 0; for (int i = 0; i < 10; i++) { n += i; } return n; }`)
	if v, err := short.Eval(nil, &expr.Limits{Context: cancelled}); err != nil || v != int32(45) {
		t.Fatalf("short expression with a cancelled context = %v, %v", v, err)
	}
	// A live context does not disturb evaluation.
	if v, err := short.Eval(nil, &expr.Limits{Context: context.Background()}); err != nil || v != int32(45) {
		t.Fatalf("short expression with a live context = %v, %v", v, err)
	}
}

// TestSharedBudget: evaluations sharing a Budget draw on it, and fail once
// it is spent even though each stays within its own MaxSteps.
func TestSharedBudget(t *testing.T) {
	p := expr.MustCompile(`@{ int n = 0; for (int i = 0; i < 100; i++) { n += i; } return n; }`)
	shared := &expr.Budget{Steps: 1000}
	lim := &expr.Limits{MaxSteps: 10000, Shared: shared}
	if _, err := p.Eval(nil, lim); err != nil {
		t.Fatal(err)
	}
	used := 1000 - shared.Steps
	if used < 200 || used > 400 {
		t.Fatalf("one evaluation took %d steps off the shared budget", used)
	}
	var err error
	for range 10 {
		if _, err = p.Eval(nil, lim); err != nil {
			break
		}
	}
	ee := wantException(t, err, "StepBudgetExceeded")
	if !strings.Contains(ee.Msg, "shared budget") {
		t.Fatalf("message %q does not name the shared budget", ee.Msg)
	}
	if shared.Steps != 0 {
		t.Fatalf("shared budget left: %d", shared.Steps)
	}
}

// TestBudgetChargesTokenCopies: assigning a JSON token that already has a
// parent copies it whole; a loop of such copies is charged for them.
func TestBudgetChargesTokenCopies(t *testing.T) {
	p := expr.MustCompile(`@{
		var src = JArray.Parse("[" + string.Join(",", Enumerable.Repeat("{\"a\":[1,2,3]}", 20000)) + "]");
		var holder = new JObject();
		holder["tree"] = src;
		var dst = new JObject();
		for (int i = 0; i < 1000; i++) { dst["copy"] = holder["tree"]; }
		return dst.Count;
	}`)
	_, err := p.Eval(nil, &expr.Limits{MaxMemory: 1 << 40})
	wantException(t, err, "StepBudgetExceeded")
}
