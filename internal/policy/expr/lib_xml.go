package expr

import (
	"encoding/xml"
	"io"
	"strings"
)

// XDocument is a System.Xml.Linq XDocument.
type XDocument struct {
	Root *XElement
}

// XElement is a System.Xml.Linq XElement. Names keep their document prefix
// ("ns:local"); lookups by name match the full name or the local part.
type XElement struct {
	Name     string
	Attrs    []*XAttribute
	Children []any // *XElement or string (text)
	parent   *XElement
	doc      *XDocument
}

// XAttribute is a System.Xml.Linq XAttribute.
type XAttribute struct {
	Name, Value string
	parent      *XElement
}

func localName(n string) string {
	if i := strings.LastIndexAny(n, ":}"); i >= 0 {
		return n[i+1:]
	}
	return n
}

func nameMatch(have, want string) bool {
	return have == want || localName(have) == want || localName(have) == localName(want)
}

func parseXML(s string) *XDocument {
	dec := xml.NewDecoder(strings.NewReader(s))
	dec.Strict = true
	doc := &XDocument{}
	var stack []*XElement
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			throwf("XmlException", "%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			el := &XElement{Name: qname(t.Name)}
			for _, a := range t.Attr {
				el.Attrs = append(el.Attrs, &XAttribute{Name: qname(a.Name), Value: a.Value, parent: el})
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				el.parent = p
				p.Children = append(p.Children, el)
			} else {
				if doc.Root != nil {
					throwf("XmlException", "There are multiple root elements.")
				}
				doc.Root = el
				el.doc = doc
			}
			stack = append(stack, el)
			if len(stack) > 256 {
				throwf("XmlException", "the document is nested too deeply")
			}
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1].Name != qname(t.Name) {
				throwf("XmlException", "The '%s' end tag does not match the start tag.", qname(t.Name))
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				txt := string(t)
				if n := len(p.Children); n > 0 {
					if prev, ok := p.Children[n-1].(string); ok {
						p.Children[n-1] = prev + txt
						continue
					}
				}
				p.Children = append(p.Children, txt)
			} else if strings.TrimSpace(string(t)) != "" {
				throwf("XmlException", "Data at the root level is invalid.")
			}
		}
	}
	if len(stack) > 0 {
		throwf("XmlException", "Unexpected end of file has occurred. The following elements are not closed: %s.", stack[len(stack)-1].Name)
	}
	if doc.Root == nil {
		throwf("XmlException", "Root element is missing.")
	}
	// drop whitespace-only text between elements
	var clean func(el *XElement)
	clean = func(el *XElement) {
		hasEl := false
		for _, c := range el.Children {
			if _, ok := c.(*XElement); ok {
				hasEl = true
			}
		}
		var out []any
		for _, c := range el.Children {
			if s, ok := c.(string); ok && hasEl && strings.TrimSpace(s) == "" {
				continue
			}
			if ce, ok := c.(*XElement); ok {
				clean(ce)
			}
			out = append(out, c)
		}
		el.Children = out
	}
	clean(doc.Root)
	return doc
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func xmlEscape(s string, attr bool) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	s = r.Replace(s)
	if attr {
		s = strings.ReplaceAll(s, "\"", "&quot;")
	}
	return s
}

// Value is the concatenated text of the element and its descendants.
func (x *XElement) Value() string {
	var b strings.Builder
	var walk func(el *XElement)
	walk = func(el *XElement) {
		for _, c := range el.Children {
			switch v := c.(type) {
			case string:
				b.WriteString(v)
			case *XElement:
				walk(v)
			}
		}
	}
	walk(x)
	return b.String()
}

// SetValue replaces the content with text.
func (x *XElement) SetValue(s string) { x.Children = []any{s} }

func (x *XElement) write(b *strings.Builder, indent bool, depth int) {
	pad := strings.Repeat("  ", depth)
	if indent {
		b.WriteString(pad)
	}
	b.WriteString("<" + x.Name)
	for _, a := range x.Attrs {
		b.WriteString(" " + a.Name + "=\"" + xmlEscape(a.Value, true) + "\"")
	}
	if len(x.Children) == 0 {
		b.WriteString(" />")
		return
	}
	b.WriteString(">")
	onlyEls := true
	for _, c := range x.Children {
		if _, ok := c.(string); ok {
			onlyEls = false
		}
	}
	for _, c := range x.Children {
		switch v := c.(type) {
		case string:
			b.WriteString(xmlEscape(v, false))
		case *XElement:
			if indent && onlyEls {
				b.WriteString("\n")
				v.write(b, true, depth+1)
			} else {
				v.write(b, false, 0)
			}
		}
	}
	if indent && onlyEls {
		b.WriteString("\n" + pad)
	}
	b.WriteString("</" + x.Name + ">")
}

func (x *XElement) String() string {
	var b strings.Builder
	x.write(&b, true, 0)
	return b.String()
}

func (d *XDocument) String() string {
	if d.Root == nil {
		return ""
	}
	return d.Root.String()
}

func (x *XElement) elements(name string, deep bool) []Value {
	var out []Value
	var walk func(el *XElement)
	walk = func(el *XElement) {
		for _, c := range el.Children {
			if ce, ok := c.(*XElement); ok {
				if name == "" || nameMatch(ce.Name, name) {
					out = append(out, ce)
				}
				if deep {
					walk(ce)
				}
			}
		}
	}
	walk(x)
	return out
}

func (x *XElement) addContent(v Value) {
	switch c := v.(type) {
	case nil:
	case *XElement:
		if c.parent != nil {
			c = parseXML(c.String()).Root
		}
		c.parent = x
		c.doc = nil
		x.Children = append(x.Children, c)
	case *XAttribute:
		x.setAttr(c.Name, c.Value)
	case *List:
		for _, it := range c.Items {
			x.addContent(it)
		}
	case string:
		x.Children = append(x.Children, c)
	default:
		x.Children = append(x.Children, toStr(v))
	}
}

