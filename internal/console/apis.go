package console

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/portal/web"
)

type apiDoc struct {
	Name string `json:"name"`
	model.API
}

type opDoc struct {
	Name string `json:"name"`
	model.Operation
}

type productDoc struct {
	Name string `json:"name"`
	model.Product
}

type subDoc struct {
	Name string `json:"name"`
	model.Subscription
}

type userDoc struct {
	Name string `json:"name"`
	model.User
}

type groupDoc struct {
	Name string `json:"name"`
	model.Group
}

type backendDoc struct {
	Name string `json:"name"`
	model.Backend
}

type namedValueDoc struct {
	Name string `json:"name"`
	model.NamedValue
}

type gatewayDoc struct {
	Name string `json:"name"`
	model.Gateway
}

type gatewayRow struct {
	gatewayDoc
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
	var rev struct {
		Revision int64 `json:"revision"`
	}
	_ = s.api.Get(ctx, "/api/v1/revision", &rev)
	d.Revision = rev.Revision
	d.APIs = s.count(ctx, "/api/v1/apis")
	d.Products = s.count(ctx, "/api/v1/products")
	d.Users = s.count(ctx, "/api/v1/users")
	for _, st := range []string{"active", "submitted", "suspended"} {
		d.Subscriptions[st] = s.count(ctx, "/api/v1/subscriptions"+web.Filter("state eq "+web.Quote(st)))
	}
	d.Pending = d.Subscriptions["submitted"]
	var err error
	if d.Usage, err = web.FetchUsage(ctx, s.api, time.Hour, 5*time.Minute, time.Now(), ""); err != nil {
		s.log.Warn("console dashboard: reports API failed", "err", err)
	}
	d.Gateways = s.gatewayRows(ctx)
	s.page(w, r, "dashboard", 0, "Dashboard", d)
}

func (s *Server) count(ctx context.Context, path string) int {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var page struct {
		Count int `json:"count"`
	}
	_ = s.api.Get(ctx, path+sep+"top=1", &page)
	return page.Count
}

func (s *Server) gatewayRows(ctx context.Context) []gatewayRow {
	gws, _ := web.List[gatewayDoc](ctx, s.api, "/api/v1/gateways")
	rows := make([]gatewayRow, 0, len(gws))
	for _, g := range gws {
		row := gatewayRow{gatewayDoc: g}
		row.Instances, _ = web.List[gwsync.InstanceView](ctx, s.api, "/api/v1/gateways/"+g.Name+"/instances")
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
	APIs   []apiDoc
	Import importForm
}

type importForm struct {
	ID, Path, Format, Value, ServiceURL string
	Errors                              []web.FieldError
	Error                               string
}

func (s *Server) handleAPIs(w http.ResponseWriter, r *http.Request) {
	s.showAPIs(w, r, importForm{Format: "openapi"}, 0)
}

func (s *Server) showAPIs(w http.ResponseWriter, r *http.Request, f importForm, status int) {
	apis, err := web.List[apiDoc](r.Context(), s.api, "/api/v1/apis")
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
	err := s.api.Call(r.Context(), http.MethodPut, "/api/v1/apis/"+seg(id), map[string]any{
		"displayName": r.PostFormValue("displayName"), "path": r.PostFormValue("path"),
		"serviceUrl": r.PostFormValue("serviceUrl"), "description": r.PostFormValue("description"),
		"subscriptionRequired": t, "protocols": []string{"http", "https"},
	}, nil)
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
	body := map[string]any{"format": f.Format, "value": f.Value}
	if f.Path != "" {
		body["path"] = f.Path
	}
	if f.ServiceURL != "" {
		body["serviceUrl"] = f.ServiceURL
	}
	res := s.api.Do(r.Context(), http.MethodPut, "/api/v1/apis/"+seg(f.ID), body)
	if err := res.Err(); err != nil {
		ae, _ := err.(*web.APIError)
		f.Error = "The import was refused: " + ae.Detail
		f.Errors = ae.Errors
		s.showAPIs(w, r, f, http.StatusBadRequest)
		return
	}
	n := res.Header.Get("Portico-Import-Operations")
	s.done(w, r, "/apis/"+f.ID, nil, "Imported "+n+" operation(s).")
}

// url escapes one path segment for the management API (ids are validated
// there; this only keeps a malformed id from changing the path).
func seg(id string) string {
	return strings.NewReplacer("/", "%2F", "?", "%3F", "#", "%23", "%", "%25").Replace(id)
}

type apiPage struct {
	API      apiDoc
	Ops      []opDoc
	Products []named
	Methods  []string
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("api")
	var p apiPage
	if err := s.api.Get(ctx, "/api/v1/apis/"+seg(id), &p.API); err != nil {
		s.fail(w, r, err)
		return
	}
	p.Ops, _ = web.List[opDoc](ctx, s.api, "/api/v1/apis/"+seg(id)+"/operations")
	sort.Slice(p.Ops, func(i, j int) bool {
		return p.Ops[i].URLTemplate+p.Ops[i].Method < p.Ops[j].URLTemplate+p.Ops[j].Method
	})
	p.Products, _ = web.List[named](ctx, s.api, "/api/v1/apis/"+seg(id)+"/products")
	p.Methods = model.HTTPMethods
	s.page(w, r, "api", 0, p.API.DisplayName, p)
}

func (s *Server) handleAPIUpdate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("api")
	err := s.api.Call(r.Context(), http.MethodPatch, "/api/v1/apis/"+seg(id), map[string]any{
		"displayName": r.PostFormValue("displayName"), "description": r.PostFormValue("description"),
		"path": r.PostFormValue("path"), "serviceUrl": r.PostFormValue("serviceUrl"),
		"subscriptionRequired": r.PostFormValue("subscriptionRequired") == "on", "tags": splitList(r.PostFormValue("tags")),
	}, nil)
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
	err := s.api.Call(r.Context(), http.MethodDelete, "/api/v1/apis/"+seg(id), nil, nil)
	if err != nil {
		s.done(w, r, "/apis/"+id, err, "")
		return
	}
	s.done(w, r, "/apis", nil, "API "+id+" deleted.")
}

