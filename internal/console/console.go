// Package console is Portico's admin console: server-rendered pages on the
// management address ("/", beside the REST API under /api/v1) to run an
// instance: dashboard, APIs and OpenAPI import, operations, policies with
// line-located validation errors, products, subscriptions and their
// approval, users and groups, backends, named values, gateways and the
// portal's outbox.
//
// Every page reads and writes through the management REST API, called
// in-process with the admin token (the typed mgmtclient.Client): the
// console has exactly the powers and the rules of the REST API, nothing
// more. An administrator signs in with the admin token or as a user
// of the Administrators group; the session lives server-side behind an
// HttpOnly cookie (the token is never stored in the browser). Changes are
// made on behalf of who signed in (mgmt.WithActor): the audit log names the
// administrator user, or the admin token. Sessions are in memory.
package console

import (
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/mgmt"
	"github.com/portico-gw/portico/internal/mgmt/mgmtclient"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/portal/web"
	"github.com/portico-gw/portico/internal/secret"
	"github.com/portico-gw/portico/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Config configures the console.
type Config struct {
	// Mgmt is the management API handler and AdminToken its token.
	Mgmt       http.Handler
	AdminToken string
	// Store is read to check the passwords of administrators who sign in
	// as users.
	Store store.Reader
	// Mailer holds the portal's outbox, shown on the Outbox page; nil hides it.
	Mailer *web.Mailer
	Logger *slog.Logger
	// PortalURL links to the developer portal; GatewayURL is shown on the dashboard.
	PortalURL  string
	GatewayURL string
	// SecureCookies forces the Secure cookie attribute.
	SecureCookies bool
}

// Server is the admin console. Create it with New.
type Server struct {
	cfg       Config
	api       *mgmtclient.Client
	log       *slog.Logger
	sessions  *web.Sessions
	csrf      *web.CSRF
	signins   *web.SignInGuard
	pages     map[string]*template.Template
	tokenHash [32]byte
	handler   http.Handler
}

// New builds the console.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, api: mgmtclient.New(cfg.Mgmt, cfg.AdminToken), log: cfg.Logger,
		sessions: web.NewSessions("portico_console"), csrf: web.NewCSRF("portico_console_csrf"),
		signins:   web.NewSignInGuard(),
		tokenHash: sha256.Sum256([]byte(cfg.AdminToken))}
	s.sessions.Secure, s.csrf.Secure = cfg.SecureCookies, cfg.SecureCookies
	s.pages = web.ParsePages(templateFS, funcs)
	s.handler = s.routes()
	return s
}

