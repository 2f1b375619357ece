package expr

import (
	"math"
)

// registerDouble registers the static members of System.Double.
func registerDouble() {
	t := defType("double", kDouble)
	t.staticProp("MaxValue", "double", func(*env) Value { return math.MaxFloat64 })
	t.staticProp("MinValue", "double", func(*env) Value { return -math.MaxFloat64 })
	t.staticProp("NaN", "double", func(*env) Value { return math.NaN() })
	t.staticProp("PositiveInfinity", "double", func(*env) Value { return math.Inf(1) })
	t.staticProp("NegativeInfinity", "double", func(*env) Value { return math.Inf(-1) })
	t.staticProp("Epsilon", "double", func(*env) Value { return 4.9406564584124654e-324 })
	t.static("IsNaN", "bool(1)", func(e *env, a []Value, cs *callSite) Value { return math.IsNaN(argF64(a, 0, cs)) })
	t.static("IsInfinity", "bool(1)", func(e *env, a []Value, cs *callSite) Value { return math.IsInf(argF64(a, 0, cs), 0) })
	t.static("Parse", "double(1-3)", func(e *env, a []Value, cs *callSite) Value {
		f, ok := parseFloatStr(argStr(a, 0, cs))
		if !ok {
			throwf("FormatException", "The input string '%s' was not in a correct format.", argStr(a, 0, cs))
		}
		return f
	})
	t.static("TryParse", "bool(2-4)", func(e *env, a []Value, cs *callSite) Value {
		s, _ := argStrOrNull(a, 0, cs)
		f, ok := parseFloatStr(s)
		setOut(e, a, len(a)-1, cs, f)
		return ok
	})
}
