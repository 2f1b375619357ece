package expr

// registerObject registers the members of System.Object, which every value
// has unless its type defines its own (see objectMembers).
func registerObject() {
	t := defType("object").on(kOther) // "object" stays an unknown type in signatures
	t.method("ToString", "string(0-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		if len(a) > 0 {
			if f, ok := a[0].(string); ok {
				return formatValue(r, f)
			}
			if ev, ok := a[0].(enumValue); ok && ev.typ == "Formatting" {
				if t, ok := r.(jtoken); ok {
					return jsonString(t, ev.name == "Indented")
				}
			}
			if a[0] == nil {
				return toStr(r)
			}
			// ToString(IFormatProvider) and friends: culture is invariant
			if len(a) > 1 {
				if f, ok := a[0].(string); ok {
					return formatValue(r, f)
				}
			}
			return toStr(r)
		}
		return toStr(r)
	})
	t.method("Equals", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		return equals(r, a[0])
	})
	t.method("GetHashCode", "int()", func(e *env, r Value, a []Value, cs *callSite) Value {
		h := int32(0)
		for _, c := range toStr(r) {
			h = h*31 + int32(c)
		}
		return h
	})
	t.method("CompareTo", "int(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		c := compare(r, a[0])
		if c == 2 {
			c = 0
		}
		return int32(c)
	})
	t.method("GetType", "?()", func(e *env, r Value, a []Value, cs *callSite) Value {
		d := newDict()
		d.Anon = true
		d.Set("Name", clrName(typeName(r)))
		return d
	})
	// exceptions
}
