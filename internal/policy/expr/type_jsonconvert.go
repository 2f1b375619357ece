package expr

// registerJsonConvert registers Newtonsoft.Json.JsonConvert.
func registerJsonConvert() {
	t := defType("JsonConvert")
	t.static("SerializeObject", "string(1+)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		indent := false
		if ev, ok := argEnum(a, 1, "Formatting"); ok {
			indent = ev.name == "Indented"
		}
		s := jsonString(toJToken(a[0]), indent)
		e.alloc(len(s))
		return s
	})
	t.static("DeserializeObject", "T:?(1+)", func(e *env, a []Value, cs *callSite) Value {
		s, ok := argStrOrNull(a, 0, cs)
		if !ok {
			throwf("ArgumentNullException", "Value cannot be null. (Parameter 'value')")
		}
		e.alloc(len(s) * 4)
		e.work(len(s) / jsonBytesPerStep)
		t, err := parseJSON(s)
		if err != nil {
			panic(err)
		}
		if len(cs.targs) > 0 {
			return toObject(t, cs.ttype[0], cs.targs[0])
		}
		return plainOf(t)
	})
	t.static("ToString", "string(1-3)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		return jsonString(toJToken(a[0]), false)
	})

}
