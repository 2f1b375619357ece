package expr

import (
	"math/bits"
	"sort"
)

func noElements() {
	throwf("InvalidOperationException", "Sequence contains no elements")
}

func optLambda(a []Value, i int) *lambda {
	if i < len(a) {
		if l, ok := a[i].(*lambda); ok {
			return l
		}
	}
	return nil
}

func sortByKeys(e *env, src []Value, keys []orderKey) []Value {
	e.elements(len(src) * bits.Len(uint(len(src))) * len(keys))
	out := append([]Value(nil), src...)
	type kv struct {
		v    Value
		keys []Value
	}
	rows := make([]kv, len(out))
	for i, v := range out {
		rows[i].v = v
		for _, k := range keys {
			rows[i].keys = append(rows[i].keys, call1(e, k.f, v))
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		for n, k := range keys {
			c := compare(rows[i].keys[n], rows[j].keys[n])
			if c == 2 {
				c = 0
			}
			if c != 0 {
				if k.desc {
					return c > 0
				}
				return c < 0
			}
		}
		return false
	})
	for i := range rows {
		out[i] = rows[i].v
	}
	return out
}

func numericSum(items []Value) Value {
	var acc Value = int32(0)
	for _, it := range items {
		if it == nil {
			continue
		}
		if jv, ok := it.(*JValue); ok {
			it = jv.plain()
		}
		if _, ok := acc.(int32); ok {
			if _, isInt := it.(int32); !isInt {
				if r := numRank(it); r >= 0 {
					acc = numConvert(acc, []string{"int", "long", "double", "decimal"}[r], true)
				}
			}
		}
		acc = arith('+', acc, it)
	}
	return acc
}

func equalFold(a, b string) bool {
	return len(a) == len(b) && (a == b || lower(a) == lower(b))
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
