package agent

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/snapshot"
)

// TestBackupEncryptsEverySecret writes a configuration holding every kind
// of secret a gateway receives, checks that none of them is in the backup
// file in clear, and that reading it back gives the same configuration.
func TestBackupEncryptsEverySecret(t *testing.T) {
	secrets := []string{
		"named-value-secret-1",
		"header-credential-2",
		"second-header-value-3",
		"query-credential-4",
		"authorization-parameter-5",
		"backend-url-password-6",
		"api-url-password-7",
		"-----BEGIN PRIVATE KEY-----hostname-key-8",
		"debug-token-key-9",
	}
	cfg := &snapshot.Config{
		Revision: 7, GatewayID: "edge",
		APIs: []snapshot.API{
			{ID: "plain", Path: "p", ServiceURL: "https://plain.example/base", Operations: []snapshot.Operation{}},
			{ID: "userinfo", Path: "u", ServiceURL: "https://svc:" + secrets[6] + "@api.example/base", Operations: []snapshot.Operation{}},
		},
		Backends: []snapshot.Backend{
			{ID: "be", Backend: model.Backend{URL: "https://be.example", Protocol: "http", Credentials: &model.BackendCredentials{
				Header:        map[string][]string{"x-api-key": {secrets[1], secrets[2]}},
				Query:         map[string][]string{"code": {secrets[3]}},
				Authorization: &model.BackendAuthorization{Scheme: "Bearer", Parameter: secrets[4]},
			}}},
			{ID: "userinfo", Backend: model.Backend{URL: "https://user:" + secrets[5] + "@be2.example", Protocol: "http"}},
			{ID: "bare", Backend: model.Backend{URL: "https://bare.example", Protocol: "http"}},
		},
		NamedValues: []snapshot.NamedValue{
			{ID: "s", DisplayName: "s", Value: secrets[0], Secret: true},
			{ID: "p", DisplayName: "p", Value: "plain-named-value"},
		},
		Hostnames:     []snapshot.Hostname{{ID: "h", Hostname: "api.example", CertificatePEM: "cert", KeyPEM: secrets[7]}},
		DebugTokenKey: secrets[8],
	}
	dir := t.TempDir()
	b, err := openBackup(dir)
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot.ContentTag(cfg)
	if err := b.save(cfg); err != nil {
		t.Fatal(err)
	}
	if snapshot.ContentTag(cfg) != before {
		t.Fatal("save modified the configuration it was given")
	}
	raw, err := os.ReadFile(filepath.Join(dir, backupFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the backup holds %q in clear", s)
		}
	}
	// what is not secret stays readable (names, plain values, plain URLs)
	for _, s := range []string{"plain-named-value", "x-api-key", `"Bearer"`, "https://bare.example", "https://plain.example/base"} {
		if !bytes.Contains(raw, []byte(s)) {
			t.Errorf("the backup does not hold %q in clear", s)
		}
	}

	got, err := b.load()
	if err != nil {
		t.Fatal(err)
	}
	if snapshot.ContentTag(got) != before {
		t.Fatalf("the configuration read back differs:\n%+v\nwant\n%+v", got, cfg)
	}

	// another instance's key cannot read it
	other, err := openBackup(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	other.dir = dir
	if _, err := other.load(); err == nil {
		t.Fatal("a backup was read with another key")
	}
}
