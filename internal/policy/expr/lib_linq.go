package expr

import (
	"math"
	"math/bits"
	"sort"
)

func seq(name string, f methodFn) { seqMethods[name] = f }

func noElements() {
	throwf("InvalidOperationException", "Sequence contains no elements")
}

func optLambda(a []Value, i int) *lambda {
	if i < len(a) {
		if l, ok := a[i].(*lambda); ok {
			return l
		}
	}
	return nil
}

func sortByKeys(e *env, src []Value, keys []orderKey) []Value {
	e.elements(len(src) * bits.Len(uint(len(src))) * len(keys))
	out := append([]Value(nil), src...)
	type kv struct {
		v    Value
		keys []Value
	}
	rows := make([]kv, len(out))
	for i, v := range out {
		rows[i].v = v
		for _, k := range keys {
			rows[i].keys = append(rows[i].keys, call1(e, k.f, v))
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		for n, k := range keys {
			c := compare(rows[i].keys[n], rows[j].keys[n])
			if c == 2 {
				c = 0
			}
			if c != 0 {
				if k.desc {
					return c > 0
				}
				return c < 0
			}
		}
		return false
	})
	for i := range rows {
		out[i] = rows[i].v
	}
	return out
}

func numericSum(items []Value) Value {
	var acc Value = int32(0)
	for _, it := range items {
		if it == nil {
			continue
		}
		if jv, ok := it.(*JValue); ok {
			it = jv.plain()
		}
		if _, ok := acc.(int32); ok {
			if _, isInt := it.(int32); !isInt {
				if r := numRank(it); r >= 0 {
					acc = numConvert(acc, []string{"int", "long", "double", "decimal"}[r], true)
				}
			}
		}
		acc = arith('+', acc, it)
	}
	return acc
}

