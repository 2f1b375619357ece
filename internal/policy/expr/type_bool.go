package expr

import (
	"strings"
)

// registerBool registers the static members of System.Boolean.
func registerBool() {
	t := defType("bool", kBool)
	t.static("Parse", "bool(1)", func(e *env, a []Value, cs *callSite) Value { return convertTo(argStr(a, 0, cs), "bool") })
	t.static("TryParse", "bool(2)", func(e *env, a []Value, cs *callSite) Value {
		s, _ := argStrOrNull(a, 0, cs)
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			setOut(e, a, 1, cs, true)
			return true
		case "false":
			setOut(e, a, 1, cs, false)
			return true
		}
		setOut(e, a, 1, cs, false)
		return false
	})
	t.staticProp("TrueString", "string", func(*env) Value { return "True" })
	t.staticProp("FalseString", "string", func(*env) Value { return "False" })
}
