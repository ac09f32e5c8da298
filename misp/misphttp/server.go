// Package misphttp serves the objects of a TAXII collection as a MISP feed
// (https://www.misp-project.org/feeds/): manifest.json, hashes.csv and one
// <uuid>.json file per event, the layout a MISP instance subscribes to.
//
// Every request is authenticated and every object read through a small
// Backend, the node's TAXII read path, with the caller's identity: a feed
// holds what that caller may read over TAXII and nothing else, so the rights
// and release policy that apply to it apply to its feed. Events are built by
// package misp.
package misphttp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/entente/entente/misp"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/taxii"
)

// Prefix is the path under which feeds are served: a feed's base URL is
// Prefix + "<api root>/<collection id or alias>/".
const Prefix = "/misp/"

// Backend is what the server needs of a node: taxii.Backend's
// authentication, collection lookup and object listing, which decide what
// each caller sees.
type Backend interface {
	Authenticate(ctx context.Context, user, token string) (*taxii.Caller, error)
	Collection(ctx context.Context, c *taxii.Caller, root, id string) (*taxii.Collection, error)
	Objects(ctx context.Context, c *taxii.Caller, root, collection string, f *taxii.Filter) (*taxii.Page, error)
}

// StateReader is what a Backend implements so that a built feed is kept
// for as long as what it was built from is unchanged, rather than for
// Config.CacheFor: a feed depends on nothing else (not on the clock).
type StateReader interface {
	// State returns, for a caller who may read the collection, a value
	// that changes whenever what Objects returns to that caller may
	// change; "" when it cannot say, and the feed is built anew. The
	// server asks before building, so a change during the build is not
	// missed: the reads that follow return at least the state returned.
	State(ctx context.Context, c *taxii.Caller, root, collection string) (string, error)
}

// Config tunes a Server. The zero value is usable.
type Config struct {
	// Logger receives errors the server cannot show to clients. Nil
	// discards them.
	Logger *slog.Logger
	// MaxObjects bounds the objects one feed is built from; a larger
	// collection is answered with 503 rather than exhausting memory.
	// Zero means DefaultMaxObjects.
	MaxObjects int
	// CacheFor is how long a built feed is reused for the same caller and
	// collection, so that a MISP fetching the manifest and then each event
	// does not rebuild the feed each time. Authentication and the right to
	// read are checked on every request all the same. Zero means
	// DefaultCacheFor; negative disables the cache. With a Backend that is
	// a StateReader, a feed is reused while its state is unchanged, for
	// any time, and never once it changed.
	CacheFor time.Duration
}

// Defaults of Config.
const (
	DefaultMaxObjects = 1_000_000
	DefaultCacheFor   = 30 * time.Second
	pageSize          = 1000
	cacheEntries      = 32
)

// Server serves MISP feeds. It is an http.Handler.
type Server struct {
	backend Backend
	cfg     Config
	log     *slog.Logger

	mu    sync.Mutex
	cache map[cacheKey]*feed
}

type cacheKey struct {
	caller           taxii.Caller
	root, collection string
}

// feed is one built feed.
type feed struct {
	built    time.Time
	state    string // StateReader's, before the build; "" without
	manifest []byte
	hashes   []byte
	events   map[string][]byte // uuid → event file
}

// NewServer returns a server of the feeds of b's collections.
func NewServer(b Backend, cfg Config) *Server {
	if cfg.MaxObjects == 0 {
		cfg.MaxObjects = DefaultMaxObjects
	}
	if cfg.CacheFor == 0 {
		cfg.CacheFor = DefaultCacheFor
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{backend: b, cfg: cfg, log: log, cache: map[cacheKey]*feed{}}
}

// errTooLarge says that a collection is too large to serve as one feed.
var errTooLarge = errors.New("misphttp: the collection holds more objects than one feed is built from")

// ServeHTTP answers GET and HEAD for Prefix/<root>/<collection>/manifest.json,
// hashes.csv, <uuid>.json and events/<uuid>.json.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.fail(w, http.StatusMethodNotAllowed, "a MISP feed is read with GET")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	parts := strings.Split(rest, "/")
	if !ok || len(parts) < 3 || len(parts) > 4 || parts[0] == "" || parts[1] == "" {
		s.fail(w, http.StatusNotFound, "no such feed file; a feed's files are "+Prefix+"<api root>/<collection>/manifest.json, hashes.csv and <event uuid>.json")
		return
	}
	root, collection, file := parts[0], parts[1], parts[2]
	if len(parts) == 4 {
		if parts[2] != "events" {
			s.fail(w, http.StatusNotFound, "no such feed file")
			return
		}
		file = parts[3]
	}
	c, err := s.authenticate(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	col, err := s.backend.Collection(r.Context(), c, root, collection)
	if err != nil {
		s.failErr(w, err)
		return
	}
	if !col.CanRead {
		s.failErr(w, fmt.Errorf("%w: account %q may not read collection %q", taxii.ErrForbidden, c.Name, collection))
		return
	}
	f, err := s.feed(r.Context(), c, root, col)
	if err != nil {
		s.failErr(w, err)
		return
	}
	var body []byte
	ctype := "application/json"
	switch {
	case file == "manifest.json" && len(parts) == 3:
		body = f.manifest
	case file == "hashes.csv" && len(parts) == 3:
		body, ctype = f.hashes, "text/csv; charset=utf-8"
	case strings.HasSuffix(file, ".json"):
		body, ok = f.events[strings.TrimSuffix(file, ".json")]
		if !ok {
			s.fail(w, http.StatusNotFound, "no event "+strings.TrimSuffix(file, ".json")+" in this feed; manifest.json lists its events")
			return
		}
	default:
		s.fail(w, http.StatusNotFound, "no such feed file; a feed's files are manifest.json, hashes.csv and <event uuid>.json")
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "private, no-cache")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", ctype)
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// authenticate reads HTTP Basic (user name and token) or bearer
// credentials, as the TAXII server does.
func (s *Server) authenticate(r *http.Request) (*taxii.Caller, error) {
	var user, token string
	if u, p, ok := r.BasicAuth(); ok {
		user, token = u, p
	} else if scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(t)
	}
	if token == "" {
		return nil, fmt.Errorf("%w: send HTTP Basic credentials (user name and token) or a bearer token; a MISP feed takes them as a custom Authorization header", taxii.ErrUnauthorized)
	}
	c, err := s.backend.Authenticate(r.Context(), user, token)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("%w: unknown credentials", taxii.ErrUnauthorized)
	}
	return c, nil
}

