package expr

import (
	"net/http"
)

// registerRequest registers context.Request (IRequest).
func registerRequest() {
	t := defType("IRequest", kRequest)
	t.prop("Method", "string", func(e *env, r Value) Value { return r.(*Request).Method })
	t.prop("Url", "IUrl", func(e *env, r Value) Value { return nz(r.(*Request).URL) })
	t.prop("OriginalUrl", "IUrl", func(e *env, r Value) Value {
		q := r.(*Request)
		if q.OriginalURL == nil {
			return nz(q.URL)
		}
		return q.OriginalURL
	})
	t.prop("Headers", "IHeaderDictionary", func(e *env, r Value) Value {
		h := r.(*Request).Headers
		if h == nil {
			return http.Header{}
		}
		return h
	})
	t.prop("Body", "IMessageBody", func(e *env, r Value) Value { return nz(r.(*Request).Body) })
	t.prop("IpAddress", "string", func(e *env, r Value) Value { return r.(*Request).IPAddress })
	t.prop("MatchedParameters", "IReadOnlyDictionary", func(e *env, r Value) Value {
		m := r.(*Request).MatchedParameters
		if m == nil {
			return map[string]string{}
		}
		return m
	})
	t.prop("Certificate", "X509Certificate2", func(e *env, r Value) Value {
		if c := r.(*Request).Certificate; c != nil {
			return &certValue{c}
		}
		return nil
	})
}
