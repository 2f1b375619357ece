package expr

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// pos is a position in the policy document (1-based line and column).
type pos struct{ line, col int32 }

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tNum
	tString
	tInterp
	tChar
	tOp
)

type token struct {
	kind  tokKind
	text  string // identifier or operator text; raw text for numbers
	val   Value  // literal value
	parts []interpPart
	p     pos
	end   int // byte offset just past the token
	start int // byte offset of the token
}

// interpPart is a piece of an interpolated string: literal text or a hole.
type interpPart struct {
	lit    string
	hole   bool
	src    string // hole expression text
	p      pos    // position of the hole expression
	srcOff int
	align  string
	format string
}

type lexer struct {
	src       string
	off       int
	line, col int32 // position of src[off]
	baseCol   int32 // column offset applied on the first line
	toks      []token
}

func (lx *lexer) errAt(p pos, format string, args ...any) {
	panic(&Error{Line: int(p.line), Col: int(p.col), Msg: sprintf(format, args...)})
}

func (lx *lexer) cur() pos { return pos{lx.line, lx.col} }

func (lx *lexer) advance(n int) {
	for i := 0; i < n && lx.off < len(lx.src); i++ {
		if lx.src[lx.off] == '\n' {
			lx.line++
			lx.col = 1
		} else if lx.src[lx.off]&0xC0 != 0x80 {
			lx.col++
		}
		lx.off++
	}
}

func (lx *lexer) peekc(k int) byte {
	if lx.off+k < len(lx.src) {
		return lx.src[lx.off+k]
	}
	return 0
}

// lex tokenizes the whole source.
func lex(src string, start pos) []token {
	lx := &lexer{src: src, line: start.line, col: start.col}
	for {
		t := lx.next()
		lx.toks = append(lx.toks, t)
		if t.kind == tEOF {
			return lx.toks
		}
		if len(lx.toks) > 200000 {
			lx.errAt(t.p, "expression too long")
		}
	}
}

var ops3 = []string{"<<=", "??="}
var ops2 = []string{"=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<", "::"}

