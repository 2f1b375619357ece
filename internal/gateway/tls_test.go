package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/snapshot"
)

func selfSigned(t *testing.T, name string) (certPEM, keyPEM string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

func TestHostnameCertificates(t *testing.T) {
	be := newBackend(t, nil)
	cfg := testConfig(be.URL)
	apiCert, apiKey := selfSigned(t, "api.example.com")
	wildCert, wildKey := selfSigned(t, "*.example.org")
	cfg.Hostnames = []snapshot.Hostname{
		{ID: "api", Hostname: "api.example.com", CertificatePEM: apiCert, KeyPEM: apiKey, HTTP2Enabled: true},
		{ID: "wild", Hostname: "*.example.org", CertificatePEM: wildCert, KeyPEM: wildKey, HTTP2Enabled: false},
	}
	e := newEnv(t, Config{}, cfg)
	fbCert, fbKey := selfSigned(t, "fallback.local")
	fallback, _ := tls.X509KeyPair([]byte(fbCert), []byte(fbKey))
	srv := httptest.NewUnstartedServer(e.gw)
	srv.TLS = e.gw.TLSConfig([]tls.Certificate{fallback})
	srv.StartTLS()
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	tests := []struct {
		name, sni, wantCN, wantProto string
	}{
		{"exact hostname", "api.example.com", "api.example.com", "h2"},
		{"wildcard, http2 disabled", "shop.example.org", "*.example.org", "http/1.1"},
		{"unknown name gets the fallback", "other.example.net", "fallback.local", "h2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{ServerName: tc.sni, InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			st := conn.ConnectionState()
			if cn := st.PeerCertificates[0].Subject.CommonName; cn != tc.wantCN || st.NegotiatedProtocol != tc.wantProto {
				t.Fatalf("certificate %q protocol %q, want %q %q", cn, st.NegotiatedProtocol, tc.wantCN, tc.wantProto)
			}
		})
	}
	t.Run("no fallback: unknown names are refused", func(t *testing.T) {
		srv2 := httptest.NewUnstartedServer(e.gw)
		srv2.TLS = e.gw.TLSConfig(nil)
		srv2.StartTLS()
		defer srv2.Close()
		if _, err := tls.Dial("tcp", srv2.Listener.Addr().String(), &tls.Config{ServerName: "nope.example.net", InsecureSkipVerify: true}); err == nil {
			t.Fatal("handshake without a certificate succeeded")
		}
	})
}
