package expr

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

func parseIntStr(s string, bits int) (int64, string) {
	t := strings.TrimSpace(s)
	n, err := strconv.ParseInt(strings.TrimPrefix(t, "+"), 10, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, "OverflowException"
		}
		return 0, "FormatException"
	}
	return n, ""
}

func parseFloatStr(s string) (float64, bool) {
	t := strings.TrimSpace(s)
	switch t {
	case "NaN":
		return math.NaN(), true
	case "Infinity", "∞":
		return math.Inf(1), true
	case "-Infinity", "-∞":
		return math.Inf(-1), true
	}
	if strings.ContainsAny(t, "xXpP_") || strings.HasPrefix(strings.ToLower(t), "inf") {
		return 0, false
	}
	t = strings.ReplaceAll(t, ",", "")
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

func parseGuid(s string) (Guid, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 38 && (s[0] == '{' && s[37] == '}' || s[0] == '(' && s[37] == ')') {
		s = s[1:37]
	}
	if len(s) == 36 {
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return Guid{}, false
		}
		s = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	}
	if len(s) != 32 {
		return Guid{}, false
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return Guid{}, false
	}
	var g Guid
	copy(g[:], b)
	return g, true
}

// guidFromBytes is new Guid(byte[]): .NET stores the first three fields little-endian.
func guidFromBytes(b []byte) Guid {
	var g Guid
	g[0], g[1], g[2], g[3] = b[3], b[2], b[1], b[0]
	g[4], g[5] = b[5], b[4]
	g[6], g[7] = b[7], b[6]
	copy(g[8:], b[8:16])
	return g
}

func guidToBytes(g Guid) []byte {
	b := make([]byte, 16)
	b[0], b[1], b[2], b[3] = g[3], g[2], g[1], g[0]
	b[4], b[5] = g[5], g[4]
	b[6], b[7] = g[7], g[6]
	copy(b[8:], g[8:])
	return b
}

func newGuid() Guid {
	var g Guid
	binary.LittleEndian.PutUint64(g[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(g[8:], rand.Uint64())
	g[6] = g[6]&0x0f | 0x40
	g[8] = g[8]&0x3f | 0x80
	return g
}

// convertTo implements Convert.ToXxx(value) for numbers, strings, bools.
func convertTo(v Value, t string) Value {
	if jv, ok := v.(*JValue); ok {
		v = jv.plain()
	}
	if v == nil {
		return defaultOf(t, nil)
	}
	if t == "string" {
		return toStr(v)
	}
	switch x := v.(type) {
	case string:
		switch t {
		case "int", "long", "byte":
			bits := map[string]int{"int": 32, "long": 64, "byte": 9}[t]
			n, bad := parseIntStr(x, bits)
			if bad != "" || t == "byte" && (n < 0 || n > 255) {
				if bad == "OverflowException" || t == "byte" && bad == "" {
					throwf("OverflowException", "Value was either too large or too small for an %s.", clrName(t))
				}
				throwf("FormatException", "The input string '%s' was not in a correct format.", x)
			}
			return numConvert(n, t, true)
		case "double":
			f, ok := parseFloatStr(x)
			if !ok {
				throwf("FormatException", "The input string '%s' was not in a correct format.", x)
			}
			return f
		case "decimal":
			d, ok := parseDecimal(x)
			if !ok {
				throwf("FormatException", "The input string '%s' was not in a correct format.", x)
			}
			return d
		case "bool":
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true":
				return true
			case "false":
				return false
			}
			throwf("FormatException", "String '%s' was not recognized as a valid Boolean.", x)
		case "DateTime":
			d, _, ok := parseDate(x, "")
			if !ok {
				throwf("FormatException", "String '%s' was not recognized as a valid DateTime.", x)
			}
			return d
		case "char":
			if strLen(x) != 1 {
				throwf("FormatException", "String must be exactly one character long.")
			}
			return charAt(x, 0)
		}
	case bool:
		switch t {
		case "bool":
			return x
		case "int":
			return int32(b2i(x))
		case "long":
			return b2i(x)
		case "double":
			return float64(b2i(x))
		}
	case float64:
		switch t {
		case "int", "long", "byte":
			r := math.RoundToEven(x)
			if t == "int" && (r > math.MaxInt32 || r < math.MinInt32) || math.IsNaN(x) {
				throwf("OverflowException", "Value was either too large or too small for an Int32.")
			}
			return numConvert(r, t, true)
		case "bool":
			return x != 0
		}
		return numConvert(x, t, true)
	case Decimal:
		switch t {
		case "int", "long":
			f := math.RoundToEven(x.float())
			return numConvert(f, t, true)
		case "bool":
			return x.mant().Sign() != 0
		}
		return numConvert(x, t, true)
	case int32, int64, uint8, Char:
		if t == "bool" {
			i, _ := toI64(x)
			return i != 0
		}
		i, _ := toI64(x)
		if t == "int" && (i > math.MaxInt32 || i < math.MinInt32) {
			throwf("OverflowException", "Value was either too large or too small for an Int32.")
		}
		return numConvert(x, t, true)
	case DateTime:
		if t == "DateTime" {
			return x
		}
	}
	throwf("InvalidCastException", "Invalid cast from '%s' to '%s'.", typeName(v), clrName(t))
	return nil
}

func encodingOf(r Value) string { return r.(enumValue).name }

func encodeString(enc, s string) []byte {
	switch enc {
	case "ASCII":
		b := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 127 {
				r = '?'
			}
			b = append(b, byte(r))
		}
		return b
	case "Unicode":
		u := utf16.Encode([]rune(s))
		b := make([]byte, 2*len(u))
		for i, c := range u {
			binary.LittleEndian.PutUint16(b[2*i:], c)
		}
		return b
	case "Latin1":
		b := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 255 {
				r = '?'
			}
			b = append(b, byte(r))
		}
		return b
	}
	return []byte(s)
}

