package expr

// registerJProperty registers Newtonsoft.Json.Linq.JProperty.
func registerJProperty() {
	t := defType("JProperty", kJProperty)
	t.ctor("(1+)", func(e *env, a []Value, cs *callSite) Value {
		name := argStr(a, 0, cs)
		p := &JProperty{Name: name}
		var v Value
		if len(a) == 2 {
			v = a[1]
		} else if len(a) > 2 {
			v = &List{Items: append([]Value(nil), a[1:]...)}
		}
		p.Value = adopt(toJToken(v), p)
		return p
	})
	t.prop("Name", "string", func(e *env, r Value) Value { return r.(*JProperty).Name })
	t.prop("Value", "JToken", func(e *env, r Value) Value { return r.(*JProperty).Value })
}
