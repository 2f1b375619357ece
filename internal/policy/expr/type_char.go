package expr

import "unicode"

// registerChar registers the static members of System.Char.
func registerChar() {
	t := defType("char", kChar)
	charPred := func(name string, f func(rune) bool) {
		t.static(name, "bool(1-2)", func(e *env, a []Value, cs *callSite) Value {
			need(a, 1, cs)
			switch x := a[0].(type) {
			case Char:
				return f(rune(x))
			case string:
				i := argInt(a, 1, cs)
				return f(rune(charAt(x, i)))
			}
			throwf("ArgumentException", "char.%s needs a char", name)
			return nil
		})
	}
	charPred("IsDigit", unicode.IsDigit)
	charPred("IsLetter", unicode.IsLetter)
	charPred("IsLetterOrDigit", func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })
	charPred("IsWhiteSpace", unicode.IsSpace)
	charPred("IsUpper", unicode.IsUpper)
	charPred("IsLower", unicode.IsLower)
	charPred("IsPunctuation", unicode.IsPunct)
	charPred("IsNumber", unicode.IsNumber)
	charPred("IsControl", unicode.IsControl)
	t.static("ToUpper", "char(1-2)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		c, _ := a[0].(Char)
		return Char(unicode.ToUpper(rune(c)))
	})
	t.static("ToLower", "char(1-2)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		c, _ := a[0].(Char)
		return Char(unicode.ToLower(rune(c)))
	})
	t.static("IsSurrogate", "bool(1-2)", func(e *env, a []Value, cs *callSite) Value {
		c, _ := a[0].(Char)
		return c >= 0xD800 && c <= 0xDFFF
	})
	t.static("Parse", "char(1)", func(e *env, a []Value, cs *callSite) Value {
		s := argStr(a, 0, cs)
		if strLen(s) != 1 {
			throwf("FormatException", "String must be exactly one character long.")
		}
		return charAt(s, 0)
	})
	t.staticProp("MaxValue", "char", func(*env) Value { return Char(0xFFFF) })
	t.staticProp("MinValue", "char", func(*env) Value { return Char(0) })
}
