package expr

import (
	"fmt"
	"strings"
)

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// ---- AST ---------------------------------------------------------------------

type node interface{ at() pos }

type typeRef struct {
	name     string // "string", "JObject", "List", "System.Text.Encoding" (dots kept)
	args     []*typeRef
	array    int // number of [] suffixes
	nullable bool
	p        pos
}

func (t *typeRef) String() string {
	s := t.name
	if len(t.args) > 0 {
		var a []string
		for _, x := range t.args {
			a = append(a, x.String())
		}
		s += "<" + strings.Join(a, ", ") + ">"
	}
	if t.nullable {
		s += "?"
	}
	s += strings.Repeat("[]", t.array)
	return s
}

type (
	litNode struct {
		p   pos
		val Value
	}
	interpNode struct {
		p     pos
		parts []interpPiece
	}
	identNode struct {
		p    pos
		name string
	}
	memberNode struct {
		p     pos
		x     node
		name  string
		cond  bool
		targs []*typeRef
	}
	callNode struct {
		p     pos
		fn    node // *memberNode or *identNode
		args  []argNode
		targs []*typeRef
	}
	indexNode struct {
		p    pos
		x    node
		args []node
		cond bool
	}
	unaryNode struct {
		p  pos
		op string
		x  node
	}
	postfixNode struct {
		p  pos
		op string
		x  node
	}
	binaryNode struct {
		p    pos
		op   string
		l, r node
	}
	condNode struct {
		p       pos
		c, a, b node
	}
	assignNode struct {
		p    pos
		op   string
		l, r node
	}
	castNode struct {
		p pos
		t *typeRef
		x node
	}
	isNode struct {
		p       pos
		x       node
		t       *typeRef // type pattern
		decl    string   // declared variable for "x is T v"
		not     bool
		constPa node // constant pattern (null, literal)
	}
	asNode struct {
		p pos
		x node
		t *typeRef
	}
	newNode struct {
		p        pos
		t        *typeRef // nil for new[] {...} and anonymous objects
		args     []argNode
		init     []initItem
		hasInit  bool
		arrayLen node
		isArray  bool
		anon     bool
	}
	lambdaNode struct {
		p      pos
		params []string
		body   node
		block  *blockStmt
	}
	chainNode struct { // root of a null-conditional chain
		p pos
		x node
	}
	typeofNode struct { // default(T) / typeof(T) / nameof(x)
		p    pos
		kind string
		t    *typeRef
		name string
	}
	switchExprNode struct {
		p    pos
		x    node
		arms []switchArm
	}
)

type switchArm struct {
	pat   node // nil for discard "_"
	t     *typeRef
	decl  string
	not   bool
	when  node
	val   node
	relOp string
}

type interpPiece struct {
	lit    string
	x      node
	align  node
	format string
}

type argNode struct {
	name    string
	x       node
	out     bool   // out/ref argument
	outDecl bool   // out var x / out T x
	outName string // declared name
}

type initItem struct {
	kind byte // 'v' value, 'k' {k, v...}, 'i' [k] = v, 'p' Name = v
	name string
	key  []node
	vals []node
	p    pos
}

func (n *litNode) at() pos        { return n.p }
func (n *interpNode) at() pos     { return n.p }
func (n *identNode) at() pos      { return n.p }
func (n *memberNode) at() pos     { return n.p }
func (n *callNode) at() pos       { return n.p }
func (n *indexNode) at() pos      { return n.p }
func (n *unaryNode) at() pos      { return n.p }
func (n *postfixNode) at() pos    { return n.p }
func (n *binaryNode) at() pos     { return n.p }
func (n *condNode) at() pos       { return n.p }
func (n *assignNode) at() pos     { return n.p }
func (n *castNode) at() pos       { return n.p }
func (n *isNode) at() pos         { return n.p }
func (n *asNode) at() pos         { return n.p }
func (n *newNode) at() pos        { return n.p }
func (n *lambdaNode) at() pos     { return n.p }
func (n *chainNode) at() pos      { return n.p }
func (n *typeofNode) at() pos     { return n.p }
func (n *switchExprNode) at() pos { return n.p }

// statements
type stmt interface{ at() pos }

type (
	blockStmt struct {
		p     pos
		stmts []stmt
	}
	declStmt struct {
		p     pos
		t     *typeRef // nil for var
		names []string
		inits []node
	}
	exprStmt struct {
		p pos
		x node
	}
	ifStmt struct {
		p    pos
		c    node
		then stmt
		els  stmt
	}
	forStmt struct {
		p    pos
		init []stmt
		cond node
		post []node
		body stmt
	}
	foreachStmt struct {
		p    pos
		name string
		coll node
		body stmt
	}
	whileStmt struct {
		p    pos
		c    node
		body stmt
		do   bool
	}
	switchStmt struct {
		p     pos
		x     node
		cases []switchCase
	}
	tryStmt struct {
		p       pos
		body    *blockStmt
		catches []catchClause
		finally *blockStmt
	}
	throwStmt struct {
		p pos
		x node
	}
	returnStmt struct {
		p pos
		x node
	}
	jumpStmt struct {
		p    pos
		kind string // break, continue
	}
	emptyStmt struct{ p pos }
)

