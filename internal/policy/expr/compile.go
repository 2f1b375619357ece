package expr

import (
	"math/big"
	"strings"
	"time"
)

type evalFn func(e *env) Value

type ctl uint8

const (
	ctlNone ctl = iota
	ctlBreak
	ctlContinue
	ctlReturn
)

type execFn func(e *env) ctl

type scope struct {
	vars map[string]int
}

type compiler struct {
	scopes       []scope
	nslots       int
	slotTypes    []string
	slotSty      []*sty          // the static type of each slot's values (nil: unknown)
	assigned     map[string]bool // names assigned after their declaration (see parser.assigned)
	trace        *tracer         // tests only
	lambdaParams []*sty          // the parameter types of the lambda compiled next, as an argument
	usesReqBody  bool
	usesRespBody bool
	loopDepth    int
	switchDepth  int
	inCatch      int
	anonNames    map[string]bool
}

func (c *compiler) errf(p pos, format string, args ...any) {
	panic(&Error{Line: int(p.line), Col: int(p.col), Msg: sprintf(format, args...)})
}

func (c *compiler) push() { c.scopes = append(c.scopes, scope{vars: map[string]int{}}) }
func (c *compiler) pop()  { c.scopes = c.scopes[:len(c.scopes)-1] }

func (c *compiler) lookup(name string) (int, bool) {
	for i := len(c.scopes) - 1; i >= 0; i-- {
		if s, ok := c.scopes[i].vars[name]; ok {
			return s, true
		}
	}
	return 0, false
}

func (c *compiler) declare(p pos, name, typ string) int {
	if _, ok := c.lookup(name); ok {
		c.errf(p, "a local variable named '%s' is already defined in this scope", name)
	}
	if name == "context" {
		c.errf(p, "a local variable cannot be named 'context'")
	}
	slot := c.nslots
	c.nslots++
	c.slotTypes = append(c.slotTypes, typ)
	c.slotSty = append(c.slotSty, nil)
	c.scopes[len(c.scopes)-1].vars[name] = slot
	return slot
}

// ---- type names ----------------------------------------------------------------

var typeAliases = map[string]string{
	"String": "string", "Int32": "int", "Int64": "long", "Double": "double", "Single": "double", "float": "double",
	"Boolean": "bool", "Char": "char", "Byte": "byte", "Decimal": "decimal", "Object": "object",
	"Int16": "int", "short": "int", "UInt16": "int", "ushort": "int", "sbyte": "int", "SByte": "int",
	"uint": "long", "UInt32": "long", "ulong": "long", "UInt64": "long",
	"IEnumerable": "IEnumerable", "IList": "List", "ICollection": "List", "IReadOnlyList": "List", "IReadOnlyCollection": "List",
	"IDictionary": "Dictionary", "IReadOnlyDictionary": "Dictionary", "ISet": "HashSet",
	"HMACSHA256": "HMACSHA256", "dynamic": "object",
}

var namespaces = []string{
	"System.Security.Cryptography.", "System.Text.RegularExpressions.", "System.Collections.Generic.",
	"Newtonsoft.Json.Linq.", "Newtonsoft.Json.", "System.Xml.Linq.", "System.Globalization.", "System.Text.",
	"System.Linq.", "System.Net.", "System.Xml.", "System.",
}

// canonType maps a (possibly qualified or aliased) type name to its canonical
// name, or "" when it is not an allow-listed type.
func canonType(name string) string {
	for _, ns := range namespaces {
		if strings.HasPrefix(name, ns) {
			name = name[len(ns):]
			break
		}
	}
	if a, ok := typeAliases[name]; ok {
		name = a
	}
	if knownTypes[name] {
		return name
	}
	return ""
}

func isTypeName(t *typeRef) bool { return canonType(t.name) != "" }

func (c *compiler) typeOf(t *typeRef) string {
	n := canonType(t.name)
	if n == "" {
		c.errf(t.p, "the type '%s' is not supported in policy expressions", t.name)
	}
	for _, a := range t.args {
		c.typeOf(a)
	}
	return n
}

// staticType returns the canonical type name when n names a type (for static
// member access) and not a value.
func (c *compiler) staticType(n node) string {
	switch x := n.(type) {
	case *identNode:
		if _, ok := c.lookup(x.name); ok || x.name == "context" {
			return ""
		}
		return canonType(x.name)
	case *memberNode:
		if x.cond {
			return ""
		}
		if q := qualified(x); q != "" {
			if _, ok := c.lookup(strings.SplitN(q, ".", 2)[0]); ok {
				return ""
			}
			if strings.HasPrefix(q, "context.") {
				return ""
			}
			return canonType(q)
		}
	}
	return ""
}

func qualified(n node) string {
	switch x := n.(type) {
	case *identNode:
		return x.name
	case *memberNode:
		if x.cond || len(x.targs) > 0 {
			return ""
		}
		q := qualified(x.x)
		if q == "" {
			return ""
		}
		return q + "." + x.name
	}
	return ""
}

