package expr

import (
	"math"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// Value is the result of an evaluation and the currency of the runtime. It is
// a plain Go value whose dynamic type says which C# type it stands for:
//
//	C# null            nil
//	string             string
//	bool               bool
//	int                int32
//	long               int64
//	double / float     float64
//	decimal            Decimal
//	char               Char
//	byte               uint8
//	byte[]             []byte
//	DateTime           DateTime
//	DateTimeOffset     DateTimeOffset
//	TimeSpan           time.Duration
//	Guid               Guid
//	T[] / List<T>      *List
//	Dictionary<K,V>    *Dict
//	HashSet<T>         *Set
//	JObject, JArray,
//	JValue, JProperty  *JObject, *JArray, *JValue, *JProperty
//	XDocument, XElement *XDocument, *XElement
//
// Other runtime objects (Regex matches, Uri, Jwt, hash algorithms, the context
// objects) are pointers to types of this package. Values returned by Eval may be
// kept by the caller; they are not reused by later evaluations.
type Value = any

// Char is a C# char: one UTF-16 code unit.
type Char uint16

// Guid is a C# System.Guid in its RFC 4122 byte order (as printed).
type Guid [16]byte

// String formats the Guid as C# "D" format: 8-4-4-4-12 lower-case hex digits.
func (g Guid) String() string {
	const hx = "0123456789abcdef"
	var b [36]byte
	j := 0
	for i, c := range g {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j] = hx[c>>4]
		b[j+1] = hx[c&15]
		j += 2
	}
	return string(b[:])
}

// DateTimeKind is the C# DateTimeKind of a DateTime.
type DateTimeKind uint8

// DateTime kinds, as in C#.
const (
	Unspecified DateTimeKind = iota
	UTC
	Local
)

// DateTime is a C# System.DateTime. T holds the wall clock (its location is
// UTC for UTC and Unspecified kinds).
type DateTime struct {
	T    time.Time
	Kind DateTimeKind
}

// DateTimeOffset is a C# System.DateTimeOffset.
type DateTimeOffset struct{ T time.Time }

// List is a C# array (Array true, fixed length) or List<T>.
type List struct {
	Items []Value
	Elem  string // element type name when known ("string", "int", ...), "" for object
	Array bool

	key       Value // IGrouping.Key when isGroup
	isGroup   bool
	orderSrc  []Value // for ThenBy: the sequence before ordering
	orderKeys []orderKey
}

type orderKey struct {
	f    *lambda
	desc bool
}

// Dict is an insertion-ordered C# Dictionary<K,V> (also used for anonymous
// objects, with Anon true). Keys are compared with C# equality; IgnoreCase
// makes string keys case-insensitive (StringComparer.OrdinalIgnoreCase).
type Dict struct {
	keys       []Value
	vals       []Value
	index      map[Value]int
	IgnoreCase bool
	Anon       bool
}

// Set is a C# HashSet<T>.
type Set struct{ d Dict }

// KeyValuePair is a C# KeyValuePair<K,V> produced by enumerating dictionaries.
type KeyValuePair struct{ Key, Value Value }

// enumValue is a member of an allow-listed C# enum (StringComparison, ...).
type enumValue struct {
	typ  string
	name string
	v    int
}

// lambda is a compiled C# lambda; it shares the frame of its enclosing program.
type lambda struct {
	params []int // frame slots
	body   func(e *env) Value
}

// outArg is an `out`/`ref` argument: the callee stores into the frame slot.
type outArg struct{ slot int }

func (o *outArg) set(e *env, v Value) { e.locals[o.slot] = v }

func newDict() *Dict { return &Dict{index: map[Value]int{}} }

func (d *Dict) key(k Value) Value {
	switch x := k.(type) {
	case string:
		if d.IgnoreCase {
			return strings.ToLower(x)
		}
	case int64:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return int32(x)
		}
	case uint8:
		return int32(x)
	case Char:
		return x
	}
	return k
}

