package mgmtclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/store"
)

// Resources as the management API renders them: the id (the API's "name",
// e.g. "echo-api") and the model's properties. Write-only and secret
// properties (passwords, subscription keys, secret named values) come back
// empty.
type (
	// API is an API read back.
	API struct {
		Name string `json:"name"`
		model.API
	}
	// Operation is an operation of an API read back.
	Operation struct {
		Name string `json:"name"`
		model.Operation
	}
	// Product is a product read back.
	Product struct {
		Name string `json:"name"`
		model.Product
	}
	// Subscription is a subscription read back (without its keys).
	Subscription struct {
		Name string `json:"name"`
		model.Subscription
	}
	// User is a user read back (without password or hash).
	User struct {
		Name string `json:"name"`
		model.User
	}
	// Group is a group read back.
	Group struct {
		Name string `json:"name"`
		model.Group
	}
	// Backend is a backend read back.
	Backend struct {
		Name string `json:"name"`
		model.Backend
	}
	// NamedValue is a named value read back (a secret one without value).
	NamedValue struct {
		Name string `json:"name"`
		model.NamedValue
	}
	// Gateway is a gateway read back.
	Gateway struct {
		Name string `json:"name"`
		model.Gateway
	}
)

// Revision is the current configuration revision.
func (c *Client) Revision(ctx context.Context) (int64, error) {
	var v struct {
		Revision int64 `json:"revision"`
	}
	err := c.Get(ctx, "/api/v1/revision", &v)
	return v.Revision, err
}

// APIs

// ListAPIs lists every API.
func (c *Client) ListAPIs(ctx context.Context) ([]API, error) {
	return list[API](ctx, c, "/api/v1/apis", "")
}

// CountAPIs counts the APIs.
func (c *Client) CountAPIs(ctx context.Context) (int, error) {
	return c.count(ctx, "/api/v1/apis", "")
}

// GetAPI reads one API.
func (c *Client) GetAPI(ctx context.Context, id string) (API, error) {
	return get[API](ctx, c, "/api/v1/apis/"+seg(id))
}

// PutAPI creates or replaces an API.
func (c *Client) PutAPI(ctx context.Context, id string, a model.API) error {
	return c.Call(ctx, http.MethodPut, "/api/v1/apis/"+seg(id), a, nil)
}

// APIPatch changes some properties of an API.
type APIPatch struct {
	DisplayName          Opt[string]   `json:"displayName,omitzero"`
	Description          Opt[string]   `json:"description,omitzero"`
	Path                 Opt[string]   `json:"path,omitzero"`
	ServiceURL           Opt[string]   `json:"serviceUrl,omitzero"`
	SubscriptionRequired Opt[bool]     `json:"subscriptionRequired,omitzero"`
	Tags                 Opt[[]string] `json:"tags,omitzero"`
}

// UpdateAPI applies a patch to an API.
func (c *Client) UpdateAPI(ctx context.Context, id string, p APIPatch) error {
	return c.Call(ctx, http.MethodPatch, "/api/v1/apis/"+seg(id), p, nil)
}

// DeleteAPI deletes an API with its operations, policies and the
// subscriptions scoped to it.
func (c *Client) DeleteAPI(ctx context.Context, id string) error {
	return c.Call(ctx, http.MethodDelete, "/api/v1/apis/"+seg(id), nil, nil)
}

// Import is an API definition to import: Format is openapi, openapi+json,
// swagger-json or swagger-yaml and Value the document. Path and ServiceURL,
// when not empty, override the document's.
type Import struct {
	Format     string `json:"format"`
	Value      string `json:"value"`
	Path       string `json:"path,omitempty"`
	ServiceURL string `json:"serviceUrl,omitempty"`
}

// ImportAPI creates or replaces an API from a definition and returns the
// number of operations imported.
func (c *Client) ImportAPI(ctx context.Context, id string, in Import) (operations int, err error) {
	res, err := c.call(ctx, http.MethodPut, "/api/v1/apis/"+seg(id), in, nil)
	if err != nil {
		return 0, err
	}
	n, _ := strconv.Atoi(res.Header.Get("Portico-Import-Operations"))
	return n, nil
}

