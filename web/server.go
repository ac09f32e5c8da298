package web

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/entente/entente/federation"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// Prefix is the path under which the console is served.
const Prefix = "/ui/"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what a console serves.
type Config struct {
	// Node is the node the console shows. Required.
	Node *node.Node
	// Transparency is the node's witness and partner-log state; nil when
	// the node runs without an agreement.
	Transparency *node.Transparency
	// Links reports each partner link's health as the running process
	// sees it; nil when the node has no partners. The console falls back
	// on the health links save in the store.
	Links func() []federation.Health
	// Logger receives the console's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Secret keys the console's login tokens. At least 32 bytes; derive it
	// from the node key (node.Key.Secret) so that it survives a restart.
	Secret []byte
	// Language is the language pages are shown in; the zero value is
	// English. A language without a complete catalog falls back to
	// English string by string.
	Language language.Tag
	// Zone is the operator's time zone, shown beside UTC; nil means the
	// server's local zone.
	Zone *time.Location
	// SessionIdle and SessionMax bound a session: it ends after SessionIdle
	// without a request, and SessionMax after login in any case. Zero
	// means 30 minutes and 12 hours.
	SessionIdle, SessionMax time.Duration
}

// Server serves the console.
type Server struct {
	cfg      Config
	node     *node.Node
	log      *slog.Logger
	now      func() time.Time
	mux      *http.ServeMux
	pages    map[string]*pageTemplate
	sessions *sessions
	static   http.Handler
	// routeList lists the registered routes, for tests that walk every
	// page and every form.
	routeList []route
	lang      language.Tag
	p         *message.Printer // the printer of lang; see printer
	zone      *time.Location
	// detection is the detection page's state (page_detection.go).
	detection *detectionState
}

// New returns a console for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Node == nil {
		return nil, errors.New("web: Config.Node is required")
	}
	if len(cfg.Secret) < 32 {
		return nil, errors.New("web: Config.Secret must hold at least 32 bytes")
	}
	s := &Server{cfg: cfg, node: cfg.Node, log: cfg.Logger, now: cfg.Now, lang: cfg.Language, zone: cfg.Zone}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.lang == language.Und {
		s.lang = language.English
	}
	s.p = message.NewPrinter(s.lang, message.Catalog(messages))
	if s.zone == nil {
		s.zone = time.Local
	}
	idle, max := cfg.SessionIdle, cfg.SessionMax
	if idle <= 0 {
		idle = 30 * time.Minute
	}
	if max <= 0 {
		max = 12 * time.Hour
	}
	s.sessions = newSessions(idle, max, maxSessions, s.now)
	var err error
	if s.pages, err = parsePages(s.funcs()); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	s.static = http.StripPrefix(Prefix+"static/", http.FileServerFS(sub))
	s.mux = http.NewServeMux()
	s.routes(&router{s: s, mux: s.mux})
	return s, nil
}

// maxSessions bounds the sessions held at once; the oldest ends first.
const maxSessions = 10000

// csp is the Content-Security-Policy of every response: scripts and
// styles from the console's own files only, nothing inline, no frames,
// forms posting only to the console.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP serves a request under Prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if strings.HasPrefix(r.URL.Path, Prefix+"static/") {
		h.Set("Cache-Control", "public, max-age=3600")
		s.static.ServeHTTP(w, r)
		return
	}
	// Pages hold what an account may see: no cache keeps them.
	h.Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

// role orders the console's roles: each may do what the ones below it may.
type role int

const (
	roleReader role = iota + 1
	roleAnalyst
	roleAdmin
)

func roleOf(r string) role {
	switch store.Role(r) {
	case store.RoleAdmin:
		return roleAdmin
	case store.RoleAnalyst:
		return roleAnalyst
	case store.RoleReader:
		return roleReader
	}
	return 0
}

// pageFunc handles a request from a logged-in account.
type pageFunc func(w http.ResponseWriter, r *http.Request, u *Session)

// route is a registered pattern and the least role it needs (0: public).
type route struct {
	Pattern string
	Least   role
}

// router registers the console's routes.
type router struct {
	s   *Server
	mux *http.ServeMux
}

// page registers h for pattern ("GET /ui/objects"), for accounts of role
// least or above. A request without a session goes to the login page
// (GET) or gets 403 (other methods); one from an account below least gets
// 403; a POST without the session's CSRF token gets 403.
func (rt *router) page(pattern string, least role, h pageFunc) {
	s := rt.s
	s.routeList = append(s.routeList, route{pattern, least})
	rt.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		u, err := s.session(r)
		switch {
		case errors.Is(err, errNoSession):
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, Prefix+"login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.fail(w, r, nil, http.StatusForbidden, s.printer().Sprintf("Your session has ended. Log in again."))
			return
		case err != nil:
			s.fail(w, r, nil, statusOf(err), s.printer().Sprintf("The node cannot answer now. Try again in a moment."))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !s.validCSRF(r, u) {
			s.fail(w, r, u, http.StatusForbidden, u.T("This form has expired or did not come from this console. Go back, reload the page and try again."))
			return
		}
		if u.role < least {
			s.fail(w, r, u, http.StatusForbidden, u.T("Your account's role may not open this page."))
			return
		}
		h(w, r, u)
	})
}

// public registers h for pattern for everyone, logged in or not.
func (rt *router) public(pattern string, h http.HandlerFunc) {
	rt.s.routeList = append(rt.s.routeList, route{pattern, 0})
	rt.mux.HandleFunc(pattern, h)
}

// statusOf maps a node error to an HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, taxii.ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, taxii.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, taxii.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, taxii.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.Canceled):
		return 499
	}
	return http.StatusInternalServerError
}

// randomToken returns n random bytes in URL-safe base64.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return b64.EncodeToString(b)
}

// internal logs err and answers with a page that says the node failed,
// without the error's text, which may name internals.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, u *Session, err error) {
	status := statusOf(err)
	if status == http.StatusInternalServerError || status == http.StatusServiceUnavailable {
		s.log.ErrorContext(r.Context(), "console page failed", slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	msg := fmt.Sprint(err)
	switch status {
	case http.StatusInternalServerError:
		msg = s.printer().Sprintf("The node failed to answer. The error is in its log.")
	case http.StatusServiceUnavailable:
		msg = s.printer().Sprintf("The node cannot answer now. Try again in a moment.")
	}
	s.fail(w, r, u, status, msg)
}
