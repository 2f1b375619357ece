package expr

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"time"
)

// jtoken is implemented by *JObject, *JArray, *JProperty and *JValue.
type jtoken interface {
	parentTok() jtoken
	setParent(jtoken)
}

// JObject is a Newtonsoft JObject: ordered properties.
type JObject struct {
	props  []*JProperty
	index  map[string]int
	parent jtoken
}

// JArray is a Newtonsoft JArray.
type JArray struct {
	items  []jtoken
	parent jtoken
}

// JProperty is a Newtonsoft JProperty.
type JProperty struct {
	Name   string
	Value  jtoken
	parent jtoken
}

type jkind uint8

const (
	jNull jkind = iota
	jString
	jInteger
	jFloat
	jBool
)

// JValue is a Newtonsoft JValue: null, string, integer, float or boolean.
// Dates are kept as strings (like DateParseHandling.None).
type JValue struct {
	kind   jkind
	s      string
	i      int64
	f      float64
	b      bool
	parent jtoken
}

func (o *JObject) parentTok() jtoken   { return o.parent }
func (o *JObject) setParent(p jtoken)  { o.parent = p }
func (a *JArray) parentTok() jtoken    { return a.parent }
func (a *JArray) setParent(p jtoken)   { a.parent = p }
func (p *JProperty) parentTok() jtoken { return p.parent }
func (p *JProperty) setParent(q jtoken) {
	p.parent = q
}
func (v *JValue) parentTok() jtoken  { return v.parent }
func (v *JValue) setParent(p jtoken) { v.parent = p }

func (v *JValue) isNull() bool { return v.kind == jNull }

// plain returns the Go runtime value held by v.
func (v *JValue) plain() Value {
	switch v.kind {
	case jString:
		return v.s
	case jInteger:
		if v.i >= math.MinInt32 && v.i <= math.MaxInt32 {
			return int64(v.i)
		}
		return v.i
	case jFloat:
		return v.f
	case jBool:
		return v.b
	}
	return nil
}

// String is JValue.ToString(): the raw value without JSON quoting.
func (v *JValue) String() string {
	switch v.kind {
	case jString:
		return v.s
	case jInteger:
		return strconv.FormatInt(v.i, 10)
	case jFloat:
		return formatDouble(v.f)
	case jBool:
		if v.b {
			return "True"
		}
		return "False"
	}
	return ""
}

// Get returns the value of property name.
func (o *JObject) Get(name string) (jtoken, bool) {
	if i, ok := o.index[name]; ok {
		return o.props[i].Value, true
	}
	return nil, false
}

// Set sets (or adds) property name.
func (o *JObject) Set(name string, v jtoken) {
	if o.index == nil {
		o.index = map[string]int{}
	}
	if i, ok := o.index[name]; ok {
		o.props[i].Value = adopt(v, o.props[i])
		return
	}
	p := &JProperty{Name: name, parent: o}
	p.Value = adopt(v, p)
	o.index[name] = len(o.props)
	o.props = append(o.props, p)
}

func (o *JObject) addProp(p *JProperty) {
	if _, ok := o.index[p.Name]; ok {
		throwf("ArgumentException", "Can not add property %s to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object.", p.Name)
	}
	if p.parent != nil {
		p = deepClone(p).(*JProperty)
	}
	if o.index == nil {
		o.index = map[string]int{}
	}
	p.parent = o
	o.index[p.Name] = len(o.props)
	o.props = append(o.props, p)
}

// Remove deletes property name and reports whether it existed.
func (o *JObject) Remove(name string) bool {
	i, ok := o.index[name]
	if !ok {
		return false
	}
	o.props[i].parent = nil
	o.props = append(o.props[:i], o.props[i+1:]...)
	delete(o.index, name)
	for j := i; j < len(o.props); j++ {
		o.index[o.props[j].Name] = j
	}
	return true
}

// adopt makes t a child of parent, cloning it if it already has a parent (as
// Newtonsoft does).
func adopt(t jtoken, parent jtoken) jtoken {
	if t == nil {
		t = &JValue{}
	}
	if t.parentTok() != nil {
		t = deepClone(t)
	}
	t.setParent(parent)
	return t
}