// ExportAPI returns an API's definition in format (openapi+json or openapi
// for YAML).
func (c *Client) ExportAPI(ctx context.Context, id, format string) ([]byte, error) {
	res := c.Raw(ctx, http.MethodGet, "/api/v1/apis/"+seg(id)+"?export="+url.QueryEscape(format), "", nil)
	if err := res.Err(); err != nil {
		return nil, err
	}
	return res.Body, nil
}

// APIProducts lists the products that hold an API.
func (c *Client) APIProducts(ctx context.Context, id string) ([]Product, error) {
	return list[Product](ctx, c, "/api/v1/apis/"+seg(id)+"/products", "")
}

// Operations

// ListOperations lists the operations of an API.
func (c *Client) ListOperations(ctx context.Context, apiID string) ([]Operation, error) {
	return list[Operation](ctx, c, "/api/v1/apis/"+seg(apiID)+"/operations", "")
}

// GetOperation reads one operation of an API.
func (c *Client) GetOperation(ctx context.Context, apiID, id string) (Operation, error) {
	return get[Operation](ctx, c, "/api/v1/apis/"+seg(apiID)+"/operations/"+seg(id))
}

// PutOperation creates or replaces an operation of an API.
func (c *Client) PutOperation(ctx context.Context, apiID, id string, o model.Operation) error {
	return c.Call(ctx, http.MethodPut, "/api/v1/apis/"+seg(apiID)+"/operations/"+seg(id), o, nil)
}

// OperationPatch changes some properties of an operation.
type OperationPatch struct {
	DisplayName Opt[string] `json:"displayName,omitzero"`
	Method      Opt[string] `json:"method,omitzero"`
	URLTemplate Opt[string] `json:"urlTemplate,omitzero"`
	Description Opt[string] `json:"description,omitzero"`
}

// UpdateOperation applies a patch to an operation.
func (c *Client) UpdateOperation(ctx context.Context, apiID, id string, p OperationPatch) error {
	return c.Call(ctx, http.MethodPatch, "/api/v1/apis/"+seg(apiID)+"/operations/"+seg(id), p, nil)
}

// DeleteOperation deletes an operation and its policy.
func (c *Client) DeleteOperation(ctx context.Context, apiID, id string) error {
	return c.Call(ctx, http.MethodDelete, "/api/v1/apis/"+seg(apiID)+"/operations/"+seg(id), nil, nil)
}

// Policies. A scope is "global", "products/{id}", "apis/{id}" or
// "apis/{id}/operations/{id}".

func policyPath(scope string) string {
	if scope == "global" {
		return "/api/v1/policy"
	}
	return "/api/v1/" + scope + "/policy"
}

// GetPolicy returns the policy document at scope. A scope without a
// document of its own is a 404 whose detail names the "policy at scope".
func (c *Client) GetPolicy(ctx context.Context, scope string) (string, error) {
	res := c.Raw(ctx, http.MethodGet, policyPath(scope), "", nil, "Accept", "application/xml")
	if err := res.Err(); err != nil {
		return "", err
	}
	return string(res.Body), nil
}

// PutPolicy stores the policy document at scope; it must compile.
func (c *Client) PutPolicy(ctx context.Context, scope, xml string) error {
	return c.Raw(ctx, http.MethodPut, policyPath(scope), "application/xml", []byte(xml)).Err()
}

// DeletePolicy removes the policy document at scope.
func (c *Client) DeletePolicy(ctx context.Context, scope string) error {
	return c.Call(ctx, http.MethodDelete, policyPath(scope), nil, nil)
}

// Products

// ListProducts lists the products matching filter (an OData filter such as
// Eq("state", model.ProductPublished), or "" for all).
func (c *Client) ListProducts(ctx context.Context, filter string) ([]Product, error) {
	return list[Product](ctx, c, "/api/v1/products", filter)
}

