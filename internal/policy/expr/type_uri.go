package expr

import (
	"net/url"
	"strings"
)

// registerURI registers System.Uri.
func registerURI() {
	t := defType("Uri", kUri)
	t.static("EscapeDataString", "string(1)", func(e *env, a []Value, cs *callSite) Value {
		return escapeData(argStr(a, 0, cs), unreserved, false)
	})
	t.static("EscapeUriString", "string(1)", func(e *env, a []Value, cs *callSite) Value {
		return escapeData(argStr(a, 0, cs), func(c byte) bool { return unreserved(c) || strings.IndexByte(":/?#[]@!$&'()*+,;=%", c) >= 0 }, false)
	})
	t.static("UnescapeDataString", "string(1)", func(e *env, a []Value, cs *callSite) Value { return unescapeData(argStr(a, 0, cs), false) })
	t.static("IsWellFormedUriString", "bool(2)", func(e *env, a []Value, cs *callSite) Value {
		s := argStr(a, 0, cs)
		k, _ := argEnum(a, 1, "UriKind")
		u, err := url.Parse(s)
		if err != nil || strings.ContainsAny(s, " \\") {
			return false
		}
		switch k.name {
		case "Absolute":
			return u.IsAbs() && u.Host != ""
		case "Relative":
			return !u.IsAbs()
		}
		return true
	})
	t.static("TryCreate", "bool(3)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 3, cs)
		s, _ := argStrOrNull(a, 0, cs)
		k, _ := argEnum(a, 1, "UriKind")
		u, err := newURI(s, k.name)
		if err != nil {
			setOut(e, a, 2, cs, nil)
			return false
		}
		setOut(e, a, 2, cs, u)
		return true
	})
	t.ctor("(1-2)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		if b, ok := a[0].(*uriValue); ok {
			rel := argStr(a, 1, cs)
			ru, err := url.Parse(rel)
			if err != nil {
				throwf("UriFormatException", "Invalid URI: %v", err)
			}
			return &uriValue{u: b.u.ResolveReference(ru), orig: rel}
		}
		kind := "Absolute"
		if k, ok := argEnum(a, 1, "UriKind"); ok {
			kind = k.name
		}
		u, err := newURI(argStr(a, 0, cs), kind)
		if err != nil {
			throwf("UriFormatException", "Invalid URI: The format of the URI could not be determined.")
		}
		return u
	})
	U := func(r Value) *uriValue {
		u := r.(*uriValue)
		return u
	}
	needAbs := func(u *uriValue) {
		if !u.abs() {
			throwf("InvalidOperationException", "This operation is not supported for a relative URI.")
		}
	}
	t.prop("Scheme", "string", func(e *env, r Value) Value { needAbs(U(r)); return U(r).u.Scheme })
	t.prop("Host", "string", func(e *env, r Value) Value { needAbs(U(r)); return strings.ToLower(U(r).u.Hostname()) })
	t.prop("Port", "int", func(e *env, r Value) Value { needAbs(U(r)); return int32(U(r).port()) })
	t.prop("IsDefaultPort", "bool", func(e *env, r Value) Value { needAbs(U(r)); return U(r).u.Port() == "" })
	t.prop("Authority", "string", func(e *env, r Value) Value {
		needAbs(U(r))
		if U(r).u.Port() == "" {
			return strings.ToLower(U(r).u.Hostname())
		}
		return strings.ToLower(U(r).u.Host)
	})
	path := func(u *uriValue) string {
		p := u.u.EscapedPath()
		if p == "" {
			p = "/"
		}
		return p
	}
	t.prop("AbsolutePath", "string", func(e *env, r Value) Value { needAbs(U(r)); return path(U(r)) })
	t.prop("LocalPath", "string", func(e *env, r Value) Value { needAbs(U(r)); return U(r).u.Path })
	t.prop("PathAndQuery", "string", func(e *env, r Value) Value {
		needAbs(U(r))
		q := ""
		if U(r).u.RawQuery != "" || U(r).u.ForceQuery {
			q = "?" + U(r).u.RawQuery
		}
		return path(U(r)) + q
	})
	t.prop("Query", "string", func(e *env, r Value) Value {
		needAbs(U(r))
		if U(r).u.RawQuery == "" {
			return ""
		}
		return "?" + U(r).u.RawQuery
	})
	t.prop("Fragment", "string", func(e *env, r Value) Value {
		needAbs(U(r))
		if U(r).u.Fragment == "" {
			return ""
		}
		return "#" + U(r).u.EscapedFragment()
	})
	t.prop("UserInfo", "string", func(e *env, r Value) Value {
		if U(r).u.User == nil {
			return ""
		}
		return U(r).u.User.String()
	})
	t.prop("AbsoluteUri", "string", func(e *env, r Value) Value {
		needAbs(U(r))
		u := *U(r).u
		if u.Path == "" {
			u.Path = "/"
		}
		return u.String()
	})
	t.prop("OriginalString", "string", func(e *env, r Value) Value { return U(r).orig })
	t.prop("IsAbsoluteUri", "bool", func(e *env, r Value) Value { return U(r).abs() })
	t.prop("Segments", "string[]", func(e *env, r Value) Value {
		needAbs(U(r))
		p := path(U(r))
		var segs []string
		for len(p) > 0 {
			i := strings.IndexByte(p, '/')
			if i < 0 {
				segs = append(segs, p)
				break
			}
			segs = append(segs, p[:i+1])
			p = p[i+1:]
		}
		return normalize(segs)
	})
	t.method("GetLeftPart", "string(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		needAbs(U(r))
		part, _ := argEnum(a, 0, "UriPartial")
		u := U(r).u
		s := u.Scheme + "://"
		if part.name == "Scheme" {
			return s
		}
		s += u.Host
		if part.name == "Authority" {
			return s
		}
		s += path(U(r))
		if part.name == "Path" {
			return s
		}
		if u.RawQuery != "" {
			s += "?" + u.RawQuery
		}
		return s
	})
}
