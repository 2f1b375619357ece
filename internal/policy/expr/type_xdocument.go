package expr

// registerXDocument registers System.Xml.Linq.XDocument.
func registerXDocument() {
	t := defType("XDocument", kXDocument)
	t.static("Parse", "XDocument(1-2)", func(e *env, a []Value, cs *callSite) Value {
		s := argStr(a, 0, cs)
		e.alloc(len(s) * 4)
		e.work(len(s) / jsonBytesPerStep)
		return parseXML(s)
	})
	t.ctor("(0+)", func(e *env, a []Value, cs *callSite) Value {
		d := &XDocument{}
		for _, v := range a {
			if el, ok := v.(*XElement); ok {
				d.Root = el
				el.doc = d
			}
		}
		return d
	})
	D := func(r Value) *XDocument { return r.(*XDocument) }
	t.prop("Root", "XElement", func(e *env, r Value) Value { return nz(D(r).Root) })
	docEls := func(deep bool) methodFn {
		return func(e *env, r Value, a []Value, cs *callSite) Value {
			name := ""
			if len(a) > 0 {
				name = argStr(a, 0, cs)
			}
			root := D(r).Root
			if root == nil {
				return &List{}
			}
			var out []Value
			if name == "" || nameMatch(root.Name, name) {
				out = append(out, root)
			}
			if deep {
				out = append(out, root.elements(name, true)...)
			}
			return &List{Items: out}
		}
	}
	t.method("Descendants", "List<XElement>(0-1)", docEls(true))
	t.method("Elements", "List<XElement>(0-1)", docEls(false))
	t.method("Element", "XElement(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		if root := D(r).Root; root != nil && nameMatch(root.Name, argStr(a, 0, cs)) {
			return root
		}
		return nil
	})
	t.method("ToString", "string(0-1)", xmlToString)
}
