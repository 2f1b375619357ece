package portal

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/mgmt/mgmtclient"
	"github.com/portico-gw/portico/internal/model"
)

// productInfo is a product visible to the viewer, with its APIs.
type productInfo struct {
	mgmtclient.Product
	APIs   []mgmtclient.API
	Limits []string
}

// catalog is what one viewer may see: the published products visible to one
// of their groups, and the APIs of those products.
type catalog struct {
	Products    []*productInfo
	APIs        []mgmtclient.API
	apiProducts map[string][]*productInfo
}

func (c *catalog) product(id string) *productInfo {
	for _, p := range c.Products {
		if p.Name == id {
			return p
		}
	}
	return nil
}

func (c *catalog) api(id string) (mgmtclient.API, bool) {
	for _, a := range c.APIs {
		if a.Name == id {
			return a, true
		}
	}
	return mgmtclient.API{}, false
}

// loadCatalog applies group visibility: a product is shown when it is
// published and linked to one of the viewer's groups; an API is shown when
// one such product holds it.
func (s *Server) loadCatalog(ctx context.Context, u *userCtx) (*catalog, error) {
	groups := groupsOf(u)
	products, err := s.api.ListProducts(ctx, mgmtclient.Eq("state", model.ProductPublished))
	if err != nil {
		return nil, err
	}
	c := &catalog{apiProducts: map[string][]*productInfo{}}
	seen := map[string]bool{}
	for _, p := range products {
		pg, err := s.api.ProductGroups(ctx, p.Name)
		if err != nil {
			return nil, err
		}
		visible := false
		for _, g := range pg {
			visible = visible || groups[g.Name]
		}
		if !visible {
			continue
		}
		apis, err := s.api.ProductAPIs(ctx, p.Name)
		if err != nil {
			return nil, err
		}
		sort.Slice(apis, func(i, j int) bool {
			return strings.ToLower(apis[i].DisplayName) < strings.ToLower(apis[j].DisplayName)
		})
		pi := &productInfo{Product: p, APIs: apis}
		c.Products = append(c.Products, pi)
		for _, a := range apis {
			c.apiProducts[a.Name] = append(c.apiProducts[a.Name], pi)
			if !seen[a.Name] {
				seen[a.Name] = true
				c.APIs = append(c.APIs, a)
			}
		}
	}
	sort.Slice(c.Products, func(i, j int) bool {
		return strings.ToLower(c.Products[i].DisplayName) < strings.ToLower(c.Products[j].DisplayName)
	})
	sort.Slice(c.APIs, func(i, j int) bool {
		return strings.ToLower(c.APIs[i].DisplayName) < strings.ToLower(c.APIs[j].DisplayName)
	})
	return c, nil
}

// limitsInWords describes a product's limits for people: its policy's rate
// limits and quotas, its subscriptions limit and whether approval is needed.
func (s *Server) limitsInWords(ctx context.Context, p *productInfo) []string {
	var out []string
	if doc, err := s.api.GetPolicy(ctx, "products/"+p.Name); err == nil {
		out = append(out, policyLimits(doc)...)
	}
	if p.SubscriptionsLimit != nil {
		switch n := *p.SubscriptionsLimit; n {
		case 0:
			out = append(out, "No new subscriptions are accepted.")
		case 1:
			out = append(out, "One subscription per developer.")
		default:
			out = append(out, fmt.Sprintf("Up to %d subscriptions per developer.", n))
		}
	}
	if p.SubscriptionRequired != nil && !*p.SubscriptionRequired {
		out = append(out, "Open: its APIs can be called without a key.")
	} else if p.ApprovalRequired {
		out = append(out, "Subscriptions need an administrator's approval.")
	} else {
		out = append(out, "Subscriptions are active at once.")
	}
	return out
}

// policyLimits finds rate-limit and quota policies in a policy document.
func policyLimits(doc string) []string {
	var out []string
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := d.Token()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return out
			}
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := func(n string) string {
			for _, a := range se.Attr {
				if a.Name.Local == n {
					return a.Value
				}
			}
			return ""
		}
		calls, _ := strconv.Atoi(attr("calls"))
		period, _ := strconv.Atoi(attr("renewal-period"))
		kb, _ := strconv.Atoi(attr("bandwidth"))
		switch se.Name.Local {
		case "rate-limit", "rate-limit-by-key":
			if calls > 0 && period > 0 {
				out = append(out, fmt.Sprintf("Rate limit: %s per %s.", plural(calls, "call", "calls"), periodWords(period)))
			}
		case "quota", "quota-by-key":
			if calls > 0 && period > 0 {
				out = append(out, fmt.Sprintf("Quota: %s per %s.", plural(calls, "call", "calls"), periodWords(period)))
			}
			if kb > 0 && period > 0 {
				out = append(out, fmt.Sprintf("Bandwidth quota: %d KB per %s.", kb, periodWords(period)))
			}
		}
	}
	return out
}

func periodWords(sec int) string {
	units := []struct {
		n         int
		one, many string
	}{{604800, "week", "weeks"}, {86400, "day", "days"}, {3600, "hour", "hours"}, {60, "minute", "minutes"}, {1, "second", "seconds"}}
	for _, u := range units {
		if sec%u.n == 0 {
			if sec == u.n {
				return u.one
			}
			return fmt.Sprintf("%d %s", sec/u.n, u.many)
		}
	}
	return fmt.Sprintf("%d seconds", sec)
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	u, sess := s.viewer(w, r)
	c, err := s.loadCatalog(r.Context(), u)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	s.renderAs(w, r, u, sess, "home", 0, "Home", c)
}