// Get returns the value stored under k.
func (d *Dict) Get(k Value) (Value, bool) {
	if d.index == nil {
		return nil, false
	}
	i, ok := d.index[d.key(k)]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

// Set stores v under k, adding k at the end when absent.
func (d *Dict) Set(k, v Value) {
	if d.index == nil {
		d.index = map[Value]int{}
	}
	kk := d.key(k)
	if i, ok := d.index[kk]; ok {
		d.vals[i] = v
		return
	}
	d.index[kk] = len(d.keys)
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
}

// Remove deletes k and reports whether it was present.
func (d *Dict) Remove(k Value) bool {
	kk := d.key(k)
	i, ok := d.index[kk]
	if !ok {
		return false
	}
	delete(d.index, kk)
	d.keys = append(d.keys[:i], d.keys[i+1:]...)
	d.vals = append(d.vals[:i], d.vals[i+1:]...)
	for j := i; j < len(d.keys); j++ {
		d.index[d.key(d.keys[j])] = j
	}
	return true
}

// Len is the number of entries.
func (d *Dict) Len() int { return len(d.keys) }

// Keys returns the keys in insertion order; callers must not modify it.
func (d *Dict) Keys() []Value { return d.keys }

// Values returns the values in insertion order; callers must not modify it.
func (d *Dict) Values() []Value { return d.vals }

// ---- kinds, for dispatch tables --------------------------------------------

type kind uint8

const (
	kNull kind = iota
	kString
	kBool
	kInt
	kLong
	kDouble
	kDecimal
	kChar
	kByte
	kBytes
	kDateTime
	kDateTimeOffset
	kTimeSpan
	kGuid
	kList
	kDict
	kSet
	kKV
	kJObject
	kJArray
	kJValue
	kJProperty
	kXDocument
	kXElement
	kXAttribute
	kMatch
	kGroup
	kGroupCollection
	kUri
	kJwt
	kBasic
	kRandom
	kHash
	kStringBuilder
	kEnum
	kRegex
	kContext
	kAPI
	kOperation
	kProduct
	kSubscription
	kUser
	kUserGroup
	kRequest
	kResponse
	kURL
	kHeaders
	kQuery
	kStrMap
	kBody
	kVariables
	kLastError
	kDeployment
	kCert
	kLambda
	kClaims
	kException
	kOther
	numKinds
)

var kindNames = [numKinds]string{
	"null", "string", "bool", "int", "long", "double", "decimal", "char", "byte", "byte[]",
	"DateTime", "DateTimeOffset", "TimeSpan", "Guid", "List", "Dictionary", "HashSet", "KeyValuePair",
	"JObject", "JArray", "JValue", "JProperty", "XDocument", "XElement", "XAttribute",
	"Match", "Group", "GroupCollection", "Uri", "Jwt", "BasicAuthCredentials", "Random", "HashAlgorithm",
	"StringBuilder", "enum", "Regex", "IContext", "IApi", "IOperation", "IProduct", "ISubscription", "IUser",
	"IGroup", "IRequest", "IResponse", "IUrl", "IHeaderDictionary", "IQueryDictionary", "IReadOnlyDictionary",
	"IMessageBody", "Variables", "ILastError", "IDeployment", "X509Certificate2", "lambda", "Claims", "Exception", "object",
}

func kindOf(v Value) kind {
	switch v.(type) {
	case nil:
		return kNull
	case string:
		return kString
	case bool:
		return kBool
	case int32:
		return kInt
	case int64:
		return kLong
	case float64:
		return kDouble
	case Decimal:
		return kDecimal
	case Char:
		return kChar
	case uint8:
		return kByte
	case []byte:
		return kBytes
	case DateTime:
		return kDateTime
	case DateTimeOffset:
		return kDateTimeOffset
	case time.Duration:
		return kTimeSpan
	case Guid:
		return kGuid
	case *List:
		return kList
	case *Dict:
		return kDict
	case *Set:
		return kSet
	case KeyValuePair:
		return kKV
	case *JObject:
		return kJObject
	case *JArray:
		return kJArray
	case *JValue:
		return kJValue
	case *JProperty:
		return kJProperty
	case *XDocument:
		return kXDocument
	case *XElement:
		return kXElement
	case *XAttribute:
		return kXAttribute
	case *regexMatch:
		return kMatch
	case *regexGroup:
		return kGroup
	case *groupCollection:
		return kGroupCollection
	case *uriValue:
		return kUri
	case *Jwt:
		return kJwt
	case *BasicAuth:
		return kBasic
	case *randomValue:
		return kRandom
	case *hashAlg:
		return kHash
	case *stringBuilder:
		return kStringBuilder
	case enumValue:
		return kEnum
	case *regexValue:
		return kRegex
	case ctxRoot:
		return kContext
	case *API:
		return kAPI
	case *Operation:
		return kOperation
	case *Product:
		return kProduct
	case *Subscription:
		return kSubscription
	case *User:
		return kUser
	case UserGroup:
		return kUserGroup
	case *Request:
		return kRequest
	case *Response:
		return kResponse
	case *URL:
		return kURL
	case http.Header:
		return kHeaders
	case url.Values:
		return kQuery
	case map[string]string:
		return kStrMap
	case *Body:
		return kBody
	case map[string]any:
		return kVariables
	case *LastError:
		return kLastError
	case *Deployment:
		return kDeployment
	case *certValue:
		return kCert
	case *lambda:
		return kLambda
	case *claimDict:
		return kClaims
	case *csException:
		return kException
	}
	return kOther
}

// typeName is the C# name of v's type, for messages and GetType().Name.
func typeName(v Value) string {
	switch x := v.(type) {
	case *List:
		if x.Array {
			if x.Elem == "" {
				return "Object[]"
			}
			return x.Elem + "[]"
		}
		return "List"
	case enumValue:
		return x.typ
	}
	return kindNames[kindOf(v)]
}

// ---- numbers ---------------------------------------------------------------

// Decimal is a C# decimal: an unscaled integer and a decimal scale.
type Decimal struct {
	m     *big.Int
	scale int32
}

func decFromInt(i int64) Decimal { return Decimal{m: big.NewInt(i)} }

func decFromFloat(f float64) Decimal {
	d, ok := parseDecimal(strconv.FormatFloat(f, 'f', -1, 64))
	if !ok {
		throwf("OverflowException", "Value was either too large or too small for a Decimal.")
	}
	return d
}

func parseDecimal(s string) (Decimal, bool) {
	s = strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(s, "-") {
		neg = true
		s = s[1:]
	} else if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	intp, frac, _ := strings.Cut(s, ".")
	if intp == "" && frac == "" {
		return Decimal{}, false
	}
	for _, c := range intp + frac {
		if c < '0' || c > '9' {
			return Decimal{}, false
		}
	}
	m, ok := new(big.Int).SetString("0"+intp+frac, 10)
	if !ok {
		return Decimal{}, false
	}
	if neg {
		m.Neg(m)
	}
	return Decimal{m: m, scale: int32(len(frac))}, true
}

func (d Decimal) mant() *big.Int {
	if d.m == nil {
		return new(big.Int)
	}
	return d.m
}

func (d Decimal) rat() *big.Rat {
	r := new(big.Rat).SetInt(d.mant())
	if d.scale > 0 {
		r.Quo(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.scale)), nil)))
	}
	return r
}

