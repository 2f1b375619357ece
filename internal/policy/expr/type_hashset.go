package expr

// registerHashSet registers HashSet<T>.
func registerHashSet() {
	t := defType("HashSet", kSet)
	t.ctor("(0-2)", func(e *env, a []Value, cs *callSite) Value {
		s := &Set{}
		s.d.index = map[Value]int{}
		for _, v := range a {
			switch x := v.(type) {
			case enumValue:
				s.d.IgnoreCase = x.typ == "StringComparer" && x.v == 1
			case nil:
			default:
				for _, it := range iterate(e, x) {
					s.d.Set(it, true)
				}
			}
		}
		return s
	})
	// HashSet
	H := func(r Value) *Set { return r.(*Set) }
	t.prop("Count", "int", func(e *env, r Value) Value { return int32(H(r).d.Len()) })
	t.method("Add", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		if _, ok := H(r).d.Get(a[0]); ok {
			return false
		}
		e.alloc(32)
		H(r).d.Set(a[0], true)
		return true
	})
	t.method("Contains", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		_, ok := H(r).d.Get(a[0])
		return ok
	})
	t.method("Remove", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		return H(r).d.Remove(a[0])
	})
	t.method("UnionWith", "void(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		for _, it := range iterate(e, a[0]) {
			H(r).d.Set(it, true)
		}
		return nil
	})
	t.method("IntersectWith", "void(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		other := &Set{}
		other.d.IgnoreCase = H(r).d.IgnoreCase
		for _, it := range iterate(e, a[0]) {
			other.d.Set(it, true)
		}
		for _, k := range append([]Value(nil), H(r).d.keys...) {
			if _, ok := other.d.Get(k); !ok {
				H(r).d.Remove(k)
			}
		}
		return nil
	})

}
