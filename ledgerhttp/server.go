package ledgerhttp

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/ledger"
)

// Prefix is the path under which a node serves its ledger and witness.
const Prefix = "/ledger/"

// Caller is an authenticated reader of the log.
type Caller struct {
	// Name is the account's name.
	Name string
	// Role is the account's role (admin, analyst, reader).
	Role string
	// Party is the agreement party the caller speaks for, "" for the
	// node's own accounts. Federation sets it for partner nodes.
	Party string
	// Node is a partner node's id in the agreement, "" for accounts.
	Node string
}

// PeerAuthorizer is what a Backend implements to identify partner nodes
// by the client certificate of their TLS connection. The Server asks it
// first, on every request that needs a caller.
type PeerAuthorizer interface {
	// AuthorizePeer returns the caller whose certificate cs carries; nil
	// and no error when the peer presented none, so that account
	// credentials decide. It returns ErrUnauthorized or ErrForbidden for
	// a certificate it refuses.
	AuthorizePeer(ctx context.Context, cs *tls.ConnectionState) (*Caller, error)
}

// Opening is the opening of entry Index.
type Opening struct {
	Index   int64
	Opening []byte // ledger.Opening.MarshalBinary
}

// Backend is what a Server needs of the node.
type Backend interface {
	// Authorize identifies the caller from HTTP Basic (user and token) or a
	// bearer token (user ""). It returns an error matching ErrUnauthorized
	// for bad credentials, ErrForbidden for a caller that may not read the
	// log.
	Authorize(ctx context.Context, user, token string) (*Caller, error)
	// Checkpoint returns the latest signed checkpoint, cosignature lines
	// included, and its size; ErrNotFound before the first.
	Checkpoint(ctx context.Context) (note []byte, size int64, err error)
	// ReadHashes reads the log's stored hashes by tlog storage index.
	ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	// Commitments returns the leaves [from, to).
	Commitments(ctx context.Context, from, to int64) ([]ledger.Commitment, error)
	// Openings returns the openings of the entries in [from, to) that c
	// may read, in index order.
	Openings(ctx context.Context, c *Caller, from, to int64) ([]Opening, error)
	// AddCheckpoint handles a tlog-witness add-checkpoint body as
	// ledger.Witness.Add does, returning the cosignature lines or its
	// typed errors.
	AddCheckpoint(ctx context.Context, body []byte) ([]byte, error)
}

// Errors a Backend returns, and the status each gets.
var (
	// ErrUnauthorized: no or bad credentials; 401.
	ErrUnauthorized = errors.New("ledgerhttp: authentication required")
	// ErrForbidden: the caller may not read the log; 403.
	ErrForbidden = errors.New("ledgerhttp: not permitted")
	// ErrNotFound: no such checkpoint, tile or entry; 404.
	ErrNotFound = errors.New("ledgerhttp: not found")
	// ErrBadRequest: the request's parameters are malformed or out of
	// range; 400.
	ErrBadRequest = errors.New("ledgerhttp: bad request")
	// ErrUnavailable: the server is at its limit of requests; 503 with
	// Retry-After.
	ErrUnavailable = errors.New("ledgerhttp: busy, retry later")
	// ErrSuspended: the witness stopped cosigning the log after it showed
	// an inconsistent checkpoint, until an operator acts; 403.
	ErrSuspended = errors.New("ledgerhttp: log suspended after an inconsistent checkpoint")
)

// Defaults of Config.
const (
	DefaultMaxOpenings  = 1024
	DefaultMaxBodyBytes = 64 << 10
	DefaultMaxInFlight  = 64
	retryAfterSeconds   = 1
)

