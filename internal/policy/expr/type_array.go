package expr

import (
	"sort"
)

// registerArray registers the static members of System.Array and the
// instance members of byte arrays (other arrays are kList, see registerList).
func registerArray() {
	t := defType("byte[]", kBytes)
	a := defType("Array")
	t.prop("Length", "int", func(e *env, r Value) Value { return int32(len(r.([]byte))) })
	t.method("CopyTo", "void(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		dst := argBytes(a, 0, cs)
		off := 0
		if len(a) > 1 {
			off = argInt(a, 1, cs)
		}
		if off < 0 || off+len(r.([]byte)) > len(dst) {
			throwf("ArgumentException", "Destination array was not long enough.")
		}
		copy(dst[off:], r.([]byte))
		return nil
	})
	t.method("Clone", "byte[]()", func(e *env, r Value, a []Value, cs *callSite) Value { return append([]byte(nil), r.([]byte)...) })
	// Array statics
	a.static("Empty", "?(0)", func(e *env, a []Value, cs *callSite) Value {
		if cs.targ(0) == "byte" {
			return []byte{}
		}
		return &List{Array: true, Elem: cs.targ(0), Items: []Value{}}
	})
	a.static("IndexOf", "int(2-4)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		for i, it := range iterate(e, a[0]) {
			if equals(it, a[1]) {
				return int32(i)
			}
		}
		return int32(-1)
	})
	a.static("Reverse", "void(1,3)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		switch x := a[0].(type) {
		case *List:
			x.Items = reversed(x.Items)
		case []byte:
			for i, j := 0, len(x)-1; i < j; i, j = i+1, j-1 {
				x[i], x[j] = x[j], x[i]
			}
		}
		return nil
	})
	a.static("Sort", "void(1-4)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		if l, ok := a[0].(*List); ok {
			sort.SliceStable(l.Items, func(i, j int) bool { return compare(l.Items[i], l.Items[j]) < 0 })
		}
		return nil
	})
	a.static("Copy", "void(3,5)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 3, cs)
		src := argBytes(a, 0, cs)
		si, di, n := 0, 0, 0
		var dst []byte
		if len(a) == 5 {
			si, dst, di, n = argInt(a, 1, cs), argBytes(a, 2, cs), argInt(a, 3, cs), argInt(a, 4, cs)
		} else {
			dst, n = argBytes(a, 1, cs), argInt(a, 2, cs)
		}
		if si < 0 || di < 0 || n < 0 || si+n > len(src) || di+n > len(dst) {
			throwf("ArgumentException", "Source array was not long enough. Check the source index, length, and the array's lower bounds.")
		}
		copy(dst[di:di+n], src[si:si+n])
		return nil
	})
}