// Handler returns the console's handler; mount it at "/" beside /api/.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	assets, _ := fs.Sub(assetFS, "assets")
	static := http.StripPrefix("/assets/", http.FileServer(http.FS(assets)))
	mux.Handle("GET /assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		static.ServeHTTP(w, r)
	}))
	mux.Handle("GET /assets/portico.css", web.Stylesheet())
	mux.HandleFunc("GET /signin", s.handleSignInForm)
	mux.HandleFunc("POST /signin", s.form(s.handleSignIn))
	mux.HandleFunc("POST /signout", s.form(s.handleSignOut))

	admin := func(pattern string, h http.HandlerFunc) {
		if strings.HasPrefix(pattern, "POST ") {
			h = s.form(h)
		}
		mux.HandleFunc(pattern, s.admin(h))
	}
	admin("GET /{$}", s.handleDashboard)
	admin("GET /apis", s.handleAPIs)
	admin("POST /apis", s.handleAPICreate)
	admin("POST /apis/import", s.handleImport)
	admin("GET /apis/{api}", s.handleAPI)
	admin("POST /apis/{api}", s.handleAPIUpdate)
	admin("POST /apis/{api}/delete", s.handleAPIDelete)
	admin("POST /apis/{api}/operations", s.handleOpCreate)
	admin("GET /apis/{api}/operations/{op}", s.handleOp)
	admin("POST /apis/{api}/operations/{op}", s.handleOpUpdate)
	admin("POST /apis/{api}/operations/{op}/delete", s.handleOpDelete)
	admin("GET /policy", s.handlePolicy)
	admin("POST /policy", s.handlePolicySave)
	admin("GET /products", s.handleProducts)
	admin("POST /products", s.handleProductCreate)
	admin("GET /products/{product}", s.handleProduct)
	admin("POST /products/{product}", s.handleProductUpdate)
	admin("POST /products/{product}/delete", s.handleProductDelete)
	admin("POST /products/{product}/links", s.handleProductLink)
	admin("GET /subscriptions", s.handleSubscriptions)
	admin("POST /subscriptions/{sub}/state", s.handleSubscriptionState)
	admin("GET /users", s.handleUsers)
	admin("POST /users", s.handleUserCreate)
	admin("GET /users/{user}", s.handleUser)
	admin("POST /users/{user}", s.handleUserUpdate)
	admin("POST /users/{user}/groups", s.handleUserGroup)
	admin("POST /users/{user}/delete", s.handleUserDelete)
	admin("GET /groups", s.handleGroups)
	admin("POST /groups", s.handleGroupCreate)
	admin("POST /groups/{group}/delete", s.handleGroupDelete)
	admin("GET /backends", s.handleBackends)
	admin("POST /backends", s.handleBackendSave)
	admin("POST /backends/{backend}/delete", s.handleBackendDelete)
	admin("GET /named-values", s.handleNamedValues)
	admin("POST /named-values", s.handleNamedValueSave)
	admin("POST /named-values/{nv}/delete", s.handleNamedValueDelete)
	admin("GET /gateways", s.handleGateways)
	admin("POST /gateways", s.handleGatewayCreate)
	admin("GET /gateways/{gw}", s.handleGateway)
	admin("POST /gateways/{gw}/apis", s.handleGatewayAPI)
	admin("POST /gateways/{gw}/token", s.handleGatewayToken)
	admin("POST /gateways/{gw}/delete", s.handleGatewayDelete)
	admin("GET /outbox", s.handleOutbox)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.page(w, r, "message", http.StatusNotFound, "Not found", msg{Heading: "Page not found", Text: "There is no console page here."})
	})
	return web.SecurityHeaders(http.NewCrossOriginProtection().Handler(mux))
}

// form bounds and parses a form and checks its CSRF token.
func (s *Server) form(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			_ = r.ParseMultipartForm(8 << 20)
		} else {
			_ = r.ParseForm()
		}
		if !s.csrf.Valid(r, s.sessions.Get(r)) {
			s.page(w, r, "message", http.StatusForbidden, "Form expired", msg{Heading: "This form has expired", Text: "Reload the page and try again."})
			return
		}
		h(w, r)
	}
}

// admin requires a signed-in administrator, on whose behalf the request's
// management calls then act.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := s.sessions.Get(r)
		if sess == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.page(w, r, "message", http.StatusUnauthorized, "Signed out", msg{Heading: "You are signed out", Text: "Sign in again to continue.", Link: "/signin", LinkTxt: "Sign in"})
			return
		}
		if sess.UserID != "" && !s.isAdministrator(r, sess.UserID) {
			s.sessions.End(w, r)
			http.Redirect(w, r, "/signin", http.StatusSeeOther)
			return
		}
		who := mgmt.Actor{Kind: mgmt.ActorAdminToken}
		if sess.UserID != "" {
			who = mgmt.Actor{Kind: mgmt.ActorAdminUser, ID: sess.UserID}
		}
		h(w, r.WithContext(mgmt.WithActor(r.Context(), who)))
	}
}

func (s *Server) isAdministrator(r *http.Request, userID string) bool {
	u, err := s.api.GetUser(r.Context(), userID)
	if err != nil || u.State != model.UserActive {
		return false
	}
	groups, err := s.api.UserGroups(r.Context(), userID)
	if err != nil {
		return false
	}
	for _, g := range groups {
		if g.Name == model.GroupAdministrators {
			return true
		}
	}
	return false
}

type msg struct {
	Heading, Text, Link, LinkTxt string
}

type pageData struct {
	Title     string
	Who       string
	CSRF      string
	Flash     string
	Nav       string
	PortalURL string
	Data      any
}