type switchCase struct {
	labels []node // nil entry = default
	isDef  bool
	body   []stmt
}

type catchClause struct {
	t    *typeRef
	name string
	when node
	body *blockStmt
}

func (s *blockStmt) at() pos   { return s.p }
func (s *declStmt) at() pos    { return s.p }
func (s *exprStmt) at() pos    { return s.p }
func (s *ifStmt) at() pos      { return s.p }
func (s *forStmt) at() pos     { return s.p }
func (s *foreachStmt) at() pos { return s.p }
func (s *whileStmt) at() pos   { return s.p }
func (s *switchStmt) at() pos  { return s.p }
func (s *tryStmt) at() pos     { return s.p }
func (s *throwStmt) at() pos   { return s.p }
func (s *returnStmt) at() pos  { return s.p }
func (s *jumpStmt) at() pos    { return s.p }
func (s *emptyStmt) at() pos   { return s.p }

// ---- parser --------------------------------------------------------------------

type parser struct {
	toks  []token
	i     int
	depth int
	src   string
	// assigned are the names of the variables that are assigned, incremented
	// or passed as out or ref arguments somewhere in the expression (the
	// compiler trusts the type of a var's initializer only when its name is
	// not among them).
	assigned map[string]bool
}

// noteAssigned records that x, when it names a variable, is assigned.
func (ps *parser) noteAssigned(x node) {
	if id, ok := x.(*identNode); ok {
		if ps.assigned == nil {
			ps.assigned = map[string]bool{}
		}
		ps.assigned[id.name] = true
	}
}

const maxDepth = 150

func (ps *parser) tok() token { return ps.toks[ps.i] }
func (ps *parser) peek(k int) token {
	if ps.i+k < len(ps.toks) {
		return ps.toks[ps.i+k]
	}
	return ps.toks[len(ps.toks)-1]
}

func (ps *parser) errf(p pos, format string, args ...any) {
	panic(&Error{Line: int(p.line), Col: int(p.col), Msg: sprintf(format, args...)})
}

func (ps *parser) isOp(s string) bool {
	t := ps.toks[ps.i]
	return t.kind == tOp && t.text == s
}

func (ps *parser) isKw(s string) bool {
	t := ps.toks[ps.i]
	return t.kind == tIdent && t.text == s
}

func (ps *parser) accept(s string) bool {
	if ps.isOp(s) {
		ps.i++
		return true
	}
	return false
}

func (ps *parser) expect(s string) token {
	t := ps.tok()
	if t.kind != tOp || t.text != s {
		ps.errf(t.p, "expected '%s' but found %s", s, describe(t))
	}
	ps.i++
	return t
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tIdent:
		return "'" + t.text + "'"
	case tOp:
		return "'" + t.text + "'"
	case tString, tInterp:
		return "string literal"
	case tChar:
		return "character literal"
	}
	return "'" + t.text + "'"
}

func (ps *parser) ident() token {
	t := ps.tok()
	if t.kind != tIdent || keywords[t.text] {
		ps.errf(t.p, "expected identifier but found %s", describe(t))
	}
	ps.i++
	return t
}

var keywords = map[string]bool{
	"var": false, "new": true, "true": true, "false": true, "null": true, "if": true, "else": true,
	"for": true, "foreach": true, "while": true, "do": true, "switch": true, "case": true, "default": true,
	"break": true, "continue": true, "return": true, "try": true, "catch": true, "finally": true,
	"throw": true, "is": true, "as": true, "in": true, "out": true, "ref": true, "typeof": true,
	"unchecked": true, "checked": true, "this": true, "base": true, "class": true, "using": true,
	"string": true, "int": true, "long": true, "double": true, "float": true, "decimal": true, "bool": true,
	"char": true, "byte": true, "object": true, "short": true, "uint": true, "ulong": true, "sbyte": true, "ushort": true,
}

var builtinTypeKw = map[string]bool{
	"string": true, "int": true, "long": true, "double": true, "float": true, "decimal": true, "bool": true,
	"char": true, "byte": true, "object": true, "short": true, "uint": true, "ulong": true, "sbyte": true, "ushort": true,
}

func (ps *parser) enter() {
	ps.depth++
	if ps.depth > maxDepth {
		ps.errf(ps.tok().p, "expression nested too deeply")
	}
}

func (ps *parser) leave() { ps.depth-- }

// ---- types ---------------------------------------------------------------------

// tryType parses a type at the current position; on failure it restores the
// position and returns nil.
func (ps *parser) tryType(allowArray bool) *typeRef {
	save := ps.i
	t := ps.parseTypeOpt(allowArray)
	if t == nil {
		ps.i = save
	}
	return t
}

