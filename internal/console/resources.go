package console

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/mgmt/mgmtclient"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/portal/web"
)

type productsPage struct {
	Products []mgmtclient.Product
}

func (s *Server) handleProducts(w http.ResponseWriter, r *http.Request) {
	ps, err := s.api.ListProducts(r.Context(), "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "products", 0, "Products", productsPage{Products: ps})
}

// productForm reads the product form: every property, the subscriptions
// limit nil when the field is empty.
func productForm(r *http.Request) model.Product {
	subRequired := r.PostFormValue("subscriptionRequired") == "on"
	p := model.Product{
		DisplayName: r.PostFormValue("displayName"), Description: r.PostFormValue("description"),
		Terms: r.PostFormValue("terms"), ApprovalRequired: r.PostFormValue("approvalRequired") == "on",
		SubscriptionRequired: &subRequired,
		State:                r.PostFormValue("state"),
	}
	if n, ok := atoi(r.PostFormValue("subscriptionsLimit")); ok {
		p.SubscriptionsLimit = &n
	}
	if p.State == "" {
		p.State = model.ProductNotPublished
	}
	return p
}

// productPatch sets every property of the form, removing the subscriptions
// limit when the field is empty.
func productPatch(p model.Product) mgmtclient.ProductPatch {
	patch := mgmtclient.ProductPatch{
		DisplayName: mgmtclient.Set(p.DisplayName), Description: mgmtclient.Set(p.Description),
		Terms: mgmtclient.Set(p.Terms), ApprovalRequired: mgmtclient.Set(p.ApprovalRequired),
		SubscriptionRequired: mgmtclient.Set(*p.SubscriptionRequired), State: mgmtclient.Set(p.State),
		SubscriptionsLimit: mgmtclient.Null[int](),
	}
	if p.SubscriptionsLimit != nil {
		patch.SubscriptionsLimit = mgmtclient.Set(*p.SubscriptionsLimit)
	}
	return patch
}

func (s *Server) handleProductCreate(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.PostFormValue("id"))
	err := s.api.PutProduct(r.Context(), id, productForm(r))
	if err != nil {
		s.done(w, r, "/products", err, "")
		return
	}
	s.done(w, r, "/products/"+id, nil, "Product created. Add APIs and groups, then publish it.")
}

type productPage struct {
	Product   mgmtclient.Product
	APIs      []mgmtclient.API
	Groups    []mgmtclient.Group
	AllAPIs   []mgmtclient.API
	AllGroups []mgmtclient.Group
	Subs      int
}

func (s *Server) handleProduct(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("product")
	var p productPage
	var err error
	if p.Product, err = s.api.GetProduct(ctx, id); err != nil {
		s.fail(w, r, err)
		return
	}
	p.APIs, _ = s.api.ProductAPIs(ctx, id)
	p.Groups, _ = s.api.ProductGroups(ctx, id)
	p.AllAPIs, _ = s.api.ListAPIs(ctx)
	p.AllGroups, _ = s.api.ListGroups(ctx)
	p.Subs, _ = s.api.CountProductSubscriptions(ctx, id)
	s.page(w, r, "product", 0, p.Product.DisplayName, p)
}

func (s *Server) handleProductUpdate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("product")
	err := s.api.UpdateProduct(r.Context(), id, productPatch(productForm(r)))
	s.done(w, r, "/products/"+id, err, "Product saved.")
}

func (s *Server) handleProductDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("product")
	err := s.api.DeleteProduct(r.Context(), id, true)
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
		s.done(w, r, "/products/"+id, &mgmtclient.Error{Status: 400, Detail: "unknown link kind"}, "")
		return
	}
	remove := r.PostFormValue("action") == "remove"
	target := r.PostFormValue("target")
	var err error
	switch {
	case kind == "apis" && remove:
		err = s.api.RemoveProductAPI(r.Context(), id, target)
	case kind == "apis":
		err = s.api.AddProductAPI(r.Context(), id, target)
	case remove:
		err = s.api.RemoveProductGroup(r.Context(), id, target)
	default:
		err = s.api.AddProductGroup(r.Context(), id, target)
	}
	what := map[string]string{"apis": "API ", "groups": "Group "}[kind] + target
	if remove {
		what += " removed."
	} else {
		what += " added."
	}
	s.done(w, r, "/products/"+id, err, what)
}

type subsPage struct {
	State  string
	States []string
	Subs   []subRow
}

type subRow struct {
	mgmtclient.Subscription
	Owner string
}

var subStates = []string{"submitted", "active", "suspended", "rejected", "cancelled", "expired"}

