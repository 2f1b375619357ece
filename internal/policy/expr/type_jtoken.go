package expr

import "strings"

// registerJToken registers Newtonsoft.Json.Linq.JToken: its static members
// and the members that every JSON token (JObject, JArray, JProperty,
// JValue) has.
func registerJToken() {
	for _, t := range []string{"JToken", "JContainer", "Formatting", "JTokenType", "JsonConvert"} {
		knownTypes[t] = true
	}
	t := defType("JToken", kJObject, kJArray, kJProperty, kJValue)
	defType("JContainer", kJObject, kJArray, kJProperty)
	t.static("Parse", "JToken(1-2)", jsonParse("JToken"))
	t.static("FromObject", "JToken(1-2)", jsonFromObject)
	t.static("DeepEquals", "bool(2)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		if a[0] == nil || a[1] == nil {
			return a[0] == nil && a[1] == nil
		}
		return deepEquals(tokOf(a[0]), tokOf(a[1]))
	})
	t.prop("Type", "JTokenType", func(e *env, r Value) Value { return jtokenType(r.(jtoken)) })
	t.prop("Parent", "JToken", func(e *env, r Value) Value {
		if p := r.(jtoken).parentTok(); p != nil {
			return p
		}
		return nil
	})
	t.prop("Root", "JToken", func(e *env, r Value) Value {
		t := r.(jtoken)
		for t.parentTok() != nil {
			t = t.parentTok()
		}
		return t
	})
	t.prop("Path", "string", func(e *env, r Value) Value { return tokPath(r.(jtoken)) })
	t.prop("HasValues", "bool", func(e *env, r Value) Value { return len(children(r.(jtoken))) > 0 })
	t.prop("First", "JToken", func(e *env, r Value) Value {
		c := children(r.(jtoken))
		if len(c) == 0 {
			return nil
		}
		return c[0]
	})
	t.prop("Last", "JToken", func(e *env, r Value) Value {
		c := children(r.(jtoken))
		if len(c) == 0 {
			return nil
		}
		return c[len(c)-1]
	})
	t.prop("Next", "JToken", func(e *env, r Value) Value { return sibling(r.(jtoken), 1) })
	t.prop("Previous", "JToken", func(e *env, r Value) Value { return sibling(r.(jtoken), -1) })
	t.method("Children", "List<JToken>(0)", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := tokList(children(r.(jtoken)))
		if t := cs.targ(0); t == "JProperty" {
			return l
		}
		return l
	})
	t.method("DeepClone", "same()", func(e *env, r Value, a []Value, cs *callSite) Value { return deepClone(r.(jtoken)) })
	t.method("Remove", "bool(0-1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		if len(a) == 0 {
			removeTok(r.(jtoken))
			return nil
		}
		switch x := r.(type) {
		case *JObject:
			return x.Remove(argStr(a, 0, cs))
		case *JArray:
			for i, it := range x.items {
				if it == a[0] {
					x.items = append(x.items[:i], x.items[i+1:]...)
					it.setParent(nil)
					return true
				}
			}
			return false
		}
		wrongArgs(cs, len(a))
		return nil
	})
	t.method("Replace", "void(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		replaceTok(r.(jtoken), toJToken(a[0]))
		return nil
	})
	t.method("SelectToken", "JToken(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		res := selectTokens(r.(jtoken), argStr(a, 0, cs))
		errorWhenNoMatch := len(a) > 1 && a[1] == true
		switch len(res) {
		case 0:
			if errorWhenNoMatch {
				throwf("JsonException", "Path '%s' does not exist.", argStr(a, 0, cs))
			}
			return nil
		case 1:
			return res[0]
		}
		throwf("JsonException", "Path returned multiple tokens.")
		return nil
	})
	t.method("SelectTokens", "List<JToken>(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		return tokList(selectTokens(r.(jtoken), argStr(a, 0, cs)))
	})
	t.method("Value", "T:JToken(0-1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		var t Value = r
		if len(a) > 0 {
			t = indexGet(e, r, a[0])
		}
		if t == nil {
			return defaultOf(cs.targ(0), nil)
		}
		if cs.targ(0) == "" {
			return t
		}
		return castTo(t, cs.targ(0), cs.targs[0], true)
	})
	t.method("Values", "List<T:JToken>(0-1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		var src []jtoken
		if len(a) > 0 {
			src = []jtoken{tokOf(indexGet(e, r, a[0]))}
		} else {
			src = children(r.(jtoken))
		}
		l := &List{}
		for _, c := range src {
			if p, ok := c.(*JProperty); ok {
				c = p.Value
			}
			if arr, ok := c.(*JArray); ok && len(a) > 0 {
				for _, it := range arr.items {
					l.Items = append(l.Items, it)
				}
				continue
			}
			if t := cs.targ(0); t != "" {
				l.Items = append(l.Items, castTo(c, t, cs.targs[0], true))
			} else {
				l.Items = append(l.Items, c)
			}
		}
		if t := cs.targ(0); t != "" && len(a) > 0 {
			for i, it := range l.Items {
				l.Items[i] = castTo(it, t, cs.targs[0], true)
			}
		}
		return l
	})
	t.method("ToObject", "T(0-1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		if len(cs.targs) == 0 {
			throwf("ArgumentException", "ToObject needs a type argument")
		}
		return toObject(r.(jtoken), cs.ttype[0], cs.targs[0])
	})
	t.method("Descendants", "List<JToken>()", func(e *env, r Value, a []Value, cs *callSite) Value {
		var out []jtoken
		var walk func(t jtoken)
		walk = func(t jtoken) {
			for _, c := range children(t) {
				out = append(out, c)
				walk(c)
			}
		}
		walk(r.(jtoken))
		return tokList(out)
	})
	t.method("AncestorsAndSelf", "List<JToken>()", func(e *env, r Value, a []Value, cs *callSite) Value {
		var out []jtoken
		for t := r.(jtoken); t != nil; t = t.parentTok() {
			out = append(out, t)
		}
		return tokList(out)
	})
	t.method("ToString", "string(0+)", func(e *env, r Value, a []Value, cs *callSite) Value {
		indent := true
		if ev, ok := argEnum(a, 0, "Formatting"); ok {
			indent = ev.name == "Indented"
		} else if jv, ok := r.(*JValue); ok {
			if len(a) > 0 {
				if f, isStr := a[0].(string); isStr {
					return formatValue(jv.plain(), f)
				}
			}
			return jv.String()
		}
		s := jsonString(r.(jtoken), indent)
		e.alloc(len(s))
		return s
	})
}

