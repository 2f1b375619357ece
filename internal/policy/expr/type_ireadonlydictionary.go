package expr

import (
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// registerReadOnlyDictionaries registers the read-only dictionaries of the
// context, IReadOnlyDictionary<string, ...>: request and response headers
// (IHeaderDictionary), URL query parameters (IQueryDictionary), matched
// template parameters (IReadOnlyDictionary), context.Variables (Variables)
// and the claims of a Jwt (Claims). Each has its own representation, hence
// its own kind.
func registerReadOnlyDictionaries() {
	h := defType("IHeaderDictionary", kHeaders)
	q := defType("IQueryDictionary", kQuery)
	m := defType("IReadOnlyDictionary", kStrMap)
	v := defType("Variables", kVariables)
	c := defType("Claims", kClaims)
	hdrGet := func(h http.Header, name string) ([]string, bool) {
		if v, ok := h[name]; ok {
			return v, true
		}
		if v, ok := h[textproto.CanonicalMIMEHeaderKey(name)]; ok {
			return v, true
		}
		for k, v := range h {
			if strings.EqualFold(k, name) {
				return v, true
			}
		}
		return nil, false
	}
	multi := func(v []string) Value {
		if len(v) == 1 {
			return v[0]
		}
		return strings.Join(v, ",")
	}
	h.method("GetValueOrDefault", "string|arg1(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		if len(a) < 1 || len(a) > 2 {
			wrongArgs(cs, len(a))
		}
		if v, ok := hdrGet(r.(http.Header), argStr(a, 0, cs)); ok {
			return multi(v)
		}
		if len(a) > 1 {
			return a[1]
		}
		return nil
	})
	h.method("ContainsKey", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		_, ok := hdrGet(r.(http.Header), argStr(a, 0, cs))
		return ok
	})
	h.method("TryGetValue", "bool(2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		v, ok := hdrGet(r.(http.Header), argStr(a, 0, cs))
		setOut(e, a, 1, cs, func() Value {
			if !ok {
				return nil
			}
			return normalize(v)
		}())
		return ok
	})
	h.prop("Count", "int", func(e *env, r Value) Value { return int32(len(r.(http.Header))) })
	h.prop("Keys", "List<string>", func(e *env, r Value) Value { return sortedKeys(r.(http.Header)) })
	qGet := func(q url.Values, name string) ([]string, bool) {
		if v, ok := q[name]; ok {
			return v, true
		}
		for k, v := range q {
			if strings.EqualFold(k, name) {
				return v, true
			}
		}
		return nil, false
	}
	q.method("GetValueOrDefault", "string|arg1(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		if len(a) < 1 || len(a) > 2 {
			wrongArgs(cs, len(a))
		}
		if v, ok := qGet(r.(url.Values), argStr(a, 0, cs)); ok {
			return multi(v)
		}
		if len(a) > 1 {
			return a[1]
		}
		return nil
	})
	q.method("ContainsKey", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		_, ok := qGet(r.(url.Values), argStr(a, 0, cs))
		return ok
	})
	q.method("TryGetValue", "bool(2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		v, ok := qGet(r.(url.Values), argStr(a, 0, cs))
		if ok {
			setOut(e, a, 1, cs, normalize(v))
		} else {
			setOut(e, a, 1, cs, nil)
		}
		return ok
	})
	q.prop("Count", "int", func(e *env, r Value) Value { return int32(len(r.(url.Values))) })
	q.prop("Keys", "List<string>", func(e *env, r Value) Value { return sortedKeys(r.(url.Values)) })

	m.method("GetValueOrDefault", "string|arg1(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		if len(a) < 1 || len(a) > 2 {
			wrongArgs(cs, len(a))
		}
		if v, ok := r.(map[string]string)[argStr(a, 0, cs)]; ok {
			return v
		}
		if len(a) > 1 {
			return a[1]
		}
		return nil
	})
	m.method("ContainsKey", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		_, ok := r.(map[string]string)[argStr(a, 0, cs)]
		return ok
	})
	m.method("TryGetValue", "bool(2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		v, ok := r.(map[string]string)[argStr(a, 0, cs)]
		if ok {
			setOut(e, a, 1, cs, v)
		} else {
			setOut(e, a, 1, cs, nil)
		}
		return ok
	})
	m.prop("Count", "int", func(e *env, r Value) Value { return int32(len(r.(map[string]string))) })
	m.prop("Keys", "List<string>", func(e *env, r Value) Value { return sortedKeys(r.(map[string]string)) })

	v.method("GetValueOrDefault", "T:?|arg1(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		if len(a) < 1 || len(a) > 2 {
			wrongArgs(cs, len(a))
		}
		v, ok := r.(map[string]any)[argStr(a, 0, cs)]
		if !ok {
			if len(a) > 1 {
				return a[1]
			}
			return defaultOf(cs.targ(0), nil)
		}
		v = normalize(v)
		if t := cs.targ(0); t != "" {
			return castTo(v, t, cs.targs[0], true)
		}
		return v
	})
	v.method("ContainsKey", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		_, ok := r.(map[string]any)[argStr(a, 0, cs)]
		return ok
	})
	v.method("TryGetValue", "bool(2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		v, ok := r.(map[string]any)[argStr(a, 0, cs)]
		setOut(e, a, 1, cs, normalize(v))
		return ok
	})
	v.prop("Count", "int", func(e *env, r Value) Value { return int32(len(r.(map[string]any))) })
	v.prop("Keys", "List<string>", func(e *env, r Value) Value { return sortedKeys(r.(map[string]any)) })

	// Jwt claims
	c.method("GetValueOrDefault", "string|arg1(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
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
	c.method("ContainsKey", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		_, ok := r.(*claimDict).Get(argStr(a, 0, cs))
		return ok
	})
	c.method("TryGetValue", "bool(2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		v, ok := r.(*claimDict).Get(argStr(a, 0, cs))
		setOut(e, a, 1, cs, v)
		return ok
	})
	c.prop("Count", "int", func(e *env, r Value) Value { return int32(r.(*claimDict).Len()) })
	c.prop("Keys", "List<string>", func(e *env, r Value) Value {
		return &List{Elem: "string", Items: append([]Value(nil), r.(*claimDict).keys...)}
	})

}
