package expr

import (
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

type methodFn func(e *env, recv Value, args []Value, cs *callSite) Value
type propFn func(e *env, recv Value) Value
type staticFn func(e *env, args []Value, cs *callSite) Value

// The dispatch tables. Members are registered by the register* functions of
// the type_*.go files (one file per .NET type) through a typeDef, which
// records each member's signature next to its implementation. The compiler
// looks the members up by name once, when an expression is compiled, and
// dispatches on the receiver's kind when it runs.
var (
	tablesOnce  sync.Once
	methods     [numKinds]map[string]methodFn
	props       [numKinds]map[string]propFn
	seqMethods  = map[string]methodFn{}
	statics     = map[string]map[string]staticFn{}
	staticProps = map[string]map[string]func(e *env) Value{}
	ctors       = map[string]staticFn{}
	knownTypes  = map[string]bool{
		"string": true, "int": true, "long": true, "double": true, "decimal": true, "bool": true, "char": true,
		"byte": true, "object": true, "var": false, "IEnumerable": true, "Array": true, "Nullable": true, "Func": true, "Action": true,
	}
	propSites   map[string]*[numKinds]propFn
	methodSites map[string]*[numKinds]methodFn
)

// The members and their signatures, in step with the dispatch tables: the
// member behind props[k][name] is propMembers[k][name], and so on.
var (
	propMembers       [numKinds]map[string]*member
	methodMembers     [numKinds]map[string]*member
	seqMembers        = map[string]*member{}
	staticMembers     = map[string]map[string]*member{}
	staticPropMembers = map[string]map[string]*member{}
	ctorMembers       = map[string]*member{}
	// allMembers is every registration, in order.
	allMembers []*member
	// propSigs and methodSigs are propSites and methodSites for members.
	propSigs   map[string]*[numKinds]*member
	methodSigs map[string]*[numKinds]*member
)

var enumerableKinds = []kind{kString, kList, kDict, kSet, kJObject, kJArray, kJProperty, kHeaders, kQuery, kStrMap,
	kVariables, kBytes, kGroupCollection, kClaims}

// memberClass says what a member is.
type memberClass uint8

const (
	mProp memberClass = iota
	mMethod
	mStaticProp
	mStatic
	mCtor
)

// member is one registration of a bound member: a .NET type's property,
// method, static member or constructor, with its signature (see sig).
type member struct {
	owner  string // the .NET type that declares it ("string", "JToken", "Enumerable")
	name   string // "" for a constructor
	class  memberClass
	sigSrc string
	sig    *sig
}

// id names the member as a C# programmer would ("string.Length",
// "static string.IsNullOrEmpty", "new JObject"); registrations of one
// member on several kinds share it.
func (m *member) id() string {
	switch m.class {
	case mStaticProp, mStatic:
		return "static " + m.owner + "." + m.name
	case mCtor:
		return "new " + m.owner
	}
	return m.owner + "." + m.name
}

// typeDef registers the members of one .NET type.
type typeDef struct {
	name  string
	kinds []kind // the kinds of its instances (none for static classes such as Math)
}

// defType starts the registration of the .NET type name whose instances
// have the kinds ks, and makes name a type of member signatures.
func defType(name string, ks ...kind) *typeDef {
	if len(ks) > 0 {
		t := kindsType(name, ks...)
		if old, ok := namedTypes[name]; !ok {
			namedTypes[name] = t
		} else if old.ks != t.ks {
			panic("type " + name + " defined twice with different kinds")
		}
	}
	return &typeDef{name: name, kinds: ks}
}

// on is the same type registering members on other kinds (a null receiver,
// a subset of its kinds).
func (t *typeDef) on(ks ...kind) *typeDef { return &typeDef{name: t.name, kinds: ks} }

func (t *typeDef) member(class memberClass, name, sig string) *member {
	m := &member{owner: t.name, name: name, class: class, sigSrc: sig}
	allMembers = append(allMembers, m)
	return m
}

func setMember(tab *map[string]*member, name string, m *member) {
	if *tab == nil {
		*tab = map[string]*member{}
	}
	(*tab)[name] = m
}

// prop registers a property of type sig on every kind of t.
func (t *typeDef) prop(name, sig string, f propFn) {
	m := t.member(mProp, name, sig)
	for _, k := range t.kinds {
		prop(k, name, f)
		setMember(&propMembers[k], name, m)
	}
}

// method registers a method with signature sig on every kind of t.
func (t *typeDef) method(name, sig string, f methodFn) {
	m := t.member(mMethod, name, sig)
	for _, k := range t.kinds {
		method(k, name, f)
		setMember(&methodMembers[k], name, m)
	}
}

// seq registers a LINQ method, available on every enumerable kind that has
// no method of that name.
func (t *typeDef) seq(name, sig string, f methodFn) {
	seqMethods[name] = f
	seqMembers[name] = t.member(mMethod, name, sig)
}

// static registers a static method of t.
func (t *typeDef) static(name, sig string, f staticFn) {
	static(t.name, name, f)
	if staticMembers[t.name] == nil {
		staticMembers[t.name] = map[string]*member{}
	}
	staticMembers[t.name][name] = t.member(mStatic, name, sig)
}

// staticProp registers a static property (or constant) of t.
func (t *typeDef) staticProp(name, sig string, f func(e *env) Value) {
	staticProp(t.name, name, f)
	if staticPropMembers[t.name] == nil {
		staticPropMembers[t.name] = map[string]*member{}
	}
	staticPropMembers[t.name][name] = t.member(mStaticProp, name, sig)
}

// ctor registers the constructor of t; arity is the argument counts of its
// overloads, as in a method signature ("(0-1)").
func (t *typeDef) ctor(arity string, f staticFn) {
	ctor(t.name, f)
	ctorMembers[t.name] = t.member(mCtor, "", arity)
}

// defEnum registers an enum type and its members, numbered from 0.
func defEnum(typ string, names ...string) *typeDef {
	t := defType(typ, kEnum)
	for i, n := range names {
		v := enumValue{typ: typ, name: n, v: i}
		t.staticProp(n, typ, func(*env) Value { return v })
	}
	return t
}

func method(k kind, name string, f methodFn) {
	if methods[k] == nil {
		methods[k] = map[string]methodFn{}
	}
	methods[k][name] = f
}

func prop(k kind, name string, f propFn) {
	if props[k] == nil {
		props[k] = map[string]propFn{}
	}
	props[k][name] = f
}

func static(typ, name string, f staticFn) {
	knownTypes[typ] = true
	if statics[typ] == nil {
		statics[typ] = map[string]staticFn{}
	}
	statics[typ][name] = f
}

func staticProp(typ, name string, f func(e *env) Value) {
	knownTypes[typ] = true
	if staticProps[typ] == nil {
		staticProps[typ] = map[string]func(e *env) Value{}
	}
	staticProps[typ][name] = f
}

func ctor(typ string, f staticFn) {
	knownTypes[typ] = true
	ctors[typ] = f
}

// registerTypes registers every bound .NET type; each register function
// lives in the type_*.go file named after its type.
func registerTypes() {
	registerContext()
	registerAPI()
	registerOperation()
	registerProduct()
	registerSubscription()
	registerUser()
	registerRequest()
	registerResponse()
	registerLastError()
	registerDeployment()
	registerURL()
	registerMessageBody()
	registerReadOnlyDictionaries()
	registerCertificate()
	registerJwt()
	registerBasicAuth()
	registerObject()
	registerExceptions()
	registerDelegates()
	registerString()
	registerChar()
	registerEnums()
	registerConvert()
	registerEncoding()
	registerIntegers()
	registerDouble()
	registerDecimal()
	registerBool()
	registerGuid()
	registerMath()
	registerRandom()
	registerURI()
	registerWebUtility()
	registerBitConverter()
	registerDateTime()
	registerDateTimeOffset()
	registerTimeSpan()
	registerList()
	registerArray()
	registerDictionary()
	registerHashSet()
	registerKeyValuePair()
	registerStringBuilder()
	registerEnumerable()
	registerJToken()
	registerJObject()
	registerJArray()
	registerJProperty()
	registerJValue()
	registerJsonConvert()
	registerXDocument()
	registerXElement()
	registerXAttribute()
	registerRegex()
	registerMatch()
	registerHashAlgorithms()
	registerRandomNumberGenerator()
	registerNullable() // last: Value only where a type has none
}

// objectMembers are the members of System.Object, available on every kind
// that does not define its own.
var objectMembers = []string{"ToString", "Equals", "GetHashCode", "GetType", "CompareTo"}

func buildTables() {
	registerTypes()
	registerCosts()
	for _, m := range allMembers {
		m.sig = parseSig(m.sigSrc, m.class != mProp && m.class != mStaticProp)
	}
	// sites
	propSites = map[string]*[numKinds]propFn{}
	propSigs = map[string]*[numKinds]*member{}
	for k := range props {
		for name := range props[k] {
			if propSites[name] == nil {
				propSites[name] = &[numKinds]propFn{}
				propSigs[name] = &[numKinds]*member{}
			}
			propSites[name][k] = props[k][name]
			propSigs[name][k] = propMembers[k][name]
		}
	}
	methodSites = map[string]*[numKinds]methodFn{}
	methodSigs = map[string]*[numKinds]*member{}
	ensure := func(name string) (*[numKinds]methodFn, *[numKinds]*member) {
		if methodSites[name] == nil {
			methodSites[name] = &[numKinds]methodFn{}
			methodSigs[name] = &[numKinds]*member{}
		}
		return methodSites[name], methodSigs[name]
	}
	for k := range methods {
		for name, f := range methods[k] {
			s, m := ensure(name)
			s[k], m[k] = f, methodMembers[k][name]
		}
	}
	for name, f := range seqMethods {
		s, m := ensure(name)
		for _, k := range enumerableKinds {
			if s[k] == nil {
				s[k], m[k] = f, seqMembers[name]
			}
		}
	}
	// object members available on every kind
	for _, name := range objectMembers {
		s, m := ensure(name)
		f, om := methods[kOther][name], methodMembers[kOther][name]
		for k := kind(1); k < numKinds; k++ {
			if s[k] == nil {
				s[k], m[k] = f, om
			}
		}
	}
}

func propSite(name string) *[numKinds]propFn     { return propSites[name] }
func methodSite(name string) *[numKinds]methodFn { return methodSites[name] }

// ---- argument helpers ----------------------------------------------------------------

func wrongArgs(cs *callSite, n int) {
	throwf("ArgumentException", "no overload for method '%s' takes %d arguments", cs.name, n)
}

func need(a []Value, n int, cs *callSite) {
	if len(a) < n {
		wrongArgs(cs, len(a))
	}
}

func argStr(a []Value, i int, cs *callSite) string {
	need(a, i+1, cs)
	switch x := a[i].(type) {
	case string:
		return x
	case nil:
		return ""
	case *JValue:
		return x.String()
	case Char:
		return toStr(x)
	}
	throwf("ArgumentException", "argument %d of '%s' must be a string, not %s", i+1, cs.name, typeName(a[i]))
	return ""
}

func argStrOrNull(a []Value, i int, cs *callSite) (string, bool) {
	need(a, i+1, cs)
	if a[i] == nil {
		return "", false
	}
	return argStr(a, i, cs), true
}

func argInt(a []Value, i int, cs *callSite) int {
	need(a, i+1, cs)
	switch x := a[i].(type) {
	case int32:
		return int(x)
	case int64:
		return int(x)
	case Char:
		return int(x)
	case uint8:
		return int(x)
	case float64:
		return int(x)
	case *JValue:
		if n, ok := toI64(x.plain()); ok {
			return int(n)
		}
	case enumValue:
		return x.v
	}
	throwf("ArgumentException", "argument %d of '%s' must be an integer, not %s", i+1, cs.name, typeName(a[i]))
	return 0
}

func argF64(a []Value, i int, cs *callSite) float64 {
	need(a, i+1, cs)
	if f, ok := toF64(a[i]); ok {
		return f
	}
	if jv, ok := a[i].(*JValue); ok {
		if f, ok := toF64(jv.plain()); ok {
			return f
		}
	}
	throwf("ArgumentException", "argument %d of '%s' must be a number, not %s", i+1, cs.name, typeName(a[i]))
	return 0
}

func argLambda(a []Value, i int, cs *callSite) *lambda {
	need(a, i+1, cs)
	l, ok := a[i].(*lambda)
	if !ok {
		throwf("ArgumentException", "argument %d of '%s' must be a lambda (x => ...)", i+1, cs.name)
	}
	return l
}

func argBytes(a []Value, i int, cs *callSite) []byte {
	need(a, i+1, cs)
	switch x := a[i].(type) {
	case []byte:
		return x
	case nil:
		throwf("ArgumentNullException", "Value cannot be null. (Parameter '%s')", cs.name)
	case *List:
		b := make([]byte, len(x.Items))
		for j, v := range x.Items {
			n, _ := toI64(v)
			b[j] = byte(n)
		}
		return b
	}
	throwf("ArgumentException", "argument %d of '%s' must be a byte[], not %s", i+1, cs.name, typeName(a[i]))
	return nil
}

func argEnum(a []Value, i int, typ string) (enumValue, bool) {
	if i >= len(a) {
		return enumValue{}, false
	}
	ev, ok := a[i].(enumValue)
	if !ok || (typ != "" && ev.typ != typ) {
		return enumValue{}, false
	}
	return ev, true
}

func setOut(e *env, a []Value, i int, cs *callSite, v Value) {
	need(a, i+1, cs)
	o, ok := a[i].(*outArg)
	if !ok {
		throwf("ArgumentException", "argument %d of '%s' must be an out argument", i+1, cs.name)
	}
	o.set(e, v)
}

func sortStrings(s []string) { sort.Strings(s) }

// ---- object members ------------------------------------------------------------------

var exceptionTypes = []string{"Exception", "ArgumentException", "ArgumentNullException", "ArgumentOutOfRangeException",
	"InvalidOperationException", "FormatException", "NullReferenceException", "IndexOutOfRangeException",
	"KeyNotFoundException", "NotSupportedException", "NotImplementedException", "DivideByZeroException",
	"OverflowException", "InvalidCastException", "JsonReaderException", "JsonException", "UriFormatException",
	"SystemException", "ArithmeticException", "TimeoutException", "UnauthorizedAccessException", "JsonSerializationException",
	"RegexMatchTimeoutException", "XmlException", "CryptographicException"}

func exceptionType(name string) string {
	for _, ns := range namespaces {
		name = strings.TrimPrefix(name, ns)
	}
	for _, t := range exceptionTypes {
		if t == name {
			return t
		}
	}
	return ""
}

// ---- indexers and property assignment -------------------------------------------------

func indexGet(e *env, r Value, k Value) Value {
	switch x := r.(type) {
	case nil:
		throwNull("[]")
	case string:
		i, ok := toI64(k)
		if !ok {
			throwf("InvalidCastException", "a string index must be an integer")
		}
		return charAt(x, int(i))
	case *List:
		i := listIndex(k, len(x.Items))
		return x.Items[i]
	case []byte:
		i := listIndex(k, len(x))
		return x[i]
	case *Dict:
		v, ok := x.Get(k)
		if !ok {
			if x.Anon {
				throwf("RuntimeBinderException", "cannot index an anonymous object")
			}
			throwf("KeyNotFoundException", "The given key '%s' was not present in the dictionary.", toStr(k))
		}
		return v
	case *claimDict:
		v, ok := x.Get(k)
		if !ok {
			throwf("KeyNotFoundException", "The given key '%s' was not present in the dictionary.", toStr(k))
		}
		return v
	case http.Header:
		name := toStr(k)
		if v := x.Values(name); len(v) > 0 {
			return normalize(v)
		}
		for hk, v := range x {
			if strings.EqualFold(hk, name) {
				return normalize(v)
			}
		}
		throwf("KeyNotFoundException", "The given key '%s' was not present in the dictionary.", name)
	case url.Values:
		name := toStr(k)
		if v, ok := x[name]; ok {
			return normalize(v)
		}
		throwf("KeyNotFoundException", "The given key '%s' was not present in the dictionary.", name)
	case map[string]string:
		name := toStr(k)
		if v, ok := x[name]; ok {
			return v
		}
		throwf("KeyNotFoundException", "The given key '%s' was not present in the dictionary.", name)
	case map[string]any:
		name := toStr(k)
		if v, ok := x[name]; ok {
			return normalize(v)
		}
		throwf("KeyNotFoundException", "The given key '%s' was not present in the dictionary.", name)
	case *JObject:
		if s, ok := k.(string); ok {
			v, ok := x.Get(s)
			if !ok {
				return nil
			}
			return v
		}
		throwf("ArgumentException", "Accessed JObject values with invalid key value: %s. Object property name expected.", toStr(k))
	case *JArray:
		i, ok := toI64(k)
		if !ok {
			throwf("ArgumentException", "Accessed JArray values with invalid key value: %s. Int32 array index expected.", toStr(k))
		}
		if i < 0 || int(i) >= len(x.items) {
			throwf("ArgumentOutOfRangeException", "Index was out of range. Must be non-negative and less than the size of the collection.")
		}
		return x.items[i]
	case *JProperty:
		return indexGet(e, x.Value, k)
	case *JValue:
		throwf("InvalidOperationException", "Cannot access child value on Newtonsoft.Json.Linq.JValue.")
	case *groupCollection:
		return x.get(k)
	case *regexMatch:
		throwf("RuntimeBinderException", "cannot index a Match; use Groups[...]")
	case *stringBuilder:
		i, _ := toI64(k)
		return charAt(x.b.String(), int(i))
	}
	throwf("RuntimeBinderException", "cannot apply indexing with [] to an expression of type '%s'", typeName(r))
	return nil
}

func listIndex(k Value, n int) int {
	i, ok := toI64(k)
	if !ok {
		if jv, isJ := k.(*JValue); isJ {
			i, ok = toI64(jv.plain())
		}
		if !ok {
			throwf("InvalidCastException", "an array index must be an integer, not %s", typeName(k))
		}
	}
	if i < 0 || int(i) >= n {
		throwf("ArgumentOutOfRangeException", "Index was out of range. Must be non-negative and less than the size of the collection.")
	}
	return int(i)
}

func indexSet(e *env, r Value, k Value, v Value) {
	switch x := r.(type) {
	case nil:
		throwNull("[]")
	case *List:
		i := listIndex(k, len(x.Items))
		if x.Elem != "" && x.Elem != "object" {
			v = implicitConv(v, x.Elem)
		}
		x.Items[i] = v
		return
	case []byte:
		i := listIndex(k, len(x))
		n, _ := toI64(v)
		x[i] = byte(n)
		return
	case *Dict:
		e.alloc(32)
		x.Set(k, v)
		return
	case *JObject:
		s, ok := k.(string)
		if !ok {
			throwf("ArgumentException", "Set JObject values with invalid key value: %s. Object property name expected.", toStr(k))
		}
		e.alloc(32 + len(s))
		e.chargeAdopt(v)
		x.Set(s, toJToken(v))
		return
	case *JArray:
		i, ok := toI64(k)
		if !ok || i < 0 || int(i) >= len(x.items) {
			throwf("ArgumentOutOfRangeException", "Index was out of range. Must be non-negative and less than the size of the collection.")
		}
		e.chargeAdopt(v)
		t := toJToken(v)
		x.items[i] = adopt(t, x)
		return
	case *JProperty:
		indexSet(e, x.Value, k, v)
		return
	case map[string]any:
		throwf("NotSupportedException", "context.Variables is read-only in expressions; use the set-variable policy")
	case http.Header:
		throwf("NotSupportedException", "headers are read-only in expressions; use the set-header policy")
	}
	throwf("RuntimeBinderException", "cannot assign through an indexer on '%s'", typeName(r))
}

func getPropDyn(e *env, r Value, name string) Value {
	if r == nil {
		throwNull(name)
	}
	if d, ok := r.(*Dict); ok && d.Anon {
		if v, ok := d.Get(name); ok {
			return v
		}
	}
	s := propSite(name)
	if s == nil || s[kindOf(r)] == nil {
		throwf("RuntimeBinderException", "'%s' does not contain a definition for '%s'", typeName(r), name)
	}
	return s[kindOf(r)](e, r)
}

func setProp(e *env, r Value, name string, v Value) {
	switch x := r.(type) {
	case nil:
		throwNull(name)
	case *JProperty:
		if name == "Value" {
			e.chargeAdopt(v)
			x.Value = adopt(toJToken(v), x)
			return
		}
	case *JValue:
		if name == "Value" {
			nv := toJToken(v)
			if jv, ok := nv.(*JValue); ok {
				x.kind, x.s, x.i, x.f, x.b = jv.kind, jv.s, jv.i, jv.f, jv.b
				return
			}
		}
	case *XElement:
		if name == "Value" {
			x.SetValue(toStr(v))
			return
		}
	case *XAttribute:
		if name == "Value" {
			x.Value = toStr(v)
			return
		}
	case *Dict:
		if x.Anon {
			throwf("RuntimeBinderException", "properties of anonymous objects are read-only")
		}
	case *stringBuilder:
		if name == "Length" {
			n, _ := toI64(v)
			s := x.b.String()
			if int(n) <= len(s) {
				x.b.Reset()
				x.b.WriteString(substr(s, 0, int(n)))
			}
			return
		}
	}
	throwf("RuntimeBinderException", "property '%s' of '%s' cannot be assigned", name, typeName(r))
}

// ---- conversions ------------------------------------------------------------------------

// defaultOf is default(T).
func defaultOf(t string, tr *typeRef) Value {
	if tr != nil && (tr.nullable || tr.array > 0) {
		return nil
	}
	switch t {
	case "int":
		return int32(0)
	case "long":
		return int64(0)
	case "double":
		return float64(0)
	case "decimal":
		return decFromInt(0)
	case "bool":
		return false
	case "char":
		return Char(0)
	case "byte":
		return uint8(0)
	case "DateTime":
		return DateTime{T: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)}
	case "TimeSpan":
		return time.Duration(0)
	case "Guid":
		return Guid{}
	}
	return nil
}

