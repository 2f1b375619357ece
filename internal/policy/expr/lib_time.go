package expr

import (
	"math"
	"strconv"
	"strings"
	"time"
)

var (
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	dayNames   = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	year1      = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
)

const unixToYear1 = 62135596800 // seconds from 0001-01-01 to 1970-01-01

func ticksOf(t time.Time) int64 {
	return (t.Unix()+unixToYear1)*10_000_000 + int64(t.Nanosecond()/100)
}

func fromTicks(ticks int64) time.Time {
	sec := ticks/10_000_000 - unixToYear1
	ns := (ticks % 10_000_000) * 100
	return time.Unix(sec, ns).UTC()
}

func standardDatePattern(f string) (string, bool) {
	switch f {
	case "d":
		return "MM/dd/yyyy", true
	case "D":
		return "dddd, dd MMMM yyyy", true
	case "f":
		return "dddd, dd MMMM yyyy HH:mm", true
	case "F", "U":
		return "dddd, dd MMMM yyyy HH:mm:ss", true
	case "g":
		return "MM/dd/yyyy HH:mm", true
	case "G":
		return "MM/dd/yyyy HH:mm:ss", true
	case "m", "M":
		return "MMMM dd", true
	case "o", "O":
		return "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK", true
	case "r", "R":
		return "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'", true
	case "s":
		return "yyyy'-'MM'-'dd'T'HH':'mm':'ss", true
	case "t":
		return "HH:mm", true
	case "T":
		return "HH:mm:ss", true
	case "u":
		return "yyyy'-'MM'-'dd HH':'mm':'ss'Z'", true
	case "y", "Y":
		return "yyyy MMMM", true
	}
	return "", false
}

func formatDateTime(d DateTime, f string) string {
	if f == "" {
		f = "G"
	}
	t := d.T
	if len(f) == 1 {
		p, ok := standardDatePattern(f)
		if !ok {
			throwf("FormatException", "Input string was not in a correct format.")
		}
		if f == "U" {
			d.Kind = UTC
		}
		f = p
	}
	return customDate(t, f, func() string {
		switch d.Kind {
		case UTC:
			return "Z"
		case Local:
			return "+00:00"
		}
		return ""
	}, 0)
}

func formatDateTimeOffset(d DateTimeOffset, f string) string {
	if f == "" {
		f = "G"
		p, _ := standardDatePattern("G")
		f = p + " zzz"
	}
	t := d.T
	if len(f) == 1 {
		if f == "r" || f == "R" || f == "u" || f == "U" {
			t = t.UTC()
		}
		p, ok := standardDatePattern(f)
		if !ok {
			throwf("FormatException", "Input string was not in a correct format.")
		}
		f = p
	}
	_, off := t.Zone()
	return customDate(t, f, func() string { return offsetStr(off, true) }, off)
}

