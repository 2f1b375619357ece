package expr

// registerJValue registers Newtonsoft.Json.Linq.JValue.
func registerJValue() {
	t := defType("JValue", kJValue)
	t.static("Parse", "JToken(1-2)", jsonParse("JToken"))
	t.ctor("(1)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		t := toJToken(a[0])
		if _, ok := t.(*JValue); !ok {
			throwf("ArgumentException", "Could not determine JSON object type for type %s.", typeName(a[0]))
		}
		return t
	})
	t.static("CreateNull", "JValue()", func(e *env, a []Value, cs *callSite) Value { return &JValue{} })
	t.static("CreateString", "JValue(1)", func(e *env, a []Value, cs *callSite) Value { return &JValue{kind: jString, s: argStr(a, 0, cs)} })
	t.prop("Value", "string|int|long|double|bool", func(e *env, r Value) Value { return plainOf(r.(*JValue)) })
	t.method("CompareTo", "int(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		o := a[0]
		if jv, ok := o.(*JValue); ok { // JValue.CompareTo(JValue)
			o = jv.plain()
		}
		return int32(compare(r.(*JValue).plain(), o))
	})
	t.method("Equals", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		if o, ok := a[0].(*JValue); ok {
			return deepEquals(r.(*JValue), o)
		}
		return equals(r.(*JValue).plain(), a[0])
	})
}