func (d Decimal) rescale(s int32) *big.Int {
	m := new(big.Int).Set(d.mant())
	if s > d.scale {
		m.Mul(m, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s-d.scale)), nil))
	}
	return m
}

func decAdd(a, b Decimal, sub bool) Decimal {
	s := max(a.scale, b.scale)
	x, y := a.rescale(s), b.rescale(s)
	if sub {
		return Decimal{m: x.Sub(x, y), scale: s}
	}
	return Decimal{m: x.Add(x, y), scale: s}
}

func decMul(a, b Decimal) Decimal {
	m := new(big.Int).Mul(a.mant(), b.mant())
	return decNormalizeScale(Decimal{m: m, scale: a.scale + b.scale}, 28)
}

func decNormalizeScale(d Decimal, maxScale int32) Decimal {
	ten := big.NewInt(10)
	for d.scale > maxScale {
		d.m.Quo(d.m, ten)
		d.scale--
	}
	return d
}

func decDiv(a, b Decimal) Decimal {
	if b.mant().Sign() == 0 {
		throwf("DivideByZeroException", "Attempted to divide by zero.")
	}
	r := new(big.Rat).Quo(a.rat(), b.rat())
	s := r.FloatString(28)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	d, _ := parseDecimal(s)
	return d
}

func decCmp(a, b Decimal) int {
	s := max(a.scale, b.scale)
	return a.rescale(s).Cmp(b.rescale(s))
}

