package console

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/mgmt/mgmtclient"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/portal/web"
)

type gatewayRow struct {
	mgmtclient.Gateway
	Instances []gwsync.InstanceView
	Connected int
}

type dashboard struct {
	Revision      int64
	APIs          int
	Products      int
	Users         int
	Subscriptions map[string]int
	Pending       int
	Usage         web.Usage
	Gateways      []gatewayRow
	GatewayURL    string
}

func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := dashboard{Subscriptions: map[string]int{}, GatewayURL: s.cfg.GatewayURL}
	// The dashboard shows what it can read: a failed count shows as 0.
	d.Revision, _ = s.api.Revision(ctx)
	d.APIs, _ = s.api.CountAPIs(ctx)
	d.Products, _ = s.api.CountProducts(ctx)
	d.Users, _ = s.api.CountUsers(ctx)
	for _, st := range []string{model.SubActive, model.SubSubmitted, model.SubSuspended} {
		d.Subscriptions[st], _ = s.api.CountSubscriptions(ctx, mgmtclient.Eq("state", st))
	}
	d.Pending = d.Subscriptions["submitted"]
	var err error
	if d.Usage, err = web.FetchUsage(ctx, s.api, time.Hour, 5*time.Minute, time.Now(), ""); err != nil {
		s.log.Warn("console dashboard: reports API failed", "err", err)
	}
	d.Gateways = s.gatewayRows(ctx)
	s.page(w, r, "dashboard", 0, "Dashboard", d)
}

func (s *Server) gatewayRows(ctx context.Context) []gatewayRow {
	gws, _ := s.api.ListGateways(ctx)
	rows := make([]gatewayRow, 0, len(gws))
	for _, g := range gws {
		row := gatewayRow{Gateway: g}
		row.Instances, _ = s.api.GatewayInstances(ctx, g.Name)
		for _, in := range row.Instances {
			if in.Status != gwsync.StatusDisconnected {
				row.Connected++
			}
		}
		rows = append(rows, row)
	}
	return rows
}

type apisPage struct {
	APIs   []mgmtclient.API
	Import importForm
}

type importForm struct {
	ID, Path, Format, Value, ServiceURL string
	Errors                              []model.FieldError
	Error                               string
}

func (s *Server) handleAPIs(w http.ResponseWriter, r *http.Request) {
	s.showAPIs(w, r, importForm{Format: "openapi"}, 0)
}

func (s *Server) showAPIs(w http.ResponseWriter, r *http.Request, f importForm, status int) {
	apis, err := s.api.ListAPIs(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sort.Slice(apis, func(i, j int) bool { return apis[i].DisplayName < apis[j].DisplayName })
	s.page(w, r, "apis", status, "APIs", apisPage{APIs: apis, Import: f})
}

func (s *Server) handleAPICreate(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.PostFormValue("id"))
	t := r.PostFormValue("subscriptionRequired") == "on"
	err := s.api.PutAPI(r.Context(), id, model.API{
		DisplayName: r.PostFormValue("displayName"), Path: r.PostFormValue("path"),
		ServiceURL: r.PostFormValue("serviceUrl"), Description: r.PostFormValue("description"),
		SubscriptionRequired: &t, Protocols: []string{"http", "https"},
	})
	if err != nil {
		s.done(w, r, "/apis", err, "")
		return
	}
	s.done(w, r, "/apis/"+id, nil, "API created.")
}

// handleImport imports an OpenAPI document pasted or uploaded.
func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	f := importForm{ID: strings.TrimSpace(r.PostFormValue("id")), Path: strings.TrimSpace(r.PostFormValue("path")),
		Format: r.PostFormValue("format"), Value: r.PostFormValue("value"), ServiceURL: strings.TrimSpace(r.PostFormValue("serviceUrl"))}
	if file, _, err := r.FormFile("file"); err == nil {
		b, err := io.ReadAll(io.LimitReader(file, 4<<20+1))
		file.Close()
		if err == nil && len(b) > 0 {
			f.Value = string(b)
		}
	}
	n, err := s.api.ImportAPI(r.Context(), f.ID, mgmtclient.Import{Format: f.Format, Value: f.Value, Path: f.Path, ServiceURL: f.ServiceURL})
	if err != nil {
		var e *mgmtclient.Error
		if !errors.As(err, &e) {
			s.fail(w, r, err)
			return
		}
		f.Error = "The import was refused: " + e.Detail
		f.Errors = e.Errors
		s.showAPIs(w, r, f, http.StatusBadRequest)
		return
	}
	s.done(w, r, "/apis/"+f.ID, nil, "Imported "+strconv.Itoa(n)+" operation(s).")
}

