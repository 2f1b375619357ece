package expr

import (
	"strconv"
	"strings"
)

func tokOf(v Value) jtoken {
	t, ok := v.(jtoken)
	if !ok {
		throwf("InvalidCastException", "'%s' is not a JToken", typeName(v))
	}
	return t
}

func children(t jtoken) []jtoken {
	switch x := t.(type) {
	case *JObject:
		out := make([]jtoken, len(x.props))
		for i, p := range x.props {
			out[i] = p
		}
		return out
	case *JArray:
		return x.items
	case *JProperty:
		return []jtoken{x.Value}
	}
	return nil
}

func tokList(ts []jtoken) *List {
	l := &List{Items: make([]Value, len(ts))}
	for i, t := range ts {
		l.Items[i] = t
	}
	return l
}

func tokPath(t jtoken) string {
	var parts []string
	for cur := t; cur != nil && cur.parentTok() != nil; cur = cur.parentTok() {
		switch p := cur.parentTok().(type) {
		case *JProperty:
			if strings.ContainsAny(p.Name, ".[] '") || p.Name == "" {
				parts = append(parts, "['"+p.Name+"']")
			} else {
				parts = append(parts, "."+p.Name)
			}
			cur = p
			if p.parent == nil {
				break
			}
		case *JArray:
			for i, it := range p.items {
				if it == cur {
					parts = append(parts, "["+strconv.Itoa(i)+"]")
				}
			}
		}
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString(parts[i])
	}
	return strings.TrimPrefix(b.String(), ".")
}

// removeTok removes t from its parent (JToken.Remove()).
func removeTok(t jtoken) {
	switch p := t.parentTok().(type) {
	case nil:
		throwf("InvalidOperationException", "The parent is missing.")
	case *JObject:
		if jp, ok := t.(*JProperty); ok {
			p.Remove(jp.Name)
		}
	case *JProperty:
		if o, ok := p.parent.(*JObject); ok {
			o.Remove(p.Name)
			return
		}
		throwf("InvalidOperationException", "Cannot remove the value of a property.")
	case *JArray:
		for i, it := range p.items {
			if it == t {
				p.items = append(p.items[:i], p.items[i+1:]...)
				t.setParent(nil)
				return
			}
		}
	}
}

func replaceTok(t jtoken, nv jtoken) {
	switch p := t.parentTok().(type) {
	case *JProperty:
		p.Value = adopt(nv, p)
	case *JArray:
		for i, it := range p.items {
			if it == t {
				p.items[i] = adopt(nv, p)
			}
		}
	case *JObject:
		if jp, ok := t.(*JProperty); ok {
			np, ok := nv.(*JProperty)
			if !ok {
				throwf("ArgumentException", "Can not add %s to Newtonsoft.Json.Linq.JObject.", typeName(nv))
			}
			i := p.index[jp.Name]
			delete(p.index, jp.Name)
			np = adopt(np, p).(*JProperty)
			p.props[i] = np
			p.index[np.Name] = i
		}
	default:
		throwf("InvalidOperationException", "The parent is missing.")
	}
}

func deepEquals(a, b jtoken) bool {
	switch x := a.(type) {
	case *JValue:
		y, ok := b.(*JValue)
		if !ok {
			return false
		}
		if x.kind == jInteger && y.kind == jFloat || x.kind == jFloat && y.kind == jInteger {
			return numCmp(x.plain(), y.plain()) == 0
		}
		return x.kind == y.kind && equals(x.plain(), y.plain())
	case *JObject:
		y, ok := b.(*JObject)
		if !ok || len(x.props) != len(y.props) {
			return false
		}
		for _, p := range x.props {
			v, ok := y.Get(p.Name)
			if !ok || !deepEquals(p.Value, v) {
				return false
			}
		}
		return true
	case *JArray:
		y, ok := b.(*JArray)
		if !ok || len(x.items) != len(y.items) {
			return false
		}
		for i := range x.items {
			if !deepEquals(x.items[i], y.items[i]) {
				return false
			}
		}
		return true
	case *JProperty:
		y, ok := b.(*JProperty)
		return ok && x.Name == y.Name && deepEquals(x.Value, y.Value)
	}
	return false
}

