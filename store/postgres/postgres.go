// Package postgres implements [store.Store] on PostgreSQL, through
// github.com/jackc/pgx/v5, so that several `entente serve` processes can
// serve one node from one database.
//
// # Writes
//
// Every write that gives out sequence numbers, moves version marks or
// appends to the ledger runs in an Update, whose transaction first takes
// one transaction-level advisory lock (writeLock). Writers of every process
// therefore take turns, as SQLite's single writer does, and that is what
// keyset paging needs: a sequence number is drawn only under the lock and
// committed before the next writer draws one, so no reader can see seq 11
// and later find 10 appear behind its cursor. The ledger's size is read in
// the same transaction, its row locked (SELECT … FOR UPDATE), so one writer
// at a time sequences the log. Other writes (API roots, collections,
// accounts, grants, statuses outside an Update) are single statements that
// need no lock.
//
// An Update's new object versions are written with COPY, their sequence
// numbers drawn from the identity sequence in one statement beforehand.
// Each version row carries the marks of store.MarkVersions (first and last
// within its spec_version, latest spec_version), kept up to date by every
// write, so TAXII's default listing is an index range read.
//
// # Reads
//
// Listings page by sequence number (keyset paging) through the indexes
// (collection, seq), (collection, type, seq) and (collection, id,
// version_key), chosen from EXPLAIN and checked by TestQueryPlans; none
// uses OFFSET.
//
// # Migrations
//
// Migrations are embedded, numbered files (migrations/NNNN_description.sql,
// checked by store.LoadMigrations). They run at start, all in one
// transaction that holds a PostgreSQL advisory lock, so several processes
// may start at once: one migrates, the others wait and find the schema
// current.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/entente/entente/store"
)

var _ store.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// The keys of the advisory locks the store takes, the first 8 bytes of a
// name as a big-endian number, so that they read in pg_locks.
const (
	// migrationLock ("entente ") is held by the transaction that migrates.
	migrationLock int64 = 0x656e74656e746520
	// writeLock ("entwrite") is held by every Update.
	writeLock int64 = 0x656e747772697465
)

// Store is a [store.Store] on a PostgreSQL database. It is safe for
// concurrent use, and any number of processes may use the same database.
type Store struct {
	pool *pgxpool.Pool
	// replica, when set, serves the TAXII read paths (see WithReplica).
	replica *pgxpool.Pool
	now     func() time.Time

	// collections caches collection id → row key. Collections are never
	// deleted or renumbered, so an entry never goes stale.
	collections sync.Map
}

// An Option changes how Open configures the store.
type Option func(*options)

type options struct {
	now     func() time.Time
	replica string
}

// WithClock replaces time.Now as the source of date_added values.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// Open connects to the database at url (a postgres:// URL or a libpq
// key=value string) and applies the migrations it has not recorded yet.
// Without pool_max_conns in url, the pool holds up to 4 connections per
// processor, at least 8: a writer holds one for its whole transaction.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = int32(max(8, 4*runtime.GOMAXPROCS(0)))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	ms, err := store.LoadMigrations(migrationFiles)
	if err == nil {
		err = migrate(ctx, pool, ms)
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, now: o.now}
	if o.replica != "" {
		if s.replica, err = openReplica(ctx, o.replica, cfg.MaxConns); err != nil {
			pool.Close()
			return nil, fmt.Errorf("postgres: %w", err)
		}
	}
	return s, nil
}

// Close closes the connections.
func (s *Store) Close() error {
	s.pool.Close()
	if s.replica != nil {
		s.replica.Close()
	}
	return nil
}

// migrate applies the migrations the database has not recorded yet, in one
// transaction under an advisory lock. PostgreSQL's DDL is transactional, so
// a failed migration leaves the schema as it was.
func migrate(ctx context.Context, pool *pgxpool.Pool, ms []store.Migration) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("migrating the schema: taking the lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY,
			name    text    NOT NULL
		)`); err != nil {
			return fmt.Errorf("migrating the schema: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("migrating the schema: %w", err)
		}
		if current > len(ms) {
			return fmt.Errorf("the database has schema version %d but this program knows only %d; hint: run a newer entente on it", current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
}

// schemaVersion returns the highest migration the database has recorded.
func (s *Store) schemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// txn is a store.Tx: the write transaction of one Update.
type txn struct {
	s  *Store
	tx pgx.Tx
}

// Update runs f in one write transaction (see store.Store). The
// transaction first takes the write lock, so it waits for the writers of
// this process and of others.
func (s *Store) Update(ctx context.Context, f func(ctx context.Context, tx store.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: beginning a write: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, writeLock); err != nil {
		return fmt.Errorf("postgres: taking the write lock: %w", err)
	}
	if err := f(ctx, &txn{s: s, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: committing a write: %w", err)
	}
	return nil
}

// querier is what a pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// isUniqueViolation reports whether err is PostgreSQL refusing a row that
// would break a UNIQUE or PRIMARY KEY constraint.
func isUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

// micros converts t to the integer microseconds the schema stores.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros is the inverse of micros, in UTC.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