func (x *XElement) setAttr(name string, v Value) {
	for i, a := range x.Attrs {
		if a.Name == name {
			if v == nil {
				x.Attrs = append(x.Attrs[:i], x.Attrs[i+1:]...)
			} else {
				a.Value = toStr(v)
			}
			return
		}
	}
	if v != nil {
		x.Attrs = append(x.Attrs, &XAttribute{Name: name, Value: toStr(v), parent: x})
	}
}

func registerXML() {
	for _, t := range []string{"XNode", "XContainer", "XName", "SaveOptions"} {
		knownTypes[t] = true
	}
	enum("SaveOptions", "None", "DisableFormatting")
	static("XDocument", "Parse", func(e *env, a []Value, cs *callSite) Value {
		s := argStr(a, 0, cs)
		e.alloc(len(s) * 4)
		e.work(len(s) / jsonBytesPerStep)
		return parseXML(s)
	})
	static("XElement", "Parse", func(e *env, a []Value, cs *callSite) Value {
		s := argStr(a, 0, cs)
		e.alloc(len(s) * 4)
		e.work(len(s) / jsonBytesPerStep)
		r := parseXML(s).Root
		r.doc = nil
		return r
	})
	ctor("XDocument", func(e *env, a []Value, cs *callSite) Value {
		d := &XDocument{}
		for _, v := range a {
			if el, ok := v.(*XElement); ok {
				d.Root = el
				el.doc = d
			}
		}
		return d
	})
	ctor("XElement", func(e *env, a []Value, cs *callSite) Value {
		el := &XElement{Name: argStr(a, 0, cs)}
		for _, v := range a[1:] {
			el.addContent(v)
		}
		return el
	})
	ctor("XAttribute", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		return &XAttribute{Name: argStr(a, 0, cs), Value: toStr(a[1])}
	})
	D := func(r Value) *XDocument { return r.(*XDocument) }
	X := func(r Value) *XElement { return r.(*XElement) }
	prop(kXDocument, "Root", func(e *env, r Value) Value { return nz(D(r).Root) })
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
	method(kXDocument, "Descendants", docEls(true))
	method(kXDocument, "Elements", docEls(false))
	method(kXDocument, "Element", func(e *env, r Value, a []Value, cs *callSite) Value {
		if root := D(r).Root; root != nil && nameMatch(root.Name, argStr(a, 0, cs)) {
			return root
		}
		return nil
	})
	prop(kXElement, "Name", func(e *env, r Value) Value { return X(r).Name })
	prop(kString, "LocalName", func(e *env, r Value) Value { return localName(r.(string)) })
	prop(kXElement, "Value", func(e *env, r Value) Value { return X(r).Value() })
	prop(kXElement, "Parent", func(e *env, r Value) Value { return nz(X(r).parent) })
	prop(kXElement, "HasElements", func(e *env, r Value) Value { return len(X(r).elements("", false)) > 0 })
	prop(kXElement, "HasAttributes", func(e *env, r Value) Value { return len(X(r).Attrs) > 0 })
	prop(kXElement, "IsEmpty", func(e *env, r Value) Value { return len(X(r).Children) == 0 })
	prop(kXElement, "Document", func(e *env, r Value) Value {
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
	method(kXElement, "Elements", els(false))
	method(kXElement, "Descendants", els(true))
	method(kXElement, "Element", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := X(r).elements(argStr(a, 0, cs), false)
		if len(l) == 0 {
			return nil
		}
		return l[0]
	})
	method(kXElement, "Attribute", func(e *env, r Value, a []Value, cs *callSite) Value {
		name := argStr(a, 0, cs)
		for _, at := range X(r).Attrs {
			if nameMatch(at.Name, name) {
				return at
			}
		}
		return nil
	})
	method(kXElement, "Attributes", func(e *env, r Value, a []Value, cs *callSite) Value {
		l := &List{}
		for _, at := range X(r).Attrs {
			if len(a) == 0 || nameMatch(at.Name, argStr(a, 0, cs)) {
				l.Items = append(l.Items, at)
			}
		}
		return l
	})
	method(kXElement, "Add", func(e *env, r Value, a []Value, cs *callSite) Value {
		for _, v := range a {
			X(r).addContent(v)
		}
		return nil
	})
	method(kXElement, "SetValue", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		X(r).SetValue(toStr(a[0]))
		return nil
	})
	method(kXElement, "SetAttributeValue", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		X(r).setAttr(argStr(a, 0, cs), a[1])
		return nil
	})
	method(kXElement, "SetElementValue", func(e *env, r Value, a []Value, cs *callSite) Value {
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
	method(kXElement, "Remove", func(e *env, r Value, a []Value, cs *callSite) Value {
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
	method(kXElement, "RemoveAll", func(e *env, r Value, a []Value, cs *callSite) Value {
		X(r).Children, X(r).Attrs = nil, nil
		return nil
	})
	xmlToString := func(e *env, r Value, a []Value, cs *callSite) Value {
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
	method(kXElement, "ToString", xmlToString)
	method(kXDocument, "ToString", xmlToString)
	prop(kXAttribute, "Name", func(e *env, r Value) Value { return r.(*XAttribute).Name })
	prop(kXAttribute, "Value", func(e *env, r Value) Value { return r.(*XAttribute).Value })
	method(kXAttribute, "Remove", func(e *env, r Value, a []Value, cs *callSite) Value {
		at := r.(*XAttribute)
		if at.parent != nil {
			at.parent.setAttr(at.Name, nil)
		}
		return nil
	})
}
