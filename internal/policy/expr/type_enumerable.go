package expr

import (
	"math"
	"sort"
)

// registerEnumerable registers System.Linq.Enumerable: the LINQ methods,
// available on every enumerable value (see enumerableKinds), the static
// members of Enumerable, and IGrouping<TKey, T>.Key on the groups of GroupBy.
func registerEnumerable() {
	t := defType("Enumerable")
	registerLinqFiltering(t)
	registerLinqElements(t)
	registerLinqAggregates(t)
	registerLinqOrdering(t)
	registerLinqSets(t)
	registerLinqConversions(t)
	t.static("Range", "int[](2)", func(e *env, a []Value, cs *callSite) Value {
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
	t.static("Repeat", "?(2)", func(e *env, a []Value, cs *callSite) Value {
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
	t.static("Empty", "List<T>(0)", func(e *env, a []Value, cs *callSite) Value { return &List{Elem: cs.targ(0)} })

}

// registerLinqFiltering registers the LINQ methods that filter and project.
func registerLinqFiltering(t *typeDef) {
	t.seq("Where", "elem[](1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		out := &List{}
		for i, it := range linqItems(e, r) {
			var ok Value
			if len(f.params) == 2 {
				ok = call2(e, f, it, int32(i))
			} else {
				ok = call1(e, f, it)
			}
			if truthy(ok) {
				out.Items = append(out.Items, it)
			}
		}
		return out
	})
	t.seq("Select", "List<?>(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		src := linqItems(e, r)
		out := &List{Items: make([]Value, len(src))}
		e.alloc(16 * len(src))
		for i, it := range src {
			if len(f.params) == 2 {
				out.Items[i] = call2(e, f, it, int32(i))
			} else {
				out.Items[i] = call1(e, f, it)
			}
		}
		return out
	})
	t.seq("SelectMany", "List<?>(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		out := &List{}
		for _, it := range linqItems(e, r) {
			sub := call1(e, f, it)
			if sub == nil {
				throwNull("SelectMany")
			}
			out.Items = append(out.Items, iterate(e, sub)...)
		}
		e.alloc(16 * len(out.Items))
		return out
	})
	t.seq("Skip", "elem[](1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		src := linqItems(e, r)
		n := min(max(argInt(a, 0, cs), 0), len(src))
		return &List{Items: append([]Value(nil), src[n:]...)}
	})
	t.seq("Take", "elem[](1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		src := linqItems(e, r)
		n := min(max(argInt(a, 0, cs), 0), len(src))
		return &List{Items: append([]Value(nil), src[:n]...)}
	})
	t.seq("SkipWhile", "elem[](1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		src := linqItems(e, r)
		i := 0
		for i < len(src) && truthy(call1(e, f, src[i])) {
			i++
		}
		return &List{Items: append([]Value(nil), src[i:]...)}
	})
	t.seq("TakeWhile", "elem[](1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		src := linqItems(e, r)
		i := 0
		for i < len(src) && truthy(call1(e, f, src[i])) {
			i++
		}
		return &List{Items: append([]Value(nil), src[:i]...)}
	})
}

