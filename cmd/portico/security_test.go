package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/testenv"
)

// The management API (and console) and the ops endpoints listen on
// loopback unless told otherwise; the gateway and the portal on every
// interface.
func TestDefaultsBindLoopback(t *testing.T) {
	for _, cmd := range []string{"serve", "mgmt", "gateway"} {
		var o options
		if err := parse(newFlagSet(cmd, &o, &bytes.Buffer{}), nil); err != nil {
			t.Fatal(err)
		}
		for name, addr := range map[string]string{"--mgmt-addr": o.mgmtAddr, "--ops-addr": o.opsAddr} {
			host, _, err := net.SplitHostPort(addr)
			if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
				t.Errorf("%s %s defaults to %q, not a loopback address", cmd, name, addr)
			}
		}
		if o.gatewayAddr != ":8080" || o.portalAddr != ":8002" {
			t.Errorf("%s: gateway %q, portal %q", cmd, o.gatewayAddr, o.portalAddr)
		}
	}
	var o options
	if err := parse(newFlagSet("serve", &o, &bytes.Buffer{}), []string{"--mgmt-addr", ":8001", "--ops-addr", ":8081"}); err != nil || o.mgmtAddr != ":8001" || o.opsAddr != ":8081" {
		t.Fatalf("wider binding: %v %q %q", err, o.mgmtAddr, o.opsAddr)
	}
}

