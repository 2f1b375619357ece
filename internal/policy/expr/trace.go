package expr

// tracer instruments one compilation, for the tests that check member
// signatures against what the members return (export_test.go): every
// compiled expression reports the values it produces, with its static type,
// and every bound member reports the calls that returned normally. Normal
// compilations have no tracer and pay nothing for it.
type tracer struct {
	value  func(p pos, t *sty, v Value)
	member func(m *member, nargs int)
}

func (tr *tracer) expr(p pos, f evalFn, t *sty) evalFn {
	return func(e *env) Value {
		v := f(e)
		tr.value(p, t, v)
		return v
	}
}

func (tr *tracer) props(name string, site *[numKinds]propFn) *[numKinds]propFn {
	sigs := propSigs[name]
	out := &[numKinds]propFn{}
	for k, f := range site {
		if f == nil || sigs == nil {
			continue
		}
		f, m := f, sigs[k]
		out[k] = func(e *env, r Value) Value {
			v := f(e, r)
			tr.member(m, -1)
			return v
		}
	}
	return out
}

func (tr *tracer) methods(name string, site *[numKinds]methodFn) *[numKinds]methodFn {
	sigs := methodSigs[name]
	out := &[numKinds]methodFn{}
	for k, f := range site {
		if f == nil {
			continue
		}
		f, m := f, sigs[k]
		out[k] = func(e *env, r Value, a []Value, cs *callSite) Value {
			v := f(e, r, a, cs)
			tr.member(m, len(a))
			return v
		}
	}
	return out
}

func (tr *tracer) static(m *member, f staticFn) staticFn {
	return func(e *env, a []Value, cs *callSite) Value {
		v := f(e, a, cs)
		tr.member(m, len(a))
		return v
	}
}

func (tr *tracer) ctor(m *member, f staticFn) staticFn { return tr.static(m, f) }

func (tr *tracer) staticProp(m *member, f func(e *env) Value) func(e *env) Value {
	return func(e *env) Value {
		v := f(e)
		tr.member(m, -1)
		return v
	}
}

// admits reports whether the value v may be a value of type t.
func (t *sty) admits(v Value, depth int) bool {
	if t == nil || v == nil || v == chainStop {
		return true
	}
	if !t.ks.has(kindOf(v)) {
		return false
	}
	switch x := v.(type) {
	case *Dict:
		if x.Anon != (t.anon != nil) { // an anonymous object where a Dictionary is expected, or the reverse
			return false
		}
		if x.Anon && t.anon != nil {
			for i, k := range x.keys {
				if mt, ok := t.anon[toStr(k)]; ok && !mt.admits(x.vals[i], depth+1) {
					return false
				}
			}
		}
	case *List:
		if t.elem != nil && depth < 3 {
			for _, it := range x.Items {
				if !t.elem.admits(it, depth+1) {
					return false
				}
			}
		}
	case *Set:
		if t.elem != nil && depth < 3 {
			for _, it := range x.d.keys {
				if !t.elem.admits(it, depth+1) {
					return false
				}
			}
		}
	}
	return true
}
