package expr

import (
	"crypto/hmac"
	"crypto/rand"
)

// registerHashAlgorithms registers the hash algorithms (SHA1, SHA256,
// SHA384, SHA512, MD5), their HMAC variants and the members of their
// instances (HashAlgorithm).
func registerHashAlgorithms() {
	for name, f := range hashFuncs {
		name, f := name, f
		t := defType(name, kHash)
		create := func(e *env, a []Value, cs *callSite) Value { return &hashAlg{name: name, newH: f} }
		t.static("Create", name+"()", create)
		defType(name+"Managed", kHash).ctor("()", create)
		defType(name+"CryptoServiceProvider", kHash).ctor("()", create)
		t.static("HashData", "byte[](1)", func(e *env, a []Value, cs *callSite) Value {
			h := f()
			h.Write(argBytes(a, 0, cs))
			return h.Sum(nil)
		})
		hm := "HMAC" + name
		h := defType(hm, kHash)
		h.ctor("(0-1)", func(e *env, a []Value, cs *callSite) Value {
			key := []byte{}
			if len(a) > 0 {
				key = append([]byte(nil), argBytes(a, 0, cs)...)
			} else {
				key = make([]byte, 64)
				rand.Read(key)
			}
			return &hashAlg{name: hm, newH: f, key: key}
		})
		h.static("HashData", "byte[](2)", func(e *env, a []Value, cs *callSite) Value {
			m := hmac.New(f, argBytes(a, 0, cs))
			m.Write(argBytes(a, 1, cs))
			return m.Sum(nil)
		})
	}
	a := defType("HashAlgorithm", kHash)
	H := func(r Value) *hashAlg { return r.(*hashAlg) }
	a.method("ComputeHash", "byte[](1,3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		h := H(r)
		if h.rng {
			throwf("RuntimeBinderException", "RandomNumberGenerator does not contain a definition for 'ComputeHash'")
		}
		b := argBytes(a, 0, cs)
		if len(a) == 3 {
			off, n := argInt(a, 1, cs), argInt(a, 2, cs)
			if off < 0 || n < 0 || off+n > len(b) {
				throwf("ArgumentException", "Offset and length were out of bounds.")
			}
			b = b[off : off+n]
		}
		e.alloc(len(b) / 8)
		return h.sum(b)
	})
	a.prop("Key", "byte[]", func(e *env, r Value) Value { return append([]byte(nil), H(r).key...) })
	a.prop("HashSize", "int", func(e *env, r Value) Value { return int32(H(r).newH().Size() * 8) })
	a.method("Dispose", "void()", func(e *env, r Value, a []Value, cs *callSite) Value { return nil })
	a.method("Clear", "void()", func(e *env, r Value, a []Value, cs *callSite) Value { return nil })
}
