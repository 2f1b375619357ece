package policy

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestPositionsMatchScan checks the line table against a plain scan, on
// lines long and short, with multi-byte runes across table blocks.
func TestPositionsMatchScan(t *testing.T) {
	scan := func(s string, off int) (int, int) {
		line, start := 1, 0
		for i := 0; i < off; i++ {
			if s[i] == '\n' {
				line, start = line+1, i+1
			}
		}
		return line, utf8.RuneCountInString(s[start:off]) + 1
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "<x>", "é", "€", "𝄞", "\n", "\r\n", "  ", strings.Repeat("z", 70)}
	for n := range 200 {
		var b strings.Builder
		for range rng.IntN(n + 1) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		p := newPositions(s)
		for off := 0; off <= len(s); off++ {
			if off < len(s) && !utf8.RuneStart(s[off]) {
				continue
			}
			gl, gc := p.at(off)
			wl, wc := scan(s, off)
			if gl != wl || gc != wc {
				t.Fatalf("%q at %d: got %d:%d, want %d:%d", s, off, gl, gc, wl, wc)
			}
		}
	}
}

// TestCompileOneLinePositions checks that an error deep in a one-line
// document is reported at the right column.
func TestCompileOneLinePositions(t *testing.T) {
	doc := benchDocument(64<<10, true)
	doc = strings.Replace(doc, "</inbound>", `<set-header name="é" exists-action="sometimes"/></inbound>`, 1)
	_, err := CompileDocument(doc, &Env{Scope: "global"})
	ce, ok := err.(*CompileError)
	if !ok {
		t.Fatalf("err = %v, want a *CompileError", err)
	}
	want := utf8.RuneCountInString(doc[:strings.Index(doc, `exists-action="sometimes"`)]) + 1
	if ce.Line != 1 || ce.Col != want {
		t.Fatalf("error at %d:%d, want 1:%d (%v)", ce.Line, ce.Col, want, err)
	}
}
