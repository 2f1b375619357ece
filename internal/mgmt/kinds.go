package mgmt

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/secret"
	"github.com/portico-gw/portico/internal/store"
)

// AdminUserID is the id of the seeded administrator, which cannot be deleted.
const AdminUserID = "1"

func (s *Server) registerKinds() {
	api := &kindSpec{
		kind: model.KindAPI, collection: "apis", title: "API",
		newObj:     func() model.Resource { return &model.API{} },
		display:    func(o model.Resource) string { return o.(*model.API).DisplayName },
		filterable: []string{"path", "serviceUrl", "apiVersion"},
		prepare:    s.prepareAPI,
		cascade:    s.cascadeAPI,
	}
	api.input = s.importInput(api)
	operation := &kindSpec{
		kind: model.KindOperation, collection: "operations", title: "operation", parent: api,
		newObj:     func() model.Resource { return &model.Operation{} },
		display:    func(o model.Resource) string { return o.(*model.Operation).DisplayName },
		filterable: []string{"method", "urlTemplate"},
		prepare:    prepareOperation,
		cascade: func(ctx context.Context, tx store.Tx, op *deleteOp) error {
			if err := tx.ReleaseUniques(ctx, string(model.KindOperation), op.parentID+"/"+op.id); err != nil {
				return err
			}
			_, err := tx.DeleteIDPrefix(ctx, string(model.KindPolicy), "apis/"+op.parentID+"/operations/"+op.id)
			return err
		},
	}
	product := &kindSpec{
		kind: model.KindProduct, collection: "products", title: "product",
		newObj:     func() model.Resource { return &model.Product{} },
		display:    func(o model.Resource) string { return o.(*model.Product).DisplayName },
		filterable: []string{"state"},
		prepare: func(ctx context.Context, tx store.Tx, op *writeOp) error {
			if op.old == nil { // APIM makes a new product visible to administrators
				return tx.Link(ctx, string(model.RelProductGroup), op.id, model.GroupAdministrators)
			}
			return nil
		},
		cascade: s.cascadeProduct,
	}
	subscription := &kindSpec{
		kind: model.KindSubscription, collection: "subscriptions", title: "subscription",
		newObj:     func() model.Resource { return &model.Subscription{} },
		display:    func(o model.Resource) string { return o.(*model.Subscription).DisplayName },
		readOnly:   []string{"createdDate"},
		filterable: []string{"state", "scope", "ownerId"},
		prepare:    s.prepareSubscription,
		cascade: func(ctx context.Context, tx store.Tx, op *deleteOp) error {
			return tx.SetKeyHashes(ctx, op.id, nil)
		},
		redact: func(o model.Resource) {
			sub := o.(*model.Subscription)
			sub.PrimaryKey, sub.SecondaryKey = "", ""
		},
	}
	user := &kindSpec{
		kind: model.KindUser, collection: "users", title: "user",
		newObj:     func() model.Resource { return &model.User{} },
		display:    func(o model.Resource) string { u := o.(*model.User); return u.FirstName + " " + u.LastName },
		readOnly:   []string{"passwordHash", "registrationDate"},
		filterable: []string{"email", "state", "firstName", "lastName"},
		prepare:    prepareUser,
		cascade:    s.cascadeUser,
		redact: func(o model.Resource) {
			u := o.(*model.User)
			u.Password, u.PasswordHash = "", ""
		},
	}
	group := &kindSpec{
		kind: model.KindGroup, collection: "groups", title: "group",
		newObj:   func() model.Resource { return &model.Group{} },
		display:  func(o model.Resource) string { return o.(*model.Group).DisplayName },
		readOnly: []string{"builtIn"},
		guard: func(id string) error {
			if isSystemGroup(id) {
				return conflict("", "group %q is a built-in system group and cannot be changed or deleted", id)
			}
			return nil
		},
		filterable: []string{"type"},
		prepare: func(ctx context.Context, tx store.Tx, op *writeOp) error {
			g := op.obj.(*model.Group)
			if g.Type == model.GroupSystem {
				return fieldError("type", "system groups are built in; use custom or external")
			}
			return nil
		},
		cascade: func(ctx context.Context, tx store.Tx, op *deleteOp) error {
			if _, err := tx.Unlink(ctx, string(model.RelGroupUser), op.id, ""); err != nil {
				return err
			}
			_, err := tx.Unlink(ctx, string(model.RelProductGroup), "", op.id)
			return err
		},
	}
	backend := &kindSpec{
		kind: model.KindBackend, collection: "backends", title: "backend",
		newObj:     func() model.Resource { return &model.Backend{} },
		display:    func(o model.Resource) string { return o.(*model.Backend).Title },
		filterable: []string{"url", "protocol"},
	}
	namedValue := &kindSpec{
		kind: model.KindNamedValue, collection: "namedValues", title: "named value",
		newObj:  func() model.Resource { return &model.NamedValue{} },
		display: func(o model.Resource) string { return o.(*model.NamedValue).DisplayName },
		prepare: func(ctx context.Context, tx store.Tx, op *writeOp) error {
			nv := op.obj.(*model.NamedValue)
			return claim(ctx, tx, model.KindNamedValue, "displayName", strings.ToLower(nv.DisplayName), op.id, "displayName")
		},
		cascade: func(ctx context.Context, tx store.Tx, op *deleteOp) error {
			return tx.ReleaseUniques(ctx, string(model.KindNamedValue), op.id)
		},
		redact: func(o model.Resource) {
			if nv := o.(*model.NamedValue); nv.Secret {
				nv.Value = ""
			}
		},
	}
	fragment := &kindSpec{
		kind: model.KindPolicyFragment, collection: "policyFragments", title: "policy fragment",
		newObj:  func() model.Resource { return &model.PolicyFragment{} },
		display: func(o model.Resource) string { return o.(*model.PolicyFragment).Description },
	}
	gateway := &kindSpec{
		kind: model.KindGateway, collection: "gateways", title: "gateway",
		newObj:  func() model.Resource { return &model.Gateway{} },
		display: func(o model.Resource) string { return o.(*model.Gateway).LocationData.Name },
		guard: func(id string) error {
			if id == model.ManagedGatewayID {
				return conflict("", "gateway id %q is reserved for the built-in gateway", id)
			}
			return nil
		},
		prepare: func(ctx context.Context, tx store.Tx, op *writeOp) error {
			if op.old == nil {
				return newGatewayKeys(ctx, tx, op.id)
			}
			return nil
		},
		cascade: func(ctx context.Context, tx store.Tx, op *deleteOp) error {
			if _, err := tx.Unlink(ctx, string(model.RelGatewayAPI), op.id, ""); err != nil {
				return err
			}
			if err := tx.Delete(ctx, gwsync.KeysKind, "", op.id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return nil
		},
	}
	hostname := &kindSpec{
		kind: model.KindHostnameConfiguration, collection: "hostnameConfigurations", title: "hostname configuration", parent: gateway,
		newObj:  func() model.Resource { return &model.HostnameConfiguration{} },
		display: func(o model.Resource) string { return o.(*model.HostnameConfiguration).Hostname },
		prepare: func(ctx context.Context, tx store.Tx, op *writeOp) error {
			h := op.obj.(*model.HostnameConfiguration)
			if h.CertificatePEM != "" && h.KeyPEM == "" {
				old, ok := op.old.(*model.HostnameConfiguration)
				if !ok || old.CertificatePEM != h.CertificatePEM {
					return fieldError("keyPem", "is required with a new certificatePem")
				}
				h.KeyPEM = old.KeyPEM
			}
			return claim(ctx, tx, model.KindHostnameConfiguration, "hostname:"+op.parentID, h.Hostname, op.parentID+"/"+op.id, "hostname")
		},
		cascade: func(ctx context.Context, tx store.Tx, op *deleteOp) error {
			return tx.ReleaseUniques(ctx, string(model.KindHostnameConfiguration), op.parentID+"/"+op.id)
		},
		redact: func(o model.Resource) { o.(*model.HostnameConfiguration).KeyPEM = "" },
	}
	s.kinds = []*kindSpec{api, operation, product, subscription, user, group, backend, namedValue, fragment, gateway, hostname}
	s.links = []*linkSpec{
		{rel: model.RelProductAPI, from: product, to: api},
		{rel: model.RelProductGroup, from: product, to: group},
		{rel: model.RelGroupUser, from: group, to: user, check: func(groupID string) error {
			if groupID == model.GroupGuests || groupID == model.GroupDevelopers {
				return conflict("", "membership of the built-in group %q is implicit and cannot be changed", groupID)
			}
			return nil
		}},
		{rel: model.RelGatewayAPI, from: gateway, to: api},
		// reverse views
		{rel: model.RelProductAPI, from: api, to: product, reverse: true, readOnly: true},
		{rel: model.RelGroupUser, from: user, to: group, reverse: true, readOnly: true},
	}
}

func (s *Server) kind(name model.Kind) *kindSpec {
	for _, k := range s.kinds {
		if k.kind == name {
			return k
		}
	}
	panic("unknown kind " + string(name))
}

func isSystemGroup(id string) bool {
	return id == model.GroupAdministrators || id == model.GroupDevelopers || id == model.GroupGuests
}

// claim wraps ClaimUnique and reports a taken value as a 409 on field.
func claim(ctx context.Context, tx store.Tx, kind model.Kind, name, value, owner, field string) error {
	err := tx.ClaimUnique(ctx, string(kind), name, value, owner)
	var ue *store.UniqueError
	if errors.As(err, &ue) {
		return conflict(field, "%s %q is already used by %s %q", field, value, kind, ue.Owner)
	}
	return err
}

func (s *Server) prepareAPI(ctx context.Context, tx store.Tx, op *writeOp) error {
	a := op.obj.(*model.API)
	// The gateway routes by path only (versions and revisions are not routed
	// yet), so a path is held by one API whatever its apiVersion: a second
	// one would be accepted here and never served. Stores written before
	// this rule may hold claims keyed by path and version, so the APIs
	// themselves are compared too; the claim (keyed by path alone) guards
	// against two transactions creating the same path at once.
	if holder, err := apiHoldingPath(ctx, tx, a.Path, op.id); err != nil {
		return err
	} else if holder != "" {
		return pathTaken(a.Path, holder)
	}
	err := tx.ClaimUnique(ctx, string(model.KindAPI), "path", strings.ToLower(a.Path)+"|", op.id)
	var ue *store.UniqueError
	if errors.As(err, &ue) {
		return pathTaken(a.Path, ue.Owner)
	}
	if err != nil {
		return err
	}
	if a.APIVersionSetID != "" && a.APIVersion == "" {
		return fieldError("apiVersion", "is required when apiVersionSetId is set")
	}
	return nil
}

// pathTaken is the 409 for an API path held by the API holder.
func pathTaken(path, holder string) *Problem {
	return conflict("path", "path %q is already used by API %q", path, holder)
}

// apiHoldingPath returns the id of an API other than self whose path is path
// (compared case-insensitively), or "" when there is none. A path that only
// starts with another API's path (orders/v2 under orders) is not taken: the
// gateway routes the longest matching path.
func apiHoldingPath(ctx context.Context, tx store.Tx, path, self string) (string, error) {
	recs, _, err := tx.List(ctx, string(model.KindAPI), "", store.ListOptions{})
	if err != nil {
		return "", err
	}
	for _, rec := range recs {
		if rec.ID == self {
			continue
		}
		var other struct {
			Path string `json:"path"`
		}
		if err := json.Unmarshal(rec.Doc, &other); err != nil {
			return "", err
		}
		if strings.EqualFold(other.Path, path) {
			return rec.ID, nil
		}
	}
	return "", nil
}

// cascadeAPI removes what hangs off an API besides its operations (which
// deleteChildren removes like any nested resource).
func (s *Server) cascadeAPI(ctx context.Context, tx store.Tx, op *deleteOp) error {
	if _, err := tx.DeleteIDPrefix(ctx, string(model.KindPolicy), "apis/"+op.id); err != nil {
		return err
	}
	if err := tx.Delete(ctx, string(model.KindAPIDefinition), "", op.id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if _, err := tx.Unlink(ctx, string(model.RelProductAPI), "", op.id); err != nil {
		return err
	}
	if _, err := tx.Unlink(ctx, string(model.RelGatewayAPI), "", op.id); err != nil {
		return err
	}
	// Subscriptions scoped to this API go with it, as in APIM.
	subs, _, err := tx.List(ctx, string(model.KindSubscription), "", store.ListOptions{Filters: []store.Filter{{Field: "scope", Op: "eq", Value: "/apis/" + op.id}}})
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if err := deleteSubscription(ctx, tx, sub.ID); err != nil {
			return err
		}
	}
	return tx.ReleaseUniques(ctx, string(model.KindAPI), op.id)
}

func deleteSubscription(ctx context.Context, tx store.Tx, id string) error {
	if err := tx.SetKeyHashes(ctx, id, nil); err != nil {
		return err
	}
	return tx.Delete(ctx, string(model.KindSubscription), "", id)
}

// routeKey canonicalises a method and template so that two operations that
// would route the same requests collide: parameters lose their names and
// literals their case.
func routeKey(method, template string) string {
	if i := strings.IndexByte(template, '?'); i >= 0 {
		template = template[:i]
	}
	segs := strings.Split(strings.Trim(template, "/"), "/")
	for i, seg := range segs {
		switch {
		case strings.HasPrefix(seg, "{*"):
			segs[i] = "{*}"
		case strings.Contains(seg, "{"):
			var b strings.Builder
			in := false
			for _, c := range seg {
				switch {
				case c == '{':
					in = true
					b.WriteString("{}")
				case c == '}':
					in = false
				case !in:
					b.WriteRune(c)
				}
			}
			segs[i] = strings.ToLower(b.String())
		default:
			segs[i] = strings.ToLower(seg)
		}
	}
	return method + " /" + strings.Join(segs, "/")
}

func prepareOperation(ctx context.Context, tx store.Tx, op *writeOp) error {
	o := op.obj.(*model.Operation)
	return claim(ctx, tx, model.KindOperation, "route:"+op.parentID, routeKey(o.Method, o.URLTemplate), op.parentID+"/"+op.id, "urlTemplate")
}

func (s *Server) cascadeProduct(ctx context.Context, tx store.Tx, op *deleteOp) error {
	subs, _, err := tx.List(ctx, string(model.KindSubscription), "", store.ListOptions{Filters: []store.Filter{{Field: "scope", Op: "eq", Value: "/products/" + op.id}}})
	if err != nil {
		return err
	}
	if len(subs) > 0 {
		if op.r.URL.Query().Get("deleteSubscriptions") != "true" {
			return conflict("", "product %q has %d subscription(s); delete them first or pass deleteSubscriptions=true", op.id, len(subs))
		}
		for _, sub := range subs {
			if err := deleteSubscription(ctx, tx, sub.ID); err != nil {
				return err
			}
		}
	}
	if _, err := tx.Unlink(ctx, string(model.RelProductAPI), op.id, ""); err != nil {
		return err
	}
	if _, err := tx.Unlink(ctx, string(model.RelProductGroup), op.id, ""); err != nil {
		return err
	}
	_, err = tx.DeleteIDPrefix(ctx, string(model.KindPolicy), "products/"+op.id)
	return err
}

func (s *Server) cascadeUser(ctx context.Context, tx store.Tx, op *deleteOp) error {
	if op.id == AdminUserID {
		return conflict("", "user %q is the built-in administrator and cannot be deleted", op.id)
	}
	subs, _, err := tx.List(ctx, string(model.KindSubscription), "", store.ListOptions{Filters: []store.Filter{{Field: "ownerId", Op: "eq", Value: "/users/" + op.id}}})
	if err != nil {
		return err
	}
	if len(subs) > 0 {
		if op.r.URL.Query().Get("deleteSubscriptions") != "true" {
			return conflict("", "user %q owns %d subscription(s); delete them first or pass deleteSubscriptions=true", op.id, len(subs))
		}
		for _, sub := range subs {
			if err := deleteSubscription(ctx, tx, sub.ID); err != nil {
				return err
			}
		}
	}
	if _, err := tx.Unlink(ctx, string(model.RelGroupUser), "", op.id); err != nil {
		return err
	}
	return tx.ReleaseUniques(ctx, string(model.KindUser), op.id)
}

func prepareUser(ctx context.Context, tx store.Tx, op *writeOp) error {
	u := op.obj.(*model.User)
	if err := claim(ctx, tx, model.KindUser, "email", u.Email, op.id, "email"); err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Second)
	if old, ok := op.old.(*model.User); ok {
		u.RegistrationDate = old.RegistrationDate
		if u.PasswordHash == "" {
			u.PasswordHash = old.PasswordHash
		}
	} else {
		u.RegistrationDate = &now
		// New users are developers, as in APIM.
		if err := tx.Link(ctx, string(model.RelGroupUser), model.GroupDevelopers, op.id); err != nil {
			return err
		}
	}
	if u.Password != "" {
		u.PasswordHash = secret.HashPassword(u.Password)
		u.Password = ""
	}
	return nil
}