func mergeInto(dst, src *JObject) {
	for _, p := range src.props {
		cur, ok := dst.Get(p.Name)
		if so, isObj := p.Value.(*JObject); isObj && ok {
			if do, isObj2 := cur.(*JObject); isObj2 {
				mergeInto(do, so)
				continue
			}
		}
		if sa, isArr := p.Value.(*JArray); isArr && ok {
			if da, isArr2 := cur.(*JArray); isArr2 {
				for _, it := range sa.items {
					da.items = append(da.items, adopt(it, da))
				}
				continue
			}
		}
		dst.Set(p.Name, p.Value)
	}
}

func jarrayAdd(a *JArray, v Value) {
	a.items = append(a.items, adopt(toJToken(v), a))
}

func newJObject(e *env, args []Value, cs *callSite) Value {
	o := &JObject{index: map[string]int{}}
	var add func(v Value)
	add = func(v Value) {
		switch x := v.(type) {
		case *JProperty:
			o.addProp(x)
		case *JObject:
			for _, p := range x.props {
				o.addProp(p)
			}
		case *List:
			for _, it := range x.Items {
				add(it)
			}
		case nil:
		default:
			throwf("ArgumentException", "Can not add %s to Newtonsoft.Json.Linq.JObject.", typeName(v))
		}
	}
	for _, a := range args {
		add(a)
	}
	return o
}