func (d Decimal) String() string {
	m := d.mant()
	neg := m.Sign() < 0
	s := new(big.Int).Abs(m).String()
	if d.scale > 0 {
		for int32(len(s)) <= d.scale {
			s = "0" + s
		}
		s = s[:int32(len(s))-d.scale] + "." + s[int32(len(s))-d.scale:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func (d Decimal) float() float64 { f, _ := d.rat().Float64(); return f }

// ---- conversions -----------------------------------------------------------

// isNumeric reports whether v is a C# numeric (or char) value.
func isNumeric(v Value) bool {
	switch v.(type) {
	case int32, int64, float64, Decimal, Char, uint8:
		return true
	}
	return false
}

func toF64(v Value) (float64, bool) {
	switch x := v.(type) {
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case Decimal:
		return x.float(), true
	case Char:
		return float64(x), true
	case uint8:
		return float64(x), true
	}
	return 0, false
}

func toI64(v Value) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case Char:
		return int64(x), true
	case uint8:
		return int64(x), true
	}
	return 0, false
}

// normalize converts plain Go values put in by the host (int, float32, []string,
// map[string]string, ...) into runtime values.
func normalize(v Value) Value {
	switch x := v.(type) {
	case int:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return int32(x)
		}
		return int64(x)
	case int16:
		return int32(x)
	case int8:
		return int32(x)
	case uint16:
		return int32(x)
	case uint32:
		return int64(x)
	case uint:
		return int64(x)
	case uint64:
		return int64(x)
	case float32:
		return float64(x)
	case time.Time:
		return DateTime{T: x.UTC(), Kind: UTC}
	case []string:
		l := &List{Elem: "string", Array: true, Items: make([]Value, len(x))}
		for i, s := range x {
			l.Items[i] = s
		}
		return l
	case []any:
		l := &List{Array: true, Items: make([]Value, len(x))}
		for i, s := range x {
			l.Items[i] = normalize(s)
		}
		return l
	}
	return v
}

// toStr is C# Convert.ToString / object.ToString() under the invariant culture;
// null converts to "".
func toStr(v Value) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return formatDouble(x)
	case Decimal:
		return x.String()
	case Char:
		return string(utf16.Decode([]uint16{uint16(x)}))
	case uint8:
		return strconv.Itoa(int(x))
	case []byte:
		return "System.Byte[]"
	case DateTime:
		return formatDateTime(x, "G")
	case DateTimeOffset:
		return formatDateTimeOffset(x, "G")
	case time.Duration:
		return formatTimeSpan(x)
	case Guid:
		return x.String()
	case *List:
		if x.Array {
			if x.Elem == "" {
				return "System.Object[]"
			}
			return "System." + clrName(x.Elem) + "[]"
		}
		return "System.Collections.Generic.List`1[" + "System." + clrName(x.Elem) + "]"
	case *Dict:
		if x.Anon {
			var b strings.Builder
			b.WriteString("{ ")
			for i, k := range x.keys {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(toStr(k))
				b.WriteString(" = ")
				b.WriteString(toStr(x.vals[i]))
			}
			b.WriteString(" }")
			return b.String()
		}
		return "System.Collections.Generic.Dictionary`2"
	case KeyValuePair:
		return "[" + toStr(x.Key) + ", " + toStr(x.Value) + "]"
	case *JObject, *JArray, *JProperty:
		return jsonString(x.(jtoken), true)
	case *JValue:
		return x.String()
	case *XDocument:
		return x.String()
	case *XElement:
		return x.String()
	case *XAttribute:
		return x.Name + "=\"" + xmlEscape(x.Value, true) + "\""
	case *regexMatch:
		return x.value()
	case *regexGroup:
		return x.value
	case *uriValue:
		return x.String()
	case *stringBuilder:
		return x.b.String()
	case enumValue:
		return x.name
	case *URL:
		return x.String()
	case ctxRoot:
		return "Context"
	case UserGroup:
		return x.Name
	}
	if s, ok := v.(interface{ String() string }); ok {
		return s.String()
	}
	return typeName(v)
}

