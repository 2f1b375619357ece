package expr

// registerKeyValuePair registers KeyValuePair<TKey, TValue>, the elements
// of dictionaries.
func registerKeyValuePair() {
	t := defType("KeyValuePair", kKV)
	t.ctor("(2)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		return KeyValuePair{Key: a[0], Value: a[1]}
	})
	t.prop("Key", "?", func(e *env, r Value) Value { return r.(KeyValuePair).Key })
	t.prop("Value", "?", func(e *env, r Value) Value { return r.(KeyValuePair).Value })
}
