// Package expr compiles and evaluates the C# policy expressions of APIM policy
// documents: "@(expression)" and "@{ statements }".
//
// It is an interpreter for the subset of C# that APIM documents, over a
// `context` object (the Context interface, implemented by the gateway) and an
// allow-list of .NET types and members (string, Convert, Encoding, DateTime,
// TimeSpan, Guid, Math, Regex, Uri, WebUtility, Newtonsoft JObject/JArray/JToken,
// XDocument/XElement, LINQ, collections, hashing and HMAC). There is no way to
// reach anything outside the allow-list: no files, network, processes,
// reflection or environment.
//
// Life of an expression:
//
//	p, err := expr.Compile(src, line, col) // once, when the policy document is saved or the snapshot built
//	v, err := p.Eval(ctx, &expr.Limits{})   // per request, concurrently from many goroutines
//
// Compile parses and checks the whole expression (unknown names, types, members
// and syntax errors are reported as *Error with the document line and column)
// and turns it into a tree of Go closures; Eval does no parsing and no
// reflection. A Program is immutable and safe for concurrent use.
//
// Every evaluation runs under a step budget and a memory budget (Limits). A
// step stands for a simple statement; operations over strings, byte arrays
// and collections are charged by the size of what they touch (see
// BytesPerStep), so that the step budget bounds CPU time, not only the
// number of statements. An evaluation also stops when Limits.Context is
// cancelled or its deadline passes. A runtime error (a C# exception that the
// expression does not catch), an exceeded budget or a cancellation is
// returned as *EvalError; the policy engine reports it with
// LastError.Reason = ReasonEvaluationFailure.
//
// Source layout: each bound .NET type has one file, type_<name>.go, that
// registers its members (type_string.go: System.String, type_datetime.go:
// DateTime, type_jobject.go: JObject, type_jtoken.go: the members every JSON
// token shares, type_irequest.go: context.Request (IRequest),
// type_enumerable.go: the LINQ methods, type_enums.go: the enum types). A
// file registers its type through a typeDef (tables.go), giving each member
// a signature next to its implementation: its result type and the argument
// counts of its overloads (see sig in types.go). lib_*.go hold the
// algorithms the members share (formatting, date parsing, JSON and XML
// trees, regular expressions, hashing); lexer.go, parser.go, compile.go and
// stmt.go the compiler.
package expr

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
)

// ReasonEvaluationFailure is the LastError.Reason that the policy engine uses
// when an expression fails at run time.
const ReasonEvaluationFailure = "ExpressionValueEvaluationFailure"

