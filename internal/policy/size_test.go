package policy

import (
	"strings"
	"testing"
)

// padded returns a valid document with root root of exactly size bytes.
func padded(root string, size int) string {
	head, tail := "<"+root+"><!--", "--></"+root+">"
	return head + strings.Repeat("x", size-len(head)-len(tail)) + tail
}

// TestDocumentSizeLimit: the compiler refuses documents and fragments over
// MaxDocumentBytes (the snapshot's defence when the store holds one), and
// documents whose fragments, expanded, exceed MaxExpandedBytes.
func TestDocumentSizeLimit(t *testing.T) {
	if _, err := CompileDocument(padded("policies", MaxDocumentBytes), nil); err != nil {
		t.Fatalf("a document at the limit: %v", err)
	}
	_, err := CompileDocument(padded("policies", MaxDocumentBytes+1), &Env{Scope: "global"})
	if err == nil || !strings.Contains(err.Error(), "at most 262144 bytes (256 KiB)") {
		t.Fatalf("a document over the limit: err = %v", err)
	}
	if err := CompileFragment(padded("fragment", MaxDocumentBytes+1), nil); err == nil || !strings.Contains(err.Error(), "262144") {
		t.Fatalf("a fragment over the limit: err = %v", err)
	}

	frags := map[string]string{
		"big":  padded("fragment", MaxDocumentBytes),
		"huge": padded("fragment", MaxDocumentBytes+1),
	}
	env := &Env{Scope: "global", Fragment: func(id string) (string, bool) { s, ok := frags[id]; return s, ok }}
	include := func(id string, n int) string {
		return "<policies><inbound>" + strings.Repeat(`<include-fragment fragment-id="`+id+`"/>`, n) + "</inbound></policies>"
	}
	if _, err := CompileDocument(include("big", 3), env); err != nil {
		t.Fatalf("three inclusions of a 256 KiB fragment: %v", err)
	}
	_, err = CompileDocument(include("big", 4), env)
	if err == nil || !strings.Contains(err.Error(), "exceeds 1048576 bytes") {
		t.Fatalf("four inclusions of a 256 KiB fragment: err = %v", err)
	}
	_, err = CompileDocument(include("huge", 1), env)
	if err == nil || !strings.Contains(err.Error(), `policy fragment "huge" is 262145 bytes`) {
		t.Fatalf("a stored fragment over the limit: err = %v", err)
	}
}