type apiPage struct {
	API      mgmtclient.API
	Ops      []mgmtclient.Operation
	Products []mgmtclient.Product
	Methods  []string
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("api")
	var p apiPage
	var err error
	if p.API, err = s.api.GetAPI(ctx, id); err != nil {
		s.fail(w, r, err)
		return
	}
	p.Ops, _ = s.api.ListOperations(ctx, id)
	sort.Slice(p.Ops, func(i, j int) bool {
		return p.Ops[i].URLTemplate+p.Ops[i].Method < p.Ops[j].URLTemplate+p.Ops[j].Method
	})
	p.Products, _ = s.api.APIProducts(ctx, id)
	p.Methods = model.HTTPMethods
	s.page(w, r, "api", 0, p.API.DisplayName, p)
}

func (s *Server) handleAPIUpdate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("api")
	err := s.api.UpdateAPI(r.Context(), id, mgmtclient.APIPatch{
		DisplayName: mgmtclient.Set(r.PostFormValue("displayName")), Description: mgmtclient.Set(r.PostFormValue("description")),
		Path: mgmtclient.Set(r.PostFormValue("path")), ServiceURL: mgmtclient.Set(r.PostFormValue("serviceUrl")),
		SubscriptionRequired: mgmtclient.Set(r.PostFormValue("subscriptionRequired") == "on"), Tags: mgmtclient.Set(splitList(r.PostFormValue("tags"))),
	})
	s.done(w, r, "/apis/"+id, err, "API saved.")
}

func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (s *Server) handleAPIDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("api")
	err := s.api.DeleteAPI(r.Context(), id)
	if err != nil {
		s.done(w, r, "/apis/"+id, err, "")
		return
	}
	s.done(w, r, "/apis", nil, "API "+id+" deleted.")
}

func (s *Server) handleOpCreate(w http.ResponseWriter, r *http.Request) {
	api := r.PathValue("api")
	id := strings.TrimSpace(r.PostFormValue("id"))
	err := s.api.PutOperation(r.Context(), api, id, model.Operation{
		DisplayName: r.PostFormValue("displayName"), Method: r.PostFormValue("method"), URLTemplate: r.PostFormValue("urlTemplate"),
		Description: r.PostFormValue("description"),
	})
	s.done(w, r, "/apis/"+api, err, "Operation added.")
}

type opPage struct {
	API     mgmtclient.API
	Op      mgmtclient.Operation
	Methods []string
}

func (s *Server) handleOp(w http.ResponseWriter, r *http.Request) {
	var p opPage
	api, op := r.PathValue("api"), r.PathValue("op")
	var err error
	if p.API, err = s.api.GetAPI(r.Context(), api); err != nil {
		s.fail(w, r, err)
		return
	}
	if p.Op, err = s.api.GetOperation(r.Context(), api, op); err != nil {
		s.fail(w, r, err)
		return
	}
	p.Methods = model.HTTPMethods
	s.page(w, r, "operation", 0, p.Op.DisplayName, p)
}

func (s *Server) handleOpUpdate(w http.ResponseWriter, r *http.Request) {
	api, op := r.PathValue("api"), r.PathValue("op")
	err := s.api.UpdateOperation(r.Context(), api, op, mgmtclient.OperationPatch{
		DisplayName: mgmtclient.Set(r.PostFormValue("displayName")), Method: mgmtclient.Set(r.PostFormValue("method")),
		URLTemplate: mgmtclient.Set(r.PostFormValue("urlTemplate")), Description: mgmtclient.Set(r.PostFormValue("description")),
	})
	s.done(w, r, "/apis/"+api+"/operations/"+op, err, "Operation saved.")
}

func (s *Server) handleOpDelete(w http.ResponseWriter, r *http.Request) {
	api, op := r.PathValue("api"), r.PathValue("op")
	err := s.api.DeleteOperation(r.Context(), api, op)
	s.done(w, r, "/apis/"+api, err, "Operation deleted.")
}