func (ps *parser) parseTypeOpt(allowArray bool) *typeRef {
	ps.enter()
	defer ps.leave()
	t := ps.tok()
	if t.kind != tIdent || (keywords[t.text] && !builtinTypeKw[t.text]) {
		return nil
	}
	ps.i++
	tr := &typeRef{name: t.text, p: t.p}
	if !builtinTypeKw[t.text] {
		for ps.isOp(".") && ps.peek(1).kind == tIdent && !keywords[ps.peek(1).text] {
			ps.i++
			tr.name += "." + ps.tok().text
			ps.i++
		}
		if ps.isOp("<") {
			save := ps.i
			ps.i++
			ok := true
			for {
				a := ps.parseTypeOpt(true)
				if a == nil {
					ok = false
					break
				}
				tr.args = append(tr.args, a)
				if ps.accept(",") {
					continue
				}
				if ps.accept(">") {
					break
				}
				ok = false
				break
			}
			if !ok {
				ps.i = save
				tr.args = nil
				return nil
			}
		}
	}
	if ps.isOp("?") && (ps.peek(1).kind != tIdent || true) {
		// nullable only in a type context; callers decide by what follows
		nx := ps.peek(1)
		if nx.kind == tIdent || nx.kind == tOp && (nx.text == ")" || nx.text == ">" || nx.text == "," || nx.text == "[" || nx.text == "(") {
			ps.i++
			tr.nullable = true
		}
	}
	for allowArray && ps.isOp("[") && ps.peek(1).kind == tOp && ps.peek(1).text == "]" {
		ps.i += 2
		tr.array++
	}
	return tr
}

func (ps *parser) parseType() *typeRef {
	t := ps.tryType(true)
	if t == nil {
		ps.errf(ps.tok().p, "expected a type but found %s", describe(ps.tok()))
	}
	return t
}

// ---- expressions ---------------------------------------------------------------

func (ps *parser) parseExpr() node {
	ps.enter()
	defer ps.leave()
	// lambdas
	t := ps.tok()
	if t.kind == tIdent && !keywords[t.text] && ps.peek(1).kind == tOp && ps.peek(1).text == "=>" {
		ps.i += 2
		return ps.lambdaBody(t.p, []string{t.text})
	}
	if t.kind == tOp && t.text == "(" {
		if params, ok := ps.lambdaParams(); ok {
			return ps.lambdaBody(t.p, params)
		}
	}
	l := ps.parseConditional()
	if ps.tok().kind == tOp {
		switch op := ps.tok().text; op {
		case "=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", "??=":
			p := ps.tok().p
			ps.i++
			r := ps.parseExpr()
			ps.noteAssigned(l)
			return &assignNode{p: p, op: op, l: l, r: r}
		case ">":
			// >>= lexed as '>' '>='
			if nx := ps.peek(1); nx.kind == tOp && nx.text == ">=" && nx.start == ps.tok().end {
				p := ps.tok().p
				ps.i += 2
				r := ps.parseExpr()
				ps.noteAssigned(l)
				return &assignNode{p: p, op: ">>=", l: l, r: r}
			}
		}
	}
	return l
}

func (ps *parser) lambdaParams() ([]string, bool) {
	j := ps.i + 1
	var names []string
	for {
		t := ps.peek(j - ps.i)
		if t.kind == tOp && t.text == ")" && len(names) == 0 {
			j++
			break
		}
		// optional type before the name: skip identifiers
		if t.kind != tIdent {
			return nil, false
		}
		if nx := ps.peek(j + 1 - ps.i); nx.kind == tIdent {
			j++
			t = nx
		}
		names = append(names, t.text)
		j++
		t2 := ps.peek(j - ps.i)
		if t2.kind == tOp && t2.text == "," {
			j++
			continue
		}
		if t2.kind == tOp && t2.text == ")" {
			j++
			break
		}
		return nil, false
	}
	if t := ps.peek(j - ps.i); t.kind == tOp && t.text == "=>" {
		ps.i = j + 1
		return names, true
	}
	return nil, false
}

func (ps *parser) lambdaBody(p pos, params []string) node {
	if ps.isOp("{") {
		b := ps.parseBlock()
		return &lambdaNode{p: p, params: params, block: b}
	}
	return &lambdaNode{p: p, params: params, body: ps.parseExpr()}
}

func (ps *parser) parseConditional() node {
	c := ps.parseBinary(0)
	if ps.isOp("?") {
		p := ps.tok().p
		ps.i++
		a := ps.parseExpr()
		ps.expect(":")
		b := ps.parseExpr()
		return &condNode{p: p, c: c, a: a, b: b}
	}
	return c
}

// binary precedence levels, lowest first
var binLevels = [][]string{
	{"??"},
	{"||"},
	{"&&"},
	{"|"},
	{"^"},
	{"&"},
	{"==", "!="},
	{"<", ">", "<=", ">=", "is", "as"},
	{"<<", ">>"},
	{"+", "-"},
	{"*", "/", "%"},
}