// jsonParse is JObject.Parse, JArray.Parse and JToken.Parse: want is the
// type of token the text must hold.
func jsonParse(want string) staticFn {
	return func(e *env, a []Value, cs *callSite) Value {
		s, ok := argStrOrNull(a, 0, cs)
		if !ok {
			throwf("ArgumentNullException", "Value cannot be null. (Parameter 'json')")
		}
		e.alloc(len(s) * 4)
		e.work(len(s) / jsonBytesPerStep)
		t, err := parseJSON(s)
		if err != nil {
			panic(err)
		}
		if want != "JToken" {
			if typeName(t) != want {
				throwf("JsonReaderException", "Error reading %s from JsonReader. Current JsonReader item is not an %s: %s.", want, strings.TrimPrefix(want, "J"), strings.ToUpper(jtypeName(t)[:1])+jtypeName(t)[1:])
			}
		}
		return t
	}
}

// jsonFromObject is JToken.FromObject: a copy when the value is a token
// that already has a parent.
func jsonFromObject(e *env, a []Value, cs *callSite) Value {
	need(a, 1, cs)
	if a[0] == nil {
		throwf("ArgumentNullException", "Value cannot be null. (Parameter 'o')")
	}
	t := toJToken(a[0])
	if t.parentTok() != nil {
		t = deepClone(t)
	}
	return t
}