// policyScope checks a scope id ("global", "apis/{id}", "products/{id}",
// "apis/{id}/operations/{id}") and returns its title.
func policyScope(scope string) (title string, ok bool) {
	parts := strings.Split(scope, "/")
	valid := func(ids ...string) bool {
		for _, id := range ids {
			if !model.ValidID(id) {
				return false
			}
		}
		return true
	}
	switch {
	case scope == "global":
		return "Global policy", true
	case len(parts) == 2 && parts[0] == "apis" && valid(parts[1]):
		return "Policy of API " + parts[1], true
	case len(parts) == 2 && parts[0] == "products" && valid(parts[1]):
		return "Policy of product " + parts[1], true
	case len(parts) == 4 && parts[0] == "apis" && parts[2] == "operations" && valid(parts[1], parts[3]):
		return "Policy of operation " + parts[3] + " of API " + parts[1], true
	}
	return "", false
}

// policyError is a validation error located in the document.
type policyError struct {
	Line, Column int
	Message      string
}

type policyPage struct {
	Scope, Title, Value string
	Lines               []policyLine
	Errors              []policyError
	Exists              bool
}

type policyLine struct {
	N   int
	Bad bool
}

var lineCol = regexp.MustCompile(`line (\d+), column (\d+)`)

const defaultPolicy = `<policies>
  <inbound>
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

func (s *Server) handlePolicy(w http.ResponseWriter, r *http.Request) {
	scope := r.URL.Query().Get("scope")
	title, ok := policyScope(scope)
	if !ok {
		s.page(w, r, "message", http.StatusBadRequest, "Policy", msg{Heading: "Unknown policy scope", Text: "Open a policy from its API, operation or product page."})
		return
	}
	doc, err := s.api.GetPolicy(r.Context(), scope)
	p := policyPage{Scope: scope, Title: title}
	var e *mgmtclient.Error
	switch {
	case err == nil:
		p.Value, p.Exists = doc, true
	case errors.As(err, &e) && e.Status == http.StatusNotFound && strings.Contains(e.Detail, "policy at scope"):
		p.Value = defaultPolicy // the owner exists but has no document of its own
	default:
		s.fail(w, r, err)
		return
	}
	s.showPolicy(w, r, p, 0)
}

func (s *Server) showPolicy(w http.ResponseWriter, r *http.Request, p policyPage, status int) {
	bad := map[int]bool{}
	for _, e := range p.Errors {
		bad[e.Line] = true
	}
	n := strings.Count(p.Value, "\n") + 1
	for i := 1; i <= n; i++ {
		p.Lines = append(p.Lines, policyLine{N: i, Bad: bad[i]})
	}
	s.page(w, r, "policy", status, p.Title, p)
}

// handlePolicySave stores a policy; a refusal shows the document again
// with each error at its line.
func (s *Server) handlePolicySave(w http.ResponseWriter, r *http.Request) {
	scope := r.PostFormValue("scope")
	title, ok := policyScope(scope)
	if !ok {
		s.page(w, r, "message", http.StatusBadRequest, "Policy", msg{Heading: "Unknown policy scope"})
		return
	}
	value := strings.ReplaceAll(r.PostFormValue("value"), "\r\n", "\n")
	if r.PostFormValue("action") == "delete" {
		err := s.api.DeletePolicy(r.Context(), scope)
		s.done(w, r, "/policy?scope="+scope, err, "Policy removed: the scope inherits its parent's.")
		return
	}
	if err := s.api.PutPolicy(r.Context(), scope, value); err != nil {
		p := policyPage{Scope: scope, Title: title, Value: value, Exists: true}
		var ae *mgmtclient.Error
		if !errors.As(err, &ae) {
			s.fail(w, r, err)
			return
		}
		for _, fe := range ae.Errors {
			pe := policyError{Message: fe.Message}
			if m := lineCol.FindStringSubmatch(fe.Message); m != nil {
				pe.Line, _ = strconv.Atoi(m[1])
				pe.Column, _ = strconv.Atoi(m[2])
			}
			p.Errors = append(p.Errors, pe)
		}
		if len(p.Errors) == 0 {
			p.Errors = []policyError{{Message: ae.Error()}}
		}
		s.showPolicy(w, r, p, http.StatusBadRequest)
		return
	}
	s.done(w, r, "/policy?scope="+scope, nil, "Policy saved.")
}
