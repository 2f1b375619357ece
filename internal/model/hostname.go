package model

import (
	"crypto/tls"
	"regexp"
	"strings"
)

var hostnamePattern = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// HostnameConfiguration is a hostname a self-hosted gateway answers on, with
// the TLS certificate it presents for it (chosen by SNI). KeyPEM is
// write-only: it reaches the gateway's configuration but is never returned
// by the management API.
type HostnameConfiguration struct {
	Hostname                   string `json:"hostname"`
	CertificatePEM             string `json:"certificatePem,omitempty"`
	KeyPEM                     string `json:"keyPem,omitempty"`
	HTTP2Enabled               *bool  `json:"http2Enabled"`
	NegotiateClientCertificate bool   `json:"negotiateClientCertificate"`
}

// Normalize lower-cases the hostname and enables HTTP/2 by default.
func (h *HostnameConfiguration) Normalize() {
	h.Hostname = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h.Hostname)), ".")
	if h.HTTP2Enabled == nil {
		t := true
		h.HTTP2Enabled = &t
	}
}

// Validate checks the hostname and that the certificate and key form a pair.
func (h *HostnameConfiguration) Validate() FieldErrors {
	var fe FieldErrors
	if !hostnamePattern.MatchString(h.Hostname) || len(h.Hostname) > 253 {
		fe.Add("hostname", "must be a DNS name, optionally starting with *. (e.g. api.example.com, *.example.com), got %q", h.Hostname)
	}
	switch {
	case h.CertificatePEM == "" && h.KeyPEM != "":
		fe.Add("certificatePem", "is required with keyPem")
	case h.CertificatePEM == "" || h.KeyPEM == "":
		// a certificate without its key: the management plane keeps the
		// stored key when the certificate did not change
	default:
		if _, err := tls.X509KeyPair([]byte(h.CertificatePEM), []byte(h.KeyPEM)); err != nil {
			fe.Add("certificatePem", "certificatePem and keyPem are not a valid PEM certificate and private key pair: %v", err)
		}
	}
	return fe
}
