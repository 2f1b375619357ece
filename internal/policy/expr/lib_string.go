package expr

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

func ignoreCaseArg(a []Value, i int) bool {
	if ev, ok := argEnum(a, i, "StringComparison"); ok {
		return ev.v%2 == 1
	}
	if i < len(a) {
		if b, ok := a[i].(bool); ok {
			return b
		}
	}
	return false
}

func strOrChar(a []Value, i int, cs *callSite) string {
	need(a, i+1, cs)
	if c, ok := a[i].(Char); ok {
		return toStr(c)
	}
	if a[i] == nil {
		throwf("ArgumentNullException", "Value cannot be null. (Parameter 'value')")
	}
	return argStr(a, i, cs)
}

// byteToU16 converts a byte offset in s (from strings.Index) to UTF-16 units.
func idxResult(s string, i int) Value {
	if i < 0 {
		return int32(-1)
	}
	return int32(u16Index(s, i))
}

// u16ToByte converts a UTF-16 index into a byte offset of s.
func u16ToByte(s string, i int) int {
	if isASCII(s) {
		return i
	}
	n := 0
	for off, r := range s {
		if n >= i {
			return off
		}
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return len(s)
}

func indexOf(s, sub string, start int, ignore, last bool) int {
	if start < 0 || start > strLen(s) {
		throwf("ArgumentOutOfRangeException", "Index was out of range. Must be non-negative and less than or equal to the size of the collection.")
	}
	bs := u16ToByte(s, start)
	hay, needle := s, sub
	if ignore {
		hay, needle = strings.ToLower(s), strings.ToLower(sub)
		if len(hay) != len(s) {
			hay, needle = s, sub
		}
	}
	if last {
		i := strings.LastIndex(hay, needle)
		return i
	}
	i := strings.Index(hay[bs:], needle)
	if i < 0 {
		return -1
	}
	return i + bs
}

func splitSeps(a []Value, cs *callSite) (seps []string, count int, opts int) {
	count = -1
	for i, v := range a {
		switch x := v.(type) {
		case Char:
			seps = append(seps, toStr(x))
		case string:
			seps = append(seps, x)
		case *List:
			for _, it := range x.Items {
				seps = append(seps, toStr(it))
			}
		case nil:
		case enumValue:
			opts = x.v
		case int32:
			count = int(x)
		default:
			throwf("ArgumentException", "argument %d of Split has an unsupported type %s", i+1, typeName(v))
		}
	}
	return
}

func splitString(s string, seps []string, count, opts int) *List {
	var parts []string
	if len(seps) == 0 {
		parts = strings.FieldsFunc(s, unicode.IsSpace)
		// FieldsFunc drops empties; C# keeps them: emulate
		parts = nil
		start := 0
		for i, r := range s {
			if unicode.IsSpace(r) {
				parts = append(parts, s[start:i])
				start = i + len(string(r))
			}
		}
		parts = append(parts, s[start:])
	} else {
		rest := s
		for {
			if count > 0 && len(parts) == count-1 {
				parts = append(parts, rest)
				break
			}
			best, bestLen := -1, 0
			for _, sep := range seps {
				if sep == "" {
					continue
				}
				if i := strings.Index(rest, sep); i >= 0 && (best < 0 || i < best) {
					best, bestLen = i, len(sep)
				}
			}
			if best < 0 {
				parts = append(parts, rest)
				break
			}
			parts = append(parts, rest[:best])
			rest = rest[best+bestLen:]
		}
	}
	l := &List{Elem: "string", Array: true, Items: make([]Value, 0, len(parts))}
	for _, p := range parts {
		if opts&2 != 0 {
			p = strings.TrimSpace(p)
		}
		if opts&1 != 0 && p == "" {
			continue
		}
		l.Items = append(l.Items, p)
	}
	if count == 0 {
		l.Items = l.Items[:0]
	}
	return l
}

func trimSet(a []Value) func(rune) bool {
	if len(a) == 0 {
		return unicode.IsSpace
	}
	var set []rune
	for _, v := range a {
		switch x := v.(type) {
		case Char:
			set = append(set, rune(x))
		case *List:
			for _, it := range x.Items {
				if c, ok := it.(Char); ok {
					set = append(set, rune(c))
				}
			}
		case string:
			set = append(set, []rune(x)...)
		}
	}
	return func(r rune) bool {
		for _, c := range set {
			if c == r {
				return true
			}
		}
		return false
	}
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

func replaceFold(s, old, nw string) string {
	ls, lo := strings.ToLower(s), strings.ToLower(old)
	if len(ls) != len(s) {
		return strings.ReplaceAll(s, old, nw)
	}
	var b strings.Builder
	for {
		i := strings.Index(ls, lo)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(nw)
		s, ls = s[i+len(old):], ls[i+len(old):]
	}
}

// compositeFormat implements string.Format's "{index[,alignment][:format]}".
func compositeFormat(f string, args []Value) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c == '{' {
			if i+1 < len(f) && f[i+1] == '{' {
				b.WriteByte('{')
				i++
				continue
			}
			end := strings.IndexByte(f[i:], '}')
			if end < 0 {
				throwf("FormatException", "Input string was not in a correct format.")
			}
			spec := f[i+1 : i+end]
			i += end
			fmtS := ""
			if k := strings.IndexByte(spec, ':'); k >= 0 {
				spec, fmtS = spec[:k], spec[k+1:]
			}
			align := 0
			if k := strings.IndexByte(spec, ','); k >= 0 {
				a, err := strconv.Atoi(strings.TrimSpace(spec[k+1:]))
				if err != nil {
					throwf("FormatException", "Input string was not in a correct format.")
				}
				align = a
				spec = spec[:k]
			}
			n, err := strconv.Atoi(strings.TrimSpace(spec))
			if err != nil || n < 0 {
				throwf("FormatException", "Input string was not in a correct format.")
			}
			if n >= len(args) {
				throwf("FormatException", "Index (zero based) must be greater than or equal to zero and less than the size of the argument list.")
			}
			b.WriteString(alignStr(formatValue(args[n], fmtS), align))
			continue
		}
		if c == '}' {
			if i+1 < len(f) && f[i+1] == '}' {
				i++
			} else {
				throwf("FormatException", "Input string was not in a correct format.")
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// formatValue is v.ToString(format) / "{0:format}" under the invariant culture.
func formatValue(v Value, format string) string {
	if format == "" {
		return toStr(v)
	}
	if jv, ok := v.(*JValue); ok {
		v = jv.plain()
	}
	switch x := v.(type) {
	case DateTime:
		return formatDateTime(x, format)
	case DateTimeOffset:
		return formatDateTimeOffset(x, format)
	case time.Duration:
		return formatTimeSpanFmt(x, format)
	case Guid:
		return formatGuid(x, format)
	case int32, int64, uint8, float64, Decimal:
		return formatNumber(v, format)
	case enumValue:
		if format == "D" || format == "d" {
			return strconv.Itoa(x.v)
		}
		return x.name
	}
	return toStr(v)
}

func formatGuid(g Guid, f string) string {
	s := g.String()
	switch f {
	case "N", "n":
		return strings.ReplaceAll(s, "-", "")
	case "B", "b":
		return "{" + s + "}"
	case "P", "p":
		return "(" + s + ")"
	case "D", "d", "":
		return s
	}
	throwf("FormatException", "Format string can be only \"D\", \"d\", \"N\", \"n\", \"P\", \"p\", \"B\", \"b\", \"X\" or \"x\".")
	return ""
}

func groupThousands(intPart string) string {
	neg := strings.HasPrefix(intPart, "-")
	if neg {
		intPart = intPart[1:]
	}
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// roundHalfAway formats f with n decimals, rounding midpoints away from zero
// as .NET does for "F"/"N" formats.
func roundHalfAway(f float64, n int) string {
	s := strconv.FormatFloat(f, 'f', n, 64)
	// correct binary midpoints using a higher-precision decimal representation
	exact := strconv.FormatFloat(f, 'f', -1, 64)
	if dot := strings.IndexByte(exact, '.'); dot >= 0 && len(exact)-dot-1 > n {
		d, ok := parseDecimal(exact)
		if ok {
			return decRound(d, n).fixed(n)
		}
	}
	return s
}

// decRound rounds d to n decimals, midpoint away from zero.
func decRound(d Decimal, n int) Decimal {
	if int(d.scale) <= n {
		return d
	}
	s := d.String()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intp, frac, _ := strings.Cut(s, ".")
	digits := intp + frac[:n]
	roundUp := frac[n] >= '5'
	m, _ := parseDecimal(digits)
	if roundUp {
		m = decAdd(m, decFromInt(1), false)
	}
	m.scale = int32(n)
	if neg {
		m.m.Neg(m.m)
	}
	return m
}

func (d Decimal) fixed(n int) string {
	if int(d.scale) > n {
		d = decRound(d, n)
	}
	s := d.String()
	if n == 0 {
		return s
	}
	if !strings.Contains(s, ".") {
		s += "."
	}
	_, frac, _ := strings.Cut(s, ".")
	return s + strings.Repeat("0", n-len(frac))
}

func fixedStr(v Value, n int) string {
	switch x := v.(type) {
	case Decimal:
		return x.fixed(n)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return formatDouble(x)
		}
		return roundHalfAway(x, n)
	}
	i, _ := toI64(v)
	s := strconv.FormatInt(i, 10)
	if n > 0 {
		s += "." + strings.Repeat("0", n)
	}
	return s
}

func formatNumber(v Value, format string) string {
	c := format[0]
	prec := -1
	if len(format) > 1 {
		p, err := strconv.Atoi(format[1:])
		if err != nil || p > 99 {
			return customNumber(v, format)
		}
		prec = p
	}
	_, isInt := toI64(v)
	switch c {
	case 'D', 'd':
		if !isInt {
			throwf("FormatException", "Format specifier was invalid.")
		}
		i, _ := toI64(v)
		s := strconv.FormatInt(abs64(i), 10)
		for len(s) < prec {
			s = "0" + s
		}
		if i < 0 {
			s = "-" + s
		}
		return s
	case 'X', 'x':
		if !isInt {
			throwf("FormatException", "Format specifier was invalid.")
		}
		i, _ := toI64(v)
		var s string
		switch v.(type) {
		case int32:
			s = strconv.FormatUint(uint64(uint32(i)), 16)
		case uint8:
			s = strconv.FormatUint(uint64(uint8(i)), 16)
		default:
			s = strconv.FormatUint(uint64(i), 16)
		}
		for len(s) < prec {
			s = "0" + s
		}
		if c == 'X' {
			s = strings.ToUpper(s)
		}
		return s
	case 'F', 'f':
		if prec < 0 {
			prec = 2
		}
		return fixedStr(v, prec)
	case 'N', 'n':
		if prec < 0 {
			prec = 2
		}
		s := fixedStr(v, prec)
		intp, frac, hasFrac := strings.Cut(s, ".")
		s = groupThousands(intp)
		if hasFrac {
			s += "." + frac
		}
		return s
	case 'P', 'p':
		if prec < 0 {
			prec = 2
		}
		f, _ := toF64(v)
		s := fixedStr(f*100, prec)
		intp, frac, hasFrac := strings.Cut(s, ".")
		s = groupThousands(intp)
		if hasFrac {
			s += "." + frac
		}
		return s + " %"
	case 'E', 'e':
		if prec < 0 {
			prec = 6
		}
		f, _ := toF64(v)
		s := strconv.FormatFloat(f, 'e', prec, 64)
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		exp = exp[1:]
		for len(exp) < 3 {
			exp = "0" + exp
		}
		return mant + string(rune(c)) + string(sign) + exp
	case 'G', 'g', 'R', 'r':
		if prec <= 0 {
			return toStr(v)
		}
		f, _ := toF64(v)
		s := strconv.FormatFloat(f, 'g', prec, 64)
		if strings.Contains(s, "e") {
			mant, exp, _ := strings.Cut(s, "e")
			return mant + "E" + exp
		}
		return s
	case 'C', 'c':
		if prec < 0 {
			prec = 2
		}
		s := fixedStr(v, prec)
		intp, frac, hasFrac := strings.Cut(s, ".")
		neg := strings.HasPrefix(intp, "-")
		s = groupThousands(strings.TrimPrefix(intp, "-"))
		if hasFrac {
			s += "." + frac
		}
		if neg {
			return "(¤" + s + ")"
		}
		return "¤" + s
	}
	return customNumber(v, format)
}

func abs64(i int64) int64 {
	if i < 0 {
		return -i
	}
	return i
}

// customNumber implements custom numeric formats built from 0 # . , % and literals.
func customNumber(v Value, format string) string {
	if sec := strings.Split(format, ";"); len(sec) > 1 {
		f, _ := toF64(v)
		switch {
		case f < 0:
			return customNumber(negate(v), sec[1])
		case f == 0 && len(sec) > 2:
			return customNumber(v, sec[2])
		}
		format = sec[0]
	}
	// locate the placeholder span
	first := strings.IndexAny(format, "0#")
	if first < 0 {
		return format
	}
	last := strings.LastIndexAny(format, "0#")
	prefix, body, suffix := format[:first], format[first:last+1], format[last+1:]
	if strings.HasPrefix(suffix, ".") {
		body += "."
		suffix = suffix[1:]
	}
	f, _ := toF64(v)
	if strings.Contains(format, "%") {
		f *= 100
		v = f
	}
	intPat, fracPat, _ := strings.Cut(body, ".")
	group := strings.Contains(intPat, ",")
	intPat = strings.ReplaceAll(intPat, ",", "")
	minInt := strings.Count(intPat, "0")
	minFrac := strings.Count(fracPat, "0")
	maxFrac := minFrac + strings.Count(fracPat, "#")
	s := fixedStr(v, maxFrac)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	ip, fp, _ := strings.Cut(s, ".")
	for len(fp) > minFrac && strings.HasSuffix(fp, "0") {
		fp = fp[:len(fp)-1]
	}
	ip = strings.TrimLeft(ip, "0")
	for len(ip) < minInt {
		ip = "0" + ip
	}
	if group {
		ip = groupThousands(ip)
	}
	out := ip
	if fp != "" {
		out += "." + fp
	}
	if neg && strings.Trim(out, "0.,") != "" {
		out = "-" + out
	}
	return unquoteLit(prefix) + out + unquoteLit(suffix)
}

func unquoteLit(s string) string {
	s = strings.ReplaceAll(s, "'", "")
	s = strings.ReplaceAll(s, "\"", "")
	return strings.ReplaceAll(s, "\\", "")
}
