package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/mgmt/mgmtclient"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/portal/web"
	"github.com/portico-gw/portico/internal/secret"
	"github.com/portico-gw/portico/internal/store"
)

const (
	purposeConfirm = "confirm"
	purposeReset   = "reset"
	confirmTTL     = 48 * time.Hour
	resetTTL       = time.Hour
)

// Messages that must read the same whether or not an account exists.
const (
	msgSignInFailed = "The e-mail address or the password is wrong."
	msgCheckMail    = "We have sent a message to %s. Follow the link in it to go on. If nothing arrives within a few minutes, check your spam folder or ask again."
	msgThrottled    = "Too many attempts. Wait %s and try again."
)

var (
	dummyOnce sync.Once
	dummyHash string
)

// checkPassword verifies password against the hash, spending the same time
// on an unknown account (an empty hash) as on a known one.
func checkPassword(hash, password string) bool {
	if hash == "" {
		dummyOnce.Do(func() { dummyHash = secret.HashPassword(web.RandomToken(16)) })
		_, _ = secret.CheckPassword(dummyHash, password)
		return false
	}
	ok, err := secret.CheckPassword(hash, password)
	return ok && err == nil
}

// storedUser is a user record read from the store, with its password hash.
type storedUser struct {
	ID string
	model.User
}

// userByEmail finds a user by e-mail address (compared in lower case).
func (s *Server) userByEmail(ctx context.Context, email string) (*storedUser, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return nil, nil
	}
	recs, _, err := s.cfg.Store.List(ctx, string(model.KindUser), "", store.ListOptions{Top: 1, Filters: []store.Filter{{Field: "email", Op: "eq", Value: email}}})
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	u := &storedUser{ID: recs[0].ID}
	if err := json.Unmarshal(recs[0].Doc, &u.User); err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Server) userByID(ctx context.Context, id string) (*storedUser, error) {
	rec, err := s.cfg.Store.Get(ctx, string(model.KindUser), "", id)
	if err != nil {
		return nil, err
	}
	u := &storedUser{ID: id}
	return u, json.Unmarshal(rec.Doc, &u.User)
}

type formData struct {
	Values map[string]string
	Errors map[string]string
	Error  string
	Next   string
	Token  string
}

func newForm() formData { return formData{Values: map[string]string{}, Errors: map[string]string{}} }

func waitWords(d time.Duration) string {
	if d < time.Minute {
		return plural(int((d+time.Second-1)/time.Second), "second", "seconds")
	}
	m := int(d.Round(time.Minute) / time.Minute)
	if m < 1 {
		return "a minute"
	}
	return plural(m, "minute", "minutes")
}

// retryAfter is a Retry-After value in whole seconds, rounded up.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

func (s *Server) handleSignUpForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "signup", 0, "Sign up", newForm())
}

