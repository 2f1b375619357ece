package expr

import (
	"math"
	"time"
)

// registerDateTime registers System.DateTime.
func registerDateTime() {
	t := defType("DateTime", kDateTime)
	dt := func(r Value) DateTime { return r.(DateTime) }
	now := func(e *env) DateTime { return DateTime{T: e.clock().UTC(), Kind: UTC} }
	t.staticProp("UtcNow", "DateTime", func(e *env) Value { return now(e) })
	t.staticProp("Now", "DateTime", func(e *env) Value { d := now(e); d.Kind = Local; return d })
	t.staticProp("Today", "DateTime", func(e *env) Value {
		t := e.clock().UTC()
		return DateTime{T: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), Kind: Local}
	})
	t.staticProp("MinValue", "DateTime", func(e *env) Value { return DateTime{T: year1} })
	t.staticProp("MaxValue", "DateTime", func(e *env) Value { return DateTime{T: fromTicks(3155378975999999999)} })
	t.staticProp("UnixEpoch", "DateTime", func(e *env) Value { return DateTime{T: time.Unix(0, 0).UTC(), Kind: UTC} })
	t.ctor("(1-3,6-8)", func(e *env, a []Value, cs *callSite) Value {
		if len(a) == 1 {
			n, _ := toI64(a[0])
			return DateTime{T: fromTicks(n)}
		}
		var p [7]int
		k := Unspecified
		np := 0
		for i, v := range a {
			if ev, ok := v.(enumValue); ok && ev.typ == "DateTimeKind" {
				k = DateTimeKind(ev.v)
				continue
			}
			if i < 7 {
				p[i] = argInt(a, i, cs)
				np++
			}
		}
		if np < 3 {
			wrongArgs(cs, len(a))
		}
		if p[1] < 1 || p[1] > 12 || p[2] < 1 || p[2] > 31 || p[3] > 23 || p[4] > 59 || p[5] > 59 {
			throwf("ArgumentOutOfRangeException", "Year, Month, and Day parameters describe an un-representable DateTime.")
		}
		t := time.Date(p[0], time.Month(p[1]), p[2], p[3], p[4], p[5], p[6]*1e6, time.UTC)
		if t.Day() != p[2] {
			throwf("ArgumentOutOfRangeException", "Year, Month, and Day parameters describe an un-representable DateTime.")
		}
		return DateTime{T: t, Kind: k}
	})
	styleOf := func(a []Value) string {
		for _, v := range a {
			if ev, ok := v.(enumValue); ok && ev.typ == "DateTimeStyles" {
				return ev.name
			}
		}
		return ""
	}
	t.static("Parse", "DateTime(1-3)", func(e *env, a []Value, cs *callSite) Value {
		d, _, ok := parseDate(argStr(a, 0, cs), styleOf(a))
		if !ok {
			throwf("FormatException", "String '%s' was not recognized as a valid DateTime.", argStr(a, 0, cs))
		}
		return d
	})
	t.static("TryParse", "bool(2-4)", func(e *env, a []Value, cs *callSite) Value {
		s, _ := argStrOrNull(a, 0, cs)
		d, _, ok := parseDate(s, styleOf(a))
		if !ok {
			d = DateTime{T: year1}
		}
		setOut(e, a, len(a)-1, cs, d)
		return ok
	})
	exact := func(s string, a []Value, cs *callSite) (DateTime, bool) {
		var formats []string
		switch f := a[1].(type) {
		case string:
			formats = []string{f}
		case *List:
			for _, it := range f.Items {
				formats = append(formats, toStr(it))
			}
		}
		st := styleOf(a)
		for _, f := range formats {
			t, hasOff, ok := parseExact(s, f)
			if !ok {
				continue
			}
			if !hasOff {
				k := Unspecified
				if st == "AssumeUniversal" || st == "AdjustToUniversal" {
					k = UTC
				}
				return DateTime{T: time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), Kind: k}, true
			}
			k := Local
			if st == "AdjustToUniversal" || st == "RoundtripKind" {
				k = UTC
			}
			return DateTime{T: t.UTC(), Kind: k}, true
		}
		return DateTime{T: year1}, false
	}
	t.static("ParseExact", "DateTime(3-4)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		d, ok := exact(argStr(a, 0, cs), a, cs)
		if !ok {
			throwf("FormatException", "String '%s' was not recognized as a valid DateTime.", argStr(a, 0, cs))
		}
		return d
	})
	t.static("TryParseExact", "bool(5)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 3, cs)
		s, _ := argStrOrNull(a, 0, cs)
		d, ok := exact(s, a, cs)
		setOut(e, a, len(a)-1, cs, d)
		return ok
	})
	t.static("SpecifyKind", "DateTime(2)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		d := a[0].(DateTime)
		ev, _ := argEnum(a, 1, "DateTimeKind")
		d.Kind = DateTimeKind(ev.v)
		return d
	})
	t.static("DaysInMonth", "int(2)", func(e *env, a []Value, cs *callSite) Value {
		y, m := argInt(a, 0, cs), argInt(a, 1, cs)
		return int32(time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day())
	})
	t.static("IsLeapYear", "bool(1)", func(e *env, a []Value, cs *callSite) Value {
		y := argInt(a, 0, cs)
		return y%4 == 0 && (y%100 != 0 || y%400 == 0)
	})
	t.static("Compare", "int(2)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		return int32(compare(a[0], a[1]))
	})
	t.static("FromBinary", "DateTime(1)", func(e *env, a []Value, cs *callSite) Value {
		n, _ := toI64(a[0])
		return DateTime{T: fromTicks(n & 0x3FFFFFFFFFFFFFFF)}
	})

	t.prop("Kind", "DateTimeKind", func(e *env, r Value) Value {
		k := dt(r).Kind
		return enumValue{typ: "DateTimeKind", name: []string{"Unspecified", "Utc", "Local"}[k], v: int(k)}
	})
	t.prop("Date", "DateTime", func(e *env, r Value) Value {
		d := dt(r)
		t := d.T
		return DateTime{T: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), Kind: d.Kind}
	})
	t.method("ToUniversalTime", "DateTime()", func(e *env, r Value, a []Value, cs *callSite) Value {
		d := dt(r)
		d.Kind = UTC
		return d
	})
	t.method("ToLocalTime", "DateTime()", func(e *env, r Value, a []Value, cs *callSite) Value {
		d := dt(r)
		d.Kind = Local
		return d
	})
	t.method("ToShortDateString", "string()", func(e *env, r Value, a []Value, cs *callSite) Value { return formatDateTime(dt(r), "d") })
	t.method("ToLongDateString", "string()", func(e *env, r Value, a []Value, cs *callSite) Value { return formatDateTime(dt(r), "D") })
	t.method("ToShortTimeString", "string()", func(e *env, r Value, a []Value, cs *callSite) Value { return formatDateTime(dt(r), "t") })
	t.method("ToLongTimeString", "string()", func(e *env, r Value, a []Value, cs *callSite) Value { return formatDateTime(dt(r), "T") })
	t.method("ToBinary", "long()", func(e *env, r Value, a []Value, cs *callSite) Value { return ticksOf(dt(r).T) })
	// extension: DateTime to unix seconds is common via DateTimeOffset; also allow on DateTime
	t.method("ToUnixTimeSeconds", "long()", func(e *env, r Value, a []Value, cs *callSite) Value { return dt(r).T.Unix() })
	registerDateParts(t, func(r Value) time.Time { return dt(r).T })
	registerDateArithmetic(t)
}

