package expr

import (
	"strconv"
	"strings"
)

// Static types: what the compiler knows, when a document is saved, about the
// values an expression can produce. They serve one purpose: refusing member
// accesses and calls that would fail on every evaluation ("abc".Claims,
// 1.Trim(), "x".Substring(1, 2, 3)). A static type is a set of kinds (the
// run-time representations of the values); a nil *sty means unknown (object,
// dynamic, context.Variables[...], a lambda parameter, ...), and nothing is
// checked on an unknown receiver. Evaluation never looks at static types.

// kmask is a set of kinds.
type kmask uint64

// Every kind must fit in a kmask.
const _ = uint64(1) << (63 - numKinds)

func kbit(k kind) kmask { return 1 << k }

func (m kmask) has(k kind) bool { return m&kbit(k) != 0 }

// sty is a static type. A value of the type is nil or has one of the kinds
// in ks; ks == kbit(kNull) means the value is always null (a void method, the
// null literal). Values are immutable once built.
type sty struct {
	ks   kmask
	name string          // the C# name, for messages
	elem *sty            // element type of a List, array or HashSet (kList, kSet); nil when unknown
	anon map[string]*sty // the members of an anonymous object (kDict)
}

func (t *sty) String() string {
	if t == nil {
		return "object"
	}
	return t.name
}

// nullOnly reports whether every value of t is null.
func (t *sty) nullOnly() bool { return t != nil && t.ks == kbit(kNull) }

// kindsType is the type whose values have the kinds ks.
func kindsType(name string, ks ...kind) *sty {
	t := &sty{name: name}
	for _, k := range ks {
		t.ks |= kbit(k)
	}
	return t
}

// Types the compiler builds itself.
var (
	stNull   = &sty{ks: kbit(kNull), name: "null"}
	stVoid   = &sty{ks: kbit(kNull), name: "void"}
	stString = kindsType("string", kString)
	stBool   = kindsType("bool", kBool)
	stInt    = kindsType("int", kInt)
	stLong   = kindsType("long", kLong)
	stDouble = kindsType("double", kDouble)
	stDec    = kindsType("decimal", kDecimal)
	stChar   = kindsType("char", kChar)
	stByte   = kindsType("byte", kByte)
	stBytes  = kindsType("byte[]", kBytes)
	stKV     = kindsType("KeyValuePair", kKV)
	stJToken = kindsType("JToken", kJObject, kJArray, kJValue, kJProperty)
	stGroup  = kindsType("Group", kGroup)
	stLambda = kindsType("lambda", kLambda)
	stCtx    = kindsType("IContext", kContext)
	stExc    = kindsType("Exception", kException)
)

// listOf is a List or array whose elements have type elem.
func listOf(elem *sty) *sty {
	name := "List"
	if elem != nil {
		name = elem.name + "[]"
	}
	return &sty{ks: kbit(kList), name: name, elem: elem}
}

// namedTypes are the types named in member signatures and declarations,
// filled by defType.
var namedTypes = map[string]*sty{
	"string": stString, "bool": stBool, "int": stInt, "long": stLong, "double": stDouble, "decimal": stDec,
	"char": stChar, "byte": stByte, "KeyValuePair": stKV, "JToken": stJToken, "Group": stGroup, "lambda": stLambda,
	"IContext": stCtx, "Exception": stExc,
}

// seqKinds are the kinds whose elements sty.elem describes.
const seqKinds = 1<<kList | 1<<kSet

func union(a, b *sty) *sty {
	if a == nil || b == nil {
		return nil
	}
	if a == b {
		return a
	}
	if a.nullOnly() {
		a, b = b, a
	}
	if b.nullOnly() {
		if a.ks.has(kNull) {
			return a
		}
		c := *a
		c.ks |= kbit(kNull)
		return &c
	}
	if a.anon != nil || b.anon != nil {
		if a.anon == nil || b.anon == nil || len(a.anon) != len(b.anon) || (a.ks|b.ks) != kbit(kDict) {
			return nil // an anonymous object mixed with something else: give up
		}
		m := make(map[string]*sty, len(a.anon))
		for n, t := range a.anon {
			u, ok := b.anon[n]
			if !ok {
				return nil
			}
			m[n] = union(t, u)
		}
		return &sty{ks: kbit(kDict), name: "anonymous type", anon: m}
	}
	t := &sty{ks: a.ks | b.ks, name: a.name}
	if a.name != b.name {
		t.name = a.name + " or " + b.name
	}
	switch {
	case a.ks&seqKinds != 0 && b.ks&seqKinds != 0:
		if a.elem != nil && b.elem != nil {
			t.elem = union(a.elem, b.elem)
		}
	case a.ks&seqKinds != 0:
		t.elem = a.elem
	case b.ks&seqKinds != 0:
		t.elem = b.elem
	}
	return t
}

