package expr

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
)

// registerConvert registers System.Convert.
func registerConvert() {
	t := defType("Convert")
	for _, spec := range []string{"Int32:int", "Int64:long", "Double:double", "Decimal:decimal", "Boolean:bool", "Byte:byte", "DateTime:DateTime", "Char:char", "Int16:int", "Single:double", "UInt32:long"} {
		name, typ, _ := strings.Cut(spec, ":")
		t.static("To"+name, typ+"(1-2)", func(e *env, a []Value, cs *callSite) Value {
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
	t.static("ToString", "string(1-2)", func(e *env, a []Value, cs *callSite) Value {
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
	t.static("ToBase64String", "string(1-4)", func(e *env, a []Value, cs *callSite) Value {
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
	t.static("FromBase64String", "byte[](1)", func(e *env, a []Value, cs *callSite) Value {
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
	t.static("ToHexString", "string(1,3)", func(e *env, a []Value, cs *callSite) Value {
		return strings.ToUpper(hex.EncodeToString(argBytes(a, 0, cs)))
	})
	t.static("ToHexStringLower", "string(1,3)", func(e *env, a []Value, cs *callSite) Value {
		return hex.EncodeToString(argBytes(a, 0, cs))
	})
	t.static("FromHexString", "byte[](1)", func(e *env, a []Value, cs *callSite) Value {
		b, err := hex.DecodeString(argStr(a, 0, cs))
		if err != nil {
			throwf("FormatException", "The input is not a valid hex string as it contains a non-hex character.")
		}
		return b
	})

}
