package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

var _ taxii.Backend = (*Node)(nil)

// Defaults for the optional fields of Config.
const (
	// DefaultStatusRetention keeps a status for twice the 24 hours TAXII 2.1
	// §4.3 asks for, so a client polling across a day boundary still finds it.
	DefaultStatusRetention = 48 * time.Hour

	// DefaultPruneInterval is how often Run deletes expired statuses.
	DefaultPruneInterval = time.Hour

	// DefaultTitle is the discovery title when Config.Title is empty.
	DefaultTitle = "Entente node"
)

// Config configures a Node. Store is required; every other field has a
// usable zero value.
type Config struct {
	// Store holds everything the node serves. The node does not close it.
	Store store.Store

	// Logger receives the node's logs. Nil discards them.
	Logger *slog.Logger

	// Title, Description and Contact fill the TAXII discovery resource.
	Title       string
	Description string
	Contact     string

	// StatusRetention is how long the status of an add request stays
	// readable. Zero means DefaultStatusRetention; TAXII asks for at least
	// 24 hours.
	StatusRetention time.Duration

	// PruneInterval is how often Run prunes expired statuses. Zero means
	// DefaultPruneInterval.
	PruneInterval time.Duration

	// Now returns the current time. Nil means time.Now; tests set it.
	Now func() time.Time

	// Key signs the ledger's checkpoints. Nil: the node records its
	// ledger but signs no checkpoint.
	Key *Key

	// LogName is the origin line of the node's checkpoints, the log name
	// the agreement gives the node. Empty means DefaultLogName(Key).
	LogName string

	// CheckpointInterval is the least time between two checkpoints: under
	// load the node signs one per interval, and none while the log does
	// not grow. Zero means DefaultCheckpointInterval.
	CheckpointInterval time.Duration

	// Agreement is the agreement the node works under, its signatures
	// verified by the caller (agreement.Verify), and Self this node's id
	// in it. Partner nodes are the other parties' nodes it names, known
	// by their keys. Nil: the node has no partners.
	Agreement *agreement.Agreement
	Self      string

	// OnAlert, when set, is called with the kind of each alert the node
	// raises about a partner (Alert constants, federation's), for metrics.
	OnAlert func(kind string)
}

func (c *Config) validate() error {
	if c.Store == nil {
		return errors.New("node: Config.Store is nil; open a store (store/sqlite) and pass it")
	}
	if c.StatusRetention < 0 || c.StatusRetention > 0 && c.StatusRetention < 24*time.Hour {
		return fmt.Errorf("node: Config.StatusRetention is %v; TAXII 2.1 §4.3 asks for at least 24h (zero means %v)",
			c.StatusRetention, DefaultStatusRetention)
	}
	if c.CheckpointInterval < 0 {
		return fmt.Errorf("node: Config.CheckpointInterval is %v; use a positive duration or zero for %v",
			c.CheckpointInterval, DefaultCheckpointInterval)
	}
	if (c.Agreement == nil) != (c.Self == "") {
		return errors.New("node: Config.Agreement and Config.Self go together: the agreement and this node's id in it")
	}
	if c.PruneInterval < 0 {
		return fmt.Errorf("node: Config.PruneInterval is %v; use a positive duration or zero for %v",
			c.PruneInterval, DefaultPruneInterval)
	}
	return nil
}

// Node is an Entente node. It is safe for concurrent use.
type Node struct {
	store         store.Store
	log           *slog.Logger
	title         string
	description   string
	contact       string
	retention     time.Duration
	pruneInterval time.Duration
	now           func() time.Time

	// writer sequences every envelope's write (group commit).
	writer *writer
	// checking holds a token per goroutine checking objects (see checkAll).
	checking chan struct{}

	// The ledger's checkpoints: see ledger.go.
	key                *Key
	logName            string
	checkpointInterval time.Duration
	checkpointMu       sync.Mutex // one signer at a time

	// collections caches lookup's results: collectionKey → store.Collection.
	collections sync.Map

	// fed is the agreement and what it says about partners; nil without.
	// Amend replaces it, one amendment at a time (amendMu), once the
	// ledger has recorded the new version.
	fed     atomic.Pointer[terms]
	amendMu sync.Mutex
	// senders caches the agreement compiled for each sending party
	// (senderKey → *policy.Policy), for Receive.
	senders sync.Map
	// verifiers holds each agreement's origin signature verifier
	// (*terms → *provenance.Verifier), for Receive.
	verifiers sync.Map
	// onAlert counts alerts about partners (Config.OnAlert).
	onAlert func(kind string)
	// pusher queues urgent items for partner nodes (SetPusher).
	pusher atomic.Pointer[Pusher]
	// pushing counts the revocation pushes an add started after its
	// commit; Run waits for them before it returns, so that none reads a
	// store its caller is about to close.
	pushing sync.WaitGroup
	// caseMu orders case steps: each is decided against the version
	// stored before it.
	caseMu sync.Mutex
	// onCase, if set, is told of each case version the node stores.
	onCase atomic.Pointer[CaseHook]
	// onAlarm, if set, is told of each alarm fired; scheduleMu runs one
	// FireDue at a time.
	onAlarm    alarmHooks
	scheduleMu sync.Mutex
	// cache spares partners' repeated reads (see releaseCache).
	cache releaseCache
}

