package mgmt

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/model"
)

// Checks of request input that hold for every endpoint, before a body is
// decoded: its media type (415), duplicate JSON member names and the NUL
// character (400, naming the JSON path), so that a request is refused the
// same way on SQLite and PostgreSQL (whose text cannot hold NUL) and never
// reaches the store with input a decoder would silently pick from.

// bodyKind is what a request body is, by its Content-Type.
type bodyKind int

const (
	bodyJSON bodyKind = iota
	bodyXML
)

// The media types endpoints accept, as listed in 415 answers.
const (
	jsonTypes   = "application/json"
	policyTypes = "application/xml, text/xml, application/vnd.ms-azure-apim.policy+xml, application/json"
)

// bodyKindOf classifies a request's Content-Type: JSON (application/json
// or any +json type), or XML when xmlOK (application/xml, text/xml or any
// +xml type, such as APIM's application/vnd.ms-azure-apim.policy+xml). A
// charset, when given, must be UTF-8. Anything else, or no Content-Type,
// is a 415 listing accepted.
func bodyKindOf(r *http.Request, xmlOK bool, accepted string) (bodyKind, error) {
	ct := r.Header.Get("Content-Type")
	unsupported := func(why string) error {
		p := problem(http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			"the request body must be sent with Content-Type "+strings.ReplaceAll(accepted, ", ", " or ")+"; "+why)
		p.accept = accepted
		return p
	}
	if strings.TrimSpace(ct) == "" {
		return 0, unsupported("the request has no Content-Type")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return 0, unsupported("its Content-Type " + strconv.Quote(ct) + " cannot be parsed")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return 0, unsupported("the body must be UTF-8, got charset " + strconv.Quote(cs))
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return bodyJSON, nil
	case xmlOK && (mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml")):
		return bodyXML, nil
	}
	return 0, unsupported("got " + mt)
}

// readJSON reads a request body that must be JSON: a non-empty body needs
// a JSON Content-Type (415) and must not repeat a member name or hold NUL
// (400). An empty body is returned as is, for the caller to refuse or
// accept (actions without input).
func readJSON(r *http.Request) ([]byte, error) {
	body, err := readBody(r)
	if err != nil || len(body) == 0 {
		return body, err
	}
	if _, err := bodyKindOf(r, false, jsonTypes); err != nil {
		return nil, err
	}
	if p := checkJSON(body); p != nil {
		return nil, p
	}
	return body, nil
}

// checkJSON walks a JSON document and refuses, naming the member's JSON
// path (subscriptionKeyParameterNames.header, templateParameters[0].name),
// a member name given twice in one object and a NUL character in a name or
// a string. It returns nil for documents it cannot parse: the decoder
// reports those with their line and column.
func checkJSON(data []byte) *Problem {
	type frame struct {
		obj     bool
		wantKey bool
		key     string
		idx     int
		keys    map[string]struct{}
	}
	var stack []*frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.obj {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				b.WriteByte('[')
				b.WriteString(strconv.Itoa(f.idx))
				b.WriteByte(']')
			}
		}
		if b.Len() == 0 {
			return "(root)"
		}
		return b.String()
	}
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.obj {
			top.wantKey = true
		} else {
			top.idx++
		}
	}
	hasNUL := func(s string) bool { return strings.IndexByte(s, 0) >= 0 }
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or a syntax error the decoder reports later
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &frame{obj: true, wantKey: true})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
				top := stack[n-1]
				top.key, top.wantKey = v, false
				if hasNUL(v) {
					f := path()
					return badRequest("invalid member name at "+f+": the NUL character (\\u0000) is not allowed",
						model.FieldError{Field: f, Message: "the name holds the NUL character (\\u0000), which is not allowed"})
				}
				if top.keys == nil {
					top.keys = map[string]struct{}{}
				}
				if _, dup := top.keys[v]; dup {
					f := path()
					return badRequest("duplicate member "+f+": a JSON object must not repeat a name",
						model.FieldError{Field: f, Message: "is given more than once in the same object"})
				}
				top.keys[v] = struct{}{}
				continue
			}
			if hasNUL(v) {
				f := path()
				return badRequest("invalid "+f+": the NUL character (\\u0000) is not allowed",
					model.FieldError{Field: f, Message: "must not contain the NUL character (\\u0000)"})
			}
			valueDone()
		default:
			valueDone()
		}
	}
}

// checkQuery refuses a query parameter whose name or value holds NUL.
func checkQuery(r *http.Request) error {
	if !strings.Contains(r.URL.RawQuery, "%00") && !strings.ContainsRune(r.URL.RawQuery, 0) {
		return nil
	}
	for k, vs := range r.URL.Query() {
		for _, v := range append([]string{k}, vs...) {
			if strings.IndexByte(v, 0) >= 0 {
				return badRequest("invalid query parameter "+strconv.Quote(strings.ReplaceAll(k, "\x00", `\u0000`))+": the NUL character is not allowed",
					model.FieldError{Field: strings.ReplaceAll(k, "\x00", `\u0000`), Message: "must not contain the NUL character"})
			}
		}
	}
	return nil
}
