package expr_test

import (
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/policy/expr"
	"github.com/portico-gw/portico/internal/policy/expr/exprtest"
)

func fuzzSeeds(f *testing.F) {
	for _, c := range loadCases(f) {
		f.Add(c.src)
	}
	f.Add(`@{ var s = ""; for (var i = 0; i < 10; i++) { s += i; } return s; }`)
	f.Add(`@($"{context.Request.Url.Path,-10:x}")`)
}

// FuzzCompile: the lexer and parser never panic; they return a value or *Error.
func FuzzCompile(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, src string) {
		p, err := expr.Compile(src, 1, 1)
		if err != nil {
			if _, ok := err.(*expr.Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		_ = p.UsesRequestBody()
	})
}

// FuzzEval: evaluation under small budgets never panics or hangs, and fails
// only with *EvalError.
func FuzzEval(f *testing.F) {
	fuzzSeeds(f)
	lim := &expr.Limits{MaxSteps: 2000, MaxMemory: 1 << 20, Now: func() time.Time { return fixedNow }}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := expr.Compile(src, 1, 1)
		if err != nil {
			return
		}
		start := time.Now()
		_, err = p.Eval(exprtest.New(), lim)
		if err != nil {
			if _, ok := err.(*expr.EvalError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("evaluation took %v", d)
		}
	})
}
