package policy

import (
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/portico-gw/portico/internal/policy/expr"
)

// validateJWT is <validate-jwt header-name|query-parameter-name|token-value
// failed-validation-httpcode failed-validation-error-message
// require-expiration-time require-scheme require-signed-tokens clock-skew
// output-token-variable-name> with <openid-config url/>,
// <issuer-signing-keys><key/></issuer-signing-keys>, <audiences>,
// <issuers> and <required-claims>.
type validateJWT struct {
	StepInfo
	header, query string
	token         Value
	fromValue     bool
	status        int
	message       string
	requireExp    bool
	scheme        string
	skew          time.Duration
	outputVar     string
	static        jwk.Set
	openid        []string  // URLs of OpenID configurations
	keys          *KeyCache // holds their keys: the gateway's (Env.Keys)
	audiences     []string
	issuers       []string
	claims        []requiredClaim
}

type requiredClaim struct {
	name, match, sep string
	values           []string
}

func newValidateJWT(b *Builder) (Step, error) {
	s := &validateJWT{StepInfo: b.Info(), static: jwk.NewSet()}
	s.header = b.Str("header-name", false)
	s.query = b.Str("query-parameter-name", false)
	if b.Has("token-value") {
		s.token, s.fromValue = b.Val("token-value", false), true
	}
	n := 0
	for _, set := range []bool{s.header != "", s.query != "", s.fromValue} {
		if set {
			n++
		}
	}
	if n != 1 {
		b.Errorf("", "exactly one of header-name, query-parameter-name and token-value is required")
	}
	s.status = int(b.Int("failed-validation-httpcode", false, http.StatusUnauthorized, 100))
	s.message = b.Str("failed-validation-error-message", false)
	s.requireExp = b.Bool("require-expiration-time", true)
	s.scheme = b.Str("require-scheme", false)
	if !b.Bool("require-signed-tokens", true) {
		b.Errorf("require-signed-tokens", "unsigned tokens are never accepted by Portico: remove require-signed-tokens=\"false\"")
	}
	s.skew = time.Duration(b.Int("clock-skew", false, 0, 0)) * time.Second
	s.outputVar = b.Str("output-token-variable-name", false)
	for _, ch := range b.Children("openid-config", "issuer-signing-keys", "decryption-keys", "audiences", "issuers", "required-claims") {
		switch ch.Node().Name {
		case "openid-config":
			ch.NoChildren()
			raw := ch.Str("url", true)
			if u, err := url.Parse(raw); ch.Err() == nil && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
				ch.Errorf("url", "attribute \"url\" must be an http(s) URL of an OpenID configuration document")
			} else if ch.Err() == nil {
				s.openid = append(s.openid, raw)
			}
		case "issuer-signing-keys":
			for _, k := range ch.Children("key") {
				if err := addSigningKey(s.static, k); err != nil {
					k.Errorf("", "%v", err)
				}
				ch.Close(k)
			}
		case "decryption-keys":
			ch.Errorf("", "encrypted tokens (decryption-keys) are not supported by Portico yet")
		case "audiences", "issuers":
			var list []string
			for _, v := range ch.Children(strings.TrimSuffix(ch.Node().Name, "s")) {
				v.NoChildren()
				list = append(list, strings.TrimSpace(v.Node().Text))
				ch.Close(v)
			}
			if ch.Node().Name == "audiences" {
				s.audiences = list
			} else {
				s.issuers = list
			}
		case "required-claims":
			for _, cl := range ch.Children("claim") {
				rc := requiredClaim{name: cl.Str("name", true), match: cl.Enum("match", "all", "all", "any"), sep: cl.Str("separator", false)}
				for _, v := range cl.Children("value") {
					v.NoChildren()
					rc.values = append(rc.values, strings.TrimSpace(v.Node().Text))
					cl.Close(v)
				}
				s.claims = append(s.claims, rc)
				ch.Close(cl)
			}
		}
		b.Close(ch)
	}
	if b.Err() == nil && s.static.Len() == 0 && len(s.openid) == 0 {
		b.Errorf("", "<validate-jwt> needs signing keys: <openid-config url=\"…\"/> or <issuer-signing-keys>")
	}
	if len(s.openid) > 0 {
		if s.keys = b.Env().Keys; s.keys == nil {
			s.keys = NewKeyCache(KeyCacheOptions{}) // no gateway: the step keeps its own
		}
	}
	return s, b.Err()
}

// addSigningKey reads <key>base64 symmetric key</key> or <key n="…" e="…"/>
// (an RSA public key, base64url modulus and exponent).
func addSigningKey(set jwk.Set, k *Builder) error {
	var raw any
	switch n, e := k.Str("n", false), k.Str("e", false); {
	case n != "" || e != "":
		nb, err1 := base64.RawURLEncoding.DecodeString(strings.TrimRight(n, "="))
		eb, err2 := base64.RawURLEncoding.DecodeString(strings.TrimRight(e, "="))
		if err1 != nil || err2 != nil || len(nb) == 0 || len(eb) == 0 || len(eb) > 8 {
			return errors.New("attributes n and e must be the base64url modulus and exponent of an RSA key")
		}
		raw = &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
	default:
		text := strings.TrimSpace(k.Node().Text)
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			if b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(text, "=")); err != nil {
				return errors.New("a symmetric <key> must be base64-encoded")
			}
		}
		if len(b) < 16 {
			return errors.New("a symmetric <key> must be at least 128 bits")
		}
		raw = b
	}
	key, err := jwk.Import(raw)
	if err != nil {
		return err
	}
	return set.AddKey(key)
}