// CountProducts counts the products.
func (c *Client) CountProducts(ctx context.Context) (int, error) {
	return c.count(ctx, "/api/v1/products", "")
}

// GetProduct reads one product.
func (c *Client) GetProduct(ctx context.Context, id string) (Product, error) {
	return get[Product](ctx, c, "/api/v1/products/"+seg(id))
}

// PutProduct creates or replaces a product.
func (c *Client) PutProduct(ctx context.Context, id string, p model.Product) error {
	return c.Call(ctx, http.MethodPut, "/api/v1/products/"+seg(id), p, nil)
}

// ProductPatch changes some properties of a product.
type ProductPatch struct {
	DisplayName          Opt[string] `json:"displayName,omitzero"`
	Description          Opt[string] `json:"description,omitzero"`
	Terms                Opt[string] `json:"terms,omitzero"`
	State                Opt[string] `json:"state,omitzero"`
	SubscriptionRequired Opt[bool]   `json:"subscriptionRequired,omitzero"`
	ApprovalRequired     Opt[bool]   `json:"approvalRequired,omitzero"`
	SubscriptionsLimit   Opt[int]    `json:"subscriptionsLimit,omitzero"`
}

// UpdateProduct applies a patch to a product.
func (c *Client) UpdateProduct(ctx context.Context, id string, p ProductPatch) error {
	return c.Call(ctx, http.MethodPatch, "/api/v1/products/"+seg(id), p, nil)
}

// DeleteProduct deletes a product; a product with subscriptions is refused
// (409) unless deleteSubscriptions is set.
func (c *Client) DeleteProduct(ctx context.Context, id string, deleteSubscriptions bool) error {
	return c.Call(ctx, http.MethodDelete, "/api/v1/products/"+seg(id)+deleteSubsQuery(deleteSubscriptions), nil, nil)
}

func deleteSubsQuery(yes bool) string {
	if yes {
		return "?deleteSubscriptions=true"
	}
	return ""
}

// ProductAPIs lists a product's APIs.
func (c *Client) ProductAPIs(ctx context.Context, id string) ([]API, error) {
	return list[API](ctx, c, "/api/v1/products/"+seg(id)+"/apis", "")
}

// ProductGroups lists the groups that see a product.
func (c *Client) ProductGroups(ctx context.Context, id string) ([]Group, error) {
	return list[Group](ctx, c, "/api/v1/products/"+seg(id)+"/groups", "")
}

// AddProductAPI adds an API to a product.
func (c *Client) AddProductAPI(ctx context.Context, id, apiID string) error {
	return c.Call(ctx, http.MethodPut, "/api/v1/products/"+seg(id)+"/apis/"+seg(apiID), nil, nil)
}

// RemoveProductAPI removes an API from a product.
func (c *Client) RemoveProductAPI(ctx context.Context, id, apiID string) error {
	return c.Call(ctx, http.MethodDelete, "/api/v1/products/"+seg(id)+"/apis/"+seg(apiID), nil, nil)
}

// AddProductGroup makes a product visible to a group.
func (c *Client) AddProductGroup(ctx context.Context, id, groupID string) error {
	return c.Call(ctx, http.MethodPut, "/api/v1/products/"+seg(id)+"/groups/"+seg(groupID), nil, nil)
}

// RemoveProductGroup hides a product from a group.
func (c *Client) RemoveProductGroup(ctx context.Context, id, groupID string) error {
	return c.Call(ctx, http.MethodDelete, "/api/v1/products/"+seg(id)+"/groups/"+seg(groupID), nil, nil)
}

// CountProductSubscriptions counts the subscriptions to a product.
func (c *Client) CountProductSubscriptions(ctx context.Context, id string) (int, error) {
	return c.count(ctx, "/api/v1/products/"+seg(id)+"/subscriptions", "")
}

// Subscriptions

// ListSubscriptions lists the subscriptions matching filter (an OData
// filter such as Eq("state", model.SubSubmitted), or "" for all).
func (c *Client) ListSubscriptions(ctx context.Context, filter string) ([]Subscription, error) {
	return list[Subscription](ctx, c, "/api/v1/subscriptions", filter)
}

