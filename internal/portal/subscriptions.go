package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/mgmt/mgmtclient"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/portal/web"
)

// subView is one of the viewer's subscriptions as pages show it.
type subView struct {
	ID, DisplayName, State, Scope string
	ProductID, ProductName        string
	APIID                         string
	AllAPIs                       bool
	Created                       *time.Time
	Comment                       string
}

// Live reports whether the subscription still counts (not cancelled,
// rejected or expired).
func (v subView) Live() bool {
	return v.State == model.SubActive || v.State == model.SubSubmitted || v.State == model.SubSuspended
}

// Active reports whether its keys work.
func (v subView) Active() bool { return v.State == model.SubActive }

// StateText explains the state in words.
func (v subView) StateText() string {
	switch v.State {
	case model.SubActive:
		return "Active"
	case model.SubSubmitted:
		return "Submitted: waiting for approval"
	case model.SubSuspended:
		return "Suspended"
	case model.SubRejected:
		return "Rejected"
	case model.SubCancelled:
		return "Cancelled"
	case model.SubExpired:
		return "Expired"
	}
	return v.State
}

// admits reports whether the subscription's scope covers the API.
func (v subView) admits(apiID string, c *catalog) bool {
	switch {
	case v.AllAPIs:
		return true
	case v.APIID != "":
		return v.APIID == apiID
	case v.ProductID != "":
		for _, p := range c.apiProducts[apiID] {
			if p.Name == v.ProductID {
				return true
			}
		}
	}
	return false
}

func (s *Server) subView(d *mgmtclient.Subscription, c *catalog) subView {
	v := subView{ID: d.Name, DisplayName: d.DisplayName, State: d.State, Scope: d.Scope, Created: d.CreatedDate, Comment: d.StateComment}
	kind, id, _ := model.ScopeKind(d.Scope)
	switch kind {
	case model.KindProduct:
		v.ProductID, v.ProductName = id, id
		if c != nil {
			if p := c.product(id); p != nil {
				v.ProductName = p.DisplayName
			}
		}
	case model.KindAPI:
		v.APIID = id
	case model.KindAllAPIs:
		v.AllAPIs = true
	}
	return v
}

// ownSubscriptions lists the viewer's subscriptions, newest first.
func (s *Server) ownSubscriptions(ctx context.Context, u *userCtx, c *catalog) ([]subView, error) {
	subs, err := s.api.UserSubscriptions(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	out := make([]subView, 0, len(subs))
	for i := range subs {
		if subs[i].OwnerID != "/users/"+u.ID { // belt and braces
			continue
		}
		out = append(out, s.subView(&subs[i], c))
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Created, out[j].Created
		return a != nil && b != nil && a.After(*b)
	})
	return out, nil
}

// ownSubscription loads subscription id if, and only if, the viewer owns
// it; any other case is reported as not found, so that ids of other users'
// subscriptions are not even confirmed to exist.
func (s *Server) ownSubscription(ctx context.Context, u *userCtx, id string) (*mgmtclient.Subscription, error) {
	notFound := &mgmtclient.Error{Status: http.StatusNotFound}
	if u == nil || !model.ValidID(id) {
		return nil, notFound
	}
	d, err := s.api.GetSubscription(ctx, id)
	if err != nil {
		return nil, notFound
	}
	if d.OwnerID != "/users/"+u.ID {
		return nil, notFound
	}
	return &d, nil
}

func (s *Server) handleSubscribe(w http.ResponseWriter, r *http.Request) {
	u, sess, ok := s.requireUser(w, r)
	if !ok {
		return
	}
	c, err := s.loadCatalog(r.Context(), u)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	p := c.product(r.PathValue("product"))
	if p == nil {
		s.notFound(w, r)
		return
	}
	back := "/products/" + p.Name
	if p.Terms != "" && r.PostFormValue("terms") != "on" {
		s.sessions.SetFlash(sess, "To subscribe, accept the product's terms of use.")
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		name = p.DisplayName
	}
	if len(name) > 100 {
		name = name[:100]
	}
	state := model.SubActive
	if p.ApprovalRequired {
		state = model.SubSubmitted
	}
	id := "sub-" + web.RandomToken(8)
	err = s.api.PutSubscription(r.Context(), id, model.Subscription{
		Scope: "/products/" + p.Name, OwnerID: "/users/" + u.ID, DisplayName: name, State: state,
	})
	switch {
	case mgmtclient.IsStatus(err, http.StatusConflict):
		limit := 0
		if p.SubscriptionsLimit != nil {
			limit = *p.SubscriptionsLimit
		}
		s.sessions.SetFlash(sess, fmt.Sprintf("You already hold %s to %s, the most this product allows. Cancel one to subscribe again.", plural(limit, "subscription", "subscriptions"), p.DisplayName))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	case mgmtclient.IsStatus(err, http.StatusBadRequest):
		s.sessions.SetFlash(sess, "The subscription could not be created: "+err.Error())
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	case err != nil:
		s.failed(w, r, err)
		return
	}
	if state == model.SubSubmitted {
		s.sessions.SetFlash(sess, "Your subscription to "+p.DisplayName+" was submitted. An administrator must approve it before its keys work.")
	} else {
		s.sessions.SetFlash(sess, "You are subscribed to "+p.DisplayName+". Your keys are below.")
	}
	http.Redirect(w, r, "/profile#"+id, http.StatusSeeOther)
}

