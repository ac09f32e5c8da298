// Package postgres is the start of a PostgreSQL store: for now it connects
// and brings the database's schema to the current version. It does not
// implement store.Store yet; until it does, nothing serves from it.
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

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/entente/entente/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the key of the transaction-level advisory lock that
// migrations hold: the first 8 bytes of "entente " as a big-endian number.
const migrationLock int64 = 0x656e74656e746520

// DB is a connection pool to a migrated database.
type DB struct {
	pool *pgxpool.Pool
}

// Open connects to the database at url (a postgres:// URL or a libpq
// key=value string) and applies the migrations it has not recorded yet.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
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
	return &DB{pool: pool}, nil
}

// Close closes the connections.
func (db *DB) Close() { db.pool.Close() }

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
func (db *DB) schemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return v, err
}
