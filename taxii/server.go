package taxii

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config configures a Server. The zero value is usable: every field has a
// default, given in its comment.
type Config struct {
	// Title, Description and Contact describe the server in the discovery
	// resource (TAXII 2.1 §4.1.1). Those set here replace what the Backend
	// reports, so that the operator's configuration has the last word.
	Title       string
	Description string
	Contact     string

	// MaxPageSize is the number of items a page holds when the client sets
	// no limit, and the most it holds whatever the client asks (§3.4).
	// Default 1000.
	MaxPageSize int

	// TokenKey keys the HMAC-SHA256 that makes next tokens tamper-proof.
	// Use 32 random bytes, and share them between servers behind one load
	// balancer so that a page can be fetched from any of them. Nil picks a
	// random key per Server: tokens then die with the process, and clients
	// must restart their paging after a restart.
	TokenKey []byte

	// MaxInFlight bounds the requests served at once; those beyond it get
	// 503 with Retry-After at once rather than queueing behind a busy
	// store. Default DefaultMaxInFlight; negative means no bound.
	MaxInFlight int

	// MaxInFlightBodyBytes bounds the bodies of the add requests (POST)
	// served at once, together: each counts its Content-Length or, sent
	// without one, its API root's max_content_length. An add beyond the
	// bound gets 503 with Retry-After. A request holds a small multiple of
	// its body in memory while it is served, so this bounds what adds can
	// take together. Default DefaultMaxInFlightBodyBytes; negative means no
	// bound. A body larger than the bound is admitted when no other is in
	// flight.
	MaxInFlightBodyBytes int64

	// MaxEnvelopeObjects is the most objects a POSTed envelope may hold;
	// a larger one is refused with 413, as a body over max_content_length
	// is. Default DefaultMaxEnvelopeObjects.
	MaxEnvelopeObjects int

	// Realm is the realm of the Basic challenge sent with 401 answers.
	// Default "TAXII".
	Realm string

	// RetryAfter is how long a 503 answer (ErrUnavailable) asks clients to
	// wait, rounded up to whole seconds. Default 5 s.
	RetryAfter time.Duration

	// Logger receives server errors and recovered panics, and client errors
	// at debug level. Default: discard.
	Logger *slog.Logger

	// Observe, when set, is called once per request after the answer is
	// written, with the route pattern that served it (one of a fixed set,
	// such as "GET /{root}/collections/{id}/objects/{$}", or "unmatched"
	// for paths no route serves; never the raw path), the status code and
	// the time taken. It suits Prometheus histograms labelled by route and
	// status.
	Observe func(route string, status int, d time.Duration)
}

// Admission defaults: see Config.MaxInFlight and MaxInFlightBodyBytes.
const (
	DefaultMaxInFlight          = 128
	DefaultMaxInFlightBodyBytes = 128 << 20
)

// Server serves TAXII 2.1 (OASIS Standard, 2021) over a Backend. It is an
// http.Handler for the whole URL space: make it the http.Server's handler,
// and send the few paths of other handlers (health, metrics) elsewhere by
// comparing r.URL.Path. Do not mount it on an http.ServeMux: ServeMux
// answers a path with "." or ".." segments or doubled slashes with a
// redirect, for every method, before the Server sees it.
//
// Request paths are clean and end in "/" as TAXII 2.1 requires of
// clients; any other path answers 404 with a TAXII error that says so,
// rather than a redirect that a client could follow with its credentials
// or lose a POST body on.
type Server struct {
	backend   Backend
	cfg       Config
	log       *slog.Logger
	tokens    tokens
	mux       *http.ServeMux
	unmatched http.Handler
	inFlight  chan struct{} // nil: no bound
	bodies    *bodyBudget   // nil: no bound
}

// The routes, as ServeMux patterns. They double as the bounded route label
// passed to Config.Observe.
const (
	routeDiscovery   = "GET /taxii2/{$}"
	routeAPIRoot     = "GET /{root}/{$}"
	routeStatus      = "GET /{root}/status/{id}/{$}"
	routeCollections = "GET /{root}/collections/{$}"
	routeCollection  = "GET /{root}/collections/{id}/{$}"
	routeManifest    = "GET /{root}/collections/{id}/manifest/{$}"
	routeGetObjects  = "GET /{root}/collections/{id}/objects/{$}"
	routeAddObjects  = "POST /{root}/collections/{id}/objects/{$}"
	routeGetObject   = "GET /{root}/collections/{id}/objects/{object}/{$}"
	routeDelete      = "DELETE /{root}/collections/{id}/objects/{object}/{$}"
	routeVersions    = "GET /{root}/collections/{id}/objects/{object}/versions/{$}"
	routeUnmatched   = "unmatched" // 404 and 405
)