func registerLinq() {
	items := func(e *env, r Value) []Value { return iterate(e, r) }
	seq("Where", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		out := &List{}
		for i, it := range items(e, r) {
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
	seq("Select", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		src := items(e, r)
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
	seq("SelectMany", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		out := &List{}
		for _, it := range items(e, r) {
			sub := call1(e, f, it)
			if sub == nil {
				throwNull("SelectMany")
			}
			out.Items = append(out.Items, iterate(e, sub)...)
		}
		e.alloc(16 * len(out.Items))
		return out
	})
	seq("Any", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := optLambda(a, 0)
		for _, it := range items(e, r) {
			if f == nil || truthy(call1(e, f, it)) {
				return true
			}
		}
		return false
	})
	seq("All", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		for _, it := range items(e, r) {
			if !truthy(call1(e, f, it)) {
				return false
			}
		}
		return true
	})
	find := func(first, orDefault bool) methodFn {
		return func(e *env, r Value, a []Value, cs *callSite) Value {
			f := optLambda(a, 0)
			src := items(e, r)
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
	seq("First", find(true, false))
	seq("FirstOrDefault", find(true, true))
	seq("Last", find(false, false))
	seq("LastOrDefault", find(false, true))
	single := func(orDefault bool) methodFn {
		return func(e *env, r Value, a []Value, cs *callSite) Value {
			f := optLambda(a, 0)
			var found Value
			n := 0
			for _, it := range items(e, r) {
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
	seq("Single", single(false))
	seq("SingleOrDefault", single(true))
	count := func(e *env, r Value, a []Value, cs *callSite) Value {
		f := optLambda(a, 0)
		n := 0
		for _, it := range items(e, r) {
			if f == nil || truthy(call1(e, f, it)) {
				n++
			}
		}
		if cs.name == "LongCount" {
			return int64(n)
		}
		return int32(n)
	}
	seq("Count", count)
	seq("LongCount", count)
	mapped := func(e *env, r Value, a []Value) []Value {
		src := items(e, r)
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
	seq("Sum", func(e *env, r Value, a []Value, cs *callSite) Value { return numericSum(mapped(e, r, a)) })
	seq("Average", func(e *env, r Value, a []Value, cs *callSite) Value {
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
	seq("Max", extreme(true))
	seq("Min", extreme(false))
	by := func(isMax bool) methodFn {
		return func(e *env, r Value, a []Value, cs *callSite) Value {
			f := argLambda(a, 0, cs)
			var best, bestKey Value
			seen := false
			for _, it := range items(e, r) {
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
	seq("MaxBy", by(true))
	seq("MinBy", by(false))
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
				src = items(e, r)
				keys = []orderKey{{f, desc}}
			}
			return &List{Items: sortByKeys(e, src, keys), orderSrc: src, orderKeys: keys}
		}
	}
	seq("OrderBy", order(false, false))
	seq("OrderByDescending", order(true, false))
	seq("ThenBy", order(false, true))
	seq("ThenByDescending", order(true, true))
	seq("Order", func(e *env, r Value, a []Value, cs *callSite) Value {
		out := append([]Value(nil), items(e, r)...)
		sort.SliceStable(out, func(i, j int) bool { return compare(out[i], out[j]) < 0 })
		return &List{Items: out}
	})
	seq("Skip", func(e *env, r Value, a []Value, cs *callSite) Value {
		src := items(e, r)
		n := min(max(argInt(a, 0, cs), 0), len(src))
		return &List{Items: append([]Value(nil), src[n:]...)}
	})
	seq("Take", func(e *env, r Value, a []Value, cs *callSite) Value {
		src := items(e, r)
		n := min(max(argInt(a, 0, cs), 0), len(src))
		return &List{Items: append([]Value(nil), src[:n]...)}
	})
	seq("SkipWhile", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		src := items(e, r)
		i := 0
		for i < len(src) && truthy(call1(e, f, src[i])) {
			i++
		}
		return &List{Items: append([]Value(nil), src[i:]...)}
	})
	seq("TakeWhile", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		src := items(e, r)
		i := 0
		for i < len(src) && truthy(call1(e, f, src[i])) {
			i++
		}
		return &List{Items: append([]Value(nil), src[:i]...)}
	})
	distinct := func(src []Value, ignoreCase bool) []Value {
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
	cmpIgnore := func(a []Value, i int) bool {
		if ev, ok := argEnum(a, i, "StringComparer"); ok {
			return ev.v == 1
		}
		return false
	}
	seq("Distinct", func(e *env, r Value, a []Value, cs *callSite) Value {
		return &List{Items: distinct(items(e, r), cmpIgnore(a, 0))}
	})
	seq("DistinctBy", func(e *env, r Value, a []Value, cs *callSite) Value {
		f := argLambda(a, 0, cs)
		d := Dict{index: map[Value]int{}}
		out := &List{}
		for _, it := range items(e, r) {
			k := hashKey(call1(e, f, it))
			if _, ok := d.Get(k); ok {
				continue
			}
			d.Set(k, true)
			out.Items = append(out.Items, it)
		}
		return out
	})
	seq("Contains", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		ic := cmpIgnore(a, 1)
		for _, it := range items(e, r) {
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
	seq("ToArray", func(e *env, r Value, a []Value, cs *callSite) Value {
		src := items(e, r)
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
	seq("ToList", func(e *env, r Value, a []Value, cs *callSite) Value {
		elem := ""
		if l, ok := r.(*List); ok {
			elem = l.Elem
		}
		return &List{Elem: elem, Items: append([]Value(nil), items(e, r)...)}
	})
	seq("ToHashSet", func(e *env, r Value, a []Value, cs *callSite) Value {
		s := &Set{}
		s.d.index = map[Value]int{}
		s.d.IgnoreCase = cmpIgnore(a, 0)
		for _, it := range items(e, r) {
			s.d.Set(it, true)
		}
		return s
	})
	seq("ToDictionary", func(e *env, r Value, a []Value, cs *callSite) Value {
		kf := optLambda(a, 0)
		vf := optLambda(a, 1)
		d := newDict()
		for _, v := range a {
			if ev, ok := v.(enumValue); ok && ev.typ == "StringComparer" {
				d.IgnoreCase = ev.v == 1
			}
		}
		for _, it := range items(e, r) {
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
	seq("GroupBy", func(e *env, r Value, a []Value, cs *callSite) Value {
		kf := argLambda(a, 0, cs)
		vf := optLambda(a, 1)
		idx := map[Value]*List{}
		out := &List{}
		for _, it := range items(e, r) {
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
	prop(kList, "Key", func(e *env, r Value) Value {
		l := r.(*List)
		if !l.isGroup {
			throwf("RuntimeBinderException", "'List' does not contain a definition for 'Key'")
		}
		return l.key
	})
	seq("Concat", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		return &List{Items: append(append([]Value(nil), items(e, r)...), iterate(e, a[0])...)}
	})
	seq("Append", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		return &List{Items: append(append([]Value(nil), items(e, r)...), a[0])}
	})
	seq("Prepend", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		return &List{Items: append([]Value{a[0]}, items(e, r)...)}
	})
	seq("Union", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		return &List{Items: distinct(append(append([]Value(nil), items(e, r)...), iterate(e, a[0])...), cmpIgnore(a, 1))}
	})
	setOp := func(keep bool) methodFn {
		return func(e *env, r Value, a []Value, cs *callSite) Value {
			need(a, 1, cs)
			other := Dict{IgnoreCase: cmpIgnore(a, 1), index: map[Value]int{}}
			for _, it := range iterate(e, a[0]) {
				other.Set(hashKey(it), true)
			}
			var out []Value
			for _, it := range distinct(items(e, r), cmpIgnore(a, 1)) {
				if _, ok := other.Get(hashKey(it)); ok == keep {
					out = append(out, it)
				}
			}
			return &List{Items: out}
		}
	}
	seq("Intersect", setOp(true))
	seq("Except", setOp(false))
	seq("Reverse", func(e *env, r Value, a []Value, cs *callSite) Value { return &List{Items: reversed(items(e, r))} })
	seq("ElementAt", func(e *env, r Value, a []Value, cs *callSite) Value {
		src := items(e, r)
		return src[listIndex(a[0], len(src))]
	})
	seq("ElementAtOrDefault", func(e *env, r Value, a []Value, cs *callSite) Value {
		src := items(e, r)
		i := argInt(a, 0, cs)
		if i < 0 || i >= len(src) {
			return nil
		}
		return src[i]
	})
	seq("Aggregate", func(e *env, r Value, a []Value, cs *callSite) Value {
		src := items(e, r)
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
	seq("Zip", func(e *env, r Value, a []Value, cs *callSite) Value {
		x, y := items(e, r), iterate(e, a[0])
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
	seq("DefaultIfEmpty", func(e *env, r Value, a []Value, cs *callSite) Value {
		src := items(e, r)
		if len(src) == 0 {
			var d Value
			if len(a) > 0 {
				d = a[0]
			}
			return &List{Items: []Value{d}}
		}
		return &List{Items: append([]Value(nil), src...)}
	})
	seq("Cast", func(e *env, r Value, a []Value, cs *callSite) Value {
		src := items(e, r)
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
	seq("OfType", func(e *env, r Value, a []Value, cs *callSite) Value {
		out := &List{Elem: cs.targ(0)}
		for _, it := range items(e, r) {
			if isOfType(it, cs.targ(0), cs.targs[0]) {
				out.Items = append(out.Items, it)
			}
		}
		return out
	})
	seq("SequenceEqual", func(e *env, r Value, a []Value, cs *callSite) Value {
		x, y := items(e, r), iterate(e, a[0])
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
	seq("AsEnumerable", func(e *env, r Value, a []Value, cs *callSite) Value { return r })
}

func equalFold(a, b string) bool {
	return len(a) == len(b) && (a == b || lower(a) == lower(b))
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