func decodeBytes(enc string, b []byte) string {
	switch enc {
	case "ASCII":
		r := make([]rune, len(b))
		for i, c := range b {
			if c > 127 {
				r[i] = '?'
			} else {
				r[i] = rune(c)
			}
		}
		return string(r)
	case "Unicode":
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		return string(utf16.Decode(u))
	case "Latin1":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func escapeData(s string, keep func(byte) bool, spacePlus bool) string {
	var b strings.Builder
	const hx = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case keep(c):
			b.WriteByte(c)
		case c == ' ' && spacePlus:
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hx[c>>4])
			b.WriteByte(hx[c&15])
		}
	}
	return b.String()
}

func unreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

func unescapeData(s string, plusSpace bool) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b = append(b, byte(v))
			i += 2
			continue
		}
		if c == '+' && plusSpace {
			c = ' '
		}
		b = append(b, c)
	}
	return string(b)
}

type randomValue struct{ r *rand.Rand }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// mathRound is Math.Round(x[, digits][, MidpointRounding]) with banker's
// rounding by default.
func mathRound(a []Value, cs *callSite) Value {
	need(a, 1, cs)
	digits := 0
	mode := "ToEven"
	for _, v := range a[1:] {
		switch x := v.(type) {
		case int32:
			digits = int(x)
		case enumValue:
			mode = x.name
		}
	}
	if d, ok := a[0].(Decimal); ok {
		if int(d.scale) <= digits {
			return d
		}
		s := d.String()
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimPrefix(s, "-")
		intp, frac, _ := strings.Cut(s, ".")
		keep := frac[:digits]
		rest := frac[digits:]
		m, _ := parseDecimal(intp + keep)
		m.scale = int32(digits)
		up := false
		half := "5" + strings.Repeat("0", len(rest)-1)
		switch {
		case rest > half:
			up = true
		case rest == half:
			if mode == "AwayFromZero" {
				up = true
			} else {
				last := (intp + keep)[len(intp+keep)-1]
				up = (last-'0')%2 == 1
			}
		}
		if mode == "ToZero" {
			up = false
		}
		if up {
			m = decAdd(m, Decimal{m: bigOne(), scale: int32(digits)}, false)
		}
		if neg {
			m.m.Neg(m.m)
		}
		return m
	}
	f := argF64(a, 0, cs)
	p := math.Pow(10, float64(digits))
	x := f * p
	var r float64
	switch mode {
	case "AwayFromZero":
		r = math.Round(x)
	case "ToZero":
		r = math.Trunc(x)
	case "ToNegativeInfinity":
		r = math.Floor(x)
	case "ToPositiveInfinity":
		r = math.Ceil(x)
	default:
		r = math.RoundToEven(x)
	}
	if digits == 0 {
		return r
	}
	res, _ := strconv.ParseFloat(strconv.FormatFloat(r/p, 'f', digits, 64), 64)
	return res
}