func (ps *parser) binOp(level int) (string, int) {
	t := ps.tok()
	for _, op := range binLevels[level] {
		if op == "is" || op == "as" {
			if t.kind == tIdent && t.text == op {
				return op, 1
			}
			continue
		}
		if t.kind != tOp {
			continue
		}
		if op == ">>" {
			if t.text == ">" {
				if nx := ps.peek(1); nx.kind == tOp && nx.text == ">" && nx.start == t.end {
					return ">>", 2
				}
			}
			continue
		}
		if op == ">" && t.text == ">" {
			if nx := ps.peek(1); nx.kind == tOp && (nx.text == ">" || nx.text == ">=") && nx.start == t.end {
				return "", 0
			}
		}
		if t.text == op {
			return op, 1
		}
	}
	return "", 0
}

func (ps *parser) parseBinary(level int) node {
	if level >= len(binLevels) {
		return ps.parseUnary()
	}
	ps.enter()
	defer ps.leave()
	l := ps.parseBinary(level + 1)
	for {
		op, n := ps.binOp(level)
		if n == 0 {
			return l
		}
		p := ps.tok().p
		ps.i += n
		switch op {
		case "??": // right associative
			r := ps.parseBinary(level)
			return &binaryNode{p: p, op: op, l: l, r: r}
		case "is":
			l = ps.parseIsPattern(p, l)
			continue
		case "as":
			t := ps.parseType()
			l = &asNode{p: p, x: l, t: t}
			continue
		}
		r := ps.parseBinary(level + 1)
		l = &binaryNode{p: p, op: op, l: l, r: r}
	}
}

func (ps *parser) parseIsPattern(p pos, x node) node {
	n := &isNode{p: p, x: x}
	if ps.isKw("not") {
		n.not = true
		ps.i++
	}
	t := ps.tok()
	if t.kind == tIdent && (t.text == "null" || t.text == "true" || t.text == "false") || t.kind == tNum || t.kind == tString || t.kind == tChar {
		n.constPa = ps.parseUnary()
		return n
	}
	n.t = ps.parseType()
	if ps.tok().kind == tIdent && !keywords[ps.tok().text] && ps.tok().text != "when" {
		n.decl = ps.ident().text
	}
	return n
}

func (ps *parser) parseUnary() node {
	ps.enter()
	defer ps.leave()
	t := ps.tok()
	if t.kind == tOp {
		switch t.text {
		case "-", "+", "!", "~":
			ps.i++
			x := ps.parseUnary()
			if lit, ok := x.(*litNode); ok && t.text == "-" {
				switch v := lit.val.(type) {
				case int64:
					if v == 2147483648 {
						return &litNode{p: t.p, val: int32(-2147483648)}
					}
				}
			}
			return &unaryNode{p: t.p, op: t.text, x: x}
		case "++", "--":
			ps.i++
			x := ps.parseUnary()
			ps.noteAssigned(x)
			return &unaryNode{p: t.p, op: t.text, x: x}
		case "(":
			if c := ps.tryCast(); c != nil {
				return c
			}
		}
	}
	return ps.parsePostfix()
}

// tryCast recognises "(T)x" where T is a built-in type keyword, or an
// identifier type followed by something that can start an operand.
func (ps *parser) tryCast() node {
	save := ps.i
	p := ps.tok().p
	ps.i++
	t := ps.tryType(true)
	if t == nil || !ps.isOp(")") {
		ps.i = save
		return nil
	}
	ps.i++
	nx := ps.tok()
	isCast := false
	if builtinTypeKw[t.name] || t.array > 0 || t.nullable || len(t.args) > 0 {
		isCast = !(nx.kind == tOp && !(nx.text == "(" || nx.text == "!" || nx.text == "~" || nx.text == "-" || nx.text == "+" || nx.text == "++" || nx.text == "--")) && nx.kind != tEOF
	} else {
		switch nx.kind {
		case tIdent:
			isCast = nx.text != "is" && nx.text != "as" && nx.text != "in" && nx.text != "when"
		case tNum, tString, tInterp, tChar:
			isCast = true
		case tOp:
			isCast = nx.text == "(" || nx.text == "!" || nx.text == "~"
		}
	}
	if !isCast {
		ps.i = save
		return nil
	}
	x := ps.parseUnary()
	return &castNode{p: p, t: t, x: x}
}