// CountSubscriptions counts the subscriptions matching filter.
func (c *Client) CountSubscriptions(ctx context.Context, filter string) (int, error) {
	return c.count(ctx, "/api/v1/subscriptions", filter)
}

// UserSubscriptions lists the subscriptions a user owns.
func (c *Client) UserSubscriptions(ctx context.Context, userID string) ([]Subscription, error) {
	return list[Subscription](ctx, c, "/api/v1/users/"+seg(userID)+"/subscriptions", "")
}

// GetSubscription reads one subscription (without its keys).
func (c *Client) GetSubscription(ctx context.Context, id string) (Subscription, error) {
	return get[Subscription](ctx, c, "/api/v1/subscriptions/"+seg(id))
}

// PutSubscription creates or replaces a subscription; keys left empty are
// generated.
func (c *Client) PutSubscription(ctx context.Context, id string, s model.Subscription) error {
	return c.Call(ctx, http.MethodPut, "/api/v1/subscriptions/"+seg(id), s, nil)
}

// SubscriptionPatch changes some properties of a subscription.
type SubscriptionPatch struct {
	DisplayName  Opt[string] `json:"displayName,omitzero"`
	State        Opt[string] `json:"state,omitzero"`
	StateComment Opt[string] `json:"stateComment,omitzero"`
}

// UpdateSubscription applies a patch to a subscription.
func (c *Client) UpdateSubscription(ctx context.Context, id string, p SubscriptionPatch) error {
	return c.Call(ctx, http.MethodPatch, "/api/v1/subscriptions/"+seg(id), p, nil)
}

// Secrets are a subscription's keys.
type Secrets struct {
	PrimaryKey   string `json:"primaryKey"`
	SecondaryKey string `json:"secondaryKey"`
}

// SubscriptionSecrets returns a subscription's keys.
func (c *Client) SubscriptionSecrets(ctx context.Context, id string) (Secrets, error) {
	var s Secrets
	err := c.Call(ctx, http.MethodPost, "/api/v1/subscriptions/"+seg(id)+"/listSecrets", nil, &s)
	return s, err
}

// Key names one of the two keys of a subscription or a gateway.
type Key string

// The two keys.
const (
	Primary   Key = "primary"
	Secondary Key = "secondary"
)

// RegenerateSubscriptionKey replaces one key of a subscription.
func (c *Client) RegenerateSubscriptionKey(ctx context.Context, id string, which Key) error {
	action := "/regeneratePrimaryKey"
	if which == Secondary {
		action = "/regenerateSecondaryKey"
	}
	return c.Call(ctx, http.MethodPost, "/api/v1/subscriptions/"+seg(id)+action, nil, nil)
}

// Users

// ListUsers lists the users matching filter (an OData filter, or "").
func (c *Client) ListUsers(ctx context.Context, filter string) ([]User, error) {
	return list[User](ctx, c, "/api/v1/users", filter)
}

// CountUsers counts the users.
func (c *Client) CountUsers(ctx context.Context) (int, error) {
	return c.count(ctx, "/api/v1/users", "")
}

// GetUser reads one user.
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	return get[User](ctx, c, "/api/v1/users/"+seg(id))
}

// PutUser creates or replaces a user; a new user joins the Developers.
func (c *Client) PutUser(ctx context.Context, id string, u model.User) error {
	return c.Call(ctx, http.MethodPut, "/api/v1/users/"+seg(id), u, nil)
}

// UserPatch changes some properties of a user. Password is hashed by the
// management plane.
type UserPatch struct {
	FirstName Opt[string] `json:"firstName,omitzero"`
	LastName  Opt[string] `json:"lastName,omitzero"`
	State     Opt[string] `json:"state,omitzero"`
	Note      Opt[string] `json:"note,omitzero"`
	Password  Opt[string] `json:"password,omitzero"`
}

// UpdateUser applies a patch to a user.
func (c *Client) UpdateUser(ctx context.Context, id string, p UserPatch) error {
	return c.Call(ctx, http.MethodPatch, "/api/v1/users/"+seg(id), p, nil)
}