// Config configures a Server.
type Config struct {
	// MaxOpenings is the widest range of entries one openings request may
	// ask for. Default DefaultMaxOpenings.
	MaxOpenings int64
	// MaxBodyBytes caps an add-checkpoint body: 63 proof lines and a
	// checkpoint with its cosignatures take a few kilobytes. Default
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Realm is the realm of the Basic challenge of 401 answers. Default
	// "Entente ledger".
	Realm string
	// Logger receives server errors. Default: discard.
	Logger *slog.Logger
	// Observe, when set, is called once per request with its route
	// pattern (a bounded set), status code and duration.
	Observe func(route string, status int, d time.Duration)
	// MaxInFlight bounds the requests served at once; those beyond get
	// 503 with Retry-After. add-checkpoint needs no account, so this is
	// what keeps a flood of them from queueing on the store. Default
	// DefaultMaxInFlight.
	MaxInFlight int
}

// Server serves a node's ledger. Mount it at Prefix.
type Server struct {
	b   Backend
	cfg Config
	log *slog.Logger
	mux *http.ServeMux
	// inFlight holds a token per request being served.
	inFlight chan struct{}
}

// The routes; they double as the route label passed to Config.Observe.
const (
	routeCheckpoint  = "GET " + Prefix + "checkpoint"
	routeTile        = "GET " + Prefix + "tile/{path...}"
	routeInclusion   = "GET " + Prefix + "proof/inclusion"
	routeConsistency = "GET " + Prefix + "proof/consistency"
	routeOpenings    = "GET " + Prefix + "openings"
	routeAdd         = "POST " + Prefix + "add-checkpoint"
)

// NewServer returns a Server answering for b.
func NewServer(b Backend, cfg Config) *Server {
	cfg.MaxOpenings = cmp.Or(max(cfg.MaxOpenings, 0), DefaultMaxOpenings)
	cfg.MaxBodyBytes = cmp.Or(max(cfg.MaxBodyBytes, 0), DefaultMaxBodyBytes)
	cfg.Realm = cmp.Or(cfg.Realm, "Entente ledger")
	cfg.MaxInFlight = cmp.Or(max(cfg.MaxInFlight, 0), DefaultMaxInFlight)
	s := &Server{b: b, cfg: cfg, log: cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)), mux: http.NewServeMux(),
		inFlight: make(chan struct{}, cfg.MaxInFlight)}
	s.mux.Handle(routeCheckpoint, s.adapt(routeCheckpoint, true, s.checkpoint))
	s.mux.Handle(routeTile, s.adapt(routeTile, true, s.tile))
	s.mux.Handle(routeInclusion, s.adapt(routeInclusion, true, s.inclusion))
	s.mux.Handle(routeConsistency, s.adapt(routeConsistency, true, s.consistency))
	s.mux.Handle(routeOpenings, s.adapt(routeOpenings, true, s.openings))
	s.mux.Handle(routeAdd, http.MaxBytesHandler(s.adapt(routeAdd, false, s.add), cfg.MaxBodyBytes))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.adapt("unmatched", false, func(http.ResponseWriter, *http.Request, *Caller) error {
			return fmt.Errorf("%w: %s %s", ErrNotFound, r.Method, r.URL.Path)
		}).ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, c *Caller) error

// statusWriter remembers the status written, for Observe.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// adapt authenticates (when auth is set), maps errors to answers, recovers
// panics and observes.
func (s *Server) adapt(route string, auth bool, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w := &statusWriter{ResponseWriter: rw}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "ledgerhttp: handler panicked", slog.String("route", route),
					slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				if w.status != 0 {
					panic(http.ErrAbortHandler)
				}
				s.writeError(w, r, errors.New("panic"))
			}
			if s.cfg.Observe != nil {
				s.cfg.Observe(route, cmp.Or(w.status, http.StatusOK), time.Since(start))
			}
		}()
		select {
		case s.inFlight <- struct{}{}:
			defer func() { <-s.inFlight }()
		default:
			s.writeError(w, r, fmt.Errorf("%w: the server is at its limit of %d requests at once", ErrUnavailable, cap(s.inFlight)))
			return
		}
		var c *Caller
		if auth {
			var err error
			if c, err = s.authorize(r); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if err := h(w, r, c); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// authorize identifies the caller: a partner node by its client
// certificate, when the Backend can, else an account by its credentials.
func (s *Server) authorize(r *http.Request) (*Caller, error) {
	if pa, ok := s.b.(PeerAuthorizer); ok && r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		c, err := pa.AuthorizePeer(r.Context(), r.TLS)
		if c != nil || err != nil {
			return c, err
		}
	}
	user, token := credentials(r)
	return s.b.Authorize(r.Context(), user, token)
}

