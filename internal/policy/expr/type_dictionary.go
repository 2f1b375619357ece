package expr

// registerDictionary registers Dictionary<TKey, TValue>.
func registerDictionary() {
	t := defType("Dictionary", kDict)
	t.ctor("(0-2)", func(e *env, a []Value, cs *callSite) Value {
		d := newDict()
		for _, v := range a {
			switch x := v.(type) {
			case enumValue:
				d.IgnoreCase = x.typ == "StringComparer" && x.v == 1
			case *Dict:
				for i, k := range x.keys {
					d.Set(k, x.vals[i])
				}
			}
		}
		return d
	})
	// Dictionary
	D := func(r Value) *Dict { return r.(*Dict) }
	t.prop("Count", "int", func(e *env, r Value) Value { return int32(D(r).Len()) })
	t.prop("Keys", "List", func(e *env, r Value) Value { return &List{Items: append([]Value(nil), D(r).keys...)} })
	t.prop("Values", "List", func(e *env, r Value) Value { return &List{Items: append([]Value(nil), D(r).vals...)} })
	dictAdd := func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		d := D(r)
		if _, ok := d.Get(a[0]); ok {
			throwf("ArgumentException", "An item with the same key has already been added. Key: %s", toStr(a[0]))
		}
		if a[0] == nil {
			throwf("ArgumentNullException", "Value cannot be null. (Parameter 'key')")
		}
		e.alloc(32)
		d.Set(a[0], a[1])
		return nil
	}
	t.method("Add", "void(2)", dictAdd)
	t.method("TryAdd", "bool(2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		if _, ok := D(r).Get(a[0]); ok {
			return false
		}
		D(r).Set(a[0], a[1])
		return true
	})
	t.method("ContainsKey", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		_, ok := D(r).Get(a[0])
		return ok
	})
	t.method("ContainsValue", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		for _, v := range D(r).vals {
			if equals(v, a[0]) {
				return true
			}
		}
		return false
	})
	t.method("TryGetValue", "bool(2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		v, ok := D(r).Get(a[0])
		setOut(e, a, 1, cs, v)
		return ok
	})
	t.method("GetValueOrDefault", "?(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		if v, ok := D(r).Get(a[0]); ok {
			return v
		}
		if len(a) > 1 {
			return a[1]
		}
		return nil
	})
	t.method("Remove", "bool(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		return D(r).Remove(a[0])
	})
	t.method("Clear", "void()", func(e *env, r Value, a []Value, cs *callSite) Value {
		d := D(r)
		d.keys, d.vals, d.index = nil, nil, map[Value]int{}
		return nil
	})
}