// registerLinqElements registers the LINQ methods that pick one element.
func registerLinqElements(t *typeDef) {
	find := func(first, orDefault bool) methodFn {
		return func(e *env, r Value, a []Value, cs *callSite) Value {
			f := optLambda(a, 0)
			src := linqItems(e, r)
			var found Value
			ok := false
			for i := range src {
				it := src[i]
				if !first {
					it = src[len(src)-1-i]
				}
				if f == nil || truthy(call1(e, f, it)) {
					found, ok = it, true
					break
				}
			}
			if !ok {
				if orDefault {
					if f == nil && len(a) == 1 {
						return a[0]
					}
					if len(a) == 2 {
						return a[1]
					}
					return nil
				}
				if f != nil {
					throwf("InvalidOperationException", "Sequence contains no matching element")
				}
				noElements()
			}
			return found
		}
	}
	t.seq("First", "elem(0-1)", find(true, false))
	t.seq("FirstOrDefault", "elem|arg0|arg1(0-2)", find(true, true))
	t.seq("Last", "elem(0-1)", find(false, false))
	t.seq("LastOrDefault", "elem|arg0|arg1(0-2)", find(false, true))
	single := func(orDefault bool) methodFn {
		return func(e *env, r Value, a []Value, cs *callSite) Value {
			f := optLambda(a, 0)
			var found Value
			n := 0
			for _, it := range linqItems(e, r) {
				if f == nil || truthy(call1(e, f, it)) {
					found = it
					n++
				}
			}
			switch {
			case n == 1:
				return found
			case n == 0 && orDefault:
				return nil
			case n == 0:
				noElements()
			}
			throwf("InvalidOperationException", "Sequence contains more than one element")
			return nil
		}
	}
	t.seq("Single", "elem(0-1)", single(false))
	t.seq("SingleOrDefault", "elem(0-2)", single(true))
	t.seq("ElementAt", "elem(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		src := linqItems(e, r)
		return src[listIndex(a[0], len(src))]
	})
	t.seq("ElementAtOrDefault", "elem(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		src := linqItems(e, r)
		i := argInt(a, 0, cs)
		if i < 0 || i >= len(src) {
			return nil
		}
		return src[i]
	})
}

// registerLinqAggregates registers the LINQ methods that reduce a sequence
// to a value: quantifiers, counts, sums and extremes.
func registerLinqAggregates(t *typeDef) {
	t.seq("Any", "bool(0-1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := optLambda(a, 0)
		for _, it := range linqItems(e, r) {
			if f == nil || truthy(call1(e, f, it)) {
				return true
			}
		}
		return false
	})
	t.seq("All", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		for _, it := range linqItems(e, r) {
			if !truthy(call1(e, f, it)) {
				return false
			}
		}
		return true
	})
	count := func(e *env, r Value, a []Value, cs *callSite) Value {
		f := optLambda(a, 0)
		n := 0
		for _, it := range linqItems(e, r) {
			if f == nil || truthy(call1(e, f, it)) {
				n++
			}
		}
		if cs.name == "LongCount" {
			return int64(n)
		}
		return int32(n)
	}
	t.seq("Count", "int(0-1)", count)
	t.seq("LongCount", "long(0-1)", count)
	mapped := func(e *env, r Value, a []Value) []Value {
		src := linqItems(e, r)
		f := optLambda(a, 0)
		if f == nil {
			return src
		}
		out := make([]Value, len(src))
		for i, it := range src {
			out[i] = call1(e, f, it)
		}
		return out
	}
	t.seq("Sum", "?(0-1)", func(e *env, r Value, a []Value, cs *callSite) Value { return numericSum(mapped(e, r, a)) })
	t.seq("Average", "double|decimal(0-1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		vals := mapped(e, r, a)
		if len(vals) == 0 {
			noElements()
		}
		s := numericSum(vals)
		if d, ok := s.(Decimal); ok {
			return decDiv(d, decFromInt(int64(len(vals))))
		}
		f, _ := toF64(s)
		return f / float64(len(vals))
	})
	extreme := func(isMax bool) methodFn {
		return func(e *env, r Value, a []Value, cs *callSite) Value {
			vals := mapped(e, r, a)
			var best Value
			seen := false
			for _, v := range vals {
				if v == nil {
					continue
				}
				if !seen {
					best, seen = v, true
					continue
				}
				c := compare(v, best)
				if f, ok := toF64(v); ok && math.IsNaN(f) {
					if !isMax {
						best = v
					}
					continue
				}
				if isMax && c > 0 || !isMax && c < 0 {
					best = v
				}
			}
			if !seen {
				if len(vals) > 0 {
					return nil
				}
				noElements()
			}
			return best
		}
	}
	t.seq("Max", "?(0-1)", extreme(true))
	t.seq("Min", "?(0-1)", extreme(false))
	by := func(isMax bool) methodFn {
		return func(e *env, r Value, a []Value, cs *callSite) Value {
			f := argLambda(a, 0, cs)
			var best, bestKey Value
			seen := false
			for _, it := range linqItems(e, r) {
				k := call1(e, f, it)
				if !seen {
					best, bestKey, seen = it, k, true
					continue
				}
				c := compare(k, bestKey)
				if isMax && c > 0 || !isMax && c < 0 {
					best, bestKey = it, k
				}
			}
			if !seen {
				return nil
			}
			return best
		}
	}
	t.seq("MaxBy", "elem(1-2)", by(true))
	t.seq("MinBy", "elem(1-2)", by(false))
	t.seq("Contains", "bool(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		ic := comparerIgnoresCase(a, 1)
		for _, it := range linqItems(e, r) {
			if equals(it, a[0]) {
				return true
			}
			if ic {
				if s, ok := it.(string); ok {
					if t, ok := a[0].(string); ok && equalFold(s, t) {
						return true
					}
				}
			}
		}
		return false
	})
	t.seq("Aggregate", "?(1-3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		src := linqItems(e, r)
		var acc Value
		var f *lambda
		if l, ok := a[0].(*lambda); ok {
			if len(src) == 0 {
				noElements()
			}
			acc, f, src = src[0], l, src[1:]
		} else {
			need(a, 2, cs)
			acc, f = a[0], argLambda(a, 1, cs)
		}
		for _, it := range src {
			acc = call2(e, f, acc, it)
		}
		if rf := optLambda(a, 2); rf != nil {
			return call1(e, rf, acc)
		}
		return acc
	})
	t.seq("SequenceEqual", "bool(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		x, y := linqItems(e, r), iterate(e, a[0])
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equals(x[i], y[i]) {
				return false
			}
		}
		return true
	})
}

