package expr

import (
	"html"
	"strings"
)

// registerWebUtility registers System.Net.WebUtility.
func registerWebUtility() {
	t := defType("WebUtility")
	t.static("UrlEncode", "string(1)", func(e *env, a []Value, cs *callSite) Value {
		s, ok := argStrOrNull(a, 0, cs)
		if !ok {
			return nil
		}
		return escapeData(s, func(c byte) bool {
			return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!*()", c) >= 0
		}, true)
	})
	t.static("UrlDecode", "string(1)", func(e *env, a []Value, cs *callSite) Value {
		s, ok := argStrOrNull(a, 0, cs)
		if !ok {
			return nil
		}
		return unescapeData(s, true)
	})
	t.static("HtmlEncode", "string(1)", func(e *env, a []Value, cs *callSite) Value {
		s, ok := argStrOrNull(a, 0, cs)
		if !ok {
			return nil
		}
		return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;", "'", "&#39;").Replace(s)
	})
	t.static("HtmlDecode", "string(1)", func(e *env, a []Value, cs *callSite) Value {
		s, ok := argStrOrNull(a, 0, cs)
		if !ok {
			return nil
		}
		return html.UnescapeString(s)
	})

}