func (s *validateJWT) describe() string {
	src := "header " + s.header
	switch {
	case s.query != "":
		src = "query " + s.query
	case s.fromValue:
		src = "value " + q(s.token)
	}
	return fmt.Sprintf("%s status=%d keys=%d openid=%d audiences=%v issuers=%v claims=%d", src, s.status, s.static.Len(), len(s.openid), s.audiences, s.issuers, len(s.claims))
}

func (s *validateJWT) fail(reason, msg string) error {
	if s.message != "" {
		msg = s.message
	}
	return &Error{Status: s.status, Reason: reason, Message: msg}
}

func (s *validateJWT) Apply(c *Context) error {
	var raw string
	switch {
	case s.header != "":
		raw = c.Request.Header.Get(s.header)
	case s.query != "":
		if q, err := url.ParseQuery(c.Request.RawQuery); err == nil {
			raw = q.Get(s.query)
		}
	default:
		v, err := s.token.String(c)
		if err != nil {
			return err
		}
		raw = v
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return s.fail(ReasonTokenNotPresent, "JWT not present.")
	}
	if scheme, rest, ok := strings.Cut(raw, " "); ok {
		if s.scheme != "" && !strings.EqualFold(scheme, s.scheme) {
			return s.fail(ReasonTokenSchemeNotAllowed, "JWT scheme is not allowed.")
		}
		raw = strings.TrimSpace(rest)
	} else if s.scheme != "" && s.header != "" {
		return s.fail(ReasonTokenSchemeNotAllowed, "JWT scheme is not allowed.")
	}
	tok, err := s.verify(c, raw, false)
	if err != nil {
		return err
	}
	now := c.now()
	exp, hasExp := tok.Expiration()
	switch {
	case !hasExp && s.requireExp:
		return s.fail(ReasonTokenExpired, "JWT has no expiration time.")
	case hasExp && !now.Before(exp.Add(s.skew)):
		return s.fail(ReasonTokenExpired, "JWT has expired.")
	}
	if nbf, ok := tok.NotBefore(); ok && now.Add(s.skew).Before(nbf) {
		return s.fail(ReasonTokenNotYetValid, "JWT is not valid yet.")
	}
	if len(s.audiences) > 0 {
		aud, _ := tok.Audience()
		if !anyIn(aud, s.audiences) {
			return s.fail(ReasonTokenAudienceNotAllowed, "Audience is not allowed.")
		}
	}
	if len(s.issuers) > 0 {
		iss, _ := tok.Issuer()
		if !anyIn([]string{iss}, s.issuers) {
			return s.fail(ReasonTokenIssuerNotAllowed, "Issuer is not allowed.")
		}
	}
	for _, rc := range s.claims {
		if err := s.checkClaim(tok, rc); err != nil {
			return err
		}
	}
	if s.outputVar != "" {
		c.SetVar(s.outputVar, expr.ParseJwt(raw))
	}
	return nil
}

// verify checks the signature with the configured keys; with OpenID
// configurations, an unknown key id refreshes the keys once (rotation).
// Keys are fetched under the request's context: when it ends first, the
// step fails as the request ended (see requestEnded).
func (s *validateJWT) verify(c *Context, raw string, refreshed bool) (jwt.Token, error) {
	set := s.static
	if len(s.openid) > 0 {
		set = jwk.NewSet()
		for i := 0; i < s.static.Len(); i++ {
			k, _ := s.static.Key(i)
			_ = set.AddKey(k)
		}
		ctx := c.requestContext()
		for _, u := range s.openid {
			keys, err := s.keys.Keys(ctx, u, refreshed)
			if err != nil && ctx.Err() != nil {
				return nil, requestEnded(ctx.Err(), "the signing keys of validate-jwt were fetched")
			}
			if err != nil {
				return nil, &Error{Status: http.StatusInternalServerError, Reason: ReasonTokenSignatureInvalid, Message: "Internal server error", Err: err}
			}
			for i := 0; i < keys.Len(); i++ {
				k, _ := keys.Key(i)
				_ = set.AddKey(k)
			}
		}
	}
	tok, err := jwt.Parse([]byte(raw), jwt.WithKeySet(set, jws.WithInferAlgorithmFromKey(true), jws.WithRequireKid(false)), jwt.WithValidate(false))
	if err == nil {
		return tok, nil
	}
	if _, perr := jwt.ParseInsecure([]byte(raw)); perr != nil {
		return nil, s.fail(ReasonTokenInvalid, "JWT is malformed.")
	}
	if !refreshed && len(s.openid) > 0 {
		return s.verify(c, raw, true)
	}
	return nil, s.fail(ReasonTokenSignatureInvalid, "JWT signature is invalid.")
}

func (s *validateJWT) checkClaim(tok jwt.Token, rc requiredClaim) error {
	if !tok.Has(rc.name) {
		return s.fail(ReasonTokenClaimNotFound, fmt.Sprintf("Required claim %s is missing.", rc.name))
	}
	if len(rc.values) == 0 {
		return nil
	}
	var v any
	_ = tok.Get(rc.name, &v)
	var got []string
	switch x := v.(type) {
	case string:
		got = []string{x}
		if rc.sep != "" {
			got = strings.Split(x, rc.sep)
		}
	case []any:
		for _, e := range x {
			got = append(got, fmt.Sprint(e))
		}
	case []string:
		got = x
	default:
		got = []string{fmt.Sprint(x)}
	}
	match := 0
	for _, want := range rc.values {
		if anyIn(got, []string{want}) {
			match++
		}
	}
	if match == 0 || rc.match == "all" && match < len(rc.values) {
		return s.fail(ReasonTokenClaimValueNotAllowed, fmt.Sprintf("Claim %s has a value that is not allowed.", rc.name))
	}
	return nil
}

func anyIn(have, allowed []string) bool {
	for _, h := range have {
		for _, a := range allowed {
			if strings.TrimSpace(h) == a {
				return true
			}
		}
	}
	return false
}
