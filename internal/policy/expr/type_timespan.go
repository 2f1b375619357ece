package expr

import (
	"math"
	"time"
)

// registerTimeSpan registers System.TimeSpan.
func registerTimeSpan() {
	t := defType("TimeSpan", kTimeSpan)
	from := func(unit time.Duration, roundMs bool) staticFn {
		return func(e *env, a []Value, cs *callSite) Value {
			f := argF64(a, 0, cs)
			return time.Duration(math.Round(f * float64(unit)))
		}
	}
	t.static("FromDays", "TimeSpan(1)", from(24*time.Hour, true))
	t.static("FromHours", "TimeSpan(1)", from(time.Hour, true))
	t.static("FromMinutes", "TimeSpan(1)", from(time.Minute, true))
	t.static("FromSeconds", "TimeSpan(1)", from(time.Second, true))
	t.static("FromMilliseconds", "TimeSpan(1)", from(time.Millisecond, true))
	t.static("FromTicks", "TimeSpan(1)", func(e *env, a []Value, cs *callSite) Value {
		n, _ := toI64(a[0])
		return time.Duration(n) * 100
	})
	t.staticProp("Zero", "TimeSpan", func(*env) Value { return time.Duration(0) })
	t.staticProp("MaxValue", "TimeSpan", func(*env) Value { return time.Duration(math.MaxInt64) })
	t.staticProp("MinValue", "TimeSpan", func(*env) Value { return time.Duration(math.MinInt64) })
	t.static("Parse", "TimeSpan(1-2)", func(e *env, a []Value, cs *callSite) Value {
		d, ok := parseTimeSpan(argStr(a, 0, cs))
		if !ok {
			throwf("FormatException", "String '%s' was not recognized as a valid TimeSpan.", argStr(a, 0, cs))
		}
		return d
	})
	t.static("TryParse", "bool(2-3)", func(e *env, a []Value, cs *callSite) Value {
		s, _ := argStrOrNull(a, 0, cs)
		d, ok := parseTimeSpan(s)
		setOut(e, a, len(a)-1, cs, d)
		return ok
	})
	t.ctor("(1,3-5)", func(e *env, a []Value, cs *callSite) Value {
		switch len(a) {
		case 1:
			n, _ := toI64(a[0])
			return time.Duration(n) * 100
		case 3:
			return time.Duration(argInt(a, 0, cs))*time.Hour + time.Duration(argInt(a, 1, cs))*time.Minute + time.Duration(argInt(a, 2, cs))*time.Second
		case 4, 5:
			d := time.Duration(argInt(a, 0, cs))*24*time.Hour + time.Duration(argInt(a, 1, cs))*time.Hour + time.Duration(argInt(a, 2, cs))*time.Minute + time.Duration(argInt(a, 3, cs))*time.Second
			if len(a) == 5 {
				d += time.Duration(argInt(a, 4, cs)) * time.Millisecond
			}
			return d
		}
		wrongArgs(cs, len(a))
		return nil
	})
	ts := func(r Value) time.Duration { return r.(time.Duration) }
	t.prop("Days", "int", func(e *env, r Value) Value { return int32(ts(r) / (24 * time.Hour)) })
	t.prop("Hours", "int", func(e *env, r Value) Value { return int32(ts(r) % (24 * time.Hour) / time.Hour) })
	t.prop("Minutes", "int", func(e *env, r Value) Value { return int32(ts(r) % time.Hour / time.Minute) })
	t.prop("Seconds", "int", func(e *env, r Value) Value { return int32(ts(r) % time.Minute / time.Second) })
	t.prop("Milliseconds", "int", func(e *env, r Value) Value { return int32(ts(r) % time.Second / time.Millisecond) })
	t.prop("Ticks", "long", func(e *env, r Value) Value { return int64(ts(r) / 100) })
	t.prop("TotalDays", "double", func(e *env, r Value) Value { return float64(ts(r)/100) / 864e9 })
	t.prop("TotalHours", "double", func(e *env, r Value) Value { return float64(ts(r)/100) / 36e9 })
	t.prop("TotalMinutes", "double", func(e *env, r Value) Value { return float64(ts(r)/100) / 6e8 })
	t.prop("TotalSeconds", "double", func(e *env, r Value) Value { return float64(ts(r)/100) / 1e7 })
	t.prop("TotalMilliseconds", "double", func(e *env, r Value) Value { return float64(ts(r)) / 1e6 })
	t.method("Add", "TimeSpan(1)", func(e *env, r Value, a []Value, cs *callSite) Value { need(a, 1, cs); return arith('+', r, a[0]) })
	t.method("Subtract", "TimeSpan(1)", func(e *env, r Value, a []Value, cs *callSite) Value { need(a, 1, cs); return arith('-', r, a[0]) })
	t.method("Negate", "TimeSpan()", func(e *env, r Value, a []Value, cs *callSite) Value { return -ts(r) })
	t.method("Duration", "TimeSpan()", func(e *env, r Value, a []Value, cs *callSite) Value {
		if ts(r) < 0 {
			return -ts(r)
		}
		return r
	})
}
