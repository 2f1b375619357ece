package gateway

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/portico-gw/portico/internal/policy"
	"github.com/portico-gw/portico/internal/router"
	"github.com/portico-gw/portico/internal/snapshot"
)

// Request is what the gateway knows about one request while it handles it:
// the matched API, operation, product and subscription, the captured
// template parameters and the outcome. Later stages (policies, telemetry)
// read it; it holds no pointer to the Gateway, only to the immutable
// snapshot the request runs on.
//
// The gateway creates a Request before routing and, once the request is
// authorised, stores it in the context of the request it forwards, where the
// proxy hooks and the backend transport find it (see FromContext). Fields are filled as the pipeline
// advances and are not synchronised: only the goroutine serving the request
// may write them, and readers on other goroutines (the transport) read them
// after they were set.
type Request struct {
	// ID is the request id: the inbound X-Request-Id when it was acceptable,
	// else a generated one. It is sent to the backend and to the client.
	ID string
	// In is the inbound request as received, except that its path is the
	// normalised one (dot segments removed, see router.CleanPath) that
	// routing, policies and the backend all see. It must not be modified.
	In *http.Request
	// Start is when the gateway started handling the request.
	Start time.Time
	// Snapshot is the configuration the request runs on from start to end.
	Snapshot *snapshot.Snapshot

	// API is the matched API, or nil.
	API *snapshot.CompiledAPI
	// Operation is the matched operation, or nil.
	Operation *snapshot.CompiledOperation
	// Product is the product through which access was granted: the product
	// of a product-scoped subscription, or the open product a keyless call
	// went through; nil otherwise.
	Product *snapshot.CompiledProduct
	// Subscription is the subscription of the presented key, or nil.
	Subscription *snapshot.CompiledSubscription
	// SubscriptionID and UserID identify the subscription and its owner;
	// "" when there is none.
	SubscriptionID string
	UserID         string
	// SubscriptionKey is the presented key ("" when none). It is never
	// logged or sent to the backend.
	SubscriptionKey string
	// Params are the operation's captured path parameters, in template
	// order, not URL-decoded.
	Params []router.Param
	// Rest is the escaped request path after the API path, starting with '/'.
	Rest string

	// Err is the error the request ended with, or nil: the gateway's own,
	// the one backendError mapped, or the pipeline's Context.LastError
	// (APIM's LastError).
	Err *policy.Error
	// BackendStatus is the status the backend answered with; 0 when the
	// request never reached it.
	BackendStatus int
	// BackendTime is the time spent waiting for backend response headers,
	// summed over the attempts; BackendURL is the last URL forwarded to.
	BackendTime time.Duration
	BackendURL  *url.URL
	// Cache is what cache-lookup did (policy.Context.CacheLookup): "",
	// "hit" or "miss"; the request record's cache field ("none" for "").
	Cache string

	match  router.Match
	target backendTarget // the backend of the current exchange (resolveBackend)
	trace  *tracer       // the policy debugger's, when the request is traced
	spans  *spanState    // the exported spans, when Config.Spans is set

	body *clientBody // the inbound body as read; nil without one
}

type ctxKey struct{}

// FromContext returns the Request of a request being handled by the
// gateway, or nil.
func FromContext(ctx context.Context) *Request {
	r, _ := ctx.Value(ctxKey{}).(*Request)
	return r
}
