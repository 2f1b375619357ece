// Package portal is Portico's developer portal: the server-rendered web site
// (html/template, embedded CSS and a little JavaScript, no CDN) where API
// consumers browse the catalogue and API references, sign up, subscribe to
// products, see and regenerate their keys, try operations through the
// gateway and see their usage.
//
// The portal holds no business rules of its own: every read and write goes
// to the management API handler in-process (the typed mgmtclient.Client
// with the admin token), so validation, subscription limits, key
// generation and the audit log apply exactly as for the REST API. Changes
// are made on behalf of the developer (mgmt.WithActor): the audit log names
// the signed-in developer, or the visitor signing up, confirming or
// resetting a password with a link. What the portal adds is identity and
// authorisation: who is signed in, which products their groups see, and
// that a subscription's keys are only ever shown to its owner. Passwords
// are checked against the argon2id hash read from the store (the API never
// returns it).
//
// Sessions, confirmation and reset tokens, sign-in throttling and the outbox
// live in memory: a restart signs everyone out and voids pending links.
package portal

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/mgmt"
	"github.com/portico-gw/portico/internal/mgmt/mgmtclient"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/portal/web"
	"github.com/portico-gw/portico/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Config configures the portal.
type Config struct {
	// Mgmt is the management API handler (mgmt.Server.Handler()) and
	// AdminToken its admin token: the portal calls it in-process.
	Mgmt       http.Handler
	AdminToken string
	// Store is read for password hashes and e-mail look-ups only.
	Store store.Reader
	// GatewayURL is the gateway's public base URL, shown in request URLs and
	// curl samples and used by the try-it console (server-side).
	GatewayURL string
	// GatewayClient sends try-it requests; a client with a 30 s timeout
	// when nil.
	GatewayClient *http.Client
	// PublicURL is the portal's own base URL for links in e-mails; when
	// empty it is derived from each request's Host.
	PublicURL string
	// Mailer sends confirmation and reset messages; one that only logs when nil.
	Mailer *web.Mailer
	Logger *slog.Logger
	// SecureCookies forces the Secure attribute (TLS terminated by a proxy).
	SecureCookies bool
	// Title names the portal in the header; "Portico developer portal" by default.
	Title string
}

// Server is the developer portal. Create it with New.
type Server struct {
	cfg      Config
	api      *mgmtclient.Client
	log      *slog.Logger
	mail     *web.Mailer
	sessions *web.Sessions
	csrf     *web.CSRF
	// sign-in throttling: per client address, per account and per both
	signins *web.SignInGuard
	// sign-up and reset requests per IP
	mailThrottle *web.Throttle
	pages        map[string]*template.Template
	tokens       tokenStore
	gw           *http.Client
	handler      http.Handler
}

// New builds the portal.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Mailer == nil {
		cfg.Mailer = &web.Mailer{Log: cfg.Logger}
	}
	if cfg.Title == "" {
		cfg.Title = "Portico developer portal"
	}
	s := &Server{
		cfg:          cfg,
		api:          mgmtclient.New(cfg.Mgmt, cfg.AdminToken),
		log:          cfg.Logger,
		mail:         cfg.Mailer,
		sessions:     web.NewSessions("portico_portal"),
		csrf:         web.NewCSRF("portico_portal_csrf"),
		signins:      web.NewSignInGuard(),
		mailThrottle: web.NewThrottle(10, time.Hour),
		tokens:       tokenStore{m: map[string]token{}},
		gw:           cfg.GatewayClient,
	}
	s.sessions.Secure = cfg.SecureCookies
	s.csrf.Secure = cfg.SecureCookies
	if s.gw == nil {
		s.gw = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	s.pages = web.ParsePages(templateFS, funcs)
	s.handler = s.routes()
	return s
}

