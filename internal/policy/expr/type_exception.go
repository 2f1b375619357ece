package expr

// registerExceptions registers System.Exception and the exception types a
// policy expression may throw and catch (exceptionTypes).
func registerExceptions() {
	t := defType("Exception", kException)
	t.prop("Message", "string", func(e *env, r Value) Value { return r.(*csException).msg })
	t.prop("InnerException", "Exception", func(e *env, r Value) Value { return nz(r.(*csException).inner) })
	t.method("ToString", "string()", func(e *env, r Value, a []Value, cs *callSite) Value {
		x := r.(*csException)
		return "System." + x.typ + ": " + x.msg
	})
	for _, name := range exceptionTypes {
		name := name
		defType(name, kException).ctor("(0-2)", func(e *env, a []Value, cs *callSite) Value {
			x := &csException{typ: name}
			if len(a) > 0 {
				x.msg = toStr(a[0])
			} else {
				x.msg = "Exception of type 'System." + name + "' was thrown."
			}
			if len(a) > 1 {
				x.inner, _ = a[1].(*csException)
			}
			return x
		})
	}
}
