package policy

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// message returns the body and headers the current section edits: the
// request's in inbound and backend, the response's in outbound and on-error.
func (c *Context) message() (*Body, http.Header) {
	h := c.headers()
	if c.section == outbound || c.section == onError {
		return &c.Response.Body, h
	}
	return &c.Request.Body, h
}

// bodyError is the error of a body that cannot be read or converted: the
// client's fault in inbound, the gateway's otherwise.
func bodyError(c *Context, source, msg string, err error) *Error {
	if c.section == inbound {
		return &Error{Status: http.StatusBadRequest, Source: source, Reason: ReasonInvalidRequestBody, Message: msg, Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Source: source, Reason: ReasonInvalidResponseBody, Message: msg, Err: err}
}

// findAndReplace is <find-and-replace from to/>: every occurrence of from in
// the body becomes to.
type findAndReplace struct {
	StepInfo
	from, to Value
}

func newFindAndReplace(b *Builder) (Step, error) {
	s := &findAndReplace{StepInfo: b.Info(), from: b.Val("from", true), to: b.Val("to", true)}
	if b.Err() == nil && s.from.IsLiteral() && s.from.Lit() == "" {
		b.Errorf("from", "attribute \"from\" must not be empty")
	}
	b.NoChildren()
	return s, b.Err()
}

func (s *findAndReplace) describe() string { return fmt.Sprintf("from=%s to=%s", q(s.from), q(s.to)) }

func (s *findAndReplace) Apply(c *Context) error {
	from, err := s.from.String(c)
	if err != nil {
		return err
	}
	to, err := s.to.String(c)
	if err != nil {
		return err
	}
	if from == "" {
		return nil
	}
	body, _ := c.message()
	data, err := body.Bytes()
	if err != nil {
		return bodyError(c, s.Name, "The body could not be read.", err)
	}
	if bytes.Contains(data, []byte(from)) {
		body.Set(bytes.ReplaceAll(data, []byte(from), []byte(to)))
	}
	return nil
}

// conversion is what json-to-xml and xml-to-json share: when to convert.
type conversion struct {
	apply        string // "always" or "content-type-json" / "content-type-xml"
	considerAcc  bool
	acceptNeedle string // "xml" or "json"
}

// wanted reports whether the body of the current message is to be converted.
func (v conversion) wanted(c *Context, h http.Header) bool {
	if v.apply != "always" {
		ct := strings.ToLower(h.Get("Content-Type"))
		if !strings.Contains(ct, strings.TrimPrefix(v.apply, "content-type-")) {
			return false
		}
	}
	if v.considerAcc {
		accept := c.Request.Header.Get("Accept")
		if c.In != nil {
			accept = c.In.Header.Get("Accept")
		}
		if !strings.Contains(strings.ToLower(accept), v.acceptNeedle) {
			return false
		}
	}
	return true
}

// jsonToXML is <json-to-xml apply consider-accept-header parse-date/>.
type jsonToXML struct {
	StepInfo
	conversion
	parseDate bool
}

func newJSONToXML(b *Builder) (Step, error) {
	s := &jsonToXML{StepInfo: b.Info()}
	if !b.Has("apply") {
		b.Errorf("", "attribute \"apply\" is required")
	}
	s.apply = b.Enum("apply", "always", "always", "content-type-json")
	s.considerAcc, s.acceptNeedle = b.Bool("consider-accept-header", true), "xml"
	s.parseDate = b.Bool("parse-date", true)
	for _, a := range []string{"namespace-separator", "namespace-prefix", "attribute-block-name"} {
		if b.Has(a) {
			b.Str(a, false)
			b.Errorf(a, "attribute %q is not supported by Portico yet", a)
		}
	}
	b.NoChildren()
	return s, b.Err()
}

func (s *jsonToXML) describe() string {
	return fmt.Sprintf("apply=%s consider-accept-header=%t parse-date=%t", s.apply, s.considerAcc, s.parseDate)
}

func (s *jsonToXML) Apply(c *Context) error {
	body, h := c.message()
	if !s.wanted(c, h) {
		return nil
	}
	data, err := body.Bytes()
	if err != nil {
		return bodyError(c, s.Name, "The body could not be read.", err)
	}
	out, err := JSONToXML(data)
	if err != nil {
		return bodyError(c, s.Name, "The body is not valid JSON.", err)
	}
	body.Set(out)
	h.Set("Content-Type", "application/xml")
	return nil
}

// JSONToXML converts a JSON document to XML as APIM's json-to-xml does: the
// result is wrapped in <Document>; each property becomes an element (names
// that are not XML names are encoded as _xHHHH_), an array repeats its
// element, null is an empty element, a property whose name starts with "@"
// and holds a scalar is an attribute and "#text" is text. Property order is
// kept. An array at the root is a sequence of <Array> elements.
func JSONToXML(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out bytes.Buffer
	out.WriteString("<Document>")
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		if err := writeJSONObjectBody(dec, &out); err != nil {
			return nil, err
		}
	case json.Delim('['):
		if err := writeJSONArray(dec, &out, "Array", 0); err != nil {
			return nil, err
		}
	default:
		xmlText(&out, scalarText(tok))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON document")
	}
	out.WriteString("</Document>")
	return out.Bytes(), nil
}