// only is t restricted to the values of kind k.
func (t *sty) only(k kind) *sty {
	if t.ks == kbit(k) {
		return t
	}
	u := &sty{ks: kbit(k), name: kindNames[k]}
	if k == kList || k == kSet {
		u.elem = t.elem
	}
	if t.anon != nil && k == kDict {
		u.anon, u.name = t.anon, t.name
	}
	return u
}

// elemOf is the type of the elements that foreach and LINQ see in a value
// of type t (see enumerate), nil when unknown.
func elemOf(t *sty) *sty {
	if t == nil || t.anon != nil {
		return nil
	}
	var el *sty
	first := true
	add := func(u *sty) {
		if first {
			el, first = u, false
			return
		}
		el = union(el, u)
	}
	for k := kind(0); k < numKinds; k++ {
		if !t.ks.has(k) {
			continue
		}
		switch k {
		case kNull:
		case kString:
			add(stChar)
		case kBytes:
			add(stByte)
		case kList, kSet:
			add(t.elem)
		case kDict, kJObject, kHeaders, kQuery, kStrMap, kVariables, kClaims:
			add(stKV)
		case kJArray, kJProperty:
			add(stJToken)
		case kGroupCollection:
			add(stGroup)
		default:
			return nil // not enumerated by foreach; leave it to run time
		}
	}
	return el
}

// indexable kinds: those whose indexer can succeed (see indexGet).
const indexKinds = 1<<kString | 1<<kList | 1<<kBytes | 1<<kDict | 1<<kClaims | 1<<kHeaders | 1<<kQuery |
	1<<kStrMap | 1<<kVariables | 1<<kJObject | 1<<kJArray | 1<<kJProperty | 1<<kGroupCollection | 1<<kStringBuilder

// indexType is the type of r[i] for a receiver of type t (see indexGet).
func indexType(t *sty) *sty {
	if t == nil || t.anon != nil {
		return nil
	}
	var res *sty
	first := true
	add := func(u *sty) {
		if first {
			res, first = u, false
			return
		}
		res = union(res, u)
	}
	for k := kind(0); k < numKinds; k++ {
		if !t.ks.has(k) || !kmask(indexKinds).has(k) {
			continue
		}
		switch k {
		case kString, kStringBuilder:
			add(stChar)
		case kList:
			add(t.elem)
		case kBytes:
			add(stByte)
		case kClaims, kHeaders, kQuery:
			add(listOf(stString))
		case kStrMap:
			add(stString)
		case kJObject, kJArray, kJProperty:
			add(stJToken)
		case kGroupCollection:
			add(stGroup)
		default: // Dictionary, Variables: any value
			return nil
		}
	}
	return res
}

// ---- types named in C# source (declarations, casts, type arguments) --------

// sourceTypes are the C# type names whose values the run time represents
// exactly by the kinds of the named type: a declared local of such a type, a
// cast to it, "as" and "is" patterns and type arguments give that type.
// Other names (object, dynamic, IEnumerable, the collection interfaces) give
// an unknown type.
var sourceTypes = map[string]string{
	"string": "string", "String": "string", "int": "int", "Int32": "int", "Int16": "int", "short": "int",
	"long": "long", "Int64": "long", "double": "double", "Double": "double", "float": "double", "Single": "double",
	"decimal": "decimal", "Decimal": "decimal", "bool": "bool", "Boolean": "bool", "char": "char", "Char": "char",
	"byte": "byte", "Byte": "byte",
	"DateTime": "DateTime", "DateTimeOffset": "DateTimeOffset", "TimeSpan": "TimeSpan", "Guid": "Guid",
	"JToken": "JToken", "JObject": "JObject", "JArray": "JArray", "JValue": "JValue", "JProperty": "JProperty",
	"JContainer": "JContainer", "XDocument": "XDocument", "XElement": "XElement", "XAttribute": "XAttribute",
	"XNode": "XNode", "XContainer": "XNode", "Uri": "Uri", "Regex": "Regex", "Match": "Match", "Group": "Group",
	"StringBuilder": "StringBuilder", "Exception": "Exception", "KeyValuePair": "KeyValuePair",
	"IRequest": "IRequest", "IResponse": "IResponse", "IMessageBody": "IMessageBody", "IUrl": "IUrl",
	"Func": "lambda", "Action": "lambda",
}