func (lx *lexer) skipSpace() {
	for lx.off < len(lx.src) {
		c := lx.src[lx.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v':
			lx.advance(1)
		case c == '/' && lx.peekc(1) == '/':
			for lx.off < len(lx.src) && lx.src[lx.off] != '\n' {
				lx.advance(1)
			}
		case c == '/' && lx.peekc(1) == '*':
			p := lx.cur()
			lx.advance(2)
			for {
				if lx.off >= len(lx.src) {
					lx.errAt(p, "unterminated comment")
				}
				if lx.src[lx.off] == '*' && lx.peekc(1) == '/' {
					lx.advance(2)
					break
				}
				lx.advance(1)
			}
		case c >= 0x80:
			r, n := utf8.DecodeRuneInString(lx.src[lx.off:])
			if unicode.IsSpace(r) {
				lx.advance(n)
				continue
			}
			return
		default:
			return
		}
	}
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isIdentPart(r rune) bool  { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func (lx *lexer) next() token {
	lx.skipSpace()
	p := lx.cur()
	start := lx.off
	mk := func(k tokKind, text string, v Value) token {
		return token{kind: k, text: text, val: v, p: p, start: start, end: lx.off}
	}
	if lx.off >= len(lx.src) {
		return mk(tEOF, "", nil)
	}
	c := lx.src[lx.off]
	switch {
	case c == '"':
		s := lx.lexString(false)
		return mk(tString, "", s)
	case c == '@' && lx.peekc(1) == '"':
		lx.advance(1)
		s := lx.lexString(true)
		return mk(tString, "", s)
	case c == '$' && (lx.peekc(1) == '"' || (lx.peekc(1) == '@' && lx.peekc(2) == '"')):
		lx.advance(1)
		verb := false
		if lx.src[lx.off] == '@' {
			verb = true
			lx.advance(1)
		}
		parts := lx.lexInterp(verb)
		t := mk(tInterp, "", nil)
		t.parts = parts
		return t
	case c == '@' && lx.peekc(1) == '$' && lx.peekc(2) == '"':
		lx.advance(2)
		parts := lx.lexInterp(true)
		t := mk(tInterp, "", nil)
		t.parts = parts
		return t
	case c == '\'':
		ch := lx.lexChar()
		return mk(tChar, "", ch)
	case c >= '0' && c <= '9' || c == '.' && lx.peekc(1) >= '0' && lx.peekc(1) <= '9':
		v := lx.lexNumber()
		return mk(tNum, lx.src[start:lx.off], v)
	}
	r, n := utf8.DecodeRuneInString(lx.src[lx.off:])
	if isIdentStart(r) || c == '@' && lx.off+1 < len(lx.src) {
		if c == '@' { // @identifier escapes a keyword
			r2, _ := utf8.DecodeRuneInString(lx.src[lx.off+1:])
			if !isIdentStart(r2) {
				lx.errAt(p, "unexpected character '@'")
			}
			lx.advance(1)
			start = lx.off
		}
		for lx.off < len(lx.src) {
			r, n = utf8.DecodeRuneInString(lx.src[lx.off:])
			if !isIdentPart(r) {
				break
			}
			lx.advance(n)
		}
		return mk(tIdent, lx.src[start:lx.off], nil)
	}
	for _, o := range ops3 {
		if strings.HasPrefix(lx.src[lx.off:], o) {
			lx.advance(3)
			return mk(tOp, o, nil)
		}
	}
	for _, o := range ops2 {
		if strings.HasPrefix(lx.src[lx.off:], o) {
			if o == "?." && lx.peekc(2) >= '0' && lx.peekc(2) <= '9' {
				break
			}
			lx.advance(2)
			return mk(tOp, o, nil)
		}
	}
	if strings.ContainsRune("+-*/%&|^!~=<>?:;,.()[]{}", rune(c)) {
		lx.advance(1)
		return mk(tOp, string(c), nil)
	}
	lx.errAt(p, "unexpected character %q", r)
	return token{}
}

func (lx *lexer) lexEscape(b *strings.Builder) {
	p := lx.cur()
	lx.advance(1) // backslash
	if lx.off >= len(lx.src) {
		lx.errAt(p, "unterminated escape sequence")
	}
	c := lx.src[lx.off]
	lx.advance(1)
	switch c {
	case '\'', '"', '\\':
		b.WriteByte(c)
	case '0':
		b.WriteByte(0)
	case 'a':
		b.WriteByte(7)
	case 'b':
		b.WriteByte(8)
	case 'f':
		b.WriteByte(12)
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'v':
		b.WriteByte(11)
	case 'u', 'x', 'U':
		maxN := 4
		if c == 'U' {
			maxN = 8
		}
		n := 0
		var v uint64
		for n < maxN && lx.off < len(lx.src) && isHex(lx.src[lx.off]) {
			d, _ := strconv.ParseUint(lx.src[lx.off:lx.off+1], 16, 8)
			v = v*16 + d
			lx.advance(1)
			n++
		}
		if n == 0 || (c != 'x' && n != maxN) {
			lx.errAt(p, "invalid escape sequence")
		}
		if v > unicode.MaxRune {
			lx.errAt(p, "invalid escape sequence")
		}
		b.WriteRune(rune(v))
	default:
		lx.errAt(p, "unrecognized escape sequence '\\%c'", c)
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (lx *lexer) lexString(verbatim bool) string {
	p := lx.cur()
	lx.advance(1) // opening quote
	var b strings.Builder
	for {
		if lx.off >= len(lx.src) || (!verbatim && lx.src[lx.off] == '\n') {
			lx.errAt(p, "unterminated string literal")
		}
		c := lx.src[lx.off]
		switch {
		case c == '"' && verbatim && lx.peekc(1) == '"':
			b.WriteByte('"')
			lx.advance(2)
		case c == '"':
			lx.advance(1)
			return b.String()
		case c == '\\' && !verbatim:
			lx.lexEscape(&b)
		default:
			b.WriteByte(c)
			lx.advance(1)
		}
	}
}

func (lx *lexer) lexChar() Char {
	p := lx.cur()
	lx.advance(1)
	var b strings.Builder
	if lx.off < len(lx.src) && lx.src[lx.off] == '\\' {
		lx.lexEscape(&b)
	} else if lx.off < len(lx.src) && lx.src[lx.off] != '\'' && lx.src[lx.off] != '\n' {
		_, n := utf8.DecodeRuneInString(lx.src[lx.off:])
		b.WriteString(lx.src[lx.off : lx.off+n])
		lx.advance(n)
	}
	if lx.off >= len(lx.src) || lx.src[lx.off] != '\'' {
		lx.errAt(p, "invalid character literal")
	}
	lx.advance(1)
	u := toU16(b.String())
	if len(u) != 1 {
		lx.errAt(p, "invalid character literal")
	}
	return Char(u[0])
}

// lexInterp reads an interpolated string after the '$' (and '@'), at the quote.
func (lx *lexer) lexInterp(verbatim bool) []interpPart {
	p := lx.cur()
	lx.advance(1)
	var parts []interpPart
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			parts = append(parts, interpPart{lit: b.String()})
			b.Reset()
		}
	}
	for {
		if lx.off >= len(lx.src) || (!verbatim && lx.src[lx.off] == '\n') {
			lx.errAt(p, "unterminated interpolated string")
		}
		c := lx.src[lx.off]
		switch {
		case c == '"' && verbatim && lx.peekc(1) == '"':
			b.WriteByte('"')
			lx.advance(2)
		case c == '"':
			lx.advance(1)
			flush()
			return parts
		case c == '\\' && !verbatim:
			lx.lexEscape(&b)
		case c == '{' && lx.peekc(1) == '{':
			b.WriteByte('{')
			lx.advance(2)
		case c == '}' && lx.peekc(1) == '}':
			b.WriteByte('}')
			lx.advance(2)
		case c == '}':
			lx.errAt(lx.cur(), "unexpected '}' in interpolated string (write '}}')")
		case c == '{':
			flush()
			lx.advance(1)
			parts = append(parts, lx.lexHole())
		default:
			b.WriteByte(c)
			lx.advance(1)
		}
	}
}

// lexHole reads "expr[,align][:format]}" of an interpolation hole.
func (lx *lexer) lexHole() interpPart {
	hp := lx.cur()
	start := lx.off
	depth := 0
	exprEnd, alignStart := -1, -1
	for {
		if lx.off >= len(lx.src) {
			lx.errAt(hp, "unterminated interpolation hole")
		}
		c := lx.src[lx.off]
		switch {
		case c == '"' || c == '\'':
			if c == '"' {
				lx.lexString(false)
			} else {
				lx.lexChar()
			}
			continue
		case c == '@' && lx.peekc(1) == '"':
			lx.advance(1)
			lx.lexString(true)
			continue
		case c == '$' && lx.peekc(1) == '"':
			lx.advance(1)
			lx.lexInterp(false)
			continue
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']':
			depth--
		case c == '}' && depth > 0:
			depth--
		case c == ',' && depth == 0 && exprEnd < 0 && alignStart < 0:
			exprEnd = lx.off
			alignStart = lx.off + 1
		case (c == ':' && depth == 0) || (c == '}' && depth == 0):
			if c == ':' && lx.peekc(1) == ':' {
				lx.advance(2)
				continue
			}
			part := interpPart{hole: true, p: hp, srcOff: start}
			end := lx.off
			if exprEnd < 0 {
				exprEnd = end
			} else {
				part.align = strings.TrimSpace(lx.src[alignStart:end])
			}
			part.src = lx.src[start:exprEnd]
			if c == ':' {
				lx.advance(1)
				fs := lx.off
				for lx.off < len(lx.src) && lx.src[lx.off] != '}' {
					if lx.src[lx.off] == '\n' && true {
						break
					}
					lx.advance(1)
				}
				if lx.off >= len(lx.src) || lx.src[lx.off] != '}' {
					lx.errAt(hp, "unterminated interpolation format")
				}
				part.format = lx.src[fs:lx.off]
			}
			lx.advance(1)
			if strings.TrimSpace(part.src) == "" {
				lx.errAt(hp, "empty interpolation hole")
			}
			return part
		}
		lx.advance(1)
	}
}

func (lx *lexer) lexNumber() Value {
	p := lx.cur()
	start := lx.off
	isReal := false
	digits := func(hex bool) {
		for lx.off < len(lx.src) {
			c := lx.src[lx.off]
			if c >= '0' && c <= '9' || c == '_' || hex && isHex(c) {
				lx.advance(1)
				continue
			}
			break
		}
	}
	if lx.src[lx.off] == '0' && (lx.peekc(1) == 'x' || lx.peekc(1) == 'X') {
		lx.advance(2)
		digits(true)
		txt := strings.ReplaceAll(lx.src[start+2:lx.off], "_", "")
		u, err := strconv.ParseUint(txt, 16, 64)
		if err != nil {
			lx.errAt(p, "invalid number %q", lx.src[start:lx.off])
		}
		return lx.intSuffix(p, u)
	}
	if lx.src[lx.off] == '0' && (lx.peekc(1) == 'b' || lx.peekc(1) == 'B') {
		lx.advance(2)
		digits(false)
		txt := strings.ReplaceAll(lx.src[start+2:lx.off], "_", "")
		u, err := strconv.ParseUint(txt, 2, 64)
		if err != nil {
			lx.errAt(p, "invalid number %q", lx.src[start:lx.off])
		}
		return lx.intSuffix(p, u)
	}
	digits(false)
	if lx.off < len(lx.src) && lx.src[lx.off] == '.' && lx.peekc(1) >= '0' && lx.peekc(1) <= '9' {
		isReal = true
		lx.advance(1)
		digits(false)
	}
	if lx.off < len(lx.src) && (lx.src[lx.off] == 'e' || lx.src[lx.off] == 'E') {
		k := 1
		if lx.peekc(1) == '+' || lx.peekc(1) == '-' {
			k = 2
		}
		if lx.peekc(k) >= '0' && lx.peekc(k) <= '9' {
			isReal = true
			lx.advance(k)
			digits(false)
		}
	}
	txt := strings.ReplaceAll(lx.src[start:lx.off], "_", "")
	suf := byte(0)
	if lx.off < len(lx.src) {
		suf = lx.src[lx.off] | 0x20
	}
	switch suf {
	case 'm':
		lx.advance(1)
		if strings.ContainsAny(txt, "eE") {
			f, _ := strconv.ParseFloat(txt, 64)
			return decFromFloat(f)
		}
		d, ok := parseDecimal(txt)
		if !ok {
			lx.errAt(p, "invalid decimal literal")
		}
		return d
	case 'd', 'f':
		lx.advance(1)
		f, err := strconv.ParseFloat(txt, 64)
		if err != nil {
			lx.errAt(p, "invalid number %q", txt)
		}
		return f
	}
	if isReal {
		f, err := strconv.ParseFloat(txt, 64)
		if err != nil {
			lx.errAt(p, "invalid number %q", txt)
		}
		return f
	}
	u, err := strconv.ParseUint(txt, 10, 64)
	if err != nil {
		lx.errAt(p, "integral constant is too large: %s", txt)
	}
	return lx.intSuffix(p, u)
}

func (lx *lexer) intSuffix(p pos, u uint64) Value {
	long := false
	for lx.off < len(lx.src) {
		c := lx.src[lx.off] | 0x20
		if c == 'l' {
			long = true
		} else if c != 'u' {
			break
		}
		lx.advance(1)
	}
	if lx.off < len(lx.src) {
		r, _ := utf8.DecodeRuneInString(lx.src[lx.off:])
		if isIdentPart(r) {
			lx.errAt(p, "invalid numeric literal")
		}
	}
	if !long && u <= math.MaxInt32 {
		return int32(u)
	}
	if u > math.MaxInt64 {
		lx.errAt(p, "integral constant is too large")
	}
	return int64(u)
}