// Error is a compile-time error: a syntax error, an unknown name, type or member.
// Line and Col are relative to the policy document (see Compile).
type Error struct {
	Line, Col int
	Msg       string
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// EvalError is a run-time failure of an expression: an uncaught C# exception
// (Exception names its type, e.g. "NullReferenceException"), an exceeded
// budget (Exception is "StepBudgetExceeded" or "MemoryBudgetExceeded") or a
// cancellation (Exception is "OperationCanceledException", and Unwrap gives
// the context's error: context.Canceled or context.DeadlineExceeded). Line
// and Col locate the failing construct in the policy document.
type EvalError struct {
	Exception string
	Msg       string
	Line, Col int
	// Cause is the context's error when Limits.Context stopped the evaluation.
	Cause error
}

// Unwrap returns Cause.
func (e *EvalError) Unwrap() error { return e.Cause }

func (e *EvalError) Error() string {
	return fmt.Sprintf("%d:%d: expression evaluation failed: %s: %s", e.Line, e.Col, e.Exception, e.Msg)
}

// Reason is the LastError.Reason for this failure.
func (e *EvalError) Reason() string { return ReasonEvaluationFailure }

// Limits bound one evaluation. The zero value (or a nil *Limits) means the
// defaults. Limits are read, never modified, by Eval.
type Limits struct {
	// MaxSteps bounds the work of the evaluation: one step per statement,
	// loop iteration, member access, method call and lambda invocation, plus
	// steps for the bytes and elements each operation touches (see
	// BytesPerStep). Default DefaultMaxSteps.
	MaxSteps int
	// MaxMemory bounds the bytes of strings, arrays and JSON/XML built by the
	// expression (an estimate, not the Go heap). Default 16 MiB.
	MaxMemory int64
	// Now, when set, replaces the clock behind DateTime.UtcNow/Now and
	// DateTimeOffset.UtcNow/Now (for tests).
	Now func() time.Time
	// Context, when set, is the request's context: the evaluation stops
	// with an OperationCanceledException *EvalError once it is cancelled or
	// its deadline passes. It is checked every CheckEvery steps, so an
	// operation cannot run longer than the time CheckEvery steps take
	// after the context ends. It is not checked before the first step:
	// on-error may still run a short expression after a timeout.
	Context context.Context
	// Shared, when set, is a budget shared with other evaluations (those of
	// one request): the evaluation may use no more than its Steps, which it
	// reduces by the steps it used. Eval modifies it: evaluations sharing
	// it must not run concurrently.
	Shared *Budget
}

// Budget is a step allowance shared by several evaluations.
type Budget struct {
	Steps int
}

// Default limits.
const (
	// DefaultMaxSteps is the step budget: about 50 to 150 ms of CPU on a
	// 2.6 GHz server core, whatever the expression does.
	DefaultMaxSteps  = 1000000
	DefaultMaxMemory = 16 << 20
)

// Costs. An operation is charged one step, plus one step per BytesPerStep
// bytes of the strings and byte arrays it receives and returns (C# string
// members work in UTF-16 indices, which Portico computes by scanning the
// string), plus one step per ElementsPerStep elements of a collection it
// enumerates. Regular expressions, and JSON and XML parsing and writing,
// cost more per byte. Allocations charged to the memory budget are also
// charged at BytesPerStep.
const (
	BytesPerStep    = 64
	ElementsPerStep = 4
	// regexBytesPerStep, jsonBytesPerStep: the costlier per-byte work of
	// regular expressions and of parsing and writing JSON and XML.
	regexBytesPerStep = 2
	jsonBytesPerStep  = 2
	// CheckEvery is how often, in steps, an evaluation checks its context.
	CheckEvery = 1024
)

// Program is a compiled expression. It is immutable and safe for concurrent use.
type Program struct {
	src          string
	line, col    int
	block        bool
	expr         evalFn
	body         execFn
	nlocals      int
	usesReqBody  bool
	usesRespBody bool
}

// IsExpression reports whether s is a policy expression: it starts with "@("
// or "@{" (after leading white space).
func IsExpression(s string) bool {
	s = strings.TrimLeft(s, " \t\r\n")
	return strings.HasPrefix(s, "@(") || strings.HasPrefix(s, "@{")
}

// Compile parses and checks one expression. src is the text as it appears in
// the document, "@(...)" or "@{...}" (leading and trailing white space is
// ignored); line and col (1-based) say where src starts in the document, so
// that errors, returned as *Error, are reported relative to the document.
func Compile(src string, line, col int) (p *Program, err error) {
	return compile(src, line, col, nil)
}

// compile is Compile, with a tracer in tests.
func compile(src string, line, col int, tr *tracer) (p *Program, err error) {
	tablesOnce.Do(buildTables)
	if line < 1 {
		line = 1
	}
	if col < 1 {
		col = 1
	}
	defer func() {
		if r := recover(); r != nil {
			if ce, ok := r.(*Error); ok {
				p, err = nil, ce
				return
			}
			if _, ok := r.(runtime.Error); ok {
				p, err = nil, &Error{Line: line, Col: col, Msg: fmt.Sprintf("internal compiler error: %v", r)}
				return
			}
			panic(r)
		}
	}()
	start := pos{int32(line), int32(col)}
	trimmed := strings.TrimLeft(src, " \t\r\n")
	// account for skipped leading white space
	for _, ch := range src[:len(src)-len(trimmed)] {
		if ch == '\n' {
			start.line++
			start.col = 1
		} else {
			start.col++
		}
	}
	trimmed = strings.TrimRight(trimmed, " \t\r\n")
	if !strings.HasPrefix(trimmed, "@(") && !strings.HasPrefix(trimmed, "@{") {
		return nil, &Error{Line: int(start.line), Col: int(start.col), Msg: `an expression must start with "@(" or "@{"`}
	}
	start.col++ // past '@'
	toks := lex(trimmed[1:], start)
	ps := &parser{toks: toks, src: trimmed}
	prog := &Program{src: src, line: line, col: col}
	c := &compiler{anonNames: anonMembers(toks), trace: tr}
	c.push()
	if trimmed[1] == '(' {
		ps.expect("(")
		x := ps.parseExpr()
		if l, ok := x.(*lambdaNode); ok {
			ps.errf(l.p, "a lambda expression cannot be the value of a policy expression")
		}
		ps.expect(")")
		if ps.tok().kind != tEOF {
			ps.errf(ps.tok().p, "unexpected %s after the expression", describe(ps.tok()))
		}
		c.assigned = ps.assigned
		f := c.expr(x)
		prog.expr = func(e *env) Value {
			v := f(e)
			if v == chainStop {
				return nil
			}
			return v
		}
	} else {
		prog.block = true
		b := ps.parseBlock()
		if ps.tok().kind != tEOF {
			ps.errf(ps.tok().p, "unexpected %s after the block", describe(ps.tok()))
		}
		c.assigned = ps.assigned
		prog.body = c.block(b, false)
	}
	prog.nlocals = c.nslots
	prog.usesReqBody = c.usesReqBody
	prog.usesRespBody = c.usesRespBody
	return prog, nil
}

// MustCompile is Compile for tests and constant expressions; it panics on error.
func MustCompile(src string) *Program {
	p, err := Compile(src, 1, 1)
	if err != nil {
		panic(err)
	}
	return p
}

// Source is the text the program was compiled from.
func (p *Program) Source() string { return p.src }

// UsesRequestBody reports whether the expression may read context.Request.Body
// (so the engine buffers the request body only when needed).
func (p *Program) UsesRequestBody() bool { return p.usesReqBody }

// UsesResponseBody reports whether the expression may read context.Response.Body.
func (p *Program) UsesResponseBody() bool { return p.usesRespBody }

// env is the state of one evaluation.
type env struct {
	ctx      Context
	locals   []Value
	stack    []Value
	ret      Value
	steps    int
	limit    int // the step count past which step takes the slow path (budget or context check)
	maxSteps int
	shared   *Budget // Limits.Shared
	ownMax   int     // the evaluation's own budget, when Shared lowered maxSteps
	mem      int64
	maxMem   int64
	cctx     context.Context // Limits.Context
	pos      pos
	caught   *csException
	now      func() time.Time
	depth    int
}

var envPool = sync.Pool{New: func() any { return &env{stack: make([]Value, 0, 16)} }}

// step charges one step.
func (e *env) step() {
	e.steps++
	if e.steps > e.limit {
		e.checkpoint()
	}
}

// work charges n steps.
func (e *env) work(n int) {
	if n <= 0 {
		return
	}
	if n > e.maxSteps { // keeps e.steps from overflowing
		n = e.maxSteps + 1
	}
	e.steps += n
	if e.steps > e.limit {
		e.checkpoint()
	}
}

// touch charges for n bytes of strings or byte arrays scanned or copied.
func (e *env) touch(n int) {
	if n >= BytesPerStep {
		e.work(n / BytesPerStep)
	}
}

// elements charges for n elements of a collection enumerated.
func (e *env) elements(n int) {
	if n >= ElementsPerStep {
		e.work(n / ElementsPerStep)
	}
}

// touchArgs charges a call for the strings and byte arrays it receives
// (recv may be nil), and for the JSON tokens it may copy.
func (e *env) touchArgs(recv Value, args []Value) {
	n := sizeOf(recv)
	for _, a := range args {
		switch x := a.(type) {
		case string:
			n += len(x)
		case []byte:
			n += len(x)
		case *JObject, *JArray, *JProperty, *JValue:
			e.chargeAdopt(x)
		}
	}
	e.touch(n)
}

// chargeAdopt charges for copying v when it is a JSON token that already
// has a parent: adding it to an object or array copies it whole, as in
// Newtonsoft.
func (e *env) chargeAdopt(v Value) {
	if t, ok := v.(jtoken); ok && t.parentTok() != nil {
		n := nodeCount(t, 0)
		e.work(n)
		e.alloc(32 * n)
	}
}

// chargeResult charges a call for the string or byte array it returns, or
// one step per element of the list it returns.
func (e *env) chargeResult(v Value) {
	switch x := v.(type) {
	case string:
		e.touch(len(x))
	case []byte:
		e.touch(len(x))
	case *List: // each element was boxed and stored
		e.work(len(x.Items))
	}
}

// sizeOf is the size in bytes of a string or byte array, which an
// operation on it reads whole; 0 for other values.
func sizeOf(v Value) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case []byte:
		return len(x)
	}
	return 0
}