// registerLinqOrdering registers the LINQ methods that order a sequence.
func registerLinqOrdering(t *typeDef) {
	order := func(desc, then bool) methodFn {
		return func(e *env, r Value, a []Value, cs *callSite) Value {
			f := optLambda(a, 0)
			if f == nil {
				throwf("ArgumentException", "%s needs a key selector", cs.name)
			}
			var src []Value
			var keys []orderKey
			if l, ok := r.(*List); then && ok && l.orderKeys != nil {
				src = l.orderSrc
				keys = append(append([]orderKey(nil), l.orderKeys...), orderKey{f, desc})
			} else {
				src = linqItems(e, r)
				keys = []orderKey{{f, desc}}
			}
			return &List{Items: sortByKeys(e, src, keys), orderSrc: src, orderKeys: keys}
		}
	}
	t.seq("OrderBy", "elem[](1-2)", order(false, false))
	t.seq("OrderByDescending", "elem[](1-2)", order(true, false))
	t.seq("ThenBy", "elem[](1-2)", order(false, true))
	t.seq("ThenByDescending", "elem[](1-2)", order(true, true))
	t.seq("Order", "elem[](0-1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		out := append([]Value(nil), linqItems(e, r)...)
		sort.SliceStable(out, func(i, j int) bool { return compare(out[i], out[j]) < 0 })
		return &List{Items: out}
	})
	t.seq("Reverse", "elem[]()", func(e *env, r Value, a []Value, cs *callSite) Value { return &List{Items: reversed(linqItems(e, r))} })
}

