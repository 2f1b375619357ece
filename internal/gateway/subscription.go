package gateway

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/portico-gw/portico/internal/policy"
)

// authorize applies APIM's subscription rules to a routed request and
// records the subscription, product and user in req.
//
// A key is taken from the API's header, else from its query parameter. A
// presented key must belong to an active subscription whose scope covers
// the API (all APIs, the API, or a published product containing it),
// even when the API could be called without a key: a wrong key is never
// silently ignored. Without a key the call passes when the API does not
// require a subscription or a published product that does not require one
// contains it.
func (g *Gateway) authorize(req *Request, r *http.Request) *policy.Error {
	api := req.API
	key, found := subscriptionKey(r.Header, r.URL.RawQuery, api.KeyHeader, api.KeyQuery)
	if found {
		sub := req.Snapshot.SubscriptionByKey(key)
		product, ok := api.Admits(sub)
		if !ok {
			return errInvalidKey()
		}
		req.Subscription, req.SubscriptionID, req.UserID = sub, sub.ID, sub.UserID
		req.Product, req.SubscriptionKey = product, key
		return nil
	}
	if product, ok := api.OpenAccess(); ok {
		req.Product = product
		return nil
	}
	return errMissingKey()
}

// wwwAuthenticate is the challenge sent with a missing-key 401.
func (g *Gateway) wwwAuthenticate(r *http.Request, header string) string {
	realm := g.cfg.PublicURL
	if realm == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		realm = scheme + "://" + r.Host
	}
	return `AzureApiManagementKey realm="` + quoteSafe(realm) + `",name="` + quoteSafe(header) + `",type="header"`
}

// quoteSafe drops the characters that would break a quoted-string.
func quoteSafe(s string) string {
	if !strings.ContainsAny(s, "\"\\\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

// subscriptionKey returns the subscription key of a request: the first
// value of header (a canonical header name) when it is not empty, else the
// first value of the query parameter named query. found is false when
// neither holds a non-empty key.
func subscriptionKey(h http.Header, rawQuery, header, query string) (key string, found bool) {
	if vs := h[header]; len(vs) > 0 && vs[0] != "" {
		return vs[0], true
	}
	if v, ok := queryValue(rawQuery, query); ok && v != "" {
		return v, true
	}
	return "", false
}

// queryValue returns the decoded value of the first parameter of rawQuery
// whose decoded name is name. Pairs are separated by '&'; a pair whose name
// or value is not validly escaped is skipped, as url.ParseQuery skips it.
func queryValue(rawQuery, name string) (string, bool) {
	for rest := rawQuery; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		k, v, _ := strings.Cut(pair, "=")
		if !queryNameIs(k, name) {
			continue
		}
		if !strings.ContainsAny(v, "%+") {
			return v, true
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			continue
		}
		return dv, true
	}
	return "", false
}

// queryNameIs reports whether the escaped query parameter name k decodes to
// name.
func queryNameIs(k, name string) bool {
	if !strings.ContainsAny(k, "%+") {
		return k == name
	}
	dk, err := url.QueryUnescape(k)
	return err == nil && dk == name
}

// removeQueryParam returns rawQuery without the parameters whose decoded
// name is name. The other pairs are kept byte for byte and in order; when
// none is removed rawQuery itself is returned.
func removeQueryParam(rawQuery, name string) string {
	if rawQuery == "" {
		return rawQuery
	}
	var b strings.Builder
	removed := false
	first := true
	for rest, start := rawQuery, 0; ; {
		pair, after, more := strings.Cut(rest, "&")
		k, _, _ := strings.Cut(pair, "=")
		if queryNameIs(k, name) {
			if !removed {
				removed = true
				b.Grow(len(rawQuery))
				// Copy the pairs kept so far.
				if start > 0 {
					b.WriteString(rawQuery[:start-1])
					first = false
				}
			}
		} else if removed {
			if !first {
				b.WriteByte('&')
			}
			b.WriteString(pair)
			first = false
		}
		if !more {
			break
		}
		start += len(pair) + 1
		rest = after
	}
	if !removed {
		return rawQuery
	}
	return b.String()
}