// ---- expressions ---------------------------------------------------------------

func constFn(v Value) evalFn { return func(*env) Value { return v } }

// expr compiles an expression.
func (c *compiler) expr(n node) evalFn {
	f, _ := c.exprT(n)
	return f
}

// exprT compiles an expression and returns its static type (nil: unknown).
func (c *compiler) exprT(n node) (evalFn, *sty) {
	f, t := c.compileExpr(n)
	if c.trace != nil {
		f = c.trace.expr(n.at(), f, t)
	}
	return f, t
}

func (c *compiler) compileExpr(n node) (evalFn, *sty) {
	switch x := n.(type) {
	case *litNode:
		return constFn(x.val), valueType(x.val)
	case *interpNode:
		return c.interp(x), stString
	case *identNode:
		return c.ident(x)
	case *memberNode:
		return c.member(x)
	case *callNode:
		return c.call(x)
	case *indexNode:
		return c.index(x)
	case *chainNode:
		inner, t := c.exprT(x.x)
		return func(e *env) Value {
			v := inner(e)
			if v == chainStop {
				return nil
			}
			return v
		}, t
	case *unaryNode:
		return c.unary(x)
	case *postfixNode:
		return c.incdec(x.p, x.op, x.x, true), nil
	case *binaryNode:
		return c.binary(x)
	case *condNode:
		cf := c.expr(x.c)
		af, at := c.exprT(x.a)
		bf, bt := c.exprT(x.b)
		return func(e *env) Value {
			if truthy(cf(e)) {
				return af(e)
			}
			return bf(e)
		}, union(at, bt)
	case *assignNode:
		return c.assign(x)
	case *castNode:
		t := c.typeOf(x.t)
		xf := c.expr(x.x)
		tr := x.t
		p := x.p
		return func(e *env) Value {
			v := xf(e)
			e.pos = p
			return castTo(v, t, tr, true)
		}, typeOfRef(x.t)
	case *asNode:
		t := c.typeOf(x.t)
		xf := c.expr(x.x)
		tr := x.t
		return func(e *env) Value {
			v := xf(e)
			if !isOfType(v, t, tr) {
				return nil
			}
			return v
		}, typeOfRef(x.t)
	case *isNode:
		return c.is(x), stBool
	case *newNode:
		return c.newExpr(x)
	case *lambdaNode:
		l := c.lambda(x)
		return func(*env) Value { return l }, stLambda
	case *typeofNode:
		switch x.kind {
		case "nameof":
			return constFn(x.name), stString
		case "default":
			if x.t == nil {
				return constFn(nil), stNull
			}
			v := defaultOf(c.typeOf(x.t), x.t)
			return constFn(v), valueType(v)
		}
		c.errf(x.p, "'%s' is not supported in policy expressions", x.kind)
	case *switchExprNode:
		return c.switchExpr(x)
	}
	c.errf(n.at(), "unsupported expression")
	return nil, nil
}

// chainStop short-circuits the rest of a null-conditional chain.
var chainStop Value = &struct{ stop bool }{true}

func (c *compiler) ident(x *identNode) (evalFn, *sty) {
	if slot, ok := c.lookup(x.name); ok {
		return func(e *env) Value { return e.locals[slot] }, c.slotSty[slot]
	}
	if x.name == "context" {
		return func(*env) Value { return ctxRoot{} }, stCtx
	}
	if canonType(x.name) != "" {
		c.errf(x.p, "'%s' is a type, which is not valid in the given context", x.name)
	}
	switch x.name {
	case "System", "Microsoft", "Newtonsoft":
		c.errf(x.p, "the namespace or type '%s...' is not supported in policy expressions (only allow-listed types are)", x.name)
	}
	c.errf(x.p, "the name '%s' does not exist in the current context", x.name)
	return nil, nil
}

func (c *compiler) noteBody(x *memberNode) {
	if x.name != "Body" {
		return
	}
	if m, ok := x.x.(*memberNode); ok {
		if id, ok := m.x.(*identNode); ok && id.name == "context" {
			switch m.name {
			case "Request":
				c.usesReqBody = true
				return
			case "Response":
				c.usesRespBody = true
				return
			}
		}
	}
	c.usesReqBody = true
	c.usesRespBody = true
}