// registerLinqSets registers the LINQ set operations and concatenations.
func registerLinqSets(t *typeDef) {
	t.seq("Distinct", "elem[](0-1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		return &List{Items: distinctValues(linqItems(e, r), comparerIgnoresCase(a, 0))}
	})
	t.seq("DistinctBy", "elem[](1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		d := Dict{index: map[Value]int{}}
		out := &List{}
		for _, it := range linqItems(e, r) {
			k := hashKey(call1(e, f, it))
			if _, ok := d.Get(k); ok {
				continue
			}
			d.Set(k, true)
			out.Items = append(out.Items, it)
		}
		return out
	})
	t.seq("Concat", "List<?>(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		return &List{Items: append(append([]Value(nil), linqItems(e, r)...), iterate(e, a[0])...)}
	})
	t.seq("Append", "List<?>(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		return &List{Items: append(append([]Value(nil), linqItems(e, r)...), a[0])}
	})
	t.seq("Prepend", "List<?>(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		return &List{Items: append([]Value{a[0]}, linqItems(e, r)...)}
	})
	t.seq("Union", "List<?>(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		return &List{Items: distinctValues(append(append([]Value(nil), linqItems(e, r)...), iterate(e, a[0])...), comparerIgnoresCase(a, 1))}
	})
	setOp := func(keep bool) methodFn {
		return func(e *env, r Value, a []Value, cs *callSite) Value {
			need(a, 1, cs)
			other := Dict{IgnoreCase: comparerIgnoresCase(a, 1), index: map[Value]int{}}
			for _, it := range iterate(e, a[0]) {
				other.Set(hashKey(it), true)
			}
			var out []Value
			for _, it := range distinctValues(linqItems(e, r), comparerIgnoresCase(a, 1)) {
				if _, ok := other.Get(hashKey(it)); ok == keep {
					out = append(out, it)
				}
			}
			return &List{Items: out}
		}
	}
	t.seq("Intersect", "elem[](1-2)", setOp(true))
	t.seq("Except", "elem[](1-2)", setOp(false))
	t.seq("Zip", "List<?>(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		x, y := linqItems(e, r), iterate(e, a[0])
		f := optLambda(a, 1)
		n := min(len(x), len(y))
		out := &List{Items: make([]Value, n)}
		for i := 0; i < n; i++ {
			if f != nil {
				out.Items[i] = call2(e, f, x[i], y[i])
			} else {
				d := newDict()
				d.Anon = true
				d.Set("Item1", x[i])
				d.Set("Item2", y[i])
				out.Items[i] = d
			}
		}
		return out
	})
	t.seq("DefaultIfEmpty", "List<?>(0-1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		src := linqItems(e, r)
		if len(src) == 0 {
			var d Value
			if len(a) > 0 {
				d = a[0]
			}
			return &List{Items: []Value{d}}
		}
		return &List{Items: append([]Value(nil), src...)}
	})
}

