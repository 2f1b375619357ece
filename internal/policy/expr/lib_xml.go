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
