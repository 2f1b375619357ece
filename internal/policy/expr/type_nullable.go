package expr

// registerNullable registers the members of Nullable<T> on every kind: a
// value that is not null has a value (null receivers are handled by the
// compiled member access: HasValue is false, Value throws). It runs last:
// Value is registered only on the kinds that have no Value of their own.
func registerNullable() {
	t := defType("Nullable")
	var all, noValue []kind
	for k := kind(1); k < numKinds; k++ {
		all = append(all, k)
		if props[k]["Value"] == nil {
			noValue = append(noValue, k)
		}
	}
	t.on(all...).prop("HasValue", "bool", func(e *env, r Value) Value { return true })
	t.on(noValue...).prop("Value", "same", func(e *env, r Value) Value { return r })
	t.on(kOther, kInt, kLong, kDouble, kDecimal, kBool, kDateTime, kTimeSpan, kGuid, kChar).
		method("GetValueOrDefault", "same(0-1)", func(e *env, r Value, a []Value, cs *callSite) Value { return r })
}
