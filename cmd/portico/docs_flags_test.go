package main

import (
	"bufio"
	"bytes"
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The documentation and the command line must agree: every --flag the docs
// name in the context of a portico command exists on some portico command,
// every flag of every command (as "portico <command> -h" lists it) is in
// the flag table of docs/operations.md, and every PORTICO_* variable the
// docs name is read by the code.

// docsFlagFiles are the pages checked, relative to the module root.
func docsFlagFiles(t *testing.T, root string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(root, "README.md"))
	if len(files) < 2 {
		t.Fatalf("no documentation found under %s", root)
	}
	return files
}

// moduleRoot is the directory holding go.mod, above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

var (
	usageCommandRE = regexp.MustCompile(`(?m)^\s+portico ([a-z][a-z-]*)\s`)
	helpFlagRE     = regexp.MustCompile(`(?m)^  -([a-z0-9][a-z0-9-]*)`)
)

// commandFlags runs "portico <command> -h" for every command of the usage
// text that takes flags and returns the flags each one lists.
func commandFlags(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, m := range usageCommandRE.FindAllStringSubmatch(usage, -1) {
		cmd := m[1]
		if cmd == "version" {
			continue
		}
		var stdout, stderr bytes.Buffer
		if code := run([]string{cmd, "-h"}, &stdout, &stderr); code != 0 {
			t.Fatalf("portico %s -h: exit code %d\n%s", cmd, code, stderr.String())
		}
		for _, f := range helpFlagRE.FindAllStringSubmatch(stderr.String(), -1) {
			out[cmd] = append(out[cmd], f[1])
		}
		if len(out[cmd]) == 0 {
			t.Fatalf("portico %s -h lists no flags (has the help format changed?):\n%s", cmd, stderr.String())
		}
	}
	for _, cmd := range []string{"serve", "mgmt", "gateway"} {
		if out[cmd] == nil {
			t.Fatalf("the usage text does not list %q:\n%s", cmd, usage)
		}
	}
	if !slices.Contains(out["serve"], "data-dir") {
		t.Fatalf("portico serve -h does not list --data-dir: %v", out["serve"])
	}
	return out
}

// A flag is written --name; an option of another tool (curl, jq, wrk, perf,
// ...) is told apart by the nearest command word before it in the same
// command: the code line (with its backslash continuations), or the prose
// paragraph. Without any, the flag is Portico's.
var (
	// docFlagRE matches --name, and --prefix-* for a family of flags.
	docFlagRE = regexp.MustCompile(`(^|[^A-Za-z0-9_-])--([a-z][a-z0-9-]*)(\*?)`)
	// toolRE matches a command word: not part of a longer name such as
	// portico-data or perf-portico-key.data.
	toolRE = regexp.MustCompile(`(^|[\s(\[` + "`" + `/|;=])(portico|curl|jq|wrk|perf|go|docker|kubectl|helm|openssl|sqlite3|psql|nginx|git|ss|taskset|sed|grep|tar)($|[^A-Za-z0-9_-])`)
)

// docFlag is one --flag occurrence in the docs.
type docFlag struct {
	name     string
	wildcard bool   // --name* names every flag starting with name
	where    string // file:line
}

// docFlags returns the portico flags the docs name.
func docFlags(t *testing.T, root string, files []string) []docFlag {
	t.Helper()
	var flags []docFlag
	for _, file := range files {
		rel, _ := filepath.Rel(root, file)
		for _, u := range docUnits(t, file) {
			for _, m := range docFlagRE.FindAllStringSubmatchIndex(u.text, -1) {
				start := m[4] - 2 // the "--"
				if tool := nearestTool(u.text[:start]); tool != "" && tool != "portico" {
					continue
				}
				line := u.line + strings.Count(u.text[:start], "\n")
				flags = append(flags, docFlag{name: u.text[m[4]:m[5]], wildcard: m[7] > m[6], where: rel + ":" + strconv.Itoa(line)})
			}
		}
	}
	return flags
}

// nearestTool is the last command word of s, or "".
func nearestTool(s string) string {
	ms := toolRE.FindAllStringSubmatch(s, -1)
	if len(ms) == 0 {
		return ""
	}
	return ms[len(ms)-1][2]
}

// docUnit is a span of a page within which a flag belongs to the nearest
// command before it: a paragraph of prose (or a table), or one command of a
// code block with its continuation lines.
type docUnit struct {
	text string
	line int // of the first line
}