func (c *compiler) member(x *memberNode) (evalFn, *sty) {
	if t := c.staticType(x.x); t != "" {
		if f, ok := staticProps[t][x.name]; ok {
			m := staticPropMembers[t][x.name]
			if c.trace != nil {
				f = c.trace.staticProp(m, f)
			}
			p := x.p
			return func(e *env) Value { e.pos = p; return f(e) }, m.sig.result(nil, nil, nil)
		}
		if _, ok := statics[t][x.name]; ok {
			c.errf(x.p, "'%s.%s' is a method; call it with ()", t, x.name)
		}
		c.errf(x.p, "'%s' does not contain a definition for '%s'", t, x.name)
	}
	if q := qualified(x); q != "" && canonType(q) != "" && c.staticType(x.x) == "" {
		if _, isLocal := c.lookup(strings.SplitN(q, ".", 2)[0]); !isLocal && !strings.HasPrefix(q, "context.") {
			c.errf(x.p, "'%s' is a type, which is not valid in the given context", q)
		}
	}
	if q := qualified(x.x); q != "" && !strings.HasPrefix(q, "context") {
		first := strings.SplitN(q, ".", 2)[0]
		if _, ok := c.lookup(first); !ok && (first == "System" || first == "Newtonsoft") {
			c.errf(x.p, "the type or namespace '%s.%s' is not supported in policy expressions", q, x.name)
		}
	}
	c.noteBody(x)
	site := propSite(x.name)
	if site == nil {
		if !c.anonNames[x.name] {
			c.errf(x.p, "no allow-listed type has a property named '%s'", x.name)
		}
		site = &[numKinds]propFn{}
	}
	recv, rt := c.exprT(x.x)
	res := c.propType(rt, x)
	if c.trace != nil {
		site = c.trace.props(x.name, site)
	}
	name, p, cond := x.name, x.p, x.cond
	return func(e *env) Value {
		r := recv(e)
		if r == chainStop {
			return chainStop
		}
		e.pos = p
		if r == nil {
			if cond {
				return chainStop
			}
			if name == "HasValue" {
				return false
			}
			throwNull(name)
		}
		if d, ok := r.(*Dict); ok && d.Anon {
			if v, ok := d.Get(name); ok {
				return v
			}
		}
		f := site[kindOf(r)]
		if f == nil {
			throwf("RuntimeBinderException", "'%s' does not contain a definition for '%s'", typeName(r), name)
		}
		if s, ok := r.(string); ok { // Length and friends count UTF-16 units
			e.touch(len(s))
		}
		v := f(e, r)
		if s, ok := v.(string); ok {
			e.touch(len(s))
		}
		return v
	}, res
}

func throwNull(member string) {
	throwf("NullReferenceException", "Object reference not set to an instance of an object (reading '%s' of null).", member)
}

// callSite carries what a method implementation may need besides its arguments.
type callSite struct {
	name  string
	targs []*typeRef
	ttype []string // canonical type argument names
	names []string // argument names ("" when positional)
	p     pos
}

func (cs *callSite) targ(i int) string {
	if i < len(cs.ttype) {
		return cs.ttype[i]
	}
	return ""
}

func (c *compiler) args(args []argNode, allowOut bool) ([]evalFn, []string) {
	fns, names, _ := c.argsT(args, allowOut)
	return fns, names
}

// argsT is args, with the static types of the arguments (nil for out
// arguments).
func (c *compiler) argsT(args []argNode, allowOut bool) ([]evalFn, []string, []*sty) {
	return c.argsL(args, allowOut, "", nil)
}

// argsL is argsT for a call of method on a sequence whose elements have
// type elem: lambda arguments that the method calls with elements get
// typed parameters.
func (c *compiler) argsL(args []argNode, allowOut bool, method string, elem *sty) ([]evalFn, []string, []*sty) {
	fns := make([]evalFn, len(args))
	names := make([]string, len(args))
	types := make([]*sty, len(args))
	for i, a := range args {
		names[i] = a.name
		if a.out {
			if !allowOut {
				c.errf(a.x.at(), "out arguments are not allowed here")
			}
			var slot int
			if a.outDecl {
				slot = c.declare(pos{}, a.outName, "")
			} else {
				id, ok := a.x.(*identNode)
				if !ok {
					c.errf(a.x.at(), "an out argument must be a local variable")
				}
				s, ok := c.lookup(id.name)
				if !ok {
					c.errf(id.p, "the name '%s' does not exist in the current context", id.name)
				}
				slot = s
			}
			o := &outArg{slot: slot}
			fns[i] = func(*env) Value { return o }
			continue
		}
		if l, ok := a.x.(*lambdaNode); ok && elem != nil {
			c.lambdaParams = lambdaParamTypes(method, elem, len(l.params))
		}
		fns[i], types[i] = c.exprT(a.x)
	}
	return fns, names, types
}

