package expr

import (
	"net/url"
)

// registerMessageBody registers the bodies of requests and responses
// (IMessageBody).
func registerMessageBody() {
	t := defType("IMessageBody", kBody)
	t.method("As", "T(0-1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		preserve := false
		if len(a) > 0 {
			preserve = truthy(a[0])
		}
		data := r.(*Body).read(e, preserve)
		return bodyAs(e, data, cs.targ(0), cs)
	})
	t.method("AsFormUrlEncodedContent", "IQueryDictionary(0-1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		preserve := len(a) > 0 && truthy(a[0])
		data := r.(*Body).read(e, preserve)
		q, err := url.ParseQuery(string(data))
		if err != nil {
			throwf("FormatException", "the body is not form-url-encoded: %v", err)
		}
		return q
	})
}