func (s *Server) handleSignUp(w http.ResponseWriter, r *http.Request) {
	f := newForm()
	for _, k := range []string{"email", "firstName", "lastName"} {
		f.Values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	password := r.PostFormValue("password")
	ip := web.ClientIP(r)
	if ok, wait := s.mailThrottle.Allow("signup:" + ip); !ok {
		f.Error = fmt.Sprintf(msgThrottled, waitWords(wait))
		s.render(w, r, "signup", http.StatusTooManyRequests, "Sign up", f)
		return
	}
	email := strings.ToLower(f.Values["email"])
	u := model.User{Email: email, FirstName: f.Values["firstName"], LastName: f.Values["lastName"], Password: password, State: model.UserPending}
	u.Normalize()
	for _, fe := range u.Validate() {
		f.Errors[fe.Field] = strings.ReplaceAll(fe.Message, "is not a valid email address: "+fmt.Sprintf("%q", u.Email), "is not a valid e-mail address")
	}
	if password == "" {
		f.Errors["password"] = "is required"
	}
	if len(f.Errors) > 0 {
		f.Error = "Please correct the fields marked below."
		s.render(w, r, "signup", http.StatusBadRequest, "Sign up", f)
		return
	}
	s.mailThrottle.Fail("signup:" + ip)
	ctx := r.Context()
	existing, err := s.userByEmail(ctx, email)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	base := s.baseURL(r)
	switch {
	case existing != nil && existing.State == model.UserPending:
		tok := s.tokens.issue(existing.ID, purposeConfirm, confirmTTL)
		s.mail.Send(email, "Confirm your account", confirmBody(existing.FirstName, base, tok))
	case existing != nil:
		// Tell the owner, not the visitor: the page reads the same either way.
		s.mail.Send(email, "Someone tried to sign up with your address",
			fmt.Sprintf("Hello %s,\n\nSomeone tried to create a developer portal account with this e-mail address, which already has one.\nIf it was you, sign in at %s/signin or reset your password at %s/reset.\nIf it was not you, you can ignore this message.\n", existing.FirstName, base, base))
	default:
		// The visitor creates their own account: the change is theirs.
		id := "u" + web.RandomToken(8)
		err := s.api.PutUser(asDeveloper(ctx, id), id, model.User{
			Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Password: password, State: model.UserPending,
			Note: "Signed up on the developer portal",
		})
		if mgmtclient.IsStatus(err, http.StatusBadRequest) {
			f.Error = "The account could not be created: " + err.Error()
			s.render(w, r, "signup", http.StatusBadRequest, "Sign up", f)
			return
		}
		if err != nil && !mgmtclient.IsStatus(err, http.StatusConflict) { // a conflict is a concurrent sign-up with the same address
			s.failed(w, r, err)
			return
		}
		if err == nil {
			tok := s.tokens.issue(id, purposeConfirm, confirmTTL)
			s.mail.Send(email, "Confirm your account", confirmBody(u.FirstName, base, tok))
		}
	}
	s.render(w, r, "message", 0, "Check your e-mail", msgData{Heading: "Check your e-mail", Text: fmt.Sprintf(msgCheckMail, email)})
}

func confirmBody(first, base, tok string) string {
	return fmt.Sprintf("Hello %s,\n\nThank you for signing up. Confirm your e-mail address by opening this link within 48 hours:\n\n%s/confirm?token=%s\n\nIf you did not sign up, ignore this message.\n", first, base, tok)
}

func (s *Server) handleConfirm(w http.ResponseWriter, r *http.Request) {
	id, ok := s.tokens.take(r.URL.Query().Get("token"), purposeConfirm, true)
	if !ok {
		s.render(w, r, "message", http.StatusBadRequest, "Link expired", msgData{Heading: "This link is not valid", Text: "It was used already or has expired. Sign up again with the same address to get a new one.", Link: "/signup", LinkTxt: "Sign up"})
		return
	}
	u, err := s.api.GetUser(r.Context(), id)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	if u.State == model.UserPending {
		// The link proved the address: the developer confirms it.
		if err := s.api.UpdateUser(asDeveloper(r.Context(), id), id, mgmtclient.UserPatch{State: mgmtclient.Set(model.UserActive)}); err != nil {
			s.failed(w, r, err)
			return
		}
	}
	s.render(w, r, "message", 0, "Account confirmed", msgData{Heading: "Your account is confirmed", Text: "You can now sign in.", Link: "/signin", LinkTxt: "Sign in"})
}

func (s *Server) handleSignInForm(w http.ResponseWriter, r *http.Request) {
	f := newForm()
	f.Next = safeNext(r.URL.Query().Get("next"))
	s.render(w, r, "signin", 0, "Sign in", f)
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	f := newForm()
	f.Values["email"] = strings.TrimSpace(r.PostFormValue("email"))
	f.Next = safeNext(r.PostFormValue("next"))
	email := strings.ToLower(f.Values["email"])
	addr := web.ClientIP(r)
	if ok, wait := s.signins.Check(email, addr); !ok {
		f.Error = fmt.Sprintf(msgThrottled, waitWords(wait))
		w.Header().Set("Retry-After", retryAfter(wait))
		s.render(w, r, "signin", http.StatusTooManyRequests, "Sign in", f)
		return
	}
	u, err := s.userByEmail(r.Context(), email)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	if !checkPassword(hash, r.PostFormValue("password")) {
		s.signins.Fail(email, addr)
		f.Error = msgSignInFailed
		s.render(w, r, "signin", http.StatusUnauthorized, "Sign in", f)
		return
	}
	// The password is right: from here on, telling the state is safe.
	switch u.State {
	case model.UserPending:
		tok := s.tokens.issue(u.ID, purposeConfirm, confirmTTL)
		s.mail.Send(u.Email, "Confirm your account", confirmBody(u.FirstName, s.baseURL(r), tok))
		f.Error = "Confirm your e-mail address first: we have sent you a new link."
		s.render(w, r, "signin", http.StatusForbidden, "Sign in", f)
		return
	case model.UserBlocked:
		f.Error = "This account is blocked. Contact the administrator."
		s.render(w, r, "signin", http.StatusForbidden, "Sign in", f)
		return
	}
	s.signins.Succeed(email, addr)
	// A new session id every time: an id planted before sign-in is never
	// promoted (session fixation).
	s.sessions.Start(w, r, u.ID, strings.TrimSpace(u.FirstName+" "+u.LastName))
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) {
	s.sessions.End(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) handleResetForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "reset", 0, "Reset your password", newForm())
}