func (c *compiler) call(x *callNode) (evalFn, *sty) {
	switch fn := x.fn.(type) {
	case *memberNode:
		cs := &callSite{name: fn.name, targs: x.targs, p: fn.p}
		for _, t := range x.targs {
			cs.ttype = append(cs.ttype, c.typeOf(t))
		}
		if t := c.staticType(fn.x); t != "" {
			f, ok := statics[t][fn.name]
			if !ok {
				if _, isProp := staticProps[t][fn.name]; isProp {
					c.errf(fn.p, "'%s.%s' is a property, not a method", t, fn.name)
				}
				c.errf(fn.p, "'%s' does not contain a method named '%s'", t, fn.name)
			}
			argFns, names, argTypes := c.argsT(x.args, true)
			cs.names = names
			m := staticMembers[t][fn.name]
			if !m.sig.accepts(len(x.args)) {
				c.errf(fn.p, "no overload for method '%s.%s' takes %d arguments", t, fn.name, len(x.args))
			}
			res := m.sig.result(nil, argTypes, x.targs)
			if c.trace != nil {
				f = c.trace.static(m, f)
			}
			return func(e *env) Value {
				base := len(e.stack)
				for _, a := range argFns {
					e.stack = append(e.stack, a(e))
				}
				args := e.stack[base:len(e.stack):len(e.stack)]
				e.pos = cs.p
				e.step()
				e.touchArgs(nil, args)
				r := f(e, args, cs)
				e.chargeResult(r)
				clear(e.stack[base:])
				e.stack = e.stack[:base]
				return r
			}, res
		}
		recv, rt := c.exprT(fn.x)
		site := methodSite(fn.name)
		if site == nil {
			c.errf(fn.p, "no allow-listed type has a method named '%s'", fn.name)
		}
		argFns, names, argTypes := c.argsL(x.args, true, fn.name, elemOf(rt))
		cs.names = names
		res := c.methodType(rt, fn, argTypes, x.targs)
		if c.trace != nil {
			site = c.trace.methods(fn.name, site)
		}
		cond := fn.cond
		return func(e *env) Value {
			r := recv(e)
			if r == chainStop {
				return chainStop
			}
			if r == nil {
				if cond {
					return chainStop
				}
				e.pos = cs.p
				// extension methods that accept null receivers
				if f := site[kNull]; f != nil {
					return f(e, nil, nil, cs)
				}
				throwNull(cs.name)
			}
			base := len(e.stack)
			for _, a := range argFns {
				e.stack = append(e.stack, a(e))
			}
			args := e.stack[base:len(e.stack):len(e.stack)]
			e.pos = cs.p
			e.step()
			f := site[kindOf(r)]
			if f == nil {
				throwf("RuntimeBinderException", "'%s' does not contain a definition for '%s'", typeName(r), cs.name)
			}
			e.touchArgs(r, args)
			v := f(e, r, args, cs)
			e.chargeResult(v)
			clear(e.stack[base:])
			e.stack = e.stack[:base]
			return v
		}, res
	case *identNode:
		slot, ok := c.lookup(fn.name)
		if !ok {
			c.errf(fn.p, "the name '%s' does not exist in the current context (policy expressions cannot declare or call methods)", fn.name)
		}
		argFns, _ := c.args(x.args, false)
		p := x.p
		return func(e *env) Value {
			l, ok := e.locals[slot].(*lambda)
			if !ok {
				e.pos = p
				throwf("InvalidOperationException", "'%s' is not a delegate", fn.name)
			}
			e.depth++
			defer func() { e.depth-- }()
			if e.depth > 100 {
				e.pos = p
				throwf("InsufficientExecutionStackException", "delegate calls are nested too deeply")
			}
			vals := make([]Value, len(argFns))
			for i, a := range argFns {
				vals[i] = a(e)
			}
			return callLambda(e, l, vals...)
		}, nil
	}
	c.errf(x.p, "this expression cannot be called")
	return nil, nil
}

func (c *compiler) index(x *indexNode) (evalFn, *sty) {
	recv, rt := c.exprT(x.x)
	idx := make([]evalFn, len(x.args))
	for i, a := range x.args {
		idx[i] = c.expr(a)
	}
	p, cond := x.p, x.cond
	if len(idx) != 1 {
		c.errf(p, "multi-dimensional indexers are not supported")
	}
	res := c.indexType(rt, x)
	i0 := idx[0]
	return func(e *env) Value {
		r := recv(e)
		if r == chainStop {
			return chainStop
		}
		if r == nil && cond {
			return chainStop
		}
		k := i0(e)
		e.pos = p
		if s, ok := r.(string); ok { // s[i] counts UTF-16 units
			e.touch(len(s))
		}
		if s, ok := k.(string); ok {
			e.touch(len(s))
		}
		return indexGet(e, r, k)
	}, res
}

func (c *compiler) interp(x *interpNode) evalFn {
	type piece struct {
		lit    string
		f      evalFn
		align  evalFn
		format string
	}
	ps := make([]piece, len(x.parts))
	for i, part := range x.parts {
		ps[i] = piece{lit: part.lit, format: part.format}
		if part.x != nil {
			ps[i].f = c.expr(part.x)
		}
		if part.align != nil {
			ps[i].align = c.expr(part.align)
		}
	}
	return func(e *env) Value {
		var b strings.Builder
		for _, pc := range ps {
			if pc.f == nil {
				b.WriteString(pc.lit)
				continue
			}
			v := pc.f(e)
			s := formatValue(v, pc.format)
			if pc.align != nil {
				a, _ := toI64(pc.align(e))
				s = alignStr(s, int(a))
			}
			b.WriteString(s)
		}
		e.alloc(b.Len())
		return b.String()
	}
}