func TestAdminTokenLength(t *testing.T) {
	short := "too-short-token-0123456789" // 26
	long := strings.Repeat("x", 32)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("variable", func(t *testing.T) {
		t.Setenv("PORTICO_ADMIN_TOKEN", short)
		_, _, _, err := adminToken(&options{dataDir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "PORTICO_ADMIN_TOKEN") || !strings.Contains(err.Error(), "at least 32") {
			t.Fatalf("err = %v", err)
		}
		t.Setenv("PORTICO_ADMIN_TOKEN", long)
		if tok, src, created, err := adminToken(&options{dataDir: t.TempDir()}); err != nil || tok != long || src != "PORTICO_ADMIN_TOKEN" || created {
			t.Fatalf("%q %q %v %v", tok, src, created, err)
		}
	})
	t.Run("file", func(t *testing.T) {
		t.Setenv("PORTICO_ADMIN_TOKEN", "")
		if _, _, _, err := adminToken(&options{adminTokenFile: write("short", short+"\n")}); err == nil || !strings.Contains(err.Error(), "at least 32") {
			t.Fatalf("short file: %v", err)
		}
		p := write("long", long+"\n")
		if tok, src, _, err := adminToken(&options{adminTokenFile: p}); err != nil || tok != long || src != p {
			t.Fatalf("%q %q %v", tok, src, err)
		}
		if _, _, _, err := adminToken(&options{adminTokenFile: filepath.Join(dir, "missing")}); err == nil {
			t.Fatal("a missing --admin-token-file was accepted")
		}
		t.Setenv("PORTICO_ADMIN_TOKEN", long)
		if _, _, _, err := adminToken(&options{adminTokenFile: p}); err == nil {
			t.Fatal("both the variable and the file were accepted")
		}
	})
	t.Run("data dir", func(t *testing.T) {
		t.Setenv("PORTICO_ADMIN_TOKEN", "")
		d := t.TempDir()
		tok, src, created, err := adminToken(&options{dataDir: d})
		if err != nil || !created || len(tok) < 32 || src != filepath.Join(d, "admin-token") {
			t.Fatalf("%q %q %v %v", tok, src, created, err)
		}
		if fi, _ := os.Stat(src); fi.Mode().Perm() != 0o600 {
			t.Fatalf("admin-token mode %o", fi.Mode().Perm())
		}
		if err := os.WriteFile(src, []byte(short), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := adminToken(&options{dataDir: d}); err == nil {
			t.Fatal("a short token in the data dir was accepted")
		}
	})
	t.Run("serve refuses to start", func(t *testing.T) {
		t.Setenv("PORTICO_ADMIN_TOKEN", short)
		o := &options{dataDir: t.TempDir(), mgmtAddr: "127.0.0.1:0", gatewayAddr: "127.0.0.1:0", opsAddr: "127.0.0.1:0", echoAddr: "127.0.0.1:0", portalAddr: "127.0.0.1:0", shutdown: time.Second}
		err := serve(context.Background(), o, slog.New(slog.DiscardHandler), io.Discard, true)
		if err == nil || !strings.Contains(err.Error(), "at least 32") {
			t.Fatalf("serve: %v", err)
		}
	})
}

func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tokenFile := write("token", "GatewayKey edge&20261227000000&primary&c2ln\n")
	storeFile := write("store", "postgres://portico:s3cret@db:5432/portico\n")
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(o *options) bool
		wantErr string
	}{
		{name: "--token-file", args: []string{"--token-file", tokenFile}, check: func(o *options) bool { return o.token == "GatewayKey edge&20261227000000&primary&c2ln" }},
		{name: "PORTICO_GATEWAY_TOKEN_FILE", env: map[string]string{"PORTICO_GATEWAY_TOKEN_FILE": tokenFile}, check: func(o *options) bool { return strings.HasPrefix(o.token, "GatewayKey edge&") }},
		{name: "--store-file", args: []string{"--store-file", storeFile}, check: func(o *options) bool { return o.store == "postgres://portico:s3cret@db:5432/portico" }},
		{name: "PORTICO_STORE_FILE", env: map[string]string{"PORTICO_STORE_FILE": storeFile}, check: func(o *options) bool { return strings.Contains(o.store, "s3cret") }},
		{name: "PORTICO_REDIS_FILE", env: map[string]string{"PORTICO_REDIS_FILE": write("redis", "redis://:pw@r:6379/0")}, check: func(o *options) bool { return o.redis == "redis://:pw@r:6379/0" }},
		{name: "PORTICO_SMTP_PASSWORD_FILE", env: map[string]string{"PORTICO_SMTP_PASSWORD_FILE": write("smtp", "mail-pw\n")}, check: func(o *options) bool { return o.smtpPassword == "mail-pw" }},
		{name: "flag and file", args: []string{"--token", "x", "--token-file", tokenFile}, wantErr: "--token and --token-file"},
		{name: "variable and file", env: map[string]string{"PORTICO_STORE": "x.db"}, args: []string{"--store-file", storeFile}, wantErr: "--store and --store-file"},
		{name: "empty file", args: []string{"--token-file", write("empty", "\n")}, wantErr: "is empty"},
		{name: "missing file", args: []string{"--store-file", filepath.Join(dir, "nope")}, wantErr: "--store-file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var o options
			err := parse(newFlagSet("gateway", &o, &bytes.Buffer{}), tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(&o) {
				t.Fatalf("options = %+v", o)
			}
		})
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and localhost
// and returns the files and a pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "portico test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "mgmt.crt"), filepath.Join(dir, "mgmt.key")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return certFile, keyFile, pool
}

// runServe starts serve with o until the test ends, waiting for /readyz.
func runServe(t *testing.T, o *options) *syncBuffer {
	t.Helper()
	t.Setenv("PORTICO_ADMIN_TOKEN", e2eToken)
	t.Setenv("PORTICO_GATEWAY_URL", "")
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- serve(ctx, o, slog.New(slog.DiscardHandler), out, true) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	testenv.Eventually(t, "serve to be ready", func() bool {
		select {
		case err := <-errc:
			errc <- err
			t.Fatalf("serve stopped: %v", err)
		default:
		}
		res, err := http.Get("http://" + o.opsAddr + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	return out
}

// The management plane serves HTTPS with --mgmt-tls-cert/--mgmt-tls-key,
// says so in the URLs it prints, and the console's cookies are Secure.
func TestManagementTLS(t *testing.T) {
	cert, key, pool := selfSigned(t)
	o := &options{dataDir: t.TempDir(), mgmtAddr: freeAddr(t), gatewayAddr: freeAddr(t), opsAddr: freeAddr(t), echoAddr: "127.0.0.1:0",
		portalAddr: freeAddr(t), shutdown: 5 * time.Second, mgmtTLSCert: cert, mgmtTLSKey: key}
	out := runServe(t, o)
	base := "https://" + o.mgmtAddr
	if !strings.Contains(out.String(), "management API    "+base+"/api/v1") || !strings.Contains(out.String(), "admin console     "+base+"/") {
		t.Fatalf("printed URLs:\n%s", out)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest("GET", base+"/api/v1/apis", nil)
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil {
		t.Fatalf("GET /api/v1/apis over TLS: %d", res.StatusCode)
	}
	res, err = client.Get(base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if cs := res.Cookies(); len(cs) == 0 || !cs[0].Secure {
		t.Fatalf("console cookies over TLS: %v", res.Header["Set-Cookie"])
	}
	// plain HTTP on the TLS address gets no API answer
	if res, err := http.Get("http://" + o.mgmtAddr + "/api/v1/apis"); err == nil {
		res.Body.Close()
		if res.StatusCode != 400 {
			t.Fatalf("plain HTTP on the TLS address: %d", res.StatusCode)
		}
	}
	// a self-hosted gateway's client trusts it with --mgmt-ca
	c2, err := mgmtClient(cert)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c2.Get(base + "/api/v1/apis"); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
	}
	if _, err := mgmtTLS(&options{mgmtTLSCert: cert}); err == nil {
		t.Fatal("a certificate without its key was accepted")
	}
}

// Behind a TLS-terminating proxy the console's and portal's cookies are
// Secure when the proxy is trusted and says X-Forwarded-Proto: https; the
// same header from an untrusted peer changes nothing.
func TestSecureCookiesBehindProxy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted string
		secure  bool
	}{
		{"loopback proxy trusted by default", defaultTrustedProxies, true},
		{"peer not in --trusted-proxies", "10.0.0.0/8", false},
		{"no trusted proxies", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trusted, err := parsePrefixes(tc.trusted)
			if err != nil {
				t.Fatal(err)
			}
			o := &options{dataDir: t.TempDir(), mgmtAddr: freeAddr(t), gatewayAddr: freeAddr(t), opsAddr: freeAddr(t), echoAddr: "127.0.0.1:0",
				portalAddr: freeAddr(t), shutdown: 5 * time.Second, trustedProxies: trusted}
			runServe(t, o)
			for _, url := range []string{"http://" + o.mgmtAddr + "/signin", "http://" + o.portalAddr + "/signin"} {
				for _, proto := range []string{"https", ""} {
					req, _ := http.NewRequest("GET", url, nil)
					if proto != "" {
						req.Header.Set("X-Forwarded-Proto", proto)
					}
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
					cs := res.Cookies()
					if len(cs) == 0 {
						t.Fatalf("%s: no cookie set", url)
					}
					if want := tc.secure && proto == "https"; cs[0].Secure != want {
						t.Fatalf("%s with X-Forwarded-Proto %q: Secure %v, want %v", url, proto, cs[0].Secure, want)
					}
				}
			}
		})
	}
}