func (s *Server) handleSubscriptions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	state := r.URL.Query().Get("state")
	filter := ""
	valid := false
	for _, st := range subStates {
		valid = valid || st == state
	}
	if valid {
		filter = mgmtclient.Eq("state", state)
	} else {
		state = ""
	}
	subs, err := s.api.ListSubscriptions(ctx, filter)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	users, _ := s.api.ListUsers(ctx, "")
	emails := map[string]string{}
	for _, u := range users {
		emails["/users/"+u.Name] = u.Email
	}
	p := subsPage{State: state, States: subStates}
	for _, sub := range subs {
		p.Subs = append(p.Subs, subRow{Subscription: sub, Owner: emails[sub.OwnerID]})
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
	patch := mgmtclient.SubscriptionPatch{State: mgmtclient.Set(state)}
	if c := strings.TrimSpace(r.PostFormValue("comment")); c != "" {
		patch.StateComment = mgmtclient.Set(c)
	}
	err := s.api.UpdateSubscription(r.Context(), id, patch)
	back := "/subscriptions"
	if f := r.PostFormValue("filter"); f != "" {
		back += "?state=" + f
	}
	s.done(w, r, back, err, "Subscription "+id+" is now "+state+".")
}

type usersPage struct {
	Users []mgmtclient.User
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	us, err := s.api.ListUsers(r.Context(), "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "users", 0, "Users", usersPage{Users: us})
}

func (s *Server) handleUserCreate(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.PostFormValue("id"))
	err := s.api.PutUser(r.Context(), id, model.User{Email: r.PostFormValue("email"), FirstName: r.PostFormValue("firstName"),
		LastName: r.PostFormValue("lastName"), State: r.PostFormValue("state"), Password: r.PostFormValue("password")})
	if err != nil {
		s.done(w, r, "/users", err, "")
		return
	}
	s.done(w, r, "/users/"+id, nil, "User created.")
}

type userPage struct {
	User      mgmtclient.User
	Groups    []mgmtclient.Group
	AllGroups []mgmtclient.Group
	Subs      []mgmtclient.Subscription
}

func (s *Server) handleUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("user")
	var p userPage
	var err error
	if p.User, err = s.api.GetUser(ctx, id); err != nil {
		s.fail(w, r, err)
		return
	}
	p.Groups, _ = s.api.UserGroups(ctx, id)
	p.AllGroups, _ = s.api.ListGroups(ctx)
	p.Subs, _ = s.api.UserSubscriptions(ctx, id)
	s.page(w, r, "user", 0, p.User.Email, p)
}

func (s *Server) handleUserUpdate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("user")
	patch := mgmtclient.UserPatch{FirstName: mgmtclient.Set(r.PostFormValue("firstName")), LastName: mgmtclient.Set(r.PostFormValue("lastName")),
		State: mgmtclient.Set(r.PostFormValue("state")), Note: mgmtclient.Set(r.PostFormValue("note"))}
	if pw := r.PostFormValue("password"); pw != "" {
		patch.Password = mgmtclient.Set(pw)
	}
	err := s.api.UpdateUser(r.Context(), id, patch)
	s.done(w, r, "/users/"+id, err, "User saved.")
}

func (s *Server) handleUserGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("user")
	var err error
	if group := r.PostFormValue("group"); r.PostFormValue("action") == "remove" {
		err = s.api.RemoveGroupUser(r.Context(), group, id)
	} else {
		err = s.api.AddGroupUser(r.Context(), group, id)
	}
	s.done(w, r, "/users/"+id, err, "Groups updated.")
}

func (s *Server) handleUserDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("user")
	err := s.api.DeleteUser(r.Context(), id, true)
	if err != nil {
		s.done(w, r, "/users/"+id, err, "")
		return
	}
	s.done(w, r, "/users", nil, "User deleted.")
}

func (s *Server) handleGroups(w http.ResponseWriter, r *http.Request) {
	gs, err := s.api.ListGroups(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "groups", 0, "Groups", gs)
}

func (s *Server) handleGroupCreate(w http.ResponseWriter, r *http.Request) {
	err := s.api.PutGroup(r.Context(), strings.TrimSpace(r.PostFormValue("id")), model.Group{
		DisplayName: r.PostFormValue("displayName"), Description: r.PostFormValue("description"),
	})
	s.done(w, r, "/groups", err, "Group created.")
}

func (s *Server) handleGroupDelete(w http.ResponseWriter, r *http.Request) {
	err := s.api.DeleteGroup(r.Context(), r.PathValue("group"))
	s.done(w, r, "/groups", err, "Group deleted.")
}

func (s *Server) handleBackends(w http.ResponseWriter, r *http.Request) {
	bs, err := s.api.ListBackends(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "backends", 0, "Backends", bs)
}

