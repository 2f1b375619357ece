package expr

// registerOperation registers context.Operation (IOperation).
func registerOperation() {
	t := defType("IOperation", kOperation)
	t.prop("Id", "string", func(e *env, r Value) Value { return r.(*Operation).ID })
	t.prop("Name", "string", func(e *env, r Value) Value { return r.(*Operation).Name })
	t.prop("Method", "string", func(e *env, r Value) Value { return r.(*Operation).Method })
	t.prop("UrlTemplate", "string", func(e *env, r Value) Value { return r.(*Operation).URLTemplate })
}
