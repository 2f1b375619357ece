package expr

import (
	"strings"
)

// registerXElement registers System.Xml.Linq.XElement, and XName.LocalName
// (names are strings).
func registerXElement() {
	for _, t := range []string{"XNode", "XContainer", "XName", "SaveOptions"} {
		knownTypes[t] = true
	}
	t := defType("XElement", kXElement)
	defType("XNode", kXElement, kXDocument)
	n := defType("XName").on(kString)
	t.static("Parse", "XElement(1-2)", func(e *env, a []Value, cs *callSite) Value {
		s := argStr(a, 0, cs)
		e.alloc(len(s) * 4)
		e.work(len(s) / jsonBytesPerStep)
		r := parseXML(s).Root
		r.doc = nil
		return r
	})
	t.ctor("(1+)", func(e *env, a []Value, cs *callSite) Value {
		el := &XElement{Name: argStr(a, 0, cs)}
		for _, v := range a[1:] {
			el.addContent(v)
		}
		return el
	})
	X := func(r Value) *XElement { return r.(*XElement) }
	t.prop("Name", "string", func(e *env, r Value) Value { return X(r).Name })
	n.prop("LocalName", "string", func(e *env, r Value) Value { return localName(r.(string)) })
	t.prop("Value", "string", func(e *env, r Value) Value { return X(r).Value() })
	t.prop("Parent", "XElement", func(e *env, r Value) Value { return nz(X(r).parent) })
	t.prop("HasElements", "bool", func(e *env, r Value) Value { return len(X(r).elements("", false)) > 0 })
	t.prop("HasAttributes", "bool", func(e *env, r Value) Value { return len(X(r).Attrs) > 0 })
	t.prop("IsEmpty", "bool", func(e *env, r Value) Value { return len(X(r).Children) == 0 })
	t.prop("Document", "XDocument", func(e *env, r Value) Value {
		x := X(r)
		for x.parent != nil {
			x = x.parent
		}
		return nz(x.doc)
	})
	els := func(deep bool) methodFn {
		return func(e *env, r Value, a []Value, cs *callSite) Value {
			name := ""
			if len(a) > 0 {
				name = argStr(a, 0, cs)
			}
			return &List{Items: X(r).elements(name, deep)}
		}
	}
	t.method("Elements", "List<XElement>(0-1)", els(false))
	t.method("Descendants", "List<XElement>(0-1)", els(true))
	t.method("Element", "XElement(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := X(r).elements(argStr(a, 0, cs), false)
		if len(l) == 0 {
			return nil
		}
		return l[0]
	})
	t.method("Attribute", "XAttribute(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		name := argStr(a, 0, cs)
		for _, at := range X(r).Attrs {
			if nameMatch(at.Name, name) {
				return at
			}
		}
		return nil
	})
	t.method("Attributes", "List<XAttribute>(0-1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := &List{}
		for _, at := range X(r).Attrs {
			if len(a) == 0 || nameMatch(at.Name, argStr(a, 0, cs)) {
				l.Items = append(l.Items, at)
			}
		}
		return l
	})
	t.method("Add", "void(0+)", func(e *env, r Value, a []Value, cs *callSite) Value {
		for _, v := range a {
			X(r).addContent(v)
		}
		return nil
	})
	t.method("SetValue", "void(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		X(r).SetValue(toStr(a[0]))
		return nil
	})
	t.method("SetAttributeValue", "void(2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		X(r).setAttr(argStr(a, 0, cs), a[1])
		return nil
	})
	t.method("SetElementValue", "void(2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		name := argStr(a, 0, cs)
		x := X(r)
		for i, c := range x.Children {
			if ce, ok := c.(*XElement); ok && nameMatch(ce.Name, name) {
				if a[1] == nil {
					x.Children = append(x.Children[:i], x.Children[i+1:]...)
				} else {
					ce.SetValue(toStr(a[1]))
				}
				return nil
			}
		}
		if a[1] != nil {
			x.addContent(&XElement{Name: name, Children: []any{toStr(a[1])}})
		}
		return nil
	})
	t.method("Remove", "void()", func(e *env, r Value, a []Value, cs *callSite) Value {
		x := X(r)
		if x.parent == nil {
			throwf("InvalidOperationException", "The parent is missing.")
		}
		p := x.parent
		for i, c := range p.Children {
			if c == any(x) {
				p.Children = append(p.Children[:i], p.Children[i+1:]...)
				break
			}
		}
		x.parent = nil
		return nil
	})
	t.method("RemoveAll", "void()", func(e *env, r Value, a []Value, cs *callSite) Value {
		X(r).Children, X(r).Attrs = nil, nil
		return nil
	})
	t.method("ToString", "string(0-1)", xmlToString)
}

// xmlToString is XElement.ToString and XDocument.ToString.
func xmlToString(e *env, r Value, a []Value, cs *callSite) Value {
	indent := true
	if ev, ok := argEnum(a, 0, "SaveOptions"); ok && ev.name == "DisableFormatting" {
		indent = false
	}
	var b strings.Builder
	switch x := r.(type) {
	case *XElement:
		x.write(&b, indent, 0)
	case *XDocument:
		if x.Root != nil {
			x.Root.write(&b, indent, 0)
		}
	}
	e.alloc(b.Len())
	return b.String()
}