const maxJSONDepth = 256

// writeJSONObjectBody writes the properties of an object whose '{' was
// read: attributes first would need buffering, so "@" properties are
// written as attributes only when they come first; later ones are elements.
func writeJSONObjectBody(dec *json.Decoder, out *bytes.Buffer) error {
	return writeJSONProps(dec, out, nil, 0)
}

func writeJSONProps(dec *json.Decoder, out *bytes.Buffer, openTag *bytes.Buffer, depth int) error {
	if depth > maxJSONDepth {
		return errors.New("JSON nested too deeply")
	}
	tagOpen := openTag != nil
	closeTag := func() {
		if tagOpen {
			out.WriteByte('>')
			tagOpen = false
		}
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		key := kt.(string)
		if tagOpen && strings.HasPrefix(key, "@") && len(key) > 1 {
			vt, err := dec.Token()
			if err != nil {
				return err
			}
			if _, ok := vt.(json.Delim); !ok {
				out.WriteString(" " + xmlName(key[1:]) + `="`)
				xml.EscapeText(out, []byte(scalarText(vt)))
				out.WriteByte('"')
				continue
			}
			closeTag()
			if err := writeJSONValue(dec, out, xmlName(key[1:]), vt, depth+1); err != nil {
				return err
			}
			continue
		}
		closeTag()
		vt, err := dec.Token()
		if err != nil {
			return err
		}
		if key == "#text" {
			if _, ok := vt.(json.Delim); !ok {
				xmlText(out, scalarText(vt))
				continue
			}
		}
		if err := writeJSONValue(dec, out, xmlName(key), vt, depth+1); err != nil {
			return err
		}
	}
	if tagOpen {
		// Only attributes: the caller closes the element as empty.
		return errOnlyAttrs
	}
	_, err := dec.Token() // '}'
	return err
}

var errOnlyAttrs = errors.New("only attributes")

// writeJSONValue writes the value whose first token is tok as element name.
func writeJSONValue(dec *json.Decoder, out *bytes.Buffer, name string, tok json.Token, depth int) error {
	switch tok {
	case json.Delim('['):
		return writeJSONArray(dec, out, name, depth)
	case json.Delim('{'):
		start := out.Len()
		out.WriteString("<" + name)
		err := writeJSONProps(dec, out, out, depth)
		if err == errOnlyAttrs {
			out.WriteString(" />")
			_, err = dec.Token()
			return err
		}
		if err != nil {
			return err
		}
		if out.Len() == start+1+len(name) {
			out.WriteString(" />")
			return nil
		}
		out.WriteString("</" + name + ">")
		return nil
	case nil:
		out.WriteString("<" + name + " />")
		return nil
	}
	out.WriteString("<" + name + ">")
	xmlText(out, scalarText(tok))
	out.WriteString("</" + name + ">")
	return nil
}

func writeJSONArray(dec *json.Decoder, out *bytes.Buffer, name string, depth int) error {
	if depth > maxJSONDepth {
		return errors.New("JSON nested too deeply")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if err := writeJSONValue(dec, out, name, t, depth+1); err != nil {
			return err
		}
	}
	_, err := dec.Token() // ']'
	return err
}

