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
