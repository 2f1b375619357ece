package expr

import (
	"crypto/rand"
	"math/big"
)

// registerRandomNumberGenerator registers
// System.Security.Cryptography.RandomNumberGenerator (its instances are
// hashAlg values with rng set).
func registerRandomNumberGenerator() {
	t := defType("RandomNumberGenerator", kHash)
	H := func(r Value) *hashAlg { return r.(*hashAlg) }
	rng := func(e *env, a []Value, cs *callSite) Value { return &hashAlg{name: "RandomNumberGenerator", rng: true} }
	t.static("Create", "RandomNumberGenerator()", rng)
	defType("RNGCryptoServiceProvider", kHash).ctor("()", rng)
	t.static("GetBytes", "byte[](1)", func(e *env, a []Value, cs *callSite) Value {
		n := argInt(a, 0, cs)
		if n < 0 || n > 1<<20 {
			throwf("ArgumentOutOfRangeException", "Specified argument was out of the range of valid values.")
		}
		e.alloc(n)
		b := make([]byte, n)
		rand.Read(b)
		return b
	})
	t.static("Fill", "void(1)", func(e *env, a []Value, cs *callSite) Value {
		rand.Read(argBytes(a, 0, cs))
		return nil
	})
	t.static("GetInt32", "int(1-2)", func(e *env, a []Value, cs *callSite) Value {
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
	t.method("GetBytes", "void(1,3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		if !H(r).rng {
			throwf("RuntimeBinderException", "'%s' does not contain a definition for 'GetBytes'", H(r).name)
		}
		rand.Read(argBytes(a, 0, cs))
		return nil
	})
	t.method("GetNonZeroBytes", "void(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
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
}
