package expr_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/policy/expr"
)

// TestEveryMemberHasConformanceCase walks the registration tables: every
// bound member must be called by at least one conformance case
// (testdata/*.txt) that compiles.
func TestEveryMemberHasConformanceCase(t *testing.T) {
	rep := traceConformance(t)
	var missing []string
	for _, id := range expr.BoundMembers() {
		if rep.Called[id] == 0 {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d of %d bound members have no conformance case:\n%s", len(missing), len(expr.BoundMembers()), strings.Join(missing, "\n"))
	}
}
