package router

import "strings"

// smallTable is the number of keys up to which a litTable is searched
// linearly; larger tables use a hash index.
const smallTable = 8

// litTable maps lowercase ASCII keys to values and is looked up with
// ASCII-case-insensitive keys without allocating: the index is keyed by a
// case-folding hash of the key, so a request segment never has to be
// lowercased into a new string. Lookups cost O(len(key)) regardless of the
// number of entries.
type litTable[T any] struct {
	keys  []string            // lowercase keys, in insertion order
	vals  []T                 // vals[i] belongs to keys[i]
	index map[uint64][]uint32 // foldHash(key) -> positions; nil while small
}

// get returns the value whose key equals s ignoring ASCII case.
func (t *litTable[T]) get(s string) (v T, ok bool) {
	if t.index == nil {
		for i, k := range t.keys {
			if equalFold(k, s) {
				return t.vals[i], true
			}
		}
		return v, false
	}
	for _, i := range t.index[foldHash(s)] {
		if equalFold(t.keys[i], s) {
			return t.vals[i], true
		}
	}
	return v, false
}

// put adds key (which must be lowercase and absent) with value v.
func (t *litTable[T]) put(key string, v T) {
	t.keys = append(t.keys, key)
	t.vals = append(t.vals, v)
	switch {
	case t.index != nil:
		h := foldHash(key)
		t.index[h] = append(t.index[h], uint32(len(t.keys)-1))
	case len(t.keys) > smallTable:
		t.index = make(map[uint64][]uint32, len(t.keys))
		for i, k := range t.keys {
			h := foldHash(k)
			t.index[h] = append(t.index[h], uint32(i))
		}
	}
}

// getOrPut returns the value for key (lowercase), creating it with mk if absent.
func (t *litTable[T]) getOrPut(key string, mk func() T) T {
	if v, ok := t.get(key); ok {
		return v
	}
	v := mk()
	t.put(key, v)
	return v
}

// foldHash is 64-bit FNV-1a over the ASCII-lowercased bytes of s.
func foldHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(lower(s[i]))
		h *= 1099511628211
	}
	return h
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// equalFold reports whether lowerKey (all lowercase) equals s ignoring ASCII
// case. Non-ASCII bytes must match exactly.
func equalFold(lowerKey, s string) bool {
	if len(lowerKey) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lowerKey[i] != lower(s[i]) {
			return false
		}
	}
	return true
}

// equalFoldASCII reports whether a and b are equal ignoring ASCII case.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// hasPrefixFold reports whether s starts with lowerPrefix ignoring ASCII case.
func hasPrefixFold(s, lowerPrefix string) bool {
	return len(s) >= len(lowerPrefix) && equalFold(lowerPrefix, s[:len(lowerPrefix)])
}

// hasSuffixFold reports whether s ends with lowerSuffix ignoring ASCII case.
func hasSuffixFold(s, lowerSuffix string) bool {
	return len(s) >= len(lowerSuffix) && equalFold(lowerSuffix, s[len(s)-len(lowerSuffix):])
}

// lowerASCII lowercases ASCII letters only (unlike strings.ToLower, which
// also folds non-ASCII runes and could disagree with equalFold).
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lower(b[j])
			}
			return string(b)
		}
	}
	return s
}

// hostKey reduces a Host header or configured host to the part that is
// compared: the port and IPv6 brackets are removed, as is one trailing dot.
// "Example.com:8080" -> "Example.com", "[::1]:443" -> "::1". It returns a
// substring of host and never allocates; case is left to the caller.
func hostKey(host string) string {
	if strings.HasPrefix(host, "[") {
		if j := strings.IndexByte(host, ']'); j > 0 {
			host = host[1:j]
		}
	} else if i := strings.IndexByte(host, ':'); i >= 0 && strings.IndexByte(host[i+1:], ':') < 0 {
		host = host[:i]
	}
	return strings.TrimSuffix(host, ".")
}
