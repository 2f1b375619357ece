package expr

import "time"

// registerDateTimeOffset registers System.DateTimeOffset.
func registerDateTimeOffset() {
	t := defType("DateTimeOffset", kDateTimeOffset)
	t.staticProp("UtcNow", "DateTimeOffset", func(e *env) Value { return DateTimeOffset{T: e.clock().UTC()} })
	t.staticProp("Now", "DateTimeOffset", func(e *env) Value { return DateTimeOffset{T: e.clock().UTC()} })
	t.staticProp("MinValue", "DateTimeOffset", func(e *env) Value { return DateTimeOffset{T: year1} })
	t.staticProp("MaxValue", "DateTimeOffset", func(e *env) Value { return DateTimeOffset{T: fromTicks(3155378975999999999)} })
	t.staticProp("UnixEpoch", "DateTimeOffset", func(e *env) Value { return DateTimeOffset{T: time.Unix(0, 0).UTC()} })
	t.ctor("(1-2,7-8)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		switch x := a[0].(type) {
		case DateTime:
			if len(a) > 1 {
				off, _ := a[1].(time.Duration)
				return DateTimeOffset{T: time.Date(x.T.Year(), x.T.Month(), x.T.Day(), x.T.Hour(), x.T.Minute(), x.T.Second(), x.T.Nanosecond(), time.FixedZone("", int(off/time.Second)))}
			}
			return DateTimeOffset{T: x.T}
		}
		if len(a) >= 7 {
			off, _ := a[len(a)-1].(time.Duration)
			return DateTimeOffset{T: time.Date(argInt(a, 0, cs), time.Month(argInt(a, 1, cs)), argInt(a, 2, cs), argInt(a, 3, cs), argInt(a, 4, cs), argInt(a, 5, cs), 0, time.FixedZone("", int(off/time.Second)))}
		}
		wrongArgs(cs, len(a))
		return nil
	})
	t.static("FromUnixTimeSeconds", "DateTimeOffset(1)", func(e *env, a []Value, cs *callSite) Value {
		n, _ := toI64(a[0])
		return DateTimeOffset{T: time.Unix(n, 0).UTC()}
	})
	t.static("FromUnixTimeMilliseconds", "DateTimeOffset(1)", func(e *env, a []Value, cs *callSite) Value {
		n, _ := toI64(a[0])
		return DateTimeOffset{T: time.UnixMilli(n).UTC()}
	})
	dtoParse := func(s string) (DateTimeOffset, bool) {
		_, t, ok := parseDate(s, "")
		return DateTimeOffset{T: t}, ok
	}
	t.static("Parse", "DateTimeOffset(1-3)", func(e *env, a []Value, cs *callSite) Value {
		d, ok := dtoParse(argStr(a, 0, cs))
		if !ok {
			throwf("FormatException", "String '%s' was not recognized as a valid DateTime.", argStr(a, 0, cs))
		}
		return d
	})
	t.static("TryParse", "bool(2-4)", func(e *env, a []Value, cs *callSite) Value {
		s, _ := argStrOrNull(a, 0, cs)
		d, ok := dtoParse(s)
		setOut(e, a, len(a)-1, cs, d)
		return ok
	})
	t.static("ParseExact", "DateTimeOffset(3-4)", func(e *env, a []Value, cs *callSite) Value {
		t, _, ok := parseExact(argStr(a, 0, cs), argStr(a, 1, cs))
		if !ok {
			throwf("FormatException", "String '%s' was not recognized as a valid DateTime.", argStr(a, 0, cs))
		}
		return DateTimeOffset{T: t}
	})
	dto := func(r Value) time.Time { return r.(DateTimeOffset).T }
	t.method("ToUnixTimeSeconds", "long()", func(e *env, r Value, a []Value, cs *callSite) Value { return dto(r).Unix() })
	t.method("ToUnixTimeMilliseconds", "long()", func(e *env, r Value, a []Value, cs *callSite) Value { return dto(r).UnixMilli() })
	t.method("ToUniversalTime", "DateTimeOffset()", func(e *env, r Value, a []Value, cs *callSite) Value { return DateTimeOffset{T: dto(r).UTC()} })
	t.method("ToOffset", "DateTimeOffset(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		off, _ := a[0].(time.Duration)
		return DateTimeOffset{T: dto(r).In(time.FixedZone("", int(off/time.Second)))}
	})
	t.prop("UtcDateTime", "DateTime", func(e *env, r Value) Value { return DateTime{T: dto(r).UTC(), Kind: UTC} })
	t.prop("DateTime", "DateTime", func(e *env, r Value) Value {
		t := dto(r)
		return DateTime{T: time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)}
	})
	t.prop("LocalDateTime", "DateTime", func(e *env, r Value) Value { return DateTime{T: dto(r).UTC(), Kind: Local} })
	t.prop("UtcTicks", "long", func(e *env, r Value) Value { return ticksOf(dto(r).UTC()) })
	t.prop("Offset", "TimeSpan", func(e *env, r Value) Value {
		_, off := dto(r).Zone()
		return time.Duration(off) * time.Second
	})
	t.prop("Date", "DateTime", func(e *env, r Value) Value {
		t := dto(r)
		return DateTime{T: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}
	})
	registerDateParts(t, dto)
	registerDateArithmetic(t)
}
