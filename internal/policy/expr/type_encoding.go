package expr

// registerEncoding registers System.Text.Encoding (its instances are
// enum values: Encoding.UTF8, ...).
func registerEncoding() {
	t := defType("Encoding", kEnum)
	for _, n := range []string{"UTF8", "ASCII", "Unicode", "Latin1", "Default"} {
		v := enumValue{typ: "Encoding", name: n}
		if n == "Default" {
			v.name = "UTF8"
		}
		t.staticProp(n, "Encoding", func(*env) Value { return v })
	}
	t.method("GetBytes", "byte[](1,3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		if r.(enumValue).typ != "Encoding" {
			throwf("RuntimeBinderException", "'%s' does not contain a definition for 'GetBytes'", r.(enumValue).typ)
		}
		need(a, 1, cs)
		var s string
		switch x := a[0].(type) {
		case string:
			s = x
		case *List:
			for _, c := range x.Items {
				s += toStr(c)
			}
		case nil:
			throwf("ArgumentNullException", "Value cannot be null. (Parameter 's')")
		default:
			s = argStr(a, 0, cs)
		}
		b := encodeString(encodingOf(r), s)
		e.alloc(len(b))
		return b
	})
	t.method("GetString", "string(1,3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		if r.(enumValue).typ != "Encoding" {
			throwf("RuntimeBinderException", "'%s' does not contain a definition for 'GetString'", r.(enumValue).typ)
		}
		b := argBytes(a, 0, cs)
		if len(a) >= 3 {
			off, n := argInt(a, 1, cs), argInt(a, 2, cs)
			if off < 0 || n < 0 || off+n > len(b) {
				throwf("ArgumentOutOfRangeException", "Index and count must refer to a location within the buffer.")
			}
			b = b[off : off+n]
		}
		e.alloc(len(b))
		return decodeBytes(encodingOf(r), b)
	})
	t.method("GetByteCount", "int(1,3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		return int32(len(encodeString(encodingOf(r), argStr(a, 0, cs))))
	})
	t.prop("WebName", "string", func(e *env, r Value) Value {
		return map[string]string{"UTF8": "utf-8", "ASCII": "us-ascii", "Unicode": "utf-16", "Latin1": "iso-8859-1"}[r.(enumValue).name]
	})
}
