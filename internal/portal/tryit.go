package portal

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/mgmt/mgmtclient"
	"github.com/portico-gw/portico/internal/model"
)

// tryForm is what the try-it form sent, to show it again with the result.
type tryForm struct {
	Subscription string
	Headers      string
	ContentType  string
	Body         string
	Values       map[string]string // parameter fields by paramRow.Field
}

// tryResult is a gateway response shown by the try-it console.
type tryResult struct {
	Method     string   `json:"method"`
	URL        string   `json:"url"`
	Status     int      `json:"status"`
	StatusText string   `json:"statusText"`
	Headers    []header `json:"headers"`
	Body       string   `json:"body"`
	Truncated  bool     `json:"truncated"`
	Millis     int64    `json:"millis"`
	Error      string   `json:"error,omitempty"`
}

type header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// maxTryBody bounds the response body shown by the try-it console.
const maxTryBody = 256 << 10

// expandURL fills the operation's URL template: path parameters are
// escaped as one segment (a trailing {*rest} as several), query parameters
// with a value are appended. With keepEmpty, a template parameter without
// value keeps its placeholder.
func expandURL(base, tmpl string, ps []paramRow, value func(paramRow) string, keepEmpty bool) (string, error) {
	path, tq, _ := strings.Cut(tmpl, "?")
	byName := map[string]paramRow{}
	for _, p := range ps {
		if p.In == "template" {
			byName[p.Name] = p
		}
	}
	var b strings.Builder
	for i := 0; i < len(path); {
		j := strings.IndexByte(path[i:], '{')
		if j < 0 {
			b.WriteString(path[i:])
			break
		}
		b.WriteString(path[i : i+j])
		k := strings.IndexByte(path[i+j:], '}')
		if k < 0 {
			return "", fmt.Errorf("malformed template %q", tmpl)
		}
		name := path[i+j+1 : i+j+k]
		wild := strings.HasPrefix(name, "*")
		name = strings.TrimPrefix(name, "*")
		v := value(byName[name])
		if v == "" && byName[name].Name == "" {
			v = value(paramRow{Name: name, In: "template"})
		}
		switch {
		case v == "" && keepEmpty:
			b.WriteString("{" + name + "}")
		case v == "":
			return "", fmt.Errorf("the path parameter %q is required", name)
		case wild:
			segs := strings.Split(v, "/")
			for n, s := range segs {
				segs[n] = url.PathEscape(s)
			}
			b.WriteString(strings.Join(segs, "/"))
		default:
			b.WriteString(url.PathEscape(v))
		}
		i += j + k + 1
	}
	q := url.Values{}
	var order []string
	add := func(name, v string) {
		if _, ok := q[name]; !ok {
			order = append(order, name)
		}
		q.Add(name, v)
	}
	// query parameters written in the template (?q={q}) come first
	for _, pair := range strings.Split(tq, "&") {
		if pair == "" {
			continue
		}
		n, v, _ := strings.Cut(pair, "=")
		if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") {
			v = value(paramRow{Name: strings.Trim(v, "{}"), In: "template"})
		}
		add(n, v)
	}
	for _, p := range ps {
		if p.In != "query" {
			continue
		}
		if v := value(p); v != "" {
			add(p.Name, v)
		}
	}
	u := base + b.String()
	if len(order) > 0 {
		parts := make([]string, 0, len(order))
		for _, n := range order {
			for _, v := range q[n] {
				parts = append(parts, url.QueryEscape(n)+"="+url.QueryEscape(v))
			}
		}
		u += "?" + strings.Join(parts, "&")
	}
	return u, nil
}

