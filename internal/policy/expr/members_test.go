package expr_test

import (
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/policy/expr"
)

// traceConformance runs every conformance case that compiles under a
// tracer and merges the reports.
func traceConformance(t *testing.T) *expr.TraceReport {
	t.Helper()
	rep := &expr.TraceReport{}
	for _, c := range loadCases(t) {
		if strings.HasPrefix(c.want, "!!") {
			continue
		}
		one := &expr.TraceReport{Called: rep.Called}
		p, err := expr.CompileTraced(c.src, one)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		p.Eval(newContext(t, c), testLimits)
		rep.Called = one.Called
		for _, m := range one.Mismatches {
			rep.Mismatches = append(rep.Mismatches, c.name+": "+c.src+": "+m)
		}
		for _, m := range one.BadArity {
			rep.BadArity = append(rep.BadArity, c.name+": "+c.src+": "+m)
		}
	}
	return rep
}

// TestMemberSignatures checks the signatures of the bound members, and the
// static types the compiler computes, against what the conformance cases
// produce: every value must be one its expression's static type admits, and
// every call that succeeds must have a number of arguments its member's
// signature accepts. A failure here means the save-time checks could refuse
// a valid expression.
func TestMemberSignatures(t *testing.T) {
	rep := traceConformance(t)
	for _, m := range rep.Mismatches {
		t.Error(m)
	}
	for _, m := range rep.BadArity {
		t.Error(m)
	}
}
