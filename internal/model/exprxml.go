package model

import (
	"sort"
	"strings"
)

// APIM policy documents are not strict XML: policy expressions are written
// as C#, in attribute values and element text, with raw quotes, '<' (generic
// arguments such as As<JObject>()) and '&&'. For example:
//
//	<set-variable name="auth" value="@(context.Request.Headers.GetValueOrDefault("Authorization", ""))" />
//
// EscapeExpressions makes such a document well-formed XML by escaping, inside
// every @(...) and @{...}, the characters XML would stumble on: '<', '&' when
// it does not start an entity, and the quote delimiting the attribute the
// expression sits in. Already-escaped documents (&quot;, &lt;, &amp;) are
// left as they are, so both forms parse to the same expression text.
//
// The returned function maps a byte offset in the escaped document back to
// the offset in doc, so that errors report the original line and column.
func EscapeExpressions(doc string) (string, func(int) int) {
	var b strings.Builder
	// escaped offsets where a growth starts and ends, cumulative growth
	type shift struct{ start, at, total int }
	var shifts []shift
	grow := 0
	emit := func(s string, origLen int) {
		start := b.Len()
		b.WriteString(s)
		if d := len(s) - origLen; d != 0 {
			grow += d
			shifts = append(shifts, shift{start: start, at: b.Len(), total: grow})
		}
	}
	const (
		inText = iota
		inTag
		inAttr
	)
	state, delim := inText, byte(0)
	for i := 0; i < len(doc); {
		c := doc[i]
		switch {
		case state == inText && strings.HasPrefix(doc[i:], "<!--"):
			end := strings.Index(doc[i+4:], "-->")
			j := len(doc)
			if end >= 0 {
				j = i + 4 + end + 3
			}
			b.WriteString(doc[i:j])
			i = j
			continue
		case state == inText && strings.HasPrefix(doc[i:], "<![CDATA["):
			end := strings.Index(doc[i:], "]]>")
			j := len(doc)
			if end >= 0 {
				j = i + end + 3
			}
			b.WriteString(doc[i:j])
			i = j
			continue
		case state == inText && c == '<':
			state = inTag
		case state == inTag && (c == '"' || c == '\''):
			state, delim = inAttr, c
		case state == inTag && c == '>':
			state = inText
		case state == inAttr && c == delim:
			state = inTag
		case (state == inText || state == inAttr) && c == '@' && i+1 < len(doc) && (doc[i+1] == '(' || doc[i+1] == '{'):
			end := exprEnd(doc, i+1)
			if end < 0 {
				break // unbalanced: leave it to the XML parser to complain
			}
			q := byte(0)
			if state == inAttr {
				q = delim
			}
			for j := i; j < end; j++ {
				switch ch := doc[j]; {
				case ch == '<':
					emit("&lt;", 1)
				case ch == '&' && !startsEntity(doc[j:]):
					emit("&amp;", 1)
				case q != 0 && ch == q:
					if q == '"' {
						emit("&quot;", 1)
					} else {
						emit("&apos;", 1)
					}
				default:
					b.WriteByte(ch)
				}
			}
			i = end
			continue
		}
		b.WriteByte(c)
		i++
	}
	back := func(off int) int {
		// the last shift that ended at or before off
		k := sort.Search(len(shifts), func(k int) bool { return shifts[k].at > off })
		if k < len(shifts) && off > shifts[k].start {
			off = shifts[k].start // inside an escape: the character it stands for
		}
		if k == 0 {
			return off
		}
		o := off - shifts[k-1].total
		if o < 0 {
			o = 0
		}
		return o
	}
	return b.String(), back
}

func startsEntity(s string) bool {
	for _, e := range []string{"&lt;", "&gt;", "&amp;", "&quot;", "&apos;", "&#"} {
		if strings.HasPrefix(s, e) {
			return true
		}
	}
	return false
}

// exprEnd returns the offset just past the bracket that closes the one at
// open (a '(' or '{' of an expression), skipping C# strings, characters and
// comments; -1 when it is not closed.
func exprEnd(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch c := s[i]; c {
		case '(', '{', '[':
			depth++
		case ')', '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		case '"':
			verbatim := i > 0 && s[i-1] == '@' || i > 1 && s[i-2] == '@' && s[i-1] == '$'
			interp := i > 0 && s[i-1] == '$' || i > 1 && s[i-2] == '$' && s[i-1] == '@'
			j := skipString(s, i+1, verbatim, interp)
			if j < 0 {
				return -1
			}
			i = j - 1
		case '\'':
			j := i + 1
			for j < len(s) && s[j] != '\'' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return -1
			}
			i = j
		case '/':
			if i+1 < len(s) && s[i+1] == '/' {
				for i < len(s) && s[i] != '\n' {
					i++
				}
			} else if i+1 < len(s) && s[i+1] == '*' {
				end := strings.Index(s[i+2:], "*/")
				if end < 0 {
					return -1
				}
				i += 2 + end + 1
			}
		}
	}
	return -1
}

// skipString returns the offset past the closing quote of a string literal
// whose content starts at i.
func skipString(s string, i int, verbatim, interp bool) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			if verbatim && i+1 < len(s) && s[i+1] == '"' {
				i += 2
				continue
			}
			return i + 1
		case c == '\\' && !verbatim:
			i += 2
			continue
		case interp && c == '{':
			if i+1 < len(s) && s[i+1] == '{' {
				i += 2
				continue
			}
			j := exprEnd(s, i)
			if j < 0 {
				return -1
			}
			i = j
			continue
		}
		i++
	}
	return -1
}
