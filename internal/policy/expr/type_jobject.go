package expr

import (
	"strings"
)

// registerJObject registers Newtonsoft.Json.Linq.JObject.
func registerJObject() {
	t := defType("JObject", kJObject)
	t.static("Parse", "JObject(1-2)", jsonParse("JObject"))
	t.static("FromObject", "JObject(1-2)", func(e *env, a []Value, cs *callSite) Value {
		t := jsonFromObject(e, a, cs)
		if _, ok := t.(*JObject); !ok {
			throwf("ArgumentException", "Object serialized to %s. JObject instance expected.", jtypeName(t.(jtoken)))
		}
		return t
	})
	t.ctor("(0+)", newJObject)
	O := func(r Value) *JObject { return r.(*JObject) }
	t.prop("Count", "int", func(e *env, r Value) Value { return int32(len(O(r).props)) })
	t.method("Add", "void(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		if len(a) == 1 {
			switch x := a[0].(type) {
			case *JProperty:
				O(r).addProp(x)
				return nil
			case KeyValuePair:
				a = []Value{x.Key, x.Value}
			default:
				throwf("ArgumentException", "Can not add %s to Newtonsoft.Json.Linq.JObject.", typeName(a[0]))
			}
		}
		name := argStr(a, 0, cs)
		p := &JProperty{Name: name}
		p.Value = adopt(toJToken(a[1]), p)
		e.alloc(32 + len(name))
		O(r).addProp(p)
		return nil
	})
	t.method("ContainsKey", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		_, ok := O(r).Get(argStr(a, 0, cs))
		return ok
	})
	t.method("TryGetValue", "bool(2-3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		v, ok := O(r).Get(argStr(a, 0, cs))
		if !ok {
			setOut(e, a, len(a)-1, cs, nil)
			return false
		}
		setOut(e, a, len(a)-1, cs, v)
		return true
	})
	t.method("GetValue", "JToken(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		name := argStr(a, 0, cs)
		if v, ok := O(r).Get(name); ok {
			return v
		}
		if ignoreCaseArg(a, 1) {
			for _, p := range O(r).props {
				if strings.EqualFold(p.Name, name) {
					return p.Value
				}
			}
		}
		return nil
	})
	t.method("Property", "JProperty(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		name := argStr(a, 0, cs)
		for _, p := range O(r).props {
			if p.Name == name || ignoreCaseArg(a, 1) && strings.EqualFold(p.Name, name) {
				return p
			}
		}
		return nil
	})
	t.method("Properties", "List<JProperty>()", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := &List{Items: make([]Value, len(O(r).props))}
		for i, p := range O(r).props {
			l.Items[i] = p
		}
		return l
	})
	t.method("Merge", "void(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		src, ok := toJToken(a[0]).(*JObject)
		if ok {
			mergeInto(O(r), src)
		}
		return nil
	})
	t.method("RemoveAll", "void()", func(e *env, r Value, a []Value, cs *callSite) Value {
		for _, p := range O(r).props {
			p.parent = nil
		}
		O(r).props = nil
		O(r).index = map[string]int{}
		return nil
	})
}