func alignStr(s string, a int) string {
	if a > 1<<16 || a < -(1<<16) {
		throwf("FormatException", "Index (zero based) must be greater than or equal to zero and less than the size of the argument list (alignment too large).")
	}
	n := strLen(s)
	if a > 0 && n < a {
		return strings.Repeat(" ", a-n) + s
	}
	if a < 0 && n < -a {
		return s + strings.Repeat(" ", -a-n)
	}
	return s
}

func (c *compiler) unary(x *unaryNode) (evalFn, *sty) {
	if x.op == "++" || x.op == "--" {
		return c.incdec(x.p, x.op, x.x, false), nil
	}
	f, t := c.exprT(x.x)
	p := x.p
	switch x.op {
	case "!":
		return func(e *env) Value {
			v := f(e)
			if v == nil {
				return nil
			}
			e.pos = p
			return !truthy(v)
		}, stBool
	case "-":
		return func(e *env) Value { e.pos = p; return negate(f(e)) }, unaryType(t, true)
	case "+":
		return func(e *env) Value { e.pos = p; return arith('+', int32(0), promoteUnary(f(e))) }, unaryType(t, false)
	case "~":
		return func(e *env) Value {
			e.pos = p
			switch v := promoteUnary(f(e)).(type) {
			case int32:
				return ^v
			case int64:
				return ^v
			case nil:
				return nil
			}
			throwf("InvalidOperationException", "operator '~' cannot be applied to this operand")
			return nil
		}, nil
	}
	c.errf(p, "unsupported operator %s", x.op)
	return nil, nil
}

func promoteUnary(v Value) Value {
	switch x := v.(type) {
	case Char:
		return int32(x)
	case uint8:
		return int32(x)
	}
	return v
}

func negate(v Value) Value {
	switch x := promoteUnary(v).(type) {
	case int32:
		return -x
	case int64:
		return -x
	case float64:
		return -x
	case Decimal:
		return Decimal{m: new(big.Int).Neg(x.mant()), scale: x.scale}
	case nil:
		return nil
	case *JValue:
		return negate(x.plain())
	case time.Duration:
		return -x
	}
	throwf("InvalidOperationException", "operator '-' cannot be applied to operand of type '%s'", typeName(v))
	return nil
}

func (c *compiler) binary(x *binaryNode) (evalFn, *sty) {
	l, lt := c.exprT(x.l)
	r, rt := c.exprT(x.r)
	return c.binaryOp(x, l, r), binaryType(x.op, lt, rt)
}

func (c *compiler) binaryOp(x *binaryNode, l, r evalFn) evalFn {
	p := x.p
	switch x.op {
	case "&&":
		return func(e *env) Value {
			if !truthy(l(e)) {
				return false
			}
			return truthy(r(e))
		}
	case "||":
		return func(e *env) Value {
			if truthy(l(e)) {
				return true
			}
			return truthy(r(e))
		}
	case "??":
		return func(e *env) Value {
			v := l(e)
			if v == nil {
				return r(e)
			}
			return v
		}
	case "==":
		return func(e *env) Value {
			a, b := l(e), r(e)
			if sa, ok := a.(string); ok {
				if sb, ok := b.(string); ok {
					if len(sa) == len(sb) {
						e.touch(len(sa))
					}
					return sa == sb
				}
			}
			e.pos = p
			return equals(a, b)
		}
	case "!=":
		return func(e *env) Value {
			a, b := l(e), r(e)
			if sa, ok := a.(string); ok {
				if sb, ok := b.(string); ok {
					if len(sa) == len(sb) {
						e.touch(len(sa))
					}
					return sa != sb
				}
			}
			e.pos = p
			return !equals(a, b)
		}
	case "<", ">", "<=", ">=":
		op := x.op
		return func(e *env) Value {
			a, b := l(e), r(e)
			e.pos = p
			return relational(op, a, b)
		}
	case "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>":
		var op byte
		switch x.op {
		case "<<":
			op = 'L'
		case ">>":
			op = 'R'
		default:
			op = x.op[0]
		}
		return func(e *env) Value {
			a, b := l(e), r(e)
			e.pos = p
			v := arith(op, a, b)
			if s, ok := v.(string); ok {
				e.alloc(len(s))
			}
			return v
		}
	}
	c.errf(p, "unsupported operator %s", x.op)
	return nil
}

func relational(op string, a, b Value) Value {
	if a == nil || b == nil {
		return false
	}
	if ja, ok := a.(*JValue); ok {
		a = ja.plain()
	}
	if jb, ok := b.(*JValue); ok {
		b = jb.plain()
	}
	if _, ok := a.(string); ok {
		throwf("InvalidOperationException", "operator '%s' cannot be applied to operands of type 'string' (use string.Compare)", op)
	}
	cmp := compare(a, b)
	if cmp == 2 {
		return false
	}
	switch op {
	case "<":
		return cmp < 0
	case ">":
		return cmp > 0
	case "<=":
		return cmp <= 0
	}
	return cmp >= 0
}

// ---- assignment ------------------------------------------------------------------