func offsetStr(off int, colon bool) string {
	sign := "+"
	if off < 0 {
		sign = "-"
		off = -off
	}
	h, m := off/3600, off%3600/60
	if colon {
		return sign + pad2(h) + ":" + pad2(m)
	}
	return sign + pad2(h)
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func padN(n, w int) string {
	s := strconv.Itoa(n)
	for len(s) < w {
		s = "0" + s
	}
	return s
}

func runLen(f string, i int) int {
	n := 1
	for i+n < len(f) && f[i+n] == f[i] {
		n++
	}
	return n
}

func customDate(t time.Time, f string, kind func() string, off int) string {
	var b strings.Builder
	for i := 0; i < len(f); {
		c := f[i]
		n := runLen(f, i)
		switch c {
		case 'd':
			switch n {
			case 1:
				b.WriteString(strconv.Itoa(t.Day()))
			case 2:
				b.WriteString(pad2(t.Day()))
			case 3:
				b.WriteString(dayNames[t.Weekday()][:3])
			default:
				b.WriteString(dayNames[t.Weekday()])
			}
		case 'f', 'F':
			if n > 7 {
				throwf("FormatException", "Input string was not in a correct format.")
			}
			frac := padN(t.Nanosecond()/100, 7)[:n]
			if c == 'F' {
				frac = strings.TrimRight(frac, "0")
				if frac == "" && b.Len() > 0 && strings.HasSuffix(b.String(), ".") {
					s := b.String()
					b.Reset()
					b.WriteString(s[:len(s)-1])
				}
			}
			b.WriteString(frac)
		case 'g':
			b.WriteString("A.D.")
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			if n == 1 {
				b.WriteString(strconv.Itoa(h))
			} else {
				b.WriteString(pad2(h))
			}
		case 'H':
			if n == 1 {
				b.WriteString(strconv.Itoa(t.Hour()))
			} else {
				b.WriteString(pad2(t.Hour()))
			}
		case 'K':
			b.WriteString(kind())
			n = 1
		case 'm':
			if n == 1 {
				b.WriteString(strconv.Itoa(t.Minute()))
			} else {
				b.WriteString(pad2(t.Minute()))
			}
		case 'M':
			switch n {
			case 1:
				b.WriteString(strconv.Itoa(int(t.Month())))
			case 2:
				b.WriteString(pad2(int(t.Month())))
			case 3:
				b.WriteString(monthNames[t.Month()-1][:3])
			default:
				b.WriteString(monthNames[t.Month()-1])
			}
		case 's':
			if n == 1 {
				b.WriteString(strconv.Itoa(t.Second()))
			} else {
				b.WriteString(pad2(t.Second()))
			}
		case 't':
			ap := "AM"
			if t.Hour() >= 12 {
				ap = "PM"
			}
			if n == 1 {
				ap = ap[:1]
			}
			b.WriteString(ap)
		case 'y':
			y := t.Year()
			switch n {
			case 1:
				b.WriteString(strconv.Itoa(y % 100))
			case 2:
				b.WriteString(pad2(y % 100))
			default:
				b.WriteString(padN(y, n))
			}
		case 'z':
			switch n {
			case 1:
				s := offsetStr(off, false)
				if s[1] == '0' {
					s = s[:1] + s[2:]
				}
				b.WriteString(s)
			case 2:
				b.WriteString(offsetStr(off, false))
			default:
				b.WriteString(offsetStr(off, true))
			}
		case '\'', '"':
			end := strings.IndexByte(f[i+1:], c)
			if end < 0 {
				throwf("FormatException", "Cannot find a matching quote character for the character '%c'.", c)
			}
			b.WriteString(f[i+1 : i+1+end])
			n = end + 2
		case '\\':
			if i+1 < len(f) {
				b.WriteByte(f[i+1])
			}
			n = 2
		case '%':
			n = 1
		default:
			b.WriteString(f[i : i+n])
		}
		i += n
	}
	return b.String()
}

// ---- TimeSpan -----------------------------------------------------------------------

func formatTimeSpan(d time.Duration) string {
	var b strings.Builder
	ticks := int64(d) / 100
	if ticks < 0 {
		b.WriteByte('-')
		ticks = -ticks
	}
	days := ticks / (864_000_000_000)
	rem := ticks % 864_000_000_000
	if days > 0 {
		b.WriteString(strconv.FormatInt(days, 10))
		b.WriteByte('.')
	}
	h := rem / 36_000_000_000
	m := rem / 600_000_000 % 60
	s := rem / 10_000_000 % 60
	fr := rem % 10_000_000
	b.WriteString(pad2(int(h)) + ":" + pad2(int(m)) + ":" + pad2(int(s)))
	if fr > 0 {
		b.WriteString("." + padN(int(fr), 7))
	}
	return b.String()
}

func formatTimeSpanFmt(d time.Duration, f string) string {
	switch f {
	case "c", "t", "T", "":
		return formatTimeSpan(d)
	case "g", "G":
		ticks := int64(d) / 100
		neg := ticks < 0
		if neg {
			ticks = -ticks
		}
		days := ticks / 864_000_000_000
		rem := ticks % 864_000_000_000
		var b strings.Builder
		if neg {
			b.WriteByte('-')
		}
		if days > 0 || f == "G" {
			b.WriteString(strconv.FormatInt(days, 10) + ":")
		}
		h := rem / 36_000_000_000
		if f == "G" {
			b.WriteString(pad2(int(h)))
		} else {
			b.WriteString(strconv.FormatInt(h, 10))
		}
		b.WriteString(":" + pad2(int(rem/600_000_000%60)) + ":" + pad2(int(rem/10_000_000%60)))
		fr := rem % 10_000_000
		if f == "G" {
			b.WriteString("." + padN(int(fr), 7))
		} else if fr > 0 {
			b.WriteString("." + strings.TrimRight(padN(int(fr), 7), "0"))
		}
		return b.String()
	}
	ticks := int64(d) / 100
	if ticks < 0 {
		ticks = -ticks
	}
	days := ticks / 864_000_000_000
	rem := ticks % 864_000_000_000
	var b strings.Builder
	for i := 0; i < len(f); {
		c := f[i]
		n := runLen(f, i)
		switch c {
		case 'd':
			b.WriteString(padN(int(days), n))
		case 'h':
			b.WriteString(padN(int(rem/36_000_000_000), min(n, 2)))
		case 'm':
			b.WriteString(padN(int(rem/600_000_000%60), min(n, 2)))
		case 's':
			b.WriteString(padN(int(rem/10_000_000%60), min(n, 2)))
		case 'f', 'F':
			fr := padN(int(rem%10_000_000), 7)[:min(n, 7)]
			if c == 'F' {
				fr = strings.TrimRight(fr, "0")
			}
			b.WriteString(fr)
		case '\\':
			if i+1 < len(f) {
				b.WriteByte(f[i+1])
			}
			n = 2
		case '\'', '"':
			end := strings.IndexByte(f[i+1:], c)
			if end < 0 {
				throwf("FormatException", "Input string was not in a correct format.")
			}
			b.WriteString(f[i+1 : i+1+end])
			n = end + 2
		case '%':
			n = 1
		default:
			throwf("FormatException", "Input string was not in a correct format.")
		}
		i += n
	}
	return b.String()
}

func parseTimeSpan(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var days int64
	if i := strings.IndexByte(s, '.'); i >= 0 && (strings.IndexByte(s, ':') < 0 || i < strings.IndexByte(s, ':')) {
		d, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil {
			return 0, false
		}
		days = d
		s = s[i+1:]
	} else if !strings.Contains(s, ":") {
		d, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, false
		}
		r := time.Duration(d) * 24 * time.Hour
		if neg {
			r = -r
		}
		return r, true
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || h > 23 || m > 59 {
		return 0, false
	}
	var sec float64
	if len(parts) == 3 {
		sp, frac, _ := strings.Cut(parts[2], ".")
		si, err := strconv.Atoi(sp)
		if err != nil || si > 59 {
			return 0, false
		}
		sec = float64(si)
		if frac != "" {
			f, err := strconv.ParseFloat("0."+frac, 64)
			if err != nil {
				return 0, false
			}
			sec += f
		}
	}
	r := time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec*1e9)
	if neg {
		r = -r
	}
	return r, true
}