// NewServer returns a Server answering for b as cfg says.
func NewServer(b Backend, cfg Config) *Server {
	cfg.MaxPageSize = cmp.Or(max(cfg.MaxPageSize, 0), 1000)
	cfg.Realm = cmp.Or(cfg.Realm, "TAXII")
	cfg.MaxEnvelopeObjects = cmp.Or(max(cfg.MaxEnvelopeObjects, 0), DefaultMaxEnvelopeObjects)
	cfg.RetryAfter = cmp.Or(max(cfg.RetryAfter, 0), 5*time.Second)
	s := &Server{
		backend: b,
		cfg:     cfg,
		log:     cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),
		tokens:  tokens{key: cfg.TokenKey},
		mux:     http.NewServeMux(),
	}
	cfg.MaxInFlight = cmp.Or(cfg.MaxInFlight, DefaultMaxInFlight)
	cfg.MaxInFlightBodyBytes = cmp.Or(cfg.MaxInFlightBodyBytes, DefaultMaxInFlightBodyBytes)
	if cfg.MaxInFlight > 0 {
		s.inFlight = make(chan struct{}, cfg.MaxInFlight)
	}
	if cfg.MaxInFlightBodyBytes > 0 {
		s.bodies = &bodyBudget{max: cfg.MaxInFlightBodyBytes}
	}
	if len(s.tokens.key) == 0 {
		s.tokens.key = make([]byte, 32)
		rand.Read(s.tokens.key)
	}
	routes := []struct {
		pattern string
		h       handlerFunc
	}{
		{routeDiscovery, s.discovery},
		{routeAPIRoot, s.apiRoot},
		{routeStatus, s.status},
		{routeCollections, s.collections},
		{routeCollection, s.collection},
		{routeManifest, s.manifest},
		{routeGetObjects, s.getObjects},
		{routeAddObjects, s.addObjects},
		{routeGetObject, s.getObject},
		{routeDelete, s.deleteObject},
		{routeVersions, s.versions},
	}
	for _, rt := range routes {
		s.mux.Handle(rt.pattern, s.adapt(rt.pattern, true, rt.h))
	}
	// ServeMux's own 404 and 405 answers are plain text; TAXII wants its
	// Content-Type and an error resource on every answer, so ServeHTTP
	// sends unmatched requests here.
	s.unmatched = s.adapt(routeUnmatched, false, func(w http.ResponseWriter, r *http.Request, _ *Caller) error {
		if !isTAXIIPath(r.URL.Path) {
			return fmt.Errorf("%w: TAXII request paths are clean and end with \"/\", as in /taxii2/", ErrNotFound)
		}
		if allow := s.allowed(r); allow != "" {
			w.Header().Set("Allow", allow)
			return fmt.Errorf("%w: %s is not defined here; this resource allows %s", errMethodNotAllowed, r.Method, allow)
		}
		return fmt.Errorf("%w: no TAXII resource at %s", ErrNotFound, r.URL.Path)
	})
	return s
}

// ServeHTTP answers one TAXII request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" || !isTAXIIPath(r.URL.Path) {
		s.unmatched.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// isTAXIIPath reports whether p could name a TAXII resource: it ends in
// "/" and is clean. ServeMux would redirect other paths, in plain text,
// to a cleaned form or one with a slash added.
func isTAXIIPath(p string) bool {
	return p == "/" || strings.HasSuffix(p, "/") && path.Clean(p)+"/" == p
}

// allowed returns the methods r's path allows, for a 405's Allow header;
// "" if the path names no resource.
func (s *Server) allowed(r *http.Request) string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		probe := *r
		probe.Method = m
		if _, pattern := s.mux.Handler(&probe); pattern != "" {
			allow = append(allow, m)
			if m == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	return strings.Join(allow, ", ")
}

// handlerFunc is a TAXII handler. It writes a success answer, or returns an
// error that the adapter maps to a status and an error resource.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *Caller) error