// implicitConv applies C# implicit conversions for a declared target type
// (int -> long/double/decimal, primitives -> JToken, ...).
func implicitConv(v Value, t string) Value {
	if v == nil {
		return nil
	}
	if strings.HasPrefix(t, "?") {
		t = t[1:]
	}
	switch t {
	case "long":
		if i, ok := toI64(v); ok {
			return i
		}
	case "double":
		switch x := v.(type) {
		case int32, int64, Char, uint8:
			f, _ := toF64(x)
			return f
		}
	case "decimal":
		switch v.(type) {
		case int32, int64, Char, uint8:
			return toDecimal(v)
		}
	case "int":
		switch x := v.(type) {
		case Char:
			return int32(x)
		case uint8:
			return int32(x)
		}
	case "JToken":
		if _, ok := v.(jtoken); !ok {
			return toJToken(v)
		}
	}
	return v
}

// isOfType is the C# "is T" test.
func isOfType(v Value, t string, tr *typeRef) bool {
	if v == nil {
		return false
	}
	if tr != nil && tr.array > 0 {
		switch x := v.(type) {
		case []byte:
			return t == "byte"
		case *List:
			return x.Array && (t == "object" || x.Elem == t || x.Elem == "" && t == "")
		}
		return false
	}
	switch t {
	case "object":
		return true
	case "string":
		_, ok := v.(string)
		return ok
	case "int":
		_, ok := v.(int32)
		return ok
	case "long":
		_, ok := v.(int64)
		return ok
	case "double":
		_, ok := v.(float64)
		return ok
	case "decimal":
		_, ok := v.(Decimal)
		return ok
	case "bool":
		_, ok := v.(bool)
		return ok
	case "char":
		_, ok := v.(Char)
		return ok
	case "byte":
		_, ok := v.(uint8)
		return ok
	case "JToken":
		_, ok := v.(jtoken)
		return ok
	case "JContainer":
		switch v.(type) {
		case *JObject, *JArray, *JProperty:
			return true
		}
		return false
	case "IEnumerable":
		k := kindOf(v)
		for _, ek := range enumerableKinds {
			if ek == k {
				return true
			}
		}
		return false
	case "List":
		l, ok := v.(*List)
		return ok && !l.Array
	case "Dictionary":
		d, ok := v.(*Dict)
		return ok && !d.Anon
	case "Exception":
		_, ok := v.(*csException)
		return ok
	case "XNode", "XContainer":
		switch v.(type) {
		case *XElement, *XDocument:
			return true
		}
		return false
	}
	if et := exceptionType(t); et != "" {
		x, ok := v.(*csException)
		return ok && x.is(et)
	}
	return strings.EqualFold(typeName(v), t) || typeName(v) == t
}

