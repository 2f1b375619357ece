package expr

// registerXAttribute registers System.Xml.Linq.XAttribute.
func registerXAttribute() {
	t := defType("XAttribute", kXAttribute)
	t.ctor("(2)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		return &XAttribute{Name: argStr(a, 0, cs), Value: toStr(a[1])}
	})
	t.prop("Name", "string", func(e *env, r Value) Value { return r.(*XAttribute).Name })
	t.prop("Value", "string", func(e *env, r Value) Value { return r.(*XAttribute).Value })
	t.method("Remove", "void()", func(e *env, r Value, a []Value, cs *callSite) Value {
		at := r.(*XAttribute)
		if at.parent != nil {
			at.parent.setAttr(at.Name, nil)
		}
		return nil
	})
}
