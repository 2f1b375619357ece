package gateway

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/portico-gw/portico/internal/policy"
)

// HTTP/1.1 message framing guard (RFC 9112 §6.1): a request that carries
// both Content-Length and Transfer-Encoding may be an attempt at request
// smuggling, and the server must close the connection after answering it.
// net/http accepts such a request (Transfer-Encoding wins) and removes
// Content-Length before the handler sees it, keeping the connection open.
// So WrapListener's connections follow the framing of the bytes read from
// the client on the side, noting the first request that carried both
// headers; ServeHTTP answers that request 400 with Connection: close.
//
// The tracker only observes: net/http still parses every request. It
// works on cleartext listeners (on a TLS listener it would see ciphertext,
// so it must not wrap one), and stops following a connection that turns to
// HTTP/2 (prior knowledge) or whose framing it does not understand (which
// net/http then refuses and closes too).

// framingMaxLine is the longest line followed: net/http refuses longer
// header blocks (http.DefaultMaxHeaderBytes and the slack it allows).
const framingMaxLine = http.DefaultMaxHeaderBytes + 4096

var errConflictingFraming = &policy.Error{Status: http.StatusBadRequest, Reason: policy.ReasonRequestFramingInvalid, Source: policy.SourceRequest, Section: policy.SectionInbound,
	Message: "Bad request: the request carries both Content-Length and Transfer-Encoding."}

// WrapListener returns ln whose connections are followed by the framing
// guard. Use it for the cleartext listeners of servers made by NewServer,
// never under TLS.
func WrapListener(ln net.Listener) net.Listener { return framingListener{ln} }

type framingListener struct{ net.Listener }

func (l framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framingConn{Conn: c, s: framingScanner{firstBad: -1}}, nil
}

type framingKey struct{}

// framingContext is NewServer's ConnContext: it makes the connection's
// tracker reachable from its requests.
func framingContext(ctx context.Context, c net.Conn) context.Context {
	if fc, ok := c.(*framingConn); ok {
		return context.WithValue(ctx, framingKey{}, fc)
	}
	return ctx
}

// framingError is errConflictingFraming when r is the request of its
// connection that carried both Content-Length and Transfer-Encoding. Every
// HTTP/1 request that reaches the handler must be passed here once, in
// order (the handlers of one HTTP/1 connection run one after the other).
func framingError(r *http.Request) *policy.Error {
	if r.ProtoMajor != 1 {
		return nil
	}
	fc, ok := r.Context().Value(framingKey{}).(*framingConn)
	if !ok {
		return nil
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	n := fc.handled
	fc.handled++
	if n == fc.s.firstBad {
		return errConflictingFraming
	}
	return nil
}

// framingConn follows the HTTP/1 framing of the bytes read from it.
type framingConn struct {
	net.Conn
	mu      sync.Mutex
	handled int // requests passed to framingError
	s       framingScanner
}

func (c *framingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.s.feed(p[:n])
		c.mu.Unlock()
	}
	return n, err
}

