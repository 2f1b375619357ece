package expr

// registerMatch registers the results of regular expressions: Match, Group
// and GroupCollection.
func registerMatch() {
	t := defType("Match", kMatch)
	g := defType("Group", kGroup)
	gc := defType("GroupCollection", kGroupCollection)
	M := func(r Value) *regexMatch { return r.(*regexMatch) }
	t.prop("Success", "bool", func(e *env, r Value) Value { return M(r).loc != nil })
	t.prop("Value", "string", func(e *env, r Value) Value { return M(r).value() })
	t.prop("Index", "int", func(e *env, r Value) Value {
		if M(r).loc == nil {
			return int32(0)
		}
		return int32(u16Index(M(r).s, M(r).loc[0]))
	})
	t.prop("Length", "int", func(e *env, r Value) Value { return int32(strLen(M(r).value())) })
	t.prop("Groups", "GroupCollection", func(e *env, r Value) Value {
		m := M(r)
		gc := &groupCollection{m: m}
		for i := 0; i <= m.re.NumSubexp(); i++ {
			gc.groups = append(gc.groups, m.group(i))
		}
		return gc
	})
	t.method("NextMatch", "Match()", func(e *env, r Value, a []Value, cs *callSite) Value {
		m := M(r)
		if m.loc == nil {
			return m
		}
		next := matchAt(m.re, m.s, m.next)
		if next.loc != nil {
			regexScan(e, m.re, next.loc[1]-m.next)
		} else {
			regexScan(e, m.re, len(m.s)-m.next)
		}
		return next
	})
	t.method("Result", "string(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		m := M(r)
		if m.loc == nil {
			throwf("NotSupportedException", "Result cannot be called on a failed Match.")
		}
		return string(m.re.ExpandString(nil, netReplacement(argStr(a, 0, cs)), m.s, m.loc))
	})
	G := func(r Value) *regexGroup { return r.(*regexGroup) }
	g.prop("Success", "bool", func(e *env, r Value) Value { return G(r).success })
	g.prop("Value", "string", func(e *env, r Value) Value { return G(r).value })
	g.prop("Index", "int", func(e *env, r Value) Value { return int32(G(r).index) })
	g.prop("Length", "int", func(e *env, r Value) Value { return int32(strLen(G(r).value)) })
	g.prop("Name", "string", func(e *env, r Value) Value { return G(r).name })
	gc.prop("Count", "int", func(e *env, r Value) Value { return int32(len(r.(*groupCollection).groups)) })
}