// Handler returns the portal's HTTP handler.
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
	mux.HandleFunc("GET /{$}", s.handleHome)
	mux.HandleFunc("GET /apis", s.handleAPIs)
	mux.HandleFunc("GET /apis/{api}", s.handleAPI)
	mux.HandleFunc("GET /apis/{api}/definition", s.handleDefinition)
	mux.HandleFunc("GET /apis/{api}/operations/{op}", s.handleOperation)
	mux.HandleFunc("POST /apis/{api}/operations/{op}/try", s.post(s.handleTry))
	mux.HandleFunc("GET /products", s.handleProducts)
	mux.HandleFunc("GET /products/{product}", s.handleProduct)
	mux.HandleFunc("POST /products/{product}/subscribe", s.post(s.handleSubscribe))

	mux.HandleFunc("GET /signup", s.handleSignUpForm)
	mux.HandleFunc("POST /signup", s.post(s.handleSignUp))
	mux.HandleFunc("GET /confirm", s.handleConfirm)
	mux.HandleFunc("GET /signin", s.handleSignInForm)
	mux.HandleFunc("POST /signin", s.post(s.handleSignIn))
	mux.HandleFunc("POST /signout", s.post(s.handleSignOut))
	mux.HandleFunc("GET /reset", s.handleResetForm)
	mux.HandleFunc("POST /reset", s.post(s.handleReset))
	mux.HandleFunc("GET /reset/confirm", s.handleResetConfirmForm)
	mux.HandleFunc("POST /reset/confirm", s.post(s.handleResetConfirm))
	mux.HandleFunc("GET /profile", s.handleProfile)
	mux.HandleFunc("POST /profile", s.post(s.handleProfileUpdate))
	mux.HandleFunc("POST /profile/password", s.post(s.handlePasswordChange))
	mux.HandleFunc("POST /profile/close", s.post(s.handleClose))

	mux.HandleFunc("POST /subscriptions/{sub}/secrets", s.post(s.owned(s.handleSecrets)))
	mux.HandleFunc("POST /subscriptions/{sub}/regenerate", s.post(s.owned(s.handleRegenerate)))
	mux.HandleFunc("POST /subscriptions/{sub}/rename", s.post(s.owned(s.handleRename)))
	mux.HandleFunc("POST /subscriptions/{sub}/cancel", s.post(s.owned(s.handleCancel)))
	mux.HandleFunc("GET /subscriptions/{sub}/usage", s.owned(s.handleUsage))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) })
	return web.SecurityHeaders(http.NewCrossOriginProtection().Handler(s.actAsDeveloper(mux)))
}

// actAsDeveloper makes the management requests of a signed-in developer's
// request act as that developer, so the audit log names them. Handlers that
// change anything check the session first (requireUser), which ends the
// session of a deleted or blocked user.
func (s *Server) actAsDeveloper(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sess := s.sessions.Get(r); sess != nil && sess.UserID != "" {
			r = r.WithContext(asDeveloper(r.Context(), sess.UserID))
		}
		h.ServeHTTP(w, r)
	})
}

// asDeveloper returns ctx acting as developer (user) id.
func asDeveloper(ctx context.Context, id string) context.Context {
	return mgmt.WithActor(ctx, mgmt.Actor{Kind: mgmt.ActorDeveloper, ID: id})
}

// post wraps a form handler: it bounds and parses the body and refuses a
// request without the right CSRF token with 403.
func (s *Server) post(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 2<<20)
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			_ = r.ParseMultipartForm(2 << 20)
		} else {
			_ = r.ParseForm()
		}
		if !s.csrf.Valid(r, s.sessions.Get(r)) {
			w.WriteHeader(http.StatusForbidden)
			s.render(w, r, "message", http.StatusForbidden, "Form expired", msgData{
				Heading: "This form has expired",
				Text:    "The page was open too long or came from another site. Go back, reload the page and try again.",
			})
			return
		}
		h(w, r)
	}
}

// userCtx is who is looking at a page.
type userCtx struct {
	ID        string
	FirstName string
	LastName  string
	Email     string
	Groups    map[string]bool
}

// Name is the user's display name.
func (u *userCtx) Name() string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// viewer returns the signed-in user of r (nil for a guest). A session whose
// user was deleted or blocked is ended.
func (s *Server) viewer(w http.ResponseWriter, r *http.Request) (*userCtx, *web.Session) {
	sess := s.sessions.Get(r)
	if sess == nil || sess.UserID == "" {
		return nil, nil
	}
	u, err := s.api.GetUser(r.Context(), sess.UserID)
	if err != nil || u.State != model.UserActive {
		s.sessions.End(w, r)
		return nil, nil
	}
	uc := &userCtx{ID: sess.UserID, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, Groups: map[string]bool{model.GroupDevelopers: true}}
	groups, err := s.api.UserGroups(r.Context(), sess.UserID)
	if err == nil {
		for _, g := range groups {
			uc.Groups[g.Name] = true
		}
	}
	return uc, sess
}

