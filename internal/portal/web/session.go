package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// RandomToken returns n random bytes as lowercase hex.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// Session is one signed-in browser. Its id is the cookie value; it is
// created only by Sessions.Start, so an id chosen by anyone else (session
// fixation) is never honoured.
type Session struct {
	ID      string
	UserID  string // the signed-in user's id ("" for the console's admin-token sign-in)
	Label   string // what to show: the user's name or "admin token"
	Created time.Time
	seen    time.Time
	flash   string
}

// Sessions keeps sessions in memory under an HttpOnly, SameSite=Lax cookie
// (Secure when the request came over TLS, directly or through a trusted
// proxy (see ForwardedTLS), or Secure is set).
type Sessions struct {
	// Cookie is the cookie name.
	Cookie string
	// Idle ends a session unused this long; MaxAge ends any session.
	Idle, MaxAge time.Duration
	// Secure forces the Secure attribute (behind a TLS-terminating proxy).
	Secure bool

	mu sync.Mutex
	m  map[string]*Session
}

// NewSessions returns a session store using cookie name with a 2 h idle
// timeout and a 12 h lifetime.
func NewSessions(cookie string) *Sessions {
	return &Sessions{Cookie: cookie, Idle: 2 * time.Hour, MaxAge: 12 * time.Hour, m: map[string]*Session{}}
}

func (s *Sessions) secure(r *http.Request) bool { return s.Secure || IsHTTPS(r) }

// Get returns the live session of r, or nil.
func (s *Sessions) Get(r *http.Request) *Session {
	c, err := r.Cookie(s.Cookie)
	if err != nil || c.Value == "" {
		return nil
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.m[c.Value]
	if sess == nil {
		return nil
	}
	if now.Sub(sess.seen) > s.Idle || now.Sub(sess.Created) > s.MaxAge {
		delete(s.m, c.Value)
		return nil
	}
	sess.seen = now
	return sess
}

// Start creates a new session for userID with a fresh random id, ends the
// session r held (if any) and sets the cookie.
func (s *Sessions) Start(w http.ResponseWriter, r *http.Request, userID, label string) *Session {
	now := time.Now()
	sess := &Session{ID: RandomToken(32), UserID: userID, Label: label, Created: now, seen: now}
	s.mu.Lock()
	if c, err := r.Cookie(s.Cookie); err == nil {
		delete(s.m, c.Value)
	}
	s.sweep(now)
	s.m[sess.ID] = sess
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: s.Cookie, Value: sess.ID, Path: "/", HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: int(s.MaxAge / time.Second)})
	return sess
}

// sweep drops expired sessions; the caller holds mu.
func (s *Sessions) sweep(now time.Time) {
	if len(s.m) < 1024 {
		return
	}
	for id, sess := range s.m {
		if now.Sub(sess.seen) > s.Idle || now.Sub(sess.Created) > s.MaxAge {
			delete(s.m, id)
		}
	}
}

// End ends r's session and clears the cookie.
func (s *Sessions) End(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.Cookie); err == nil {
		s.mu.Lock()
		delete(s.m, c.Value)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: s.Cookie, Value: "", Path: "/", HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// EndUser ends every session of userID (password reset, account close).
func (s *Sessions) EndUser(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, sess := range s.m {
		if sess.UserID == userID {
			delete(s.m, id)
		}
	}
}

// SetFlash stores a one-time message shown on the next page.
func (s *Sessions) SetFlash(sess *Session, msg string) {
	if sess == nil {
		return
	}
	s.mu.Lock()
	sess.flash = msg
	s.mu.Unlock()
}

// TakeFlash returns and clears the session's one-time message.
func (s *Sessions) TakeFlash(sess *Session) string {
	if sess == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := sess.flash
	sess.flash = ""
	return m
}

// CSRF issues and checks the anti-forgery tokens carried by every form
// (field "csrf") and by script requests (header X-CSRF-Token). A token is an
// HMAC of the session id, or, before sign-in, of a random HttpOnly cookie:
// another site can neither read nor compute it.
type CSRF struct {
	key    []byte
	cookie string
	// Secure forces the Secure attribute of the anonymous cookie.
	Secure bool
}

// NewCSRF returns a CSRF checker with a random key; anonCookie names the
// cookie that binds tokens of visitors who are not signed in.
func NewCSRF(anonCookie string) *CSRF {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return &CSRF{key: k, cookie: anonCookie}
}

func (c *CSRF) sign(seed string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(seed))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Token returns the token for r's forms, setting the anonymous cookie when
// there is no session and no cookie yet.
func (c *CSRF) Token(w http.ResponseWriter, r *http.Request, sess *Session) string {
	if sess != nil {
		return c.sign("s:" + sess.ID)
	}
	if ck, err := r.Cookie(c.cookie); err == nil && len(ck.Value) == 64 {
		return c.sign("a:" + ck.Value)
	}
	v := RandomToken(32)
	http.SetCookie(w, &http.Cookie{Name: c.cookie, Value: v, Path: "/", HttpOnly: true, Secure: c.Secure || IsHTTPS(r), SameSite: http.SameSiteLaxMode})
	// Later calls in the same request must see the same value.
	r.AddCookie(&http.Cookie{Name: c.cookie, Value: v})
	return c.sign("a:" + v)
}

// Valid reports whether r carries the right token for sess (or, with no
// session, for its anonymous cookie). Call it after ParseForm.
func (c *CSRF) Valid(r *http.Request, sess *Session) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	if got == "" {
		return false
	}
	var want string
	if sess != nil {
		want = c.sign("s:" + sess.ID)
	} else {
		ck, err := r.Cookie(c.cookie)
		if err != nil || len(ck.Value) != 64 {
			return false
		}
		want = c.sign("a:" + ck.Value)
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