type lvalue struct {
	get func(e *env) Value
	set func(e *env, v Value)
	// prepare evaluates receiver and index once (for compound assignment).
	prepare func(e *env) (get func() Value, set func(Value))
}

func (c *compiler) lval(n node) lvalue {
	switch x := n.(type) {
	case *identNode:
		slot, ok := c.lookup(x.name)
		if !ok {
			if x.name == "context" {
				c.errf(x.p, "'context' cannot be assigned")
			}
			c.errf(x.p, "the name '%s' does not exist in the current context", x.name)
		}
		typ := c.slotTypes[slot]
		conv := func(v Value) Value { return v }
		if typ != "" {
			conv = func(v Value) Value { return implicitConv(v, typ) }
		}
		return lvalue{
			get: func(e *env) Value { return e.locals[slot] },
			set: func(e *env, v Value) { e.locals[slot] = conv(v) },
			prepare: func(e *env) (func() Value, func(Value)) {
				return func() Value { return e.locals[slot] }, func(v Value) { e.locals[slot] = conv(v) }
			},
		}
	case *indexNode:
		recv := c.expr(x.x)
		if len(x.args) != 1 {
			c.errf(x.p, "multi-dimensional indexers are not supported")
		}
		idx := c.expr(x.args[0])
		p := x.p
		return lvalue{
			get: func(e *env) Value { r := recv(e); k := idx(e); e.pos = p; return indexGet(e, r, k) },
			set: func(e *env, v Value) { r := recv(e); k := idx(e); e.pos = p; indexSet(e, r, k, v) },
			prepare: func(e *env) (func() Value, func(Value)) {
				r := recv(e)
				k := idx(e)
				e.pos = p
				return func() Value { return indexGet(e, r, k) }, func(v Value) { indexSet(e, r, k, v) }
			},
		}
	case *memberNode:
		if t := c.staticType(x.x); t != "" {
			c.errf(x.p, "'%s.%s' cannot be assigned", t, x.name)
		}
		recv := c.expr(x.x)
		name, p := x.name, x.p
		get, _ := c.member(x)
		return lvalue{
			get: get,
			set: func(e *env, v Value) { r := recv(e); e.pos = p; setProp(e, r, name, v) },
			prepare: func(e *env) (func() Value, func(Value)) {
				r := recv(e)
				e.pos = p
				return func() Value { return getPropDyn(e, r, name) }, func(v Value) { setProp(e, r, name, v) }
			},
		}
	}
	c.errf(n.at(), "the left-hand side of an assignment must be a variable, property or indexer")
	return lvalue{}
}

func (c *compiler) assign(x *assignNode) (evalFn, *sty) {
	if x.op == "discard" { // using (expr) statement
		return c.exprT(x.r)
	}
	lv := c.lval(x.l)
	r, rt := c.exprT(x.r)
	if x.op == "=" {
		return func(e *env) Value {
			v := r(e)
			lv.set(e, v)
			return v
		}, rt
	}
	return c.compoundAssign(x, lv, r), nil
}

func (c *compiler) compoundAssign(x *assignNode, lv lvalue, r evalFn) evalFn {
	p := x.p
	if x.op == "??=" {
		return func(e *env) Value {
			get, set := lv.prepare(e)
			if v := get(); v != nil {
				return v
			}
			v := r(e)
			set(v)
			return v
		}
	}
	var op byte
	switch x.op {
	case "<<=":
		op = 'L'
	case ">>=":
		op = 'R'
	default:
		op = x.op[0]
	}
	return func(e *env) Value {
		get, set := lv.prepare(e)
		old := get()
		b := r(e)
		e.pos = p
		v := arith(op, old, b)
		v = narrowTo(v, old)
		if s, ok := v.(string); ok {
			e.alloc(len(s))
		}
		set(v)
		return v
	}
}

// narrowTo converts the result of a compound assignment back to the type of the
// variable (C# inserts an explicit conversion for x += y).
func narrowTo(v, old Value) Value {
	switch old.(type) {
	case int32:
		if i, ok := toI64(v); ok {
			return int32(i)
		}
	case Char:
		if i, ok := toI64(v); ok {
			return Char(i)
		}
	case uint8:
		if i, ok := toI64(v); ok {
			return uint8(i)
		}
	}
	return v
}

func (c *compiler) incdec(p pos, op string, target node, post bool) evalFn {
	lv := c.lval(target)
	var d byte = '+'
	if op == "--" {
		d = '-'
	}
	return func(e *env) Value {
		get, set := lv.prepare(e)
		old := get()
		e.pos = p
		if old == nil {
			throwNull(op)
		}
		v := narrowTo(arith(d, old, int32(1)), old)
		set(v)
		if post {
			return old
		}
		return v
	}
}

// ---- is / switch expressions ------------------------------------------------------