func (s *Server) prepareSubscription(ctx context.Context, tx store.Tx, op *writeOp) error {
	sub := op.obj.(*model.Subscription)
	kind, target, _ := model.ScopeKind(sub.Scope)
	var product *model.Product
	switch kind {
	case model.KindProduct:
		rec, err := tx.Get(ctx, string(model.KindProduct), "", target)
		if errors.Is(err, store.ErrNotFound) {
			return fieldError("scope", "product %q does not exist", target)
		} else if err != nil {
			return err
		}
		obj, err := s.kind(model.KindProduct).decodeRecord(rec)
		if err != nil {
			return err
		}
		product = obj.(*model.Product)
	case model.KindAPI:
		if _, err := tx.Get(ctx, string(model.KindAPI), "", target); errors.Is(err, store.ErrNotFound) {
			return fieldError("scope", "API %q does not exist", target)
		} else if err != nil {
			return err
		}
	}
	if sub.OwnerID != "" {
		if _, err := tx.Get(ctx, string(model.KindUser), "", sub.OwnerUserID()); errors.Is(err, store.ErrNotFound) {
			return fieldError("ownerId", "user %q does not exist", sub.OwnerUserID())
		} else if err != nil {
			return err
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	old, _ := op.old.(*model.Subscription)
	if old != nil {
		sub.CreatedDate = old.CreatedDate
		if sub.PrimaryKey == "" {
			sub.PrimaryKey = old.PrimaryKey
		}
		if sub.SecondaryKey == "" {
			sub.SecondaryKey = old.SecondaryKey
		}
	} else {
		sub.CreatedDate = &now
	}
	if sub.PrimaryKey == "" {
		sub.PrimaryKey = secret.NewKey()
	}
	if sub.SecondaryKey == "" || sub.SecondaryKey == sub.PrimaryKey {
		sub.SecondaryKey = secret.NewKey()
	}
	if sub.State == model.SubActive && (old == nil || old.State != model.SubActive) && sub.StartDate == nil {
		sub.StartDate = &now
	}
	if (sub.State == model.SubCancelled || sub.State == model.SubExpired) && sub.EndDate == nil {
		sub.EndDate = &now
	}
	// subscriptionsLimit counts the owner's live subscriptions to the product.
	if product != nil && product.SubscriptionsLimit != nil && sub.OwnerID != "" && isLive(sub.State) &&
		(old == nil || !isLive(old.State) || old.Scope != sub.Scope || old.OwnerID != sub.OwnerID) {
		recs, _, err := tx.List(ctx, string(model.KindSubscription), "", store.ListOptions{Filters: []store.Filter{
			{Field: "scope", Op: "eq", Value: sub.Scope}, {Field: "ownerId", Op: "eq", Value: sub.OwnerID}}})
		if err != nil {
			return err
		}
		live := 0
		for _, rec := range recs {
			if rec.ID == op.id {
				continue
			}
			o, err := s.kind(model.KindSubscription).decodeRecord(rec)
			if err != nil {
				return err
			}
			if isLive(o.(*model.Subscription).State) {
				live++
			}
		}
		if live >= *product.SubscriptionsLimit {
			return conflict("scope", "user %q already holds %d subscription(s) to product %q, its subscriptionsLimit", sub.OwnerUserID(), live, target)
		}
	}
	return setKeyHashes(ctx, tx, op.id, sub)
}

func isLive(state string) bool {
	return state == model.SubActive || state == model.SubSubmitted || state == model.SubSuspended
}

// setKeyHashes records the hashes of a subscription's keys, refusing a key
// that another subscription already holds.
func setKeyHashes(ctx context.Context, tx store.Tx, id string, sub *model.Subscription) error {
	for field, key := range map[string]string{"primaryKey": sub.PrimaryKey, "secondaryKey": sub.SecondaryKey} {
		holder, _, err := tx.SubscriptionByKeyHash(ctx, secret.KeyHash(key))
		if err == nil && holder != id {
			return conflict(field, "this key is already used by another subscription")
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return tx.SetKeyHashes(ctx, id, map[string]string{"primary": secret.KeyHash(sub.PrimaryKey), "secondary": secret.KeyHash(sub.SecondaryKey)})
}