func deepClone(t jtoken) jtoken {
	switch x := t.(type) {
	case *JObject:
		o := &JObject{index: make(map[string]int, len(x.props))}
		for _, p := range x.props {
			np := &JProperty{Name: p.Name, parent: o}
			np.Value = deepClone(p.Value)
			np.Value.setParent(np)
			o.index[p.Name] = len(o.props)
			o.props = append(o.props, np)
		}
		return o
	case *JArray:
		a := &JArray{items: make([]jtoken, len(x.items))}
		for i, it := range x.items {
			c := deepClone(it)
			c.setParent(a)
			a.items[i] = c
		}
		return a
	case *JProperty:
		p := &JProperty{Name: x.Name}
		p.Value = deepClone(x.Value)
		p.Value.setParent(p)
		return p
	case *JValue:
		c := *x
		c.parent = nil
		return &c
	}
	return t
}

func jtypeName(t jtoken) string {
	switch x := t.(type) {
	case *JObject:
		return "Object"
	case *JArray:
		return "Array"
	case *JProperty:
		return "Property"
	case *JValue:
		return []string{"Null", "String", "Integer", "Float", "Boolean"}[x.kind]
	}
	return "None"
}

var jtokenTypes = []string{"None", "Object", "Array", "Constructor", "Property", "Comment", "Integer", "Float", "String", "Boolean", "Null", "Undefined", "Date", "Raw", "Bytes", "Guid", "Uri", "TimeSpan"}

func jtokenType(t jtoken) enumValue {
	n := jtypeName(t)
	for i, s := range jtokenTypes {
		if s == n {
			return enumValue{typ: "JTokenType", name: n, v: i}
		}
	}
	return enumValue{typ: "JTokenType", name: "None"}
}

// ---- parsing --------------------------------------------------------------------------

type jsonErr struct{ msg string }

func parseJSON(s string) (t jtoken, err error) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(*jsonErr); ok {
				t, err = nil, &csException{typ: "JsonReaderException", msg: je.msg}
				return
			}
			panic(r)
		}
	}()
	p := &jsonParser{s: s}
	t = p.value()
	p.ws()
	if p.i < len(p.s) {
		p.fail("Additional text encountered after finished reading JSON content: %c.", p.s[p.i])
	}
	return t, nil
}

func numberToken(s string) *JValue {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return &JValue{kind: jInteger, i: i}
		}
	}
	f, _ := strconv.ParseFloat(s, 64)
	return &JValue{kind: jFloat, f: f}
}

// ---- serialization ---------------------------------------------------------------------

func jsonString(t jtoken, indent bool) string {
	var b bytes.Buffer
	writeJSON(&b, t, indent, 0)
	return b.String()
}

