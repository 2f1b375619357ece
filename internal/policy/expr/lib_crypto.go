package expr

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"math/big"
)

type hashAlg struct {
	name string
	newH func() hash.Hash
	key  []byte // HMAC key, nil for plain hashes
	rng  bool   // RandomNumberGenerator
}

func (h *hashAlg) sum(data []byte) []byte {
	var hh hash.Hash
	if h.key != nil {
		hh = hmac.New(h.newH, h.key)
	} else {
		hh = h.newH()
	}
	hh.Write(data)
	return hh.Sum(nil)
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func sha1Sum(b []byte) []byte { s := sha1.Sum(b); return s[:] }

var hashFuncs = map[string]func() hash.Hash{
	"SHA256": sha256.New, "SHA1": sha1.New, "MD5": md5.New, "SHA384": sha512.New384, "SHA512": sha512.New,
}

func registerCrypto() {
	for name, f := range hashFuncs {
		name, f := name, f
		create := func(e *env, a []Value, cs *callSite) Value { return &hashAlg{name: name, newH: f} }
		static(name, "Create", create)
		ctor(name+"Managed", create)
		ctor(name+"CryptoServiceProvider", create)
		static(name, "HashData", func(e *env, a []Value, cs *callSite) Value {
			h := f()
			h.Write(argBytes(a, 0, cs))
			return h.Sum(nil)
		})
		hm := "HMAC" + name
		ctor(hm, func(e *env, a []Value, cs *callSite) Value {
			key := []byte{}
			if len(a) > 0 {
				key = append([]byte(nil), argBytes(a, 0, cs)...)
			} else {
				key = make([]byte, 64)
				rand.Read(key)
			}
			return &hashAlg{name: hm, newH: f, key: key}
		})
		static(hm, "HashData", func(e *env, a []Value, cs *callSite) Value {
			m := hmac.New(f, argBytes(a, 0, cs))
			m.Write(argBytes(a, 1, cs))
			return m.Sum(nil)
		})
	}
	H := func(r Value) *hashAlg { return r.(*hashAlg) }
	method(kHash, "ComputeHash", func(e *env, r Value, a []Value, cs *callSite) Value {
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
	prop(kHash, "Key", func(e *env, r Value) Value { return append([]byte(nil), H(r).key...) })
	prop(kHash, "HashSize", func(e *env, r Value) Value { return int32(H(r).newH().Size() * 8) })
	method(kHash, "Dispose", func(e *env, r Value, a []Value, cs *callSite) Value { return nil })
	method(kHash, "Clear", func(e *env, r Value, a []Value, cs *callSite) Value { return nil })
	method(kHash, "GetBytes", func(e *env, r Value, a []Value, cs *callSite) Value {
		if !H(r).rng {
			throwf("RuntimeBinderException", "'%s' does not contain a definition for 'GetBytes'", H(r).name)
		}
		rand.Read(argBytes(a, 0, cs))
		return nil
	})
	method(kHash, "GetNonZeroBytes", func(e *env, r Value, a []Value, cs *callSite) Value {
		b := argBytes(a, 0, cs)
		rand.Read(b)
		for i := range b {
			for b[i] == 0 {
				var one [1]byte
				rand.Read(one[:])
				b[i] = one[0]
			}
		}
		return nil
	})
	rng := func(e *env, a []Value, cs *callSite) Value { return &hashAlg{name: "RandomNumberGenerator", rng: true} }
	static("RandomNumberGenerator", "Create", rng)
	ctor("RNGCryptoServiceProvider", rng)
	static("RandomNumberGenerator", "GetBytes", func(e *env, a []Value, cs *callSite) Value {
		n := argInt(a, 0, cs)
		if n < 0 || n > 1<<20 {
			throwf("ArgumentOutOfRangeException", "Specified argument was out of the range of valid values.")
		}
		e.alloc(n)
		b := make([]byte, n)
		rand.Read(b)
		return b
	})
	static("RandomNumberGenerator", "Fill", func(e *env, a []Value, cs *callSite) Value {
		rand.Read(argBytes(a, 0, cs))
		return nil
	})
	static("RandomNumberGenerator", "GetInt32", func(e *env, a []Value, cs *callSite) Value {
		lo, hi := 0, argInt(a, 0, cs)
		if len(a) > 1 {
			lo, hi = hi, argInt(a, 1, cs)
		}
		if hi <= lo {
			throwf("ArgumentException", "Range of random number does not contain at least one possibility.")
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(hi-lo)))
		return int32(lo + int(n.Int64()))
	})
}
