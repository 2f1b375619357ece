package policy

import (
	"strconv"
	"strings"
	"testing"
)

// benchDocument builds a <policies> document of about size bytes made of
// set-header policies with an expression each, on one line or one element
// a line.
func benchDocument(size int, oneLine bool) string {
	sep := "\n    "
	if oneLine {
		sep = ""
	}
	var b strings.Builder
	b.WriteString("<policies><inbound>")
	end := sep + "</inbound></policies>"
	for i := 0; ; i++ {
		el := sep + `<set-header name="X-H` + strconv.Itoa(i) + `" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("X-Tenant", "none"))</value></set-header>`
		if b.Len()+len(el)+len(end) > size {
			break
		}
		b.WriteString(el)
	}
	b.WriteString(end)
	return b.String()
}

// BenchmarkCompileDocument compiles documents of the same size written on
// one line and on many: the time per KB must be the same (positions are
// computed from a line table, not by rescanning the line).
func BenchmarkCompileDocument(b *testing.B) {
	// The first expression compiled builds the interpreter's tables: not
	// part of any document's cost.
	if _, err := CompileDocument(benchDocument(1024, false), nil); err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{16 << 10, MaxDocumentBytes} {
		for _, oneLine := range []bool{true, false} {
			name := "multi-line"
			if oneLine {
				name = "one-line"
			}
			doc := benchDocument(size, oneLine)
			b.Run(strconv.Itoa(size>>10)+"KiB/"+name, func(b *testing.B) {
				b.SetBytes(int64(len(doc)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := CompileDocument(doc, &Env{Scope: "global"}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(float64(len(doc))/1024), "ns/KB")
			})
		}
	}
}