func (ps *parser) parsePostfix() node {
	x := ps.parsePrimary()
	hasCond := false
	for {
		t := ps.tok()
		if t.kind != tOp {
			if t.kind == tIdent && t.text == "switch" {
				x = ps.parseSwitchExpr(x)
				continue
			}
			break
		}
		switch t.text {
		case ".", "?.":
			ps.i++
			name := ps.tok()
			if name.kind != tIdent {
				ps.errf(name.p, "expected member name but found %s", describe(name))
			}
			ps.i++
			m := &memberNode{p: name.p, x: x, name: name.text, cond: t.text == "?."}
			if m.cond {
				hasCond = true
			}
			m.targs = ps.tryTypeArgs()
			x = m
		case "(":
			p := t.p
			args := ps.parseArgs(")")
			var targs []*typeRef
			if m, ok := x.(*memberNode); ok {
				targs = m.targs
			}
			if id, ok := x.(*identNode); ok {
				_ = id
			}
			x = &callNode{p: p, fn: x, args: args, targs: targs}
		case "[":
			p := t.p
			ps.i++
			var args []node
			for {
				args = append(args, ps.parseExpr())
				if !ps.accept(",") {
					break
				}
			}
			ps.expect("]")
			x = &indexNode{p: p, x: x, args: args}
		case "?":
			// ?[ is null-conditional indexing
			if nx := ps.peek(1); nx.kind == tOp && nx.text == "[" && nx.start == t.end {
				ps.i += 2
				var args []node
				for {
					args = append(args, ps.parseExpr())
					if !ps.accept(",") {
						break
					}
				}
				ps.expect("]")
				x = &indexNode{p: t.p, x: x, args: args, cond: true}
				hasCond = true
				continue
			}
			goto done
		case "++", "--":
			ps.i++
			ps.noteAssigned(x)
			x = &postfixNode{p: t.p, op: t.text, x: x}
		case "!":
			// null-forgiving operator x! (only when not followed by an operand)
			nx := ps.peek(1)
			if nx.kind == tOp && (nx.text == "." || nx.text == ")" || nx.text == ";" || nx.text == "," || nx.text == "[") {
				ps.i++
				continue
			}
			goto done
		default:
			goto done
		}
	}
done:
	if hasCond {
		return &chainNode{p: x.at(), x: x}
	}
	return x
}

func (ps *parser) tryTypeArgs() []*typeRef {
	if !ps.isOp("<") {
		return nil
	}
	save := ps.i
	ps.i++
	var args []*typeRef
	for {
		a := ps.tryType(true)
		if a == nil {
			ps.i = save
			return nil
		}
		args = append(args, a)
		if ps.accept(",") {
			continue
		}
		if ps.accept(">") {
			break
		}
		ps.i = save
		return nil
	}
	if !ps.isOp("(") {
		ps.i = save
		return nil
	}
	return args
}

func (ps *parser) parseArgs(closer string) []argNode {
	ps.i++ // '('
	var args []argNode
	if ps.accept(closer) {
		return args
	}
	for {
		var a argNode
		if t := ps.tok(); t.kind == tIdent && !keywords[t.text] && ps.peek(1).kind == tOp && ps.peek(1).text == ":" {
			a.name = t.text
			ps.i += 2
		}
		if ps.isKw("out") || ps.isKw("ref") || ps.isKw("in") {
			ps.i++
			a.out = true
			// out var x | out T x | out x
			if ps.tok().kind == tIdent && ps.peek(1).kind == tIdent {
				ps.i++ // type or var
				a.outDecl = true
				a.outName = ps.ident().text
			} else if ps.tok().kind == tIdent && (builtinTypeKw[ps.tok().text]) {
				ps.errf(ps.tok().p, "expected identifier")
			} else {
				save := ps.i
				if tr := ps.tryType(true); tr != nil && ps.tok().kind == tIdent {
					a.outDecl = true
					a.outName = ps.ident().text
				} else {
					ps.i = save
					a.x = ps.parseUnary()
					ps.noteAssigned(a.x)
				}
			}
		} else {
			a.x = ps.parseExpr()
		}
		args = append(args, a)
		if ps.accept(",") {
			continue
		}
		ps.expect(closer)
		return args
	}
}

func (ps *parser) parsePrimary() node {
	ps.enter()
	defer ps.leave()
	t := ps.tok()
	switch t.kind {
	case tNum, tString, tChar:
		ps.i++
		return &litNode{p: t.p, val: t.val}
	case tInterp:
		ps.i++
		return ps.interp(t)
	case tEOF:
		ps.errf(t.p, "unexpected end of expression")
	case tOp:
		if t.text == "(" {
			ps.i++
			x := ps.parseExpr()
			ps.expect(")")
			return x
		}
		ps.errf(t.p, "unexpected %s", describe(t))
	case tIdent:
		switch t.text {
		case "true":
			ps.i++
			return &litNode{p: t.p, val: true}
		case "false":
			ps.i++
			return &litNode{p: t.p, val: false}
		case "null":
			ps.i++
			return &litNode{p: t.p, val: nil}
		case "new":
			return ps.parseNew()
		case "typeof", "default", "nameof", "sizeof":
			ps.i++
			if t.text == "default" && !ps.isOp("(") {
				return &typeofNode{p: t.p, kind: "default"}
			}
			ps.expect("(")
			n := &typeofNode{p: t.p, kind: t.text}
			if t.text == "nameof" {
				x := ps.parseExpr()
				switch v := x.(type) {
				case *identNode:
					n.name = v.name
				case *memberNode:
					n.name = v.name
				default:
					ps.errf(t.p, "nameof needs a name")
				}
			} else {
				n.t = ps.parseType()
			}
			ps.expect(")")
			return n
		case "checked", "unchecked":
			if ps.peek(1).kind == tOp && ps.peek(1).text == "(" {
				ps.i += 2
				x := ps.parseExpr()
				ps.expect(")")
				return x
			}
		case "this", "base":
			ps.errf(t.p, "'%s' is not supported in policy expressions", t.text)
		}
		if keywords[t.text] && !builtinTypeKw[t.text] {
			ps.errf(t.p, "unexpected keyword '%s'", t.text)
		}
		ps.i++
		id := &identNode{p: t.p, name: t.text}
		return id
	}
	ps.errf(t.p, "unexpected %s", describe(t))
	return nil
}

