package mgmt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/store"
)

// Ids of the default objects seeded into a new instance.
const (
	ProductStarter   = "starter"
	ProductUnlimited = "unlimited"
	EchoAPIID        = "echo-api"
	AdminStarterSub  = "admin-starter"
	AdminUnlimitSub  = "admin-unlimited"
)

// StarterPolicy is the product policy of the Starter product: 5 calls per
// 60 s and 100 calls per week per subscription.
const StarterPolicy = `<policies>
  <inbound>
    <rate-limit calls="5" renewal-period="60" />
    <quota calls="100" renewal-period="604800" />
    <base />
  </inbound>
  <backend>
    <base />
  </backend>
  <outbound>
    <base />
  </outbound>
  <on-error>
    <base />
  </on-error>
</policies>`

type echoMeta struct {
	URL string `json:"url"`
}

// putObject normalises, validates and stores obj as the management API
// would, running the kind's rules (unique claims, keys, links).
func (s *Server) putObject(ctx context.Context, tx store.Tx, kind model.Kind, parentID, id string, obj model.Resource) error {
	k := s.kind(kind)
	obj.Normalize()
	if fe := obj.Validate(); len(fe) > 0 {
		return fmt.Errorf("%s %q: %w", kind, id, fe)
	}
	var old model.Resource
	if rec, err := tx.Get(ctx, string(kind), parentID, id); err == nil {
		if old, err = k.decodeRecord(rec); err != nil {
			return err
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if k.prepare != nil {
		if err := k.prepare(ctx, tx, &writeOp{parentID: parentID, id: id, obj: obj, old: old}); err != nil {
			return fmt.Errorf("%s %q: %w", kind, id, err)
		}
	}
	rec, err := k.record(parentID, id, obj)
	if err != nil {
		return err
	}
	_, err = tx.Put(ctx, rec)
	return err
}

// Seed creates the default objects (DESIGN.md) in one transaction when the
// store has never been seeded, and reports whether it did. On later starts it
// only points the Echo API at echoURL if it still targets the previous
// built-in echo backend.
func (s *Server) Seed(ctx context.Context, echoURL string) (bool, error) {
	if _, err := s.store.Get(ctx, string(model.KindMeta), "", "seeded"); err == nil {
		return false, s.repointEcho(ctx, echoURL)
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	t := true
	one := 1
	_, err := s.update(ctx, func(tx store.Tx) error {
		if _, err := tx.Get(ctx, string(model.KindMeta), "", "seeded"); err == nil {
			return nil // another replica won the race
		}
		groups := []struct{ id, name, desc string }{
			{model.GroupAdministrators, "Administrators", "Administrators is a built-in group. Its membership is managed by the system."},
			{model.GroupDevelopers, "Developers", "Developers is a built-in group. Its membership is managed by the system. Signed-in users fall into this group."},
			{model.GroupGuests, "Guests", "Guests is a built-in group. Its membership is managed by the system. Unauthenticated users visiting the developer portal fall into this group."},
		}
		for _, g := range groups {
			rec, err := s.kind(model.KindGroup).record("", g.id, &model.Group{DisplayName: g.name, Description: g.desc, BuiltIn: true, Type: model.GroupSystem})
			if err != nil {
				return err
			}
			if _, err := tx.Put(ctx, rec); err != nil {
				return err
			}
		}
		if err := s.putObject(ctx, tx, model.KindUser, "", AdminUserID, &model.User{Email: "admin@portico.local", FirstName: "Administrator", LastName: "Portico", Note: "Built-in administrator"}); err != nil {
			return err
		}
		if err := tx.Link(ctx, string(model.RelGroupUser), model.GroupAdministrators, AdminUserID); err != nil {
			return err
		}
		if err := s.putObject(ctx, tx, model.KindAPI, "", EchoAPIID, &model.API{
			DisplayName: "Echo API", Description: "A built-in API that answers with a JSON description of the request it got.",
			Path: "echo", ServiceURL: echoURL, Protocols: []string{"http", "https"}, SubscriptionRequired: &t,
		}); err != nil {
			return err
		}
		params := &model.RequestDescription{QueryParameters: []model.Parameter{
			{Name: "param1", Description: "A sample parameter that is required and has a default value", Type: "string", Required: true, DefaultValue: "sample"},
			{Name: "param2", Description: "Another sample parameter, set to not required", Type: "number"},
		}}
		ops := []struct {
			id, name, method, tmpl, desc string
			req                          *model.RequestDescription
		}{
			{"retrieve-resource", "Retrieve resource", "GET", "/resource", "A demonstration of a GET call on a sample resource.", params},
			{"create-resource", "Create resource", "POST", "/resource", "A demonstration of a POST call based on the echo backend.", nil},
			{"modify-resource", "Modify Resource", "PUT", "/resource", "A demonstration of a PUT call handled by the same \"echo\" backend as above.", nil},
			{"update-resource", "Update resource", "PATCH", "/resource", "A demonstration of a PATCH call handled by the echo backend.", nil},
			{"remove-resource", "Remove resource", "DELETE", "/resource", "A demonstration of a DELETE call which traditionally deletes the resource.", nil},
			{"retrieve-header-only", "Retrieve header only", "HEAD", "/resource", "The HEAD operation returns only headers.", nil},
			{"retrieve-resource-cached", "Retrieve resource (cached)", "GET", "/resource-cached", "A demonstration of a GET call with caching enabled on the same \"echo\" backend.", params},
		}
		for _, o := range ops {
			op := &model.Operation{DisplayName: o.name, Method: o.method, URLTemplate: o.tmpl, Description: o.desc, Request: o.req,
				Responses: []model.ResponseDescription{{StatusCode: 200, Description: "The echo backend's description of the request."}}}
			if err := s.putObject(ctx, tx, model.KindOperation, EchoAPIID, o.id, op); err != nil {
				return err
			}
		}
		products := []struct {
			id string
			p  *model.Product
		}{
			{ProductStarter, &model.Product{DisplayName: "Starter", State: model.ProductPublished, SubscriptionRequired: &t, ApprovalRequired: false, SubscriptionsLimit: &one,
				Description: "Subscribers will be able to run 5 calls/minute up to a maximum of 100 calls/week.",
				Terms:       "By subscribing to this product, I agree to the Terms of Use."}},
			{ProductUnlimited, &model.Product{DisplayName: "Unlimited", State: model.ProductPublished, SubscriptionRequired: &t, ApprovalRequired: true, SubscriptionsLimit: &one,
				Description: "Subscribers have completely unlimited access to the API. Administrator approval is required."}},
		}
		for _, p := range products {
			if err := s.putObject(ctx, tx, model.KindProduct, "", p.id, p.p); err != nil {
				return err
			}
			if err := tx.Link(ctx, string(model.RelProductAPI), p.id, EchoAPIID); err != nil {
				return err
			}
			for _, g := range []string{model.GroupAdministrators, model.GroupDevelopers, model.GroupGuests} {
				if err := tx.Link(ctx, string(model.RelProductGroup), p.id, g); err != nil {
					return err
				}
			}
		}
		pol, _ := json.Marshal(model.Policy{Format: "rawxml", Value: StarterPolicy})
		if _, err := tx.Put(ctx, store.Record{Kind: string(model.KindPolicy), ID: "products/" + ProductStarter, Doc: pol}); err != nil {
			return err
		}
		for _, sub := range []struct{ id, product, name string }{
			{AdminStarterSub, ProductStarter, "Administrator's Starter subscription"},
			{AdminUnlimitSub, ProductUnlimited, "Administrator's Unlimited subscription"},
		} {
			if err := s.putObject(ctx, tx, model.KindSubscription, "", sub.id, &model.Subscription{
				Scope: "/products/" + sub.product, OwnerID: "/users/" + AdminUserID, DisplayName: sub.name, State: model.SubActive,
			}); err != nil {
				return err
			}
		}
		meta, _ := json.Marshal(echoMeta{URL: echoURL})
		if _, err := tx.Put(ctx, store.Record{Kind: string(model.KindMeta), ID: "echo", Doc: meta}); err != nil {
			return err
		}
		if _, err := tx.Put(ctx, store.Record{Kind: string(model.KindMeta), ID: "seeded", Doc: []byte(`{"by":"portico"}`)}); err != nil {
			return err
		}
		return s.audit(WithActor(ctx, Actor{Kind: ActorSystem}), tx, "seed", "instance", "/")
	})
	if err != nil {
		return false, fmt.Errorf("seed default objects: %w", err)
	}
	return true, nil
}

// repointEcho keeps the seeded Echo API pointed at the built-in echo backend,
// whose loopback address may change between starts. An API the admin has
// pointed elsewhere is left alone.
func (s *Server) repointEcho(ctx context.Context, echoURL string) error {
	rec, err := s.store.Get(ctx, string(model.KindMeta), "", "echo")
	if err != nil {
		return nil
	}
	var m echoMeta
	if json.Unmarshal(rec.Doc, &m) != nil || m.URL == echoURL || echoURL == "" {
		return nil
	}
	_, err = s.update(ctx, func(tx store.Tx) error {
		if apiRec, err := tx.Get(ctx, string(model.KindAPI), "", EchoAPIID); err == nil {
			var a model.API
			if json.Unmarshal(apiRec.Doc, &a) == nil && a.ServiceURL == m.URL {
				a.ServiceURL = echoURL
				rec, err := s.kind(model.KindAPI).record("", EchoAPIID, &a)
				if err != nil {
					return err
				}
				if _, err := tx.Put(ctx, rec); err != nil {
					return err
				}
			}
		}
		meta, _ := json.Marshal(echoMeta{URL: echoURL})
		_, err := tx.Put(ctx, store.Record{Kind: string(model.KindMeta), ID: "echo", Doc: meta})
		return err
	})
	return err
}
