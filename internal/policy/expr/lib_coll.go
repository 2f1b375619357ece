package expr

import (
	"sort"
	"strings"
)

type stringBuilder struct{ b strings.Builder }

func registerCollections() {
	for _, t := range []string{"List", "Dictionary", "HashSet", "KeyValuePair", "StringBuilder", "Enumerable", "Array", "Tuple"} {
		knownTypes[t] = true
	}
	ctor("List", func(e *env, a []Value, cs *callSite) Value {
		l := &List{Elem: cs.targ(0)}
		if len(a) == 1 {
			if _, isInt := a[0].(int32); !isInt && a[0] != nil {
				l.Items = append(l.Items, iterate(e, a[0])...)
			}
		}
		return l
	})
	ctor("Dictionary", func(e *env, a []Value, cs *callSite) Value {
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
	ctor("HashSet", func(e *env, a []Value, cs *callSite) Value {
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
	ctor("KeyValuePair", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		return KeyValuePair{Key: a[0], Value: a[1]}
	})
	ctor("StringBuilder", func(e *env, a []Value, cs *callSite) Value {
		sb := &stringBuilder{}
		if len(a) > 0 {
			if s, ok := a[0].(string); ok {
				sb.b.WriteString(s)
			}
		}
		return sb
	})
	prop(kKV, "Key", func(e *env, r Value) Value { return r.(KeyValuePair).Key })
	prop(kKV, "Value", func(e *env, r Value) Value { return r.(KeyValuePair).Value })

	// List / arrays
	L := func(r Value) *List { return r.(*List) }
	mut := func(r Value) *List {
		l := L(r)
		if l.Array {
			throwf("NotSupportedException", "Collection was of a fixed size.")
		}
		return l
	}
	prop(kList, "Count", func(e *env, r Value) Value { return int32(len(L(r).Items)) })
	prop(kList, "Length", func(e *env, r Value) Value {
		if !L(r).Array {
			throwf("RuntimeBinderException", "'List' does not contain a definition for 'Length'")
		}
		return int32(len(L(r).Items))
	})
	prop(kBytes, "Length", func(e *env, r Value) Value { return int32(len(r.([]byte))) })
	method(kList, "Add", func(e *env, r Value, a []Value, cs *callSite) Value {
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
	method(kList, "AddRange", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		l := mut(r)
		items := iterate(e, a[0])
		e.alloc(16 * len(items))
		l.Items = append(l.Items, items...)
		return nil
	})
	method(kList, "Insert", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := mut(r)
		i := argInt(a, 0, cs)
		if i < 0 || i > len(l.Items) {
			throwf("ArgumentOutOfRangeException", "Index must be within the bounds of the List.")
		}
		l.Items = append(l.Items[:i], append([]Value{a[1]}, l.Items[i:]...)...)
		return nil
	})
	method(kList, "Remove", func(e *env, r Value, a []Value, cs *callSite) Value {
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
	method(kList, "RemoveAt", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := mut(r)
		i := listIndex(a[0], len(l.Items))
		l.Items = append(l.Items[:i], l.Items[i+1:]...)
		return nil
	})
	method(kList, "RemoveAll", func(e *env, r Value, a []Value, cs *callSite) Value {
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
	method(kList, "Clear", func(e *env, r Value, a []Value, cs *callSite) Value {
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
	method(kList, "IndexOf", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		for i, it := range L(r).Items {
			if equals(it, a[0]) {
				return int32(i)
			}
		}
		return int32(-1)
	})
	method(kList, "Sort", func(e *env, r Value, a []Value, cs *callSite) Value {
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
	method(kList, "Reverse", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := L(r)
		if l.Array { // LINQ Reverse on arrays returns a new sequence
			return &List{Elem: l.Elem, Items: reversed(l.Items)}
		}
		l.Items = reversed(l.Items)
		return nil
	})
	method(kList, "Exists", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		for _, it := range L(r).Items {
			if truthy(call1(e, f, it)) {
				return true
			}
		}
		return false
	})
	method(kList, "Find", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		for _, it := range L(r).Items {
			if truthy(call1(e, f, it)) {
				return it
			}
		}
		return defaultOf(L(r).Elem, nil)
	})
	method(kList, "FindAll", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		out := &List{Elem: L(r).Elem}
		for _, it := range L(r).Items {
			if truthy(call1(e, f, it)) {
				out.Items = append(out.Items, it)
			}
		}
		return out
	})
	method(kList, "FindIndex", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		for i, it := range L(r).Items {
			if truthy(call1(e, f, it)) {
				return int32(i)
			}
		}
		return int32(-1)
	})
	method(kList, "ForEach", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		for _, it := range append([]Value(nil), L(r).Items...) {
			call1(e, f, it)
		}
		return nil
	})
	method(kList, "GetRange", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := L(r)
		i, n := argInt(a, 0, cs), argInt(a, 1, cs)
		if i < 0 || n < 0 || i+n > len(l.Items) {
			throwf("ArgumentException", "Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection.")
		}
		return &List{Elem: l.Elem, Items: append([]Value(nil), l.Items[i:i+n]...)}
	})
	method(kList, "CopyTo", func(e *env, r Value, a []Value, cs *callSite) Value {
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
	method(kBytes, "CopyTo", func(e *env, r Value, a []Value, cs *callSite) Value {
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
	method(kBytes, "Clone", func(e *env, r Value, a []Value, cs *callSite) Value { return append([]byte(nil), r.([]byte)...) })
	method(kList, "Clone", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := L(r)
		return &List{Elem: l.Elem, Array: l.Array, Items: append([]Value(nil), l.Items...)}
	})
	method(kList, "AsReadOnly", func(e *env, r Value, a []Value, cs *callSite) Value { return r })

	// Array statics
	static("Array", "Empty", func(e *env, a []Value, cs *callSite) Value {
		if cs.targ(0) == "byte" {
			return []byte{}
		}
		return &List{Array: true, Elem: cs.targ(0), Items: []Value{}}
	})
	static("Array", "IndexOf", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		for i, it := range iterate(e, a[0]) {
			if equals(it, a[1]) {
				return int32(i)
			}
		}
		return int32(-1)
	})
	static("Array", "Reverse", func(e *env, a []Value, cs *callSite) Value {
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
	static("Array", "Sort", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		if l, ok := a[0].(*List); ok {
			sort.SliceStable(l.Items, func(i, j int) bool { return compare(l.Items[i], l.Items[j]) < 0 })
		}
		return nil
	})
	static("Array", "Copy", func(e *env, a []Value, cs *callSite) Value {
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
	static("Enumerable", "Range", func(e *env, a []Value, cs *callSite) Value {
		start, n := argInt(a, 0, cs), argInt(a, 1, cs)
		if n < 0 {
			throwf("ArgumentOutOfRangeException", "Specified argument was out of the range of valid values. (Parameter 'count')")
		}
		e.alloc(16 * n)
		l := &List{Elem: "int", Items: make([]Value, n)}
		for i := range l.Items {
			l.Items[i] = int32(start + i)
		}
		return l
	})
	static("Enumerable", "Repeat", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		n := argInt(a, 1, cs)
		if n < 0 {
			throwf("ArgumentOutOfRangeException", "Specified argument was out of the range of valid values. (Parameter 'count')")
		}
		e.alloc(16 * n)
		l := &List{Items: make([]Value, n)}
		for i := range l.Items {
			l.Items[i] = a[0]
		}
		return l
	})
	static("Enumerable", "Empty", func(e *env, a []Value, cs *callSite) Value { return &List{Elem: cs.targ(0)} })

	// Dictionary
	D := func(r Value) *Dict { return r.(*Dict) }
	anonGet := func(name string) propFn {
		return func(e *env, r Value) Value {
			d := D(r)
			if d.Anon {
				v, ok := d.Get(name)
				if !ok {
					throwf("RuntimeBinderException", "anonymous object does not contain a definition for '%s'", name)
				}
				return v
			}
			return nil
		}
	}
	_ = anonGet
	prop(kDict, "Count", func(e *env, r Value) Value { return int32(D(r).Len()) })
	prop(kDict, "Keys", func(e *env, r Value) Value { return &List{Items: append([]Value(nil), D(r).keys...)} })
	prop(kDict, "Values", func(e *env, r Value) Value { return &List{Items: append([]Value(nil), D(r).vals...)} })
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
	method(kDict, "Add", dictAdd)
	method(kDict, "TryAdd", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		if _, ok := D(r).Get(a[0]); ok {
			return false
		}
		D(r).Set(a[0], a[1])
		return true
	})
	method(kDict, "ContainsKey", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		_, ok := D(r).Get(a[0])
		return ok
	})
	method(kDict, "ContainsValue", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		for _, v := range D(r).vals {
			if equals(v, a[0]) {
				return true
			}
		}
		return false
	})
	method(kDict, "TryGetValue", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		v, ok := D(r).Get(a[0])
		setOut(e, a, 1, cs, v)
		return ok
	})
	method(kDict, "GetValueOrDefault", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		if v, ok := D(r).Get(a[0]); ok {
			return v
		}
		if len(a) > 1 {
			return a[1]
		}
		return nil
	})
	method(kDict, "Remove", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		return D(r).Remove(a[0])
	})
	method(kDict, "Clear", func(e *env, r Value, a []Value, cs *callSite) Value {
		d := D(r)
		d.keys, d.vals, d.index = nil, nil, map[Value]int{}
		return nil
	})
	// Jwt claims
	method(kClaims, "GetValueOrDefault", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		v, ok := r.(*claimDict).Get(argStr(a, 0, cs))
		if !ok {
			if len(a) > 1 {
				return a[1]
			}
			return nil
		}
		parts := make([]string, 0, 2)
		for _, it := range v.(*List).Items {
			parts = append(parts, toStr(it))
		}
		return strings.Join(parts, ",")
	})
	method(kClaims, "ContainsKey", func(e *env, r Value, a []Value, cs *callSite) Value {
		_, ok := r.(*claimDict).Get(argStr(a, 0, cs))
		return ok
	})
	method(kClaims, "TryGetValue", func(e *env, r Value, a []Value, cs *callSite) Value {
		v, ok := r.(*claimDict).Get(argStr(a, 0, cs))
		setOut(e, a, 1, cs, v)
		return ok
	})
	prop(kClaims, "Count", func(e *env, r Value) Value { return int32(r.(*claimDict).Len()) })
	prop(kClaims, "Keys", func(e *env, r Value) Value {
		return &List{Elem: "string", Items: append([]Value(nil), r.(*claimDict).keys...)}
	})

	// HashSet
	H := func(r Value) *Set { return r.(*Set) }
	prop(kSet, "Count", func(e *env, r Value) Value { return int32(H(r).d.Len()) })
	method(kSet, "Add", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		if _, ok := H(r).d.Get(a[0]); ok {
			return false
		}
		e.alloc(32)
		H(r).d.Set(a[0], true)
		return true
	})
	method(kSet, "Contains", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		_, ok := H(r).d.Get(a[0])
		return ok
	})
	method(kSet, "Remove", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		return H(r).d.Remove(a[0])
	})
	method(kSet, "UnionWith", func(e *env, r Value, a []Value, cs *callSite) Value {
		for _, it := range iterate(e, a[0]) {
			H(r).d.Set(it, true)
		}
		return nil
	})
	method(kSet, "IntersectWith", func(e *env, r Value, a []Value, cs *callSite) Value {
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

	// StringBuilder
	SB := func(r Value) *stringBuilder { return r.(*stringBuilder) }
	prop(kStringBuilder, "Length", func(e *env, r Value) Value { return int32(strLen(SB(r).b.String())) })
	method(kStringBuilder, "Append", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		s := toStr(a[0])
		if len(a) == 2 {
			if c, ok := a[0].(Char); ok {
				n := argInt(a, 1, cs)
				if n < 0 {
					throwf("ArgumentOutOfRangeException", "Count cannot be less than zero.")
				}
				e.alloc(n)
				s = strings.Repeat(toStr(c), n)
			}
		}
		e.alloc(len(s))
		SB(r).b.WriteString(s)
		return r
	})
	method(kStringBuilder, "AppendLine", func(e *env, r Value, a []Value, cs *callSite) Value {
		if len(a) > 0 {
			SB(r).b.WriteString(toStr(a[0]))
		}
		SB(r).b.WriteString("\n")
		e.alloc(SB(r).b.Len())
		return r
	})
	method(kStringBuilder, "AppendFormat", func(e *env, r Value, a []Value, cs *callSite) Value {
		s := compositeFormat(argStr(a, 0, cs), a[1:])
		e.alloc(len(s))
		SB(r).b.WriteString(s)
		return r
	})
	method(kStringBuilder, "Clear", func(e *env, r Value, a []Value, cs *callSite) Value { SB(r).b.Reset(); return r })
	method(kStringBuilder, "Insert", func(e *env, r Value, a []Value, cs *callSite) Value {
		s := SB(r).b.String()
		i := u16ToByte(s, argInt(a, 0, cs))
		SB(r).b.Reset()
		SB(r).b.WriteString(s[:i] + toStr(a[1]) + s[i:])
		return r
	})
	method(kStringBuilder, "Replace", func(e *env, r Value, a []Value, cs *callSite) Value {
		s := strings.ReplaceAll(SB(r).b.String(), strOrChar(a, 0, cs), strOrChar(a, 1, cs))
		SB(r).b.Reset()
		SB(r).b.WriteString(s)
		return r
	})
	method(kStringBuilder, "Remove", func(e *env, r Value, a []Value, cs *callSite) Value {
		s := SB(r).b.String()
		i, n := argInt(a, 0, cs), argInt(a, 1, cs)
		s = substr(s, 0, i) + substr(s, i+n, strLen(s)-i-n)
		SB(r).b.Reset()
		SB(r).b.WriteString(s)
		return r
	})
}

func reversed(in []Value) []Value {
	out := make([]Value, len(in))
	for i, v := range in {
		out[len(in)-1-i] = v
	}
	return out
}