func (ps *parser) interp(t token) node {
	n := &interpNode{p: t.p}
	for _, part := range t.parts {
		if !part.hole {
			n.parts = append(n.parts, interpPiece{lit: part.lit})
			continue
		}
		x := parseSub(part.src, part.p, ps.depth)
		var al node
		if part.align != "" {
			al = parseSub(part.align, part.p, ps.depth)
		}
		n.parts = append(n.parts, interpPiece{x: x, align: al, format: part.format})
	}
	return n
}

// parseSub parses the expression of an interpolation hole.
func parseSub(src string, p pos, depth int) node {
	toks := lex(src, p)
	sp := &parser{toks: toks, depth: depth + 1}
	x := sp.parseExpr()
	if sp.tok().kind != tEOF {
		sp.errf(sp.tok().p, "unexpected %s in interpolation hole", describe(sp.tok()))
	}
	return x
}

func (ps *parser) parseNew() node {
	t := ps.tok()
	ps.i++
	n := &newNode{p: t.p}
	switch {
	case ps.isOp("["): // new [] { ... }
		ps.expect("[")
		ps.expect("]")
		n.isArray = true
		if !ps.isOp("{") {
			ps.errf(ps.tok().p, "expected array initializer")
		}
		n.init = ps.parseInit()
		n.hasInit = true
		return n
	case ps.isOp("{"): // anonymous object
		n.anon = true
		n.init = ps.parseInit()
		n.hasInit = true
		for _, it := range n.init {
			if it.kind != 'p' && it.kind != 'v' {
				ps.errf(it.p, "invalid anonymous type member")
			}
		}
		return n
	}
	tr := ps.tryType(false)
	if tr == nil {
		ps.errf(ps.tok().p, "expected a type after 'new'")
	}
	n.t = tr
	if ps.isOp("[") {
		n.isArray = true
		ps.i++
		if !ps.isOp("]") {
			n.arrayLen = ps.parseExpr()
		}
		ps.expect("]")
		for ps.isOp("[") && ps.peek(1).kind == tOp && ps.peek(1).text == "]" {
			ps.i += 2
			tr.array++
		}
		if ps.isOp("{") {
			n.init = ps.parseInit()
			n.hasInit = true
		} else if n.arrayLen == nil {
			ps.errf(ps.tok().p, "array creation must have array size or array initializer")
		}
		return n
	}
	if ps.isOp("(") {
		n.args = ps.parseArgs(")")
	} else if !ps.isOp("{") {
		ps.errf(ps.tok().p, "expected '(' or '{' after 'new %s'", tr)
	}
	if ps.isOp("{") {
		n.init = ps.parseInit()
		n.hasInit = true
	}
	return n
}

func (ps *parser) parseInit() []initItem {
	ps.expect("{")
	var items []initItem
	for !ps.isOp("}") {
		t := ps.tok()
		it := initItem{p: t.p}
		switch {
		case t.kind == tOp && t.text == "{":
			ps.i++
			it.kind = 'k'
			for !ps.isOp("}") {
				it.vals = append(it.vals, ps.parseExpr())
				if !ps.accept(",") {
					break
				}
			}
			ps.expect("}")
		case t.kind == tOp && t.text == "[":
			ps.i++
			it.kind = 'i'
			for {
				it.key = append(it.key, ps.parseExpr())
				if !ps.accept(",") {
					break
				}
			}
			ps.expect("]")
			ps.expect("=")
			it.vals = []node{ps.parseExpr()}
		case t.kind == tIdent && !keywords[t.text] && ps.peek(1).kind == tOp && ps.peek(1).text == "=":
			ps.i += 2
			it.kind = 'p'
			it.name = t.text
			it.vals = []node{ps.parseExpr()}
		default:
			it.kind = 'v'
			x := ps.parseExpr()
			it.vals = []node{x}
			// anonymous type projection: new { x.Name }
			switch v := x.(type) {
			case *identNode:
				it.name = v.name
			case *memberNode:
				it.name = v.name
			}
		}
		items = append(items, it)
		if !ps.accept(",") {
			break
		}
	}
	ps.expect("}")
	return items
}

