// Package snapshot turns a gateway's configuration into the immutable form
// the gateway serves from.
//
// A [Config] is the serialisable configuration of one gateway at one config
// revision: plain structs with JSON tags, the wire format that self-hosted
// gateways will receive. It never holds a subscription key: subscriptions are
// listed by the lowercase hex SHA-256 of each key (secret.KeyHash).
// Named values and backend credentials are included as they are, because
// policies need them; the transport protects them. The configuration of a
// self-hosted gateway holds only those its APIs need (see [Restrict]), and
// the gateway encrypts them in its backup.
//
// [Compile] builds a [Snapshot] from a Config: the router, the per-API data
// and the key map. Compilation isolates errors per object, as Traefik does:
// a broken API, operation, product or subscription key is skipped and
// reported as an [ObjectError] while every other object stays live. A
// Snapshot is immutable after Compile returns and is safe for concurrent use;
// the gateway swaps whole snapshots, so a request runs on one snapshot from
// start to finish.
//
// Package snapshot does not read the store; internal/snapshot/fromstore does.
package snapshot

import (
	"encoding/json"

	"github.com/portico-gw/portico/internal/model"
)

// Config is the configuration of one gateway at one config revision. Slices
// are ordered by id for a stable encoding; Compile does not rely on it.
// A Config handed to Compile must not be modified afterwards: the Snapshot
// keeps a reference to it.
type Config struct {
	// Revision is the config revision the configuration was read at. The
	// configuration is at least as new as this revision.
	Revision int64 `json:"revision"`
	// GatewayID names the gateway the configuration is for ("managed" is the
	// built-in gateway, which serves every API).
	GatewayID string `json:"gatewayId"`
	// APIs are the APIs assigned to the gateway, each with its operations.
	APIs []API `json:"apis"`
	// Products are all products with the ids of their APIs (restricted to
	// the APIs of this Config; for a self-hosted gateway, only the products
	// that contain one of them).
	Products []Product `json:"products"`
	// Subscriptions maps the lowercase hex SHA-256 of each subscription key
	// (primary and secondary) to the subscription holding it (for a
	// self-hosted gateway, only the subscriptions that can reach its APIs).
	Subscriptions map[string]SubscriptionKey `json:"subscriptions"`
	// Backends are the named backends policies may route to (for a
	// self-hosted gateway, only those its policies name).
	Backends []Backend `json:"backends"`
	// NamedValues are the named values usable in policies as {{name}},
	// secret ones included (for a self-hosted gateway, only those its
	// policies and backends reference).
	NamedValues []NamedValue `json:"namedValues"`
	// Policies are the raw policy documents of every scope relevant to the
	// gateway's APIs: global, products, APIs and operations.
	Policies []Policy `json:"policies"`
	// PolicyFragments are the raw policy fragments (for a self-hosted
	// gateway, only those its policies include).
	PolicyFragments []PolicyFragment `json:"policyFragments"`
	// Hostnames are the hostname configurations of a self-hosted gateway:
	// the TLS certificate to present for each hostname (SNI).
	Hostnames []Hostname `json:"hostnames,omitempty"`
	// InstallationID identifies the Portico installation (the store) the
	// configuration comes from; "" from a store or management plane that
	// has none. Gateways that share a Redis prefix their rate-limit,
	// quota and concurrency counters and cache entries with it, so that
	// the gateways of one installation share them and those of another
	// installation on the same Redis do not (portico --redis-prefix).
	InstallationID string `json:"installationId,omitempty"`
	// DebugTokenKey is the key (base64url, no padding) that verifies the
	// policy debugger's debug tokens for this gateway. It is set only in
	// the configuration of a self-hosted gateway, by the config endpoint,
	// and is that gateway's alone (derived from its primary key, see
	// gwsync.DebugTokenKey); gateways keep it encrypted in their backups.
	DebugTokenKey string `json:"debugTokenKey,omitempty"`
}

// Hostname is one hostname configuration. KeyPEM is the certificate's
// private key: gateways keep it encrypted in their backups.
type Hostname struct {
	ID                         string `json:"id"`
	Hostname                   string `json:"hostname"`
	CertificatePEM             string `json:"certificatePem,omitempty"`
	KeyPEM                     string `json:"keyPem,omitempty"`
	HTTP2Enabled               bool   `json:"http2Enabled"`
	NegotiateClientCertificate bool   `json:"negotiateClientCertificate"`
}

