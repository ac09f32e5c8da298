// Package sqlite implements [store.Store] on an embedded SQLite database,
// through modernc.org/sqlite (SQLite compiled to pure Go, so the binary needs
// no cgo).
//
// The database runs in WAL mode (https://sqlite.org/wal.html): readers never
// block the writer and see a consistent snapshot, and another process (such
// as `entente user add` beside `entente serve`) may open the same file. Writes
// from several processes are serialized by SQLite's own lock, taken at the
// start of each write transaction (BEGIN IMMEDIATE) and waited for up to the
// busy timeout. Sequence numbers and date_added values are computed inside
// that transaction from what is stored, so they stay monotonic whichever
// process writes.
//
// Each object version row carries flags (first and last version within its
// spec_version, latest spec_version of its object) that every write keeps
// up to date in its transaction, so that TAXII's default listing, the last
// version of each object, is a plain index range read rather than a
// correlated subquery per row. Listings page by sequence number through
// indexes on (collection, seq) and (collection, type, seq); none uses
// OFFSET.
//
// The schema is a series of numbered migrations embedded from
// migrations/NNNN_name.sql; Open applies the missing ones in one transaction.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/entente/entente/store"
)

var _ store.Store = (*Store)(nil)

// Store is a [store.Store] on one SQLite database file. It is safe for
// concurrent use.
type Store struct {
	// w has a single connection: SQLite admits one writer at a time, and
	// queueing writers in database/sql is cheaper than having them spin on
	// SQLITE_BUSY.
	w *sql.DB
	// r serves reads, on query_only connections.
	r   *sql.DB
	now func() time.Time

	// collections caches collection id → row key. Collections are never
	// deleted or renumbered, so an entry never goes stale.
	collections sync.Map

	// insertEntriesStmts append ledger entries, insertSizes[i] at a time.
	// They and the statements of the object writes are prepared on the
	// writer connection when the store opens: preparing one during a
	// write would wait for the connection the write holds, and preparing
	// them for each write costs as much as a few rows do.
	insertEntriesStmts []*sql.Stmt
	insertObjectStmt   *sql.Stmt // insertObject
	versionsStmt       *sql.Stmt // selectVersions
	storedIDsStmt      *sql.Stmt // selectStoredIDs
}

// An Option changes how Open configures the store.
type Option func(*options)

type options struct {
	busyTimeout time.Duration
	readers     int
	now         func() time.Time
}

// WithBusyTimeout sets how long a statement waits for a lock held by another
// connection or process before failing with SQLITE_BUSY. The default is 10s.
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) { o.busyTimeout = d }
}

// WithReaders sets the size of the reader connection pool. The default is
// GOMAXPROCS, at least 4.
func WithReaders(n int) Option {
	return func(o *options) { o.readers = n }
}

// WithClock replaces time.Now as the source of date_added values. Tests use
// it to add many objects within the same microsecond.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// Open opens the SQLite database at path, creating it if needed, and brings
// its schema up to date. path must name a file: the store uses two connection
// pools, which an in-memory database could not share.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{
		busyTimeout: 10 * time.Second,
		readers:     max(4, runtime.GOMAXPROCS(0)),
		now:         time.Now,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: open %q: the store needs a database file path", path)
	}
	// SQLite's own message for this case is "unable to open database file".
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w; hint: create the directory first", path, err)
	}
	if err := ownerOnly(path); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if o.readers < 1 {
		return nil, fmt.Errorf("sqlite: open %s: WithReaders(%d): want at least 1 reader", path, o.readers)
	}

	busy := strconv.FormatInt(o.busyTimeout.Milliseconds(), 10)
	w, err := sql.Open("sqlite", dsn(path, url.Values{
		"_pragma": {
			"busy_timeout(" + busy + ")",
			"journal_mode(WAL)",
			// NORMAL is durable across application crashes in WAL mode;
			// only a power loss can lose the last transactions.
			"synchronous(NORMAL)",
			"foreign_keys(ON)",
		},
		// Take the write lock when the transaction starts, so that the
		// reads that decide seq and date_added see the latest commit.
		"_txlock": {"immediate"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	s := &Store{w: w, now: o.now}
	ms, err := loadMigrations(migrationFiles)
	if err == nil {
		err = migrate(ctx, w, ms)
	}
	for _, n := range insertSizes {
		if err != nil {
			break
		}
		var st *sql.Stmt
		if st, err = w.PrepareContext(ctx, insertEntries(n)); err == nil {
			s.insertEntriesStmts = append(s.insertEntriesStmts, st)
		}
	}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{{&s.insertObjectStmt, insertObject}, {&s.versionsStmt, selectVersions}, {&s.storedIDsStmt, selectStoredIDs}} {
		if err != nil {
			break
		}
		*p.st, err = w.PrepareContext(ctx, p.sql)
	}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	r, err := sql.Open("sqlite", dsn(path, url.Values{
		"_pragma": {
			"busy_timeout(" + busy + ")",
			"foreign_keys(ON)",
			"query_only(ON)",
		},
	}))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(o.readers)
	r.SetMaxIdleConns(o.readers)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.r = r
	return s, nil
}

// ownerOnly creates the database file readable and writable by its owner
// only, or takes group and other access away from an existing one and its
// WAL files: they hold token hashes and every object. SQLite gives the -wal
// and -shm files it creates the mode of the database file.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("%w; hint: make %s readable by its owner only (chmod 600)", err, p)
			}
		}
	}
	return nil
}

// txn is a store.Tx: the write transaction of one Update.
type txn struct {
	s  *Store
	tx *sql.Tx
}

// Update runs f in one write transaction (see store.Store). The transaction
// takes SQLite's write lock when it begins, so it waits for other writers,
// this process's and others', for up to the busy timeout.
func (s *Store) Update(ctx context.Context, f func(ctx context.Context, tx store.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: beginning a write: %w", err)
	}
	defer tx.Rollback()
	if err := f(ctx, &txn{s: s, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: committing a write: %w", err)
	}
	return nil
}

// dsn builds a modernc.org/sqlite data source name. The path is escaped as a
// SQLite URI so that names with '?' or '#' in them still work.
func dsn(path string, params url.Values) string {
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath(), RawQuery: params.Encode()}
	return u.String()
}

// Close closes both connection pools.
func (s *Store) Close() error {
	var errs []error
	for _, st := range append(s.insertEntriesStmts, s.insertObjectStmt, s.versionsStmt, s.storedIDsStmt) {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(append(errs, s.r.Close(), s.w.Close())...)
}

// isUniqueViolation reports whether err is SQLite refusing a row that would
// break a UNIQUE or PRIMARY KEY constraint.
func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// micros converts t to the integer microseconds the schema stores.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros is the inverse of micros, in UTC.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
