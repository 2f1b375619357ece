package model

// Kind names a kind of stored resource. It is the kind the store files a
// record under, the "kind" of an audit entry, and the key of the management
// plane's per-kind rules; the management API serves each REST kind under
// its plural collection (KindAPI under /apis).
type Kind string

// Resource kinds with a REST collection.
const (
	KindAPI                   Kind = "api"
	KindOperation             Kind = "operation" // nested under an API
	KindProduct               Kind = "product"
	KindSubscription          Kind = "subscription"
	KindUser                  Kind = "user"
	KindGroup                 Kind = "group"
	KindBackend               Kind = "backend"
	KindNamedValue            Kind = "namedValue"
	KindPolicyFragment        Kind = "policyFragment"
	KindGateway               Kind = "gateway"
	KindHostnameConfiguration Kind = "hostnameConfiguration" // nested under a gateway
)

// Stored kinds without a REST collection of their own.
const (
	// KindPolicy is a policy document; its id is its scope: "global",
	// "products/{id}", "apis/{id}" or "apis/{id}/operations/{opId}".
	KindPolicy Kind = "policy"
	// KindAPIDefinition is the imported OpenAPI document of an API.
	KindAPIDefinition Kind = "apiDefinition"
	// KindMeta is instance metadata (seeding, the echo backend's URL).
	KindMeta Kind = "meta"
)

// KindAllAPIs is what ScopeKind reports for the scope "/apis" of a
// subscription to every API. It is not a stored kind.
const KindAllAPIs Kind = "allApis"

// Relation names a link between two resources, stored as (relation, from,
// to) and served by the management API as a sub-collection of from.
type Relation string

// Relations between resources.
const (
	RelProductAPI   Relation = "productApi"   // product -> API: the product's APIs
	RelProductGroup Relation = "productGroup" // product -> group: who sees the product
	RelGroupUser    Relation = "groupUser"    // group -> user: the group's members
	RelGatewayAPI   Relation = "gatewayApi"   // self-hosted gateway -> API it serves
)

// ManagedGatewayID is the id of the built-in gateway (run by portico serve),
// which serves every API that is not assigned to a self-hosted gateway. No
// gateway resource may take this id.
const ManagedGatewayID = "managed"
