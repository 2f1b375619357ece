package expr

import (
	"encoding/binary"
	"math"
	"strings"
)

// registerBitConverter registers System.BitConverter.
func registerBitConverter() {
	t := defType("BitConverter")
	t.static("ToString", "string(1-3)", func(e *env, a []Value, cs *callSite) Value {
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
	t.static("GetBytes", "byte[](1)", func(e *env, a []Value, cs *callSite) Value {
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
	t.static("ToInt32", "int(2)", func(e *env, a []Value, cs *callSite) Value {
		b := argBytes(a, 0, cs)
		i := argInt(a, 1, cs)
		if i < 0 || i+4 > len(b) {
			throwf("ArgumentOutOfRangeException", "Index was out of range.")
		}
		return int32(binary.LittleEndian.Uint32(b[i:]))
	})
	t.static("ToInt64", "long(2)", func(e *env, a []Value, cs *callSite) Value {
		b := argBytes(a, 0, cs)
		i := argInt(a, 1, cs)
		if i < 0 || i+8 > len(b) {
			throwf("ArgumentOutOfRangeException", "Index was out of range.")
		}
		return int64(binary.LittleEndian.Uint64(b[i:]))
	})
	t.staticProp("IsLittleEndian", "bool", func(*env) Value { return true })
}