// ---- parsing -----------------------------------------------------------------------------

var dateLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05.9999999Z07:00", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05.9999999", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05.9999999Z07:00",
	"2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02", "2006/01/02", "2006/01/02 15:04:05",
	"1/2/2006", "1/2/2006 15:04:05", "1/2/2006 3:04:05 PM", "1/2/2006 15:04", "01/02/2006 15:04:05",
	time.RFC1123, time.RFC1123Z, "Mon, 2 Jan 2006 15:04:05 MST", "2 Jan 2006", "January 2, 2006", "2 January 2006",
	"Monday, 02 January 2006 15:04:05", "Monday, 02 January 2006", "Jan 2, 2006", "2006-01-02T15:04:05.9999999-0700", "2006-01-02T15:04:05-0700",
}

// parseDate implements DateTime.Parse (invariant culture). Strings with an
// offset or Z are converted to UTC; the kind is Local (as .NET does), or UTC
// with DateTimeStyles.AdjustToUniversal/RoundtripKind.
func parseDate(s string, styles string) (DateTime, time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		t, err := time.Parse(l, s)
		if err != nil {
			continue
		}
		hasZone := strings.Contains(l, "Z07") || strings.Contains(l, "MST") || strings.Contains(l, "-0700")
		if !hasZone {
			return DateTime{T: t, Kind: Unspecified}, t, true
		}
		k := Local
		if styles == "AdjustToUniversal" || styles == "RoundtripKind" && strings.HasSuffix(s, "Z") {
			k = UTC
		}
		return DateTime{T: t.UTC(), Kind: k}, t, true
	}
	return DateTime{}, time.Time{}, false
}

