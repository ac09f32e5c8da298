package postgres

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/store/postgres/pgtest"
	"github.com/entente/entente/store/storetest"
)

// testURL returns the URL of a schema of its own (see pgtest.URL).
func testURL(t testing.TB) string { return pgtest.URL(t) }

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), testURL(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
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

// openTest opens a store on a schema of its own.
func openTest(t testing.TB, u string) *Store {
	t.Helper()
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

const testCollection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"

func setupCollection(t testing.TB, s *Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Path: "api1", Title: "API root"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCollection(ctx, store.Collection{ID: testCollection, APIRoot: "api1", Title: "c"}); err != nil {
		t.Fatal(err)
	}
}

// objectsOf returns n objects of a type, numbered from `from`.
func objectsOf(t testing.TB, typ string, from, n int) []*stix.Object {
	t.Helper()
	objs := make([]*stix.Object, n)
	for i := range objs {
		raw := fmt.Sprintf(`{"type":%q,"spec_version":"2.1","id":"%s--00000000-0000-4000-8000-%012d","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"n","pattern":"[ipv4-addr:value = '10.0.0.%d']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z","is_family":false}`,
			typ, typ, from+i, i%256)
		o, err := stix.Parse([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		objs[i] = o
	}
	return objs
}

func addAll(t testing.TB, s *Store, objs []*stix.Object) []store.AddOutcome {
	t.Helper()
	out, err := s.AddObjects(context.Background(), testCollection, objs)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
	}
	return out
}

// TestQueryPlans checks that every shape of listing reads through the index
// that bounds its work by about one page, never a scan of the table, on a
// collection that the statistics know to be large.
func TestQueryPlans(t *testing.T) {
	s := openTest(t, testURL(t))
	setupCollection(t, s)
	ctx := t.Context()
	// Another collection, ten times as large, written in turns with the
	// listed one: the collection is a filter worth an index.
	const other = "52892447-4d7e-4f70-b94d-d7f22742ff63"
	if err := s.CreateCollection(ctx, store.Collection{ID: other, APIRoot: "api1", Title: "other"}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		addAll(t, s, objectsOf(t, "indicator", 400*i, 400))
		if _, err := s.AddObjects(ctx, other, objectsOf(t, "indicator", 4000*i, 4000)); err != nil {
			t.Fatal(err)
		}
	}
	addAll(t, s, objectsOf(t, "malware", 0, 50))
	addAll(t, s, objectsOf(t, "tool", 0, 50))
	pk, err := s.collectionKey(ctx, s.pool, testCollection)
	if err != nil {
		t.Fatal(err)
	}
	added := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// A small collection, for which the planner reads the collection's
	// index rather than the primary key.
	const small = "0a7f5d3e-6a3c-4b7d-9c2e-5f1e8d2a4b6c"
	if err := s.CreateCollection(ctx, store.Collection{ID: small, APIRoot: "api1", Title: "small"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddObjects(ctx, small, objectsOf(t, "indicator", 0, 20)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	smallPK, err := s.collectionKey(ctx, s.pool, small)
	if err != nil {
		t.Fatal(err)
	}
	query, args := listQuery(smallPK, 0, store.Query{Limit: 1000})
	if plan := explain(t, s, query, args...); !strings.Contains(plan, "Index Scan using objects_collection on objects") {
		t.Errorf("plan of listing a small collection:\n%s\nwant the objects_collection index", plan)
	}
	const (
		// An ordered read, of the collection's index or of the primary
		// key (seq) skipping other collections' rows, as the planner
		// costs them.
		bySeq     = "Index Scan using objects_(collection|pkey) on objects"
		byType    = "Index Scan using objects_type on objects"
		byVersion = "using objects_version on objects"
	)
	for _, tc := range []struct {
		name   string
		q      store.Query
		want   []string // each must match the plan (regular expressions)
		sorted bool     // the plan may sort (the few versions of some ids)
	}{
		{"everything", store.Query{}, []string{bySeq}, false},
		{"one type", store.Query{Types: []string{"malware"}}, []string{byType}, false},
		{"two types", store.Query{Types: []string{"malware", "tool"}}, []string{"Merge Append", byType}, false},
		{"two types, one common", store.Query{Types: []string{"indicator", "tool"}}, []string{"Merge Append", byType}, false},
		{"ids", store.Query{IDs: []string{"a", "b"}, Versions: store.VersionFilter{All: true}}, []string{byVersion}, true},
		{"ids and types", store.Query{IDs: []string{"a"}, Types: []string{"indicator", "tool"}}, []string{byVersion}, true},
		{"added after", store.Query{AddedAfter: added}, []string{bySeq}, false},
		// An exact version may be anywhere: the read is of the
		// collection's part of an index, whichever the planner prefers.
		{"exact versions", store.Query{Versions: store.VersionFilter{Exact: []time.Time{added}}}, nil, true},
		{"spec versions", store.Query{SpecVersions: []string{"2.0", "2.1"}}, []string{bySeq}, false},
		// Types the statistics know to be rare are read through the type
		// index and sorted; common ones would be read in seq order.
		{"more types than are merged", store.Query{Types: manyTypes(maxMergedTypes + 1)}, []string{byType}, true},
		{"as many types as are merged", store.Query{Types: manyTypes(maxMergedTypes)}, []string{"Merge Append", byType}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Limit = 1000
			query, args := listQuery(pk, 10, tc.q)
			plan := explain(t, s, query, args...)
			for _, w := range tc.want {
				if !regexp.MustCompile(w).MatchString(plan) {
					t.Errorf("plan of %s\n%s\nlacks %q", query, plan, w)
				}
			}
			if strings.Contains(plan, "Seq Scan on objects") || strings.Contains(plan, "Bitmap Heap Scan on objects") {
				t.Errorf("plan of %s scans the table:\n%s", query, plan)
			}
			if !tc.sorted && sortNode.MatchString(plan) {
				t.Errorf("plan of %s sorts:\n%s", query, plan)
			}
		})
	}
	plan := explain(t, s, addedBoundQuery, pk, micros(added))
	if !strings.Contains(plan, "Index Only Scan Backward using objects_added") && !strings.Contains(plan, "Index Scan Backward using objects_added") {
		t.Errorf("plan of the added_after bound:\n%s\nwant a backward read of objects_added", plan)
	}
	plan = explain(t, s, `SELECT `+versionColumns+` FROM objects WHERE collection = $1 AND id = ANY($2)`, pk, []string{"a", "b"})
	if !strings.Contains(plan, byVersion) {
		t.Errorf("plan of the versions read:\n%s\nwant objects_version", plan)
	}
	// Recording the entries of received versions looks each up by seq.
	plan = explain(t, s, setLedgerIndex, []int64{5, 9}, []int64{1, 2})
	if !strings.Contains(plan, "Index Scan using objects_pkey on objects") || strings.Contains(plan, "Seq Scan on objects") {
		t.Errorf("plan of setting ledger indexes:\n%s\nwant primary key lookups", plan)
	}
}

// TestDisclosurePlans checks that reading disclosures costs lookups in an
// index, not a scan of every disclosure, on a table that the statistics
// know to be large.
func TestDisclosurePlans(t *testing.T) {
	s := openTest(t, testURL(t))
	ctx := t.Context()
	if _, err := s.pool.Exec(ctx, `INSERT INTO disclosures (party, object_id, version, node, digest, ledger_index)
		SELECT 'party-' || (i % 5), 'indicator--' || (i / 3), '2020', 'node-' || (i % 7), sha256(i::text::bytea), i
		FROM generate_series(1, 30000) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE disclosures"); err != nil {
		t.Fatal(err)
	}
	ids := []string{"indicator--1", "indicator--2"}
	for _, tc := range []struct {
		name  string
		query string
		args  []any
		want  string
	}{
		{"Disclosures to a party", disclosuresToParty, []any{"party-1", ids}, "disclosures_(pkey|object)"},
		{"Disclosures to every party", disclosuresToAll, []any{ids}, "disclosures_object"},
		{"Disclosed", disclosedQuery, []any{[]string{"party-1"}, []string{"node-1"}, ids[:1], []string{"2020"}, [][]byte{make([]byte, 32)}}, "disclosures_pkey"},
	} {
		plan := explain(t, s, tc.query, tc.args...)
		if !regexp.MustCompile(tc.want).MatchString(plan) || strings.Contains(plan, "Seq Scan on disclosures") {
			t.Errorf("plan of %s:\n%s\nwant %s, no scan", tc.name, plan, tc.want)
		}
	}
}

// sortNode matches a Sort node of a plan (not a Merge Append's sort key).
var sortNode = regexp.MustCompile(`(?m)^\s*(->\s+)?(Incremental )?Sort\s+\(`)

func manyTypes(n int) []string {
	types := make([]string, n)
	for i := range types {
		types[i] = fmt.Sprintf("x-type-%d", i)
	}
	return types
}

func explain(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	rows, _ := s.pool.Query(t.Context(), "EXPLAIN "+query, args...)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", query, err)
	}
	return strings.Join(lines, "\n")
}

// A database at schema version 1 (no ledger) with objects in it migrates:
// the versions stored before the ledger began are not listed as ledgered.
func TestMigrateFromVersion1(t *testing.T) {
	u := testURL(t)
	ctx := t.Context()
	ms, err := store.LoadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	err = migrate(ctx, pool, ms[:1])
	pool.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The schema of version 1 is what this version's store writes objects
	// into; write them as that version would have, with raw SQL.
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO api_roots (path, title, description, max_content_length) VALUES ('api1', 't', '', 0)`,
		`INSERT INTO collections (id, api_root, title, description, alias, media_types, object_count) VALUES ('` + testCollection + `', 1, 't', '', '', '[]', 2)`,
		`INSERT INTO objects (collection, id, type, version, version_key, versioned, spec_version, date_added, content_hash, is_first, is_last, top_spec, raw)
			VALUES (1, 'tool--1', 'tool', 'v', 'k1', true, '2.1', 1, '\x00', true, true, true, '{}'),
			       (1, 'tool--2', 'tool', 'v', 'k1', true, '2.1', 2, '\x00', true, true, true, '{}')`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close(ctx)

	s := openTest(t, u)
	if v, err := s.schemaVersion(ctx); err != nil || v != len(ms) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(ms))
	}
	if st, err := s.Stats(ctx); err != nil || st.Objects != 2 {
		t.Errorf("Stats after the migration: %+v, %v; want the 2 objects", st, err)
	}
	// Versions stored before the provenance columns have none, came from
	// no partner, and have no receipt entry.
	old, err := s.Objects(ctx, store.Query{Collection: testCollection, Limit: 10})
	if err != nil || len(old.Objects) != 2 {
		t.Fatalf("Objects after the migration: %+v, %v; want the 2 objects", old, err)
	}
	for _, o := range old.Objects {
		if o.Provenance != nil || o.FromParty != "" || o.FromNode != "" || o.LedgerIndex != -1 {
			t.Errorf("%s after the migration: provenance %q, from %q/%q, ledger index %d; want none, '', '', -1",
				o.ID, o.Provenance, o.FromParty, o.FromNode, o.LedgerIndex)
		}
	}
	out := addAll(t, s, objectsOf(t, "indicator", 0, 1))
	lo, err := s.LedgerObjects(ctx, 0, 10)
	if err != nil || len(lo) != 1 || lo[0].Seq != out[0].Seq {
		t.Errorf("LedgerObjects = %+v, %v; want only the version added after the migration (seq %d)", lo, err, out[0].Seq)
	}
}

// Two stores on one database, as two processes have: their writers take
// turns, so sequence numbers and date_added still increase together and a
// reader paging by seq misses nothing.
func TestTwoStores(t *testing.T) {
	u := testURL(t)
	a, b := openTest(t, u), openTest(t, u)
	setupCollection(t, a)
	ctx := t.Context()
	const perStore, batches = 200, 10
	var wg sync.WaitGroup
	for i, s := range []*Store{a, b} {
		wg.Go(func() {
			for j := range batches {
				n := perStore / batches
				if _, err := s.AddObjects(ctx, testCollection, objectsOf(t, "indicator", i*perStore+j*n, n)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	// A reader pages by seq while they write: every page continues
	// where the last ended, and the seqs it saw are never joined by a
	// lower one later.
	seen := map[int64]bool{}
	var after int64
	for len(seen) < 2*perStore {
		p, err := b.Objects(ctx, store.Query{Collection: testCollection, After: after, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Objects {
			seen[o.Seq] = true
			after = o.Seq
		}
	}
	wg.Wait()
	p, err := a.Objects(ctx, store.Query{Collection: testCollection, Limit: 10 * perStore})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Objects) != 2*perStore {
		t.Fatalf("stored %d objects, want %d", len(p.Objects), 2*perStore)
	}
	for i, o := range p.Objects {
		if !seen[o.Seq] {
			t.Errorf("the paging reader missed seq %d", o.Seq)
		}
		if i > 0 && !o.DateAdded.After(p.Objects[i-1].DateAdded) {
			t.Errorf("object %d: date_added %v not after %v", i, o.DateAdded, p.Objects[i-1].DateAdded)
		}
	}
}

// One process at a time holds a role; when the holder releases it, or its
// session dies, another takes it.
func TestLead(t *testing.T) {
	u := testURL(t)
	a, b := openTest(t, u), openTest(t, u)
	ctx := t.Context()
	heldA, releaseA, err := a.Lead(ctx, "signer")
	if err != nil {
		t.Fatal(err)
	}
	// A role of another name is free.
	if _, release, err := b.Lead(ctx, "other"); err != nil {
		t.Fatal(err)
	} else {
		release()
	}
	type lead struct {
		held    context.Context
		release func()
		err     error
	}
	got := make(chan lead, 1)
	go func() {
		held, release, err := b.Lead(ctx, "signer")
		got <- lead{held, release, err}
	}()
	select {
	case l := <-got:
		t.Fatalf("b took the role a holds: %v", l.err)
	case <-time.After(3 * leaderPoll):
	}
	releaseA()
	if heldA.Err() == nil {
		t.Error("a's hold is not done after release")
	}
	var lb lead
	select {
	case lb = <-got:
		if lb.err != nil {
			t.Fatal(lb.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("b did not take the role a released")
	}

	// b's session dies (as when its process is killed): b learns it lost
	// the role, and a takes it.
	var pid int32
	if err := a.pool.QueryRow(ctx, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND ((classid::bigint << 32) | objid::bigint) = $1`, leaderKey("signer")).Scan(&pid); err != nil {
		t.Fatalf("finding the holder's session: %v", err)
	}
	go func() {
		held, release, err := a.Lead(ctx, "signer")
		got <- lead{held, release, err}
	}()
	if _, err := a.pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lb.held.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("b's hold is not done after its session died")
	}
	lb.release()
	select {
	case la := <-got:
		if la.err != nil {
			t.Fatal(la.err)
		}
		la.release()
	case <-time.After(10 * time.Second):
		t.Fatal("a did not take the role b's dead session held")
	}
}

// TestAddObjectsRefusesNUL: an object whose id, or whose sender, is not
// text PostgreSQL can hold fails alone; the rest of the batch is stored.
func TestAddObjectsRefusesNUL(t *testing.T) {
	s := openTest(t, testURL(t))
	setupCollection(t, s)
	ctx := t.Context()
	good := objectsOf(t, "indicator", 0, 2)
	bad, err := stix.Parse([]byte(`{"type":"indicator","spec_version":"2.1","id":"indicator--\u0000","modified":"2026-01-01T00:00:00.000Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.AddObjects(ctx, testCollection, []*stix.Object{good[0], bad})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Err != nil || out[1].Err == nil || !strings.Contains(out[1].Err.Error(), "without NUL") {
		t.Errorf("AddObjects(good, id with NUL) = %+v; want the first stored and the second refused", out)
	}
	p, err := store.NewPut(good[1])
	if err != nil {
		t.Fatal(err)
	}
	p.FromParty, p.FromNode = "borealis", "b-1\xff"
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		out, err = tx.AddObjects(ctx, testCollection, []store.Put{p})
		return err
	})
	if err != nil || out[0].Err == nil || !strings.Contains(out[0].Err.Error(), "without NUL") {
		t.Errorf("Tx.AddObjects from node %q = %+v, %v; want the object refused", p.FromNode, out, err)
	}
}
