package gateway

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/portico-gw/portico/internal/policy"
)

// The gateway's own errors. They are *policy.Error values, the one error
// model of request handling (internal/policy/errors.go): the reasons and
// sources are policy's, and policy.WriteError answers with them.

// Client-facing messages, worded as APIM words them where APIM has them.
const (
	msgNotFound   = "Resource not found"
	msgMissingKey = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."
	msgInvalidKey = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
	msgBadGateway = "Bad gateway: the backend service could not be reached."
	msgTimeout    = "Gateway timeout: the backend service did not respond in time."
	msgNotReady   = "Service unavailable: the gateway has not loaded its configuration yet."
	msgInternal   = "Internal server error"
	msgClientGone = "client closed the request"
)

func errAPINotFound() *policy.Error {
	return &policy.Error{Status: http.StatusNotFound, Reason: policy.ReasonAPINotFound, Message: msgNotFound, Source: policy.SourceConfiguration, Section: policy.SectionInbound}
}

func errOperationNotFound() *policy.Error {
	return &policy.Error{Status: http.StatusNotFound, Reason: policy.ReasonOperationNotFound, Message: msgNotFound, Source: policy.SourceConfiguration, Section: policy.SectionInbound}
}

func errMissingKey() *policy.Error {
	return &policy.Error{Status: http.StatusUnauthorized, Reason: policy.ReasonSubscriptionKeyNotFound, Message: msgMissingKey, Source: policy.SourceAuthorization, Section: policy.SectionInbound}
}

func errInvalidKey() *policy.Error {
	return &policy.Error{Status: http.StatusUnauthorized, Reason: policy.ReasonSubscriptionKeyInvalid, Message: msgInvalidKey, Source: policy.SourceAuthorization, Section: policy.SectionInbound}
}

func errNotReady() *policy.Error {
	return &policy.Error{Status: http.StatusServiceUnavailable, Reason: policy.ReasonGatewayNotReady, Message: msgNotReady, Source: policy.SourceGateway, Section: policy.SectionInbound}
}

func errPolicyNotCompiled(err error) *policy.Error {
	return &policy.Error{Status: http.StatusInternalServerError, Reason: policy.ReasonPolicyConfigurationError, Message: msgInternal, Err: err, Source: policy.SourceConfiguration, Section: policy.SectionInbound}
}

func errBodyTooLarge(limit int64, cause error) *policy.Error {
	return &policy.Error{Status: http.StatusRequestEntityTooLarge, Reason: policy.ReasonRequestEntityTooLarge, Source: policy.SourceRequest, Section: policy.SectionInbound,
		Message: fmt.Sprintf("Request entity too large: the request body exceeds the limit of %d bytes for this API.", limit), Err: cause}
}

// errEncodedSlash refuses an encoded slash or backslash in the path of an
// API that does not allow them (snapshot.CompiledAPI.AllowEncodedSlashes).
var errEncodedSlash = errors.New("the request path holds an encoded slash or backslash, which this API does not allow")

// errBadPath refuses a request path that cannot be normalised safely
// (router.CleanPath); cause is shown to the client.
func errBadPath(cause error) *policy.Error {
	return &policy.Error{Status: http.StatusBadRequest, Reason: policy.ReasonInvalidRequestPath, Source: policy.SourceRequest, Section: policy.SectionInbound,
		Message: "Bad request: " + cause.Error() + ".", Err: cause}
}

func errHeadersTooLarge(limit int) *policy.Error {
	return &policy.Error{Status: http.StatusRequestHeaderFieldsTooLarge, Reason: policy.ReasonRequestHeaderFieldsTooLarge, Source: policy.SourceRequest, Section: policy.SectionInbound,
		Message: fmt.Sprintf("Request header fields too large: the request line and headers exceed the limit of %d bytes.", limit)}
}