// typeOfRef is the static type of a value declared, cast or tested as t.
func typeOfRef(t *typeRef) *sty {
	if t == nil {
		return nil
	}
	name := t.name
	for _, ns := range namespaces {
		if strings.HasPrefix(name, ns) {
			name = name[len(ns):]
			break
		}
	}
	if t.array > 0 {
		el := typeOfRef(&typeRef{name: t.name, args: t.args, array: t.array - 1})
		if el == stByte && t.array == 1 {
			return kindsType("byte[]", kBytes, kList) // new byte[n] or a List of bytes
		}
		return listOf(el)
	}
	switch name {
	case "List":
		var el *sty
		if len(t.args) == 1 {
			el = typeOfRef(t.args[0])
		}
		l := listOf(el)
		l.name = "List"
		return l
	case "HashSet":
		var el *sty
		if len(t.args) == 1 {
			el = typeOfRef(t.args[0])
		}
		return &sty{ks: kbit(kSet), name: "HashSet", elem: el}
	case "Dictionary":
		return kindsType("Dictionary", kDict)
	}
	if et := exceptionType(name); et != "" {
		return stExc
	}
	if n, ok := sourceTypes[name]; ok {
		return namedTypes[n]
	}
	return nil
}

// ---- member signatures -------------------------------------------------------

// A member signature, written next to each member's implementation, gives
// the type of its result and, for methods, the numbers of arguments its
// overloads take:
//
//	"int"              a property of type int
//	"string(1-2)"      a method taking 1 or 2 arguments and returning a string
//	"void(0+)"         any number of arguments, returning nothing
//	"bool(1,3)"        1 or 3 arguments
//	"string|arg1(1-2)" a union: a string, or the type of argument 1 (0-based)
//
// Result types are type names (see namedTypes), "T[]" or "List<T>" for
// lists, "?" for unknown, and these forms relative to the call:
//
//	same     the receiver's type
//	elem     the type of the receiver's elements (First, ElementAt)
//	elem[]   a list of the receiver's elements (Where, OrderBy)
//	T        the type argument (As<JObject>() is a JObject); T:X is X without one
//	List<T>  a list of the type argument (Cast<T>, OfType<T>)
//	argN     the type of argument N
//
// A wrong signature would refuse valid expressions; TestMemberSignatures
// checks every signature against what the conformance cases return.
type sig struct {
	src   string
	parts []sigPart // the result is the union of the parts; nil parts: unknown
	arity uint32    // bit n: n arguments allowed (bit 31: 31 or more); 0 for properties
}

type sigPart struct {
	op  byte // 'f' fixed type, 's' same, 'e' elem, 'E' elem[], 'T' type argument, 'L' List<T>, 'a' argument
	t   *sty // 'f': the type; 'T', 'L': the type without a type argument (nil: unknown)
	arg int  // 'a'
}

const anyArity = ^uint32(0)