func clrName(elem string) string {
	switch elem {
	case "string":
		return "String"
	case "int":
		return "Int32"
	case "long":
		return "Int64"
	case "double":
		return "Double"
	case "bool":
		return "Boolean"
	case "byte":
		return "Byte"
	case "char":
		return "Char"
	case "", "object":
		return "Object"
	}
	return elem
}

// formatDouble is double.ToString() of .NET Core 3.0+: the shortest round-trip
// digits, in scientific notation when the exponent is >= 15 or < -5.
func formatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "∞"
	case math.IsInf(f, -1):
		return "-∞"
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expS, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expS)
	if exp >= 15 || exp < -4 {
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		es := strconv.Itoa(exp)
		if len(es) < 2 {
			es = "0" + es
		}
		return strings.ToUpper(mant) + "E" + sign + es
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// truthy requires v to be a bool (C# has no truthiness).
func truthy(v Value) bool {
	b, ok := v.(bool)
	if !ok {
		if v == nil {
			throwf("NullReferenceException", "Nullable object must have a value.")
		}
		throwf("InvalidCastException", "Cannot convert %s to bool.", typeName(v))
	}
	return b
}

// equals is C# == / object.Equals for runtime values.
func equals(a, b Value) bool {
	if a == nil || b == nil {
		if a == nil && b == nil {
			return true
		}
		// a JValue holding null equals null
		if jv, ok := a.(*JValue); ok {
			return jv.isNull()
		}
		if jv, ok := b.(*JValue); ok {
			return jv.isNull()
		}
		return false
	}
	switch x := a.(type) {
	case string:
		switch y := b.(type) {
		case string:
			return x == y
		case *JValue:
			return y.kind == jString && y.s == x
		}
		return false
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case int32, int64, Char, uint8:
		if yi, ok := toI64(b); ok {
			xi, _ := toI64(a)
			return xi == yi
		}
		if isNumeric(b) {
			return numCmp(a, b) == 0
		}
		return false
	case float64, Decimal:
		if isNumeric(b) {
			return numCmp(a, b) == 0
		}
		return false
	case DateTime:
		y, ok := b.(DateTime)
		return ok && x.T.Equal(y.T)
	case DateTimeOffset:
		y, ok := b.(DateTimeOffset)
		return ok && x.T.Equal(y.T)
	case time.Duration:
		y, ok := b.(time.Duration)
		return ok && x == y
	case Guid:
		y, ok := b.(Guid)
		return ok && x == y
	case enumValue:
		y, ok := b.(enumValue)
		return ok && x.typ == y.typ && x.v == y.v
	case KeyValuePair:
		y, ok := b.(KeyValuePair)
		return ok && equals(x.Key, y.Key) && equals(x.Value, y.Value)
	case *JValue:
		if y, ok := b.(string); ok {
			return x.kind == jString && x.s == y
		}
	case *Dict:
		if y, ok := b.(*Dict); ok && x.Anon && y.Anon {
			if len(x.keys) != len(y.keys) {
				return false
			}
			for i := range x.keys {
				if !equals(x.keys[i], y.keys[i]) || !equals(x.vals[i], y.vals[i]) {
					return false
				}
			}
			return true
		}
	case []byte:
		y, ok := b.([]byte)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case UserGroup:
		y, ok := b.(UserGroup)
		return ok && x == y
	}
	return sameRef(a, b)
}

func sameRef(a, b Value) bool {
	defer func() { _ = recover() }() // uncomparable dynamic types are never the same reference
	return a == b
}

// hashKey is the key under which v is stored in Go maps for Distinct, GroupBy, ...
func hashKey(v Value) Value {
	switch x := v.(type) {
	case int64:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return int32(x)
		}
	case uint8:
		return int32(x)
	case *JValue:
		return x.plain()
	case []byte, *List, *Dict:
		return keyPtr{v: anyPtr(v)}
	}
	return v
}

type keyPtr struct{ v any }

func anyPtr(v Value) any {
	switch x := v.(type) {
	case []byte:
		if len(x) == 0 {
			return nil
		}
		return &x[0]
	}
	return v
}

