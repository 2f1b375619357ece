package expr

// Save-time checks: the compiler computes the static type of every
// expression (types.go) and refuses a member access, call or indexer that
// cannot succeed on any value of its receiver's type. Only certain failures
// are refused: an unknown receiver type, or a member that one of the
// possible kinds has, compiles as before.

// kindTypes[k] is the type of the values of kind k.
var kindTypes [numKinds]*sty

func init() {
	for k := kind(0); k < numKinds; k++ {
		kindTypes[k] = kindsType(kindNames[k], k)
	}
	for _, t := range []*sty{stString, stBool, stInt, stLong, stDouble, stDec, stChar, stByte, stBytes, stKV, stGroup, stLambda, stCtx, stExc} {
		for k := kind(0); k < numKinds; k++ {
			if t.ks == kbit(k) {
				kindTypes[k] = t
			}
		}
	}
	kindTypes[kNull] = stNull
}

// valueType is the type of a constant.
func valueType(v Value) *sty {
	switch v.(type) {
	case *List, *Set, *Dict:
		return nil
	}
	return kindTypes[kindOf(v)]
}

// resultUnion is the union of the result types of a member over the kinds
// of its receiver.
type resultUnion struct {
	t     *sty
	found bool
}

func (u *resultUnion) add(t *sty) {
	if !u.found {
		u.t, u.found = t, true
		return
	}
	u.t = union(u.t, t)
}

// propType checks x.name on a receiver of type rt and returns the type of
// the property.
func (c *compiler) propType(rt *sty, x *memberNode) *sty {
	if rt == nil {
		return nil
	}
	if rt.anon != nil {
		if t, ok := rt.anon[x.name]; ok {
			return t
		}
	}
	sigs := propSigs[x.name]
	var u resultUnion
	for k := kind(0); k < numKinds; k++ {
		if !rt.ks.has(k) {
			continue
		}
		if k == kNull {
			if x.name == "HasValue" { // null.HasValue is false
				u.add(stBool)
			}
			continue
		}
		if sigs != nil && sigs[k] != nil {
			u.add(sigs[k].sig.result(rt.only(k), nil, nil))
		}
	}
	if !u.found {
		if x.cond && rt.nullOnly() {
			return nil
		}
		c.errf(x.p, "'%s' does not contain a definition for '%s'", rt, x.name)
	}
	return u.t
}

// methodType checks a call of fn.name with arguments of types args on a
// receiver of type rt, and returns the type of its result.
func (c *compiler) methodType(rt *sty, fn *memberNode, args []*sty, targs []*typeRef) *sty {
	if rt == nil {
		return nil
	}
	sigs := methodSigs[fn.name]
	var u resultUnion
	has := false
	for k := kind(0); k < numKinds; k++ {
		if !rt.ks.has(k) || sigs == nil || sigs[k] == nil {
			continue
		}
		m := sigs[k]
		has = true
		if k != kNull && !m.sig.accepts(len(args)) { // a null receiver takes no arguments
			continue
		}
		u.add(m.sig.result(rt.only(k), args, targs))
	}
	if !u.found {
		switch {
		case has:
			c.errf(fn.p, "no overload for method '%s' takes %d arguments", fn.name, len(args))
		case fn.cond && rt.nullOnly():
			return nil
		}
		c.errf(fn.p, "'%s' does not contain a definition for '%s'", rt, fn.name)
	}
	return u.t
}

// indexType checks an indexer on a receiver of type rt and returns the type
// of its result.
func (c *compiler) indexType(rt *sty, x *indexNode) *sty {
	if rt == nil {
		return nil
	}
	if rt.ks&^kbit(kNull)&indexKinds == 0 && !(x.cond && rt.nullOnly()) {
		c.errf(x.p, "cannot apply indexing with [] to an expression of type '%s'", rt)
	}
	return indexType(rt)
}

// patternType is the type of a variable declared by a pattern ("x is T v").
func (c *compiler) patternType(name string, t *typeRef) *sty {
	if c.assigned[name] {
		return nil
	}
	return typeOfRef(t)
}

