package policy

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestEveryPolicyDocumentedAndGolden keeps the structure honest: every
// policy of the registry (factories) has a "### name" section in
// docs/policies.md (possibly grouped: "### rate-limit, rate-limit-by-key (I)")
// and appears as an element of at least one golden document
// (testdata/*.xml with its .golden, compared by TestGolden).
func TestEveryPolicyDocumentedAndGolden(t *testing.T) {
	documented, err := documentedPolicies("../../docs/policies.md")
	if err != nil {
		t.Fatal(err)
	}
	inGolden, err := goldenElements("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range factories() {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !documented[n] {
			t.Errorf("policy %q has no ### section in docs/policies.md", n)
		}
		if !inGolden[n] {
			t.Errorf("policy %q appears in no golden document (internal/policy/testdata/*.xml with a .golden)", n)
		}
	}
}

// headingParens matches the parenthesised sections of a heading, e.g. "(I B)".
var headingParens = regexp.MustCompile(`\([^)]*\)`)

// documentedPolicies returns the policy names of the level-3 headings of
// the policies page: "### a, b (I)" and "### choose / when / otherwise (all)"
// name several.
func documentedPolicies(path string) (map[string]bool, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, line := range strings.Split(string(src), "\n") {
		h, ok := strings.CutPrefix(line, "### ")
		if !ok {
			continue
		}
		h = headingParens.ReplaceAllString(h, ",")
		for _, part := range strings.FieldsFunc(h, func(r rune) bool { return r == ',' || r == '/' }) {
			if p := strings.Trim(strings.TrimSpace(part), "`"); p != "" {
				names[p] = true
			}
		}
	}
	return names, nil
}

// goldenElements returns the element names used by the golden documents of
// dir: each *.xml that has a .golden beside it.
func goldenElements(dir string) (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, f := range files {
		if _, err := os.Stat(strings.TrimSuffix(f, ".xml") + ".golden"); err != nil {
			continue
		}
		src, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		d := xml.NewDecoder(src)
		for {
			tok, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				src.Close()
				return nil, err
			}
			if se, ok := tok.(xml.StartElement); ok {
				names[se.Name.Local] = true
			}
		}
		src.Close()
	}
	return names, nil
}

// TestDocumentedPolicies checks the heading parser of the meta-test above.
func TestDocumentedPolicies(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "p.md")
	doc := "## Implemented\n### rate-limit, rate-limit-by-key (I)\n### choose / when / otherwise (all)\n### cache-lookup (I), cache-store (O)\n#### not-a-policy\n"
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := documentedPolicies(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"rate-limit", "rate-limit-by-key", "choose", "when", "otherwise", "cache-lookup", "cache-store"} {
		if !got[n] {
			t.Errorf("%q not found in %v", n, got)
		}
	}
	if got["not-a-policy"] || got["I"] || got["all"] {
		t.Errorf("unexpected names in %v", got)
	}
}