func parseSig(src string, method bool) *sig {
	s := &sig{src: src}
	res := src
	if method {
		open := strings.LastIndexByte(src, '(')
		if open < 0 || !strings.HasSuffix(src, ")") {
			panic("member signature without arguments: " + src)
		}
		res = src[:open]
		s.arity = parseArity(src[open+1:len(src)-1], src)
	} else if strings.HasSuffix(src, ")") {
		panic("property signature with arguments: " + src)
	}
	if res == "" { // a constructor: the compiler knows its type
		return s
	}
	for _, p := range strings.Split(res, "|") {
		switch {
		case p == "?":
			s.parts = nil
			return s
		case p == "same":
			s.parts = append(s.parts, sigPart{op: 's'})
		case p == "elem":
			s.parts = append(s.parts, sigPart{op: 'e'})
		case p == "elem[]":
			s.parts = append(s.parts, sigPart{op: 'E'})
		case p == "T" || strings.HasPrefix(p, "T:"):
			s.parts = append(s.parts, sigPart{op: 'T', t: sigTypeOpt(strings.TrimPrefix(strings.TrimPrefix(p, "T"), ":"))})
		case p == "List<T>" || strings.HasPrefix(p, "List<T:"):
			s.parts = append(s.parts, sigPart{op: 'L', t: sigTypeOpt(strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(p, "List<T"), ":"), ">"))})
		case strings.HasPrefix(p, "arg"):
			n, err := strconv.Atoi(p[3:])
			if err != nil {
				panic("bad member signature " + src)
			}
			s.parts = append(s.parts, sigPart{op: 'a', arg: n})
		default:
			s.parts = append(s.parts, sigPart{op: 'f', t: sigType(p)})
		}
	}
	return s
}

func parseArity(a, src string) uint32 {
	if a == "" {
		return 1
	}
	var m uint32
	for _, r := range strings.Split(a, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		plus := strings.HasSuffix(lo, "+")
		l, err := strconv.Atoi(strings.TrimSuffix(lo, "+"))
		if err != nil || l > 30 {
			panic("bad arity in member signature " + src)
		}
		h := l
		switch {
		case plus:
			h = 31
		case isRange:
			if h, err = strconv.Atoi(hi); err != nil || h < l || h > 30 {
				panic("bad arity in member signature " + src)
			}
		}
		for n := l; n <= h; n++ {
			m |= 1 << n
		}
	}
	return m
}

func (s *sig) accepts(n int) bool {
	if n > 31 {
		n = 31
	}
	return s.arity&(1<<n) != 0
}

// sigTypeOpt is sigType, or unknown for "" and "?".
func sigTypeOpt(name string) *sty {
	if name == "" || name == "?" {
		return nil
	}
	return sigType(name)
}

// sigType parses a type name of a signature.
func sigType(name string) *sty {
	switch name {
	case "void":
		return stVoid
	case "null":
		return stNull
	}
	if strings.HasSuffix(name, "[]") {
		el := sigType(name[:len(name)-2])
		if el == stByte {
			return stBytes
		}
		return listOf(el)
	}
	if strings.HasPrefix(name, "List<") && strings.HasSuffix(name, ">") {
		l := listOf(sigTypeOpt(name[5 : len(name)-1]))
		l.name = "List"
		return l
	}
	if strings.HasPrefix(name, "HashSet<") && strings.HasSuffix(name, ">") {
		return &sty{ks: kbit(kSet), name: "HashSet", elem: sigTypeOpt(name[8 : len(name)-1])}
	}
	t, ok := namedTypes[name]
	if !ok {
		panic("unknown type '" + name + "' in a member signature")
	}
	return t
}

// result is the type of the member's result for a receiver of type recv
// (restricted to one kind), arguments of types args and type arguments
// targs.
func (s *sig) result(recv *sty, args []*sty, targs []*typeRef) *sty {
	if s.parts == nil {
		return nil
	}
	var res *sty
	for i, p := range s.parts {
		var t *sty
		switch p.op {
		case 'f':
			t = p.t
		case 's':
			t = recv
		case 'e':
			t = elemOf(recv)
		case 'E':
			t = listOf(elemOf(recv))
			if recv != nil && recv.ks.has(kBytes) {
				t = union(t, stBytes)
			}
		case 'T':
			t = p.t
			if len(targs) > 0 {
				t = typeOfRef(targs[0])
			}
		case 'L':
			el := p.t
			if len(targs) > 0 {
				el = typeOfRef(targs[0])
			}
			t = listOf(el)
		case 'a':
			if p.arg >= len(args) {
				continue
			}
			t = args[p.arg]
		}
		if t == nil {
			return nil
		}
		if i == 0 || res == nil {
			res = t
		} else {
			res = union(res, t)
		}
	}
	return res
}