// subHandler handles a request about one subscription of the signed-in
// user.
type subHandler func(w http.ResponseWriter, r *http.Request, u *userCtx, sess *web.Session, sub *mgmtclient.Subscription)

// owned serves h only to a signed-in user who owns the subscription named in
// the path (read from the store, never from the form); anyone else gets 404,
// so the existence of others' subscriptions is not revealed.
func (s *Server) owned(h subHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, sess, ok := s.requireUser(w, r)
		if !ok {
			return
		}
		sub, err := s.ownSubscription(r.Context(), u, r.PathValue("sub"))
		if err != nil {
			s.notFound(w, r)
			return
		}
		h(w, r, u, sess, sub)
	}
}

// handleSecrets shows a subscription's keys to its owner: JSON for the
// page's script, else the profile page with the keys revealed.
func (s *Server) handleSecrets(w http.ResponseWriter, r *http.Request, u *userCtx, sess *web.Session, sub *mgmtclient.Subscription) {
	keys, err := s.api.SubscriptionSecrets(r.Context(), sub.Name)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(keys)
		return
	}
	s.showProfile(w, r, u, sess, map[string]mgmtclient.Secrets{sub.Name: keys}, "")
}

func (s *Server) handleRegenerate(w http.ResponseWriter, r *http.Request, u *userCtx, sess *web.Session, sub *mgmtclient.Subscription) {
	which := mgmtclient.Primary
	if r.PostFormValue("key") == "secondary" {
		which = mgmtclient.Secondary
	}
	if err := s.api.RegenerateSubscriptionKey(r.Context(), sub.Name, which); err != nil {
		s.failed(w, r, err)
		return
	}
	s.sessions.SetFlash(sess, string(which)+" key of "+sub.DisplayName+" regenerated; the old one stops working within seconds.")
	http.Redirect(w, r, "/profile#"+sub.Name, http.StatusSeeOther)
}

func (s *Server) handleRename(w http.ResponseWriter, r *http.Request, u *userCtx, sess *web.Session, sub *mgmtclient.Subscription) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	err := s.api.UpdateSubscription(r.Context(), sub.Name, mgmtclient.SubscriptionPatch{DisplayName: mgmtclient.Set(name)})
	if mgmtclient.IsStatus(err, http.StatusBadRequest) {
		s.sessions.SetFlash(sess, "The name was not changed: "+err.Error())
	} else if err != nil {
		s.failed(w, r, err)
		return
	} else {
		s.sessions.SetFlash(sess, "Subscription renamed.")
	}
	http.Redirect(w, r, "/profile#"+sub.Name, http.StatusSeeOther)
}

func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request, u *userCtx, sess *web.Session, sub *mgmtclient.Subscription) {
	if v := s.subView(sub, nil); !v.Live() {
		s.sessions.SetFlash(sess, "This subscription is already "+sub.State+".")
		http.Redirect(w, r, "/profile", http.StatusSeeOther)
		return
	}
	if err := s.api.UpdateSubscription(r.Context(), sub.Name, mgmtclient.SubscriptionPatch{State: mgmtclient.Set(model.SubCancelled)}); err != nil {
		s.failed(w, r, err)
		return
	}
	s.sessions.SetFlash(sess, "Subscription "+sub.DisplayName+" cancelled; its keys no longer work.")
	http.Redirect(w, r, "/profile", http.StatusSeeOther)
}

type usagePage struct {
	Sub       subView
	Usage     web.Usage
	Span      string
	Spans     []string
	Available bool
}

var usageSpans = map[string][2]time.Duration{
	"1h":  {time.Hour, 5 * time.Minute},
	"24h": {24 * time.Hour, time.Hour},
	"7d":  {7 * 24 * time.Hour, 24 * time.Hour},
}

// handleUsage draws the calls, errors and response times of one of the
// viewer's subscriptions from the reports API.
func (s *Server) handleUsage(w http.ResponseWriter, r *http.Request, u *userCtx, sess *web.Session, sub *mgmtclient.Subscription) {
	span := r.URL.Query().Get("span")
	if _, ok := usageSpans[span]; !ok {
		span = "1h"
	}
	sp := usageSpans[span]
	usage, err := web.FetchUsage(r.Context(), s.api, sp[0], sp[1], time.Now(), mgmtclient.Eq("subscriptionId", sub.Name))
	if err != nil {
		s.log.Warn("portal usage: reports API failed", "subscription", sub.Name, "err", err)
	}
	c, _ := s.loadCatalog(r.Context(), u)
	s.renderAs(w, r, u, sess, "usage", 0, "Usage · "+sub.DisplayName, usagePage{Sub: s.subView(sub, c), Usage: usage, Span: span, Spans: []string{"1h", "24h", "7d"}, Available: usage.Available})
}
