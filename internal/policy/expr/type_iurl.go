package expr

import (
	"net/url"
)

// registerURL registers the URLs of requests (IUrl).
func registerURL() {
	t := defType("IUrl", kURL)
	t.prop("Scheme", "string", func(e *env, r Value) Value { return r.(*URL).Scheme })
	t.prop("Host", "string", func(e *env, r Value) Value { return r.(*URL).Host })
	t.prop("Port", "int", func(e *env, r Value) Value { return int32(r.(*URL).Port) })
	t.prop("Path", "string", func(e *env, r Value) Value { return r.(*URL).Path })
	t.prop("Query", "IQueryDictionary", func(e *env, r Value) Value {
		q := r.(*URL).Query
		if q == nil {
			return url.Values{}
		}
		return q
	})
	t.prop("QueryString", "string", func(e *env, r Value) Value { return r.(*URL).QueryString() })
	t.method("ToString", "string()", func(e *env, r Value, a []Value, cs *callSite) Value { return r.(*URL).String() })
}