func credentials(r *http.Request) (user, token string) {
	if u, p, ok := r.BasicAuth(); ok {
		return u, p
	}
	if scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return "", strings.TrimSpace(t)
	}
	return "", ""
}

// statusOf is the one place errors map to statuses. The second result
// says whether the error's text may be shown to the client.
func statusOf(err error) (int, bool) {
	var conflict *ledger.ConflictError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized, true
	case errors.Is(err, ErrForbidden), errors.Is(err, ErrSuspended):
		return http.StatusForbidden, true
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, true
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest, true
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable, true
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, true
	// tlog-witness add-checkpoint, in the spec's terms.
	case errors.Is(err, ledger.ErrMalformedRequest):
		return http.StatusBadRequest, true
	case errors.Is(err, ledger.ErrUnknownLog):
		return http.StatusNotFound, true
	case errors.Is(err, ledger.ErrUntrusted):
		return http.StatusForbidden, true
	case errors.As(err, &conflict):
		return http.StatusConflict, true
	case errors.Is(err, ledger.ErrInconsistent):
		return http.StatusUnprocessableEntity, true
	}
	return http.StatusInternalServerError, false
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, show := statusOf(err)
	h := w.Header()
	h.Del("Cache-Control")
	var conflict *ledger.ConflictError
	if errors.As(err, &conflict) {
		// tlog-witness: the body is the witness's size, for the client to
		// retry with.
		h.Set("Content-Type", "text/x.tlog.size")
		w.WriteHeader(code)
		fmt.Fprintf(w, "%d\n", conflict.Latest)
		return
	}
	if code == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	if code == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q, charset=\"UTF-8\"", s.cfg.Realm))
	}
	if code >= 500 {
		s.log.ErrorContext(r.Context(), "ledgerhttp: request failed", slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	if show {
		io.WriteString(w, strings.TrimPrefix(err.Error(), "ledgerhttp: ")+"\n")
	} else {
		io.WriteString(w, http.StatusText(code)+"\n")
	}
}

func (s *Server) checkpoint(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	note, _, err := s.b.Checkpoint(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(note)
	return err
}

// size returns the size of the latest checkpoint: every read is bounded by
// it, so the node serves only what it has signed.
func (s *Server) size(ctx context.Context) (int64, error) {
	_, n, err := s.b.Checkpoint(ctx)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	return n, err
}

func (s *Server) tile(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	t, err := ledger.ParseTilePath("tile/" + r.PathValue("path"))
	if err != nil {
		return fmt.Errorf("%w: %s is not a tile path", ErrNotFound, r.URL.Path)
	}
	size, err := s.size(r.Context())
	if err != nil {
		return err
	}
	if !tileExists(t, size) {
		return fmt.Errorf("%w: tile %s is beyond the checkpointed size %d", ErrNotFound, ledger.TilePath(t), size)
	}
	var data []byte
	if t.L == -1 {
		cs, err := s.b.Commitments(r.Context(), t.N*(1<<t.H), t.N*(1<<t.H)+int64(t.W))
		if err != nil {
			return err
		}
		data = ledger.EntryBundle(cs)
	} else {
		data, err = tlog.ReadTileData(t, s.hashReader(r.Context()))
		if err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	// A tile never changes once the log has it; a partial tile has its
	// own path. The log is not public, so no shared cache keeps it.
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	_, err = w.Write(data)
	return err
}

// tileExists reports whether the tree of size leaves holds tile t (L -1
// for an entry bundle): a tile of level L holds hashes of subtrees of
// 256^L leaves, and tile N of width W needs N*256+W of them.
func tileExists(t tlog.Tile, size int64) bool {
	if t.H != ledger.TileHeight || t.W < 1 || t.W > 1<<t.H || t.N < 0 {
		return false
	}
	level := max(t.L, 0)
	shift := level * t.H
	if shift >= 63 {
		return false
	}
	count := size >> shift
	return t.N <= (count-int64(t.W))>>t.H && t.N<<t.H+int64(t.W) <= count
}

func (s *Server) hashReader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		return s.b.ReadHashes(ctx, indexes)
	})
}

