package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/store/postgres"
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
	// The node's key, recorded once by the first of the two processes,
	// and 5 objects.
	if code != 0 || !strings.HasPrefix(stdout, "ok: 6 entries") {
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

// federate gives the SQLite node in dir what federation stores: a version
// received from a partner (with its provenance and the ledger entry that
// records its receipt), a disclosure with its entry, a share, a cursor, a
// link's health and alerts; and a fired alarm of the case scheduler. It returns the received version's id.
func federate(t *testing.T, dir string) string {
	t.Helper()
	ctx := t.Context()
	st, err := openStore(ctx, dir, "", false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cols, err := st.Collections(ctx, node.DefaultAPIRoot)
	if err != nil {
		t.Fatal(err)
	}
	col := cols[0].ID
	p, err := store.NewPut(mustParse(t, stixIndicator(77, "2024-02-01T00:00:00.000Z")))
	if err != nil {
		t.Fatal(err)
	}
	p.Provenance = []byte(`{"origin":{"node":"borealis-cert","digest":"sha256:00","sig":"AA=="}}`)
	p.FromParty, p.FromNode = "borealis", "borealis-cert"
	disclosed := store.Disclosure{Party: "caledonia", Node: "caledonia-cert", ID: indicatorID(0),
		Version: "2024-01-01T00:00:00.000Z", Digest: ledger.Digest{1, 2, 3}}
	at := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	entry := func(ev ledger.Event, concerns string, object int64) store.LedgerRecord {
		enc, err := ledger.Entry{Time: at, Event: ev}.Encode()
		if err != nil {
			t.Fatal(err)
		}
		r := store.LedgerRecord{Entry: enc, Concerns: []string{concerns}, Object: object}
		rand.Read(r.Salt[:])
		return r
	}
	err = st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		out, err := tx.AddObjects(ctx, col, []store.Put{p})
		if err != nil || out[0].Err != nil {
			return fmt.Errorf("%v, %+v", err, out)
		}
		first, err := tx.AppendLedger(ctx, []store.LedgerRecord{
			entry(ledger.Received{From: "borealis", Node: "borealis-cert",
				Object: ledger.ObjectRef{ID: p.Object.ID, Version: out[0].Version, Digest: ledger.Digest(p.Hash)}}, "borealis", out[0].Seq),
			entry(ledger.Disclosed{To: disclosed.Party, Node: disclosed.Node, Agreement: "abc", Rule: "r1",
				Object: ledger.ObjectRef{ID: disclosed.ID, Version: disclosed.Version, Digest: disclosed.Digest}}, "caledonia", 0),
		})
		if err != nil {
			return err
		}
		disclosed.Ledger = first + 1
		return tx.AddDisclosures(ctx, []store.Disclosure{disclosed})
	})
	if err != nil {
		t.Fatalf("storing a received version and a disclosure: %v", err)
	}
	if err := st.AddShare(ctx, store.Share{Party: "borealis", Collection: col, Right: store.RightWrite}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveCursor(ctx, "borealis-cert", "c0ffee00-0000-4000-8000-000000000000", at); err != nil {
		t.Fatal(err)
	}
	if err := st.PutLinkHealth(ctx, store.LinkHealth{Node: "borealis-cert", Party: "borealis", Log: "borealis.example/ledger",
		State: "idle", LastAttempt: at, Pending: true, Stored: 3, LastError: "a partner's error", Updated: at}); err != nil {
		t.Fatal(err)
	}
	err = st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.MarkFired(ctx, []store.FiredAlarm{{Key: "case-1/ack/breach", Case: "case-1", Due: at, Fired: at.Add(time.Second)}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"violation", "replay"} {
		if _, err := st.AddAlert(ctx, store.Alert{Time: at, Party: "borealis", Node: "borealis-cert", Kind: kind, Detail: "why", Entry: -1}); err != nil {
			t.Fatal(err)
		}
	}
	return p.Object.ID
}

// store copy moves a SQLite node to PostgreSQL with its objects (sequence
// numbers and date_added kept, and what federation stores beside them),
// accounts, statuses, ledger, shares, disclosures, cursors, link health,
// alerts and fired alarms, and the copied ledger verifies.
func TestStoreCopy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node; skipped under -short")
	}
	db := pgtest.URL(t)
	dir := ledgerNode(t)
	received := federate(t, dir)
	code, stdout, stderr := runCmd(t, "store", "copy", "--from", "sqlite:"+dir, "--to", db)
	if code != 0 || !strings.Contains(stdout, "copied 15 rows of objects") || !strings.Contains(lastLine(stdout), "ok: 17 entries") { // with the node key's entry
		t.Fatalf("store copy: exit %d\n%s%s", code, stdout, stderr)
	}
	ctx := t.Context()
	src, err := openStore(ctx, dir, "", false)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := openStore(ctx, dir, db, false)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	same := func(what string, a, b any, errA, errB error) {
		t.Helper()
		if errA != nil || errB != nil {
			t.Fatalf("%s: %v, %v", what, errA, errB)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s differ:\nsqlite:   %+v\npostgres: %+v", what, a, b)
		}
	}
	rootsA, errA := src.APIRoots(ctx)
	rootsB, errB := dst.APIRoots(ctx)
	same("API roots", rootsA, rootsB, errA, errB)
	colsA, errA := src.Collections(ctx, node.DefaultAPIRoot)
	colsB, errB := dst.Collections(ctx, node.DefaultAPIRoot)
	same("collections", colsA, colsB, errA, errB)
	q := store.Query{Collection: colsA[0].ID, Versions: store.VersionFilter{All: true}, SpecVersions: []string{"2.1"}, Limit: 1000}
	objsA, errA := src.Objects(ctx, q)
	objsB, errB := dst.Objects(ctx, q)
	same("objects", objsA, objsB, errA, errB)
	var got store.Object
	for _, o := range objsB.Objects {
		if o.ID == received {
			got = o
		}
	}
	if got.FromParty != "borealis" || got.FromNode != "borealis-cert" || got.Provenance == nil || got.LedgerIndex != 15 {
		t.Errorf("the received version's copy: from %q/%q, provenance %q, ledger index %d; want borealis/borealis-cert, a provenance and 15 (after the node key's entry)",
			got.FromParty, got.FromNode, got.Provenance, got.LedgerIndex)
	}
	if objsA.Objects[0].Provenance == nil {
		t.Errorf("the first version, which the node originated, has no provenance: the copy compares too little")
	}
	sharesA, errA := src.Shares(ctx, "")
	sharesB, errB := dst.Shares(ctx, "")
	same("shares", sharesA, sharesB, errA, errB)
	discA, errA := src.Disclosures(ctx, "", []string{indicatorID(0)})
	discB, errB := dst.Disclosures(ctx, "", []string{indicatorID(0)})
	same("disclosures", discA, discB, errA, errB)
	cursorsA, errA := src.Cursors(ctx)
	cursorsB, errB := dst.Cursors(ctx)
	same("cursors", cursorsA, cursorsB, errA, errB)
	linksA, errA := src.LinkHealth(ctx)
	linksB, errB := dst.LinkHealth(ctx)
	same("link health", linksA, linksB, errA, errB)
	alertsA, errA := src.Alerts(ctx, 0, 100)
	alertsB, errB := dst.Alerts(ctx, 0, 100)
	same("alerts", alertsA, alertsB, errA, errB)
	firedA, errA := src.FiredAlarms(ctx)
	firedB, errB := dst.FiredAlarms(ctx)
	same("fired alarms", firedA, firedB, errA, errB)
	keysA, errA := src.KeyRecords(ctx, 100)
	keysB, errB := dst.KeyRecords(ctx, 100)
	same("recorded node keys", keysA, keysB, errA, errB)
	agreementsA, errA := src.AgreementRecords(ctx, 100)
	agreementsB, errB := dst.AgreementRecords(ctx, 100)
	same("recorded agreements", agreementsA, agreementsB, errA, errB)
	for what, n := range map[string]int{"shares": len(sharesB), "disclosures": len(discB), "cursors": len(cursorsB), "links": len(linksB),
		"alerts": len(alertsB), "fired alarms": len(firedB), "node keys": len(keysB)} {
		if n == 0 {
			t.Errorf("no %s copied: the comparison proves nothing", what)
		}
	}
	adminA, errA := src.Account(ctx, node.AdminAccount)
	adminB, errB := dst.Account(ctx, node.AdminAccount)
	same("admin accounts", adminA, adminB, errA, errB)
	cpsA, errA := src.Checkpoints(ctx, 0, 100)
	cpsB, errB := dst.Checkpoints(ctx, 0, 100)
	same("checkpoints", cpsA, cpsB, errA, errB)
	recsA, errA := src.LedgerRecords(ctx, 0, 100)
	recsB, errB := dst.LedgerRecords(ctx, 0, 100)
	same("ledger records", recsA, recsB, errA, errB)

	// The copy goes on where the source stopped.
	out, err := dst.AddObjects(ctx, colsA[0].ID, []*stix.Object{mustParse(t, stixIndicator(99, "2024-01-01T00:00:00.000Z"))})
	if err != nil || out[0].Err != nil {
		t.Fatalf("AddObjects on the copy: %v, %+v", err, out)
	}
	last := objsA.Objects[len(objsA.Objects)-1]
	if out[0].Seq <= last.Seq || !out[0].DateAdded.After(last.DateAdded) {
		t.Errorf("the copy's first new version: seq %d, added %v; want after seq %d, %v", out[0].Seq, out[0].DateAdded, last.Seq, last.DateAdded)
	}
	if id, err := dst.AddAlert(ctx, store.Alert{Time: time.Now(), Party: "borealis", Kind: "replay"}); err != nil || id <= alertsA[len(alertsA)-1].ID {
		t.Errorf("the copy's first new alert: id %d, %v; want after %d", id, err, alertsA[len(alertsA)-1].ID)
	}

	// A database that holds a node is not copied into.
	code, _, stderr = runCmd(t, "store", "copy", "--from", "sqlite:"+dir, "--to", db)
	if code != 1 || !strings.Contains(stderr, "holds a node already") {
		t.Errorf("a second store copy: exit %d, %s; want 1 and a refusal", code, stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"store", "copy", "--from", dir, "--to", db}, "want sqlite:DIR"},
		{[]string{"store", "copy", "--from", "sqlite:" + dir, "--to", "sqlite:x"}, "want a postgres:// URL"},
		{[]string{"store", "move"}, "unknown subcommand"},
	} {
		if code, _, stderr := runCmd(t, tc.args...); code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %s; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

func mustParse(t *testing.T, raw json.RawMessage) *stix.Object {
	t.Helper()
	o, err := stix.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// Processes that start together on an empty database initialize the node
// once between them: every Initialize succeeds, one creates the admin.
func TestInitializeTogether(t *testing.T) {
	db := pgtest.URL(t)
	ctx := t.Context()
	const n = 8
	stores := make([]*postgres.Store, n)
	for i := range stores {
		st, err := postgres.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		stores[i] = st
	}
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		inits = make([]*node.Initialized, n)
		errs  = make([]error, n)
	)
	for i, st := range stores {
		wg.Go(func() {
			<-start
			inits[i], errs[i] = node.Initialize(ctx, st, time.Now())
		})
	}
	close(start)
	wg.Wait()
	tokens, collection := 0, ""
	for i, err := range errs {
		if err != nil {
			t.Errorf("Initialize %d: %v", i, err)
			continue
		}
		if inits[i].AdminToken != "" {
			tokens++
		}
		if collection == "" {
			collection = inits[i].CollectionID
		} else if inits[i].CollectionID != collection {
			t.Errorf("Initialize %d found collection %s, another %s", i, inits[i].CollectionID, collection)
		}
	}
	if tokens != 1 {
		t.Errorf("%d admin tokens; want one", tokens)
	}
	if cols, err := stores[0].Collections(ctx, node.DefaultAPIRoot); err != nil || len(cols) != 1 {
		t.Errorf("collections after initializing together: %+v, %v; want one", cols, err)
	}
}

// serve --store-replica reads from the replica, except a caller's own
// writes, which it reads from the primary until the replica has them.
func TestServeReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node; skipped under -short")
	}
	t.Setenv(storeEnv, "")
	db := pgtest.URL(t)
	replica := pgtest.ReplicaURL(t, db)
	dir := t.TempDir()
	n := startServe(t, dir, "--store", db, "--store-replica", replica)
	code, stdout, stderr := runCmd(t, "user", "add", "--data", dir, "--store", db, "rita", "--role", "reader")
	if code != 0 {
		t.Fatalf("user add: %s", stderr)
	}
	rita := lastLine(stdout)
	if code, _, stderr := runCmd(t, "user", "grant", "--data", dir, "--store", db, "rita", node.DefaultCollectionAlias, "read"); code != 0 {
		t.Fatalf("user grant: %s", stderr)
	}
	pgtest.SetReplay(t, db, replica, true)

	pgtest.SetReplay(t, db, replica, false)
	ctx := t.Context()
	admin, reader := taxiiClient(t, n, n.adminToken), taxiiClient(t, n, rita)
	objs := []json.RawMessage{stixIndicator(1, "2024-01-01T00:00:00.000Z"), stixIndicator(2, "2024-01-01T00:00:00.000Z")}
	st, err := admin.AddObjects(ctx, node.DefaultAPIRoot, node.DefaultCollectionAlias, objs)
	if err != nil || st.SuccessCount != 2 {
		t.Fatalf("AddObjects: %+v, %v", st, err)
	}
	count := func(c *taxii.Client) int {
		t.Helper()
		env, _, err := c.Objects(ctx, node.DefaultAPIRoot, node.DefaultCollectionAlias, taxii.Query{})
		if err != nil {
			t.Fatal(err)
		}
		return len(env.Objects)
	}
	if got := count(admin); got != 2 {
		t.Errorf("the writer lists %d objects right after its POST; want its own 2", got)
	}
	if _, err := admin.Status(ctx, node.DefaultAPIRoot, st.ID); err != nil {
		t.Errorf("the writer's status right after its POST: %v", err)
	}
	if got := count(reader); got != 0 {
		t.Errorf("another account lists %d objects while the replica is paused; want the replica's 0", got)
	}
	pgtest.SetReplay(t, db, replica, true)
	if got := count(reader); got != 2 {
		t.Errorf("another account lists %d objects once the replica caught up; want 2", got)
	}

	if code, _, stderr := runCmd(t, "serve", "--data", t.TempDir(), "--store-replica", replica); code != 2 || !strings.Contains(stderr, "needs --store") {
		t.Errorf("serve --store-replica without --store: exit %d, %s", code, stderr)
	}
}
