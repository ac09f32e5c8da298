package web

import (
	"container/list"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/message"

	"github.com/entente/entente/taxii"
)

var b64 = base64.RawURLEncoding

// Cookie names. The __Host- prefix makes the browser refuse them unless
// they are Secure, have Path=/ and no Domain: no other host, and no page
// served over plain HTTP but from a loopback origin (doc/console.md), can
// set or shadow them.
const (
	sessionCookie = "__Host-entente-session"
	loginCookie   = "__Host-entente-login"
)

// Session is a logged-in account's session.
type Session struct {
	// Caller is the account, as the node's TAXII paths know it; its role
	// is read again on every request.
	Caller *taxii.Caller
	// CSRF is the token every form of this session carries.
	CSRF string

	role    role
	p       *message.Printer
	id      string // the hash of the cookie's value
	created time.Time
	seen    time.Time
	elem    *list.Element
}

// T returns key in the console's language (the message catalog), with
// args formatted into it.
func (u *Session) T(key string, args ...any) string { return u.p.Sprintf(key, args...) }

// Account is the session's account name.
func (u *Session) Account() string { return u.Caller.Name }

// Role is the session's account's role: admin, analyst or reader.
func (u *Session) Role() string { return u.Caller.Role }

// IsAdmin and IsAnalyst say whether the account may use admin or
// analyst actions; templates ask them to show only what the account may do.
func (u *Session) IsAdmin() bool   { return u.role >= roleAdmin }
func (u *Session) IsAnalyst() bool { return u.role >= roleAnalyst }

var errNoSession = errors.New("web: no session")

// sessions are held in memory: a restart logs everyone out, which is what
// an operator expects of a console on a node that restarted. The map is
// keyed by the SHA-256 of the cookie's value, so that the table never
// holds a usable cookie.
type sessions struct {
	mu        sync.Mutex
	byID      map[string]*Session
	order     *list.List // oldest first
	idle, max time.Duration
	limit     int
	now       func() time.Time
}

func newSessions(idle, max time.Duration, limit int, now func() time.Time) *sessions {
	return &sessions{byID: map[string]*Session{}, order: list.New(), idle: idle, max: max, limit: limit, now: now}
}

func hashID(cookie string) string {
	h := sha256.Sum256([]byte(cookie))
	return b64.EncodeToString(h[:])
}

// start creates a session for c and returns the cookie's value.
func (ss *sessions) start(c *taxii.Caller) (string, *Session) {
	cookie := randomToken(32)
	now := ss.now()
	u := &Session{Caller: c, CSRF: randomToken(32), id: hashID(cookie), created: now, seen: now, role: roleOf(c.Role)}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for ss.order.Len() >= ss.limit {
		old := ss.order.Remove(ss.order.Front()).(*Session)
		delete(ss.byID, old.id)
	}
	u.elem = ss.order.PushBack(u)
	ss.byID[u.id] = u
	return cookie, u
}

// get returns the live session the cookie names.
func (ss *sessions) get(cookie string) (*Session, bool) {
	id := hashID(cookie)
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	u, ok := ss.byID[id]
	if !ok {
		return nil, false
	}
	if now.Sub(u.seen) > ss.idle || now.Sub(u.created) > ss.max {
		ss.order.Remove(u.elem)
		delete(ss.byID, id)
		return nil, false
	}
	u.seen = now
	// A copy, so that the request's view does not change under it.
	cp := *u
	return &cp, true
}

// end removes the session the cookie names.
func (ss *sessions) end(cookie string) {
	id := hashID(cookie)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if u, ok := ss.byID[id]; ok {
		ss.order.Remove(u.elem)
		delete(ss.byID, id)
	}
}

// session returns the request's session with the account's role as
// stored now, errNoSession if it has none (or it ended, or the account
// is gone), or the node's error.
func (s *Server) session(r *http.Request) (*Session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, errNoSession
	}
	u, ok := s.sessions.get(ck.Value)
	if !ok {
		return nil, errNoSession
	}
	c, err := s.node.CallerOf(r.Context(), u.Caller.Name)
	switch {
	case errors.Is(err, taxii.ErrUnauthorized):
		s.sessions.end(ck.Value)
		return nil, errNoSession
	case err != nil:
		return nil, err
	}
	u.Caller = c
	u.role = roleOf(c.Role)
	u.p = s.printer()
	return u, nil
}