// castTo is the explicit conversion (T)v.
func castTo(v Value, t string, tr *typeRef, explicit bool) Value {
	nullable := tr != nil && tr.nullable
	if v == nil {
		switch t {
		case "int", "long", "double", "decimal", "bool", "char", "byte", "DateTime", "TimeSpan", "Guid":
			if !nullable {
				throwf("NullReferenceException", "Object reference not set to an instance of an object (cast of null to %s).", t)
			}
		}
		return nil
	}
	if tr != nil && tr.array > 0 {
		if isOfType(v, t, tr) {
			return v
		}
		if jv, ok := v.(*JArray); ok {
			l := &List{Array: true, Elem: t, Items: make([]Value, len(jv.items))}
			for i, it := range jv.items {
				l.Items[i] = castTo(it, t, nil, true)
			}
			return l
		}
		throwf("InvalidCastException", "Unable to cast object of type '%s' to type '%s[]'.", typeName(v), t)
	}
	if jv, ok := v.(*JValue); ok {
		switch t {
		case "JToken", "JValue", "object":
			return v
		}
		return jvalueConvert(jv, t, nullable)
	}
	switch x := v.(type) {
	case *XElement:
		if t != "XElement" && t != "object" && t != "XNode" && t != "XContainer" {
			return convertTo(x.Value(), t)
		}
	case *XAttribute:
		if t != "XAttribute" && t != "object" {
			return convertTo(x.Value, t)
		}
	}
	switch t {
	case "object", "IEnumerable":
		return v
	case "string":
		switch x := v.(type) {
		case string:
			return x
		case *JProperty, *JObject, *JArray:
			throwf("ArgumentException", "Can not convert %s to String.", jtypeName(v.(jtoken)))
		}
	case "int", "long", "double", "decimal", "char", "byte":
		return numConvert(v, t, true)
	case "bool":
		if b, ok := v.(bool); ok {
			return b
		}
	case "JToken":
		if _, ok := v.(jtoken); ok {
			return v
		}
		return toJToken(v)
	case "JObject", "JArray", "JProperty":
		if typeName(v) == t {
			return v
		}
		if _, ok := v.(jtoken); ok {
			throwf("InvalidCastException", "Unable to cast object of type 'Newtonsoft.Json.Linq.%s' to type 'Newtonsoft.Json.Linq.%s'.", typeName(v), t)
		}
	case "DateTime":
		switch x := v.(type) {
		case DateTime:
			return x
		case DateTimeOffset:
			return DateTime{T: x.T.UTC(), Kind: UTC}
		}
	default:
		if isOfType(v, t, tr) {
			return v
		}
	}
	if isOfType(v, t, tr) {
		return v
	}
	throwf("InvalidCastException", "Unable to cast object of type '%s' to type '%s'.", typeName(v), t)
	return nil
}