func (ps *parser) parseSwitchExpr(x node) node {
	p := ps.tok().p
	ps.i++
	ps.expect("{")
	n := &switchExprNode{p: p, x: x}
	for !ps.isOp("}") {
		var arm switchArm
		t := ps.tok()
		switch {
		case t.kind == tIdent && t.text == "_":
			ps.i++
		case t.kind == tOp && (t.text == "<" || t.text == ">" || t.text == "<=" || t.text == ">="):
			ps.i++
			arm.relOp = t.text
			arm.pat = ps.parseBinary(8)
		case t.kind == tIdent && t.text == "not":
			ps.i++
			arm.not = true
			arm.pat = ps.parseBinary(7)
		default:
			if tr := ps.tryType(true); tr != nil && !builtinLiteralIdent(t.text) && (ps.tok().kind == tIdent || ps.isOp("=>")) && isTypeName(tr) {
				arm.t = tr
				if ps.tok().kind == tIdent && ps.tok().text != "when" {
					arm.decl = ps.ident().text
				}
			} else {
				ps.i = ps.i - 0
				arm.pat = ps.parseBinary(7)
			}
		}
		if ps.isKw("when") {
			ps.i++
			arm.when = ps.parseExpr()
		}
		ps.expect("=>")
		arm.val = ps.parseExpr()
		n.arms = append(n.arms, arm)
		if !ps.accept(",") {
			break
		}
	}
	ps.expect("}")
	return n
}

func builtinLiteralIdent(s string) bool { return s == "null" || s == "true" || s == "false" }

// ---- statements -----------------------------------------------------------------

func (ps *parser) parseBlock() *blockStmt {
	p := ps.expect("{").p
	b := &blockStmt{p: p}
	for !ps.isOp("}") {
		if ps.tok().kind == tEOF {
			ps.errf(ps.tok().p, "expected '}' but found end of expression")
		}
		b.stmts = append(b.stmts, ps.parseStmt())
	}
	ps.i++
	return b
}

func (ps *parser) parseEmbedded() stmt {
	return ps.parseStmt()
}

func (ps *parser) parseStmt() stmt {
	ps.enter()
	defer ps.leave()
	t := ps.tok()
	if t.kind == tOp {
		switch t.text {
		case "{":
			return ps.parseBlock()
		case ";":
			ps.i++
			return &emptyStmt{p: t.p}
		}
	}
	if t.kind == tIdent {
		switch t.text {
		case "if":
			ps.i++
			ps.expect("(")
			c := ps.parseExpr()
			ps.expect(")")
			s := &ifStmt{p: t.p, c: c, then: ps.parseEmbedded()}
			if ps.isKw("else") {
				ps.i++
				s.els = ps.parseEmbedded()
			}
			return s
		case "while":
			ps.i++
			ps.expect("(")
			c := ps.parseExpr()
			ps.expect(")")
			return &whileStmt{p: t.p, c: c, body: ps.parseEmbedded()}
		case "do":
			ps.i++
			body := ps.parseEmbedded()
			if !ps.isKw("while") {
				ps.errf(ps.tok().p, "expected 'while'")
			}
			ps.i++
			ps.expect("(")
			c := ps.parseExpr()
			ps.expect(")")
			ps.expect(";")
			return &whileStmt{p: t.p, c: c, body: body, do: true}
		case "for":
			ps.i++
			ps.expect("(")
			s := &forStmt{p: t.p}
			if !ps.isOp(";") {
				if d := ps.tryDecl(); d != nil {
					s.init = append(s.init, d)
				} else {
					for {
						x := ps.parseExpr()
						s.init = append(s.init, &exprStmt{p: x.at(), x: x})
						if !ps.accept(",") {
							break
						}
					}
				}
			}
			ps.expect(";")
			if !ps.isOp(";") {
				s.cond = ps.parseExpr()
			}
			ps.expect(";")
			if !ps.isOp(")") {
				for {
					s.post = append(s.post, ps.parseExpr())
					if !ps.accept(",") {
						break
					}
				}
			}
			ps.expect(")")
			s.body = ps.parseEmbedded()
			return s
		case "foreach":
			ps.i++
			ps.expect("(")
			if !ps.isKw("var") {
				ps.parseType()
			} else {
				ps.i++
			}
			name := ps.ident().text
			if !ps.isKw("in") {
				ps.errf(ps.tok().p, "expected 'in'")
			}
			ps.i++
			coll := ps.parseExpr()
			ps.expect(")")
			return &foreachStmt{p: t.p, name: name, coll: coll, body: ps.parseEmbedded()}
		case "switch":
			return ps.parseSwitch()
		case "try":
			ps.i++
			s := &tryStmt{p: t.p, body: ps.parseBlock()}
			for ps.isKw("catch") {
				ps.i++
				var c catchClause
				if ps.accept("(") {
					c.t = ps.parseType()
					if ps.tok().kind == tIdent {
						c.name = ps.ident().text
					}
					ps.expect(")")
				}
				if ps.isKw("when") {
					ps.i++
					ps.expect("(")
					c.when = ps.parseExpr()
					ps.expect(")")
				}
				c.body = ps.parseBlock()
				s.catches = append(s.catches, c)
			}
			if ps.isKw("finally") {
				ps.i++
				s.finally = ps.parseBlock()
			}
			if len(s.catches) == 0 && s.finally == nil {
				ps.errf(ps.tok().p, "expected catch or finally")
			}
			return s
		case "throw":
			ps.i++
			s := &throwStmt{p: t.p}
			if !ps.isOp(";") {
				s.x = ps.parseExpr()
			}
			ps.expect(";")
			return s
		case "return":
			ps.i++
			s := &returnStmt{p: t.p}
			if !ps.isOp(";") {
				s.x = ps.parseExpr()
			}
			ps.expect(";")
			return s
		case "break", "continue":
			ps.i++
			ps.expect(";")
			return &jumpStmt{p: t.p, kind: t.text}
		case "checked", "unchecked":
			if ps.peek(1).kind == tOp && ps.peek(1).text == "{" {
				ps.i++
				return ps.parseBlock()
			}
		case "using":
			ps.i++
			if ps.accept("(") {
				var first stmt
				if d := ps.tryDecl(); d != nil {
					first = d
				} else {
					x := ps.parseExpr()
					first = &exprStmt{p: x.at(), x: &assignNode{p: x.at(), op: "discard", l: x, r: x}}
				}
				ps.expect(")")
				body := ps.parseEmbedded()
				return &blockStmt{p: t.p, stmts: []stmt{first, body}}
			}
			if d := ps.tryDecl(); d != nil {
				ps.expect(";")
				return d
			}
			ps.errf(t.p, "using directives are not allowed in policy expressions; write fully qualified or allow-listed type names")
		case "class", "goto", "lock", "yield", "fixed", "unsafe":
			ps.errf(t.p, "'%s' statements are not supported in policy expressions", t.text)
		}
		if d := ps.tryDecl(); d != nil {
			ps.expect(";")
			return d
		}
	}
	x := ps.parseExpr()
	switch x.(type) {
	case *assignNode, *callNode, *postfixNode, *newNode:
	case *unaryNode:
		if u := x.(*unaryNode); u.op != "++" && u.op != "--" {
			ps.errf(x.at(), "only assignment, call, increment, decrement and new object expressions can be used as a statement")
		}
	case *chainNode:
	default:
		ps.errf(x.at(), "only assignment, call, increment, decrement and new object expressions can be used as a statement")
	}
	ps.expect(";")
	return &exprStmt{p: x.at(), x: x}
}