// parseExact parses s with a .NET custom (or one-letter standard) format.
func parseExact(s, f string) (time.Time, bool, bool) {
	if len(f) == 1 {
		p, ok := standardDatePattern(f)
		if !ok {
			return time.Time{}, false, false
		}
		f = p
	}
	year, month, day, hour, minute, sec, nsec := 1, 1, 1, 0, 0, 0, 0
	pm, hasAMPM := false, false
	off, hasOff := 0, false
	i := 0
	num := func(minW, maxW int) (int, bool) {
		j := i
		for j < len(s) && j-i < maxW && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j-i < minW {
			return 0, false
		}
		n, _ := strconv.Atoi(s[i:j])
		i = j
		return n, true
	}
	for k := 0; k < len(f); {
		c := f[k]
		n := runLen(f, k)
		ok := true
		switch c {
		case 'y':
			if n <= 2 {
				var y int
				y, ok = num(2, 2)
				year = 2000 + y
				if y >= 50 {
					year = 1900 + y
				}
			} else {
				year, ok = num(n, n)
			}
		case 'M':
			if n <= 2 {
				month, ok = num(n, 2)
			} else {
				ok = false
				for mi, name := range monthNames {
					cand := name
					if n == 3 {
						cand = name[:3]
					}
					if strings.HasPrefix(strings.ToLower(s[i:]), strings.ToLower(cand)) {
						month, ok = mi+1, true
						i += len(cand)
						break
					}
				}
			}
		case 'd':
			if n <= 2 {
				day, ok = num(n, 2)
			} else {
				ok = false
				for _, name := range dayNames {
					cand := name
					if n == 3 {
						cand = name[:3]
					}
					if strings.HasPrefix(strings.ToLower(s[i:]), strings.ToLower(cand)) {
						i += len(cand)
						ok = true
						break
					}
				}
			}
		case 'H', 'h':
			hour, ok = num(n, 2)
			if c == 'h' {
				hasAMPM = true
			}
		case 'm':
			minute, ok = num(n, 2)
		case 's':
			sec, ok = num(n, 2)
		case 'f', 'F':
			var fr int
			start := i
			fr, ok = num(map[bool]int{true: 0, false: n}[c == 'F'], n)
			w := i - start
			for ; w < 9; w++ {
				fr *= 10
			}
			nsec = fr
		case 't':
			ok = false
			if strings.HasPrefix(strings.ToUpper(s[i:]), "AM") || strings.HasPrefix(strings.ToUpper(s[i:]), "PM") {
				pm = strings.ToUpper(s[i:i+1]) == "P"
				i += 2
				ok = true
			}
			hasAMPM = true
		case 'K', 'z':
			if i < len(s) && s[i] == 'Z' {
				i++
				hasOff = true
				break
			}
			if i < len(s) && (s[i] == '+' || s[i] == '-') {
				sg := 1
				if s[i] == '-' {
					sg = -1
				}
				i++
				h, ok1 := num(1, 2)
				m := 0
				if i < len(s) && s[i] == ':' {
					i++
				}
				if i < len(s) && s[i] >= '0' && s[i] <= '9' {
					m, _ = num(2, 2)
				}
				ok = ok1
				off = sg * (h*3600 + m*60)
				hasOff = true
			} else if c == 'z' {
				ok = false
			}
		case '\'', '"':
			end := strings.IndexByte(f[k+1:], c)
			if end < 0 {
				return time.Time{}, false, false
			}
			lit := f[k+1 : k+1+end]
			ok = strings.HasPrefix(s[i:], lit)
			i += len(lit)
			n = end + 2
		case '\\':
			if k+1 < len(f) {
				ok = i < len(s) && s[i] == f[k+1]
				i++
			}
			n = 2
		default:
			lit := f[k : k+n]
			ok = strings.HasPrefix(s[i:], lit)
			i += len(lit)
		}
		if !ok {
			return time.Time{}, false, false
		}
		k += n
	}
	if i != len(s) {
		return time.Time{}, false, false
	}
	if hasAMPM {
		if pm && hour < 12 {
			hour += 12
		} else if !pm && hour == 12 {
			hour = 0
		}
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.FixedZone("", off))
	if t.Day() != day {
		return time.Time{}, false, false
	}
	return t, hasOff, true
}