// intParam reads a non-negative decimal query parameter; def when absent
// (def < 0: required).
func intParam(r *http.Request, name string, def int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		if def < 0 {
			return 0, fmt.Errorf("%w: missing parameter %s", ErrBadRequest, name)
		}
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != v {
		return 0, fmt.Errorf("%w: %s=%q is not a non-negative decimal", ErrBadRequest, name, v)
	}
	return n, nil
}

func writeHashes(w http.ResponseWriter, hs []tlog.Hash) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	var b strings.Builder
	for _, h := range hs {
		b.WriteString(h.String())
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (s *Server) inclusion(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	size, err := s.size(r.Context())
	if err != nil {
		return err
	}
	index, err := intParam(r, "index", -1)
	if err != nil {
		return err
	}
	n, err := intParam(r, "size", size)
	if err != nil {
		return err
	}
	if n > size || index >= n {
		return fmt.Errorf("%w: entry %d of a tree of %d: want index < size <= %d, the checkpointed size", ErrBadRequest, index, n, size)
	}
	p, err := ledger.ProveInclusion(n, index, s.hashReader(r.Context()))
	if err != nil {
		return err
	}
	return writeHashes(w, p)
}

func (s *Server) consistency(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	size, err := s.size(r.Context())
	if err != nil {
		return err
	}
	old, err := intParam(r, "old", -1)
	if err != nil {
		return err
	}
	n, err := intParam(r, "new", size)
	if err != nil {
		return err
	}
	if old > n || n > size {
		return fmt.Errorf("%w: from %d to %d: want old <= new <= %d, the checkpointed size", ErrBadRequest, old, n, size)
	}
	p, err := ledger.ProveConsistency(n, old, s.hashReader(r.Context()))
	if err != nil {
		return err
	}
	return writeHashes(w, p)
}

func (s *Server) openings(w http.ResponseWriter, r *http.Request, c *Caller) error {
	size, err := s.size(r.Context())
	if err != nil {
		return err
	}
	from, err := intParam(r, "from", 0)
	if err != nil {
		return err
	}
	to, err := intParam(r, "to", min(size, from+s.cfg.MaxOpenings))
	if err != nil {
		return err
	}
	if from > to || to > size || to-from > s.cfg.MaxOpenings {
		return fmt.Errorf("%w: entries [%d, %d): want from <= to <= %d, the checkpointed size, at most %d at once",
			ErrBadRequest, from, to, size, s.cfg.MaxOpenings)
	}
	os, err := s.b.Openings(r.Context(), c, from, to)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	var b strings.Builder
	for _, o := range os {
		fmt.Fprintf(&b, "%d %s\n", o.Index, base64.StdEncoding.EncodeToString(o.Opening))
	}
	_, err = io.WriteString(w, b.String())
	return err
}

func (s *Server) add(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return fmt.Errorf("%w: reading the body: %v", ledger.ErrMalformedRequest, err)
	}
	lines, err := s.b.AddCheckpoint(r.Context(), body)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err = w.Write(lines)
	return err
}