// checkpoint runs when the step count passes e.limit: it enforces the step
// budget, checks the context and sets the next limit.
func (e *env) checkpoint() {
	if e.steps > e.maxSteps {
		msg := fmt.Sprintf("the expression exceeded its budget of %d steps", e.maxSteps)
		if e.maxSteps < e.ownMax {
			msg = "the request's expressions exceeded their shared budget of steps"
		}
		panic(&budgetError{kind: "StepBudgetExceeded", msg: msg})
	}
	if e.cctx != nil {
		if err := e.cctx.Err(); err != nil {
			panic(&budgetError{kind: "OperationCanceledException", cause: err,
				msg: "the evaluation was stopped: " + cancelReason(err)})
		}
	}
	e.setLimit()
}

func (e *env) setLimit() {
	e.limit = e.maxSteps
	if e.cctx != nil && e.steps+CheckEvery < e.limit {
		e.limit = e.steps + CheckEvery
	}
}

func cancelReason(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "the request's time ran out"
	}
	return "the request was cancelled"
}

// alloc charges n bytes against the memory budget, and the steps of
// writing them.
func (e *env) alloc(n int) {
	e.mem += int64(n)
	if e.mem > e.maxMem {
		panic(&budgetError{kind: "MemoryBudgetExceeded", msg: fmt.Sprintf("the expression exceeded its memory budget of %d bytes", e.maxMem)})
	}
	e.touch(n)
}

