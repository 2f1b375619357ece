package router

import "errors"

// Reasons CleanPath refuses a request path. Each is safe to show to clients.
var (
	ErrPathNotAbsolute   = errors.New("the request path does not start with '/'")
	ErrPathBadEscape     = errors.New("the request path holds a malformed percent-encoding")
	ErrPathNUL           = errors.New("the request path holds a NUL character")
	ErrPathEncodedDot    = errors.New("the request path holds an encoded or decorated dot segment")
	ErrPathDoubleEncoded = errors.New("the request path holds a double-encoded dot, slash or backslash")
)

// CleanPath normalises an escaped request path (as url.URL.EscapedPath
// returns it) before it is routed and forwarded, so that the gateway and
// every backend agree on which resource is meant:
//
//   - dot segments "." and ".." are removed as RFC 3986 §5.2.4 says, never
//     climbing above the root; the result holds none;
//   - a path that cannot be normalised safely is refused with one of the
//     ErrPath* errors: a path that does not start with '/', a malformed
//     percent-encoding, a NUL (raw or "%00"), a dot segment written with
//     percent-encoding ("%2e%2e", ".%2E") or decorated so that some
//     servers still read it as one ("..;", "..;jsessionid=x", ". ", "..."),
//     and a double-encoded dot, slash or backslash ("%252e", "%252f",
//     "%255c");
//   - an encoded slash or backslash ("%2F", "%5C") is kept as it is and
//     reported in encodedSlash, so that the caller can refuse it unless the
//     matched API opts in (a backend that decodes it would otherwise see
//     other segments than the gateway routed).
//
// Everything else, the case of escapes included, is left unchanged. When p
// needs no change CleanPath returns p itself and allocates nothing. Its cost
// is linear in len(p).
func CleanPath(p string) (clean string, encodedSlash bool, err error) {
	if p == "" {
		return "/", false, nil
	}
	if p[0] != '/' {
		return "", false, ErrPathNotAbsolute
	}
	dots := false // a raw "." or ".." segment is present
	for start := 1; start <= len(p); {
		end := start
		for end < len(p) && p[end] != '/' {
			end++
		}
		seg := p[start:end]
		raw, slash, err := checkSegment(seg)
		if err != nil {
			return "", false, err
		}
		encodedSlash = encodedSlash || slash
		dots = dots || raw
		start = end + 1
	}
	if !dots {
		return p, encodedSlash, nil
	}
	return removeDotSegments(p), encodedSlash, nil
}

// checkSegment inspects one escaped path segment. dot reports a plain "."
// or ".." segment (to be resolved); slash an encoded slash or backslash.
//
// A part of the segment between encoded slashes or backslashes is checked
// as a segment of its own, since a backend that decodes them sees it as
// one: "..%2F" is refused even where an API allows encoded slashes.
func checkSegment(seg string) (dot, slash bool, err error) {
	if seg == "." || seg == ".." {
		return true, false, nil
	}
	// Within each part, decode dots and spaces up to the first ';' (a path
	// parameter, which Tomcat and others strip before resolving dot
	// segments) and refuse a part that is then nothing but dots and spaces.
	onlyDots, sawDot, params := true, false, false
	endPart := func() error {
		if onlyDots && sawDot {
			return ErrPathEncodedDot
		}
		onlyDots, sawDot, params = true, false, false
		return nil
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch c {
		case 0:
			return false, false, ErrPathNUL
		case '%':
			if i+2 >= len(seg) || !ishex(seg[i+1]) || !ishex(seg[i+2]) {
				return false, false, ErrPathBadEscape
			}
			v := unhex(seg[i+1])<<4 | unhex(seg[i+2])
			i += 2
			switch v {
			case 0:
				return false, false, ErrPathNUL
			case '/', '\\':
				slash = true
				if err := endPart(); err != nil {
					return false, false, err
				}
				continue
			case '%':
				// "%25" followed by the hex of a dot, slash or backslash
				// decodes to an escape that a second decoding acts on.
				if i+2 < len(seg) && ishex(seg[i+1]) && ishex(seg[i+2]) {
					switch unhex(seg[i+1])<<4 | unhex(seg[i+2]) {
					case '.', '/', '\\':
						return false, false, ErrPathDoubleEncoded
					}
				}
			}
			if !params {
				switch v {
				case '.':
					sawDot = true
				case ' ':
				default:
					onlyDots = false
				}
			}
		case '\\':
			// Go escapes a raw backslash as %5C; one that reaches us raw
			// is taken the same way.
			slash = true
			if err := endPart(); err != nil {
				return false, false, err
			}
		case ';':
			params = true
		default:
			if params {
				continue
			}
			switch c {
			case '.':
				sawDot = true
			case ' ':
			default:
				onlyDots = false
			}
		}
	}
	// The last part: a plain "." or ".." segment returned above, so a part
	// of dots here is encoded, decorated or follows an encoded slash.
	if err := endPart(); err != nil {
		return false, false, err
	}
	return false, slash, nil
}

// removeDotSegments resolves the plain "." and ".." segments of an
// absolute path (RFC 3986 §5.2.4). A trailing "." or ".." leaves a
// trailing slash, as the RFC's algorithm does.
func removeDotSegments(p string) string {
	out := make([]byte, 0, len(p))
	for start := 1; start <= len(p); {
		end := start
		for end < len(p) && p[end] != '/' {
			end++
		}
		seg := p[start:end]
		last := end >= len(p)
		switch seg {
		case ".":
			if last {
				out = append(out, '/')
			}
		case "..":
			// Drop the last output segment, "/x", if any.
			i := len(out) - 1
			for i >= 0 && out[i] != '/' {
				i--
			}
			if i >= 0 {
				out = out[:i]
			}
			if last {
				out = append(out, '/')
			}
		default:
			out = append(out, '/')
			out = append(out, seg...)
		}
		start = end + 1
	}
	if len(out) == 0 {
		return "/"
	}
	return string(out)
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