func registerJSON() {
	for _, t := range []string{"JToken", "JContainer", "Formatting", "JTokenType", "JsonConvert"} {
		knownTypes[t] = true
	}
	enum("Formatting", "None", "Indented")
	enum("JTokenType", jtokenTypes...)
	parse := func(want string) staticFn {
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
	fromObject := func(e *env, a []Value, cs *callSite) Value {
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
	static("JObject", "Parse", parse("JObject"))
	static("JArray", "Parse", parse("JArray"))
	static("JToken", "Parse", parse("JToken"))
	static("JValue", "Parse", parse("JToken"))
	static("JObject", "FromObject", func(e *env, a []Value, cs *callSite) Value {
		t := fromObject(e, a, cs)
		if _, ok := t.(*JObject); !ok {
			throwf("ArgumentException", "Object serialized to %s. JObject instance expected.", jtypeName(t.(jtoken)))
		}
		return t
	})
	static("JArray", "FromObject", func(e *env, a []Value, cs *callSite) Value {
		t := fromObject(e, a, cs)
		if _, ok := t.(*JArray); !ok {
			throwf("ArgumentException", "Object serialized to %s. JArray instance expected.", jtypeName(t.(jtoken)))
		}
		return t
	})
	static("JToken", "FromObject", fromObject)
	static("JToken", "DeepEquals", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		if a[0] == nil || a[1] == nil {
			return a[0] == nil && a[1] == nil
		}
		return deepEquals(tokOf(a[0]), tokOf(a[1]))
	})
	ctor("JObject", newJObject)
	ctor("JArray", func(e *env, a []Value, cs *callSite) Value {
		arr := &JArray{}
		for _, v := range a {
			if l, ok := v.(*List); ok {
				for _, it := range l.Items {
					jarrayAdd(arr, it)
				}
				continue
			}
			if src, ok := v.(*JArray); ok && len(a) == 1 {
				for _, it := range src.items {
					jarrayAdd(arr, it)
				}
				continue
			}
			jarrayAdd(arr, v)
		}
		return arr
	})
	ctor("JProperty", func(e *env, a []Value, cs *callSite) Value {
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
	ctor("JValue", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		t := toJToken(a[0])
		if _, ok := t.(*JValue); !ok {
			throwf("ArgumentException", "Could not determine JSON object type for type %s.", typeName(a[0]))
		}
		return t
	})
	static("JValue", "CreateNull", func(e *env, a []Value, cs *callSite) Value { return &JValue{} })
	static("JValue", "CreateString", func(e *env, a []Value, cs *callSite) Value { return &JValue{kind: jString, s: argStr(a, 0, cs)} })
	static("JsonConvert", "SerializeObject", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		indent := false
		if ev, ok := argEnum(a, 1, "Formatting"); ok {
			indent = ev.name == "Indented"
		}
		s := jsonString(toJToken(a[0]), indent)
		e.alloc(len(s))
		return s
	})
	static("JsonConvert", "DeserializeObject", func(e *env, a []Value, cs *callSite) Value {
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
	static("JsonConvert", "ToString", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		return jsonString(toJToken(a[0]), false)
	})

	tk := []kind{kJObject, kJArray, kJProperty, kJValue}
	// common JToken members
	for _, k := range tk {
		prop(k, "Type", func(e *env, r Value) Value { return jtokenType(r.(jtoken)) })
		prop(k, "Parent", func(e *env, r Value) Value {
			if p := r.(jtoken).parentTok(); p != nil {
				return p
			}
			return nil
		})
		prop(k, "Root", func(e *env, r Value) Value {
			t := r.(jtoken)
			for t.parentTok() != nil {
				t = t.parentTok()
			}
			return t
		})
		prop(k, "Path", func(e *env, r Value) Value { return tokPath(r.(jtoken)) })
		prop(k, "HasValues", func(e *env, r Value) Value { return len(children(r.(jtoken))) > 0 })
		prop(k, "First", func(e *env, r Value) Value {
			c := children(r.(jtoken))
			if len(c) == 0 {
				return nil
			}
			return c[0]
		})
		prop(k, "Last", func(e *env, r Value) Value {
			c := children(r.(jtoken))
			if len(c) == 0 {
				return nil
			}
			return c[len(c)-1]
		})
		prop(k, "Next", func(e *env, r Value) Value { return sibling(r.(jtoken), 1) })
		prop(k, "Previous", func(e *env, r Value) Value { return sibling(r.(jtoken), -1) })
		method(k, "Children", func(e *env, r Value, a []Value, cs *callSite) Value {
			l := tokList(children(r.(jtoken)))
			if t := cs.targ(0); t == "JProperty" {
				return l
			}
			return l
		})
		method(k, "DeepClone", func(e *env, r Value, a []Value, cs *callSite) Value { return deepClone(r.(jtoken)) })
		method(k, "Remove", func(e *env, r Value, a []Value, cs *callSite) Value {
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
		method(k, "Replace", func(e *env, r Value, a []Value, cs *callSite) Value {
			need(a, 1, cs)
			replaceTok(r.(jtoken), toJToken(a[0]))
			return nil
		})
		method(k, "SelectToken", func(e *env, r Value, a []Value, cs *callSite) Value {
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
		method(k, "SelectTokens", func(e *env, r Value, a []Value, cs *callSite) Value {
			return tokList(selectTokens(r.(jtoken), argStr(a, 0, cs)))
		})
		method(k, "Value", func(e *env, r Value, a []Value, cs *callSite) Value {
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
		method(k, "Values", func(e *env, r Value, a []Value, cs *callSite) Value {
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
		method(k, "ToObject", func(e *env, r Value, a []Value, cs *callSite) Value {
			if len(cs.targs) == 0 {
				throwf("ArgumentException", "ToObject needs a type argument")
			}
			return toObject(r.(jtoken), cs.ttype[0], cs.targs[0])
		})
		method(k, "Descendants", func(e *env, r Value, a []Value, cs *callSite) Value {
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
		method(k, "AncestorsAndSelf", func(e *env, r Value, a []Value, cs *callSite) Value {
			var out []jtoken
			for t := r.(jtoken); t != nil; t = t.parentTok() {
				out = append(out, t)
			}
			return tokList(out)
		})
		method(k, "ToString", func(e *env, r Value, a []Value, cs *callSite) Value {
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
	// JObject
	O := func(r Value) *JObject { return r.(*JObject) }
	prop(kJObject, "Count", func(e *env, r Value) Value { return int32(len(O(r).props)) })
	method(kJObject, "Add", func(e *env, r Value, a []Value, cs *callSite) Value {
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
	method(kJObject, "ContainsKey", func(e *env, r Value, a []Value, cs *callSite) Value {
		_, ok := O(r).Get(argStr(a, 0, cs))
		return ok
	})
	method(kJObject, "TryGetValue", func(e *env, r Value, a []Value, cs *callSite) Value {
		v, ok := O(r).Get(argStr(a, 0, cs))
		if !ok {
			setOut(e, a, len(a)-1, cs, nil)
			return false
		}
		setOut(e, a, len(a)-1, cs, v)
		return true
	})
	method(kJObject, "GetValue", func(e *env, r Value, a []Value, cs *callSite) Value {
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
	method(kJObject, "Property", func(e *env, r Value, a []Value, cs *callSite) Value {
		name := argStr(a, 0, cs)
		for _, p := range O(r).props {
			if p.Name == name || ignoreCaseArg(a, 1) && strings.EqualFold(p.Name, name) {
				return p
			}
		}
		return nil
	})
	method(kJObject, "Properties", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := &List{Items: make([]Value, len(O(r).props))}
		for i, p := range O(r).props {
			l.Items[i] = p
		}
		return l
	})
	method(kJObject, "Merge", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		src, ok := toJToken(a[0]).(*JObject)
		if ok {
			mergeInto(O(r), src)
		}
		return nil
	})
	method(kJObject, "RemoveAll", func(e *env, r Value, a []Value, cs *callSite) Value {
		for _, p := range O(r).props {
			p.parent = nil
		}
		O(r).props = nil
		O(r).index = map[string]int{}
		return nil
	})
	// JArray
	A := func(r Value) *JArray { return r.(*JArray) }
	prop(kJArray, "Count", func(e *env, r Value) Value { return int32(len(A(r).items)) })
	method(kJArray, "Add", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		e.alloc(32)
		jarrayAdd(A(r), a[0])
		return nil
	})
	method(kJArray, "Insert", func(e *env, r Value, a []Value, cs *callSite) Value {
		i := argInt(a, 0, cs)
		arr := A(r)
		if i < 0 || i > len(arr.items) {
			throwf("ArgumentOutOfRangeException", "Index must be within the bounds of the List.")
		}
		t := adopt(toJToken(a[1]), arr)
		arr.items = append(arr.items[:i], append([]jtoken{t}, arr.items[i:]...)...)
		return nil
	})
	method(kJArray, "AddFirst", func(e *env, r Value, a []Value, cs *callSite) Value {
		arr := A(r)
		t := adopt(toJToken(a[0]), arr)
		arr.items = append([]jtoken{t}, arr.items...)
		return nil
	})
	method(kJArray, "RemoveAt", func(e *env, r Value, a []Value, cs *callSite) Value {
		i := argInt(a, 0, cs)
		arr := A(r)
		if i < 0 || i >= len(arr.items) {
			throwf("ArgumentOutOfRangeException", "Index is equal to or greater than Count.")
		}
		arr.items[i].setParent(nil)
		arr.items = append(arr.items[:i], arr.items[i+1:]...)
		return nil
	})
	method(kJArray, "Clear", func(e *env, r Value, a []Value, cs *callSite) Value {
		A(r).items = nil
		return nil
	})
	method(kJArray, "IndexOf", func(e *env, r Value, a []Value, cs *callSite) Value {
		for i, it := range A(r).items {
			if it == a[0] {
				return int32(i)
			}
		}
		return int32(-1)
	})
	// JProperty
	prop(kJProperty, "Name", func(e *env, r Value) Value { return r.(*JProperty).Name })
	prop(kJProperty, "Value", func(e *env, r Value) Value { return r.(*JProperty).Value })
	// JValue
	prop(kJValue, "Value", func(e *env, r Value) Value { return plainOf(r.(*JValue)) })
	method(kJValue, "CompareTo", func(e *env, r Value, a []Value, cs *callSite) Value {
		return int32(compare(r.(*JValue).plain(), a[0]))
	})
	method(kJValue, "Equals", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		if o, ok := a[0].(*JValue); ok {
			return deepEquals(r.(*JValue), o)
		}
		return equals(r.(*JValue).plain(), a[0])
	})
}

func sibling(t jtoken, d int) Value {
	var sibs []jtoken
	switch p := t.parentTok().(type) {
	case *JObject:
		sibs = children(p)
	case *JArray:
		sibs = p.items
	default:
		return nil
	}
	for i, s := range sibs {
		if s == t {
			if j := i + d; j >= 0 && j < len(sibs) {
				return sibs[j]
			}
			return nil
		}
	}
	return nil
}

// ---- JSONPath -------------------------------------------------------------------------

type pathStep struct {
	kind    byte // 'n' name, 'i' index, '*' wildcard, 'r' recursive name, 'f' filter, 's' slice
	name    string
	idx     int
	filter  *pathFilter
	lo, hi  int
	hasLo   bool
	hasHi   bool
	recurse bool
}

type pathFilter struct {
	path []pathStep
	op   string
	val  Value
}

func parsePath(p string) []pathStep {
	var steps []pathStep
	i := 0
	if strings.HasPrefix(p, "$") {
		i = 1
	}
	bad := func() { throwf("JsonException", "Unexpected character while parsing path: %s", p) }
	for i < len(p) {
		c := p[i]
		switch {
		case c == '.' && i+1 < len(p) && p[i+1] == '.':
			i += 2
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			name := p[i:j]
			if name == "*" || name == "" {
				steps = append(steps, pathStep{kind: '*', recurse: true})
			} else {
				steps = append(steps, pathStep{kind: 'n', name: name, recurse: true})
			}
			i = j
		case c == '.':
			i++
		case c == '[':
			end := matchBracket(p, i)
			if end < 0 {
				throwf("JsonException", "Path ended with an open indexer.")
			}
			inner := strings.TrimSpace(p[i+1 : end])
			i = end + 1
			switch {
			case inner == "*":
				steps = append(steps, pathStep{kind: '*'})
			case strings.HasPrefix(inner, "'") || strings.HasPrefix(inner, "\""):
				steps = append(steps, pathStep{kind: 'n', name: strings.Trim(inner, "'\"")})
			case strings.HasPrefix(inner, "?("):
				steps = append(steps, pathStep{kind: 'f', filter: parseFilter(strings.TrimSuffix(inner[2:], ")"))})
			case strings.Contains(inner, ":"):
				lo, hi, _ := strings.Cut(inner, ":")
				st := pathStep{kind: 's'}
				if lo != "" {
					st.lo, _ = strconv.Atoi(lo)
					st.hasLo = true
				}
				if hi != "" {
					st.hi, _ = strconv.Atoi(strings.Split(hi, ":")[0])
					st.hasHi = true
				}
				steps = append(steps, st)
			default:
				n, err := strconv.Atoi(inner)
				if err != nil {
					bad()
				}
				steps = append(steps, pathStep{kind: 'i', idx: n})
			}
		default:
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			name := p[i:j]
			if name == "*" {
				steps = append(steps, pathStep{kind: '*'})
			} else {
				steps = append(steps, pathStep{kind: 'n', name: name})
			}
			i = j
		}
	}
	return steps
}

func matchBracket(p string, i int) int {
	depth := 0
	inQ := byte(0)
	for j := i; j < len(p); j++ {
		c := p[j]
		if inQ != 0 {
			if c == inQ {
				inQ = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			inQ = c
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

func parseFilter(f string) *pathFilter {
	f = strings.TrimSpace(f)
	for _, op := range []string{"==", "!=", "<=", ">=", "<", ">"} {
		if i := strings.Index(f, op); i >= 0 {
			left := strings.TrimSpace(f[:i])
			right := strings.TrimSpace(f[i+len(op):])
			var v Value
			switch {
			case strings.HasPrefix(right, "'") || strings.HasPrefix(right, "\""):
				v = strings.Trim(right, "'\"")
			case right == "true":
				v = true
			case right == "false":
				v = false
			case right == "null":
				v = nil
			default:
				fl, err := strconv.ParseFloat(right, 64)
				if err != nil {
					throwf("JsonException", "Could not read query value.")
				}
				v = fl
			}
			return &pathFilter{path: parsePath(strings.TrimPrefix(left, "@")), op: op, val: v}
		}
	}
	return &pathFilter{path: parsePath(strings.TrimPrefix(f, "@"))}
}

func selectTokens(root jtoken, path string) []jtoken {
	cur := []jtoken{root}
	for _, st := range parsePath(path) {
		var next []jtoken
		for _, t := range cur {
			next = append(next, applyStep(t, st)...)
		}
		cur = next
	}
	return cur
}

func valueOf(t jtoken) jtoken {
	if p, ok := t.(*JProperty); ok {
		return p.Value
	}
	return t
}

func applyStep(t jtoken, st pathStep) []jtoken {
	var out []jtoken
	if st.recurse {
		var walk func(t jtoken)
		walk = func(t jtoken) {
			out = append(out, applyStep(t, pathStep{kind: st.kind, name: st.name})...)
			for _, c := range children(t) {
				walk(valueOf(c))
			}
		}
		walk(t)
		return out
	}
	switch st.kind {
	case 'n':
		if o, ok := t.(*JObject); ok {
			if v, ok := o.Get(st.name); ok {
				out = append(out, v)
			}
		}
	case 'i':
		if a, ok := t.(*JArray); ok {
			i := st.idx
			if i < 0 {
				i += len(a.items)
			}
			if i >= 0 && i < len(a.items) {
				out = append(out, a.items[i])
			}
		}
	case '*':
		for _, c := range children(t) {
			out = append(out, valueOf(c))
		}
	case 's':
		if a, ok := t.(*JArray); ok {
			lo, hi := 0, len(a.items)
			if st.hasLo {
				lo = st.lo
				if lo < 0 {
					lo += len(a.items)
				}
			}
			if st.hasHi {
				hi = st.hi
				if hi < 0 {
					hi += len(a.items)
				}
			}
			lo, hi = max(lo, 0), min(hi, len(a.items))
			for i := lo; i < hi; i++ {
				out = append(out, a.items[i])
			}
		}
	case 'f':
		for _, c := range children(t) {
			c = valueOf(c)
			if matchFilter(c, st.filter) {
				out = append(out, c)
			}
		}
	}
	return out
}

func matchFilter(t jtoken, f *pathFilter) bool {
	cur := []jtoken{t}
	for _, st := range f.path {
		var next []jtoken
		for _, c := range cur {
			next = append(next, applyStep(c, st)...)
		}
		cur = next
	}
	if f.op == "" {
		return len(cur) > 0
	}
	for _, c := range cur {
		jv, ok := c.(*JValue)
		if !ok {
			continue
		}
		v := jv.plain()
		var r bool
		switch f.op {
		case "==":
			r = equals(v, f.val)
		case "!=":
			r = !equals(v, f.val)
		default:
			if isNumeric(v) && isNumeric(f.val) {
				r = truthy(relational(f.op, v, f.val))
			} else if sv, ok := v.(string); ok {
				if fv, ok := f.val.(string); ok {
					c := strings.Compare(sv, fv)
					switch f.op {
					case "<":
						r = c < 0
					case ">":
						r = c > 0
					case "<=":
						r = c <= 0
					case ">=":
						r = c >= 0
					}
				}
			}
		}
		if r {
			return true
		}
	}
	return false
}
