package gateway

import (
	"crypto/tls"
	"strings"
	"sync"

	"github.com/portico-gw/portico/internal/snapshot"
)

// hostCerts are the certificates of one snapshot's hostname
// configurations, parsed once per snapshot.
type hostCerts struct {
	snap  *snapshot.Snapshot
	exact map[string]*tls.Certificate
	wild  map[string]*tls.Certificate // by the suffix after "*."
	noH2  map[string]bool             // hostnames with http2Enabled false
}

// TLSConfig returns the TLS configuration of a gateway that presents, for
// each client's SNI, the certificate of the matching hostname configuration
// of the snapshot being served (exact name first, then a *. wildcard), and
// fallback otherwise (--tls-cert). HTTP/2 is offered unless the hostname
// configuration disables it. Certificates follow configuration changes
// without a restart.
func (g *Gateway) TLSConfig(fallback []tls.Certificate) *tls.Config {
	var mu sync.Mutex
	var cur *hostCerts
	certs := func() *hostCerts {
		s := g.Snapshot()
		mu.Lock()
		defer mu.Unlock()
		if cur != nil && cur.snap == s {
			return cur
		}
		hc := &hostCerts{snap: s, exact: map[string]*tls.Certificate{}, wild: map[string]*tls.Certificate{}, noH2: map[string]bool{}}
		if s != nil {
			for _, h := range s.Config().Hostnames {
				if !h.HTTP2Enabled {
					hc.noH2[h.Hostname] = true
				}
				if h.CertificatePEM == "" {
					continue
				}
				c, err := tls.X509KeyPair([]byte(h.CertificatePEM), []byte(h.KeyPEM))
				if err != nil {
					g.log.Warn("hostname configuration has an unusable certificate", "hostname", h.Hostname, "err", err)
					continue
				}
				if suffix, ok := strings.CutPrefix(h.Hostname, "*."); ok {
					hc.wild[suffix] = &c
				} else {
					hc.exact[h.Hostname] = &c
				}
			}
		}
		cur = hc
		return hc
	}
	base := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: fallback, NextProtos: []string{"h2", "http/1.1"}}
	base.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		hc := certs()
		name := strings.TrimSuffix(strings.ToLower(hello.ServerName), ".")
		cert := hc.exact[name]
		pattern := name
		if cert == nil {
			if _, rest, ok := strings.Cut(name, "."); ok {
				cert, pattern = hc.wild[rest], "*."+rest
			}
		}
		cfg := base.Clone()
		cfg.GetConfigForClient = nil
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		if hc.noH2[name] || hc.noH2[pattern] {
			cfg.NextProtos = []string{"http/1.1"}
		}
		if len(cfg.Certificates) == 0 {
			return nil, errNoCertificate(name)
		}
		return cfg, nil
	}
	return base
}

type errNoCertificate string

func (e errNoCertificate) Error() string {
	return "no certificate for " + string(e) + ": add a hostname configuration or --tls-cert"
}
