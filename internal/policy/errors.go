package policy

import (
	"net/http"
	"strconv"
	"unicode/utf8"
)

// The error model of request handling, one for the whole data plane.
//
// Every way a request can fail — a route that does not match, a missing
// subscription key, a policy that rejects it, a backend that cannot be
// reached, a client that goes away — is an *Error: the status and message
// the client gets, a stable Reason (APIM's name where APIM has one), and
// where it arose (Source, Section, and for policies Path and PolicyID), as
// APIM's context.LastError reports it. The gateway's own stages and the
// policy runner fill the same type; Context.LastError, the gateway's
// Request.Err, request records, debugger traces and spans all read it.
//
// It lives in this package because the gateway imports policy (never the
// reverse): both build and read it without an import cycle. ErrorBody and
// WriteError are the one writer of its client-facing form.

// Reasons (Error.Reason), as APIM names them where APIM has the error. They
// are recorded in request records, traces and spans and read by policies
// as context.LastError.Reason: never rename one.
const (
	// The request could not be routed or authorised.
	ReasonAPINotFound             = "ApiNotFound"
	ReasonOperationNotFound       = "OperationNotFound"
	ReasonSubscriptionKeyNotFound = "SubscriptionKeyNotFound"
	ReasonSubscriptionKeyInvalid  = "SubscriptionKeyInvalid"

	// The request itself is refused.
	ReasonRequestEntityTooLarge       = "RequestEntityTooLarge"
	ReasonRequestHeaderFieldsTooLarge = "RequestHeaderFieldsTooLarge"
	ReasonInvalidRequestPath          = "InvalidRequestPath"
	ReasonRequestFramingInvalid       = "RequestFramingInvalid"
	ReasonRequestBodyTimeout          = "RequestBodyTimeout"
	ReasonRequestBodyMalformed        = "RequestBodyMalformed"

	// The gateway cannot serve the request.
	ReasonGatewayNotReady          = "GatewayNotReady"
	ReasonPolicyConfigurationError = "PolicyConfigurationError"

	// Forwarding failed.
	ReasonBackendConnectionFailure = "BackendConnectionFailure"
	ReasonTimeout                  = "Timeout"
	ReasonClientConnectionFailure  = "ClientConnectionFailure"
	ReasonBackendErrorStatusCode   = "BackendErrorStatusCode"

	// A policy failed or rejected the request.
	ReasonExpressionValueEvaluation = "ExpressionValueEvaluationFailure"
	ReasonInvalidRequestBody        = "InvalidRequestBody"
	ReasonInvalidResponseBody       = "InvalidResponseBody"
	ReasonRateLimitExceeded         = "RateLimitExceeded"
	ReasonQuotaExceeded             = "QuotaExceeded"
	ReasonConcurrencyLimitExceeded  = "ConcurrencyLimitExceeded"
	ReasonCallerIPNotAllowed        = "CallerIpNotAllowed"
	ReasonHeaderNotFound            = "HeaderNotFound"
	ReasonHeaderValueNotAllowed     = "HeaderValueNotAllowed"
	ReasonTokenNotPresent           = "TokenNotPresent"
	ReasonTokenSchemeNotAllowed     = "TokenSchemeNotAllowed"
	ReasonTokenInvalid              = "TokenInvalid"
	ReasonTokenSignatureInvalid     = "TokenSignatureInvalid"
	ReasonTokenAudienceNotAllowed   = "TokenAudienceNotAllowed"
	ReasonTokenIssuerNotAllowed     = "TokenIssuerNotAllowed"
	ReasonTokenExpired              = "TokenExpired"
	ReasonTokenNotYetValid          = "TokenNotYetValid"
	ReasonTokenClaimNotFound        = "TokenClaimNotFound"
	ReasonTokenClaimValueNotAllowed = "TokenClaimValueNotAllowed"
)