func (e *env) clock() time.Time {
	if e.now != nil {
		return e.now()
	}
	return time.Now()
}

// budgetError stops an evaluation; try/catch cannot catch it.
type budgetError struct {
	kind, msg string
	cause     error // the context's error for a cancellation
}

// csException is a thrown C# exception; it is also the value bound by catch.
type csException struct {
	typ       string
	msg       string
	inner     *csException
	line, col int32
}

func (x *csException) Error() string { return x.typ + ": " + x.msg }

// is reports whether the exception matches a catch clause of type typ.
func (x *csException) is(typ string) bool {
	if typ == "Exception" || typ == x.typ {
		return true
	}
	switch typ {
	case "SystemException":
		return x.typ != "Exception"
	case "ArgumentException":
		return x.typ == "ArgumentNullException" || x.typ == "ArgumentOutOfRangeException"
	case "FormatException":
		return x.typ == "UriFormatException"
	case "JsonException":
		return x.typ == "JsonReaderException" || x.typ == "JsonSerializationException"
	case "ArithmeticException":
		return x.typ == "DivideByZeroException" || x.typ == "OverflowException"
	case "InvalidOperationException":
		return x.typ == "ObjectDisposedException"
	}
	return false
}

func throwf(typ, format string, args ...any) {
	panic(&csException{typ: typ, msg: sprintf(format, args...)})
}

// asException converts a recovered panic into a C# exception, or nil for
// panics that are not catchable (budgets).
func asException(r any) *csException {
	switch x := r.(type) {
	case *csException:
		return x
	case *budgetError:
		return nil
	case runtime.Error:
		msg := x.Error()
		switch {
		case strings.Contains(msg, "index out of range"):
			return &csException{typ: "IndexOutOfRangeException", msg: "Index was outside the bounds of the array."}
		case strings.Contains(msg, "nil pointer"), strings.Contains(msg, "nil map"):
			return &csException{typ: "NullReferenceException", msg: "Object reference not set to an instance of an object."}
		case strings.Contains(msg, "divide by zero"):
			return &csException{typ: "DivideByZeroException", msg: "Attempted to divide by zero."}
		}
		return &csException{typ: "Exception", msg: msg}
	case error:
		return &csException{typ: "Exception", msg: x.Error()}
	}
	return &csException{typ: "Exception", msg: fmt.Sprint(r)}
}