func (c *compiler) is(x *isNode) evalFn {
	xf := c.expr(x.x)
	not := x.not
	if x.constPa != nil {
		cf := c.expr(x.constPa)
		return func(e *env) Value { return equals(xf(e), cf(e)) != not }
	}
	t := c.typeOf(x.t)
	tr := x.t
	if x.decl != "" {
		slot := c.declare(x.p, x.decl, "")
		c.slotSty[slot] = c.patternType(x.decl, x.t)
		return func(e *env) Value {
			v := xf(e)
			ok := isOfType(v, t, tr)
			if ok {
				e.locals[slot] = v
			}
			return ok != not
		}
	}
	return func(e *env) Value { return isOfType(xf(e), t, tr) != not }
}

func (c *compiler) switchExpr(x *switchExprNode) (evalFn, *sty) {
	xf := c.expr(x.x)
	type arm struct {
		pat   evalFn
		rel   string
		not   bool
		t     string
		tr    *typeRef
		slot  int
		when  evalFn
		val   evalFn
		isAny bool
	}
	arms := make([]arm, len(x.arms))
	var res *sty
	for i, a := range x.arms {
		c.push()
		ar := arm{rel: a.relOp, not: a.not, slot: -1}
		switch {
		case a.t != nil:
			ar.t = c.typeOf(a.t)
			ar.tr = a.t
			if a.decl != "" {
				ar.slot = c.declare(a.t.p, a.decl, "")
				c.slotSty[ar.slot] = c.patternType(a.decl, a.t)
			}
		case a.pat != nil:
			ar.pat = c.expr(a.pat)
		default:
			ar.isAny = true
		}
		if a.when != nil {
			ar.when = c.expr(a.when)
		}
		var vt *sty
		ar.val, vt = c.exprT(a.val)
		if i == 0 {
			res = vt
		} else {
			res = union(res, vt)
		}
		c.pop()
		arms[i] = ar
	}
	p := x.p
	return func(e *env) Value {
		v := xf(e)
		for _, a := range arms {
			ok := a.isAny
			switch {
			case a.t != "":
				ok = isOfType(v, a.t, a.tr)
				if ok && a.slot >= 0 {
					e.locals[a.slot] = v
				}
			case a.pat != nil:
				pv := a.pat(e)
				if a.rel != "" {
					ok = truthy(relational(a.rel, v, pv))
				} else {
					ok = equals(v, pv) != a.not
				}
			}
			if ok && a.when != nil {
				ok = truthy(a.when(e))
			}
			if ok {
				return a.val(e)
			}
		}
		e.pos = p
		throwf("SwitchExpressionException", "Non-exhaustive switch expression: no arm matched the value '%s'.", toStr(v))
		return nil
	}, res
}

// ---- new ------------------------------------------------------------------------------

