package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/entente/entente/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration = store.Migration

// loadMigrations reads migrations/*.sql from fsys; see store.LoadMigrations.
func loadMigrations(fsys fs.FS) ([]migration, error) { return store.LoadMigrations(fsys) }

// migrate applies the migrations db has not recorded yet, in one write
// transaction: a process that opens the database at the same time waits for
// the lock and then finds the schema current.
func migrate(ctx context.Context, db *sql.DB, ms []migration) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrating the schema: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name    TEXT    NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("migrating the schema: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migrating the schema: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("the database has schema version %d but this program knows only %d; hint: run a newer entente on it", current, len(ms))
	}
	for _, m := range ms[current:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, m.Version, m.Name); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrating the schema: %w", err)
	}
	return nil
}