// CloseWrite half-closes the connection, as net/http does before closing
// one whose client may still be writing.
func (c *framingConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom keeps the connection's sendfile and splice paths.
func (c *framingConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}

// framingScanner states.
const (
	fsHeader    = iota // in a request line or header block
	fsFixed            // in a body of known length
	fsChunkSize        // in a chunk-size line
	fsChunkData        // in chunk data
	fsChunkEnd         // in the CRLF after chunk data
	fsTrailer          // in the trailer section after the last chunk
	fsOff              // not following (HTTP/2, or framing net/http refuses)
)

// framingScanner is a minimal HTTP/1 request framing reader.
type framingScanner struct {
	state    int
	requests int    // request header blocks completed (OPTIONS * not counted)
	firstBad int    // index of the first one with both headers; -1: none
	remain   int64  // bytes left of a fixed body or a chunk
	line     []byte // the current line so far

	// the header block being read
	lines      int  // lines of the block so far (0: request line next)
	notCounted bool // OPTIONS *, which net/http answers itself
	http10     bool // HTTP/1.0: net/http ignores Transfer-Encoding
	clConflict bool // Content-Length lines that differ
	hdr        int  // header the last line belonged to: hdrOther, hdrCL, hdrTE
	cl, te     []byte
	nCL, nTE   int
}

const (
	hdrOther = iota
	hdrCL
	hdrTE
)

// feed follows p.
func (s *framingScanner) feed(p []byte) {
	for len(p) > 0 {
		switch s.state {
		case fsOff:
			return
		case fsFixed, fsChunkData:
			k := int64(len(p))
			if k > s.remain {
				k = s.remain
			}
			s.remain -= k
			p = p[k:]
			if s.remain == 0 {
				if s.state == fsFixed {
					s.state = fsHeader
				} else {
					s.state = fsChunkEnd
				}
			}
			continue
		}
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if len(s.line)+len(chunk) > framingMaxLine {
			s.state = fsOff // net/http refuses such a line
			return
		}
		s.line = append(s.line, chunk...)
		if i < 0 {
			return
		}
		p = p[i+1:]
		line := bytes.TrimSuffix(s.line, []byte("\r"))
		s.endLine(line)
		s.line = s.line[:0]
	}
}

// endLine handles one complete line (without its line end).
func (s *framingScanner) endLine(line []byte) {
	switch s.state {
	case fsHeader:
		s.headerLine(line)
	case fsChunkSize:
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseUint(string(bytes.TrimRight(line, " \t")), 16, 63)
		switch {
		case err != nil:
			s.state = fsOff
		case n == 0:
			s.state = fsTrailer
		default:
			s.state, s.remain = fsChunkData, int64(n)
		}
	case fsChunkEnd:
		s.state = fsChunkSize
	case fsTrailer:
		if len(line) == 0 {
			s.state = fsHeader
		}
	}
}

func (s *framingScanner) headerLine(line []byte) {
	if s.lines == 0 {
		if len(line) == 0 {
			return // an empty line before the request line
		}
		if bytes.HasPrefix(line, []byte("PRI * HTTP/2")) {
			s.state = fsOff
			return
		}
		s.lines = 1
		s.notCounted = bytes.HasPrefix(line, []byte("OPTIONS * "))
		s.http10 = bytes.HasSuffix(line, []byte("HTTP/1.0"))
		s.hdr, s.cl, s.te, s.nCL, s.nTE, s.clConflict = hdrOther, s.cl[:0], s.te[:0], 0, 0, false
		return
	}
	s.lines++
	if len(line) == 0 {
		s.endHeader()
		return
	}
	if line[0] == ' ' || line[0] == '\t' { // obs-fold: continues the previous value
		switch s.hdr {
		case hdrCL:
			s.cl = append(append(s.cl, ' '), line...)
		case hdrTE:
			s.te = append(append(s.te, ' '), line...)
		}
		return
	}
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		s.hdr = hdrOther
		return
	}
	name, value := line[:colon], line[colon+1:]
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		if s.nCL > 0 && !bytes.Equal(bytes.TrimSpace(s.cl), bytes.TrimSpace(value)) {
			s.clConflict = true // net/http refuses differing lengths
		}
		s.hdr, s.nCL, s.cl = hdrCL, s.nCL+1, append(s.cl[:0], value...)
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		s.hdr, s.nTE, s.te = hdrTE, s.nTE+1, append(s.te, value...)
	default:
		s.hdr = hdrOther
	}
	return
}

// endHeader ends a header block: it counts the request and sets the
// framing of its body as net/http reads it.
func (s *framingScanner) endHeader() {
	if s.nCL > 0 && s.nTE > 0 && s.firstBad < 0 {
		s.firstBad = s.requests
	}
	if !s.notCounted {
		s.requests++
	}
	s.lines = 0
	switch {
	case s.nTE > 0 && !s.http10:
		if s.nTE == 1 && string(bytes.ToLower(bytes.TrimSpace(s.te))) == "chunked" {
			s.state = fsChunkSize
		} else {
			s.state = fsOff // net/http refuses other transfer codings and closes
		}
	case s.nCL > 0:
		n, err := strconv.ParseInt(string(bytes.TrimSpace(s.cl)), 10, 64)
		switch {
		case err != nil || n < 0 || s.clConflict:
			s.state = fsOff
		case n > 0:
			s.state, s.remain = fsFixed, n
		}
	}
}