func registerTime() {
	now := func(e *env) DateTime { return DateTime{T: e.clock().UTC(), Kind: UTC} }
	staticProp("DateTime", "UtcNow", func(e *env) Value { return now(e) })
	staticProp("DateTime", "Now", func(e *env) Value { d := now(e); d.Kind = Local; return d })
	staticProp("DateTime", "Today", func(e *env) Value {
		t := e.clock().UTC()
		return DateTime{T: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), Kind: Local}
	})
	staticProp("DateTime", "MinValue", func(e *env) Value { return DateTime{T: year1} })
	staticProp("DateTime", "MaxValue", func(e *env) Value { return DateTime{T: fromTicks(3155378975999999999)} })
	staticProp("DateTime", "UnixEpoch", func(e *env) Value { return DateTime{T: time.Unix(0, 0).UTC(), Kind: UTC} })
	enum("DateTimeKind", "Unspecified", "Utc", "Local")
	enum("DayOfWeek", dayNames...)
	ctor("DateTime", func(e *env, a []Value, cs *callSite) Value {
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
	static("DateTime", "Parse", func(e *env, a []Value, cs *callSite) Value {
		d, _, ok := parseDate(argStr(a, 0, cs), styleOf(a))
		if !ok {
			throwf("FormatException", "String '%s' was not recognized as a valid DateTime.", argStr(a, 0, cs))
		}
		return d
	})
	static("DateTime", "TryParse", func(e *env, a []Value, cs *callSite) Value {
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
	static("DateTime", "ParseExact", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		d, ok := exact(argStr(a, 0, cs), a, cs)
		if !ok {
			throwf("FormatException", "String '%s' was not recognized as a valid DateTime.", argStr(a, 0, cs))
		}
		return d
	})
	static("DateTime", "TryParseExact", func(e *env, a []Value, cs *callSite) Value {
		need(a, 3, cs)
		s, _ := argStrOrNull(a, 0, cs)
		d, ok := exact(s, a, cs)
		setOut(e, a, len(a)-1, cs, d)
		return ok
	})
	static("DateTime", "SpecifyKind", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		d := a[0].(DateTime)
		ev, _ := argEnum(a, 1, "DateTimeKind")
		d.Kind = DateTimeKind(ev.v)
		return d
	})
	static("DateTime", "DaysInMonth", func(e *env, a []Value, cs *callSite) Value {
		y, m := argInt(a, 0, cs), argInt(a, 1, cs)
		return int32(time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day())
	})
	static("DateTime", "IsLeapYear", func(e *env, a []Value, cs *callSite) Value {
		y := argInt(a, 0, cs)
		return y%4 == 0 && (y%100 != 0 || y%400 == 0)
	})
	static("DateTime", "Compare", func(e *env, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		return int32(compare(a[0], a[1]))
	})
	static("DateTime", "FromBinary", func(e *env, a []Value, cs *callSite) Value {
		n, _ := toI64(a[0])
		return DateTime{T: fromTicks(n & 0x3FFFFFFFFFFFFFFF)}
	})

	dt := func(r Value) DateTime { return r.(DateTime) }
	dtProps := func(k kind, get func(Value) time.Time) {
		prop(k, "Year", func(e *env, r Value) Value { return int32(get(r).Year()) })
		prop(k, "Month", func(e *env, r Value) Value { return int32(get(r).Month()) })
		prop(k, "Day", func(e *env, r Value) Value { return int32(get(r).Day()) })
		prop(k, "Hour", func(e *env, r Value) Value { return int32(get(r).Hour()) })
		prop(k, "Minute", func(e *env, r Value) Value { return int32(get(r).Minute()) })
		prop(k, "Second", func(e *env, r Value) Value { return int32(get(r).Second()) })
		prop(k, "Millisecond", func(e *env, r Value) Value { return int32(get(r).Nanosecond() / 1e6) })
		prop(k, "DayOfYear", func(e *env, r Value) Value { return int32(get(r).YearDay()) })
		prop(k, "DayOfWeek", func(e *env, r Value) Value {
			w := int(get(r).Weekday())
			return enumValue{typ: "DayOfWeek", name: dayNames[w], v: w}
		})
		prop(k, "Ticks", func(e *env, r Value) Value { return ticksOf(get(r)) })
		prop(k, "TimeOfDay", func(e *env, r Value) Value {
			t := get(r)
			return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond())
		})
	}
	dtProps(kDateTime, func(r Value) time.Time { return dt(r).T })
	dtProps(kDateTimeOffset, func(r Value) time.Time { return r.(DateTimeOffset).T })
	prop(kDateTime, "Kind", func(e *env, r Value) Value {
		k := dt(r).Kind
		return enumValue{typ: "DateTimeKind", name: []string{"Unspecified", "Utc", "Local"}[k], v: int(k)}
	})
	prop(kDateTime, "Date", func(e *env, r Value) Value {
		d := dt(r)
		t := d.T
		return DateTime{T: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), Kind: d.Kind}
	})
	add := func(k kind, name string, f func(t time.Time, a []Value, cs *callSite) time.Time) {
		method(k, name, func(e *env, r Value, a []Value, cs *callSite) Value {
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
	for _, k := range []kind{kDateTime, kDateTimeOffset} {
		add(k, "AddDays", dur(float64(24*time.Hour)))
		add(k, "AddHours", dur(float64(time.Hour)))
		add(k, "AddMinutes", dur(float64(time.Minute)))
		add(k, "AddSeconds", dur(float64(time.Second)))
		add(k, "AddMilliseconds", dur(float64(time.Millisecond)))
		add(k, "AddTicks", func(t time.Time, a []Value, cs *callSite) time.Time {
			n, _ := toI64(a[0])
			return t.Add(time.Duration(n) * 100)
		})
		add(k, "AddMonths", func(t time.Time, a []Value, cs *callSite) time.Time { return addMonths(t, argInt(a, 0, cs)) })
		add(k, "AddYears", func(t time.Time, a []Value, cs *callSite) time.Time { return addMonths(t, 12*argInt(a, 0, cs)) })
		add(k, "Add", func(t time.Time, a []Value, cs *callSite) time.Time {
			need(a, 1, cs)
			d, ok := a[0].(time.Duration)
			if !ok {
				throwf("ArgumentException", "Add takes a TimeSpan")
			}
			return t.Add(d)
		})
		method(k, "Subtract", func(e *env, r Value, a []Value, cs *callSite) Value {
			need(a, 1, cs)
			return arith('-', r, a[0])
		})
	}
	method(kDateTime, "ToUniversalTime", func(e *env, r Value, a []Value, cs *callSite) Value {
		d := dt(r)
		d.Kind = UTC
		return d
	})
	method(kDateTime, "ToLocalTime", func(e *env, r Value, a []Value, cs *callSite) Value {
		d := dt(r)
		d.Kind = Local
		return d
	})
	method(kDateTime, "ToShortDateString", func(e *env, r Value, a []Value, cs *callSite) Value { return formatDateTime(dt(r), "d") })
	method(kDateTime, "ToLongDateString", func(e *env, r Value, a []Value, cs *callSite) Value { return formatDateTime(dt(r), "D") })
	method(kDateTime, "ToShortTimeString", func(e *env, r Value, a []Value, cs *callSite) Value { return formatDateTime(dt(r), "t") })
	method(kDateTime, "ToLongTimeString", func(e *env, r Value, a []Value, cs *callSite) Value { return formatDateTime(dt(r), "T") })
	method(kDateTime, "ToBinary", func(e *env, r Value, a []Value, cs *callSite) Value { return ticksOf(dt(r).T) })

	// DateTimeOffset
	staticProp("DateTimeOffset", "UtcNow", func(e *env) Value { return DateTimeOffset{T: e.clock().UTC()} })
	staticProp("DateTimeOffset", "Now", func(e *env) Value { return DateTimeOffset{T: e.clock().UTC()} })
	staticProp("DateTimeOffset", "MinValue", func(e *env) Value { return DateTimeOffset{T: year1} })
	staticProp("DateTimeOffset", "MaxValue", func(e *env) Value { return DateTimeOffset{T: fromTicks(3155378975999999999)} })
	staticProp("DateTimeOffset", "UnixEpoch", func(e *env) Value { return DateTimeOffset{T: time.Unix(0, 0).UTC()} })
	ctor("DateTimeOffset", func(e *env, a []Value, cs *callSite) Value {
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
	static("DateTimeOffset", "FromUnixTimeSeconds", func(e *env, a []Value, cs *callSite) Value {
		n, _ := toI64(a[0])
		return DateTimeOffset{T: time.Unix(n, 0).UTC()}
	})
	static("DateTimeOffset", "FromUnixTimeMilliseconds", func(e *env, a []Value, cs *callSite) Value {
		n, _ := toI64(a[0])
		return DateTimeOffset{T: time.UnixMilli(n).UTC()}
	})
	dtoParse := func(s string) (DateTimeOffset, bool) {
		_, t, ok := parseDate(s, "")
		return DateTimeOffset{T: t}, ok
	}
	static("DateTimeOffset", "Parse", func(e *env, a []Value, cs *callSite) Value {
		d, ok := dtoParse(argStr(a, 0, cs))
		if !ok {
			throwf("FormatException", "String '%s' was not recognized as a valid DateTime.", argStr(a, 0, cs))
		}
		return d
	})
	static("DateTimeOffset", "TryParse", func(e *env, a []Value, cs *callSite) Value {
		s, _ := argStrOrNull(a, 0, cs)
		d, ok := dtoParse(s)
		setOut(e, a, len(a)-1, cs, d)
		return ok
	})
	static("DateTimeOffset", "ParseExact", func(e *env, a []Value, cs *callSite) Value {
		t, _, ok := parseExact(argStr(a, 0, cs), argStr(a, 1, cs))
		if !ok {
			throwf("FormatException", "String '%s' was not recognized as a valid DateTime.", argStr(a, 0, cs))
		}
		return DateTimeOffset{T: t}
	})
	dto := func(r Value) time.Time { return r.(DateTimeOffset).T }
	method(kDateTimeOffset, "ToUnixTimeSeconds", func(e *env, r Value, a []Value, cs *callSite) Value { return dto(r).Unix() })
	method(kDateTimeOffset, "ToUnixTimeMilliseconds", func(e *env, r Value, a []Value, cs *callSite) Value { return dto(r).UnixMilli() })
	method(kDateTimeOffset, "ToUniversalTime", func(e *env, r Value, a []Value, cs *callSite) Value { return DateTimeOffset{T: dto(r).UTC()} })
	method(kDateTimeOffset, "ToOffset", func(e *env, r Value, a []Value, cs *callSite) Value {
		off, _ := a[0].(time.Duration)
		return DateTimeOffset{T: dto(r).In(time.FixedZone("", int(off/time.Second)))}
	})
	prop(kDateTimeOffset, "UtcDateTime", func(e *env, r Value) Value { return DateTime{T: dto(r).UTC(), Kind: UTC} })
	prop(kDateTimeOffset, "DateTime", func(e *env, r Value) Value {
		t := dto(r)
		return DateTime{T: time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)}
	})
	prop(kDateTimeOffset, "LocalDateTime", func(e *env, r Value) Value { return DateTime{T: dto(r).UTC(), Kind: Local} })
	prop(kDateTimeOffset, "UtcTicks", func(e *env, r Value) Value { return ticksOf(dto(r).UTC()) })
	prop(kDateTimeOffset, "Offset", func(e *env, r Value) Value {
		_, off := dto(r).Zone()
		return time.Duration(off) * time.Second
	})
	prop(kDateTimeOffset, "Date", func(e *env, r Value) Value {
		t := dto(r)
		return DateTime{T: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}
	})
	// extension: DateTime to unix seconds is common via DateTimeOffset; also allow on DateTime
	method(kDateTime, "ToUnixTimeSeconds", func(e *env, r Value, a []Value, cs *callSite) Value { return dt(r).T.Unix() })

	// TimeSpan
	from := func(unit time.Duration, roundMs bool) staticFn {
		return func(e *env, a []Value, cs *callSite) Value {
			f := argF64(a, 0, cs)
			return time.Duration(math.Round(f * float64(unit)))
		}
	}
	static("TimeSpan", "FromDays", from(24*time.Hour, true))
	static("TimeSpan", "FromHours", from(time.Hour, true))
	static("TimeSpan", "FromMinutes", from(time.Minute, true))
	static("TimeSpan", "FromSeconds", from(time.Second, true))
	static("TimeSpan", "FromMilliseconds", from(time.Millisecond, true))
	static("TimeSpan", "FromTicks", func(e *env, a []Value, cs *callSite) Value {
		n, _ := toI64(a[0])
		return time.Duration(n) * 100
	})
	staticProp("TimeSpan", "Zero", func(*env) Value { return time.Duration(0) })
	staticProp("TimeSpan", "MaxValue", func(*env) Value { return time.Duration(math.MaxInt64) })
	staticProp("TimeSpan", "MinValue", func(*env) Value { return time.Duration(math.MinInt64) })
	static("TimeSpan", "Parse", func(e *env, a []Value, cs *callSite) Value {
		d, ok := parseTimeSpan(argStr(a, 0, cs))
		if !ok {
			throwf("FormatException", "String '%s' was not recognized as a valid TimeSpan.", argStr(a, 0, cs))
		}
		return d
	})
	static("TimeSpan", "TryParse", func(e *env, a []Value, cs *callSite) Value {
		s, _ := argStrOrNull(a, 0, cs)
		d, ok := parseTimeSpan(s)
		setOut(e, a, len(a)-1, cs, d)
		return ok
	})
	ctor("TimeSpan", func(e *env, a []Value, cs *callSite) Value {
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
	prop(kTimeSpan, "Days", func(e *env, r Value) Value { return int32(ts(r) / (24 * time.Hour)) })
	prop(kTimeSpan, "Hours", func(e *env, r Value) Value { return int32(ts(r) % (24 * time.Hour) / time.Hour) })
	prop(kTimeSpan, "Minutes", func(e *env, r Value) Value { return int32(ts(r) % time.Hour / time.Minute) })
	prop(kTimeSpan, "Seconds", func(e *env, r Value) Value { return int32(ts(r) % time.Minute / time.Second) })
	prop(kTimeSpan, "Milliseconds", func(e *env, r Value) Value { return int32(ts(r) % time.Second / time.Millisecond) })
	prop(kTimeSpan, "Ticks", func(e *env, r Value) Value { return int64(ts(r) / 100) })
	prop(kTimeSpan, "TotalDays", func(e *env, r Value) Value { return float64(ts(r)/100) / 864e9 })
	prop(kTimeSpan, "TotalHours", func(e *env, r Value) Value { return float64(ts(r)/100) / 36e9 })
	prop(kTimeSpan, "TotalMinutes", func(e *env, r Value) Value { return float64(ts(r)/100) / 6e8 })
	prop(kTimeSpan, "TotalSeconds", func(e *env, r Value) Value { return float64(ts(r)/100) / 1e7 })
	prop(kTimeSpan, "TotalMilliseconds", func(e *env, r Value) Value { return float64(ts(r)) / 1e6 })
	method(kTimeSpan, "Add", func(e *env, r Value, a []Value, cs *callSite) Value { need(a, 1, cs); return arith('+', r, a[0]) })
	method(kTimeSpan, "Subtract", func(e *env, r Value, a []Value, cs *callSite) Value { need(a, 1, cs); return arith('-', r, a[0]) })
	method(kTimeSpan, "Negate", func(e *env, r Value, a []Value, cs *callSite) Value { return -ts(r) })
	method(kTimeSpan, "Duration", func(e *env, r Value, a []Value, cs *callSite) Value {
		if ts(r) < 0 {
			return -ts(r)
		}
		return r
	})
}

func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	total := int(m) - 1 + n
	ny := y + total/12
	nm := total % 12
	if nm < 0 {
		nm += 12
		ny--
	}
	last := time.Date(ny, time.Month(nm+2), 0, 0, 0, 0, 0, time.UTC).Day()
	if d > last {
		d = last
	}
	return time.Date(ny, time.Month(nm+1), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}
