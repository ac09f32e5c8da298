package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/entente/entente/node"
	"github.com/entente/entente/store/postgres/pgtest"
	"github.com/entente/entente/taxii"
)

func taxiiClient(t *testing.T, n *runningNode, token string) *taxii.Client {
	t.Helper()
	c, err := taxii.NewClient(n.base+"/", taxii.ClientOptions{Token: token, HTTPClient: n.client})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Two serve processes share one node on PostgreSQL: one data directory (the
// key), one database. What one writes the other serves; a status and a
// next token of one work at the other; the administration commands take
// --store, or $ENTENTE_STORE.
func TestServePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nodes; skipped under -short")
	}
	db := pgtest.URL(t)
	dir := t.TempDir()
	a := startServe(t, dir, "--store", db, "--checkpoint-interval", "10ms")
	if a.adminToken == "" {
		t.Fatalf("the first start on an empty database printed no admin token:\n%s", a.stdout)
	}
	b := startServe(t, dir, "--store", db, "--checkpoint-interval", "10ms")
	if b.adminToken != "" {
		t.Errorf("the second process initialized the node again:\n%s", b.stdout)
	}
	if b.fingerprint != a.fingerprint {
		t.Errorf("the processes serve different certificates: %s, %s", a.fingerprint, b.fingerprint)
	}
	ctx := t.Context()
	ca, cb := taxiiClient(t, a, a.adminToken), taxiiClient(t, b, a.adminToken)
	var objs []json.RawMessage
	for i := range 5 {
		objs = append(objs, stixIndicator(i, "2024-01-01T00:00:00.000Z"))
	}
	st, err := ca.AddObjects(ctx, node.DefaultAPIRoot, node.DefaultCollectionAlias, objs)
	if err != nil || st.SuccessCount != len(objs) {
		t.Fatalf("AddObjects at the first process: %+v, %v", st, err)
	}
	if got, err := cb.Status(ctx, node.DefaultAPIRoot, st.ID); err != nil || got.SuccessCount != len(objs) {
		t.Errorf("the status at the second process: %+v, %v", got, err)
	}
	// A page from one process, the next page from the other.
	env, page, err := cb.Objects(ctx, node.DefaultAPIRoot, node.DefaultCollectionAlias, taxii.Query{Limit: 2})
	if err != nil || len(env.Objects) != 2 || !env.More || env.Next == "" {
		t.Fatalf("the first page at the second process: %+v, %+v, %v", env, page, err)
	}
	seen := 2
	for next := env.Next; next != ""; {
		env, _, err := ca.Objects(ctx, node.DefaultAPIRoot, node.DefaultCollectionAlias, taxii.Query{Limit: 2, Next: next})
		if err != nil {
			t.Fatalf("following the second process's next token at the first: %v", err)
		}
		seen += len(env.Objects)
		next = env.Next
	}
	if seen != len(objs) {
		t.Errorf("paging across the processes listed %d objects, want %d", seen, len(objs))
	}

	// The administration commands, with --store and with $ENTENTE_STORE.
	code, stdout, stderr := runCmd(t, "user", "add", "--data", dir, "--store", db, "carol", "--role", "reader")
	if code != 0 {
		t.Fatalf("user add --store: exit %d: %s", code, stderr)
	}
	carol := lastLine(stdout)
	if code, _, stderr := runCmd(t, "user", "grant", "--data", dir, "--store", db, "carol", node.DefaultCollectionAlias, "read"); code != 0 {
		t.Fatalf("user grant --store: exit %d: %s", code, stderr)
	}
	if env, _, err := taxiiClient(t, b, carol).Objects(ctx, node.DefaultAPIRoot, node.DefaultCollectionAlias, taxii.Query{}); err != nil || len(env.Objects) != len(objs) {
		t.Errorf("carol's read at the second process: %v, %v", env, err)
	}
	t.Setenv(storeEnv, db)
	if code, stdout, stderr := runCmd(t, "collection", "add", "--data", dir, "Sightings"); code != 0 || lastLine(stdout) == "" {
		t.Errorf("collection add with $%s: exit %d: %s", storeEnv, code, stderr)
	}
	if cols, err := cb.Collections(ctx, node.DefaultAPIRoot); err != nil || len(cols) != 2 {
		t.Errorf("the collections at the second process: %+v, %v; want the new one too", cols, err)
	}
	a.stop()
	<-a.done
	a.done <- 0 // for the cleanup
	b.stop()
	<-b.done
	b.done <- 0
	code, stdout, stderr = runCmd(t, "ledger", "verify", "--data", dir)
	if code != 0 || !strings.HasPrefix(stdout, "ok: 5 entries") {
		t.Errorf("ledger verify with $%s: exit %d\n%s%s", storeEnv, code, stdout, stderr)
	}
}

func TestStoreFlagErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(storeEnv, "")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"user", "add", "--data", dir, "--store", "mysql://u:secret@db/x", "carol", "--role", "reader"}, 2, "want a postgres:// URL"},
		{[]string{"witness", "list", "--data", dir, "--store", "sqlite:" + dir}, 2, "want a postgres:// URL"},
	} {
		code, _, stderr := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
		if strings.Contains(stderr, "secret") {
			t.Errorf("%v: the message shows the password: %s", tc.args, stderr)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw@db:5432/x?sslmode=disable": "postgres://u:xxxxx@db:5432/x?sslmode=disable",
		"postgres://u@db/x":                         "postgres://u@db/x",
		"postgres://db/x@y":                         "postgres://db/x@y",
		"host=db":                                   "host=db",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
