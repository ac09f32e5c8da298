package federation

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/entente/entente/taxii"
)

// Defaults of Config.
const (
	DefaultInterval   = 5 * time.Second
	DefaultPageSize   = 1000
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 5 * time.Minute
)

var (
	// ErrReplay means a partner answered a pull with a page that starts at
	// or before the cursor the pull gave: an old page replayed. The page is
	// refused and the Link retries later; the alert is for the operator,
	// who should ask the partner's operator why.
	ErrReplay = errors.New("federation: the partner replayed an old page")

	// ErrSuspended means the node's witness suspended the partner's log
	// (it forked or rolled back): the Link exchanges nothing with the
	// partner until an operator resumes the log (entente witness resume).
	ErrSuspended = errors.New("federation: the partner's log is suspended")

	// ErrNoInbox means the partner shares no collection this node may
	// write into, so nothing can be pushed to it; pull remains the way
	// its items get there.
	ErrNoInbox = errors.New("federation: the partner shares no collection this node may write into")
)

// Peer is a partner node as the agreement names it.
type Peer struct {
	Party string // the party that runs the node
	Node  string // the node's id in the agreement
	Log   string // the node's log name, the origin of its checkpoints
}

// Incoming is one object version as a partner sent it: its bytes, which
// are never changed, and the provenance the envelope carried beside it
// (nil when it carried none).
type Incoming struct {
	Object     json.RawMessage
	Provenance json.RawMessage
}

// Result says what a Sink did with a page.
type Result struct {
	Stored     int // new versions stored and ledgered
	Duplicates int // versions held already
	Refused    int // versions refused: bad signature, or outside the sender's rule
}

// Alert kinds a Link raises, a bounded set for metric labels.
const (
	AlertReplay    = "replay"
	AlertSuspended = "suspended"
)

// Alert is something about a partner that an operator must look at.
type Alert struct {
	Peer   Peer
	Kind   string // one of the Alert constants, or the node's own kinds
	Detail string
}

// A Sink receives what Links pull and keeps their state. The node
// implements it; every method must be safe for concurrent use.
type Sink interface {
	// Receive checks and stores items that from released to this node
	// from its collection (the partner collection's alias, or its id when
	// it has none). An item that fails its checks is refused and recorded
	// by the Sink; only a failure to do so (a store outage) is an error,
	// after which the Link retries the page.
	Receive(ctx context.Context, from Peer, collection string, items []Incoming) (Result, error)
	// Cursor returns the added_after to resume pulling a partner node's
	// collection from, the zero time if none was saved.
	Cursor(ctx context.Context, node, collection string) (time.Time, error)
	// SaveCursor durably records where to resume.
	SaveCursor(ctx context.Context, node, collection string, addedAfter time.Time) error
	// SaveHealth records the Link's health, for entente partners.
	SaveHealth(ctx context.Context, h Health) error
	// Alert records an alert: log, stored alert and metric.
	Alert(ctx context.Context, a Alert) error
	// Suspended reports whether the node suspended the log origin.
	Suspended(ctx context.Context, origin string) (bool, error)
}

// Link states.
const (
	StateStarting  = "starting"
	StateSyncing   = "syncing"
	StateIdle      = "idle" // caught up, waiting for the next poll
	StateBackoff   = "backoff"
	StateSuspended = "suspended"
	StateStopped   = "stopped"
)

// Health is a Link's state, as entente partners and /metrics show it.
type Health struct {
	Node  string
	Party string
	Log   string // the partner's log name
	State string // one of the State constants
	// LastAttempt is when the Link last asked the partner for a page,
	// LastSuccess when a page last came back and was stored, and CaughtUp
	// when the Link last reached the end of every collection: the lag in
	// seconds is the time since then.
	LastAttempt time.Time
	LastSuccess time.Time
	CaughtUp    time.Time
	// Behind counts the versions pulled since the Link was last caught up,
	// and Pending says whether the partner said more follow: while it does,
	// the Link lags by more than Behind objects. Both are zero when caught up.
	Behind  int64
	Pending bool
	// Totals since the Link started.
	Stored, Duplicates, Refused int64
	Errors                      int64
	// LastError describes the last failure, "" after a success.
	LastError string
	// Suspended says why the Link stopped exchanging, "" while it runs.
	Suspended string
}

// Lag returns the time since the Link last caught up, at now; zero if it
// never did.
func (h Health) Lag(now time.Time) time.Duration {
	if h.CaughtUp.IsZero() {
		return 0
	}
	return max(now.Sub(h.CaughtUp), 0)
}

