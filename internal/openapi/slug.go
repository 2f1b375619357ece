package openapi

import (
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/model"
)

func isLower(r rune) bool { return r >= 'a' && r <= 'z' }
func isUpper(r rune) bool { return r >= 'A' && r <= 'Z' }
func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// slug turns s into an id of lowercase ASCII letters, digits, '-' and '_':
// camelCase boundaries and every other character become '-', runs of '-'
// collapse, leading and trailing '-' go, and the result is cut to
// model.MaxIDLength. "getUserById" gives "get-user-by-id", "HTTPServer"
// "http-server". The result may be empty.
func slug(s string) string {
	rs := []rune(s)
	b := make([]byte, 0, len(rs))
	dash := func() {
		if len(b) > 0 && b[len(b)-1] != '-' {
			b = append(b, '-')
		}
	}
	for i, r := range rs {
		switch {
		case isLower(r) || isDigit(r) || r == '_':
			b = append(b, byte(r))
		case isUpper(r):
			if i > 0 {
				p := rs[i-1]
				if isLower(p) || isDigit(p) || (isUpper(p) && i+1 < len(rs) && isLower(rs[i+1])) {
					dash()
				}
			}
			b = append(b, byte(r-'A'+'a'))
		default:
			dash()
		}
		if len(b) > 2*model.MaxIDLength {
			break
		}
	}
	out := strings.Trim(string(b), "-")
	if len(out) > model.MaxIDLength {
		out = strings.TrimRight(out[:model.MaxIDLength], "-")
	}
	return out
}

// operationID picks the id of an operation: its operationId slugged, or
// else one made from the method and path ("get-users-id" for GET
// /users/{id}), made unique among used with "-2", "-3", ...
func operationID(operationID, method, path string, used map[string]bool) string {
	base := slug(operationID)
	if base == "" {
		base = slug(strings.ToLower(method) + "-" + path)
	}
	if base == "" {
		base = "operation"
	}
	return uniqueID(base, used)
}

// uniqueID returns base, or base with the smallest "-N" suffix (N >= 2)
// that is not in used, keeping within model.MaxIDLength, and marks it used.
func uniqueID(base string, used map[string]bool) string {
	id := base
	for n := 2; used[id]; n++ {
		suf := "-" + strconv.Itoa(n)
		b := base
		if len(b)+len(suf) > model.MaxIDLength {
			b = strings.TrimRight(b[:model.MaxIDLength-len(suf)], "-")
		}
		id = b + suf
	}
	used[id] = true
	return id
}

// truncate cuts s to at most max bytes without splitting a UTF-8 sequence.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && i < len(s) && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i]
}
