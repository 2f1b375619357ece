package expr

// registerLastError registers context.LastError (ILastError).
func registerLastError() {
	t := defType("ILastError", kLastError)
	t.prop("Source", "string", func(e *env, r Value) Value { return r.(*LastError).Source })
	t.prop("Reason", "string", func(e *env, r Value) Value { return r.(*LastError).Reason })
	t.prop("Message", "string", func(e *env, r Value) Value { return r.(*LastError).Message })
	t.prop("Scope", "string", func(e *env, r Value) Value { return r.(*LastError).Scope })
	t.prop("Section", "string", func(e *env, r Value) Value { return r.(*LastError).Section })
	t.prop("Path", "string", func(e *env, r Value) Value { return r.(*LastError).Path })
	t.prop("PolicyId", "string", func(e *env, r Value) Value { return r.(*LastError).PolicyID })
}