func writeJSONString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 || r == 0x85 || r == 0x2028 || r == 0x2029 {
				b.WriteString(`\u`)
				h := strconv.FormatInt(int64(r), 16)
				b.WriteString(strings.Repeat("0", 4-len(h)) + h)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

func jsonFloat(f float64) string {
	if math.IsNaN(f) {
		return "NaN"
	}
	if math.IsInf(f, 1) {
		return "Infinity"
	}
	if math.IsInf(f, -1) {
		return "-Infinity"
	}
	s := formatDouble(f)
	if !strings.ContainsAny(s, ".E") {
		s += ".0"
	}
	return s
}

func newline(b *bytes.Buffer, depth int) {
	b.WriteByte('\n')
	for i := 0; i < depth; i++ {
		b.WriteString("  ")
	}
}

func writeJSON(b *bytes.Buffer, t jtoken, indent bool, depth int) {
	switch x := t.(type) {
	case nil:
		b.WriteString("null")
	case *JValue:
		switch x.kind {
		case jNull:
			b.WriteString("null")
		case jString:
			writeJSONString(b, x.s)
		case jInteger:
			b.WriteString(strconv.FormatInt(x.i, 10))
		case jFloat:
			b.WriteString(jsonFloat(x.f))
		case jBool:
			b.WriteString(strconv.FormatBool(x.b))
		}
	case *JProperty:
		writeJSONString(b, x.Name)
		b.WriteByte(':')
		if indent {
			b.WriteByte(' ')
		}
		writeJSON(b, x.Value, indent, depth)
	case *JObject:
		if len(x.props) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, p := range x.props {
			if i > 0 {
				b.WriteByte(',')
			}
			if indent {
				newline(b, depth+1)
			}
			writeJSON(b, p, indent, depth+1)
		}
		if indent {
			newline(b, depth)
		}
		b.WriteByte('}')
	case *JArray:
		if len(x.items) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, it := range x.items {
			if i > 0 {
				b.WriteByte(',')
			}
			if indent {
				newline(b, depth+1)
			}
			writeJSON(b, it, indent, depth+1)
		}
		if indent {
			newline(b, depth)
		}
		b.WriteByte(']')
	}
}

// ---- conversions -------------------------------------------------------------------------

// toJToken is the implicit conversion of a runtime value to a JToken
// (JToken.FromObject for collections).
func toJToken(v Value) jtoken {
	switch x := v.(type) {
	case nil:
		return &JValue{}
	case jtoken:
		return x
	case string:
		return &JValue{kind: jString, s: x}
	case bool:
		return &JValue{kind: jBool, b: x}
	case int32:
		return &JValue{kind: jInteger, i: int64(x)}
	case int64:
		return &JValue{kind: jInteger, i: x}
	case uint8:
		return &JValue{kind: jInteger, i: int64(x)}
	case float64:
		return &JValue{kind: jFloat, f: x}
	case Decimal:
		if x.scale == 0 {
			if x.mant().IsInt64() {
				return &JValue{kind: jFloat, f: x.float()}
			}
		}
		return &JValue{kind: jFloat, f: x.float()}
	case Char:
		return &JValue{kind: jString, s: toStr(x)}
	case DateTime:
		return &JValue{kind: jString, s: formatDateTime(x, "yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFK")}
	case DateTimeOffset:
		return &JValue{kind: jString, s: formatDateTimeOffset(x, "yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFK")}
	case Guid, time.Duration, *uriValue, enumValue:
		return &JValue{kind: jString, s: toStr(x)}
	case []byte:
		return &JValue{kind: jString, s: b64(x)}
	case *List:
		a := &JArray{}
		for _, it := range x.Items {
			a.items = append(a.items, adopt(toJToken(it), a))
		}
		return a
	case *Set:
		return toJToken(&List{Items: x.d.keys})
	case *Dict:
		o := &JObject{index: map[string]int{}}
		for i, k := range x.keys {
			o.Set(toStr(k), toJToken(x.vals[i]))
		}
		return o
	case KeyValuePair:
		o := &JObject{index: map[string]int{}}
		o.Set("Key", toJToken(x.Key))
		o.Set("Value", toJToken(x.Value))
		return o
	}
	throwf("ArgumentException", "Could not determine JSON object type for type %s.", typeName(v))
	return nil
}

// jvalueConvert is the explicit conversion (T)jvalue.
func jvalueConvert(jv *JValue, t string, nullable bool) Value {
	if jv.kind == jNull {
		switch t {
		case "string", "object":
			return nil
		}
		if nullable {
			return nil
		}
		throwf("ArgumentException", "Can not convert Null to %s.", clrName(t))
	}
	switch t {
	case "string":
		return jv.String()
	case "bool":
		switch jv.kind {
		case jBool:
			return jv.b
		case jInteger:
			return jv.i != 0
		case jFloat:
			return jv.f != 0
		}
		return convertTo(jv.s, "bool")
	case "int", "long", "double", "decimal", "byte", "char":
		switch jv.kind {
		case jInteger:
			if t == "int" && (jv.i > math.MaxInt32 || jv.i < math.MinInt32) {
				throwf("OverflowException", "Value was either too large or too small for an Int32.")
			}
			return numConvert(jv.i, t, true)
		case jFloat:
			return convertTo(jv.f, t)
		case jBool:
			return convertTo(jv.b, t)
		case jString:
			return convertTo(jv.s, t)
		}
	case "DateTime":
		if jv.kind == jString {
			d, _, ok := parseDate(jv.s, "RoundtripKind")
			if !ok {
				throwf("FormatException", "String '%s' was not recognized as a valid DateTime.", jv.s)
			}
			return d
		}
	case "DateTimeOffset":
		if jv.kind == jString {
			_, tt, ok := parseDate(jv.s, "")
			if !ok {
				throwf("FormatException", "String '%s' was not recognized as a valid DateTime.", jv.s)
			}
			return DateTimeOffset{T: tt}
		}
	case "Guid":
		if jv.kind == jString {
			g, ok := parseGuid(jv.s)
			if !ok {
				throwf("FormatException", "Unrecognized Guid format.")
			}
			return g
		}
	case "TimeSpan":
		if jv.kind == jString {
			d, ok := parseTimeSpan(jv.s)
			if ok {
				return d
			}
		}
	case "object":
		return jv.plain()
	}
	throwf("ArgumentException", "Can not convert %s to %s.", jtypeName(jv), clrName(t))
	return nil
}

// toObject is JToken.ToObject<T>() / JsonConvert.DeserializeObject<T>.
func toObject(t jtoken, typ string, tr *typeRef) Value {
	if tr != nil && tr.array > 0 || typ == "List" || typ == "IEnumerable" {
		arr, ok := t.(*JArray)
		if !ok {
			if jv, isV := t.(*JValue); isV && jv.kind == jNull {
				return nil
			}
			throwf("JsonSerializationException", "Cannot deserialize the current JSON %s into an array.", strings.ToLower(jtypeName(t)))
		}
		elem := ""
		var et *typeRef
		if tr != nil && tr.array > 0 {
			elem = canonType(tr.name)
		} else if tr != nil && len(tr.args) > 0 {
			elem, et = canonType(tr.args[0].name), tr.args[0]
		}
		l := &List{Elem: elem, Array: tr != nil && tr.array > 0}
		for _, it := range arr.items {
			l.Items = append(l.Items, toObject(it, elem, et))
		}
		return l
	}
	switch typ {
	case "JToken", "":
		return t
	case "JObject", "JArray", "JValue":
		return castTo(t, typ, nil, true)
	case "Dictionary":
		o, ok := t.(*JObject)
		if !ok {
			throwf("JsonSerializationException", "Cannot deserialize the current JSON %s into a dictionary.", strings.ToLower(jtypeName(t)))
		}
		vt, vtr := "", (*typeRef)(nil)
		if tr != nil && len(tr.args) == 2 {
			vt, vtr = canonType(tr.args[1].name), tr.args[1]
		}
		d := newDict()
		for _, p := range o.props {
			d.Set(p.Name, toObject(p.Value, vt, vtr))
		}
		return d
	case "object":
		return plainOf(t)
	}
	if jv, ok := t.(*JValue); ok {
		return jvalueConvert(jv, typ, tr != nil && tr.nullable)
	}
	throwf("JsonSerializationException", "Cannot deserialize the current JSON %s into type '%s'.", strings.ToLower(jtypeName(t)), typ)
	return nil
}

func plainOf(t jtoken) Value {
	switch x := t.(type) {
	case *JValue:
		if x.kind == jInteger && x.i >= math.MinInt32 && x.i <= math.MaxInt32 {
			return int32(x.i)
		}
		return x.plain()
	}
	return t
}

// bodyAs converts message content for Body.As<T>().
func bodyAs(e *env, data []byte, t string, cs *callSite) Value {
	switch t {
	case "string":
		return decodeBytes("UTF8", bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	case "byte":
		return append([]byte(nil), data...)
	case "JObject", "JArray", "JToken":
		e.alloc(len(data) * 4)
		e.work(len(data) / jsonBytesPerStep)
		tok, err := parseJSON(string(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
		if err != nil {
			panic(err)
		}
		if t == "JToken" {
			return tok
		}
		return castTo(tok, t, nil, true)
	case "XDocument", "XElement":
		e.alloc(len(data) * 4)
		e.work(len(data) / jsonBytesPerStep)
		d := parseXML(string(data))
		if t == "XElement" {
			return d.Root
		}
		return d
	case "":
		throwf("ArgumentException", "As<T>() needs a type argument: string, JObject, JArray, JToken, XDocument or byte[]")
	}
	throwf("NotSupportedException", "As<%s>() is not supported; use string, JObject, JArray, JToken, XDocument or byte[]", t)
	return nil
}

func b64(b []byte) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var sb strings.Builder
	for i := 0; i < len(b); i += 3 {
		var n uint32
		rem := len(b) - i
		n = uint32(b[i]) << 16
		if rem > 1 {
			n |= uint32(b[i+1]) << 8
		}
		if rem > 2 {
			n |= uint32(b[i+2])
		}
		sb.WriteByte(enc[n>>18&63])
		sb.WriteByte(enc[n>>12&63])
		if rem > 1 {
			sb.WriteByte(enc[n>>6&63])
		} else {
			sb.WriteByte('=')
		}
		if rem > 2 {
			sb.WriteByte(enc[n&63])
		} else {
			sb.WriteByte('=')
		}
	}
	return sb.String()
}