// Config configures a Link.
type Config struct {
	// Peer is the partner node.
	Peer Peer
	// Client reaches the partner's TAXII server, over mutual TLS with the
	// node key (node.PeerTLSConfig).
	Client *taxii.Client
	// Sink receives what the Link pulls and keeps its state.
	Sink Sink
	// APIRoot is the partner's API root to pull from; empty means the
	// default its discovery resource names.
	APIRoot string
	// Collections are the partner collections (ids or aliases) to pull;
	// empty means every collection the partner lets this node read.
	Collections []string
	// Interval is the time between polls once caught up. Default
	// DefaultInterval.
	Interval time.Duration
	// PageSize is the limit asked for per page. Default DefaultPageSize.
	PageSize int
	// MinBackoff and MaxBackoff bound the wait after a failure, which
	// doubles from MinBackoff with each failure in a row, with full jitter.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives the Link's logs. Nil discards them.
	Logger *slog.Logger
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// Link keeps this node in step with one partner node.
type Link struct {
	cfg Config
	log *slog.Logger

	// poke wakes Run before its next poll (Poke).
	poke chan struct{}
	// pushes wakes the pusher; queue holds what waits to be pushed.
	pushes chan struct{}

	mu     sync.Mutex
	health Health
	root   string // the partner's API root, once discovered
	queue  []Incoming
}

// New returns a Link. It does not start it; call Run.
func New(cfg Config) (*Link, error) {
	if cfg.Peer.Party == "" || cfg.Peer.Node == "" {
		return nil, errors.New("federation: Config.Peer needs the partner's party and node id")
	}
	if cfg.Client == nil || cfg.Sink == nil {
		return nil, errors.New("federation: Config.Client and Config.Sink are required")
	}
	cfg.Interval = cmp.Or(max(cfg.Interval, 0), DefaultInterval)
	cfg.PageSize = cmp.Or(max(cfg.PageSize, 0), DefaultPageSize)
	cfg.MinBackoff = cmp.Or(max(cfg.MinBackoff, 0), DefaultMinBackoff)
	cfg.MaxBackoff = max(cmp.Or(cfg.MaxBackoff, DefaultMaxBackoff), cfg.MinBackoff)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Link{
		cfg:    cfg,
		log:    cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)).With(slog.String("partner", cfg.Peer.Node)),
		poke:   make(chan struct{}, 1),
		pushes: make(chan struct{}, 1),
		root:   cfg.APIRoot,
	}
	l.health = Health{Node: cfg.Peer.Node, Party: cfg.Peer.Party, Log: cfg.Peer.Log, State: StateStarting}
	return l, nil
}

// Peer returns the partner node.
func (l *Link) Peer() Peer { return l.cfg.Peer }

// Health returns the Link's current health.
func (l *Link) Health() Health {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.health
}

// Poke makes Run poll now rather than at its next interval.
func (l *Link) Poke() {
	select {
	case l.poke <- struct{}{}:
	default:
	}
}

// Run pulls from the partner until ctx ends, and pushes what Enqueue
// queues. It polls every Interval once caught up, backs off on errors and
// pauses while the partner's log is suspended. It returns nil when ctx
// ends.
func (l *Link) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { l.runPushes(ctx) })
	defer wg.Wait()

	failures := 0
	alerted := false
	for {
		wait := l.cfg.Interval
		suspended, err := l.cfg.Sink.Suspended(ctx, l.cfg.Peer.Log)
		switch {
		case err != nil:
			l.failed(ctx, fmt.Errorf("federation: reading whether %s's log is suspended: %w", l.cfg.Peer.Node, err))
			failures++
			wait = l.backoff(failures, err)
		case suspended:
			if !alerted {
				l.suspend(ctx)
				alerted = true
			}
		default:
			if alerted {
				l.log.InfoContext(ctx, "federation: the partner's log was resumed; the link resumes")
				l.update(ctx, func(h *Health) { h.Suspended = "" })
				alerted = false
			}
			if err := l.Sync(ctx); err != nil {
				if ctx.Err() != nil {
					break
				}
				failures++
				wait = l.backoff(failures, err)
				l.update(ctx, func(h *Health) { h.State = StateBackoff })
				l.log.WarnContext(ctx, "federation: pull failed; backing off",
					slog.Duration("wait", wait), slog.Int("failures", failures), slog.Any("error", err))
			} else {
				failures = 0
			}
		}
		if ctx.Err() != nil {
			l.update(context.WithoutCancel(ctx), func(h *Health) { h.State = StateStopped })
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			l.update(context.WithoutCancel(ctx), func(h *Health) { h.State = StateStopped })
			return nil
		case <-l.poke:
			t.Stop()
		case <-t.C:
		}
	}
}

