package console

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/portal/web"
)

type productsPage struct {
	Products []productDoc
}

func (s *Server) handleProducts(w http.ResponseWriter, r *http.Request) {
	ps, err := web.List[productDoc](r.Context(), s.api, "/api/v1/products")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "products", 0, "Products", productsPage{Products: ps})
}

func productBody(r *http.Request) map[string]any {
	b := map[string]any{
		"displayName": r.PostFormValue("displayName"), "description": r.PostFormValue("description"),
		"terms": r.PostFormValue("terms"), "approvalRequired": r.PostFormValue("approvalRequired") == "on",
		"subscriptionRequired": r.PostFormValue("subscriptionRequired") == "on",
		"state":                r.PostFormValue("state"),
	}
	if n, ok := atoi(r.PostFormValue("subscriptionsLimit")); ok {
		b["subscriptionsLimit"] = n
	} else {
		b["subscriptionsLimit"] = nil
	}
	if b["state"] == "" {
		b["state"] = model.ProductNotPublished
	}
	return b
}

func (s *Server) handleProductCreate(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.PostFormValue("id"))
	err := s.api.Call(r.Context(), http.MethodPut, "/api/v1/products/"+seg(id), productBody(r), nil)
	if err != nil {
		s.done(w, r, "/products", err, "")
		return
	}
	s.done(w, r, "/products/"+id, nil, "Product created. Add APIs and groups, then publish it.")
}

type productPage struct {
	Product   productDoc
	APIs      []named
	Groups    []named
	AllAPIs   []apiDoc
	AllGroups []groupDoc
	Subs      int
}

func (s *Server) handleProduct(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("product")
	var p productPage
	if err := s.api.Get(ctx, "/api/v1/products/"+seg(id), &p.Product); err != nil {
		s.fail(w, r, err)
		return
	}
	p.APIs, _ = web.List[named](ctx, s.api, "/api/v1/products/"+seg(id)+"/apis")
	p.Groups, _ = web.List[named](ctx, s.api, "/api/v1/products/"+seg(id)+"/groups")
	p.AllAPIs, _ = web.List[apiDoc](ctx, s.api, "/api/v1/apis")
	p.AllGroups, _ = web.List[groupDoc](ctx, s.api, "/api/v1/groups")
	p.Subs = s.count(ctx, "/api/v1/products/"+seg(id)+"/subscriptions")
	s.page(w, r, "product", 0, p.Product.DisplayName, p)
}

func (s *Server) handleProductUpdate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("product")
	err := s.api.Call(r.Context(), http.MethodPatch, "/api/v1/products/"+seg(id), productBody(r), nil)
	s.done(w, r, "/products/"+id, err, "Product saved.")
}

func (s *Server) handleProductDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("product")
	err := s.api.Call(r.Context(), http.MethodDelete, "/api/v1/products/"+seg(id)+"?deleteSubscriptions=true", nil, nil)
	if err != nil {
		s.done(w, r, "/products/"+id, err, "")
		return
	}
	s.done(w, r, "/products", nil, "Product deleted.")
}

// handleProductLink adds or removes an API or a group of a product.
func (s *Server) handleProductLink(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("product")
	kind := r.PostFormValue("kind") // apis or groups
	if kind != "apis" && kind != "groups" {
		s.done(w, r, "/products/"+id, &web.APIError{Status: 400, Detail: "unknown link kind"}, "")
		return
	}
	method := http.MethodPut
	if r.PostFormValue("action") == "remove" {
		method = http.MethodDelete
	}
	target := r.PostFormValue("target")
	err := s.api.Call(r.Context(), method, "/api/v1/products/"+seg(id)+"/"+kind+"/"+seg(target), nil, nil)
	what := map[string]string{"apis": "API ", "groups": "Group "}[kind] + target
	if method == http.MethodPut {
		what += " added."
	} else {
		what += " removed."
	}
	s.done(w, r, "/products/"+id, err, what)
}

type subsPage struct {
	State  string
	States []string
	Subs   []subRow
}