// numConvert is an explicit numeric conversion (truncating, unchecked).
func numConvert(v Value, t string, explicit bool) Value {
	switch x := v.(type) {
	case int32, int64, Char, uint8:
		i, _ := toI64(x)
		switch t {
		case "int":
			return int32(i)
		case "long":
			return i
		case "double":
			return float64(i)
		case "decimal":
			return decFromInt(i)
		case "char":
			return Char(i)
		case "byte":
			return uint8(i)
		}
	case float64:
		switch t {
		case "int":
			if math.IsNaN(x) || x >= 2147483648 || x < -2147483648 {
				return int32(math.MinInt32)
			}
			return int32(x)
		case "long":
			return int64(x)
		case "double":
			return x
		case "decimal":
			return decFromFloat(x)
		case "char":
			return Char(int64(x))
		case "byte":
			return uint8(int64(x))
		}
	case Decimal:
		switch t {
		case "decimal":
			return x
		case "double":
			return x.float()
		}
		f := x.float()
		i := int64(f)
		switch t {
		case "int":
			if f >= 2147483648 || f < -2147483648 {
				throwf("OverflowException", "Value was either too large or too small for an Int32.")
			}
			return int32(i)
		case "long":
			return i
		case "char":
			return Char(i)
		case "byte":
			return uint8(i)
		}
	case enumValue:
		return numConvert(int32(x.v), t, explicit)
	}
	throwf("InvalidCastException", "Unable to cast object of type '%s' to type '%s'.", typeName(v), t)
	return nil
}

