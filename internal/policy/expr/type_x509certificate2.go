package expr

import (
	"strings"
)

// registerCertificate registers client certificates (X509Certificate2).
func registerCertificate() {
	t := defType("X509Certificate2", kCert)
	t.prop("Subject", "string", func(e *env, r Value) Value { return r.(*certValue).c.Subject.String() })
	t.prop("Issuer", "string", func(e *env, r Value) Value { return r.(*certValue).c.Issuer.String() })
	t.prop("Thumbprint", "string", func(e *env, r Value) Value { return strings.ToUpper(hexOf(sha1Sum(r.(*certValue).c.Raw))) })
	t.prop("SerialNumber", "string", func(e *env, r Value) Value { return strings.ToUpper(r.(*certValue).c.SerialNumber.Text(16)) })
	t.prop("NotBefore", "DateTime", func(e *env, r Value) Value { return utc(r.(*certValue).c.NotBefore) })
	t.prop("NotAfter", "DateTime", func(e *env, r Value) Value { return utc(r.(*certValue).c.NotAfter) })
	t.method("Verify", "bool()", func(e *env, r Value, a []Value, cs *callSite) Value {
		c := r.(*certValue).c
		now := e.clock()
		return now.After(c.NotBefore) && now.Before(c.NotAfter)
	})
}