type subRow struct {
	subDoc
	Owner string
}

var subStates = []string{"submitted", "active", "suspended", "rejected", "cancelled", "expired"}

func (s *Server) handleSubscriptions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	state := r.URL.Query().Get("state")
	path := "/api/v1/subscriptions"
	valid := false
	for _, st := range subStates {
		valid = valid || st == state
	}
	if valid {
		path += web.Filter("state eq " + web.Quote(state))
	} else {
		state = ""
	}
	subs, err := web.List[subDoc](ctx, s.api, path)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	users, _ := web.List[userDoc](ctx, s.api, "/api/v1/users")
	emails := map[string]string{}
	for _, u := range users {
		emails["/users/"+u.Name] = u.Email
	}
	p := subsPage{State: state, States: subStates}
	for _, sub := range subs {
		p.Subs = append(p.Subs, subRow{subDoc: sub, Owner: emails[sub.OwnerID]})
	}
	sort.SliceStable(p.Subs, func(i, j int) bool {
		a, b := p.Subs[i].CreatedDate, p.Subs[j].CreatedDate
		return a != nil && b != nil && a.After(*b)
	})
	s.page(w, r, "subscriptions", 0, "Subscriptions", p)
}

// handleSubscriptionState approves, rejects, suspends, reactivates or
// cancels a subscription (PATCH state).
func (s *Server) handleSubscriptionState(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("sub")
	state := r.PostFormValue("state")
	body := map[string]any{"state": state}
	if c := strings.TrimSpace(r.PostFormValue("comment")); c != "" {
		body["stateComment"] = c
	}
	err := s.api.Call(r.Context(), http.MethodPatch, "/api/v1/subscriptions/"+seg(id), body, nil)
	back := "/subscriptions"
	if f := r.PostFormValue("filter"); f != "" {
		back += "?state=" + f
	}
	s.done(w, r, back, err, "Subscription "+id+" is now "+state+".")
}

type usersPage struct {
	Users []userDoc
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	us, err := web.List[userDoc](r.Context(), s.api, "/api/v1/users")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "users", 0, "Users", usersPage{Users: us})
}

func (s *Server) handleUserCreate(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.PostFormValue("id"))
	body := map[string]any{"email": r.PostFormValue("email"), "firstName": r.PostFormValue("firstName"),
		"lastName": r.PostFormValue("lastName"), "state": r.PostFormValue("state")}
	if pw := r.PostFormValue("password"); pw != "" {
		body["password"] = pw
	}
	err := s.api.Call(r.Context(), http.MethodPut, "/api/v1/users/"+seg(id), body, nil)
	if err != nil {
		s.done(w, r, "/users", err, "")
		return
	}
	s.done(w, r, "/users/"+id, nil, "User created.")
}

type userPage struct {
	User      userDoc
	Groups    []named
	AllGroups []groupDoc
	Subs      []subDoc
}

func (s *Server) handleUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("user")
	var p userPage
	if err := s.api.Get(ctx, "/api/v1/users/"+seg(id), &p.User); err != nil {
		s.fail(w, r, err)
		return
	}
	p.Groups, _ = web.List[named](ctx, s.api, "/api/v1/users/"+seg(id)+"/groups")
	p.AllGroups, _ = web.List[groupDoc](ctx, s.api, "/api/v1/groups")
	p.Subs, _ = web.List[subDoc](ctx, s.api, "/api/v1/users/"+seg(id)+"/subscriptions")
	s.page(w, r, "user", 0, p.User.Email, p)
}

func (s *Server) handleUserUpdate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("user")
	body := map[string]any{"firstName": r.PostFormValue("firstName"), "lastName": r.PostFormValue("lastName"),
		"state": r.PostFormValue("state"), "note": r.PostFormValue("note")}
	if pw := r.PostFormValue("password"); pw != "" {
		body["password"] = pw
	}
	err := s.api.Call(r.Context(), http.MethodPatch, "/api/v1/users/"+seg(id), body, nil)
	s.done(w, r, "/users/"+id, err, "User saved.")
}

