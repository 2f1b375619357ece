package gateway

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/portico-gw/portico/internal/policy"
)

// DefaultBodyReadTimeout is how long the gateway waits for the next bytes of
// a request body before it gives up on the request (Config.BodyReadTimeout).
const DefaultBodyReadTimeout = 60 * time.Second

// Messages of requests whose body could not be read.
const (
	msgBodyTimeout   = "Request timeout: the request body was not received in time."
	msgBodyMalformed = "Bad request: the request body could not be read (malformed or incomplete)."
)

// readDeadliner is what the HTTP/1 and HTTP/2 response writers of net/http
// implement (http.ResponseController reaches it through wrappers).
type readDeadliner interface {
	SetReadDeadline(time.Time) error
}

// clientBody is the inbound request body as the gateway reads it: it
// counts the bytes read (for telemetry), gives every read at most idle
// time to deliver (a per-read deadline on the connection, so a body that
// trickles in stalls is cut off) and remembers the first read error, so
// that a failed forward is answered as the client's fault (400, 408), not
// the backend's (502, 504).
type clientBody struct {
	io.ReadCloser
	n    int64
	err  error
	idle time.Duration
	dl   readDeadliner // nil: no deadline can be set
	set  bool          // a deadline is set on the connection
}

// init wraps body; rw is the server's response writer, through which the
// read deadline is set. idle <= 0 sets no deadline.
func (b *clientBody) init(rw http.ResponseWriter, body io.ReadCloser, idle time.Duration) {
	b.ReadCloser, b.idle = body, idle
	if idle <= 0 {
		return
	}
	if d, ok := rw.(readDeadliner); ok {
		b.dl = d
	} else {
		b.dl = http.NewResponseController(rw)
	}
}

func (b *clientBody) Read(p []byte) (int, error) {
	if b.dl != nil && len(p) > 0 {
		if err := b.dl.SetReadDeadline(time.Now().Add(b.idle)); err != nil {
			b.dl = nil // not supported by this writer (tests): read without
		} else {
			b.set = true
		}
	}
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	switch {
	case err == io.EOF:
		// net/http reads the connection in the background after the
		// body's end, to notice a client going away: it must not take a
		// stale deadline for one.
		if b.set {
			b.set = false
			_ = b.dl.SetReadDeadline(time.Time{})
		}
	case err != nil && b.err == nil:
		b.err = err // the deadline stays: later reads fail at once
	}
	return n, err
}

// Close closes the body. When it was not read to its end, net/http
// discards what is left after the handler returns: a fresh deadline bounds
// that too.
func (b *clientBody) Close() error {
	if b.set && b.err == nil {
		_ = b.dl.SetReadDeadline(time.Now().Add(b.idle))
	}
	return b.ReadCloser.Close()
}

// fault returns the client's fault when reading its body failed: 408 when
// the body stalled past the read timeout, 400 when it was malformed (a
// broken chunked encoding); nil when the body was read without error, or
// when the connection ended (ctxErr, the request context's error, is set:
// net/http cancels it when the client goes away, and also when a read
// deadline passes, hence the timeout is checked first).
func (b *clientBody) fault(ctxErr error) *policy.Error {
	if b == nil || b.err == nil {
		return nil
	}
	var ne net.Error
	if errors.Is(b.err, os.ErrDeadlineExceeded) || (errors.As(b.err, &ne) && ne.Timeout()) {
		return &policy.Error{Status: http.StatusRequestTimeout, Reason: policy.ReasonRequestBodyTimeout, Message: msgBodyTimeout, Err: b.err, Source: policy.SourceClient, Section: policy.SectionInbound}
	}
	if ctxErr != nil {
		return nil
	}
	return &policy.Error{Status: http.StatusBadRequest, Reason: policy.ReasonRequestBodyMalformed, Message: msgBodyMalformed, Err: b.err, Source: policy.SourceClient, Section: policy.SectionInbound}
}
