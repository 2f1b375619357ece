package policy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/policy/expr"
)

// Expression is a compiled policy expression (@(...) or @{...}). It is the
// seam between the engine and the expression interpreter of
// internal/policy/expr: an ExpressionCompiler turns source text into an
// Expression when a document is compiled, and steps evaluate it per request.
// Implementations must be safe for concurrent use.
type Expression interface {
	// Eval returns the value of the expression for the request c.
	Eval(c *Context) (any, error)
	// UsesRequestBody and UsesResponseBody report whether evaluation reads
	// a body, so that the gateway buffers it only when needed.
	UsesRequestBody() bool
	UsesResponseBody() bool
}

// ExpressionCompiler compiles the expression src found at line and column
// of a document. The error message is reported with the location.
type ExpressionCompiler func(src string, line, col int) (Expression, error)

// ErrNoExpressions is returned by NoExpressions for every expression.
var ErrNoExpressions = errors.New("policy expressions are not available in this build of Portico yet")

// NoExpressions is the ExpressionCompiler used until the expression
// interpreter is wired in: it refuses every expression, so a document that
// needs one is refused on save instead of failing per request.
func NoExpressions(string, int, int) (Expression, error) { return nil, ErrNoExpressions }

// DefaultExpressions is the expression compiler snapshots and validation
// use: the interpreter of internal/policy/expr.
func DefaultExpressions() ExpressionCompiler { return ExprExpressions }

// IsExpression reports whether s is a policy expression: it starts with
// "@(" or "@{" (surrounding white space aside), as in APIM. A malformed one
// ("@(1 +") is still an expression, refused when it is compiled.
func IsExpression(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) >= 2 && s[0] == '@' && (s[1] == '(' || s[1] == '{')
}

// Value is an attribute value or element text: a literal or an expression.
// The zero Value is the empty literal.
type Value struct {
	lit  string
	expr Expression
	// src is the text as written, before named values were substituted:
	// what descriptions and errors show, so secrets never leak.
	src string
}

// Literal returns a Value holding s.
func Literal(s string) Value { return Value{lit: s, src: s} }

// IsLiteral reports whether v is not an expression.
func (v Value) IsLiteral() bool { return v.expr == nil }

// Lit returns the literal; "" for expressions.
func (v Value) Lit() string { return v.lit }

// Source returns the text as written in the document.
func (v Value) Source() string { return v.src }

// String evaluates v as a string. A failing expression is an
// ExpressionValueEvaluationFailure.
func (v Value) String(c *Context) (string, error) {
	if v.expr == nil {
		return v.lit, nil
	}
	x, err := v.expr.Eval(c)
	if err != nil {
		return "", exprError(err)
	}
	return toString(x), nil
}

// Bool evaluates v as a boolean ("true"/"false" literals, ignoring case).
func (v Value) Bool(c *Context) (bool, error) {
	if v.expr == nil {
		return strconv.ParseBool(strings.ToLower(strings.TrimSpace(v.lit)))
	}
	x, err := v.expr.Eval(c)
	if err != nil {
		return false, exprError(err)
	}
	switch b := x.(type) {
	case bool:
		return b, nil
	case string:
		if p, err := strconv.ParseBool(strings.ToLower(b)); err == nil {
			return p, nil
		}
	}
	return false, exprError(fmt.Errorf("expression %s returned %T, not a boolean", v.src, x))
}

// Int evaluates v as an integer.
func (v Value) Int(c *Context) (int64, error) {
	if v.expr == nil {
		return strconv.ParseInt(strings.TrimSpace(v.lit), 10, 64)
	}
	x, err := v.expr.Eval(c)
	if err != nil {
		return 0, exprError(err)
	}
	switch n := x.(type) {
	case int:
		return int64(n), nil
	case int32:
		return int64(n), nil
	case int64:
		return n, nil
	case float64:
		return int64(n), nil
	}
	n, err := strconv.ParseInt(toString(x), 10, 64)
	if err != nil {
		return 0, exprError(fmt.Errorf("expression %s returned %v, not an integer", v.src, x))
	}
	return n, nil
}

// Eval evaluates v to its value: the literal string or the expression's result.
func (v Value) Eval(c *Context) (any, error) {
	if v.expr == nil {
		return v.lit, nil
	}
	x, err := v.expr.Eval(c)
	if err != nil {
		return nil, exprError(err)
	}
	return x, nil
}

func exprError(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		// The request's time ran out (--request-timeout) during the
		// expression: a timeout, as when it runs out during forward-request.
		return &Error{Status: http.StatusGatewayTimeout, Reason: ReasonTimeout,
			Message: "Gateway timeout: the request's time ran out while a policy expression was evaluated.", Err: err}
	case errors.Is(err, context.Canceled):
		// The client went away or the gateway is stopping: nobody will
		// read the answer.
		return &Error{Status: StatusClientClosedRequest, Reason: ReasonClientConnectionFailure,
			Message: "The request was cancelled while a policy expression was evaluated.", Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Reason: ReasonExpressionValueEvaluation,
		Message: "Expression evaluation failed. " + err.Error(), Err: err}
}

// toString formats an expression result as C# ToString() would for the
// common types.
func toString(x any) string {
	switch v := x.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		if v {
			return "True"
		}
		return "False"
	case []byte:
		return string(v)
	}
	return expr.ToString(x)
}