func (s *Server) handleOpCreate(w http.ResponseWriter, r *http.Request) {
	api := r.PathValue("api")
	id := strings.TrimSpace(r.PostFormValue("id"))
	err := s.api.Call(r.Context(), http.MethodPut, "/api/v1/apis/"+seg(api)+"/operations/"+seg(id), map[string]any{
		"displayName": r.PostFormValue("displayName"), "method": r.PostFormValue("method"), "urlTemplate": r.PostFormValue("urlTemplate"),
		"description": r.PostFormValue("description"),
	}, nil)
	s.done(w, r, "/apis/"+api, err, "Operation added.")
}

type opPage struct {
	API     apiDoc
	Op      opDoc
	Methods []string
}

func (s *Server) handleOp(w http.ResponseWriter, r *http.Request) {
	var p opPage
	api, op := r.PathValue("api"), r.PathValue("op")
	if err := s.api.Get(r.Context(), "/api/v1/apis/"+seg(api), &p.API); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.api.Get(r.Context(), "/api/v1/apis/"+seg(api)+"/operations/"+seg(op), &p.Op); err != nil {
		s.fail(w, r, err)
		return
	}
	p.Methods = model.HTTPMethods
	s.page(w, r, "operation", 0, p.Op.DisplayName, p)
}

func (s *Server) handleOpUpdate(w http.ResponseWriter, r *http.Request) {
	api, op := r.PathValue("api"), r.PathValue("op")
	err := s.api.Call(r.Context(), http.MethodPatch, "/api/v1/apis/"+seg(api)+"/operations/"+seg(op), map[string]any{
		"displayName": r.PostFormValue("displayName"), "method": r.PostFormValue("method"),
		"urlTemplate": r.PostFormValue("urlTemplate"), "description": r.PostFormValue("description"),
	}, nil)
	s.done(w, r, "/apis/"+api+"/operations/"+op, err, "Operation saved.")
}

func (s *Server) handleOpDelete(w http.ResponseWriter, r *http.Request) {
	api, op := r.PathValue("api"), r.PathValue("op")
	err := s.api.Call(r.Context(), http.MethodDelete, "/api/v1/apis/"+seg(api)+"/operations/"+seg(op), nil, nil)
	s.done(w, r, "/apis/"+api, err, "Operation deleted.")
}

// policyScope checks a scope id ("global", "apis/{id}", "products/{id}",
// "apis/{id}/operations/{id}") and returns its API path and a title.
func policyScope(scope string) (path, title string, ok bool) {
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
		return "/api/v1/policy", "Global policy", true
	case len(parts) == 2 && parts[0] == "apis" && valid(parts[1]):
		return "/api/v1/apis/" + parts[1] + "/policy", "Policy of API " + parts[1], true
	case len(parts) == 2 && parts[0] == "products" && valid(parts[1]):
		return "/api/v1/products/" + parts[1] + "/policy", "Policy of product " + parts[1], true
	case len(parts) == 4 && parts[0] == "apis" && parts[2] == "operations" && valid(parts[1], parts[3]):
		return "/api/v1/apis/" + parts[1] + "/operations/" + parts[3] + "/policy", "Policy of operation " + parts[3] + " of API " + parts[1], true
	}
	return "", "", false
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
	path, title, ok := policyScope(scope)
	if !ok {
		s.page(w, r, "message", http.StatusBadRequest, "Policy", msg{Heading: "Unknown policy scope", Text: "Open a policy from its API, operation or product page."})
		return
	}
	res := s.api.DoRaw(r.Context(), http.MethodGet, path, "", nil)
	p := policyPage{Scope: scope, Title: title}
	switch {
	case res.Status == http.StatusOK:
		p.Value, p.Exists = string(res.Body), true
	case res.Status == http.StatusNotFound && strings.Contains(string(res.Body), "policy at scope"):
		p.Value = defaultPolicy
	default:
		s.fail(w, r, res.Err())
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
	path, title, ok := policyScope(scope)
	if !ok {
		s.page(w, r, "message", http.StatusBadRequest, "Policy", msg{Heading: "Unknown policy scope"})
		return
	}
	value := strings.ReplaceAll(r.PostFormValue("value"), "\r\n", "\n")
	if r.PostFormValue("action") == "delete" {
		err := s.api.Call(r.Context(), http.MethodDelete, path, nil, nil)
		s.done(w, r, "/policy?scope="+scope, err, "Policy removed: the scope inherits its parent's.")
		return
	}
	res := s.api.DoRaw(r.Context(), http.MethodPut, path, "application/xml", []byte(value))
	if err := res.Err(); err != nil {
		p := policyPage{Scope: scope, Title: title, Value: value, Exists: true}
		ae, _ := err.(*web.APIError)
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
