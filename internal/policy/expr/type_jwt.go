package expr

import (
	"time"
)

// registerJwt registers JSON web tokens (Jwt) and the APIM extension
// methods of string that parse them.
func registerJwt() {
	t := defType("Jwt", kJwt)
	s := defType("string", kString)
	null := s.on(kNull)
	s.method("AsJwt", "Jwt()", func(e *env, r Value, a []Value, cs *callSite) Value {
		e.work(len(r.(string)) / jsonBytesPerStep) // decodes and parses JSON
		return parseJwt(r.(string))
	})
	null.method("AsJwt", "null()", func(e *env, r Value, a []Value, cs *callSite) Value { return nil })
	s.method("TryParseJwt", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		e.work(len(r.(string)) / jsonBytesPerStep)
		j := parseJwt(r.(string))
		setOut(e, a, 0, cs, j)
		return j != nil
	})
	strClaim := func(name string) propFn {
		return func(e *env, r Value) Value {
			v, ok := r.(*Jwt).claims.Get(name)
			if !ok {
				return nil
			}
			if jv, ok := v.(*JValue); ok {
				return jv.plain()
			}
			return toStr(v)
		}
	}
	dateClaim := func(name string) propFn {
		return func(e *env, r Value) Value {
			v, ok := r.(*Jwt).claims.Get(name)
			if !ok {
				return nil
			}
			f, ok := toF64(v.(*JValue).plain())
			if !ok {
				return nil
			}
			return DateTime{T: time.Unix(int64(f), 0).UTC(), Kind: UTC}
		}
	}
	t.prop("Subject", "string|long|double|bool", strClaim("sub"))
	t.prop("Issuer", "string|long|double|bool", strClaim("iss"))
	t.prop("Id", "string|long|double|bool", strClaim("jti"))
	t.prop("ExpirationTime", "DateTime", dateClaim("exp"))
	t.prop("NotBefore", "DateTime", dateClaim("nbf"))
	t.prop("IssuedAt", "DateTime", dateClaim("iat"))
	t.prop("Algorithm", "string", func(e *env, r Value) Value {
		v, _ := r.(*Jwt).header.Get("alg")
		return toStr(v)
	})
	t.prop("Type", "string", func(e *env, r Value) Value {
		v, _ := r.(*Jwt).header.Get("typ")
		return toStr(v)
	})
	t.prop("Audiences", "string[]", func(e *env, r Value) Value {
		v, _ := r.(*Jwt).claims.Get("aud")
		return &List{Elem: "string", Array: true, Items: claimValues(v)}
	})
	t.prop("Claims", "Claims", func(e *env, r Value) Value {
		j := r.(*Jwt)
		d := newDict()
		for _, p := range j.claims.props {
			d.Set(p.Name, &List{Elem: "string", Array: true, Items: claimValues(p.Value)})
		}
		return &claimDict{d}
	})
	t.prop("Header", "Dictionary", func(e *env, r Value) Value {
		j := r.(*Jwt)
		d := newDict()
		for _, p := range j.header.props {
			d.Set(p.Name, jtokenText(p.Value))
		}
		return d
	})
	t.method("ToString", "string()", func(e *env, r Value, a []Value, cs *callSite) Value { return r.(*Jwt).raw })
}
