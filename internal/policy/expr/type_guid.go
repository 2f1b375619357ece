package expr

// registerGuid registers System.Guid.
func registerGuid() {
	t := defType("Guid", kGuid)
	t.static("NewGuid", "Guid()", func(e *env, a []Value, cs *callSite) Value { return newGuid() })
	t.staticProp("Empty", "Guid", func(*env) Value { return Guid{} })
	t.static("Parse", "Guid(1-2)", func(e *env, a []Value, cs *callSite) Value {
		g, ok := parseGuid(argStr(a, 0, cs))
		if !ok {
			throwf("FormatException", "Unrecognized Guid format.")
		}
		return g
	})
	t.static("TryParse", "bool(2)", func(e *env, a []Value, cs *callSite) Value {
		s, _ := argStrOrNull(a, 0, cs)
		g, ok := parseGuid(s)
		setOut(e, a, 1, cs, g)
		return ok
	})
	t.ctor("(0-1)", func(e *env, a []Value, cs *callSite) Value {
		if len(a) == 0 {
			return Guid{}
		}
		switch x := a[0].(type) {
		case string:
			g, ok := parseGuid(x)
			if !ok {
				throwf("FormatException", "Unrecognized Guid format.")
			}
			return g
		case []byte:
			if len(x) != 16 {
				throwf("ArgumentException", "Byte array for Guid must be exactly 16 bytes long.")
			}
			return guidFromBytes(x)
		}
		throwf("ArgumentException", "new Guid takes a string or a byte[16]")
		return nil
	})
	t.method("ToByteArray", "byte[]()", func(e *env, r Value, a []Value, cs *callSite) Value { return guidToBytes(r.(Guid)) })

}