func scalarText(t json.Token) string {
	switch v := t.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func xmlText(out *bytes.Buffer, s string) { xml.EscapeText(out, []byte(s)) }

// xmlName encodes s as an XML name the way .NET's XmlConvert.EncodeName
// does: a character that may not appear there becomes _xHHHH_.
func xmlName(s string) string {
	if s == "" {
		return "_"
	}
	var b strings.Builder
	for i, r := range s {
		ok := r == '_' || unicode.IsLetter(r)
		if i > 0 {
			ok = ok || r == '-' || r == '.' || unicode.IsDigit(r)
		}
		if r == '_' && strings.HasPrefix(s[i:], "_x") {
			ok = false
		}
		if ok && r != utf8.RuneError {
			b.WriteRune(r)
			continue
		}
		if r > 0xffff {
			fmt.Fprintf(&b, "_x%08X_", r)
		} else {
			fmt.Fprintf(&b, "_x%04X_", r)
		}
	}
	return b.String()
}

// xmlToJSON is <xml-to-json kind apply consider-accept-header
// always-array-child-elements/>.
type xmlToJSON struct {
	StepInfo
	conversion
	kind        string
	alwaysArray bool
}

func newXMLToJSON(b *Builder) (Step, error) {
	s := &xmlToJSON{StepInfo: b.Info()}
	if !b.Has("kind") {
		b.Errorf("", "attribute \"kind\" is required")
	}
	s.kind = b.Enum("kind", "direct", "javascript-friendly", "direct")
	if !b.Has("apply") {
		b.Errorf("", "attribute \"apply\" is required")
	}
	s.apply = b.Enum("apply", "always", "always", "content-type-xml")
	s.considerAcc, s.acceptNeedle = b.Bool("consider-accept-header", true), "json"
	s.alwaysArray = b.Bool("always-array-child-elements", false)
	b.NoChildren()
	return s, b.Err()
}

func (s *xmlToJSON) describe() string {
	return fmt.Sprintf("kind=%s apply=%s consider-accept-header=%t always-array-child-elements=%t", s.kind, s.apply, s.considerAcc, s.alwaysArray)
}

func (s *xmlToJSON) Apply(c *Context) error {
	body, h := c.message()
	if !s.wanted(c, h) {
		return nil
	}
	data, err := body.Bytes()
	if err != nil {
		return bodyError(c, s.Name, "The body could not be read.", err)
	}
	out, err := XMLToJSON(data, s.kind == "javascript-friendly", s.alwaysArray)
	if err != nil {
		return bodyError(c, s.Name, "The body is not valid XML.", err)
	}
	body.Set(out)
	h.Set("Content-Type", "application/json")
	return nil
}

// xnode is an element read by XMLToJSON.
type xnode struct {
	raw   string // the name as written, to match the end tag
	name  string
	attrs []xml.Attr
	kids  []*xnode
	text  strings.Builder
}

// XMLToJSON converts an XML document to JSON. direct (friendly false)
// mirrors the document: {"root": …}, the XML declaration as "?xml",
// attributes as "@name", text beside attributes or elements as "#text",
// repeated elements as arrays (every child element with alwaysArray), an
// empty element as null, prefixes kept ("soap:Envelope"). friendly
// (javascript-friendly) drops the declaration, namespace declarations and
// prefixes and writes attributes without "@". Order is kept.
func XMLToJSON(data []byte, friendly, alwaysArray bool) ([]byte, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var root *xnode
	var stack []*xnode
	var decl string
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.ProcInst:
			if t.Target == "xml" && root == nil {
				decl = string(t.Inst)
			}
		case xml.StartElement:
			if len(stack) > maxJSONDepth {
				return nil, errors.New("XML nested too deeply")
			}
			n := &xnode{raw: rawName(t.Name, false), name: rawName(t.Name, friendly)}
			for _, a := range t.Attr {
				if friendly && (a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				n.attrs = append(n.attrs, xml.Attr{Name: xml.Name{Local: rawName(a.Name, friendly)}, Value: a.Value})
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1].raw != rawName(t.Name, false) {
				return nil, fmt.Errorf("unexpected end element </%s>", rawName(t.Name, false))
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, errors.New("text outside the root element")
			}
		}
	}
	if root == nil || len(stack) > 0 {
		return nil, errors.New("no complete root element")
	}
	var out bytes.Buffer
	out.WriteByte('{')
	if decl != "" && !friendly {
		out.WriteString(`"?xml":{`)
		for i, kv := range declAttrs(decl) {
			if i > 0 {
				out.WriteByte(',')
			}
			writeJSONString(&out, "@"+kv[0])
			out.WriteByte(':')
			writeJSONString(&out, kv[1])
		}
		out.WriteString("},")
	}
	writeJSONString(&out, root.name)
	out.WriteByte(':')
	writeXNode(&out, root, friendly, alwaysArray)
	out.WriteByte('}')
	return out.Bytes(), nil
}