// New returns a node serving what cfg.Store holds. The store must have been
// initialized (see Initialize).
func New(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	roots, err := cfg.Store.APIRoots(ctx)
	if err != nil {
		return nil, fmt.Errorf("node: reading API roots: %w", err)
	}
	if len(roots) == 0 {
		return nil, errors.New("node: the store holds no API root; initialize it first (node.Initialize, or run entente serve on an empty data directory)")
	}
	n := &Node{
		store:         cfg.Store,
		log:           cfg.Logger,
		title:         cfg.Title,
		description:   cfg.Description,
		contact:       cfg.Contact,
		retention:     cfg.StatusRetention,
		pruneInterval: cfg.PruneInterval,
		now:           cfg.Now,
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if n.title == "" {
		n.title = DefaultTitle
	}
	if n.retention == 0 {
		n.retention = DefaultStatusRetention
	}
	if n.pruneInterval == 0 {
		n.pruneInterval = DefaultPruneInterval
	}
	if n.now == nil {
		n.now = time.Now
	}
	n.key, n.logName, n.checkpointInterval = cfg.Key, cfg.LogName, cfg.CheckpointInterval
	if n.logName == "" && n.key != nil {
		n.logName = DefaultLogName(n.key)
	}
	if n.checkpointInterval == 0 {
		n.checkpointInterval = DefaultCheckpointInterval
	}
	n.onAlert = cfg.OnAlert
	if cfg.Agreement != nil {
		f, err := newTerms(cfg.Agreement, cfg.Self, cfg.Key)
		if err != nil {
			return nil, err
		}
		n.fed.Store(f)
	}
	if n.key != nil {
		if err := checkOriginID(n.key, n.originID()); err != nil {
			return nil, err
		}
	}
	n.writer = &writer{store: n.store, log: n.log, rand: rand.Reader, grew: make(chan struct{}, 1)}
	n.checking = make(chan struct{}, runtime.GOMAXPROCS(0))
	// The ledger records the agreement and key the node starts under, if
	// they are not those it recorded last.
	if err := n.recordTerms(ctx, n.fed.Load()); err != nil {
		return nil, err
	}
	return n, nil
}

// Run performs the node's background work, pruning expired statuses and
// signing the ledger's checkpoints, until ctx is done. It signs a last
// checkpoint then, waits for the work requests started (Wait), and
// returns nil.
func (n *Node) Run(ctx context.Context) error {
	defer n.Wait()
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.signCheckpoints(ctx)
	}()
	defer func() { <-done }()
	t := time.NewTicker(n.pruneInterval)
	defer t.Stop()
	for {
		// A failed prune is retried on the next tick: stale statuses only
		// cost space, so they are no reason to stop serving.
		if _, err := n.PruneStatuses(ctx); err != nil && ctx.Err() == nil {
			n.log.ErrorContext(ctx, "pruning statuses", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Wait waits until the work that requests started and left running after
// they were answered (the revocation pushes that follow an add) is done.
// Call it once the servers have stopped, before closing the store.
func (n *Node) Wait() { n.pushing.Wait() }

// PruneStatuses deletes the statuses of add requests older than the
// retention period and returns how many it deleted.
func (n *Node) PruneStatuses(ctx context.Context) (int, error) {
	removed, err := n.store.PruneStatuses(ctx, n.now().Add(-n.retention))
	if err != nil {
		return 0, fmt.Errorf("node: pruning statuses: %w", err)
	}
	if removed > 0 {
		n.log.InfoContext(ctx, "pruned statuses", slog.Int("count", removed))
	}
	return removed, nil
}