// groupsOf returns the groups a viewer belongs to: Guests for anonymous
// visitors, Developers plus their own groups for users.
func groupsOf(u *userCtx) map[string]bool {
	if u == nil {
		return map[string]bool{model.GroupGuests: true}
	}
	return u.Groups
}

// pageData is what every template receives.
type pageData struct {
	Title     string
	SiteTitle string
	User      *userCtx
	CSRF      string
	Flash     string
	Nav       string
	Data      any
}

type msgData struct {
	Heading string
	Text    string
	Link    string
	LinkTxt string
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, status int, title string, data any) {
	u, sess := s.viewer(w, r)
	s.renderAs(w, r, u, sess, name, status, title, data)
}

func (s *Server) renderAs(w http.ResponseWriter, r *http.Request, u *userCtx, sess *web.Session, name string, status int, title string, data any) {
	t := s.pages[name]
	if t == nil {
		http.Error(w, "no template "+name, http.StatusInternalServerError)
		return
	}
	nav := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0]
	pd := pageData{Title: title, SiteTitle: s.cfg.Title, User: u, CSRF: s.csrf.Token(w, r, sess), Flash: s.sessions.TakeFlash(sess), Nav: nav, Data: data}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", pd); err != nil {
		s.log.Error("portal template failed", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	web.NoStore(w)
	if status != 0 && status != http.StatusOK {
		w.WriteHeader(status)
	}
	_, _ = w.Write([]byte(b.String()))
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "message", http.StatusNotFound, "Not found", msgData{Heading: "Page not found", Text: "There is nothing here, or it is not visible to you.", Link: "/apis", LinkTxt: "Browse the APIs"})
}

func (s *Server) failed(w http.ResponseWriter, r *http.Request, err error) {
	if mgmtclient.IsStatus(err, http.StatusNotFound) {
		s.notFound(w, r)
		return
	}
	s.log.Error("portal request failed", "path", r.URL.Path, "err", err)
	s.render(w, r, "message", http.StatusInternalServerError, "Error", msgData{Heading: "Something went wrong", Text: "The request could not be completed. Try again later."})
}

// requireUser returns the signed-in user or redirects to sign-in.
func (s *Server) requireUser(w http.ResponseWriter, r *http.Request) (*userCtx, *web.Session, bool) {
	u, sess := s.viewer(w, r)
	if u == nil {
		target := r.URL.Path
		if r.Method != http.MethodGet {
			target = "/profile"
		}
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(target), http.StatusSeeOther)
		return nil, nil, false
	}
	return u, sess, true
}

// baseURL is the portal's public URL for links in e-mails.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/apis"
	}
	return next
}

// token is a one-time link token (e-mail confirmation, password reset).
type token struct {
	userID  string
	purpose string
	expires time.Time
}

// tokenStore keeps tokens by their SHA-256, so the map never holds a
// usable link.
type tokenStore struct {
	mu sync.Mutex
	m  map[string]token
}

func (ts *tokenStore) issue(userID, purpose string, ttl time.Duration) string {
	v := web.RandomToken(32)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	now := time.Now()
	for k, t := range ts.m {
		if now.After(t.expires) || (t.userID == userID && t.purpose == purpose) {
			delete(ts.m, k) // one live link per user and purpose
		}
	}
	ts.m[hashToken(v)] = token{userID: userID, purpose: purpose, expires: now.Add(ttl)}
	return v
}

// take consumes a token; ok is false when it is unknown, used or expired.
func (ts *tokenStore) take(v, purpose string, consume bool) (string, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	k := hashToken(v)
	t, ok := ts.m[k]
	if !ok || t.purpose != purpose || time.Now().After(t.expires) {
		return "", false
	}
	if consume {
		delete(ts.m, k)
	}
	return t.userID, true
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func hashToken(v string) string {
	h := sha256.Sum256([]byte(v))
	return hex.EncodeToString(h[:])
}