// suspend stops the exchange with a partner whose log is suspended and
// says why.
func (l *Link) suspend(ctx context.Context) {
	why := fmt.Sprintf("the witness suspended the partner's log %q (a fork or a rollback); see entente witness, and resume the log once resolved", l.cfg.Peer.Log)
	l.log.ErrorContext(ctx, "federation: link suspended", slog.String("log", l.cfg.Peer.Log))
	l.update(ctx, func(h *Health) { h.State, h.Suspended = StateSuspended, why })
	if err := l.cfg.Sink.Alert(ctx, Alert{Peer: l.cfg.Peer, Kind: AlertSuspended, Detail: why}); err != nil {
		l.log.ErrorContext(ctx, "federation: recording an alert", slog.Any("error", err))
	}
}

// backoff returns the wait after the failures-th failure in a row: an
// exponential bound with full jitter, at least what a 503's Retry-After
// asked for.
func (l *Link) backoff(failures int, err error) time.Duration {
	bound := l.cfg.MinBackoff << min(failures-1, 30)
	if bound <= 0 || bound > l.cfg.MaxBackoff {
		bound = l.cfg.MaxBackoff
	}
	d := l.cfg.MinBackoff/2 + rand.N(bound-l.cfg.MinBackoff/2+1)
	if re, ok := errors.AsType[*taxii.ResponseError](err); ok && re.RetryAfter > d {
		d = re.RetryAfter
	}
	return d
}

// Sync pulls every collection the partner shares with this node until it
// is caught up, or until the first error.
func (l *Link) Sync(ctx context.Context) error {
	root, err := l.apiRoot(ctx)
	if err != nil {
		return l.failed(ctx, err)
	}
	cols, err := l.collections(ctx, root)
	if err != nil {
		return l.failed(ctx, err)
	}
	// In memory only: an idle poll writes the health once, at its end.
	l.mu.Lock()
	l.health.State = StateSyncing
	l.mu.Unlock()
	for _, col := range cols {
		if err := l.pull(ctx, root, col); err != nil {
			return l.failed(ctx, err)
		}
	}
	now := l.cfg.Now()
	l.update(ctx, func(h *Health) {
		h.State, h.CaughtUp, h.Behind, h.Pending, h.LastError = StateIdle, now, 0, false, ""
	})
	return nil
}

// failed records err in the health and returns it.
func (l *Link) failed(ctx context.Context, err error) error {
	l.update(ctx, func(h *Health) { h.Errors++; h.LastError = err.Error() })
	return err
}

// update changes the health and saves it through the Sink.
func (l *Link) update(ctx context.Context, f func(*Health)) {
	l.mu.Lock()
	f(&l.health)
	h := l.health
	l.mu.Unlock()
	if err := l.cfg.Sink.SaveHealth(ctx, h); err != nil && ctx.Err() == nil {
		l.log.WarnContext(ctx, "federation: saving the link's health", slog.Any("error", err))
	}
}

// apiRoot returns the partner's API root, asking its discovery resource
// once.
func (l *Link) apiRoot(ctx context.Context) (string, error) {
	l.mu.Lock()
	root := l.root
	l.mu.Unlock()
	if root != "" {
		return root, nil
	}
	d, err := l.cfg.Client.Discovery(ctx)
	if err != nil {
		return "", fmt.Errorf("federation: discovering %s's API root: %w", l.cfg.Peer.Node, err)
	}
	root = d.Default
	if root == "" && len(d.APIRoots) > 0 {
		root = d.APIRoots[0]
	}
	if root == "" {
		return "", fmt.Errorf("federation: %s's discovery resource names no API root", l.cfg.Peer.Node)
	}
	l.mu.Lock()
	l.root = root
	l.mu.Unlock()
	return root, nil
}

// source is a partner collection to pull: its id for requests, and the
// name the Sink files it under (alias, else id).
type source struct{ id, name string }

// collections lists what to pull: the configured collections, or every
// one the partner lets this node read.
func (l *Link) collections(ctx context.Context, root string) ([]source, error) {
	cs, err := l.cfg.Client.Collections(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("federation: listing %s's collections: %w", l.cfg.Peer.Node, err)
	}
	var out []source
	for _, c := range cs {
		if !c.CanRead {
			continue
		}
		if len(l.cfg.Collections) > 0 && !contains(l.cfg.Collections, c.ID, c.Alias) {
			continue
		}
		out = append(out, source{id: c.ID, name: cmp.Or(c.Alias, c.ID)})
	}
	return out, nil
}

