package model

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// XMLError locates a problem in an XML document.
type XMLError struct {
	Line, Column int
	Msg          string
}

func (e *XMLError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// MaxPolicyBytes is the largest policy document or policy fragment, in
// bytes of its XML text, as in APIM (256 KiB). The management API refuses
// larger ones and the policy compiler does too, so that compiling a
// configuration has a bounded cost.
const MaxPolicyBytes = 256 << 10

// CheckPolicySize reports a document larger than MaxPolicyBytes.
func CheckPolicySize(doc string) error {
	if len(doc) > MaxPolicyBytes {
		return fmt.Errorf("the document is %d bytes; a policy document or fragment may hold at most %d bytes (256 KiB)", len(doc), MaxPolicyBytes)
	}
	return nil
}

// CheckXML reports whether doc is a single well-formed XML element named
// root. The returned error is an *XMLError with the line and column.
func CheckXML(doc, root string) error {
	if strings.TrimSpace(doc) == "" {
		return &XMLError{Line: 1, Column: 1, Msg: "document is empty"}
	}
	orig := doc
	doc, back := EscapeExpressions(doc)
	lineCol := func(_ string, off int) (int, int) { return lineCol(orig, back(off)) }
	d := xml.NewDecoder(strings.NewReader(doc))
	d.Strict = true
	depth, roots := 0, 0
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if depth != 0 {
				l, c := lineCol(doc, int(d.InputOffset()))
				return &XMLError{Line: l, Column: c, Msg: "unexpected end of document"}
			}
			break
		}
		if err != nil {
			l, c := lineCol(doc, int(d.InputOffset()))
			var se *xml.SyntaxError
			msg := err.Error()
			if errors.As(err, &se) {
				msg = se.Msg
			}
			return &XMLError{Line: l, Column: c, Msg: msg}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 {
					l, c := lineCol(doc, int(off))
					return &XMLError{Line: l, Column: c, Msg: "document has more than one root element"}
				}
				if t.Name.Local != root {
					l, c := lineCol(doc, int(off))
					return &XMLError{Line: l, Column: c, Msg: fmt.Sprintf("root element must be <%s>, got <%s>", root, t.Name.Local)}
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && strings.TrimSpace(string(t)) != "" {
				l, c := lineCol(doc, int(off))
				return &XMLError{Line: l, Column: c, Msg: "text outside the root element"}
			}
		}
	}
	if roots == 0 {
		return &XMLError{Line: 1, Column: 1, Msg: fmt.Sprintf("document has no <%s> element", root)}
	}
	return nil
}

// lineCol converts a byte offset to a 1-based line and column (in runes).
func lineCol(s string, off int) (int, int) {
	if off > len(s) {
		off = len(s)
	}
	line, col := 1, 1
	for _, r := range s[:off] {
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