// adapt wraps h with what every TAXII answer needs: the Content-Type,
// content negotiation, authentication (when auth is set), error mapping,
// panic recovery and observation.
func (s *Server) adapt(route string, auth bool, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w := &statusWriter{ResponseWriter: rw}
		defer func() {
			v := recover()
			if v != nil && v != http.ErrAbortHandler {
				s.log.ErrorContext(r.Context(), "taxii: handler panicked",
					slog.String("route", route), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				if w.wroteHeader {
					v = http.ErrAbortHandler
				} else {
					s.writeError(w, r, errPanic)
					v = nil
				}
			}
			if s.cfg.Observe != nil {
				s.cfg.Observe(route, w.code(), time.Since(start))
			}
			if v != nil {
				// Break the connection: a truncated body must not pass
				// for a whole one.
				panic(v)
			}
		}()
		w.Header().Set("Content-Type", MediaType)
		if auth && s.inFlight != nil {
			select {
			case s.inFlight <- struct{}{}:
				defer func() { <-s.inFlight }()
			default:
				s.writeError(w, r, fmt.Errorf("%w: the server is at its limit of %d requests at once", ErrUnavailable, cap(s.inFlight)))
				return
			}
		}
		err := checkAccept(r.Header.Values("Accept"))
		var c *Caller
		if err == nil && auth {
			c, err = s.authenticate(r)
		}
		if err == nil {
			err = h(w, r, c)
		}
		if err != nil {
			if w.wroteHeader {
				// The body is under way: the error cannot be reported,
				// and the client must not take a truncated body for a
				// whole one.
				s.log.WarnContext(r.Context(), "taxii: writing response", slog.String("route", route), slog.Any("error", err))
				panic(http.ErrAbortHandler)
			}
			s.writeError(w, r, err)
		}
	})
}

// statusWriter records the status code for Observe and for deciding
// whether an error can still be reported.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if !w.wroteHeader {
		return http.StatusOK
	}
	return w.status
}

// Errors that only the Server raises; Backends use the exported ones.
var (
	errNotAcceptable        = errors.New("taxii: not acceptable")
	errUnsupportedMediaType = errors.New("taxii: unsupported media type")
	errMethodNotAllowed     = errors.New("taxii: method not allowed")
	errPanic                = errors.New("taxii: internal error")
)

// errorStatuses maps errors to HTTP statuses: the one place that does. The
// first match wins.
var errorStatuses = []struct {
	err    error
	status int
}{
	{ErrUnauthorized, http.StatusUnauthorized},
	{ErrForbidden, http.StatusForbidden},
	{ErrNotFound, http.StatusNotFound},
	{ErrBadRequest, http.StatusBadRequest},
	{ErrUnprocessable, http.StatusUnprocessableEntity},
	{ErrUnavailable, http.StatusServiceUnavailable},
	{errNotAcceptable, http.StatusNotAcceptable},
	{errTooLarge, http.StatusRequestEntityTooLarge},
	{errUnsupportedMediaType, http.StatusUnsupportedMediaType},
	{errMethodNotAllowed, http.StatusMethodNotAllowed},
}

// statusOf returns the HTTP status for err and whether err's text may be
// shown to the client.
func statusOf(err error) (int, bool) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return http.StatusRequestEntityTooLarge, true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// A client that gave up, or a deadline that passed: ask to retry,
		// without blaming the client.
		return http.StatusServiceUnavailable, false
	}
	for _, e := range errorStatuses {
		if errors.Is(err, e.err) {
			return e.status, true
		}
	}
	return http.StatusInternalServerError, false
}

// writeError answers with err's status and a TAXII error resource (§3.6.1).
// Client errors carry err's text as the description; the text of server
// errors stays in the log, and the client gets an error_id to quote.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, public := statusOf(err)
	e := Error{Title: http.StatusText(status), HTTPStatus: strconv.Itoa(status)}
	// A handler may have set them for a page it then failed to send.
	w.Header().Del("X-TAXII-Date-Added-First")
	w.Header().Del("X-TAXII-Date-Added-Last")
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q, charset=\"UTF-8\"", s.cfg.Realm))
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(int((s.cfg.RetryAfter+time.Second-1)/time.Second)))
	}
	attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", status), slog.Any("error", err)}
	switch {
	case public:
		e.Description = describe(err)
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "taxii: client error", attrs...)
	case status == http.StatusServiceUnavailable:
		// Canceled or timed out: the client left, or the server is slow;
		// neither is a fault to page anyone about.
		e.Description = "the request was canceled or timed out; try again"
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "taxii: request canceled", attrs...)
	default:
		e.ErrorID = newErrorID()
		e.Description = "the server failed to answer; quote error_id " + e.ErrorID + " to its operator"
		s.log.LogAttrs(r.Context(), slog.LevelError, "taxii: server error", append(attrs, slog.String("error_id", e.ErrorID))...)
	}
	writeJSON(w, status, &e)
}