// feed returns the caller's feed of a collection, from the cache when it
// is fresh.
func (s *Server) feed(ctx context.Context, c *taxii.Caller, root string, col *taxii.Collection) (*feed, error) {
	key := cacheKey{*c, root, col.ID}
	now := time.Now()
	var state string
	cache := s.cfg.CacheFor > 0
	if sr, ok := s.backend.(StateReader); ok && cache {
		var err error
		if state, err = sr.State(ctx, c, root, col.ID); err != nil {
			return nil, err
		}
		cache = state != ""
	}
	if cache {
		s.mu.Lock()
		f := s.cache[key]
		s.mu.Unlock()
		if f != nil && s.fresh(f, state, now) {
			return f, nil
		}
	}
	f, err := s.build(ctx, c, root, col)
	if err != nil {
		return nil, err
	}
	f.built, f.state = now, state
	if cache {
		s.mu.Lock()
		if len(s.cache) >= cacheEntries {
			for k, old := range s.cache {
				if !s.fresh(old, old.state, now) {
					delete(s.cache, k)
				}
			}
		}
		for k := range s.cache {
			if len(s.cache) < cacheEntries {
				break
			}
			delete(s.cache, k) // any: they are all fresh
		}
		s.cache[key] = f
		s.mu.Unlock()
	}
	return f, nil
}

// fresh reports whether f may be served to a caller whose collection is
// in state (see StateReader) at now.
func (s *Server) fresh(f *feed, state string, now time.Time) bool {
	if _, ok := s.backend.(StateReader); ok {
		return state != "" && f.state == state
	}
	return now.Sub(f.built) < s.cfg.CacheFor
}

// build reads every object of the collection the caller may read, through
// the backend, and maps them to MISP events.
func (s *Server) build(ctx context.Context, c *taxii.Caller, root string, col *taxii.Collection) (*feed, error) {
	var objs []*stix.Object
	filter := &taxii.Filter{Limit: pageSize}
	for {
		p, err := s.backend.Objects(ctx, c, root, col.ID, filter)
		if err != nil {
			return nil, err
		}
		for _, it := range p.Items {
			o, err := stix.Parse(it.Object)
			if err != nil {
				// The store keeps only objects that parsed on ingest.
				return nil, fmt.Errorf("misphttp: stored object %s: %w", it.ID, err)
			}
			objs = append(objs, o)
		}
		if len(objs) > s.cfg.MaxObjects {
			return nil, errTooLarge
		}
		if !p.More {
			break
		}
		filter.After = p.Next
	}
	loose := misp.Event{
		UUID: uuid.NewSHA1(misp.Namespace, []byte("collection/"+col.ID)).String(),
		Info: "Entente collection " + col.Title,
	}
	events, skipped := misp.FromSTIX(objs, misp.ExportOptions{Loose: loose})
	if len(skipped) > 0 {
		s.log.DebugContext(ctx, "MISP feed leaves objects out", slog.String("collection", col.ID),
			slog.String("account", c.Name), slog.Int("count", len(skipped)))
	}
	f := &feed{manifest: misp.Manifest(events), hashes: misp.Hashes(events), events: make(map[string][]byte, len(events))}
	for i := range events {
		f.events[events[i].UUID] = misp.EventFile(&events[i])
	}
	return f, nil
}

func (s *Server) failErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, taxii.ErrUnauthorized):
		w.Header().Set("WWW-Authenticate", `Basic realm="entente", charset="UTF-8"`)
		s.fail(w, http.StatusUnauthorized, err.Error())
	case errors.Is(err, taxii.ErrForbidden):
		s.fail(w, http.StatusForbidden, err.Error())
	case errors.Is(err, taxii.ErrNotFound):
		s.fail(w, http.StatusNotFound, err.Error())
	case errors.Is(err, errTooLarge), errors.Is(err, taxii.ErrUnavailable):
		w.Header().Set("Retry-After", "60")
		s.fail(w, http.StatusServiceUnavailable, err.Error())
	default:
		s.log.Error("serving a MISP feed", slog.Any("error", err))
		s.fail(w, http.StatusInternalServerError, "the feed could not be built; the node's log says why")
	}
}

func (s *Server) fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}