func (s *Server) page(w http.ResponseWriter, r *http.Request, name string, status int, title string, data any) {
	t := s.pages[name]
	sess := s.sessions.Get(r)
	pd := pageData{Title: title, CSRF: s.csrf.Token(w, r, sess), Flash: s.sessions.TakeFlash(sess), PortalURL: s.cfg.PortalURL, Data: data,
		Nav: strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0]}
	if sess != nil {
		pd.Who = sess.Label
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", pd); err != nil {
		s.log.Error("console template failed", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	web.NoStore(w)
	if status != 0 {
		w.WriteHeader(status)
	}
	_, _ = w.Write([]byte(b.String()))
}

// fail shows an unexpected error.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if mgmtclient.IsStatus(err, http.StatusNotFound) {
		s.page(w, r, "message", http.StatusNotFound, "Not found", msg{Heading: "Not found", Text: err.Error()})
		return
	}
	s.log.Error("console request failed", "path", r.URL.Path, "err", err)
	s.page(w, r, "message", http.StatusInternalServerError, "Error", msg{Heading: "Something went wrong", Text: err.Error()})
}

// done redirects after a write with a flash: the API's refusal, or ok.
func (s *Server) done(w http.ResponseWriter, r *http.Request, to string, err error, ok string) {
	sess := s.sessions.Get(r)
	if err != nil {
		s.sessions.SetFlash(sess, "Refused: "+err.Error())
	} else if ok != "" {
		s.sessions.SetFlash(sess, ok)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (s *Server) handleSignInForm(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, "signin", 0, "Sign in", signinData{Next: safeNext(r.URL.Query().Get("next"))})
}

type signinData struct {
	Next, Email, Error string
}

func safeNext(n string) string {
	if n == "" || !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\") {
		return "/"
	}
	return n
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	d := signinData{Next: safeNext(r.PostFormValue("next")), Email: strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))}
	// Attempts with the admin token count as one account of their own.
	account, addr := d.Email, web.ClientIP(r)
	if strings.TrimSpace(r.PostFormValue("token")) != "" {
		account = "\x00admin-token"
	}
	if ok, wait := s.signins.Check(account, addr); !ok {
		secs := int((wait + time.Second - 1) / time.Second)
		if secs < 60 {
			d.Error = fmt.Sprintf("Too many attempts. Wait %d seconds and try again.", secs)
		} else {
			d.Error = fmt.Sprintf("Too many attempts. Wait %d minutes and try again.", (secs+59)/60)
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.page(w, r, "signin", http.StatusTooManyRequests, "Sign in", d)
		return
	}
	fail := func() {
		s.signins.Fail(account, addr)
		d.Error = "Sign-in failed: the token, or the e-mail address and password of an administrator, are wrong."
		s.page(w, r, "signin", http.StatusUnauthorized, "Sign in", d)
	}
	if tok := strings.TrimSpace(r.PostFormValue("token")); tok != "" {
		got := sha256.Sum256([]byte(tok))
		if s.cfg.AdminToken == "" || subtle.ConstantTimeCompare(got[:], s.tokenHash[:]) != 1 {
			fail()
			return
		}
		s.signins.Succeed(account, addr)
		s.sessions.Start(w, r, "", "admin token")
		http.Redirect(w, r, d.Next, http.StatusSeeOther)
		return
	}
	id, name, ok := s.checkUser(r, d.Email, r.PostFormValue("password"))
	if !ok || !s.isAdministrator(r, id) {
		fail()
		return
	}
	s.signins.Succeed(account, addr)
	s.sessions.Start(w, r, id, name)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// checkUser verifies an e-mail address and password against the store.
func (s *Server) checkUser(r *http.Request, email, password string) (id, name string, ok bool) {
	hash := ""
	var u struct {
		FirstName    string `json:"firstName"`
		LastName     string `json:"lastName"`
		PasswordHash string `json:"passwordHash"`
	}
	if s.cfg.Store != nil && email != "" {
		recs, _, err := s.cfg.Store.List(r.Context(), string(model.KindUser), "", store.ListOptions{Top: 1, Filters: []store.Filter{{Field: "email", Op: "eq", Value: email}}})
		if err == nil && len(recs) == 1 && json.Unmarshal(recs[0].Doc, &u) == nil {
			id, hash = recs[0].ID, u.PasswordHash
		}
	}
	if hash == "" {
		hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	}
	good, err := secret.CheckPassword(hash, password)
	if err != nil || !good || id == "" {
		return "", "", false
	}
	return id, strings.TrimSpace(u.FirstName + " " + u.LastName), true
}

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) {
	s.sessions.End(w, r)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil
}
