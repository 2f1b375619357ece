package expr

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"html"
	"math"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"
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

func registerStatics() {
	// Convert
	for _, t := range []string{"Int32:int", "Int64:long", "Double:double", "Decimal:decimal", "Boolean:bool", "Byte:byte", "DateTime:DateTime", "Char:char", "Int16:int", "Single:double", "UInt32:long"} {
		name, typ, _ := strings.Cut(t, ":")
		static("Convert", "To"+name, func(e *env, a []Value, cs *callSite) Value {
			need(a, 1, cs)
			if len(a) == 2 {
				if base, ok := a[1].(int32); ok {
					s := strings.TrimSpace(argStr(a, 0, cs))
					if base == 16 {
						s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
					}
					n, err := strconv.ParseUint(s, int(base), 64)
					if err != nil {
						throwf("FormatException", "Could not find any recognizable digits.")
					}
					return numConvert(int64(n), typ, true)
				}
			}
			return convertTo(a[0], typ)
		})
	}
	static("Convert", "ToString", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		if len(a) == 2 {
			if base, ok := a[1].(int32); ok {
				i, _ := toI64(a[0])
				if _, is32 := a[0].(int32); is32 && i < 0 {
					i = int64(uint32(i))
				}
				return strconv.FormatUint(uint64(i), int(base))
			}
		}
		return toStr(a[0])
	})
	static("Convert", "ToBase64String", func(e *env, a []Value, cs *callSite) Value {
		b := argBytes(a, 0, cs)
		if len(a) >= 3 {
			off, n := argInt(a, 1, cs), argInt(a, 2, cs)
			if off < 0 || n < 0 || off+n > len(b) {
				throwf("ArgumentOutOfRangeException", "Offset and length must refer to a position in the array.")
			}
			b = b[off : off+n]
		}
		e.alloc(len(b) * 4 / 3)
		return base64.StdEncoding.EncodeToString(b)
	})
	static("Convert", "FromBase64String", func(e *env, a []Value, cs *callSite) Value {
		s := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
				return -1
			}
			return r
		}, argStr(a, 0, cs))
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			throwf("FormatException", "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters.")
		}
		e.alloc(len(b))
		return b
	})
	static("Convert", "ToHexString", func(e *env, a []Value, cs *callSite) Value {
		return strings.ToUpper(hex.EncodeToString(argBytes(a, 0, cs)))
	})
	static("Convert", "ToHexStringLower", func(e *env, a []Value, cs *callSite) Value {
		return hex.EncodeToString(argBytes(a, 0, cs))
	})
	static("Convert", "FromHexString", func(e *env, a []Value, cs *callSite) Value {
		b, err := hex.DecodeString(argStr(a, 0, cs))
		if err != nil {
			throwf("FormatException", "The input is not a valid hex string as it contains a non-hex character.")
		}
		return b
	})

	// Encoding
	for _, n := range []string{"UTF8", "ASCII", "Unicode", "Latin1", "Default"} {
		v := enumValue{typ: "Encoding", name: n}
		if n == "Default" {
			v.name = "UTF8"
		}
		staticProp("Encoding", n, func(*env) Value { return v })
	}
	method(kEnum, "GetBytes", func(e *env, r Value, a []Value, cs *callSite) Value {
		if r.(enumValue).typ != "Encoding" {
			throwf("RuntimeBinderException", "'%s' does not contain a definition for 'GetBytes'", r.(enumValue).typ)
		}
		need(a, 1, cs)
		var s string
		switch x := a[0].(type) {
		case string:
			s = x
		case *List:
			for _, c := range x.Items {
				s += toStr(c)
			}
		case nil:
			throwf("ArgumentNullException", "Value cannot be null. (Parameter 's')")
		default:
			s = argStr(a, 0, cs)
		}
		b := encodeString(encodingOf(r), s)
		e.alloc(len(b))
		return b
	})
	method(kEnum, "GetString", func(e *env, r Value, a []Value, cs *callSite) Value {
		if r.(enumValue).typ != "Encoding" {
			throwf("RuntimeBinderException", "'%s' does not contain a definition for 'GetString'", r.(enumValue).typ)
		}
		b := argBytes(a, 0, cs)
		if len(a) >= 3 {
			off, n := argInt(a, 1, cs), argInt(a, 2, cs)
			if off < 0 || n < 0 || off+n > len(b) {
				throwf("ArgumentOutOfRangeException", "Index and count must refer to a location within the buffer.")
			}
			b = b[off : off+n]
		}
		e.alloc(len(b))
		return decodeBytes(encodingOf(r), b)
	})
	method(kEnum, "GetByteCount", func(e *env, r Value, a []Value, cs *callSite) Value {
		return int32(len(encodeString(encodingOf(r), argStr(a, 0, cs))))
	})
	prop(kEnum, "WebName", func(e *env, r Value) Value {
		return map[string]string{"UTF8": "utf-8", "ASCII": "us-ascii", "Unicode": "utf-16", "Latin1": "iso-8859-1"}[r.(enumValue).name]
	})
	method(kEnum, "HasFlag", func(e *env, r Value, a []Value, cs *callSite) Value {
		f, _ := a[0].(enumValue)
		return r.(enumValue).v&f.v == f.v
	})

	// numeric types
	type numInfo struct {
		typ  string
		bits int
	}
	for _, ni := range []numInfo{{"int", 32}, {"long", 64}, {"byte", 9}} {
		ni := ni
		parse := func(s string) (Value, string) {
			n, bad := parseIntStr(s, ni.bits)
			if bad == "" && ni.typ == "byte" && (n < 0 || n > 255) {
				bad = "OverflowException"
			}
			if bad != "" {
				return nil, bad
			}
			return numConvert(n, ni.typ, true), ""
		}
		static(ni.typ, "Parse", func(e *env, a []Value, cs *callSite) Value {
			s, ok := argStrOrNull(a, 0, cs)
			if !ok {
				throwf("ArgumentNullException", "Value cannot be null. (Parameter 's')")
			}
			if ev, ok := argEnum(a, 1, "NumberStyles"); ok && ev.name == "HexNumber" {
				n, err := strconv.ParseUint(strings.TrimSpace(s), 16, ni.bits)
				if err != nil {
					throwf("FormatException", "The input string '%s' was not in a correct format.", s)
				}
				return numConvert(int64(n), ni.typ, true)
			}
			v, bad := parse(s)
			if bad == "OverflowException" {
				throwf(bad, "Value was either too large or too small for an %s.", clrName(ni.typ))
			} else if bad != "" {
				throwf(bad, "The input string '%s' was not in a correct format.", s)
			}
			return v
		})
		static(ni.typ, "TryParse", func(e *env, a []Value, cs *callSite) Value {
			s, _ := argStrOrNull(a, 0, cs)
			v, bad := parse(s)
			if bad != "" {
				setOut(e, a, len(a)-1, cs, defaultOf(ni.typ, nil))
				return false
			}
			setOut(e, a, len(a)-1, cs, v)
			return true
		})
	}
	staticProp("int", "MaxValue", func(*env) Value { return int32(math.MaxInt32) })
	staticProp("int", "MinValue", func(*env) Value { return int32(math.MinInt32) })
	staticProp("long", "MaxValue", func(*env) Value { return int64(math.MaxInt64) })
	staticProp("long", "MinValue", func(*env) Value { return int64(math.MinInt64) })
	staticProp("byte", "MaxValue", func(*env) Value { return uint8(255) })
	staticProp("byte", "MinValue", func(*env) Value { return uint8(0) })
	staticProp("double", "MaxValue", func(*env) Value { return math.MaxFloat64 })
	staticProp("double", "MinValue", func(*env) Value { return -math.MaxFloat64 })
	staticProp("double", "NaN", func(*env) Value { return math.NaN() })
	staticProp("double", "PositiveInfinity", func(*env) Value { return math.Inf(1) })
	staticProp("double", "NegativeInfinity", func(*env) Value { return math.Inf(-1) })
	staticProp("double", "Epsilon", func(*env) Value { return 4.9406564584124654e-324 })
	static("double", "IsNaN", func(e *env, a []Value, cs *callSite) Value { return math.IsNaN(argF64(a, 0, cs)) })
	static("double", "IsInfinity", func(e *env, a []Value, cs *callSite) Value { return math.IsInf(argF64(a, 0, cs), 0) })
	static("double", "Parse", func(e *env, a []Value, cs *callSite) Value {
		f, ok := parseFloatStr(argStr(a, 0, cs))
		if !ok {
			throwf("FormatException", "The input string '%s' was not in a correct format.", argStr(a, 0, cs))
		}
		return f
	})
	static("double", "TryParse", func(e *env, a []Value, cs *callSite) Value {
		s, _ := argStrOrNull(a, 0, cs)
		f, ok := parseFloatStr(s)
		setOut(e, a, len(a)-1, cs, f)
		return ok
	})
	static("decimal", "Parse", func(e *env, a []Value, cs *callSite) Value {
		d, ok := parseDecimal(argStr(a, 0, cs))
		if !ok {
			throwf("FormatException", "The input string '%s' was not in a correct format.", argStr(a, 0, cs))
		}
		return d
	})
	static("decimal", "TryParse", func(e *env, a []Value, cs *callSite) Value {
		s, _ := argStrOrNull(a, 0, cs)
		d, ok := parseDecimal(s)
		if !ok {
			d = decFromInt(0)
		}
		setOut(e, a, len(a)-1, cs, d)
		return ok
	})
	static("decimal", "Round", func(e *env, a []Value, cs *callSite) Value { return mathRound(a, cs) })
	staticProp("decimal", "Zero", func(*env) Value { return decFromInt(0) })
	staticProp("decimal", "One", func(*env) Value { return decFromInt(1) })
	static("bool", "Parse", func(e *env, a []Value, cs *callSite) Value { return convertTo(argStr(a, 0, cs), "bool") })
	static("bool", "TryParse", func(e *env, a []Value, cs *callSite) Value {
		s, _ := argStrOrNull(a, 0, cs)
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			setOut(e, a, 1, cs, true)
			return true
		case "false":
			setOut(e, a, 1, cs, false)
			return true
		}
		setOut(e, a, 1, cs, false)
		return false
	})
	staticProp("bool", "TrueString", func(*env) Value { return "True" })
	staticProp("bool", "FalseString", func(*env) Value { return "False" })

	// Guid
	static("Guid", "NewGuid", func(e *env, a []Value, cs *callSite) Value { return newGuid() })
	staticProp("Guid", "Empty", func(*env) Value { return Guid{} })
	static("Guid", "Parse", func(e *env, a []Value, cs *callSite) Value {
		g, ok := parseGuid(argStr(a, 0, cs))
		if !ok {
			throwf("FormatException", "Unrecognized Guid format.")
		}
		return g
	})
	static("Guid", "TryParse", func(e *env, a []Value, cs *callSite) Value {
		s, _ := argStrOrNull(a, 0, cs)
		g, ok := parseGuid(s)
		setOut(e, a, 1, cs, g)
		return ok
	})
	ctor("Guid", func(e *env, a []Value, cs *callSite) Value {
		if len(a) == 0 {
			return Guid{}
		}
		switch x := a[0].(type) {
		case string:
			g, ok := parseGuid(x)
			if !ok {
				throwf("FormatException", "Unrecognized Guid format.")
			}
			return g
		case []byte:
			if len(x) != 16 {
				throwf("ArgumentException", "Byte array for Guid must be exactly 16 bytes long.")
			}
			return guidFromBytes(x)
		}
		throwf("ArgumentException", "new Guid takes a string or a byte[16]")
		return nil
	})
	method(kGuid, "ToByteArray", func(e *env, r Value, a []Value, cs *callSite) Value { return guidToBytes(r.(Guid)) })

	// Math
	static("Math", "Abs", func(e *env, a []Value, cs *callSite) Value {
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
	static("Math", "Max", minmax(true))
	static("Math", "Min", minmax(false))
	static("Math", "Round", func(e *env, a []Value, cs *callSite) Value { return mathRound(a, cs) })
	f1 := func(name string, f func(float64) float64) {
		static("Math", name, func(e *env, a []Value, cs *callSite) Value {
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
	static("Math", "Log", func(e *env, a []Value, cs *callSite) Value {
		if len(a) == 2 {
			return math.Log(argF64(a, 0, cs)) / math.Log(argF64(a, 1, cs))
		}
		return math.Log(argF64(a, 0, cs))
	})
	static("Math", "Pow", func(e *env, a []Value, cs *callSite) Value { return math.Pow(argF64(a, 0, cs), argF64(a, 1, cs)) })
	static("Math", "Atan2", func(e *env, a []Value, cs *callSite) Value { return math.Atan2(argF64(a, 0, cs), argF64(a, 1, cs)) })
	static("Math", "Sign", func(e *env, a []Value, cs *callSite) Value {
		f := argF64(a, 0, cs)
		if math.IsNaN(f) {
			throwf("ArithmeticException", "Function does not accept floating point Not-a-Number values.")
		}
		return int32(sign(int(math.Copysign(1, f) * b2f(f != 0))))
	})
	static("Math", "Clamp", func(e *env, a []Value, cs *callSite) Value {
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
	staticProp("Math", "PI", func(*env) Value { return math.Pi })
	staticProp("Math", "E", func(*env) Value { return math.E })
	enum("MidpointRounding", "ToEven", "AwayFromZero", "ToZero", "ToNegativeInfinity", "ToPositiveInfinity")

	// Random
	ctor("Random", func(e *env, a []Value, cs *callSite) Value {
		if len(a) > 0 {
			s := uint64(argInt(a, 0, cs))
			return &randomValue{r: rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))}
		}
		return &randomValue{r: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	})
	staticProp("Random", "Shared", func(*env) Value { return &randomValue{r: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))} })
	method(kRandom, "Next", func(e *env, r Value, a []Value, cs *callSite) Value {
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
	method(kRandom, "NextDouble", func(e *env, r Value, a []Value, cs *callSite) Value { return r.(*randomValue).r.Float64() })
	method(kRandom, "NextInt64", func(e *env, r Value, a []Value, cs *callSite) Value { return r.(*randomValue).r.Int64() })
	method(kRandom, "NextBytes", func(e *env, r Value, a []Value, cs *callSite) Value {
		b := argBytes(a, 0, cs)
		for i := range b {
			b[i] = byte(r.(*randomValue).r.UintN(256))
		}
		return nil
	})

	// Uri and WebUtility
	static("Uri", "EscapeDataString", func(e *env, a []Value, cs *callSite) Value {
		return escapeData(argStr(a, 0, cs), unreserved, false)
	})
	static("Uri", "EscapeUriString", func(e *env, a []Value, cs *callSite) Value {
		return escapeData(argStr(a, 0, cs), func(c byte) bool { return unreserved(c) || strings.IndexByte(":/?#[]@!$&'()*+,;=%", c) >= 0 }, false)
	})
	static("Uri", "UnescapeDataString", func(e *env, a []Value, cs *callSite) Value { return unescapeData(argStr(a, 0, cs), false) })
	static("Uri", "IsWellFormedUriString", func(e *env, a []Value, cs *callSite) Value {
		s := argStr(a, 0, cs)
		k, _ := argEnum(a, 1, "UriKind")
		u, err := url.Parse(s)
		if err != nil || strings.ContainsAny(s, " \\") {
			return false
		}
		switch k.name {
		case "Absolute":
			return u.IsAbs() && u.Host != ""
		case "Relative":
			return !u.IsAbs()
		}
		return true
	})
	static("Uri", "TryCreate", func(e *env, a []Value, cs *callSite) Value {
		need(a, 3, cs)
		s, _ := argStrOrNull(a, 0, cs)
		k, _ := argEnum(a, 1, "UriKind")
		u, err := newURI(s, k.name)
		if err != nil {
			setOut(e, a, 2, cs, nil)
			return false
		}
		setOut(e, a, 2, cs, u)
		return true
	})
	enum("UriKind", "RelativeOrAbsolute", "Absolute", "Relative")
	enum("UriPartial", "Scheme", "Authority", "Path", "Query")
	ctor("Uri", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		if b, ok := a[0].(*uriValue); ok {
			rel := argStr(a, 1, cs)
			ru, err := url.Parse(rel)
			if err != nil {
				throwf("UriFormatException", "Invalid URI: %v", err)
			}
			return &uriValue{u: b.u.ResolveReference(ru), orig: rel}
		}
		kind := "Absolute"
		if k, ok := argEnum(a, 1, "UriKind"); ok {
			kind = k.name
		}
		u, err := newURI(argStr(a, 0, cs), kind)
		if err != nil {
			throwf("UriFormatException", "Invalid URI: The format of the URI could not be determined.")
		}
		return u
	})
	registerURIMembers()
	static("WebUtility", "UrlEncode", func(e *env, a []Value, cs *callSite) Value {
		s, ok := argStrOrNull(a, 0, cs)
		if !ok {
			return nil
		}
		return escapeData(s, func(c byte) bool {
			return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!*()", c) >= 0
		}, true)
	})
	static("WebUtility", "UrlDecode", func(e *env, a []Value, cs *callSite) Value {
		s, ok := argStrOrNull(a, 0, cs)
		if !ok {
			return nil
		}
		return unescapeData(s, true)
	})
	static("WebUtility", "HtmlEncode", func(e *env, a []Value, cs *callSite) Value {
		s, ok := argStrOrNull(a, 0, cs)
		if !ok {
			return nil
		}
		return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;", "'", "&#39;").Replace(s)
	})
	static("WebUtility", "HtmlDecode", func(e *env, a []Value, cs *callSite) Value {
		s, ok := argStrOrNull(a, 0, cs)
		if !ok {
			return nil
		}
		return html.UnescapeString(s)
	})

	// BitConverter
	static("BitConverter", "ToString", func(e *env, a []Value, cs *callSite) Value {
		b := argBytes(a, 0, cs)
		if len(a) >= 2 {
			off := argInt(a, 1, cs)
			n := len(b) - off
			if len(a) >= 3 {
				n = argInt(a, 2, cs)
			}
			if off < 0 || n < 0 || off+n > len(b) {
				throwf("ArgumentOutOfRangeException", "Index was out of range.")
			}
			b = b[off : off+n]
		}
		var sb strings.Builder
		const hx = "0123456789ABCDEF"
		for i, c := range b {
			if i > 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(hx[c>>4])
			sb.WriteByte(hx[c&15])
		}
		return sb.String()
	})
	static("BitConverter", "GetBytes", func(e *env, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		switch x := a[0].(type) {
		case int32:
			return binary.LittleEndian.AppendUint32(nil, uint32(x))
		case int64:
			return binary.LittleEndian.AppendUint64(nil, uint64(x))
		case float64:
			return binary.LittleEndian.AppendUint64(nil, math.Float64bits(x))
		case bool:
			return []byte{byte(b2i(x))}
		case Char:
			return binary.LittleEndian.AppendUint16(nil, uint16(x))
		}
		throwf("ArgumentException", "BitConverter.GetBytes does not take %s", typeName(a[0]))
		return nil
	})
	static("BitConverter", "ToInt32", func(e *env, a []Value, cs *callSite) Value {
		b := argBytes(a, 0, cs)
		i := argInt(a, 1, cs)
		if i < 0 || i+4 > len(b) {
			throwf("ArgumentOutOfRangeException", "Index was out of range.")
		}
		return int32(binary.LittleEndian.Uint32(b[i:]))
	})
	static("BitConverter", "ToInt64", func(e *env, a []Value, cs *callSite) Value {
		b := argBytes(a, 0, cs)
		i := argInt(a, 1, cs)
		if i < 0 || i+8 > len(b) {
			throwf("ArgumentOutOfRangeException", "Index was out of range.")
		}
		return int64(binary.LittleEndian.Uint64(b[i:]))
	})
	staticProp("BitConverter", "IsLittleEndian", func(*env) Value { return true })
	_ = time.Second
}

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