// numCmp compares two numeric values with C# numeric promotion.
func numCmp(a, b Value) int {
	if ai, ok := toI64(a); ok {
		if bi, ok := toI64(b); ok {
			switch {
			case ai < bi:
				return -1
			case ai > bi:
				return 1
			}
			return 0
		}
	}
	_, ad := a.(Decimal)
	_, bd := b.(Decimal)
	if ad || bd {
		return decCmp(toDecimal(a), toDecimal(b))
	}
	x, _ := toF64(a)
	y, _ := toF64(b)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	case x == y:
		return 0
	}
	return 2 // NaN: unordered
}

func toDecimal(v Value) Decimal {
	switch x := v.(type) {
	case Decimal:
		return x
	case float64:
		return decFromFloat(x)
	}
	if i, ok := toI64(v); ok {
		return decFromInt(i)
	}
	throwf("InvalidCastException", "Cannot convert %s to decimal.", typeName(v))
	return Decimal{}
}

// compare orders two values of the same comparable C# type (numbers, strings
// ordinally, DateTime, TimeSpan, ...). It panics with an evaluation error otherwise.
func compare(a, b Value) int {
	if isNumeric(a) && isNumeric(b) {
		return numCmp(a, b)
	}
	if ja, ok := a.(*JValue); ok {
		a = ja.plain()
	}
	if jb, ok := b.(*JValue); ok {
		b = jb.plain()
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return compareStringsCulture(x, y)
		}
		if b == nil {
			return 1
		}
	case nil:
		if b == nil {
			return 0
		}
		return -1
	case DateTime:
		if y, ok := b.(DateTime); ok {
			return x.T.Compare(y.T)
		}
	case DateTimeOffset:
		if y, ok := b.(DateTimeOffset); ok {
			return x.T.Compare(y.T)
		}
	case time.Duration:
		if y, ok := b.(time.Duration); ok {
			return cmpInt(int64(x), int64(y))
		}
	case bool:
		if y, ok := b.(bool); ok {
			return cmpInt(b2i(x), b2i(y))
		}
	case Guid:
		if y, ok := b.(Guid); ok {
			return strings.Compare(x.String(), y.String())
		}
	case enumValue:
		if y, ok := b.(enumValue); ok {
			return cmpInt(int64(x.v), int64(y.v))
		}
	}
	if isNumeric(a) && b == nil {
		return 1
	}
	throwf("InvalidOperationException", "Cannot compare %s with %s.", typeName(a), typeName(b))
	return 0
}

// compareStringsCulture approximates the invariant culture comparison that
// string.Compare and OrderBy use: case-insensitive first, lower case before
// upper case on ties.
func compareStringsCulture(a, b string) int {
	if c := strings.Compare(strings.ToLower(a), strings.ToLower(b)); c != 0 {
		return c
	}
	return -strings.Compare(a, b)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// ---- UTF-16 helpers ----------------------------------------------------------

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// strLen is C# string.Length (UTF-16 code units).
func strLen(s string) int {
	if isASCII(s) {
		return len(s)
	}
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func toU16(s string) []uint16 { return utf16.Encode([]rune(s)) }

func fromU16(u []uint16) string { return string(utf16.Decode(u)) }

// substr returns s[start:start+n] in UTF-16 units, panicking with C#'s
// ArgumentOutOfRangeException when out of range.
func substr(s string, start, n int) string {
	l := strLen(s)
	if start < 0 || n < 0 || start+n > l {
		throwf("ArgumentOutOfRangeException", "Index and length must refer to a location within the string.")
	}
	if len(s) == l {
		return s[start : start+n]
	}
	return fromU16(toU16(s)[start : start+n])
}

func charAt(s string, i int) Char {
	if len(s) == strLen(s) {
		if i < 0 || i >= len(s) {
			throwf("IndexOutOfRangeException", "Index was outside the bounds of the array.")
		}
		return Char(s[i])
	}
	u := toU16(s)
	if i < 0 || i >= len(u) {
		throwf("IndexOutOfRangeException", "Index was outside the bounds of the array.")
	}
	return Char(u[i])
}

// u16Index converts a byte offset in s to a UTF-16 index.
func u16Index(s string, byteOff int) int {
	if byteOff < 0 {
		return -1
	}
	return strLen(s[:byteOff])
}

func bigOne() *big.Int { return big.NewInt(1) }
