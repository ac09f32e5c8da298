package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/entente/entente/store"
)

// testURL returns the URL of a schema of its own, dropped after the test,
// in the database that ENTENTE_TEST_POSTGRES names. Without that variable
// the test is skipped, saying how to run it.
func testURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("ENTENTE_TEST_POSTGRES")
	if base == "" {
		t.Skip("no PostgreSQL: set ENTENTE_TEST_POSTGRES to a postgres:// URL of a database the tests may change " +
			"(.ci/postgres starts a throwaway one and prints it: export ENTENTE_TEST_POSTGRES=$(.ci/postgres))")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to ENTENTE_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("ENTENTE_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestMigrationsNumbered(t *testing.T) {
	if _, err := store.LoadMigrations(migrationFiles); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateEmpty(t *testing.T) {
	u := testURL(t)
	db, err := Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, _ := store.LoadMigrations(migrationFiles)
	if v, err := db.schemaVersion(t.Context()); err != nil || v != len(ms) {
		t.Errorf("schema version %d, %v; want %d", v, err, len(ms))
	}
	for _, table := range []string{"api_roots", "collections", "objects", "statuses", "accounts", "grants"} {
		var found bool
		if err := db.pool.QueryRow(t.Context(), `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&found); err != nil || !found {
			t.Errorf("table %s: found %v, %v", table, found, err)
		}
	}
	// Opening again finds the schema current and changes nothing.
	db2, err := Open(t.Context(), u)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	db2.Close()
}

// Several processes start at once: one migrates, the others wait for the
// lock and find the schema current.
func TestMigrateConcurrently(t *testing.T) {
	u := testURL(t)
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			db, err := Open(t.Context(), u)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
	db, err := Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, _ := store.LoadMigrations(migrationFiles)
	var rows int
	if err := db.pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != len(ms) {
		t.Errorf("schema_migrations has %d rows, %v; want %d", rows, err, len(ms))
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	u := testURL(t)
	db, err := Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	if db2, err := Open(t.Context(), u); err == nil {
		db2.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	} else if !strings.Contains(err.Error(), "run a newer entente") {
		t.Errorf("Open: %v, want an error that says to run a newer entente", err)
	}
}

// A failing migration leaves the schema as it was, the ones before it in
// the same run included.
func TestMigrateFailureChangesNothing(t *testing.T) {
	u := testURL(t)
	db, err := Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, _ := store.LoadMigrations(migrationFiles)
	bad := append(ms, store.Migration{Version: len(ms) + 1, Name: "good.sql", SQL: `CREATE TABLE extra (x integer)`},
		store.Migration{Version: len(ms) + 2, Name: "bad.sql", SQL: `ALTER TABLE nonexistent ADD COLUMN y integer`})
	if err := migrate(t.Context(), db.pool, bad); err == nil || !strings.Contains(err.Error(), "bad.sql") {
		t.Fatalf("migrate: %v, want an error naming bad.sql", err)
	}
	var found bool
	if err := db.pool.QueryRow(t.Context(), `SELECT to_regclass('extra') IS NOT NULL`).Scan(&found); err != nil || found {
		t.Errorf("table extra exists: %v, %v", found, err)
	}
	if v, err := db.schemaVersion(t.Context()); err != nil || v != len(ms) {
		t.Errorf("schema version %d, %v; want %d", v, err, len(ms))
	}
}