func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) {
	f := newForm()
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	f.Values["email"] = email
	ip := web.ClientIP(r)
	if ok, wait := s.mailThrottle.Allow("reset:" + ip); !ok {
		f.Error = fmt.Sprintf(msgThrottled, waitWords(wait))
		s.render(w, r, "reset", http.StatusTooManyRequests, "Reset your password", f)
		return
	}
	if email == "" {
		f.Errors["email"] = "is required"
		s.render(w, r, "reset", http.StatusBadRequest, "Reset your password", f)
		return
	}
	s.mailThrottle.Fail("reset:" + ip)
	u, err := s.userByEmail(r.Context(), email)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	if u != nil && u.State != model.UserBlocked {
		tok := s.tokens.issue(u.ID, purposeReset, resetTTL)
		s.mail.Send(u.Email, "Reset your password", fmt.Sprintf("Hello %s,\n\nTo choose a new password, open this link within one hour:\n\n%s/reset/confirm?token=%s\n\nIf you did not ask for this, ignore this message: your password stays as it is.\n", u.FirstName, s.baseURL(r), tok))
	}
	s.render(w, r, "message", 0, "Check your e-mail", msgData{Heading: "Check your e-mail", Text: fmt.Sprintf(msgCheckMail, email)})
}

func (s *Server) handleResetConfirmForm(w http.ResponseWriter, r *http.Request) {
	f := newForm()
	f.Token = r.URL.Query().Get("token")
	if _, ok := s.tokens.take(f.Token, purposeReset, false); !ok {
		s.render(w, r, "message", http.StatusBadRequest, "Link expired", msgData{Heading: "This link is not valid", Text: "It was used already or has expired.", Link: "/reset", LinkTxt: "Ask for a new one"})
		return
	}
	s.render(w, r, "resetconfirm", 0, "Choose a new password", f)
}

func (s *Server) handleResetConfirm(w http.ResponseWriter, r *http.Request) {
	f := newForm()
	f.Token = r.PostFormValue("token")
	password := r.PostFormValue("password")
	if len(password) < 8 || len(password) > 256 {
		f.Errors["password"] = "must be 8 to 256 characters long"
		s.render(w, r, "resetconfirm", http.StatusBadRequest, "Choose a new password", f)
		return
	}
	id, ok := s.tokens.take(f.Token, purposeReset, true)
	if !ok {
		s.render(w, r, "message", http.StatusBadRequest, "Link expired", msgData{Heading: "This link is not valid", Text: "It was used already or has expired.", Link: "/reset", LinkTxt: "Ask for a new one"})
		return
	}
	patch := mgmtclient.UserPatch{Password: mgmtclient.Set(password)}
	if u, err := s.userByID(r.Context(), id); err == nil && u.State == model.UserPending {
		patch.State = mgmtclient.Set(model.UserActive) // the link proved the address
	}
	if err := s.api.UpdateUser(asDeveloper(r.Context(), id), id, patch); err != nil {
		s.failed(w, r, err)
		return
	}
	s.sessions.EndUser(id)
	s.render(w, r, "message", 0, "Password changed", msgData{Heading: "Your password was changed", Text: "Sign in with your new password. Every other session of your account was signed out.", Link: "/signin", LinkTxt: "Sign in"})
}

type profilePage struct {
	Subs    []subView
	Keys    map[string]mgmtclient.Secrets
	Form    formData
	Catalog *catalog
}

