package expr

import (
	"math"
	"math/rand/v2"
)

// registerRandom registers System.Random.
func registerRandom() {
	t := defType("Random", kRandom)
	t.ctor("(0-1)", func(e *env, a []Value, cs *callSite) Value {
		if len(a) > 0 {
			s := uint64(argInt(a, 0, cs))
			return &randomValue{r: rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))}
		}
		return &randomValue{r: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	})
	t.staticProp("Shared", "Random", func(*env) Value { return &randomValue{r: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))} })
	t.method("Next", "int(0-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		rr := r.(*randomValue).r
		switch len(a) {
		case 0:
			return int32(rr.Int32N(math.MaxInt32))
		case 1:
			n := argInt(a, 0, cs)
			if n < 0 {
				throwf("ArgumentOutOfRangeException", "'maxValue' must be greater than zero.")
			}
			if n == 0 {
				return int32(0)
			}
			return int32(rr.IntN(n))
		}
		lo, hi := argInt(a, 0, cs), argInt(a, 1, cs)
		if lo > hi {
			throwf("ArgumentOutOfRangeException", "'minValue' cannot be greater than maxValue.")
		}
		if lo == hi {
			return int32(lo)
		}
		return int32(lo + rr.IntN(hi-lo))
	})
	t.method("NextDouble", "double()", func(e *env, r Value, a []Value, cs *callSite) Value { return r.(*randomValue).r.Float64() })
	t.method("NextInt64", "long(0-2)", func(e *env, r Value, a []Value, cs *callSite) Value { return r.(*randomValue).r.Int64() })
	t.method("NextBytes", "void(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		b := argBytes(a, 0, cs)
		for i := range b {
			b[i] = byte(r.(*randomValue).r.UintN(256))
		}
		return nil
	})

}
