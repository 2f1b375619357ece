package mgmt_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func testCert(t *testing.T, name string) (string, string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	kder, _ := x509.MarshalECPrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

func TestHostnameConfigurations(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		cert, key := testCert(t, "api.example.com")
		_, otherKey := testCert(t, "x")
		e.must(201, "PUT", "/api/v1/gateways/edge", map[string]any{"locationData": map[string]any{"name": "Edge"}})
		e.run(t, []call{
			{name: "create", method: "PUT", path: "/api/v1/gateways/edge/hostnameConfigurations/api", body: map[string]any{"hostname": "API.example.com", "certificatePem": cert, "keyPem": key}, wantStatus: 201, wantIn: `"hostname": "api.example.com"`, wantNotIn: "PRIVATE KEY"},
			{name: "list hides keys", method: "GET", path: "/api/v1/gateways/edge/hostnameConfigurations", wantStatus: 200, wantNotIn: "PRIVATE KEY"},
			{name: "replace keeps the key of the same certificate", method: "PUT", path: "/api/v1/gateways/edge/hostnameConfigurations/api", body: map[string]any{"hostname": "api.example.com", "certificatePem": cert, "http2Enabled": false}, wantStatus: 200, wantIn: `"http2Enabled": false`},
			{name: "mismatched key", method: "PUT", path: "/api/v1/gateways/edge/hostnameConfigurations/bad", body: map[string]any{"hostname": "b.example.com", "certificatePem": cert, "keyPem": otherKey}, wantStatus: 400, wantField: "certificatePem"},
			{name: "new certificate needs its key", method: "PUT", path: "/api/v1/gateways/edge/hostnameConfigurations/bad", body: map[string]any{"hostname": "b.example.com", "certificatePem": cert}, wantStatus: 400, wantField: "keyPem"},
			{name: "bad hostname", method: "PUT", path: "/api/v1/gateways/edge/hostnameConfigurations/bad", body: map[string]any{"hostname": "not a host"}, wantStatus: 400, wantField: "hostname"},
			{name: "duplicate hostname", method: "PUT", path: "/api/v1/gateways/edge/hostnameConfigurations/dup", body: map[string]any{"hostname": "api.example.com"}, wantStatus: 409, wantField: "hostname"},
			{name: "wildcard without certificate", method: "PUT", path: "/api/v1/gateways/edge/hostnameConfigurations/wild", body: map[string]any{"hostname": "*.example.org"}, wantStatus: 201},
			{name: "gateway missing", method: "PUT", path: "/api/v1/gateways/nope/hostnameConfigurations/x", body: map[string]any{"hostname": "x.example.com"}, wantStatus: 404},
		})
		rec, err := e.store.Get(t.Context(), "hostnameConfiguration", "edge", "api")
		if err != nil || !strings.Contains(string(rec.Doc), "PRIVATE KEY") {
			t.Fatalf("the key was not kept: %v", err)
		}
		e.must(204, "DELETE", "/api/v1/gateways/edge", nil)
		if _, err := e.store.Get(t.Context(), "hostnameConfiguration", "edge", "api"); err == nil {
			t.Fatal("hostname configurations survived their gateway")
		}
	})
}