func docUnits(t *testing.T, file string) []docUnit {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var units []docUnit
	var cur []string
	curLine, n, inCode := 0, 0, false
	flush := func() {
		if len(cur) > 0 {
			units = append(units, docUnit{text: strings.Join(cur, "\n"), line: curLine})
		}
		cur = nil
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case strings.HasPrefix(strings.TrimSpace(line), "```"):
			flush()
			inCode = !inCode
			continue
		case strings.TrimSpace(line) == "":
			flush()
			continue
		}
		if len(cur) == 0 {
			curLine = n
		}
		cur = append(cur, line)
		if inCode && !strings.HasSuffix(strings.TrimSpace(line), `\`) {
			flush() // a code line ends its command unless continued
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return units
}

func TestDocumentedFlagsExist(t *testing.T) {
	root := moduleRoot(t)
	known := map[string]bool{}
	for _, flags := range commandFlags(t) {
		for _, f := range flags {
			known[f] = true
		}
	}
	var unknown []string
	for _, f := range docFlags(t, root, docsFlagFiles(t, root)) {
		switch {
		case f.wildcard:
			found := false
			for k := range known {
				found = found || strings.HasPrefix(k, f.name)
			}
			if !found {
				unknown = append(unknown, "--"+f.name+"* ("+f.where+")")
			}
		case !known[f.name]:
			unknown = append(unknown, "--"+f.name+" ("+f.where+")")
		}
	}
	if len(unknown) > 0 {
		t.Errorf("the docs name flags that no portico command has (fix the docs, or add the command word of the other tool, e.g. curl, to the code line):\n  %s",
			strings.Join(unknown, "\n  "))
	}
}

// operationsFlagTable returns the flags named in the table rows of the
// Flags section of docs/operations.md.
func operationsFlagTable(t *testing.T, root string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Flags\n")
	if !ok {
		t.Fatal(`docs/operations.md has no "## Flags" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		for _, m := range docFlagRE.FindAllStringSubmatch(line, -1) {
			rows[m[2]] = true
		}
	}
	return rows
}

func TestEveryFlagIsDocumented(t *testing.T) {
	root := moduleRoot(t)
	documented := operationsFlagTable(t, root)
	missing := map[string][]string{}
	for cmd, flags := range commandFlags(t) {
		for _, f := range flags {
			if !documented[f] {
				missing["--"+f] = append(missing["--"+f], cmd)
			}
		}
	}
	if len(missing) > 0 {
		var lines []string
		for f, cmds := range missing {
			sort.Strings(cmds)
			lines = append(lines, f+" (portico "+strings.Join(cmds, ", ")+")")
		}
		sort.Strings(lines)
		t.Errorf("flags missing from the flag table of docs/operations.md:\n  %s", strings.Join(lines, "\n  "))
	}
}

var envVarRE = regexp.MustCompile(`(^|[^A-Za-z0-9_])(PORTICO_[A-Z0-9_]*)(\*?)`)

// codeEnvVars returns the PORTICO_* names in the string literals of the
// module's Go files (this file excepted), and the variable of every flag.
func codeEnvVars(t *testing.T, root string) map[string]bool {
	t.Helper()
	vars := map[string]bool{}
	for _, flags := range commandFlags(t) {
		for _, f := range flags {
			vars[envName(f)] = true
		}
	}
	self, _ := filepath.Abs("docs_flags_test.go")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || path == self {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fset := token.NewFileSet()
		var s scanner.Scanner
		s.Init(fset.AddFile(path, -1, len(src)), src, nil, 0)
		for {
			_, tok, lit := s.Scan()
			if tok == token.EOF {
				break
			}
			if tok != token.STRING || !strings.Contains(lit, "PORTICO_") {
				continue
			}
			for _, m := range envVarRE.FindAllStringSubmatch(lit, -1) {
				vars[m[2]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return vars
}

func TestDocumentedVariablesExist(t *testing.T) {
	root := moduleRoot(t)
	vars := codeEnvVars(t, root)
	var unknown []string
	for _, file := range docsFlagFiles(t, root) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, file)
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range envVarRE.FindAllStringSubmatch(line, -1) {
				name, wildcard := m[2], m[3] == "*"
				if wildcard {
					// PORTICO_* or PORTICO_SMTP_*: some variable must start so.
					found := false
					for v := range vars {
						if strings.HasPrefix(v, name) {
							found = true
							break
						}
					}
					if !found {
						unknown = append(unknown, name+"* ("+rel+":"+strconv.Itoa(i+1)+")")
					}
					continue
				}
				if !vars[name] {
					unknown = append(unknown, name+" ("+rel+":"+strconv.Itoa(i+1)+")")
				}
			}
		}
	}
	if len(unknown) > 0 {
		t.Errorf("the docs name PORTICO_* variables that the code never reads:\n  %s", strings.Join(unknown, "\n  "))
	}
}
