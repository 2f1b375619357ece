package expr

// registerBasicAuth registers Basic credentials (BasicAuthCredentials) and
// the APIM extension methods of string that parse them.
func registerBasicAuth() {
	t := defType("BasicAuthCredentials", kBasic)
	s := defType("string", kString)
	null := s.on(kNull)
	s.method("AsBasic", "BasicAuthCredentials()", func(e *env, r Value, a []Value, cs *callSite) Value { return parseBasic(r.(string)) })
	null.method("AsBasic", "null()", func(e *env, r Value, a []Value, cs *callSite) Value { return nil })
	s.method("TryParseBasic", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		b := parseBasic(r.(string))
		setOut(e, a, 0, cs, b)
		return b != nil
	})
	t.prop("UserId", "string", func(e *env, r Value) Value { return r.(*BasicAuth).UserID })
	t.prop("Password", "string", func(e *env, r Value) Value { return r.(*BasicAuth).Password })
}
