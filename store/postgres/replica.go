package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/entente/entente/store"
)

var _ store.Replicated = (*Store)(nil)

// WithReplica sends the TAXII read paths (Objects and Status) to the
// streaming replica at url, except for a caller whose latest write (see
// Wrote) the replica has not replayed yet: its reads go to the primary
// until it has. Everything else (authentication, grants, the ledger,
// writes) stays on the primary.
func WithReplica(url string) Option {
	return func(o *options) { o.replica = url }
}

// openReplica connects to the replica.
func openReplica(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("replica: %w", err)
	}
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("replica: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("replica: %w", err)
	}
	return pool, nil
}

// Wrote implements store.Replicated: it records the primary's WAL insert
// position now, after the caller's write committed, as the position a
// replica must have replayed before it serves the caller. (The insert
// position, not the write position: with synchronous_commit off, a commit
// returns before its WAL is written.)
func (s *Store) Wrote(ctx context.Context, caller string) error {
	if s.replica == nil {
		return nil
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO read_marks (caller, lsn) VALUES ($1, pg_current_wal_insert_lsn())
		ON CONFLICT (caller) DO UPDATE SET lsn = excluded.lsn`, caller)
	if err != nil {
		return fmt.Errorf("postgres: marking %q's write for its reads: %w", caller, err)
	}
	return nil
}

// reader returns where ctx's reads go: the replica, unless the caller ctx
// carries (store.CallerOf) wrote something the replica has not replayed
// yet, or the replica cannot say. Asking costs a key lookup on the primary
// and one on the replica, small beside the listing it saves the primary.
func (s *Store) reader(ctx context.Context) querier {
	if s.replica == nil {
		return s.pool
	}
	if caller := store.CallerOf(ctx); caller != "" {
		var lsn string
		err := s.pool.QueryRow(ctx, `SELECT lsn::text FROM read_marks WHERE caller = $1`, caller).Scan(&lsn)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return s.pool
		default:
			var replayed bool
			// A server not in recovery is no lagging replica.
			if err := s.replica.QueryRow(ctx, `SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, NOT pg_is_in_recovery())`, lsn).Scan(&replayed); err != nil || !replayed {
				return s.pool
			}
		}
	}
	return s.replica
}
