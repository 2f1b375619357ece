package expr

import (
	"sort"
)

// registerList registers List<T> and the instance members of arrays (both
// are kList; a List has Array false).
func registerList() {
	for _, t := range []string{"List", "Dictionary", "HashSet", "KeyValuePair", "StringBuilder", "Enumerable", "Array", "Tuple"} {
		knownTypes[t] = true
	}
	t := defType("List", kList)
	t.ctor("(0-1)", func(e *env, a []Value, cs *callSite) Value {
		l := &List{Elem: cs.targ(0)}
		if len(a) == 1 {
			if _, isInt := a[0].(int32); !isInt && a[0] != nil {
				l.Items = append(l.Items, iterate(e, a[0])...)
			}
		}
		return l
	})
	// List / arrays
	L := func(r Value) *List { return r.(*List) }
	mut := func(r Value) *List {
		l := L(r)
		if l.Array {
			throwf("NotSupportedException", "Collection was of a fixed size.")
		}
		return l
	}
	t.prop("Count", "int", func(e *env, r Value) Value { return int32(len(L(r).Items)) })
	t.prop("Length", "int", func(e *env, r Value) Value {
		if !L(r).Array {
			throwf("RuntimeBinderException", "'List' does not contain a definition for 'Length'")
		}
		return int32(len(L(r).Items))
	})
	t.method("Add", "void(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		l := mut(r)
		e.alloc(16)
		v := a[0]
		if l.Elem != "" && l.Elem != "object" {
			v = implicitConv(v, l.Elem)
		}
		l.Items = append(l.Items, v)
		return nil
	})
	t.method("AddRange", "void(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		l := mut(r)
		items := iterate(e, a[0])
		e.alloc(16 * len(items))
		l.Items = append(l.Items, items...)
		return nil
	})
	t.method("Insert", "void(2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := mut(r)
		i := argInt(a, 0, cs)
		if i < 0 || i > len(l.Items) {
			throwf("ArgumentOutOfRangeException", "Index must be within the bounds of the List.")
		}
		l.Items = append(l.Items[:i], append([]Value{a[1]}, l.Items[i:]...)...)
		return nil
	})
	t.method("Remove", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := mut(r)
		need(a, 1, cs)
		for i, it := range l.Items {
			if equals(it, a[0]) {
				l.Items = append(l.Items[:i], l.Items[i+1:]...)
				return true
			}
		}
		return false
	})
	t.method("RemoveAt", "void(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := mut(r)
		i := listIndex(a[0], len(l.Items))
		l.Items = append(l.Items[:i], l.Items[i+1:]...)
		return nil
	})
	t.method("RemoveAll", "int(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := mut(r)
		f := argLambda(a, 0, cs)
		var keep []Value
		n := 0
		for _, it := range l.Items {
			if truthy(call1(e, f, it)) {
				n++
			} else {
				keep = append(keep, it)
			}
		}
		l.Items = keep
		return int32(n)
	})
	t.method("Clear", "void()", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := L(r)
		if l.Array {
			for i := range l.Items {
				l.Items[i] = defaultOf(l.Elem, nil)
			}
			return nil
		}
		l.Items = nil
		return nil
	})
	t.method("IndexOf", "int(1-3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		for i, it := range L(r).Items {
			if equals(it, a[0]) {
				return int32(i)
			}
		}
		return int32(-1)
	})
	t.method("Sort", "void(0-1,3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := L(r)
		if len(a) == 1 {
			f := argLambda(a, 0, cs)
			sort.SliceStable(l.Items, func(i, j int) bool {
				c, _ := toI64(call2(e, f, l.Items[i], l.Items[j]))
				return c < 0
			})
			return nil
		}
		sort.SliceStable(l.Items, func(i, j int) bool { return compare(l.Items[i], l.Items[j]) < 0 })
		return nil
	})
	t.method("Reverse", "elem[](0,2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := L(r)
		if l.Array { // LINQ Reverse on arrays returns a new sequence
			return &List{Elem: l.Elem, Items: reversed(l.Items)}
		}
		l.Items = reversed(l.Items)
		return nil
	})
	t.method("Exists", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		for _, it := range L(r).Items {
			if truthy(call1(e, f, it)) {
				return true
			}
		}
		return false
	})
	t.method("Find", "elem(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		for _, it := range L(r).Items {
			if truthy(call1(e, f, it)) {
				return it
			}
		}
		return defaultOf(L(r).Elem, nil)
	})
	t.method("FindAll", "elem[](1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		out := &List{Elem: L(r).Elem}
		for _, it := range L(r).Items {
			if truthy(call1(e, f, it)) {
				out.Items = append(out.Items, it)
			}
		}
		return out
	})
	t.method("FindIndex", "int(1-3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		for i, it := range L(r).Items {
			if truthy(call1(e, f, it)) {
				return int32(i)
			}
		}
		return int32(-1)
	})
	t.method("ForEach", "void(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		for _, it := range append([]Value(nil), L(r).Items...) {
			call1(e, f, it)
		}
		return nil
	})
	t.method("GetRange", "elem[](2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := L(r)
		i, n := argInt(a, 0, cs), argInt(a, 1, cs)
		if i < 0 || n < 0 || i+n > len(l.Items) {
			throwf("ArgumentException", "Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection.")
		}
		return &List{Elem: l.Elem, Items: append([]Value(nil), l.Items[i:i+n]...)}
	})
	t.method("CopyTo", "void(1-2,4)", func(e *env, r Value, a []Value, cs *callSite) Value {
		dst, ok := a[0].(*List)
		if !ok {
			throwf("ArgumentException", "CopyTo needs an array")
		}
		off := 0
		if len(a) > 1 {
			off = argInt(a, 1, cs)
		}
		copy(dst.Items[off:], L(r).Items)
		return nil
	})
	t.method("Clone", "same()", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := L(r)
		return &List{Elem: l.Elem, Array: l.Array, Items: append([]Value(nil), l.Items...)}
	})
	t.method("AsReadOnly", "same()", func(e *env, r Value, a []Value, cs *callSite) Value { return r })

}

func reversed(in []Value) []Value {
	out := make([]Value, len(in))
	for i, v := range in {
		out[len(in)-1-i] = v
	}
	return out
}