// Sources of errors raised by the gateway's own stages rather than by a
// policy (a policy's errors have the policy's name as Source).
const (
	SourceConfiguration  = "configuration"
	SourceAuthorization  = "authorization"
	SourceRequest        = "request"
	SourceForwardRequest = "forward-request"
	SourceGateway        = "gateway"
	SourceClient         = "client"
)

// StatusClientClosedRequest is the status recorded (never sent) for a
// request whose client went away before the answer was complete.
const StatusClientClosedRequest = 499

// msgInternal replaces the message of server errors in answers (see
// ClientMessage).
const msgInternal = "Internal server error"

// Error is the one error type of request handling (see the top of this
// file). A policy step fails with one; the runner locates it (Source when
// the step left it empty, Section, Path, PolicyID) and keeps a copy as
// Context.LastError. The gateway's stages fill Source and Section
// themselves.
type Error struct {
	// Status is the HTTP status of the answer; 0 means 500.
	Status int
	// Source is where the error arose: the policy's name ("rate-limit",
	// "forward-request", …) or a gateway stage (the Source* constants).
	Source string
	// Reason is a short stable identifier (the Reason* constants).
	Reason string
	// Message is the client-facing message (see ClientMessage).
	Message string
	// Section is "inbound", "backend", "outbound" or "on-error".
	Section string
	// Path is the failing policy's path in its document (e.g.
	// "inbound/choose/when[2]/set-header"), PolicyID its id attribute;
	// both "" for the gateway's own errors.
	Path     string
	PolicyID string
	// Header adds to the answer's headers (e.g. Retry-After).
	Header http.Header
	// Err is the cause; it is never sent to clients.
	Err error
}

// Error returns the source, reason, message and cause.
func (e *Error) Error() string {
	s := e.Reason + ": " + e.Message
	if e.Source != "" {
		s = e.Source + ": " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// StatusCode is the status of the answer: Status, or 500 when unset.
func (e *Error) StatusCode() int {
	if e.Status == 0 {
		return http.StatusInternalServerError
	}
	return e.Status
}

// ClientMessage is the message the client is shown for e: Message, except
// that server errors other than 502, 503 and 504 say only "Internal server
// error" (their message may describe the configuration).
func (e *Error) ClientMessage() string {
	switch st := e.StatusCode(); {
	case st < 500, st == http.StatusBadGateway, st == http.StatusServiceUnavailable, st == http.StatusGatewayTimeout:
		return e.Message
	}
	return msgInternal
}

// Body is APIM's error document for e: {"statusCode":…,"message":…}.
func (e *Error) Body() []byte { return ErrorBody(e.StatusCode(), e.ClientMessage()) }

// ErrorBody is APIM's error document {"statusCode":…,"message":…}, the
// message escaped as encoding/json escapes strings.
func ErrorBody(status int, message string) []byte {
	b := make([]byte, 0, len(`{"statusCode":000,"message":""}`)+len(message)+8)
	b = append(b, `{"statusCode":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, message)
	return append(b, '}')
}

// WriteError answers w with e: the status, e.Header, and the JSON body as
// application/json with its Content-Length. It is the one writer of error
// answers; the policy runner builds the same answer as a Response
// (setErrorResponse). Nothing must have been written to w yet.
func WriteError(w http.ResponseWriter, e *Error) {
	body := e.Body()
	h := w.Header()
	for k, vs := range e.Header {
		h[k] = vs
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Del("Content-Encoding")
	w.WriteHeader(e.StatusCode())
	_, _ = w.Write(body)
}

// setErrorResponse makes c.Response the answer WriteError would send for
// e.
func setErrorResponse(c *Context, e *Error) {
	c.Response.reset(e.StatusCode())
	for k, vs := range e.Header {
		c.Response.Header[k] = vs
	}
	c.Response.Header.Set("Content-Type", "application/json")
	c.Response.Body.Set(e.Body())
}

// appendJSONString appends s as a JSON string, escaped exactly as
// encoding/json.Marshal escapes it (HTML-safe, invalid UTF-8 replaced),
// without allocating.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