func (s *Server) handleBackendSave(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.PostFormValue("id"))
	err := s.api.PutBackend(r.Context(), id, model.Backend{
		URL: r.PostFormValue("url"), Protocol: r.PostFormValue("protocol"),
		Title: r.PostFormValue("title"), Description: r.PostFormValue("description"),
	})
	s.done(w, r, "/backends", err, "Backend "+id+" saved.")
}

func (s *Server) handleBackendDelete(w http.ResponseWriter, r *http.Request) {
	err := s.api.DeleteBackend(r.Context(), r.PathValue("backend"))
	s.done(w, r, "/backends", err, "Backend deleted.")
}

func (s *Server) handleNamedValues(w http.ResponseWriter, r *http.Request) {
	nvs, err := s.api.ListNamedValues(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "namedvalues", 0, "Named values", nvs)
}

func (s *Server) handleNamedValueSave(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.PostFormValue("id"))
	err := s.api.PutNamedValue(r.Context(), id, model.NamedValue{
		DisplayName: r.PostFormValue("displayName"), Value: r.PostFormValue("value"),
		Secret: r.PostFormValue("secret") == "on", Tags: splitList(r.PostFormValue("tags")),
	})
	s.done(w, r, "/named-values", err, "Named value "+id+" saved.")
}

func (s *Server) handleNamedValueDelete(w http.ResponseWriter, r *http.Request) {
	err := s.api.DeleteNamedValue(r.Context(), r.PathValue("nv"))
	s.done(w, r, "/named-values", err, "Named value deleted.")
}

func (s *Server) handleGateways(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, "gateways", 0, "Gateways", s.gatewayRows(r.Context()))
}

func (s *Server) handleGatewayCreate(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.PostFormValue("id"))
	err := s.api.PutGateway(r.Context(), id, model.Gateway{
		Description:  r.PostFormValue("description"),
		LocationData: model.GatewayLocation{Name: r.PostFormValue("name"), City: r.PostFormValue("city"), CountryOrRegion: r.PostFormValue("country")},
	})
	if err != nil {
		s.done(w, r, "/gateways", err, "")
		return
	}
	s.done(w, r, "/gateways/"+id, nil, "Gateway created. Assign APIs and generate a token for its instances.")
}

type gatewayPage struct {
	Gateway   mgmtclient.Gateway
	APIs      []mgmtclient.API
	AllAPIs   []mgmtclient.API
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
	var err error
	if p.Gateway, err = s.api.GetGateway(ctx, id); err != nil {
		s.fail(w, r, err)
		return
	}
	p.APIs, _ = s.api.GatewayAPIs(ctx, id)
	p.AllAPIs, _ = s.api.ListAPIs(ctx)
	p.Instances, _ = s.api.GatewayInstances(ctx, id)
	p.MgmtHint = "http://" + r.Host
	if r.TLS != nil {
		p.MgmtHint = "https://" + r.Host
	}
	s.page(w, r, "gateway", 0, "Gateway "+id, p)
}

func (s *Server) handleGatewayAPI(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("gw")
	var err error
	if api := r.PostFormValue("api"); r.PostFormValue("action") == "remove" {
		err = s.api.RemoveGatewayAPI(r.Context(), id, api)
	} else {
		err = s.api.AddGatewayAPI(r.Context(), id, api)
	}
	s.done(w, r, "/gateways/"+id, err, "APIs of the gateway updated.")
}

// handleGatewayToken generates a gateway token and shows it once.
func (s *Server) handleGatewayToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("gw")
	days, ok := atoi(r.PostFormValue("days"))
	if !ok || days < 1 || days > 30 {
		days = 30
	}
	key := mgmtclient.Primary
	if r.PostFormValue("keyType") == "secondary" {
		key = mgmtclient.Secondary
	}
	expiry := time.Now().Add(time.Duration(days)*24*time.Hour - time.Minute)
	tok, err := s.api.GenerateGatewayToken(r.Context(), id, key, expiry)
	if err != nil {
		s.done(w, r, "/gateways/"+id, err, "")
		return
	}
	s.showGateway(w, r, tok.Value, tok.Expiry)
}

func (s *Server) handleGatewayDelete(w http.ResponseWriter, r *http.Request) {
	err := s.api.DeleteGateway(r.Context(), r.PathValue("gw"))
	s.done(w, r, "/gateways", err, "Gateway deleted.")
}

func (s *Server) handleOutbox(w http.ResponseWriter, r *http.Request) {
	var msgs []web.Message
	if s.cfg.Mailer != nil {
		msgs = s.cfg.Mailer.Outbox()
	}
	s.page(w, r, "outbox", 0, "Outbox", msgs)
}
