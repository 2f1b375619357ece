package expr

// registerDelegates registers Func<...>.Invoke on lambdas.
func registerDelegates() {
	t := defType("Func", kLambda)
	t.method("Invoke", "?(0+)", func(e *env, r Value, a []Value, cs *callSite) Value {
		return callLambda(e, r.(*lambda), append([]Value(nil), a...)...)
	})
}
