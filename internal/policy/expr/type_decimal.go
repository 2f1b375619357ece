package expr

// registerDecimal registers the static members of System.Decimal.
func registerDecimal() {
	t := defType("decimal", kDecimal)
	t.static("Parse", "decimal(1-3)", func(e *env, a []Value, cs *callSite) Value {
		d, ok := parseDecimal(argStr(a, 0, cs))
		if !ok {
			throwf("FormatException", "The input string '%s' was not in a correct format.", argStr(a, 0, cs))
		}
		return d
	})
	t.static("TryParse", "bool(2-4)", func(e *env, a []Value, cs *callSite) Value {
		s, _ := argStrOrNull(a, 0, cs)
		d, ok := parseDecimal(s)
		if !ok {
			d = decFromInt(0)
		}
		setOut(e, a, len(a)-1, cs, d)
		return ok
	})
	t.static("Round", "decimal|double(1-3)", func(e *env, a []Value, cs *callSite) Value { return mathRound(a, cs) })
	t.staticProp("Zero", "decimal", func(*env) Value { return decFromInt(0) })
	t.staticProp("One", "decimal", func(*env) Value { return decFromInt(1) })
}