// tryDecl parses "var x = e" or "T x [= e], y [= e]" without the semicolon.
func (ps *parser) tryDecl() stmt {
	t := ps.tok()
	save := ps.i
	var tr *typeRef
	if t.kind == tIdent && t.text == "var" && ps.peek(1).kind == tIdent {
		ps.i++
	} else {
		tr = ps.tryType(true)
		if tr == nil || ps.tok().kind != tIdent || keywords[ps.tok().text] {
			ps.i = save
			return nil
		}
		nx := ps.peek(1)
		if !(nx.kind == tOp && (nx.text == "=" || nx.text == ";" || nx.text == ",")) && !(nx.kind == tIdent && nx.text == "in") {
			ps.i = save
			return nil
		}
	}
	d := &declStmt{p: t.p, t: tr}
	for {
		name := ps.ident()
		d.names = append(d.names, name.text)
		var init node
		if ps.accept("=") {
			if ps.isOp("{") && tr != nil && tr.array > 0 {
				init = &newNode{p: ps.tok().p, t: &typeRef{name: tr.name, args: tr.args, array: tr.array - 1, p: tr.p}, isArray: true, init: ps.parseInit(), hasInit: true}
			} else {
				init = ps.parseExpr()
			}
		} else if tr == nil {
			ps.errf(name.p, "implicitly-typed variables must be initialized")
		}
		d.inits = append(d.inits, init)
		if !ps.accept(",") {
			break
		}
	}
	return d
}

func (ps *parser) parseSwitch() stmt {
	t := ps.tok()
	ps.i++
	ps.expect("(")
	x := ps.parseExpr()
	ps.expect(")")
	ps.expect("{")
	s := &switchStmt{p: t.p, x: x}
	for !ps.isOp("}") {
		var c switchCase
		for {
			if ps.isKw("case") {
				ps.i++
				c.labels = append(c.labels, ps.parseExpr())
				ps.expect(":")
			} else if ps.isKw("default") && ps.peek(1).kind == tOp && ps.peek(1).text == ":" {
				ps.i += 2
				c.isDef = true
			} else {
				break
			}
		}
		if len(c.labels) == 0 && !c.isDef {
			ps.errf(ps.tok().p, "expected 'case' or 'default' but found %s", describe(ps.tok()))
		}
		for !ps.isKw("case") && !(ps.isKw("default") && ps.peek(1).kind == tOp && ps.peek(1).text == ":") && !ps.isOp("}") {
			if ps.tok().kind == tEOF {
				ps.errf(ps.tok().p, "expected '}'")
			}
			c.body = append(c.body, ps.parseStmt())
		}
		s.cases = append(s.cases, c)
	}
	ps.i++
	return s
}
