package expr

import (
	"net/http"
)

// registerResponse registers context.Response (IResponse).
func registerResponse() {
	t := defType("IResponse", kResponse)
	t.prop("StatusCode", "int", func(e *env, r Value) Value { return int32(r.(*Response).StatusCode) })
	t.prop("StatusReason", "string", func(e *env, r Value) Value { return r.(*Response).StatusReason })
	t.prop("Headers", "IHeaderDictionary", func(e *env, r Value) Value {
		h := r.(*Response).Headers
		if h == nil {
			return http.Header{}
		}
		return h
	})
	t.prop("Body", "IMessageBody", func(e *env, r Value) Value { return nz(r.(*Response).Body) })
}