// ---- enumeration ---------------------------------------------------------------------------

// iterate returns the elements that foreach and LINQ see; the caller must not
// modify the returned slice.
func iterate(e *env, v Value) []Value {
	switch x := v.(type) { // each element is boxed
	case string:
		e.alloc(16 * len(x))
	case []byte:
		e.alloc(16 * len(x))
	}
	items := enumerate(e, v)
	e.elements(len(items))
	return items
}

// enumerate is iterate without the charges.
func enumerate(e *env, v Value) []Value {
	switch x := v.(type) {
	case *List:
		return x.Items
	case string:
		if isASCII(x) {
			out := make([]Value, len(x))
			for i := 0; i < len(x); i++ {
				out[i] = Char(x[i])
			}
			return out
		}
		u := toU16(x)
		out := make([]Value, len(u))
		for i, c := range u {
			out[i] = Char(c)
		}
		return out
	case []byte:
		out := make([]Value, len(x))
		for i, c := range x {
			out[i] = c
		}
		return out
	case *Dict:
		out := make([]Value, len(x.keys))
		for i, k := range x.keys {
			out[i] = KeyValuePair{Key: k, Value: x.vals[i]}
		}
		return out
	case *claimDict:
		return enumerate(e, x.Dict)
	case *Set:
		return x.d.keys
	case *JObject:
		out := make([]Value, len(x.props))
		for i, p := range x.props {
			out[i] = KeyValuePair{Key: p.Name, Value: p.Value}
		}
		return out
	case *JArray:
		out := make([]Value, len(x.items))
		for i, it := range x.items {
			out[i] = it
		}
		return out
	case *JProperty:
		return []Value{x.Value}
	case http.Header:
		keys := sortedKeys(x)
		for i, k := range keys.Items {
			keys.Items[i] = KeyValuePair{Key: k, Value: normalize(x[k.(string)])}
		}
		return keys.Items
	case url.Values:
		keys := sortedKeys(x)
		for i, k := range keys.Items {
			keys.Items[i] = KeyValuePair{Key: k, Value: normalize(x[k.(string)])}
		}
		return keys.Items
	case map[string]string:
		keys := sortedKeys(x)
		for i, k := range keys.Items {
			keys.Items[i] = KeyValuePair{Key: k, Value: x[k.(string)]}
		}
		return keys.Items
	case map[string]any:
		keys := sortedKeys(x)
		for i, k := range keys.Items {
			keys.Items[i] = KeyValuePair{Key: k, Value: normalize(x[k.(string)])}
		}
		return keys.Items
	case *groupCollection:
		out := make([]Value, len(x.groups))
		for i, g := range x.groups {
			out[i] = g
		}
		return out
	}
	throwf("InvalidOperationException", "'%s' is not enumerable", typeName(v))
	return nil
}