// DeleteUser deletes a user; one who owns subscriptions is refused (409)
// unless deleteSubscriptions is set.
func (c *Client) DeleteUser(ctx context.Context, id string, deleteSubscriptions bool) error {
	return c.Call(ctx, http.MethodDelete, "/api/v1/users/"+seg(id)+deleteSubsQuery(deleteSubscriptions), nil, nil)
}

// UserGroups lists the groups a user belongs to explicitly (not the
// implicit Developers).
func (c *Client) UserGroups(ctx context.Context, id string) ([]Group, error) {
	return list[Group](ctx, c, "/api/v1/users/"+seg(id)+"/groups", "")
}

// Groups

// ListGroups lists every group.
func (c *Client) ListGroups(ctx context.Context) ([]Group, error) {
	return list[Group](ctx, c, "/api/v1/groups", "")
}

// PutGroup creates or replaces a group.
func (c *Client) PutGroup(ctx context.Context, id string, g model.Group) error {
	return c.Call(ctx, http.MethodPut, "/api/v1/groups/"+seg(id), g, nil)
}

// DeleteGroup deletes a group.
func (c *Client) DeleteGroup(ctx context.Context, id string) error {
	return c.Call(ctx, http.MethodDelete, "/api/v1/groups/"+seg(id), nil, nil)
}

// AddGroupUser adds a user to a group.
func (c *Client) AddGroupUser(ctx context.Context, groupID, userID string) error {
	return c.Call(ctx, http.MethodPut, "/api/v1/groups/"+seg(groupID)+"/users/"+seg(userID), nil, nil)
}

// RemoveGroupUser removes a user from a group.
func (c *Client) RemoveGroupUser(ctx context.Context, groupID, userID string) error {
	return c.Call(ctx, http.MethodDelete, "/api/v1/groups/"+seg(groupID)+"/users/"+seg(userID), nil, nil)
}

// Backends

// ListBackends lists every backend.
func (c *Client) ListBackends(ctx context.Context) ([]Backend, error) {
	return list[Backend](ctx, c, "/api/v1/backends", "")
}

// PutBackend creates or replaces a backend.
func (c *Client) PutBackend(ctx context.Context, id string, b model.Backend) error {
	return c.Call(ctx, http.MethodPut, "/api/v1/backends/"+seg(id), b, nil)
}

// DeleteBackend deletes a backend.
func (c *Client) DeleteBackend(ctx context.Context, id string) error {
	return c.Call(ctx, http.MethodDelete, "/api/v1/backends/"+seg(id), nil, nil)
}

// Named values

// ListNamedValues lists every named value (secret ones without value).
func (c *Client) ListNamedValues(ctx context.Context) ([]NamedValue, error) {
	return list[NamedValue](ctx, c, "/api/v1/namedValues", "")
}

// PutNamedValue creates or replaces a named value.
func (c *Client) PutNamedValue(ctx context.Context, id string, nv model.NamedValue) error {
	return c.Call(ctx, http.MethodPut, "/api/v1/namedValues/"+seg(id), nv, nil)
}

// DeleteNamedValue deletes a named value.
func (c *Client) DeleteNamedValue(ctx context.Context, id string) error {
	return c.Call(ctx, http.MethodDelete, "/api/v1/namedValues/"+seg(id), nil, nil)
}

// Gateways

// ListGateways lists the self-hosted gateways.
func (c *Client) ListGateways(ctx context.Context) ([]Gateway, error) {
	return list[Gateway](ctx, c, "/api/v1/gateways", "")
}

// GetGateway reads one gateway.
func (c *Client) GetGateway(ctx context.Context, id string) (Gateway, error) {
	return get[Gateway](ctx, c, "/api/v1/gateways/"+seg(id))
}

// PutGateway creates or replaces a gateway.
func (c *Client) PutGateway(ctx context.Context, id string, g model.Gateway) error {
	return c.Call(ctx, http.MethodPut, "/api/v1/gateways/"+seg(id), g, nil)
}

