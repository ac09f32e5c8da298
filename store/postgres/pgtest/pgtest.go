// Package pgtest gives tests a PostgreSQL database of their own: a schema,
// dropped when the test ends, in the database that ENTENTE_TEST_POSTGRES
// names. Without that variable the test is skipped with a message that
// says how to run it, so PostgreSQL tests never pass silently.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Env is the environment variable that names the test database.
const Env = "ENTENTE_TEST_POSTGRES"

// URL returns the URL of a new schema in the test database, whose
// search_path makes the schema the connection's own; the schema is
// dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		t.Skip("no PostgreSQL: set " + Env + " to a postgres:// URL of a database the tests may change " +
			"(.ci/postgres starts a throwaway one and prints it: export " + Env + "=$(.ci/postgres))")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to %s: %v", Env, err)
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
		t.Fatalf("%s: %v", Env, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
