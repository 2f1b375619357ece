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
// runtime error (a C# exception that the expression does not catch) or an
// exceeded budget is returned as *EvalError; the policy engine reports it with
// LastError.Reason = ReasonEvaluationFailure.
package expr

import (
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
// (Exception names its type, e.g. "NullReferenceException") or an exceeded
// budget (Exception is "StepBudgetExceeded" or "MemoryBudgetExceeded"). Line
// and Col locate the failing construct in the policy document.
type EvalError struct {
	Exception string
	Msg       string
	Line, Col int
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("%d:%d: expression evaluation failed: %s: %s", e.Line, e.Col, e.Exception, e.Msg)
}

// Reason is the LastError.Reason for this failure.
func (e *EvalError) Reason() string { return ReasonEvaluationFailure }

// Limits bound one evaluation. The zero value (or a nil *Limits) means the
// defaults. Limits are read, never modified, by Eval.
type Limits struct {
	// MaxSteps bounds statements executed, loop iterations, method calls and
	// lambda invocations. Default 100000.
	MaxSteps int
	// MaxMemory bounds the bytes of strings, arrays and JSON/XML built by the
	// expression (an estimate, not the Go heap). Default 16 MiB.
	MaxMemory int64
	// Now, when set, replaces the clock behind DateTime.UtcNow/Now and
	// DateTimeOffset.UtcNow/Now (for tests).
	Now func() time.Time
}

// Default limits.
const (
	DefaultMaxSteps  = 100000
	DefaultMaxMemory = 16 << 20
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
	c := &compiler{anonNames: anonMembers(toks)}
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
	maxSteps int
	mem      int64
	maxMem   int64
	pos      pos
	caught   *csException
	now      func() time.Time
	depth    int
}

var envPool = sync.Pool{New: func() any { return &env{stack: make([]Value, 0, 16)} }}

func (e *env) step() {
	e.steps++
	if e.steps > e.maxSteps {
		panic(&budgetError{kind: "StepBudgetExceeded", msg: fmt.Sprintf("the expression exceeded its budget of %d steps", e.maxSteps)})
	}
}

// alloc charges n bytes against the memory budget.
func (e *env) alloc(n int) {
	e.mem += int64(n)
	if e.mem > e.maxMem {
		panic(&budgetError{kind: "MemoryBudgetExceeded", msg: fmt.Sprintf("the expression exceeded its memory budget of %d bytes", e.maxMem)})
	}
}

func (e *env) clock() time.Time {
	if e.now != nil {
		return e.now()
	}
	return time.Now()
}

type budgetError struct{ kind, msg string }

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
	e.maxSteps, e.maxMem, e.now = DefaultMaxSteps, DefaultMaxMemory, nil
	if opts != nil {
		if opts.MaxSteps > 0 {
			e.maxSteps = opts.MaxSteps
		}
		if opts.MaxMemory > 0 {
			e.maxMem = opts.MaxMemory
		}
		e.now = opts.Now
	}
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
		e.ctx, e.ret, e.caught, e.steps, e.mem, e.now, e.depth = nil, nil, nil, 0, 0, nil, 0
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
		return &EvalError{Exception: b.kind, Msg: b.msg, Line: line, Col: col}
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
