package expr

import (
	"fmt"
	"sort"
)

// TraceReport is what a traced compilation saw while its program ran.
type TraceReport struct {
	// Mismatches are values that the static type of the expression that
	// produced them does not admit: a wrong member signature or typing rule,
	// which could refuse valid expressions.
	Mismatches []string
	// Called counts, per member (see BoundMembers), the calls that returned
	// normally.
	Called map[string]int
	// BadArity are calls that returned normally with a number of arguments
	// that the member's signature refuses.
	BadArity []string
}

// CompileTraced is Compile at line 1, column 1, instrumented to fill rep
// when the program runs.
func CompileTraced(src string, rep *TraceReport) (*Program, error) {
	if rep.Called == nil {
		rep.Called = map[string]int{}
	}
	tr := &tracer{
		value: func(p pos, t *sty, v Value) {
			if !t.admits(v, 0) {
				rep.Mismatches = append(rep.Mismatches, fmt.Sprintf("%d:%d: a value of type %s where the static type is %s", p.line, p.col, typeName(v), t))
			}
		},
		member: func(m *member, n int) {
			rep.Called[m.id()]++
			if n >= 0 && !m.sig.accepts(n) {
				rep.BadArity = append(rep.BadArity, fmt.Sprintf("%s (signature %q) returned normally with %d arguments", m.id(), m.sigSrc, n))
			}
		},
	}
	return compile(src, 1, 1, tr)
}

// BoundMembers returns the id of every bound member ("string.Length",
// "static string.IsNullOrEmpty", "new JObject"), sorted.
func BoundMembers() []string {
	tablesOnce.Do(buildTables)
	seen := map[string]bool{}
	var ids []string
	for _, m := range allMembers {
		if !seen[m.id()] {
			seen[m.id()] = true
			ids = append(ids, m.id())
		}
	}
	sort.Strings(ids)
	return ids
}