// describe returns err's text for an error resource's description,
// without the "taxii: ...: " prefix of the sentinel it wraps, which repeats
// the title.
func describe(err error) string {
	msg := err.Error()
	for _, e := range errorStatuses {
		if rest, ok := strings.CutPrefix(msg, e.err.Error()+": "); ok {
			return rest
		}
	}
	return msg
}

func newErrorID() string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}

// writeJSON answers with v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}

// checkAccept implements TAXII 2.1 content negotiation (§3.1). A request
// without Accept, or whose Accept admits application/taxii+json (without a
// version, or with version=2.1) through an exact type or a wildcard, is
// served; any other gets 406.
func checkAccept(headers []string) error {
	if len(headers) == 0 {
		return nil
	}
	for _, h := range headers {
		for rng := range strings.SplitSeq(h, ",") {
			if acceptsTAXII(strings.TrimSpace(rng)) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: this server answers only in %s; send Accept: %s", errNotAcceptable, MediaType, MediaType)
}

func acceptsTAXII(rng string) bool {
	if rng == "" {
		return false
	}
	typ, params, err := mime.ParseMediaType(rng)
	if err != nil {
		return false
	}
	if q, ok := params["q"]; ok {
		if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
			return false
		}
	}
	switch typ {
	case "*/*", "application/*":
		return true
	case "application/taxii+json":
		v, ok := params["version"]
		return !ok || v == "2.1"
	}
	return false
}

// checkContentType requires a POST body in the TAXII media type (§5.5).
func checkContentType(ct string) error {
	typ, params, err := mime.ParseMediaType(ct)
	if err == nil && typ == "application/taxii+json" {
		if v, ok := params["version"]; !ok || v == "2.1" {
			return nil
		}
	}
	return fmt.Errorf("%w: Content-Type is %q; send the envelope as %s", errUnsupportedMediaType, ct, MediaType)
}

// authenticate identifies the caller: by its TLS client certificate when
// the Backend is a PeerAuthenticator and the peer presented one, else by
// HTTP Basic (RFC 7617: user name and token) or bearer (RFC 6750)
// credentials, which it asks the Backend about.
func (s *Server) authenticate(r *http.Request) (*Caller, error) {
	if pa, ok := s.backend.(PeerAuthenticator); ok && r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		c, err := pa.AuthenticatePeer(r.Context(), r.TLS)
		if err != nil {
			return nil, err
		}
		if c != nil {
			return c, nil
		}
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, fmt.Errorf("%w: send HTTP Basic credentials (user name and token) or a bearer token", ErrUnauthorized)
	}
	var user, token string
	if u, p, ok := r.BasicAuth(); ok {
		user, token = u, p
	} else if scheme, t, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(t)
	}
	if token == "" {
		return nil, fmt.Errorf("%w: the Authorization header is neither Basic with a token nor Bearer", ErrUnauthorized)
	}
	c, err := s.backend.Authenticate(r.Context(), user, token)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("%w: unknown credentials", ErrUnauthorized)
	}
	return c, nil
}

// parseValues parses a request's query string strictly: a malformed one is
// a 400, where url.URL.Query would drop the bad parts silently.
func parseValues(r *http.Request) (url.Values, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: the query string is malformed (%v); percent-encode reserved characters and separate parameters with &", ErrBadRequest, err)
	}
	return v, nil
}

// bodyBudget counts the bytes of the request bodies being served.
type bodyBudget struct {
	mu        sync.Mutex
	used, max int64
}

// take reserves n bytes, or reports false if they would pass the bound.
// A request larger than the bound passes when it is alone.
func (b *bodyBudget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used > 0 && b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

func (b *bodyBudget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}