// ---- arithmetic -----------------------------------------------------------------------------

func numRank(v Value) int {
	switch v.(type) {
	case int32, Char, uint8:
		return 0
	case int64:
		return 1
	case float64:
		return 2
	case Decimal:
		return 3
	}
	return -1
}

// arith implements the binary operators + - * / % & | ^ << >> (L, R).
func arith(op byte, a, b Value) Value {
	// fast path int op int
	if x, ok := a.(int32); ok {
		if y, ok := b.(int32); ok {
			if v, ok := intArith(op, x, y, 31); ok {
				return v
			}
		}
	}
	if op == '+' {
		sa, aStr := a.(string)
		sb, bStr := b.(string)
		if aStr && bStr {
			return sa + sb
		}
		if aStr || bStr {
			if !aStr {
				sa = toStr(a)
			}
			if !bStr {
				sb = toStr(b)
			}
			return sa + sb
		}
		if _, ok := a.(Char); ok {
			if _, ok := b.(string); ok {
				return toStr(a) + b.(string)
			}
		}
	}
	if ja, ok := a.(*JValue); ok {
		a = ja.plain()
		if s, ok := a.(string); ok && op == '+' {
			return s + toStr(b)
		}
	}
	if jb, ok := b.(*JValue); ok {
		b = jb.plain()
	}
	if a == nil || b == nil {
		if op == '+' {
			if _, ok := a.(jtoken); ok {
				return toStr(a) + toStr(b)
			}
		}
		return nil // lifted operators on nullables
	}
	switch x := a.(type) {
	case bool:
		y, ok := b.(bool)
		if ok {
			switch op {
			case '&':
				return x && y
			case '|':
				return x || y
			case '^':
				return x != y
			}
		}
	case DateTime:
		switch y := b.(type) {
		case time.Duration:
			if op == '+' {
				return DateTime{T: x.T.Add(y), Kind: x.Kind}
			}
			if op == '-' {
				return DateTime{T: x.T.Add(-y), Kind: x.Kind}
			}
		case DateTime:
			if op == '-' {
				return x.T.Sub(y.T)
			}
		}
	case DateTimeOffset:
		switch y := b.(type) {
		case time.Duration:
			if op == '+' {
				return DateTimeOffset{T: x.T.Add(y)}
			}
			if op == '-' {
				return DateTimeOffset{T: x.T.Add(-y)}
			}
		case DateTimeOffset:
			if op == '-' {
				return x.T.Sub(y.T)
			}
		}
	case time.Duration:
		switch y := b.(type) {
		case time.Duration:
			switch op {
			case '+':
				return x + y
			case '-':
				return x - y
			case '/':
				return float64(x) / float64(y)
			}
		default:
			if f, ok := toF64(b); ok {
				switch op {
				case '*':
					return time.Duration(float64(x) * f)
				case '/':
					return time.Duration(float64(x) / f)
				}
			}
		}
	case enumValue:
		if y, ok := b.(enumValue); ok && x.typ == y.typ {
			switch op {
			case '|':
				return enumValue{typ: x.typ, name: x.name + ", " + y.name, v: x.v | y.v}
			case '&':
				return enumValue{typ: x.typ, v: x.v & y.v}
			}
		}
	}
	ra, rb := numRank(a), numRank(b)
	if ra < 0 || rb < 0 {
		throwf("InvalidOperationException", "operator '%s' cannot be applied to operands of type '%s' and '%s'", opName(op), typeName(a), typeName(b))
	}
	r := max(ra, rb)
	switch r {
	case 0:
		x, _ := toI64(a)
		y, _ := toI64(b)
		return arith(op, int32(x), int32(y))
	case 1:
		x, _ := toI64(a)
		y, _ := toI64(b)
		if v, ok := intArith(op, x, y, 63); ok {
			return v
		}
	case 2:
		x, _ := toF64(a)
		y, _ := toF64(b)
		switch op {
		case '+':
			return x + y
		case '-':
			return x - y
		case '*':
			return x * y
		case '/':
			return x / y
		case '%':
			return math.Mod(x, y)
		}
	case 3:
		x, y := toDecimal(a), toDecimal(b)
		switch op {
		case '+':
			return decAdd(x, y, false)
		case '-':
			return decAdd(x, y, true)
		case '*':
			return decMul(x, y)
		case '/':
			return decDiv(x, y)
		case '%':
			q := decDiv(x, y)
			qi, _ := strconv.ParseInt(strings.Split(q.String(), ".")[0], 10, 64)
			return decAdd(x, decMul(decFromInt(qi), y), true)
		}
	}
	throwf("InvalidOperationException", "operator '%s' cannot be applied to operands of type '%s' and '%s'", opName(op), typeName(a), typeName(b))
	return nil
}

// intArith applies an arithmetic or bitwise operator to two C# int (int32)
// or long (int64) values with C#'s rules: division by zero throws,
// MinValue / -1 wraps, shift counts are masked (31 or 63). ok is false for
// an operator it does not know.
func intArith[T int32 | int64](op byte, x, y, shiftMask T) (v Value, ok bool) {
	switch op {
	case '+':
		return x + y, true
	case '-':
		return x - y, true
	case '*':
		return x * y, true
	case '/':
		if y == 0 {
			throwf("DivideByZeroException", "Attempted to divide by zero.")
		}
		if y == -1 {
			return -x, true
		}
		return x / y, true
	case '%':
		if y == 0 {
			throwf("DivideByZeroException", "Attempted to divide by zero.")
		}
		if y == -1 {
			return T(0), true
		}
		return x % y, true
	case '&':
		return x & y, true
	case '|':
		return x | y, true
	case '^':
		return x ^ y, true
	case 'L':
		return x << (y & shiftMask), true
	case 'R':
		return x >> (y & shiftMask), true
	}
	return nil, false
}

func opName(op byte) string {
	switch op {
	case 'L':
		return "<<"
	case 'R':
		return ">>"
	}
	return string(op)
}