func rawName(n xml.Name, friendly bool) string {
	if n.Space == "" || friendly {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// declAttrs parses `version="1.0" encoding="utf-8"`.
func declAttrs(s string) [][2]string {
	var out [][2]string
	for {
		s = strings.TrimSpace(s)
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			return out
		}
		rest = strings.TrimSpace(rest)
		if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
			return out
		}
		end := strings.IndexByte(rest[1:], rest[0])
		if end < 0 {
			return out
		}
		out = append(out, [2]string{strings.TrimSpace(k), rest[1 : end+1]})
		s = rest[end+2:]
	}
}

func writeJSONString(out *bytes.Buffer, s string) {
	b, _ := json.Marshal(s)
	out.Write(b)
}

func writeXNode(out *bytes.Buffer, n *xnode, friendly, alwaysArray bool) {
	text := n.text.String()
	if len(n.attrs) == 0 && len(n.kids) == 0 {
		if text == "" {
			out.WriteString("null")
		} else {
			writeJSONString(out, text)
		}
		return
	}
	out.WriteByte('{')
	first := true
	comma := func() {
		if !first {
			out.WriteByte(',')
		}
		first = false
	}
	for _, a := range n.attrs {
		comma()
		name := a.Name.Local
		if !friendly {
			name = "@" + name
		}
		writeJSONString(out, name)
		out.WriteByte(':')
		writeJSONString(out, a.Value)
	}
	if t := strings.TrimSpace(text); t != "" {
		comma()
		out.WriteString(`"#text":`)
		writeJSONString(out, t)
	}
	// Children grouped by name, in order of first appearance.
	var order []string
	groups := map[string][]*xnode{}
	for _, k := range n.kids {
		if _, ok := groups[k.name]; !ok {
			order = append(order, k.name)
		}
		groups[k.name] = append(groups[k.name], k)
	}
	for _, name := range order {
		g := groups[name]
		comma()
		writeJSONString(out, name)
		out.WriteByte(':')
		if len(g) == 1 && !alwaysArray {
			writeXNode(out, g[0], friendly, alwaysArray)
			continue
		}
		out.WriteByte('[')
		for i, k := range g {
			if i > 0 {
				out.WriteByte(',')
			}
			writeXNode(out, k, friendly, alwaysArray)
		}
		out.WriteByte(']')
	}
	out.WriteByte('}')
}

// redirectContentURLs is <redirect-content-urls/>: in outbound, links to
// the backend in the response body become links through the gateway; in
// inbound, links through the gateway in the request body become links to
// the backend.
type redirectContentURLs struct{ StepInfo }

func newRedirectContentURLs(b *Builder) (Step, error) {
	b.NoChildren()
	return &redirectContentURLs{StepInfo: b.Info()}, b.Err()
}

// gatewayBase is the URL of the API through the gateway, without a
// trailing slash: scheme and host of the inbound call and the API's path.
func (c *Context) gatewayBase() string {
	u := c.exprView().inboundURL()
	base := u.Scheme + "://" + u.Host
	if p := strings.Trim(c.API.Path, "/"); p != "" {
		base += "/" + p
	}
	return base
}

func (s *redirectContentURLs) Apply(c *Context) error {
	if c.Request.Backend == nil || c.In == nil {
		return nil
	}
	backendBase := strings.TrimSuffix(c.Request.Backend.String(), "/")
	gw := c.gatewayBase()
	from, to := backendBase, gw
	if c.section == inbound || c.section == backend {
		from, to = gw, backendBase
	}
	if from == to || from == "" {
		return nil
	}
	body, _ := c.message()
	data, err := body.Bytes()
	if err != nil {
		return bodyError(c, s.Name, "The body could not be read.", err)
	}
	if bytes.Contains(data, []byte(from)) {
		body.Set(bytes.ReplaceAll(data, []byte(from), []byte(to)))
	}
	return nil
}
