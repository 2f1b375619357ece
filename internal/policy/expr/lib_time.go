package expr

import (
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
// with DateTimeStyles.AdjustToUniversal/RoundtripKind. Strings without one
// are Unspecified, or Local with AssumeLocal and AssumeUniversal (the local
// zone of a gateway is UTC).
func parseDate(s string, styles string) (DateTime, time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		t, err := time.Parse(l, s)
		if err != nil {
			continue
		}
		hasZone := strings.Contains(l, "Z07") || strings.Contains(l, "MST") || strings.Contains(l, "-0700")
		if !hasZone {
			k := Unspecified
			if styles == "AssumeLocal" || styles == "AssumeUniversal" { // a UTC time converted to the (UTC) local zone
				k = Local
			}
			return DateTime{T: t, Kind: k}, t, true
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