// DeleteGateway deletes a gateway and its keys.
func (c *Client) DeleteGateway(ctx context.Context, id string) error {
	return c.Call(ctx, http.MethodDelete, "/api/v1/gateways/"+seg(id), nil, nil)
}

// GatewayAPIs lists the APIs assigned to a gateway.
func (c *Client) GatewayAPIs(ctx context.Context, id string) ([]API, error) {
	return list[API](ctx, c, "/api/v1/gateways/"+seg(id)+"/apis", "")
}

// AddGatewayAPI assigns an API to a gateway.
func (c *Client) AddGatewayAPI(ctx context.Context, id, apiID string) error {
	return c.Call(ctx, http.MethodPut, "/api/v1/gateways/"+seg(id)+"/apis/"+seg(apiID), nil, nil)
}

// RemoveGatewayAPI takes an API off a gateway.
func (c *Client) RemoveGatewayAPI(ctx context.Context, id, apiID string) error {
	return c.Call(ctx, http.MethodDelete, "/api/v1/gateways/"+seg(id)+"/apis/"+seg(apiID), nil, nil)
}

// GatewayInstances lists the instances of a gateway by their last
// heartbeat.
func (c *Client) GatewayInstances(ctx context.Context, id string) ([]gwsync.InstanceView, error) {
	return list[gwsync.InstanceView](ctx, c, "/api/v1/gateways/"+seg(id)+"/instances", "")
}

// GatewayToken is a token for a gateway's instances, as the gateway's
// --token (the value includes the scheme).
type GatewayToken struct {
	Value  string `json:"value"`
	Expiry string `json:"expiry"`
}

// GenerateGatewayToken signs a token for a gateway with one of its keys,
// valid until expiry (at most 30 days ahead).
func (c *Client) GenerateGatewayToken(ctx context.Context, id string, key Key, expiry time.Time) (GatewayToken, error) {
	var tok GatewayToken
	err := c.Call(ctx, http.MethodPost, "/api/v1/gateways/"+seg(id)+"/generateToken",
		map[string]any{"keyType": key, "expiry": expiry.UTC().Format(time.RFC3339)}, &tok)
	return tok, err
}

// Reports

// ReportRecord is one row of the byTime report, with APIM's property names
// (times in milliseconds).
type ReportRecord struct {
	Timestamp        time.Time `json:"timestamp"`
	Interval         string    `json:"interval"`
	CallCountSuccess float64   `json:"callCountSuccess"`
	CallCountBlocked float64   `json:"callCountBlocked"`
	CallCountFailed  float64   `json:"callCountFailed"`
	CallCountOther   float64   `json:"callCountOther"`
	CallCountTotal   float64   `json:"callCountTotal"`
	APITimeAvg       float64   `json:"apiTimeAvg"`
	APITimeMax       float64   `json:"apiTimeMax"`
	ServiceTimeAvg   float64   `json:"serviceTimeAvg"`
}

// ReportByTime reads the byTime report over [from, to) in buckets of
// interval (an ISO 8601 duration such as PT5M), restricted by filter (an
// OData filter, or "").
func (c *Client) ReportByTime(ctx context.Context, from, to time.Time, interval, filter string) ([]ReportRecord, error) {
	q := url.Values{}
	q.Set("from", from.Format(time.RFC3339))
	q.Set("to", to.Format(time.RFC3339))
	q.Set("interval", interval)
	return list[ReportRecord](ctx, c, "/api/v1/reports/byTime?"+q.Encode(), filter)
}

// Audit log

// AuditLog lists audit entries, newest first: top of them (at most 1000)
// after skipping skip.
func (c *Client) AuditLog(ctx context.Context, top, skip int) ([]store.AuditEntry, error) {
	var page struct {
		Value []store.AuditEntry `json:"value"`
	}
	err := c.Get(ctx, "/api/v1/auditLog?top="+strconv.Itoa(top)+"&skip="+strconv.Itoa(skip), &page)
	return page.Value, err
}
