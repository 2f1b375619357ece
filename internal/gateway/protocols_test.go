package gateway

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/snapshot"
)

// TestProtocolsEnforced: an API answers only on the schemes of its
// protocols, over real sockets: one gateway behind a cleartext and a TLS
// listener. On another scheme it answers APIM's 404 and the backend sees
// nothing. A configuration without protocols (hand-built) serves both.
func TestProtocolsEnforced(t *testing.T) {
	be := newBackend(t, nil)
	api := func(id string, protocols ...string) snapshot.API {
		return snapshot.API{ID: id, DisplayName: id, Path: id, ServiceURL: be.URL, Protocols: protocols,
			Operations: []snapshot.Operation{{ID: "get", Method: "GET", URLTemplate: "/r"}}}
	}
	cfg := &snapshot.Config{Revision: 1, GatewayID: "test", APIs: []snapshot.API{
		api("secure", "https"), api("plain", "http"), api("both", "http", "https"), api("unset"),
		api("sockets", "ws"), api("securesockets", "wss"), api("upper", " HTTPS "),
	}}
	e := newEnv(t, Config{}, cfg)

	cert, key := selfSigned(t, "gw.example")
	pair, err := tls.X509KeyPair([]byte(cert), []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := e.gw.NewServer()
	srv.TLSConfig = e.gw.TLSConfig([]tls.Certificate{pair})
	go srv.ServeTLS(ln, "", "") //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() })
	tlsURL := "https://" + ln.Addr().String()
	tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	t.Cleanup(tlsClient.CloseIdleConnections)

	send := func(t *testing.T, client *http.Client, url string, hdr ...string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	upgrade := []string{"Upgrade", "websocket", "Connection", "Upgrade", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}
	tests := []struct {
		name      string
		api       string
		tls       bool
		websocket bool
		want      bool
	}{
		{"https-only over http", "secure", false, false, false},
		{"https-only over TLS", "secure", true, false, true},
		{"http-only over http", "plain", false, false, true},
		{"http-only over TLS", "plain", true, false, false},
		{"both over http", "both", false, false, true},
		{"both over TLS", "both", true, false, true},
		{"no protocols over http", "unset", false, false, true},
		{"no protocols over TLS", "unset", true, false, true},
		{"protocols are trimmed and case-insensitive", "upper", true, false, true},
		{"protocols are trimmed and case-insensitive, http", "upper", false, false, false},
		{"ws-only: plain request", "sockets", false, false, false},
		{"ws-only: handshake in the clear", "sockets", false, true, true},
		{"ws-only: handshake over TLS", "sockets", true, true, false},
		{"wss-only: handshake over TLS", "securesockets", true, true, true},
		{"wss-only: handshake in the clear", "securesockets", false, true, false},
		{"wss-only: plain request over TLS", "securesockets", true, false, false},
		{"https-only: handshake over TLS", "secure", true, true, true},
		{"https-only: handshake in the clear", "secure", false, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, base := e.client, e.url
			if tc.tls {
				client, base = tlsClient, tlsURL
			}
			var hdr []string
			if tc.websocket {
				hdr = upgrade
			}
			before := be.received()
			status, body := send(t, client, base+"/"+tc.api+"/r", hdr...)
			reached := be.received() > before
			if tc.want {
				if status == http.StatusNotFound || !reached {
					t.Fatalf("refused: %d %s (backend reached: %v)", status, body, reached)
				}
				return
			}
			if status != http.StatusNotFound || !strings.Contains(body, `"Resource not found"`) || reached {
				t.Fatalf("got %d %s (backend reached: %v), want APIM's 404 without a backend call", status, body, reached)
			}
		})
	}
}