// validCSRF reports whether the request's form carries the session's
// CSRF token, and, when the browser says where it comes from, that it
// comes from this console's origin.
func (s *Server) validCSRF(r *http.Request, u *Session) bool {
	if !sameOrigin(r) {
		return false
	}
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(u.CSRF)) == 1
}

// sameOrigin reports whether the request's Origin (or, without one, its
// Sec-Fetch-Site) says it came from this host. A request that says
// nothing passes: the CSRF token still has to match.
func sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// loopbackLogin is the login page at the loopback address on the port
// the request came to, where a browser keeps the console's cookies over
// plain HTTP.
func loopbackLogin(r *http.Request) string {
	host := "127.0.0.1"
	if _, port, err := net.SplitHostPort(r.Host); err == nil && port != "" {
		host = net.JoinHostPort(host, port)
	}
	return "http://" + host + Prefix + "login"
}

// loginToken is the login form's CSRF token: a MAC of the pre-session
// cookie, so that another site cannot log a browser in to an account of
// its choosing.
func (s *Server) loginToken(cookie string) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte("entente console login\x00"))
	m.Write([]byte(cookie))
	return b64.EncodeToString(m.Sum(nil))
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

type loginData struct {
	Next    string
	Account string
	Error   string
}

// loginPage shows the login form.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.showLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	pre := randomToken(32)
	s.setCookie(w, loginCookie, pre, 3600)
	s.renderStatus(w, r, nil, status, "login.html", d, s.loginToken(pre))
}

// login checks the account's token and starts a session.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	p := s.printer()
	pre, err := r.Cookie(loginCookie)
	if err != nil && r.TLS == nil {
		// Served over plain HTTP (serve --plain-http), where a browser
		// keeps the console's Secure cookies only for an origin it counts
		// as potentially trustworthy, as Chromium counts http://127.0.0.1,
		// http://[::1] and http://localhost; by any other name they are
		// dropped, and "the form expired" would send the user round again.
		s.showLogin(w, r, http.StatusForbidden, loginData{Next: safeNext(r.PostFormValue("next")),
			Error: p.Sprintf("The browser sent no login cookie back. The console's cookies are Secure, which browsers keep over plain HTTP only for a loopback address (127.0.0.1, [::1] or localhost): open the console over HTTPS, or at %s, and log in again.", loopbackLogin(r))})
		return
	}
	if err != nil || !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.loginToken(pre.Value))) != 1 {
		s.showLogin(w, r, http.StatusForbidden, loginData{Next: safeNext(r.PostFormValue("next")),
			Error: p.Sprintf("This form has expired or did not come from this console. Try again.")})
		return
	}
	name, token := strings.TrimSpace(r.PostFormValue("account")), strings.TrimSpace(r.PostFormValue("token"))
	d := loginData{Next: safeNext(r.PostFormValue("next")), Account: name}
	if name == "" || token == "" {
		d.Error = p.Sprintf("Enter the account's name and its token.")
		s.showLogin(w, r, http.StatusBadRequest, d)
		return
	}
	c, err := s.node.Authenticate(r.Context(), name, token)
	switch {
	case errors.Is(err, taxii.ErrUnauthorized), err == nil && c.Role == taxii.RolePartner:
		d.Error = p.Sprintf("The account name or token is wrong.")
		s.showLogin(w, r, http.StatusUnauthorized, d)
		return
	case err != nil:
		s.internal(w, r, nil, err)
		return
	}
	cookie, _ := s.sessions.start(c)
	s.setCookie(w, sessionCookie, cookie, int(s.sessions.max/time.Second))
	s.setCookie(w, loginCookie, "", -1)
	s.log.InfoContext(r.Context(), "console login", "account", c.Name, "role", c.Role)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// logout ends the session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, u *Session) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.end(ck.Value)
	}
	s.setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
}

// safeNext returns next if it is a console path, else the overview, so
// that the login form cannot be made to send anyone elsewhere.
func safeNext(next string) string {
	if strings.HasPrefix(next, Prefix) && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return Prefix
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
