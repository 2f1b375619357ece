package router

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  string
		slash bool
		err   error
	}{
		{name: "root", in: "/", want: "/"},
		{name: "empty", in: "", want: "/"},
		{name: "plain", in: "/echo/resource", want: "/echo/resource"},
		{name: "trailing slash kept", in: "/a/b/", want: "/a/b/"},
		{name: "double slash kept", in: "/a//b", want: "/a//b"},
		{name: "escapes kept", in: "/a/b%20c/%C3%A9", want: "/a/b%20c/%C3%A9"},
		{name: "encoded dot inside a name", in: "/files/a%2ejson", want: "/files/a%2ejson"},
		{name: "dots inside a name", in: "/files/a..b/..c/d..", want: "/files/a..b/..c/d.."},
		{name: "semicolon parameter", in: "/a;v=1/b", want: "/a;v=1/b"},
		{name: "dot", in: "/a/./b", want: "/a/b"},
		{name: "trailing dot", in: "/a/.", want: "/a/"},
		{name: "dotdot", in: "/public/../internal/users", want: "/internal/users"},
		{name: "dotdot twice", in: "/a/b/../../c", want: "/c"},
		{name: "dotdot above root", in: "/../../etc/passwd", want: "/etc/passwd"},
		{name: "trailing dotdot", in: "/a/b/..", want: "/a/"},
		{name: "only dotdot", in: "/..", want: "/"},
		{name: "dotdot after empty segment", in: "/a//../b", want: "/a/b"},
		{name: "dot segments with escapes", in: "/a/%41/../b%20c", want: "/a/b%20c"},
		{name: "encoded slash", in: "/a%2Fb", want: "/a%2Fb", slash: true},
		{name: "encoded backslash", in: "/a%5cb", want: "/a%5cb", slash: true},
		{name: "raw backslash", in: `/a\b`, want: `/a\b`, slash: true},
		{name: "not absolute", in: "a/b", err: ErrPathNotAbsolute},
		{name: "asterisk", in: "*", err: ErrPathNotAbsolute},
		{name: "bad escape", in: "/a%zz", err: ErrPathBadEscape},
		{name: "short escape", in: "/a%2", err: ErrPathBadEscape},
		{name: "encoded NUL", in: "/a%00b", err: ErrPathNUL},
		{name: "raw NUL", in: "/a\x00b", err: ErrPathNUL},
		{name: "encoded dotdot", in: "/a/%2e%2e/b", err: ErrPathEncodedDot},
		{name: "half encoded dotdot", in: "/a/.%2E/b", err: ErrPathEncodedDot},
		{name: "encoded dot", in: "/a/%2e/b", err: ErrPathEncodedDot},
		{name: "dotdot semicolon", in: "/a/..;/b", err: ErrPathEncodedDot},
		{name: "dotdot parameter", in: "/a/..;jsessionid=1/b", err: ErrPathEncodedDot},
		{name: "three dots", in: "/a/.../b", err: ErrPathEncodedDot},
		{name: "dotdot space", in: "/a/..%20/b", err: ErrPathEncodedDot},
		{name: "dotdot before encoded slash", in: "/a/..%2fb", err: ErrPathEncodedDot},
		{name: "dotdot after encoded backslash", in: "/a/b%5C..", err: ErrPathEncodedDot},
		{name: "dotdot around raw backslash", in: `/a/..\b`, err: ErrPathEncodedDot},
		{name: "double encoded dot", in: "/a/%252e%252e/b", err: ErrPathDoubleEncoded},
		{name: "double encoded slash", in: "/a%252fb", err: ErrPathDoubleEncoded},
		{name: "double encoded backslash", in: "/a%255Cb", err: ErrPathDoubleEncoded},
		{name: "percent sign alone", in: "/100%25", want: "/100%25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, slash, err := CleanPath(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("CleanPath(%q) = %q, %v; want error %v", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want || slash != tt.slash {
				t.Fatalf("CleanPath(%q) = %q, %v, %v; want %q, %v", tt.in, got, slash, err, tt.want, tt.slash)
			}
		})
	}
}

func TestCleanPathAllocatesNothingWhenClean(t *testing.T) {
	p := "/echo/resource/items/42"
	n := testing.AllocsPerRun(100, func() {
		if got, _, _ := CleanPath(p); got != p {
			t.Fatal(got)
		}
	})
	if n != 0 {
		t.Fatalf("CleanPath allocated %v times for a clean path", n)
	}
}

// FuzzCleanPath checks the properties the gateway relies on: an accepted
// path starts with '/', holds no dot segment (not even one that a server
// decoding escapes, stripping ';' parameters or splitting on backslashes
// would see), and is a fixed point.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "/a/%2e%2e/b", "/a/..;/b", "/a%2f..%2fb", `/a\..\b`, "/a/%252e", "/./.././/x/", "/%00", "/a;b/..;c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, _, err := CleanPath(p)
		if err != nil {
			return
		}
		if !strings.HasPrefix(got, "/") {
			t.Fatalf("CleanPath(%q) = %q: not absolute", p, got)
		}
		again, _, err := CleanPath(got)
		if err != nil || again != got {
			t.Fatalf("CleanPath(%q) = %q, but CleanPath(%q) = %q, %v", p, got, got, again, err)
		}
		// Decode as a lenient backend would: escapes, backslashes as
		// slashes, parameters stripped, spaces trimmed.
		dec, err := url.PathUnescape(got)
		if err != nil {
			t.Fatalf("CleanPath(%q) = %q: undecodable: %v", p, got, err)
		}
		for _, seg := range strings.FieldsFunc(dec, func(r rune) bool { return r == '/' || r == '\\' }) {
			if i := strings.IndexByte(seg, ';'); i >= 0 {
				seg = seg[:i]
			}
			if strings.Trim(seg, ". ") == "" && strings.Contains(seg, ".") {
				t.Fatalf("CleanPath(%q) = %q: decodes to dot segment %q", p, got, seg)
			}
		}
	})
}

func BenchmarkCleanPath(b *testing.B) {
	for _, p := range []string{"/echo/resource/items/42", "/public/../internal/users"} {
		b.Run(p, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _, _ = CleanPath(p)
			}
		})
	}
}