// handleTry sends the operation through the gateway with the key of one of
// the viewer's own active subscriptions, and shows the response (as JSON for
// the page's script, else in the page).
func (s *Server) handleTry(w http.ResponseWriter, r *http.Request) {
	wantJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	u, _, ok := s.requireUser(w, r)
	if !ok {
		return
	}
	c, a, err := s.visibleAPI(r.Context(), u, r.PathValue("api"))
	if err != nil {
		s.failed(w, r, err)
		return
	}
	id := r.PathValue("op")
	if !model.ValidID(id) {
		s.notFound(w, r)
		return
	}
	op, err := s.api.GetOperation(r.Context(), a.Name, id)
	if err != nil {
		s.notFound(w, r)
		return
	}
	v := s.opView(a, op)
	form := tryForm{Subscription: r.PostFormValue("subscription"), Headers: r.PostFormValue("headers"),
		ContentType: r.PostFormValue("contentType"), Body: r.PostFormValue("body"), Values: map[string]string{}}
	for _, p := range v.Params {
		form.Values[p.Field()] = r.PostFormValue(p.Field())
	}
	res := s.try(r.Context(), u, c, a, v, form)
	if wantJSON {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(res)
		return
	}
	s.showOperation(w, r, res, form)
}

func (s *Server) try(ctx context.Context, u *userCtx, c *catalog, a mgmtclient.API, v opView, form tryForm) *tryResult {
	res := &tryResult{Method: v.Method}
	if s.cfg.GatewayURL == "" {
		res.Error = "This portal does not know the gateway's URL; ask the administrator to set PORTICO_GATEWAY_URL."
		return res
	}
	// The subscription must be the viewer's own, active, and admit the API.
	sub, err := s.ownSubscription(ctx, u, form.Subscription)
	if err != nil {
		res.Error = "Choose one of your active subscriptions."
		return res
	}
	sv := s.subView(sub, c)
	if sv.State != model.SubActive || !sv.admits(a.Name, c) {
		res.Error = "This subscription is not active for this API."
		return res
	}
	keys, err := s.api.SubscriptionSecrets(ctx, sub.Name)
	if err != nil {
		res.Error = "The subscription's key could not be read."
		return res
	}
	target, err := expandURL(s.gatewayBase(a), v.URLTemplate, v.Params, func(p paramRow) string {
		return strings.TrimSpace(form.Values[p.Field()])
	}, false)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	for _, p := range v.Params {
		if p.Required && p.In != "template" && strings.TrimSpace(form.Values[p.Field()]) == "" {
			res.Error = fmt.Sprintf("The %s parameter %q is required.", p.In, p.Name)
			return res
		}
	}
	res.URL = target
	method := v.Method
	if method == "*" {
		method = http.MethodGet
	}
	res.Method = method
	var body io.Reader = http.NoBody
	if form.Body != "" && method != http.MethodGet && method != http.MethodHead {
		body = strings.NewReader(form.Body)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		res.Error = "The request could not be built: " + err.Error()
		return res
	}
	for _, p := range v.Params {
		if val := strings.TrimSpace(form.Values[p.Field()]); p.In == "header" && val != "" {
			req.Header.Set(p.Name, val)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(form.Headers))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			continue
		}
		req.Header.Add(name, strings.TrimSpace(val))
	}
	if form.Body != "" && form.ContentType != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", form.ContentType)
	}
	req.Header.Set(v.KeyHeader, keys.PrimaryKey)
	start := time.Now()
	resp, err := s.gw.Do(req)
	res.Millis = time.Since(start).Milliseconds()
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		res.Error = "The gateway could not be reached: " + err.Error()
		return res
	}
	defer resp.Body.Close()
	res.Status, res.StatusText = resp.StatusCode, http.StatusText(resp.StatusCode)
	names := make([]string, 0, len(resp.Header))
	for n := range resp.Header {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, val := range resp.Header[n] {
			res.Headers = append(res.Headers, header{Name: n, Value: val})
		}
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxTryBody+1))
	if len(raw) > maxTryBody {
		raw, res.Truncated = raw[:maxTryBody], true
	}
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		res.Body = prettyJSON(raw)
	} else {
		res.Body = strings.ToValidUTF8(string(raw), "\uFFFD")
	}
	// Never echo the key back, whatever the backend did with it.
	res.Body = strings.ReplaceAll(res.Body, keys.PrimaryKey, "••••")
	for i := range res.Headers {
		res.Headers[i].Value = strings.ReplaceAll(res.Headers[i].Value, keys.PrimaryKey, "••••")
	}
	return res
}