func contains(list []string, id, alias string) bool {
	for _, s := range list {
		if s == id || alias != "" && s == alias {
			return true
		}
	}
	return false
}

// A fetched page, or the error that ended the fetching.
type fetched struct {
	env  *taxii.Envelope
	info taxii.PageInfo
	err  error
}

// pull pages through one collection from its cursor to the end. The next
// page is fetched while the Sink stores the current one: the partner's
// release and this node's checks and writes overlap.
func (l *Link) pull(ctx context.Context, root string, col source) error {
	peer := l.cfg.Peer
	cursor, err := l.cfg.Sink.Cursor(ctx, peer.Node, col.id)
	if err != nil {
		return fmt.Errorf("federation: reading the cursor of %s/%s: %w", peer.Node, col.id, err)
	}
	fctx, cancel := context.WithCancel(ctx)
	pages := make(chan fetched, 1)
	go l.fetch(fctx, root, col, taxii.Query{AddedAfter: cursor, Limit: l.cfg.PageSize, Versions: []string{"all"}}, pages)
	defer func() {
		cancel()
		for range pages { // let the fetcher end
		}
	}()
	for pg := range pages {
		if pg.err != nil {
			return pg.err
		}
		env, info := pg.env, pg.info
		if len(env.Objects) > 0 && !cursor.IsZero() && !info.DateAddedFirst.IsZero() && !info.DateAddedFirst.After(cursor) {
			err := fmt.Errorf("%w: %s/%s answered added_after %s with a page that starts at %s",
				ErrReplay, peer.Node, col.name, taxii.FormatTimestamp(cursor), taxii.FormatTimestamp(info.DateAddedFirst))
			if aerr := l.cfg.Sink.Alert(ctx, Alert{Peer: peer, Kind: AlertReplay, Detail: err.Error()}); aerr != nil {
				return errors.Join(err, aerr)
			}
			return err
		}
		items := incoming(env)
		var res Result
		if len(items) > 0 {
			if res, err = l.cfg.Sink.Receive(ctx, peer, col.name, items); err != nil {
				return fmt.Errorf("federation: storing what %s/%s sent: %w", peer.Node, col.name, err)
			}
		}
		if last := info.DateAddedLast; last.After(cursor) {
			if err := l.cfg.Sink.SaveCursor(ctx, peer.Node, col.id, last); err != nil {
				return fmt.Errorf("federation: saving the cursor of %s/%s: %w", peer.Node, col.id, err)
			}
			cursor = last
		}
		now := l.cfg.Now()
		l.update(ctx, func(h *Health) {
			h.LastAttempt, h.LastSuccess, h.LastError = now, now, ""
			h.Stored += int64(res.Stored)
			h.Duplicates += int64(res.Duplicates)
			h.Refused += int64(res.Refused)
			h.Behind += int64(len(items))
			h.Pending = env.More
		})
	}
	return nil
}

// fetch sends the pages of q to pages until the last one, or the first
// error, and then closes pages.
func (l *Link) fetch(ctx context.Context, root string, col source, q taxii.Query, pages chan<- fetched) {
	defer close(pages)
	peer := l.cfg.Peer
	for {
		env, info, err := l.cfg.Client.Objects(ctx, root, col.id, q)
		if err != nil {
			err = fmt.Errorf("federation: pulling %s/%s: %w", peer.Node, col.name, err)
		}
		select {
		case pages <- fetched{env, info, err}:
		case <-ctx.Done():
			return
		}
		if err != nil || !env.More {
			return
		}
		switch {
		case env.Next != "" && env.Next != q.Next:
			q.Next = env.Next
		case env.Next == "" && info.DateAddedLast.After(q.AddedAfter):
			q.Next, q.AddedAfter = "", info.DateAddedLast
		default:
			err := fmt.Errorf("%w: %s/%s: more is true, but the page gives no way to the next one", taxii.ErrBadResponse, peer.Node, col.name)
			select {
			case pages <- fetched{err: err}:
			case <-ctx.Done():
			}
			return
		}
	}
}

// incoming pairs an envelope's objects with the provenance it carries.
func incoming(env *taxii.Envelope) []Incoming {
	out := make([]Incoming, len(env.Objects))
	for i, o := range env.Objects {
		out[i] = Incoming{Object: o}
		if i < len(env.Provenance) {
			out[i].Provenance = env.Provenance[i]
		}
	}
	return out
}
