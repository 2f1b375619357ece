package expr

import (
	"math"
	"strconv"
	"strings"
)

// registerIntegers registers the static members of the integer types int,
// long and byte.
func registerIntegers() {
	i, l, b := defType("int", kInt), defType("long", kLong), defType("byte", kByte)
	type numInfo struct {
		typ  string
		bits int
	}
	for _, ni := range []numInfo{{"int", 32}, {"long", 64}, {"byte", 9}} {
		ni := ni
		t := defType(ni.typ)
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
		t.static("Parse", ni.typ+"(1-3)", func(e *env, a []Value, cs *callSite) Value {
			s, ok := argStrOrNull(a, 0, cs)
			if !ok {
				throwf("ArgumentNullException", "Value cannot be null. (Parameter 's')")
			}
			if ev, ok := argEnum(a, 1, "NumberStyles"); ok && (ev.name == "HexNumber" || ev.name == "AllowHexSpecifier") {
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
		t.static("TryParse", "bool(2-4)", func(e *env, a []Value, cs *callSite) Value {
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
	i.staticProp("MaxValue", "int", func(*env) Value { return int32(math.MaxInt32) })
	i.staticProp("MinValue", "int", func(*env) Value { return int32(math.MinInt32) })
	l.staticProp("MaxValue", "long", func(*env) Value { return int64(math.MaxInt64) })
	l.staticProp("MinValue", "long", func(*env) Value { return int64(math.MinInt64) })
	b.staticProp("MaxValue", "byte", func(*env) Value { return uint8(255) })
	b.staticProp("MinValue", "byte", func(*env) Value { return uint8(0) })
}
