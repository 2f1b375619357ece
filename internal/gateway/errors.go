package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Client-facing messages, worded as APIM words them where APIM has them.
const (
	msgNotFound   = "Resource not found"
	msgMissingKey = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."
	msgInvalidKey = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
	msgBadGateway = "Bad gateway: the backend service could not be reached."
	msgTimeout    = "Gateway timeout: the backend service did not respond in time."
	msgNotReady   = "Service unavailable: the gateway has not loaded its configuration yet."
)

// Reasons recorded in RequestError.Reason.
const (
	ReasonAPINotFound        = "ApiNotFound"
	ReasonOperationNotFound  = "OperationNotFound"
	ReasonKeyNotFound        = "SubscriptionKeyNotFound"
	ReasonKeyInvalid         = "SubscriptionKeyInvalid"
	ReasonBackendConnection  = "BackendConnectionFailure"
	ReasonTimeout            = "Timeout"
	ReasonBodyTooLarge       = "RequestEntityTooLarge"
	ReasonHeadersTooLarge    = "RequestHeaderFieldsTooLarge"
	ReasonNotReady           = "GatewayNotReady"
	ReasonClientDisconnected = "ClientConnectionFailure"
	ReasonInvalidPath        = "InvalidRequestPath"
)

// Sources of the gateway's own errors (RequestError.Source).
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

func errAPINotFound() *RequestError {
	return &RequestError{Status: http.StatusNotFound, Reason: ReasonAPINotFound, Message: msgNotFound, Source: SourceConfiguration, Section: "inbound"}
}

func errOperationNotFound() *RequestError {
	return &RequestError{Status: http.StatusNotFound, Reason: ReasonOperationNotFound, Message: msgNotFound, Source: SourceConfiguration, Section: "inbound"}
}

func errMissingKey() *RequestError {
	return &RequestError{Status: http.StatusUnauthorized, Reason: ReasonKeyNotFound, Message: msgMissingKey, Source: SourceAuthorization, Section: "inbound"}
}

func errInvalidKey() *RequestError {
	return &RequestError{Status: http.StatusUnauthorized, Reason: ReasonKeyInvalid, Message: msgInvalidKey, Source: SourceAuthorization, Section: "inbound"}
}

func errNotReady() *RequestError {
	return &RequestError{Status: http.StatusServiceUnavailable, Reason: ReasonNotReady, Message: msgNotReady, Source: SourceGateway, Section: "inbound"}
}

func errBodyTooLarge(limit int64, cause error) *RequestError {
	return &RequestError{Status: http.StatusRequestEntityTooLarge, Reason: ReasonBodyTooLarge, Source: SourceRequest, Section: "inbound",
		Message: fmt.Sprintf("Request entity too large: the request body exceeds the limit of %d bytes for this API.", limit), Err: cause}
}

// errEncodedSlash refuses an encoded slash or backslash in the path of an
// API that does not allow them (snapshot.CompiledAPI.AllowEncodedSlashes).
var errEncodedSlash = errors.New("the request path holds an encoded slash or backslash, which this API does not allow")

// errBadPath refuses a request path that cannot be normalised safely
// (router.CleanPath); cause is shown to the client.
func errBadPath(cause error) *RequestError {
	return &RequestError{Status: http.StatusBadRequest, Reason: ReasonInvalidPath, Source: SourceRequest, Section: "inbound",
		Message: "Bad request: " + cause.Error() + ".", Err: cause}
}

func errHeadersTooLarge(limit int) *RequestError {
	return &RequestError{Status: http.StatusRequestHeaderFieldsTooLarge, Reason: ReasonHeadersTooLarge, Source: SourceRequest, Section: "inbound",
		Message: fmt.Sprintf("Request header fields too large: the request line and headers exceed the limit of %d bytes.", limit)}
}

// errorBody is APIM's error document.
type errorBody struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
}

// writeError answers with e in APIM's JSON shape. Nothing must have been
// written to w yet.
func writeError(w http.ResponseWriter, e *RequestError) {
	body, err := json.Marshal(errorBody{StatusCode: e.Status, Message: e.Message})
	if err != nil { // cannot happen for an int and a string
		body = []byte(`{"statusCode":500,"message":"Internal server error."}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Del("Content-Encoding")
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}
