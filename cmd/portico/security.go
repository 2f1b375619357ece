package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/secret"
)

// Secure defaults: the management API, the admin console and the ops
// endpoints listen on loopback unless told otherwise; secrets can come from
// files; the admin token has a minimum length; the management address can
// serve TLS.

const (
	defaultMgmtAddr       = "127.0.0.1:8001"
	defaultOpsAddr        = "127.0.0.1:8081"
	defaultTrustedProxies = "127.0.0.0/8,::1/128"

	// minAdminTokenLen is the shortest admin token accepted.
	minAdminTokenLen = 32
)

// secretFlags are the flags that hold secrets: each has a --<name>-file
// twin (and its PORTICO_*_FILE variable) naming a file to read the value
// from, so that it stays out of the process list and the environment.
var secretFlags = []string{"store", "token", "redis", "smtp-password"}

// addSecurityFlags registers the flags of this file.
func addSecurityFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.mgmtTLSCert, "mgmt-tls-cert", "", "PEM certificate (chain) to serve the management API and admin console over HTTPS")
	fs.StringVar(&o.mgmtTLSKey, "mgmt-tls-key", "", "PEM private key of --mgmt-tls-cert")
	fs.StringVar(&o.adminTokenFile, "admin-token-file", "", "file holding the admin token (default <data-dir>/admin-token, created on first start); PORTICO_ADMIN_TOKEN sets the token itself")
	o.trustedProxies, _ = parsePrefixes(defaultTrustedProxies)
	fs.Func("trusted-proxies", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-Proto: https makes the portal's and console's cookies Secure (\"\" trusts none; default "+defaultTrustedProxies+")", func(v string) error {
		p, err := parsePrefixes(v)
		o.trustedProxies = p
		return err
	})
	fs.DurationVar(&o.bodyReadTimeout, "body-read-timeout", gateway.DefaultBodyReadTimeout, "gateway: longest wait for the next bytes of a request body (408 after it; 0: no limit)")
	for _, name := range secretFlags {
		fs.String(name+"-file", "", "file holding the value of --"+name+" (trailing white space removed)")
	}
}

// readSecretFiles sets each secret flag given as a file. given holds the
// flags set on the command line or from the environment.
func readSecretFiles(fs *flag.FlagSet, given map[string]bool) error {
	var errs []error
	for _, name := range secretFlags {
		ff := fs.Lookup(name + "-file")
		if ff == nil || ff.Value.String() == "" {
			continue
		}
		if given[name] {
			errs = append(errs, fmt.Errorf("--%s and --%s-file (or their variables) are both set: give one", name, name))
			continue
		}
		v, err := readSecretFile(ff.Value.String())
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s-file: %w", name, err))
			continue
		}
		if err := fs.Lookup(name).Value.Set(v); err != nil {
			errs = append(errs, fmt.Errorf("--%s-file: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// readSecretFile reads a secret, without surrounding white space (a file
// written by echo or an editor ends with a newline).
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return v, nil
}

// adminToken returns the admin token and where it came from: the variable
// PORTICO_ADMIN_TOKEN, else --admin-token-file (PORTICO_ADMIN_TOKEN_FILE),
// else <data-dir>/admin-token, created with a new random token (mode 0600)
// when missing; created reports that (the token is then shown once). A
// token shorter than 32 characters is refused.
func adminToken(o *options) (token, source string, created bool, err error) {
	env := strings.TrimSpace(os.Getenv("PORTICO_ADMIN_TOKEN"))
	switch {
	case env != "" && o.adminTokenFile != "":
		return "", "", false, errors.New("PORTICO_ADMIN_TOKEN and --admin-token-file (PORTICO_ADMIN_TOKEN_FILE) are both set: give one")
	case env != "":
		token, source = env, "PORTICO_ADMIN_TOKEN"
	case o.adminTokenFile != "":
		if token, err = readSecretFile(o.adminTokenFile); err != nil {
			return "", "", false, fmt.Errorf("--admin-token-file: %w", err)
		}
		source = o.adminTokenFile
	default:
		source = filepath.Join(o.dataDir, "admin-token")
		b, err := os.ReadFile(source)
		switch {
		case err == nil:
			token = strings.TrimSpace(string(b))
		case !errors.Is(err, os.ErrNotExist):
			return "", "", false, fmt.Errorf("read admin token: %w", err)
		}
		if token == "" {
			token, created = secret.NewToken(), true
			if err := os.WriteFile(source, []byte(token+"\n"), 0o600); err != nil {
				return "", "", false, fmt.Errorf("write admin token: %w", err)
			}
		}
	}
	if n := len(token); n < minAdminTokenLen {
		return "", "", false, fmt.Errorf("the admin token from %s has %d characters; at least %d are required (for example: openssl rand -hex 32)", source, n, minAdminTokenLen)
	}
	return token, source, created, nil
}

// parsePrefixes parses a comma-separated list of addresses and CIDR
// ranges; an address stands for itself alone.
func parsePrefixes(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, err
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, err
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// mgmtTLS is the management address's TLS configuration; nil without
// --mgmt-tls-cert.
func mgmtTLS(o *options) (*tls.Config, error) {
	if (o.mgmtTLSCert == "") != (o.mgmtTLSKey == "") {
		return nil, errors.New("--mgmt-tls-cert and --mgmt-tls-key must be given together")
	}
	if o.mgmtTLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(o.mgmtTLSCert, o.mgmtTLSKey)
	if err != nil {
		return nil, fmt.Errorf("management API: load TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// gatewayBodyReadTimeout maps --body-read-timeout to gateway.Config (0
// there is the default, negative no limit).
func gatewayBodyReadTimeout(o *options) time.Duration {
	if o.bodyReadTimeout <= 0 {
		return -1
	}
	return o.bodyReadTimeout
}

// dataDirTooOpen reports whether other users may enter dir (it holds the
// admin token, the store and backups).
func dataDirTooOpen(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.Mode().Perm()&0o077 != 0
}