func (c *compiler) newExpr(x *newNode) (evalFn, *sty) {
	p := x.p
	if x.anon {
		names := make([]string, len(x.init))
		vals := make([]evalFn, len(x.init))
		at := &sty{ks: kbit(kDict), name: "anonymous type", anon: map[string]*sty{}}
		for i, it := range x.init {
			if it.name == "" {
				c.errf(it.p, "invalid anonymous type member declarator")
			}
			names[i] = it.name
			vals[i], at.anon[it.name] = c.exprT(it.vals[0])
		}
		return func(e *env) Value {
			d := newDict()
			d.Anon = true
			for i, n := range names {
				d.Set(n, vals[i](e))
			}
			return d
		}, at
	}
	if x.isArray {
		elem := ""
		var at *sty
		if x.t != nil {
			elem = c.typeOf(x.t)
			if x.t.array > 0 || len(x.t.args) > 0 {
				elem = "object"
			}
			at = typeOfRef(&typeRef{name: x.t.name, args: x.t.args, array: x.t.array + 1})
		}
		var items []evalFn
		var itemTypes *sty
		for i, it := range x.init {
			if it.kind != 'v' {
				c.errf(it.p, "invalid array initializer")
			}
			f, t := c.exprT(it.vals[0])
			items = append(items, f)
			if i == 0 {
				itemTypes = t
			} else {
				itemTypes = union(itemTypes, t)
			}
		}
		if x.t == nil { // new[] { ... }: the type of the items, bytes when the first is a byte
			at = listOf(itemTypes)
			if itemTypes == nil || itemTypes.ks.has(kByte) {
				at = union(at, stBytes)
			}
		}
		var lenF evalFn
		if x.arrayLen != nil {
			lenF = c.expr(x.arrayLen)
		}
		return func(e *env) Value {
			e.pos = p
			if lenF != nil && !x.hasInit {
				n, ok := toI64(lenF(e))
				if !ok || n < 0 {
					throwf("OverflowException", "Arithmetic operation resulted in an overflow.")
				}
				e.alloc(int(n) * 16)
				if elem == "byte" {
					return make([]byte, n)
				}
				l := &List{Array: true, Elem: elem, Items: make([]Value, n)}
				if z := defaultOf(elem, nil); z != nil {
					for i := range l.Items {
						l.Items[i] = z
					}
				}
				return l
			}
			vals := make([]Value, len(items))
			for i, f := range items {
				vals[i] = f(e)
			}
			el := elem
			if el == "" && len(vals) > 0 {
				el = elemName(vals[0])
			}
			if el == "byte" {
				b := make([]byte, len(vals))
				for i, v := range vals {
					n, _ := toI64(v)
					b[i] = byte(n)
				}
				return b
			}
			if el != "" && el != "object" {
				for i, v := range vals {
					vals[i] = implicitConv(v, el)
				}
			}
			e.alloc(len(vals) * 16)
			return &List{Array: true, Elem: el, Items: vals}
		}, at
	}
	t := c.typeOf(x.t)
	ctor, ok := ctors[t]
	if !ok {
		c.errf(x.p, "cannot create an instance of '%s'", x.t)
	}
	if m := ctorMembers[t]; !m.sig.accepts(len(x.args)) {
		c.errf(x.p, "'%s' does not contain a constructor that takes %d arguments", t, len(x.args))
	}
	res := typeOfRef(x.t)
	if res == nil {
		res = namedTypes[t]
	}
	if c.trace != nil {
		ctor = c.trace.ctor(ctorMembers[t], ctor)
	}
	argFns, names := c.args(x.args, false)
	cs := &callSite{name: t, targs: x.t.args, names: names, p: p}
	for _, a := range x.t.args {
		cs.ttype = append(cs.ttype, c.typeOf(a))
	}
	type initFn struct {
		kind byte
		name string
		key  evalFn
		vals []evalFn
		add  []evalFn
	}
	var inits []initFn
	for _, it := range x.init {
		in := initFn{kind: it.kind, name: it.name}
		if it.kind == 'p' && x.t != nil && t != "" && it.name != "" {
			// property initializer
		}
		for _, k := range it.key {
			in.key = c.expr(k)
		}
		for _, v := range it.vals {
			in.vals = append(in.vals, c.expr(v))
		}
		inits = append(inits, in)
	}
	addSite := methodSite("Add")
	return func(e *env) Value {
		args := make([]Value, len(argFns))
		for i, a := range argFns {
			args[i] = a(e)
		}
		e.pos = p
		e.step()
		e.touchArgs(nil, args)
		obj := ctor(e, args, cs)
		e.chargeResult(obj)
		for _, in := range inits {
			vals := make([]Value, len(in.vals))
			for i, f := range in.vals {
				vals[i] = f(e)
			}
			e.pos = p
			switch in.kind {
			case 'v', 'k':
				f := addSite[kindOf(obj)]
				if f == nil {
					throwf("InvalidOperationException", "'%s' does not support collection initializers", typeName(obj))
				}
				f(e, obj, vals, &callSite{name: "Add", p: p})
			case 'i':
				indexSet(e, obj, in.key(e), vals[0])
			case 'p':
				setProp(e, obj, in.name, vals[0])
			}
		}
		return obj
	}, res
}

func elemName(v Value) string {
	switch v.(type) {
	case string:
		return "string"
	case int32:
		return "int"
	case int64:
		return "long"
	case float64:
		return "double"
	case bool:
		return "bool"
	case Char:
		return "char"
	case Decimal:
		return "decimal"
	case uint8:
		return "byte"
	}
	return ""
}

func (c *compiler) lambda(x *lambdaNode) *lambda {
	pt := c.lambdaParams // for this lambda only, not for those in its body
	c.lambdaParams = nil
	c.push()
	defer c.pop()
	l := &lambda{}
	for i, name := range x.params {
		if name == "_" {
			l.params = append(l.params, c.declare(x.p, "_"+sprintf("%d", c.nslots), ""))
			continue
		}
		slot := c.declare(x.p, name, "")
		l.params = append(l.params, slot)
		if i < len(pt) && !c.assigned[name] {
			c.slotSty[slot] = pt[i]
		}
	}
	if x.body != nil {
		l.body = c.expr(x.body)
		return l
	}
	saveLoop, saveSwitch := c.loopDepth, c.switchDepth
	c.loopDepth, c.switchDepth = 0, 0
	body := c.block(x.block, false)
	c.loopDepth, c.switchDepth = saveLoop, saveSwitch
	l.body = func(e *env) Value {
		if body(e) == ctlReturn {
			v := e.ret
			e.ret = nil
			return v
		}
		return nil
	}
	return l
}

// callLambda invokes l with args; the lambda shares the caller's frame.
func callLambda(e *env, l *lambda, args ...Value) Value {
	e.step()
	for i, s := range l.params {
		if i < len(args) {
			e.locals[s] = args[i]
		}
	}
	return l.body(e)
}

func call1(e *env, l *lambda, a Value) Value {
	e.step()
	if len(l.params) > 0 {
		e.locals[l.params[0]] = a
	}
	return l.body(e)
}

func call2(e *env, l *lambda, a, b Value) Value {
	e.step()
	if len(l.params) > 0 {
		e.locals[l.params[0]] = a
	}
	if len(l.params) > 1 {
		e.locals[l.params[1]] = b
	}
	return l.body(e)
}
