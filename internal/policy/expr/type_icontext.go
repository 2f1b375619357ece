package expr

// registerContext registers the members of `context` (IContext), and makes
// the context interfaces usable in casts (contextTypes).
func registerContext() {
	for _, t := range contextTypes {
		knownTypes[t] = true
	}
	t := defType("IContext", kContext)
	t.prop("Api", "IApi", func(e *env, r Value) Value { return nz(e.context().API()) })
	t.prop("Operation", "IOperation", func(e *env, r Value) Value { return nz(e.context().Operation()) })
	t.prop("Product", "IProduct", func(e *env, r Value) Value { return nz(e.context().Product()) })
	t.prop("Subscription", "ISubscription", func(e *env, r Value) Value { return nz(e.context().Subscription()) })
	t.prop("User", "IUser", func(e *env, r Value) Value { return nz(e.context().User()) })
	t.prop("Request", "IRequest", func(e *env, r Value) Value { return nz(e.context().Request()) })
	t.prop("Response", "IResponse", func(e *env, r Value) Value { return nz(e.context().Response()) })
	t.prop("Variables", "Variables", func(e *env, r Value) Value {
		v := e.context().Variables()
		if v == nil {
			return map[string]any{}
		}
		return v
	})
	t.prop("LastError", "ILastError", func(e *env, r Value) Value { return nz(e.context().LastError()) })
	t.prop("Deployment", "IDeployment", func(e *env, r Value) Value { return nz(e.context().Deployment()) })
	t.prop("RequestId", "Guid|string", func(e *env, r Value) Value {
		s := e.context().RequestID()
		if g, ok := parseGuid(s); ok {
			return g
		}
		return s
	})
	t.prop("Timestamp", "DateTime", func(e *env, r Value) Value { return utc(e.context().Timestamp()) })
	t.prop("Elapsed", "TimeSpan", func(e *env, r Value) Value { return e.context().Elapsed() })
	t.method("Trace", "void(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		switch len(a) {
		case 1:
			e.context().Trace("", plainOut(a[0]))
		case 2:
			e.context().Trace(toStr(a[0]), plainOut(a[1]))
		default:
			wrongArgs(cs, len(a))
		}
		return nil
	})
}