func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request) {
	u, sess, ok := s.requireUser(w, r)
	if !ok {
		return
	}
	s.showProfile(w, r, u, sess, nil, "")
}

func (s *Server) showProfile(w http.ResponseWriter, r *http.Request, u *userCtx, sess *web.Session, keys map[string]mgmtclient.Secrets, errMsg string) {
	c, err := s.loadCatalog(r.Context(), u)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	subs, err := s.ownSubscriptions(r.Context(), u, c)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	f := newForm()
	f.Values["firstName"], f.Values["lastName"], f.Values["email"] = u.FirstName, u.LastName, u.Email
	f.Error = errMsg
	status := 0
	if errMsg != "" {
		status = http.StatusBadRequest
	}
	s.renderAs(w, r, u, sess, "profile", status, "Your profile", profilePage{Subs: subs, Keys: keys, Form: f, Catalog: c})
}

func (s *Server) handleProfileUpdate(w http.ResponseWriter, r *http.Request) {
	u, sess, ok := s.requireUser(w, r)
	if !ok {
		return
	}
	err := s.api.UpdateUser(r.Context(), u.ID, mgmtclient.UserPatch{
		FirstName: mgmtclient.Set(strings.TrimSpace(r.PostFormValue("firstName"))), LastName: mgmtclient.Set(strings.TrimSpace(r.PostFormValue("lastName"))),
	})
	if mgmtclient.IsStatus(err, http.StatusBadRequest) {
		s.showProfile(w, r, u, sess, nil, "Your profile was not changed: "+err.Error())
		return
	}
	if err != nil {
		s.failed(w, r, err)
		return
	}
	s.sessions.SetFlash(sess, "Profile saved.")
	http.Redirect(w, r, "/profile", http.StatusSeeOther)
}

func (s *Server) handlePasswordChange(w http.ResponseWriter, r *http.Request) {
	u, sess, ok := s.requireUser(w, r)
	if !ok {
		return
	}
	email, addr := strings.ToLower(u.Email), web.ClientIP(r)
	if ok, wait := s.signins.Check(email, addr); !ok {
		w.Header().Set("Retry-After", retryAfter(wait))
		s.showProfile(w, r, u, sess, nil, fmt.Sprintf(msgThrottled, waitWords(wait)))
		return
	}
	su, err := s.userByID(r.Context(), u.ID)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	if !checkPassword(su.PasswordHash, r.PostFormValue("current")) {
		s.signins.Fail(email, addr)
		s.showProfile(w, r, u, sess, nil, "Your current password is wrong; the password was not changed.")
		return
	}
	next := r.PostFormValue("password")
	if len(next) < 8 || len(next) > 256 {
		s.showProfile(w, r, u, sess, nil, "The new password must be 8 to 256 characters long.")
		return
	}
	if err := s.api.UpdateUser(r.Context(), u.ID, mgmtclient.UserPatch{Password: mgmtclient.Set(next)}); err != nil {
		s.failed(w, r, err)
		return
	}
	s.sessions.EndUser(u.ID)
	sess = s.sessions.Start(w, r, u.ID, u.Name())
	s.sessions.SetFlash(sess, "Password changed. Your other sessions were signed out.")
	http.Redirect(w, r, "/profile", http.StatusSeeOther)
}

func (s *Server) handleClose(w http.ResponseWriter, r *http.Request) {
	u, sess, ok := s.requireUser(w, r)
	if !ok {
		return
	}
	su, err := s.userByID(r.Context(), u.ID)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	if !checkPassword(su.PasswordHash, r.PostFormValue("password")) {
		s.showProfile(w, r, u, sess, nil, "Your password is wrong; the account was not closed.")
		return
	}
	err = s.api.DeleteUser(r.Context(), u.ID, true)
	if mgmtclient.IsStatus(err, http.StatusConflict) {
		s.showProfile(w, r, u, sess, nil, "This account cannot be closed: "+err.Error())
		return
	}
	if err != nil {
		s.failed(w, r, err)
		return
	}
	s.sessions.EndUser(u.ID)
	s.sessions.End(w, r)
	s.renderAs(w, r, nil, nil, "message", 0, "Account closed", msgData{Heading: "Your account is closed", Text: "Your subscriptions were cancelled and your keys no longer work. Thank you for using our APIs.", Link: "/", LinkTxt: "Home"})
}