func (s *Server) handleUserGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("user")
	method := http.MethodPut
	if r.PostFormValue("action") == "remove" {
		method = http.MethodDelete
	}
	err := s.api.Call(r.Context(), method, "/api/v1/groups/"+seg(r.PostFormValue("group"))+"/users/"+seg(id), nil, nil)
	s.done(w, r, "/users/"+id, err, "Groups updated.")
}

func (s *Server) handleUserDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("user")
	err := s.api.Call(r.Context(), http.MethodDelete, "/api/v1/users/"+seg(id)+"?deleteSubscriptions=true", nil, nil)
	if err != nil {
		s.done(w, r, "/users/"+id, err, "")
		return
	}
	s.done(w, r, "/users", nil, "User deleted.")
}

func (s *Server) handleGroups(w http.ResponseWriter, r *http.Request) {
	gs, err := web.List[groupDoc](r.Context(), s.api, "/api/v1/groups")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "groups", 0, "Groups", gs)
}

func (s *Server) handleGroupCreate(w http.ResponseWriter, r *http.Request) {
	err := s.api.Call(r.Context(), http.MethodPut, "/api/v1/groups/"+seg(strings.TrimSpace(r.PostFormValue("id"))), map[string]any{
		"displayName": r.PostFormValue("displayName"), "description": r.PostFormValue("description"),
	}, nil)
	s.done(w, r, "/groups", err, "Group created.")
}

func (s *Server) handleGroupDelete(w http.ResponseWriter, r *http.Request) {
	err := s.api.Call(r.Context(), http.MethodDelete, "/api/v1/groups/"+seg(r.PathValue("group")), nil, nil)
	s.done(w, r, "/groups", err, "Group deleted.")
}

func (s *Server) handleBackends(w http.ResponseWriter, r *http.Request) {
	bs, err := web.List[backendDoc](r.Context(), s.api, "/api/v1/backends")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "backends", 0, "Backends", bs)
}

func (s *Server) handleBackendSave(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.PostFormValue("id"))
	err := s.api.Call(r.Context(), http.MethodPut, "/api/v1/backends/"+seg(id), map[string]any{
		"url": r.PostFormValue("url"), "protocol": r.PostFormValue("protocol"),
		"title": r.PostFormValue("title"), "description": r.PostFormValue("description"),
	}, nil)
	s.done(w, r, "/backends", err, "Backend "+id+" saved.")
}

func (s *Server) handleBackendDelete(w http.ResponseWriter, r *http.Request) {
	err := s.api.Call(r.Context(), http.MethodDelete, "/api/v1/backends/"+seg(r.PathValue("backend")), nil, nil)
	s.done(w, r, "/backends", err, "Backend deleted.")
}

func (s *Server) handleNamedValues(w http.ResponseWriter, r *http.Request) {
	nvs, err := web.List[namedValueDoc](r.Context(), s.api, "/api/v1/namedValues")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "namedvalues", 0, "Named values", nvs)
}

func (s *Server) handleNamedValueSave(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.PostFormValue("id"))
	err := s.api.Call(r.Context(), http.MethodPut, "/api/v1/namedValues/"+seg(id), map[string]any{
		"displayName": r.PostFormValue("displayName"), "value": r.PostFormValue("value"),
		"secret": r.PostFormValue("secret") == "on", "tags": splitList(r.PostFormValue("tags")),
	}, nil)
	s.done(w, r, "/named-values", err, "Named value "+id+" saved.")
}

func (s *Server) handleNamedValueDelete(w http.ResponseWriter, r *http.Request) {
	err := s.api.Call(r.Context(), http.MethodDelete, "/api/v1/namedValues/"+seg(r.PathValue("nv")), nil, nil)
	s.done(w, r, "/named-values", err, "Named value deleted.")
}

func (s *Server) handleGateways(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, "gateways", 0, "Gateways", s.gatewayRows(r.Context()))
}

