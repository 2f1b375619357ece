package expr

import (
	"math"
)

// registerMath registers System.Math.
func registerMath() {
	t := defType("Math")
	t.static("Abs", "int|long|decimal|double(1)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		switch x := promoteUnary(a[0]).(type) {
		case int32:
			if x < 0 {
				return -x
			}
			return x
		case int64:
			if x < 0 {
				return -x
			}
			return x
		case Decimal:
			if x.mant().Sign() < 0 {
				return negate(x)
			}
			return x
		}
		return math.Abs(argF64(a, 0, cs))
	})
	minmax := func(isMax bool) staticFn {
		return func(e *env, a []Value, cs *callSite) Value {
			need(a, 2, cs)
			x, y := promoteUnary(a[0]), promoteUnary(a[1])
			r := max(numRank(x), numRank(y))
			if numRank(x) < 0 || numRank(y) < 0 {
				throwf("ArgumentException", "Math.Max/Min need numbers")
			}
			c := numCmp(x, y)
			pick := x
			if isMax && c < 0 || !isMax && c > 0 {
				pick = y
			}
			switch r {
			case 0:
				return pick
			case 1:
				i, _ := toI64(pick)
				return i
			case 2:
				if c == 2 {
					return math.NaN()
				}
				f, _ := toF64(pick)
				return f
			}
			return toDecimal(pick)
		}
	}
	t.static("Max", "int|long|double|decimal(2)", minmax(true))
	t.static("Min", "int|long|double|decimal(2)", minmax(false))
	t.static("Round", "double|decimal(1-3)", func(e *env, a []Value, cs *callSite) Value { return mathRound(a, cs) })
	f1 := func(name string, f func(float64) float64) {
		t.static(name, "double|decimal(1)", func(e *env, a []Value, cs *callSite) Value {
			need(a, 1, cs)
			if d, ok := a[0].(Decimal); ok && (name == "Floor" || name == "Ceiling" || name == "Truncate") {
				r := f(d.float())
				return decFromFloat(r)
			}
			return f(argF64(a, 0, cs))
		})
	}
	f1("Floor", math.Floor)
	f1("Ceiling", math.Ceil)
	f1("Truncate", math.Trunc)
	f1("Sqrt", math.Sqrt)
	f1("Exp", math.Exp)
	f1("Log10", math.Log10)
	f1("Log2", math.Log2)
	f1("Sin", math.Sin)
	f1("Cos", math.Cos)
	f1("Tan", math.Tan)
	f1("Atan", math.Atan)
	f1("Cbrt", math.Cbrt)
	t.static("Log", "double(1-2)", func(e *env, a []Value, cs *callSite) Value {
		if len(a) == 2 {
			return math.Log(argF64(a, 0, cs)) / math.Log(argF64(a, 1, cs))
		}
		return math.Log(argF64(a, 0, cs))
	})
	t.static("Pow", "double(2)", func(e *env, a []Value, cs *callSite) Value { return math.Pow(argF64(a, 0, cs), argF64(a, 1, cs)) })
	t.static("Atan2", "double(2)", func(e *env, a []Value, cs *callSite) Value { return math.Atan2(argF64(a, 0, cs), argF64(a, 1, cs)) })
	t.static("Sign", "int(1)", func(e *env, a []Value, cs *callSite) Value {
		f := argF64(a, 0, cs)
		if math.IsNaN(f) {
			throwf("ArithmeticException", "Function does not accept floating point Not-a-Number values.")
		}
		return int32(sign(int(math.Copysign(1, f) * b2f(f != 0))))
	})
	t.static("Clamp", "arg0|arg1|arg2(3)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 3, cs)
		v := a[0]
		if numCmp(v, a[1]) < 0 {
			v = a[1]
		}
		if numCmp(v, a[2]) > 0 {
			v = a[2]
		}
		return v
	})
	t.staticProp("PI", "double", func(*env) Value { return math.Pi })
	t.staticProp("E", "double", func(*env) Value { return math.E })
}
