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
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env is the environment variable that names the test database, and
// ReplicaEnv the one that names a streaming replica of it.
const (
	Env        = "ENTENTE_TEST_POSTGRES"
	ReplicaEnv = "ENTENTE_TEST_POSTGRES_REPLICA"
)

// ReplicaURL returns the URL of the schema of primary (a URL from URL) on
// the streaming replica that ENTENTE_TEST_POSTGRES_REPLICA names; without
// that variable the test is skipped, saying how to run it.
func ReplicaURL(t testing.TB, primary string) string {
	t.Helper()
	base := os.Getenv(ReplicaEnv)
	if base == "" {
		t.Skip("no PostgreSQL replica: set " + ReplicaEnv + " to a postgres:// URL of a streaming replica of " + Env +
			"'s database (.ci/postgres replica starts one and prints it: export " + ReplicaEnv + "=$(.ci/postgres replica))")
	}
	p, err := url.Parse(primary)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", ReplicaEnv, err)
	}
	q := u.Query()
	q.Set("search_path", p.Query().Get("search_path"))
	u.RawQuery = q.Encode()
	return u.String()
}

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

// SetReplay pauses or resumes the replay of the replica at replica (a URL
// from ReplicaURL); resumed, it waits until the replica has replayed all
// that primary wrote until then. The first call of a test takes the
// replica for the test alone (tests of other packages may run at once)
// and leaves it replaying when the test ends.
func SetReplay(t testing.TB, primary, replica string, on bool) {
	t.Helper()
	ctx := context.Background()
	holdReplica(t, primary)
	r, err := pgx.Connect(ctx, replica)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	if !on {
		if _, err := r.Exec(ctx, `SELECT pg_wal_replay_pause()`); err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, err := r.Exec(ctx, `SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	p, err := pgx.Connect(ctx, primary)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	var lsn string
	// The insert position: with synchronous_commit off, a commit returns
	// before its WAL is written.
	if err := p.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&lsn); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		var done bool
		if err := r.QueryRow(ctx, `SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn`, lsn).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the replica did not catch up within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// replicaLock is the advisory lock a test holds while it controls the
// replica's replay.
const replicaLock int64 = 0x656e747265706c69 // "entrepli"

var holding sync.Map // testing.TB → struct{}: tests that hold the replica

// holdReplica takes the replica for t, once, until t ends.
func holdReplica(t testing.TB, primary string) {
	if _, held := holding.LoadOrStore(t, struct{}{}); held {
		return
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, primary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, replicaLock); err != nil {
		t.Fatal(err)
	}
	replica := os.Getenv(ReplicaEnv)
	t.Cleanup(func() {
		if r, err := pgx.Connect(ctx, replica); err == nil {
			if _, err := r.Exec(ctx, `SELECT pg_wal_replay_resume()`); err != nil {
				t.Error(err)
			}
			r.Close(ctx)
		}
		conn.Close(ctx) // releases the lock
		holding.Delete(t)
	})
}
