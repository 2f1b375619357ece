package policy

import (
	"github.com/portico-gw/portico/internal/model"

	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// maxDepth bounds element nesting so that a hostile document cannot exhaust
// the stack of the compiler.
const maxDepth = 64

// Node is one element of a policy document with the position of its '<'.
// Text is the concatenated character data directly inside the element
// (CDATA included); comments and processing instructions are dropped.
type Node struct {
	Name     string
	Attrs    []Attr
	Children []*Node
	Text     string
	Line     int
	Col      int
}

// Attr is one attribute with the position of its name.
type Attr struct {
	Name  string
	Value string
	Line  int
	Col   int
}

// Attr returns the attribute called name, or nil.
func (n *Node) Attr(name string) *Attr {
	for i := range n.Attrs {
		if n.Attrs[i].Name == name {
			return &n.Attrs[i]
		}
	}
	return nil
}

// positions converts byte offsets of one document to 1-based lines and
// columns counted in runes. It is built once per document in linear time;
// a lookup is a binary search over the line starts plus a count of at most
// posBlock bytes, so that positions cost the same on a document written on
// one line as on one written on many (rescanning the line for every
// element made one-line documents quadratic).
type positions struct {
	src   string
	lines []int   // byte offset of the start of each line
	runes []int32 // runes[k]: runes in src[:k*posBlock]
}

// posBlock is the stride of the rune count table.
const posBlock = 64

func newPositions(src string) *positions {
	p := &positions{src: src, lines: []int{0}, runes: make([]int32, 0, len(src)/posBlock+1)}
	var n int32
	for i := 0; i < len(src); i++ {
		if i%posBlock == 0 {
			p.runes = append(p.runes, n)
		}
		c := src[i]
		if c == '\n' {
			p.lines = append(p.lines, i+1)
		}
		if c&0xC0 != 0x80 { // not a UTF-8 continuation byte: a rune starts here
			n++
		}
	}
	p.runes = append(p.runes, n) // for off == len(src) on a block boundary
	return p
}

// runesBefore counts the runes of src[:off].
func (p *positions) runesBefore(off int) int {
	k := off / posBlock
	n := int(p.runes[k])
	for i := k * posBlock; i < off; i++ {
		if p.src[i]&0xC0 != 0x80 {
			n++
		}
	}
	return n
}

func (p *positions) at(off int) (line, col int) {
	off = min(max(off, 0), len(p.src))
	i := sort.Search(len(p.lines), func(i int) bool { return p.lines[i] > off }) - 1
	return i + 1, p.runesBefore(off) - p.runesBefore(p.lines[i]) + 1
}

// positionsFunc maps an offset of the parsed text to a line and column.
type positionsFunc func(off int) (line, col int)

func (f positionsFunc) at(off int) (int, int) { return f(off) }

// parseXML reads a whole document into a tree whose root must be named
// root. Errors are *CompileError values with the line and column.
func parseXML(orig, root string) (*Node, error) {
	// APIM documents carry C# expressions with raw quotes and '<': escape
	// them first, and report positions in the original text.
	src, back := model.EscapeExpressions(orig)
	opos := newPositions(orig)
	pos := positionsFunc(func(off int) (int, int) { return opos.at(back(off)) })
	d := xml.NewDecoder(strings.NewReader(src))
	d.Strict = true
	var stack []*Node
	var top *Node
	var text [][]byte
	for {
		start := int(d.InputOffset())
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if len(stack) > 0 {
				l, c := opos.at(len(orig))
				return nil, &CompileError{Line: l, Col: c, Msg: "unexpected end of document"}
			}
			break
		}
		if err != nil {
			l, c := pos.at(int(d.InputOffset()))
			msg := err.Error()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				msg = se.Msg
			}
			return nil, &CompileError{Line: l, Col: c, Msg: "malformed XML: " + msg}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			l, c := pos.at(start)
			if len(stack) >= maxDepth {
				return nil, &CompileError{Line: l, Col: c, Msg: fmt.Sprintf("elements are nested deeper than %d levels", maxDepth)}
			}
			n := &Node{Name: t.Name.Local, Line: l, Col: c}
			if t.Name.Space != "" && !strings.EqualFold(t.Name.Space, "xmlns") {
				n.Name = t.Name.Space + ":" + t.Name.Local
			}
			offs := attrOffsets(src[start:int(d.InputOffset())])
			for i, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				al, ac := l, c
				if i < len(offs) {
					al, ac = pos.at(start + offs[i])
				}
				name := a.Name.Local
				if a.Name.Space != "" {
					name = a.Name.Space + ":" + name
				}
				n.Attrs = append(n.Attrs, Attr{Name: name, Value: a.Value, Line: al, Col: ac})
			}
			if len(stack) == 0 {
				if top != nil {
					return nil, &CompileError{Line: l, Col: c, Msg: "document has more than one root element"}
				}
				if n.Name != root {
					return nil, &CompileError{Line: l, Col: c, Msg: fmt.Sprintf("root element must be <%s>, got <%s>", root, n.Name)}
				}
				top = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
			text = append(text, nil)
		case xml.EndElement:
			n := stack[len(stack)-1]
			n.Text = string(text[len(text)-1])
			stack, text = stack[:len(stack)-1], text[:len(text)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if strings.TrimSpace(string(t)) != "" {
					l, c := pos.at(start)
					return nil, &CompileError{Line: l, Col: c, Msg: "text outside the root element"}
				}
				continue
			}
			text[len(text)-1] = append(text[len(text)-1], t...)
		}
	}
	if top == nil {
		return nil, &CompileError{Line: 1, Col: 1, Msg: fmt.Sprintf("document has no <%s> element", root)}
	}
	return top, nil
}

// attrOffsets returns the byte offset of each attribute name inside the raw
// start tag tag ("<name a='1' b="2">"), in document order. The tag was
// accepted by encoding/xml, so it is well formed.
func attrOffsets(tag string) []int {
	var offs []int
	i := 1
	for i < len(tag) && !isXMLSpace(tag[i]) && tag[i] != '>' && tag[i] != '/' {
		i++
	}
	for i < len(tag) {
		for i < len(tag) && isXMLSpace(tag[i]) {
			i++
		}
		if i >= len(tag) || tag[i] == '>' || tag[i] == '/' {
			break
		}
		offs = append(offs, i)
		for i < len(tag) && tag[i] != '=' {
			i++
		}
		i++
		for i < len(tag) && isXMLSpace(tag[i]) {
			i++
		}
		if i >= len(tag) {
			break
		}
		q := tag[i]
		i++
		for i < len(tag) && tag[i] != q {
			i++
		}
		i++
	}
	return offs
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
