package expr

// registerJArray registers Newtonsoft.Json.Linq.JArray.
func registerJArray() {
	t := defType("JArray", kJArray)
	t.static("Parse", "JArray(1-2)", jsonParse("JArray"))
	t.static("FromObject", "JArray(1-2)", func(e *env, a []Value, cs *callSite) Value {
		t := jsonFromObject(e, a, cs)
		if _, ok := t.(*JArray); !ok {
			throwf("ArgumentException", "Object serialized to %s. JArray instance expected.", jtypeName(t.(jtoken)))
		}
		return t
	})
	t.ctor("(0+)", func(e *env, a []Value, cs *callSite) Value {
		arr := &JArray{}
		for _, v := range a {
			if l, ok := v.(*List); ok {
				for _, it := range l.Items {
					jarrayAdd(arr, it)
				}
				continue
			}
			if src, ok := v.(*JArray); ok && len(a) == 1 {
				for _, it := range src.items {
					jarrayAdd(arr, it)
				}
				continue
			}
			jarrayAdd(arr, v)
		}
		return arr
	})
	A := func(r Value) *JArray { return r.(*JArray) }
	t.prop("Count", "int", func(e *env, r Value) Value { return int32(len(A(r).items)) })
	t.method("Add", "void(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		e.alloc(32)
		jarrayAdd(A(r), a[0])
		return nil
	})
	t.method("Insert", "void(2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		i := argInt(a, 0, cs)
		arr := A(r)
		if i < 0 || i > len(arr.items) {
			throwf("ArgumentOutOfRangeException", "Index must be within the bounds of the List.")
		}
		t := adopt(toJToken(a[1]), arr)
		arr.items = append(arr.items[:i], append([]jtoken{t}, arr.items[i:]...)...)
		return nil
	})
	t.method("AddFirst", "void(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		arr := A(r)
		t := adopt(toJToken(a[0]), arr)
		arr.items = append([]jtoken{t}, arr.items...)
		return nil
	})
	t.method("RemoveAt", "void(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		i := argInt(a, 0, cs)
		arr := A(r)
		if i < 0 || i >= len(arr.items) {
			throwf("ArgumentOutOfRangeException", "Index is equal to or greater than Count.")
		}
		arr.items[i].setParent(nil)
		arr.items = append(arr.items[:i], arr.items[i+1:]...)
		return nil
	})
	t.method("Clear", "void()", func(e *env, r Value, a []Value, cs *callSite) Value {
		A(r).items = nil
		return nil
	})
	t.method("IndexOf", "int(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		for i, it := range A(r).items {
			if it == a[0] {
				return int32(i)
			}
		}
		return int32(-1)
	})
}