func (s *Server) handleGatewayCreate(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.PostFormValue("id"))
	err := s.api.Call(r.Context(), http.MethodPut, "/api/v1/gateways/"+seg(id), map[string]any{
		"description":  r.PostFormValue("description"),
		"locationData": map[string]any{"name": r.PostFormValue("name"), "city": r.PostFormValue("city"), "countryOrRegion": r.PostFormValue("country")},
	}, nil)
	if err != nil {
		s.done(w, r, "/gateways", err, "")
		return
	}
	s.done(w, r, "/gateways/"+id, nil, "Gateway created. Assign APIs and generate a token for its instances.")
}

type gatewayPage struct {
	Gateway   gatewayDoc
	APIs      []named
	AllAPIs   []apiDoc
	Instances []gwsync.InstanceView
	Token     string
	Expiry    string
	MgmtHint  string
}

func (s *Server) handleGateway(w http.ResponseWriter, r *http.Request) {
	s.showGateway(w, r, "", "")
}

func (s *Server) showGateway(w http.ResponseWriter, r *http.Request, token, expiry string) {
	ctx := r.Context()
	id := r.PathValue("gw")
	p := gatewayPage{Token: token, Expiry: expiry}
	if err := s.api.Get(ctx, "/api/v1/gateways/"+seg(id), &p.Gateway); err != nil {
		s.fail(w, r, err)
		return
	}
	p.APIs, _ = web.List[named](ctx, s.api, "/api/v1/gateways/"+seg(id)+"/apis")
	p.AllAPIs, _ = web.List[apiDoc](ctx, s.api, "/api/v1/apis")
	p.Instances, _ = web.List[gwsync.InstanceView](ctx, s.api, "/api/v1/gateways/"+seg(id)+"/instances")
	p.MgmtHint = "http://" + r.Host
	if r.TLS != nil {
		p.MgmtHint = "https://" + r.Host
	}
	s.page(w, r, "gateway", 0, "Gateway "+id, p)
}

func (s *Server) handleGatewayAPI(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("gw")
	method := http.MethodPut
	if r.PostFormValue("action") == "remove" {
		method = http.MethodDelete
	}
	err := s.api.Call(r.Context(), method, "/api/v1/gateways/"+seg(id)+"/apis/"+seg(r.PostFormValue("api")), nil, nil)
	s.done(w, r, "/gateways/"+id, err, "APIs of the gateway updated.")
}

// handleGatewayToken generates a gateway token and shows it once.
func (s *Server) handleGatewayToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("gw")
	days, ok := atoi(r.PostFormValue("days"))
	if !ok || days < 1 || days > 30 {
		days = 30
	}
	keyType := r.PostFormValue("keyType")
	if keyType != "secondary" {
		keyType = "primary"
	}
	var tok struct {
		Value  string `json:"value"`
		Expiry string `json:"expiry"`
	}
	expiry := time.Now().Add(time.Duration(days)*24*time.Hour - time.Minute).UTC().Format(time.RFC3339)
	if err := s.api.Call(r.Context(), http.MethodPost, "/api/v1/gateways/"+seg(id)+"/generateToken", map[string]any{"keyType": keyType, "expiry": expiry}, &tok); err != nil {
		s.done(w, r, "/gateways/"+id, err, "")
		return
	}
	s.showGateway(w, r, tok.Value, tok.Expiry)
}

func (s *Server) handleGatewayDelete(w http.ResponseWriter, r *http.Request) {
	err := s.api.Call(r.Context(), http.MethodDelete, "/api/v1/gateways/"+seg(r.PathValue("gw")), nil, nil)
	s.done(w, r, "/gateways", err, "Gateway deleted.")
}

func (s *Server) handleOutbox(w http.ResponseWriter, r *http.Request) {
	var msgs []web.Message
	if s.cfg.Mailer != nil {
		msgs = s.cfg.Mailer.Outbox()
	}
	s.page(w, r, "outbox", 0, "Outbox", msgs)
}
