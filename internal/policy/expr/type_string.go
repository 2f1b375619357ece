package expr

import (
	"strings"
)

// registerString registers System.String: its instance members, static
// members and constructor.
func registerString() {
	t := defType("string", kString)
	S := func(r Value) string { return r.(string) }
	t.prop("Length", "int", func(e *env, r Value) Value { return int32(strLen(S(r))) })
	t.method("Substring", "string(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		s := S(r)
		start := argInt(a, 0, cs)
		n := strLen(s) - start
		if len(a) > 1 {
			n = argInt(a, 1, cs)
		}
		if start < 0 || start > strLen(s) {
			throwf("ArgumentOutOfRangeException", "startIndex cannot be larger than length of string.")
		}
		return substr(s, start, n)
	})
	t.method("Replace", "string(2-4)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		old := strOrChar(a, 0, cs)
		if old == "" {
			throwf("ArgumentException", "String cannot be of zero length. (Parameter 'oldValue')")
		}
		nw := ""
		if a[1] != nil {
			nw = strOrChar(a, 1, cs)
		}
		if n := strings.Count(S(r), old); n > 0 && len(nw) > len(old) {
			e.alloc(len(S(r)) + n*(len(nw)-len(old)))
		}
		var out string
		if ignoreCaseArg(a, 2) {
			out = replaceFold(S(r), old, nw)
		} else {
			out = strings.ReplaceAll(S(r), old, nw)
		}
		e.alloc(len(out))
		return out
	})
	t.method("Split", "string[](0+)", func(e *env, r Value, a []Value, cs *callSite) Value {
		seps, count, opts := splitSeps(a, cs)
		l := splitString(S(r), seps, count, opts)
		e.alloc(len(S(r)) + 16*len(l.Items))
		return l
	})
	t.method("Trim", "string(0+)", func(e *env, r Value, a []Value, cs *callSite) Value { return strings.TrimFunc(S(r), trimSet(a)) })
	t.method("TrimStart", "string(0+)", func(e *env, r Value, a []Value, cs *callSite) Value { return strings.TrimLeftFunc(S(r), trimSet(a)) })
	t.method("TrimEnd", "string(0+)", func(e *env, r Value, a []Value, cs *callSite) Value { return strings.TrimRightFunc(S(r), trimSet(a)) })
	lower := func(e *env, r Value, a []Value, cs *callSite) Value { return strings.ToLower(S(r)) }
	upper := func(e *env, r Value, a []Value, cs *callSite) Value { return strings.ToUpper(S(r)) }
	t.method("ToLower", "string(0-1)", lower)
	t.method("ToLowerInvariant", "string()", lower)
	t.method("ToUpper", "string(0-1)", upper)
	t.method("ToUpperInvariant", "string()", upper)
	t.method("StartsWith", "bool(1-3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		p := strOrChar(a, 0, cs)
		if ignoreCaseArg(a, 1) {
			return len(S(r)) >= len(p) && strings.EqualFold(S(r)[:len(p)], p)
		}
		return strings.HasPrefix(S(r), p)
	})
	t.method("EndsWith", "bool(1-3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		p := strOrChar(a, 0, cs)
		s := S(r)
		if ignoreCaseArg(a, 1) {
			return len(s) >= len(p) && strings.EqualFold(s[len(s)-len(p):], p)
		}
		return strings.HasSuffix(s, p)
	})
	t.method("Contains", "bool(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		p := strOrChar(a, 0, cs)
		if ignoreCaseArg(a, 1) {
			return strings.Contains(strings.ToLower(S(r)), strings.ToLower(p))
		}
		return strings.Contains(S(r), p)
	})
	idx := func(last bool) methodFn {
		return func(e *env, r Value, a []Value, cs *callSite) Value {
			s := S(r)
			p := strOrChar(a, 0, cs)
			start := 0
			ignore := false
			for i := 1; i < len(a); i++ {
				switch x := a[i].(type) {
				case int32:
					if i == 1 {
						start = int(x)
					}
				case enumValue:
					ignore = x.v%2 == 1
				}
			}
			if last {
				if len(a) > 1 {
					if _, ok := a[1].(int32); ok {
						// LastIndexOf(value, startIndex): search backwards from startIndex
						end := u16ToByte(s, min(start+1, strLen(s)))
						i := strings.LastIndex(s[:end], p)
						return idxResult(s, i)
					}
				}
				return idxResult(s, indexOf(s, p, 0, ignore, true))
			}
			return idxResult(s, indexOf(s, p, start, ignore, false))
		}
	}
	t.method("IndexOf", "int(1-4)", idx(false))
	t.method("LastIndexOf", "int(1-4)", idx(true))
	t.method("IndexOfAny", "int(1-3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		s := S(r)
		set := trimSet(a[:1])
		i := strings.IndexFunc(s, set)
		return idxResult(s, i)
	})
	t.method("Equals", "bool(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		o, ok := a[0].(string)
		if !ok {
			if jv, isJ := a[0].(*JValue); isJ && jv.kind == jString {
				o, ok = jv.s, true
			}
		}
		if !ok {
			return false
		}
		if ignoreCaseArg(a, 1) {
			return strings.EqualFold(S(r), o)
		}
		return S(r) == o
	})
	pad := func(left bool) methodFn {
		return func(e *env, r Value, a []Value, cs *callSite) Value {
			s := S(r)
			n := argInt(a, 0, cs)
			if n < 0 {
				throwf("ArgumentOutOfRangeException", "Non-negative number required. (Parameter 'totalWidth')")
			}
			c := " "
			if len(a) > 1 {
				c = strOrChar(a, 1, cs)
			}
			l := strLen(s)
			if l >= n {
				return s
			}
			e.alloc(n * len(c))
			p := strings.Repeat(c, n-l)
			if left {
				return p + s
			}
			return s + p
		}
	}
	t.method("PadLeft", "string(1-2)", pad(true))
	t.method("PadRight", "string(1-2)", pad(false))
	t.method("Insert", "string(2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		s := S(r)
		i := argInt(a, 0, cs)
		if i < 0 || i > strLen(s) {
			throwf("ArgumentOutOfRangeException", "Index was out of range.")
		}
		b := u16ToByte(s, i)
		return s[:b] + argStr(a, 1, cs) + s[b:]
	})
	t.method("Remove", "string(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		s := S(r)
		i := argInt(a, 0, cs)
		l := strLen(s)
		n := l - i
		if len(a) > 1 {
			n = argInt(a, 1, cs)
		}
		if i < 0 || n < 0 || i+n > l {
			throwf("ArgumentOutOfRangeException", "Index and count must refer to a location within the string.")
		}
		return substr(s, 0, i) + substr(s, i+n, l-i-n)
	})
	t.method("ToCharArray", "char[](0,2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		return &List{Array: true, Elem: "char", Items: iterate(e, r)}
	})
	t.method("Normalize", "string(0-1)", func(e *env, r Value, a []Value, cs *callSite) Value { return r })
	t.method("CompareTo", "int(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		o, _ := argStrOrNull(a, 0, cs)
		if a[0] == nil {
			return int32(1)
		}
		return int32(compareStringsCulture(S(r), o))
	})

	t.staticProp("Empty", "string", func(*env) Value { return "" })
	t.static("IsNullOrEmpty", "bool(1)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		s, ok := a[0].(string)
		if jv, isJ := a[0].(*JValue); isJ {
			return jv.isNull() || jv.String() == ""
		}
		return !ok || s == ""
	})
	t.static("IsNullOrWhiteSpace", "bool(1)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		if a[0] == nil {
			return true
		}
		return strings.TrimSpace(argStr(a, 0, cs)) == ""
	})
	t.static("Format", "string(1+)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		if _, ok := a[0].(string); !ok && len(a) > 1 {
			a = a[1:] // Format(IFormatProvider, format, args)
		}
		args := a[1:]
		if len(args) == 1 {
			if l, ok := args[0].(*List); ok && l.Array && (l.Elem == "" || l.Elem == "object") {
				args = l.Items
			}
		}
		s := compositeFormat(argStr(a, 0, cs), args)
		e.alloc(len(s))
		return s
	})
	t.static("Join", "string(1+)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		sep := strOrChar(a, 0, cs)
		var items []Value
		if len(a) == 2 {
			switch a[1].(type) {
			case string, nil, int32, int64, float64, bool:
				items = a[1:]
			default:
				items = iterate(e, a[1])
			}
		} else {
			items = a[1:]
		}
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = toStr(it)
		}
		s := strings.Join(parts, sep)
		e.alloc(len(s))
		return s
	})
	t.static("Concat", "string(0+)", func(e *env, a []Value, cs *callSite) Value {
		var b strings.Builder
		items := a
		if len(a) == 1 {
			if _, ok := a[0].(string); !ok && a[0] != nil {
				items = iterate(e, a[0])
			}
		}
		for _, it := range items {
			b.WriteString(toStr(it))
		}
		e.alloc(b.Len())
		return b.String()
	})
	t.static("Equals", "bool(2-3)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		if a[0] == nil || a[1] == nil {
			return a[0] == nil && a[1] == nil
		}
		x, y := argStr(a, 0, cs), argStr(a, 1, cs)
		if ignoreCaseArg(a, 2) {
			return strings.EqualFold(x, y)
		}
		return x == y
	})
	t.static("Compare", "int(2-6)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		if a[0] == nil || a[1] == nil {
			return int32(cmpInt(b2i(a[0] != nil), b2i(a[1] != nil)))
		}
		x, y := argStr(a, 0, cs), argStr(a, 1, cs)
		if ev, ok := argEnum(a, 2, "StringComparison"); ok && (ev.name == "Ordinal" || ev.name == "OrdinalIgnoreCase") {
			if ev.v%2 == 1 {
				x, y = strings.ToUpper(x), strings.ToUpper(y)
			}
			return int32(sign(strings.Compare(x, y)))
		}
		if ignoreCaseArg(a, 2) {
			return int32(strings.Compare(strings.ToLower(x), strings.ToLower(y)))
		}
		return int32(compareStringsCulture(x, y))
	})
	t.static("CompareOrdinal", "int(2,5)", func(e *env, a []Value, cs *callSite) Value {
		return int32(sign(strings.Compare(argStr(a, 0, cs), argStr(a, 1, cs))))
	})
	t.ctor("(1-3)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		switch x := a[0].(type) {
		case Char:
			n := argInt(a, 1, cs)
			e.alloc(n)
			return strings.Repeat(toStr(x), n)
		case *List:
			var b strings.Builder
			for _, it := range x.Items {
				b.WriteString(toStr(it))
			}
			return b.String()
		}
		throwf("ArgumentException", "new string(...) takes (char, int) or (char[])")
		return nil
	})
}