// localType is the static type of a local variable declared with type t
// (nil for var) and an initializer of type init: the declared type, or,
// for var, the initializer's type when the variable is never assigned
// afterwards.
func (c *compiler) localType(name string, t *typeRef, init *sty) *sty {
	if t != nil {
		return typeOfRef(t)
	}
	if c.assigned[name] {
		return nil
	}
	return init
}

// numKindRank is the rank of C# numeric promotion of t's values: 0 for int
// (int, char, byte), 1 long, 2 double, 3 decimal; -1 when t is not one
// numeric rank.
func numKindRank(t *sty) int {
	if t == nil || t.ks == 0 || t.ks&kbit(kNull) != 0 {
		return -1
	}
	r := -1
	for k := kind(1); k < numKinds; k++ {
		if !t.ks.has(k) {
			continue
		}
		var kr int
		switch k {
		case kInt, kChar, kByte:
			kr = 0
		case kLong:
			kr = 1
		case kDouble:
			kr = 2
		case kDecimal:
			kr = 3
		default:
			return -1
		}
		if r >= 0 && kr != r {
			return -1
		}
		r = kr
	}
	return r
}

var rankTypes = []*sty{stInt, stLong, stDouble, stDec}

// unaryType is the type of -x (neg) or +x.
func unaryType(t *sty, neg bool) *sty {
	if r := numKindRank(t); r >= 0 {
		return rankTypes[r]
	}
	if neg && t != nil && t.ks == kbit(kTimeSpan) {
		return t
	}
	return nil
}

// binaryType is the type of l op r (see arith, equals, relational).
func binaryType(op string, l, r *sty) *sty {
	switch op {
	case "&&", "||", "==", "!=", "<", ">", "<=", ">=":
		return stBool
	case "??":
		return union(l, r)
	case "+":
		if isString(l) || isString(r) {
			return stString
		}
	case "&", "|", "^":
		if l != nil && r != nil && l.ks == kbit(kBool) && r.ks == kbit(kBool) {
			return stBool
		}
	}
	lr, rr := numKindRank(l), numKindRank(r)
	if lr < 0 || rr < 0 {
		return nil
	}
	return rankTypes[max(lr, rr)]
}

// isString reports whether every value of t that is not null is a string.
func isString(t *sty) bool {
	return t != nil && t.ks&^kbit(kNull) == kbit(kString)
}

// elementLambdas are the methods whose lambda arguments take the elements of
// their receiver (LINQ and List<T>); Aggregate, Zip and the like, whose
// lambdas take other values, are not among them.
var elementLambdas = map[string]bool{
	"Where": true, "Select": true, "SelectMany": true, "Any": true, "All": true, "First": true, "FirstOrDefault": true,
	"Last": true, "LastOrDefault": true, "Single": true, "SingleOrDefault": true, "Count": true, "LongCount": true,
	"Sum": true, "Average": true, "Max": true, "Min": true, "MaxBy": true, "MinBy": true, "OrderBy": true,
	"OrderByDescending": true, "ThenBy": true, "ThenByDescending": true, "SkipWhile": true, "TakeWhile": true,
	"DistinctBy": true, "ToDictionary": true, "GroupBy": true, "Exists": true, "Find": true, "FindAll": true,
	"FindIndex": true, "ForEach": true, "RemoveAll": true, "Sort": true,
}

// lambdaParamTypes are the types of the n parameters of a lambda passed to
// method on a sequence of elem: the element, and for Where and Select with
// two parameters its index, for Sort with two the two elements compared.
func lambdaParamTypes(method string, elem *sty, n int) []*sty {
	if !elementLambdas[method] {
		return nil
	}
	switch {
	case n == 1:
		return []*sty{elem}
	case n == 2 && (method == "Where" || method == "Select"):
		return []*sty{elem, stInt}
	case n == 2 && method == "Sort":
		return []*sty{elem, elem}
	}
	return nil
}