// registerDateParts registers the calendar properties that DateTime and
// DateTimeOffset share.
func registerDateParts(t *typeDef, get func(Value) time.Time) {
	t.prop("Year", "int", func(e *env, r Value) Value { return int32(get(r).Year()) })
	t.prop("Month", "int", func(e *env, r Value) Value { return int32(get(r).Month()) })
	t.prop("Day", "int", func(e *env, r Value) Value { return int32(get(r).Day()) })
	t.prop("Hour", "int", func(e *env, r Value) Value { return int32(get(r).Hour()) })
	t.prop("Minute", "int", func(e *env, r Value) Value { return int32(get(r).Minute()) })
	t.prop("Second", "int", func(e *env, r Value) Value { return int32(get(r).Second()) })
	t.prop("Millisecond", "int", func(e *env, r Value) Value { return int32(get(r).Nanosecond() / 1e6) })
	t.prop("DayOfYear", "int", func(e *env, r Value) Value { return int32(get(r).YearDay()) })
	t.prop("DayOfWeek", "DayOfWeek", func(e *env, r Value) Value {
		w := int(get(r).Weekday())
		return enumValue{typ: "DayOfWeek", name: dayNames[w], v: w}
	})
	t.prop("Ticks", "long", func(e *env, r Value) Value { // of the clock time, not of UTC
		t := get(r)
		return ticksOf(time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC))
	})
	t.prop("TimeOfDay", "TimeSpan", func(e *env, r Value) Value {
		t := get(r)
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond())
	})
}

// registerDateArithmetic registers the Add and Subtract methods that
// DateTime and DateTimeOffset share.
func registerDateArithmetic(t *typeDef) {
	add := func(name string, f func(t time.Time, a []Value, cs *callSite) time.Time) {
		t.method(name, "same(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
			switch x := r.(type) {
			case DateTime:
				return DateTime{T: f(x.T, a, cs), Kind: x.Kind}
			case DateTimeOffset:
				return DateTimeOffset{T: f(x.T, a, cs)}
			}
			return nil
		})
	}
	dur := func(unit float64) func(t time.Time, a []Value, cs *callSite) time.Time {
		return func(t time.Time, a []Value, cs *callSite) time.Time {
			f := argF64(a, 0, cs)
			ms := math.Round(f * unit / 1e6) // .NET rounds to milliseconds
			return t.Add(time.Duration(ms) * time.Millisecond)
		}
	}
	add("AddDays", dur(float64(24*time.Hour)))
	add("AddHours", dur(float64(time.Hour)))
	add("AddMinutes", dur(float64(time.Minute)))
	add("AddSeconds", dur(float64(time.Second)))
	add("AddMilliseconds", dur(float64(time.Millisecond)))
	add("AddTicks", func(t time.Time, a []Value, cs *callSite) time.Time {
		n, _ := toI64(a[0])
		return t.Add(time.Duration(n) * 100)
	})
	add("AddMonths", func(t time.Time, a []Value, cs *callSite) time.Time { return addMonths(t, argInt(a, 0, cs)) })
	add("AddYears", func(t time.Time, a []Value, cs *callSite) time.Time { return addMonths(t, 12*argInt(a, 0, cs)) })
	add("Add", func(t time.Time, a []Value, cs *callSite) time.Time {
		need(a, 1, cs)
		d, ok := a[0].(time.Duration)
		if !ok {
			throwf("ArgumentException", "Add takes a TimeSpan")
		}
		return t.Add(d)
	})
	t.method("Subtract", "same|TimeSpan(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		return arith('-', r, a[0])
	})
}