// API is one API as the gateway needs it.
type API struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	// Path is the API's URL suffix without surrounding slashes; "" serves
	// the root.
	Path string `json:"path"`
	// ServiceURL is the backend base URL requests are forwarded to.
	ServiceURL string   `json:"serviceUrl"`
	Protocols  []string `json:"protocols,omitempty"`
	// SubscriptionRequired tells whether calls need a subscription key
	// (unless a published open product contains the API).
	SubscriptionRequired bool `json:"subscriptionRequired"`
	// SubscriptionKeyParameterNames names the header and query parameter of
	// the key; empty names mean APIM's defaults.
	SubscriptionKeyParameterNames model.KeyParameterNames `json:"subscriptionKeyParameterNames"`
	APIVersion                    string                  `json:"apiVersion,omitempty"`
	Type                          string                  `json:"type,omitempty"`
	// MaxRequestBodyBytes limits request bodies; 0 means the gateway default.
	MaxRequestBodyBytes int64 `json:"maxRequestBodyBytes,omitempty"`
	// AllowEncodedSlashes lets request paths hold %2F and %5C.
	AllowEncodedSlashes bool        `json:"allowEncodedSlashes,omitempty"`
	Operations          []Operation `json:"operations"`
}

// Operation is one operation of an API.
type Operation struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	// Method is an HTTP method or "*".
	Method string `json:"method"`
	// URLTemplate is relative to the API path, e.g. "/users/{id}".
	URLTemplate string `json:"urlTemplate"`
	// Examples are the example responses of the operation's description,
	// which mock-response answers with: one per status code and content
	// type, nothing else of the description.
	Examples []ResponseExample `json:"examples,omitempty"`
}

// ResponseExample is one example response of an operation.
type ResponseExample struct {
	StatusCode  int    `json:"statusCode"`
	ContentType string `json:"contentType"`
	// Value is the example as JSON. A JSON string is sent as its text when
	// the content type is not JSON (an XML or plain-text example); any
	// other value is sent as it is.
	Value json.RawMessage `json:"value"`
}

// Product is one product and the APIs it contains.
type Product struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	// State is "published" or "notPublished".
	State                string `json:"state"`
	SubscriptionRequired bool   `json:"subscriptionRequired"`
	// APIs are the ids of the product's APIs.
	APIs []string `json:"apis"`
}

// SubscriptionKey describes the subscription holding one key. The key itself
// is never part of a Config; only its hash, the map key in
// Config.Subscriptions, is.
type SubscriptionKey struct {
	SubscriptionID string `json:"subscriptionId"`
	// Key tells which key of the subscription this is: "primary" or
	// "secondary".
	Key string `json:"key"`
	// Scope is "/apis", "/apis/{apiId}" or "/products/{productId}".
	Scope string `json:"scope"`
	// State is the subscription's state; only "active" admits calls.
	State string `json:"state"`
	// OwnerID is the owning user's id (not the "/users/…" path), or "".
	OwnerID string `json:"ownerId,omitempty"`
	// ProductID is the product of a product-scoped subscription, or "".
	ProductID string `json:"productId,omitempty"`
	// AllowTracing lets calls with this key ask for a policy trace
	// (Ocp-Apim-Trace: true).
	AllowTracing bool `json:"allowTracing,omitempty"`
}

// Backend is one named backend.
type Backend struct {
	ID string `json:"id"`
	model.Backend
}

// NamedValue is one named value.
type NamedValue struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Value       string `json:"value"`
	Secret      bool   `json:"secret"`
}

// Policy is the raw policy document of one scope.
type Policy struct {
	// Scope is "global", "products/{id}", "apis/{id}" or
	// "apis/{id}/operations/{opId}".
	Scope  string `json:"scope"`
	Format string `json:"format"`
	Value  string `json:"value"`
}

// PolicyFragment is one raw policy fragment.
type PolicyFragment struct {
	ID     string `json:"id"`
	Format string `json:"format"`
	Value  string `json:"value"`
}
