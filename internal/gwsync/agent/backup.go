package agent

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/snapshot"
)

// Files kept in the backup directory.
const (
	backupFile     = "config.json"
	backupKeyFile  = "backup.key"
	instanceIDFile = "instance-id"
	encPrefix      = "enc:v1:"
)

// backup persists the last good configuration of a gateway atomically
// (write, fsync, rename, fsync the directory). Every secret it holds is
// encrypted with AES-256-GCM under a random key kept beside it (mode
// 0600): secret named values, backend credentials (header, query and
// authorization values), backend and API URLs that carry user info, TLS
// private keys and the debug-token key. Subscription keys are never there,
// only their hashes.
type backup struct {
	dir string
	gcm cipher.AEAD
}

func openBackup(dir string) (*backup, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup dir: %w", err)
	}
	keyPath := filepath.Join(dir, backupKeyFile)
	key, err := os.ReadFile(keyPath)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := writeAtomic(keyPath, []byte(hex.EncodeToString(key)), 0o600); err != nil {
			return nil, fmt.Errorf("write backup key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read backup key: %w", err)
	} else if key, err = hex.DecodeString(strings.TrimSpace(string(key))); err != nil || len(key) != 32 {
		return nil, fmt.Errorf("backup key %s is corrupt", keyPath)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &backup{dir: dir, gcm: gcm}, nil
}

// instanceID returns the instance id stored in the backup dir, creating it
// on first use, so that an instance keeps its id across restarts.
func (b *backup) instanceID() (string, error) {
	p := filepath.Join(b.dir, instanceIDFile)
	if raw, err := os.ReadFile(p); err == nil && len(strings.TrimSpace(string(raw))) > 0 {
		return strings.TrimSpace(string(raw)), nil
	}
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return "", err
	}
	s := hex.EncodeToString(id)
	if err := writeAtomic(p, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write instance id: %w", err)
	}
	return s, nil
}

func (b *backup) seal(plain string) string {
	nonce := make([]byte, b.gcm.NonceSize())
	_, _ = rand.Read(nonce)
	return encPrefix + base64.StdEncoding.EncodeToString(b.gcm.Seal(nonce, nonce, []byte(plain), nil))
}

func (b *backup) open(sealed string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, encPrefix))
	if err != nil || len(raw) < b.gcm.NonceSize() {
		return "", errors.New("corrupt encrypted value")
	}
	plain, err := b.gcm.Open(nil, raw[:b.gcm.NonceSize()], raw[b.gcm.NonceSize():], nil)
	if err != nil {
		return "", errors.New("cannot decrypt a secret of the backup: the backup key does not match")
	}
	return string(plain), nil
}

// save writes cfg as the last good configuration.
func (b *backup) save(cfg *snapshot.Config) error {
	cp := *cfg
	cp.NamedValues = make([]snapshot.NamedValue, len(cfg.NamedValues))
	for i, nv := range cfg.NamedValues {
		if nv.Secret {
			nv.Value = b.seal(nv.Value)
		}
		cp.NamedValues[i] = nv
	}
	cp.Hostnames = make([]snapshot.Hostname, len(cfg.Hostnames))
	for i, h := range cfg.Hostnames {
		if h.KeyPEM != "" {
			h.KeyPEM = b.seal(h.KeyPEM)
		}
		cp.Hostnames[i] = h
	}
	if cp.DebugTokenKey != "" {
		cp.DebugTokenKey = b.seal(cp.DebugTokenKey)
	}
	cp.Backends = make([]snapshot.Backend, len(cfg.Backends))
	for i, be := range cfg.Backends {
		be.URL = b.sealURL(be.URL)
		if c := be.Credentials; c != nil {
			sc := &model.BackendCredentials{Header: b.sealValues(c.Header), Query: b.sealValues(c.Query)}
			if a := c.Authorization; a != nil {
				sc.Authorization = &model.BackendAuthorization{Scheme: a.Scheme, Parameter: b.sealNonEmpty(a.Parameter)}
			}
			be.Credentials = sc
		}
		cp.Backends[i] = be
	}
	cp.APIs = make([]snapshot.API, len(cfg.APIs))
	for i, api := range cfg.APIs {
		api.ServiceURL = b.sealURL(api.ServiceURL)
		cp.APIs[i] = api
	}
	raw, err := json.Marshal(&cp)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(b.dir, backupFile), raw, 0o600)
}

// load reads the last good configuration; (nil, nil) when there is none.
func (b *backup) load() (*snapshot.Config, error) {
	raw, err := os.ReadFile(filepath.Join(b.dir, backupFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cfg snapshot.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("backup %s is corrupt: %w", filepath.Join(b.dir, backupFile), err)
	}
	for i, nv := range cfg.NamedValues {
		if nv.Secret && strings.HasPrefix(nv.Value, encPrefix) {
			if cfg.NamedValues[i].Value, err = b.open(nv.Value); err != nil {
				return nil, err
			}
		}
	}
	for i, h := range cfg.Hostnames {
		if strings.HasPrefix(h.KeyPEM, encPrefix) {
			if cfg.Hostnames[i].KeyPEM, err = b.open(h.KeyPEM); err != nil {
				return nil, err
			}
		}
	}
	if strings.HasPrefix(cfg.DebugTokenKey, encPrefix) {
		if cfg.DebugTokenKey, err = b.open(cfg.DebugTokenKey); err != nil {
			return nil, err
		}
	}
	for i := range cfg.Backends {
		be := &cfg.Backends[i]
		if be.URL, err = b.openIfSealed(be.URL); err != nil {
			return nil, err
		}
		if c := be.Credentials; c != nil {
			for _, m := range []map[string][]string{c.Header, c.Query} {
				for _, vs := range m {
					for j := range vs {
						if vs[j], err = b.openIfSealed(vs[j]); err != nil {
							return nil, err
						}
					}
				}
			}
			if a := c.Authorization; a != nil {
				if a.Parameter, err = b.openIfSealed(a.Parameter); err != nil {
					return nil, err
				}
			}
		}
	}
	for i := range cfg.APIs {
		if cfg.APIs[i].ServiceURL, err = b.openIfSealed(cfg.APIs[i].ServiceURL); err != nil {
			return nil, err
		}
	}
	return &cfg, nil
}

// sealNonEmpty seals v unless it is empty.
func (b *backup) sealNonEmpty(v string) string {
	if v == "" {
		return ""
	}
	return b.seal(v)
}

// sealValues returns a copy of m with every value sealed; the names (header
// or query parameter names) stay readable.
func (b *backup) sealValues(m map[string][]string) map[string][]string {
	if m == nil {
		return nil
	}
	out := make(map[string][]string, len(m))
	for name, vs := range m {
		sealed := make([]string, len(vs))
		for i, v := range vs {
			sealed[i] = b.sealNonEmpty(v)
		}
		out[name] = sealed
	}
	return out
}

// sealURL seals a URL that carries user info (a password, or a token as
// the user name); other URLs stay readable.
func (b *backup) sealURL(raw string) string {
	u, err := url.Parse(raw)
	if (err == nil && u.User == nil) || (err != nil && !strings.Contains(raw, "@")) {
		return raw
	}
	return b.seal(raw)
}

// openIfSealed opens v when it was sealed, and returns it as it is
// otherwise (a backup written before the value was encrypted).
func (b *backup) openIfSealed(v string) (string, error) {
	if !strings.HasPrefix(v, encPrefix) {
		return v, nil
	}
	return b.open(v)
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, fsynced, renamed over path, and the directory fsynced.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