// Eval evaluates the program against ctx (which may be nil when the expression
// does not use `context`). A failure is returned as *EvalError. The returned
// Value belongs to the caller.
func (p *Program) Eval(ctx Context, opts *Limits) (v Value, err error) {
	e := envPool.Get().(*env)
	e.ctx = ctx
	e.maxSteps, e.maxMem, e.now, e.cctx = DefaultMaxSteps, DefaultMaxMemory, nil, nil
	if opts != nil {
		if opts.MaxSteps > 0 {
			e.maxSteps = opts.MaxSteps
		}
		if opts.MaxMemory > 0 {
			e.maxMem = opts.MaxMemory
		}
		e.now = opts.Now
		e.cctx = opts.Context
		if s := opts.Shared; s != nil {
			e.shared, e.ownMax = s, e.maxSteps
			e.maxSteps = min(e.maxSteps, max(s.Steps, 0))
		}
	}
	e.setLimit()
	if cap(e.locals) >= p.nlocals {
		e.locals = e.locals[:p.nlocals]
	} else {
		e.locals = make([]Value, p.nlocals)
	}
	e.pos = pos{int32(p.line), int32(p.col)}
	defer func() {
		if r := recover(); r != nil {
			v = nil
			err = toEvalError(e, r)
			clear(e.stack[:cap(e.stack)]) // calls clear their arguments on normal return only
			e.stack = e.stack[:0]
		}
		if len(e.locals) > 0 {
			clear(e.locals)
		}
		if e.shared != nil {
			e.shared.Steps -= min(e.steps, e.maxSteps)
			e.shared, e.ownMax = nil, 0
		}
		e.ctx, e.ret, e.caught, e.steps, e.mem, e.now, e.depth, e.cctx = nil, nil, nil, 0, 0, nil, 0, nil
		envPool.Put(e)
	}()
	if p.expr != nil {
		return p.expr(e), nil
	}
	if p.body(e) == ctlReturn {
		return e.ret, nil
	}
	return nil, nil
}

func toEvalError(e *env, r any) *EvalError {
	line, col := int(e.pos.line), int(e.pos.col)
	if b, ok := r.(*budgetError); ok {
		return &EvalError{Exception: b.kind, Msg: b.msg, Line: line, Col: col, Cause: b.cause}
	}
	ex := asException(r)
	if ex.line > 0 {
		line, col = int(ex.line), int(ex.col)
	}
	return &EvalError{Exception: ex.typ, Msg: ex.msg, Line: line, Col: col}
}

// EvalString evaluates the program and converts the result to a string as
// C# Convert.ToString does under the invariant culture (null gives "").
func (p *Program) EvalString(ctx Context, opts *Limits) (string, error) {
	v, err := p.Eval(ctx, opts)
	if err != nil {
		return "", err
	}
	return ToString(v), nil
}

// EvalBool evaluates the program and requires a bool result (as APIM does for
// conditions); any other result is an *EvalError.
func (p *Program) EvalBool(ctx Context, opts *Limits) (bool, error) {
	v, err := p.Eval(ctx, opts)
	if err != nil {
		return false, err
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case *JValue:
		if bb, ok := b.plain().(bool); ok {
			return bb, nil
		}
	}
	return false, &EvalError{Exception: "InvalidCastException", Msg: fmt.Sprintf("the expression must return a bool, not %s", typeName(v)), Line: p.line, Col: p.col}
}

// ToString converts a Value to its C# string form (invariant culture); null
// gives "". JSON tokens give their indented JSON text, as JToken.ToString().
func ToString(v Value) string { return toStr(v) }

// IsEvalError reports whether err is (or wraps) an *EvalError.
func IsEvalError(err error) bool {
	var ee *EvalError
	return errors.As(err, &ee)
}

// anonMembers collects the member names declared by anonymous object creations
// ("new { Name = ... }"), which member accesses may then use.
func anonMembers(toks []token) map[string]bool {
	names := map[string]bool{}
	for i := 0; i+1 < len(toks); i++ {
		if toks[i].kind == tIdent && toks[i].text == "new" && toks[i+1].kind == tOp && toks[i+1].text == "{" {
			depth := 0
			for j := i + 1; j < len(toks); j++ {
				t := toks[j]
				if t.kind == tOp && (t.text == "{" || t.text == "(" || t.text == "[") {
					depth++
				} else if t.kind == tOp && (t.text == "}" || t.text == ")" || t.text == "]") {
					depth--
					if depth == 0 {
						break
					}
				} else if depth == 1 && t.kind == tIdent && j+1 < len(toks) && toks[j+1].kind == tOp && toks[j+1].text == "=" {
					names[t.text] = true
				} else if depth == 1 && t.kind == tIdent && j+1 < len(toks) && toks[j+1].kind == tOp && (toks[j+1].text == "," || toks[j+1].text == "}") {
					names[t.text] = true
				}
			}
		}
	}
	names["Item1"], names["Item2"] = true, true
	return names
}

// JSON renders a JSON token as Newtonsoft's ToString(Formatting.Indented)
// (indent true) or ToString(Formatting.None). It returns "" for other values.
func JSON(v Value, indent bool) string {
	if t, ok := v.(jtoken); ok {
		return jsonString(t, indent)
	}
	return ""
}

// FormatValue is v.ToString(format) under the invariant culture.
func FormatValue(v Value, format string) (s string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = toEvalError(&env{}, r)
		}
	}()
	return formatValue(v, format), nil
}