// registerLinqConversions registers the LINQ methods that build a
// collection, GroupBy and IGrouping<TKey, T>.Key.
func registerLinqConversions(t *typeDef) {
	g := defType("IGrouping").on(kList)
	t.seq("ToArray", "elem[]()", func(e *env, r Value, a []Value, cs *callSite) Value {
		src := linqItems(e, r)
		if _, ok := r.([]byte); ok {
			return append([]byte(nil), r.([]byte)...)
		}
		elem := ""
		if l, ok := r.(*List); ok {
			elem = l.Elem
		}
		if _, ok := r.(string); ok {
			elem = "char"
		}
		if elem == "" && len(src) > 0 {
			elem = elemName(src[0])
			for _, it := range src {
				if elemName(it) != elem {
					elem = ""
					break
				}
			}
		}
		return &List{Array: true, Elem: elem, Items: append([]Value(nil), src...)}
	})
	t.seq("ToList", "elem[]()", func(e *env, r Value, a []Value, cs *callSite) Value {
		elem := ""
		if l, ok := r.(*List); ok {
			elem = l.Elem
		}
		return &List{Elem: elem, Items: append([]Value(nil), linqItems(e, r)...)}
	})
	t.seq("ToHashSet", "HashSet<?>(0-1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		s := &Set{}
		s.d.index = map[Value]int{}
		s.d.IgnoreCase = comparerIgnoresCase(a, 0)
		for _, it := range linqItems(e, r) {
			s.d.Set(it, true)
		}
		return s
	})
	t.seq("ToDictionary", "Dictionary(0-3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		kf := optLambda(a, 0)
		vf := optLambda(a, 1)
		d := newDict()
		for _, v := range a {
			if ev, ok := v.(enumValue); ok && ev.typ == "StringComparer" {
				d.IgnoreCase = ev.v == 1
			}
		}
		for _, it := range linqItems(e, r) {
			var k, v Value
			if kf == nil {
				kvp, ok := it.(KeyValuePair)
				if !ok {
					throwf("ArgumentException", "ToDictionary needs a key selector")
				}
				k, v = kvp.Key, kvp.Value
			} else {
				k = call1(e, kf, it)
				v = it
				if vf != nil {
					v = call1(e, vf, it)
				}
			}
			if k == nil {
				throwf("ArgumentNullException", "Value cannot be null. (Parameter 'key')")
			}
			if _, exists := d.Get(k); exists {
				throwf("ArgumentException", "An item with the same key has already been added. Key: %s", toStr(k))
			}
			d.Set(k, v)
		}
		return d
	})
	t.seq("GroupBy", "List<List<?>>(1-4)", func(e *env, r Value, a []Value, cs *callSite) Value {
		kf := argLambda(a, 0, cs)
		vf := optLambda(a, 1)
		idx := map[Value]*List{}
		out := &List{}
		for _, it := range linqItems(e, r) {
			k := call1(e, kf, it)
			g, ok := idx[hashKey(k)]
			if !ok {
				g = &List{key: k, isGroup: true}
				idx[hashKey(k)] = g
				out.Items = append(out.Items, g)
			}
			v := it
			if vf != nil {
				v = call1(e, vf, it)
			}
			g.Items = append(g.Items, v)
		}
		return out
	})
	g.prop("Key", "?", func(e *env, r Value) Value {
		l := r.(*List)
		if !l.isGroup {
			throwf("RuntimeBinderException", "'List' does not contain a definition for 'Key'")
		}
		return l.key
	})
	t.seq("Cast", "List<T>(0)", func(e *env, r Value, a []Value, cs *callSite) Value {
		src := linqItems(e, r)
		out := &List{Elem: cs.targ(0), Items: make([]Value, len(src))}
		for i, it := range src {
			if t := cs.targ(0); t != "" {
				out.Items[i] = castTo(it, t, cs.targs[0], true)
			} else {
				out.Items[i] = it
			}
		}
		return out
	})
	t.seq("OfType", "List<T>(0)", func(e *env, r Value, a []Value, cs *callSite) Value {
		out := &List{Elem: cs.targ(0)}
		for _, it := range linqItems(e, r) {
			if isOfType(it, cs.targ(0), cs.targs[0]) {
				out.Items = append(out.Items, it)
			}
		}
		return out
	})
	t.seq("AsEnumerable", "same()", func(e *env, r Value, a []Value, cs *callSite) Value { return r })
}

// linqItems are the elements a LINQ method enumerates.
func linqItems(e *env, r Value) []Value { return iterate(e, r) }

// distinctValues are the values of src without repetitions, in order.
func distinctValues(src []Value, ignoreCase bool) []Value {
	d := Dict{IgnoreCase: ignoreCase, index: map[Value]int{}}
	var out []Value
	for _, it := range src {
		k := hashKey(it)
		if _, ok := d.Get(k); ok {
			continue
		}
		d.Set(k, true)
		out = append(out, it)
	}
	return out
}

// comparerIgnoresCase reports whether argument i is a case-insensitive
// StringComparer.
func comparerIgnoresCase(a []Value, i int) bool {
	if ev, ok := argEnum(a, i, "StringComparer"); ok {
		return ev.v == 1
	}
	return false
}
