package expr

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonParser is a small recursive-descent JSON reader producing JTokens. It
// keeps property order, accepts what Newtonsoft's default reader accepts for
// well-formed JSON, and reports errors with a character position.
type jsonParser struct {
	s     string
	i     int
	depth int
}

func (p *jsonParser) fail(format string, args ...any) {
	panic(&jsonErr{sprintf(format, args...) + sprintf(" Position %d.", p.i)})
}

func (p *jsonParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value() jtoken {
	p.ws()
	if p.i >= len(p.s) {
		p.fail("Unexpected end of content while loading JToken.")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.depth++
		if p.depth > 512 {
			p.fail("The reader's MaxDepth of 512 has been exceeded.")
		}
		p.i++
		o := &JObject{index: map[string]int{}}
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			p.depth--
			return o
		}
		for {
			p.ws()
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				p.fail("Invalid property identifier character.")
			}
			k := p.str()
			p.ws()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				p.fail("Invalid character after parsing property name. Expected ':'.")
			}
			p.i++
			o.Set(k, p.value())
			p.ws()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				p.depth--
				return o
			}
			p.fail("Unexpected end of content while loading JObject.")
		}
	case c == '[':
		p.depth++
		if p.depth > 512 {
			p.fail("The reader's MaxDepth of 512 has been exceeded.")
		}
		p.i++
		a := &JArray{}
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			p.depth--
			return a
		}
		for {
			it := p.value()
			it.setParent(a)
			a.items = append(a.items, it)
			p.ws()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == ']' {
				p.i++
				p.depth--
				return a
			}
			p.fail("Unexpected end of content while loading JArray.")
		}
	case c == '"':
		return &JValue{kind: jString, s: p.str()}
	case c == 't' && strings.HasPrefix(p.s[p.i:], "true"):
		p.i += 4
		return &JValue{kind: jBool, b: true}
	case c == 'f' && strings.HasPrefix(p.s[p.i:], "false"):
		p.i += 5
		return &JValue{kind: jBool}
	case c == 'n' && strings.HasPrefix(p.s[p.i:], "null"):
		p.i += 4
		return &JValue{}
	case c == '-' || c >= '0' && c <= '9':
		start := p.i
		if c == '-' {
			p.i++
		}
		digits := func() int {
			n := 0
			for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
				p.i++
				n++
			}
			return n
		}
		if digits() == 0 {
			p.fail("Input string '%s' is not a valid number.", p.s[start:p.i])
		}
		if p.i < len(p.s) && p.s[p.i] == '.' {
			p.i++
			if digits() == 0 {
				p.fail("Input string '%s' is not a valid number.", p.s[start:p.i])
			}
		}
		if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
			p.i++
			if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
				p.i++
			}
			if digits() == 0 {
				p.fail("Input string '%s' is not a valid number.", p.s[start:p.i])
			}
		}
		return numberToken(p.s[start:p.i])
	}
	p.fail("Unexpected character encountered while parsing value: %c.", p.s[p.i])
	return nil
}

func (p *jsonParser) str() string {
	p.i++ // opening quote
	start := p.i
	// fast path: no escapes
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			s := p.s[start:p.i]
			p.i++
			return s
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.i++
	}
	var b strings.Builder
	b.WriteString(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String()
		case c == '\\':
			if p.i+1 >= len(p.s) {
				p.fail("Unterminated string.")
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r := p.hex4()
				if utf16.IsSurrogate(r) && strings.HasPrefix(p.s[p.i:], "\\u") {
					p.i += 2
					r2 := p.hex4()
					r = utf16.DecodeRune(r, r2)
				}
				b.WriteRune(r)
			default:
				p.fail("Bad JSON escape sequence: \\%c.", e)
			}
		case c < 0x20 && c != '\t':
			p.fail("Invalid character in string.")
		default:
			r, n := utf8.DecodeRuneInString(p.s[p.i:])
			b.WriteRune(r)
			p.i += n
		}
	}
	p.fail("Unterminated string. Expected delimiter: \".")
	return ""
}

func (p *jsonParser) hex4() rune {
	if p.i+4 > len(p.s) {
		p.fail("Unexpected end while parsing Unicode escape sequence.")
	}
	v, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		p.fail("Invalid Unicode escape sequence.")
	}
	p.i += 4
	return rune(v)
}