type apisPage struct {
	Query, Tag string
	Tags       []string
	APIs       []mgmtclient.API
	Total      int
}

func (s *Server) handleAPIs(w http.ResponseWriter, r *http.Request) {
	u, sess := s.viewer(w, r)
	c, err := s.loadCatalog(r.Context(), u)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	tag := strings.TrimSpace(r.URL.Query().Get("tag"))
	pg := apisPage{Query: q, Tag: tag, Total: len(c.APIs)}
	tags := map[string]string{}
	lq := strings.ToLower(q)
	for _, a := range c.APIs {
		hasTag := tag == ""
		for _, t := range a.Tags {
			tags[strings.ToLower(t)] = t
			hasTag = hasTag || strings.EqualFold(t, tag)
		}
		text := strings.ToLower(a.DisplayName + " " + a.Description + " " + a.Path + " " + strings.Join(a.Tags, " "))
		if hasTag && (lq == "" || strings.Contains(text, lq)) {
			pg.APIs = append(pg.APIs, a)
		}
	}
	for _, t := range tags {
		pg.Tags = append(pg.Tags, t)
	}
	sort.Strings(pg.Tags)
	s.renderAs(w, r, u, sess, "apis", 0, "APIs", pg)
}

type apiPage struct {
	API      mgmtclient.API
	BaseURL  string
	Ops      []mgmtclient.Operation
	Products []*productInfo
}

// visibleAPI loads an API the viewer may see, or reports 404.
func (s *Server) visibleAPI(ctx context.Context, u *userCtx, id string) (*catalog, mgmtclient.API, error) {
	if !model.ValidID(id) {
		return nil, mgmtclient.API{}, &mgmtclient.Error{Status: http.StatusNotFound}
	}
	c, err := s.loadCatalog(ctx, u)
	if err != nil {
		return nil, mgmtclient.API{}, err
	}
	a, ok := c.api(id)
	if !ok {
		return nil, mgmtclient.API{}, &mgmtclient.Error{Status: http.StatusNotFound}
	}
	return c, a, nil
}

func (s *Server) gatewayBase(a mgmtclient.API) string {
	base := strings.TrimRight(s.cfg.GatewayURL, "/")
	if a.Path != "" {
		base += "/" + a.Path
	}
	return base
}

func (s *Server) operations(ctx context.Context, apiID string) ([]mgmtclient.Operation, error) {
	ops, err := s.api.ListOperations(ctx, apiID)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(ops, func(i, j int) bool {
		if ops[i].URLTemplate != ops[j].URLTemplate {
			return ops[i].URLTemplate < ops[j].URLTemplate
		}
		return methodRank(ops[i].Method) < methodRank(ops[j].Method)
	})
	return ops, nil
}

func methodRank(m string) int {
	for i, x := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"} {
		if m == x {
			return i
		}
	}
	return 99
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	u, sess := s.viewer(w, r)
	c, a, err := s.visibleAPI(r.Context(), u, r.PathValue("api"))
	if err != nil {
		s.failed(w, r, err)
		return
	}
	ops, err := s.operations(r.Context(), a.Name)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	s.renderAs(w, r, u, sess, "api", 0, a.DisplayName, apiPage{API: a, BaseURL: s.gatewayBase(a), Ops: ops, Products: c.apiProducts[a.Name]})
}

// handleDefinition downloads the API's OpenAPI 3 document (JSON, or YAML
// with format=yaml), as the management API exports it.
func (s *Server) handleDefinition(w http.ResponseWriter, r *http.Request) {
	u, _ := s.viewer(w, r)
	_, a, err := s.visibleAPI(r.Context(), u, r.PathValue("api"))
	if err != nil {
		s.failed(w, r, err)
		return
	}
	format, ext, ctype := "openapi+json", "json", "application/json"
	if r.URL.Query().Get("format") == "yaml" {
		format, ext, ctype = "openapi", "yaml", "application/yaml"
	}
	doc, err := s.api.ExportAPI(r.Context(), a.Name, format)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ctype+"; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+a.Name+`.openapi.`+ext+`"`)
	_, _ = w.Write(doc)
}

type productsPage struct {
	Products []*productInfo
}

func (s *Server) handleProducts(w http.ResponseWriter, r *http.Request) {
	u, sess := s.viewer(w, r)
	c, err := s.loadCatalog(r.Context(), u)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	for _, p := range c.Products {
		p.Limits = s.limitsInWords(r.Context(), p)
	}
	s.renderAs(w, r, u, sess, "products", 0, "Products", productsPage{Products: c.Products})
}

type productPage struct {
	Product *productInfo
	Subs    []subView
	Open    bool
}

func (s *Server) handleProduct(w http.ResponseWriter, r *http.Request) {
	u, sess := s.viewer(w, r)
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
	p.Limits = s.limitsInWords(r.Context(), p)
	pg := productPage{Product: p, Open: p.SubscriptionRequired != nil && !*p.SubscriptionRequired}
	if u != nil {
		subs, err := s.ownSubscriptions(r.Context(), u, c)
		if err != nil {
			s.failed(w, r, err)
			return
		}
		for _, sv := range subs {
			if sv.ProductID == p.Name {
				pg.Subs = append(pg.Subs, sv)
			}
		}
	}
	s.renderAs(w, r, u, sess, "product", 0, p.DisplayName, pg)
}

// prettyJSON indents a JSON value; other text is returned as it is.
func prettyJSON(raw []byte) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return string(raw)
	}
	return string(b)
}
