package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/store/storetest"
)

func openTemp(t testing.TB, opts ...Option) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "entente.db")
	s, err := Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, path
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t)
		return s
	})
}

func TestMigrationNumbering(t *testing.T) {
	if _, err := loadMigrations(migrationFiles); err != nil {
		t.Fatalf("the embedded migrations: %v", err)
	}
	file := &fstest.MapFile{Data: []byte("SELECT 1;")}
	for _, tc := range []struct {
		name  string
		files []string
		want  string // substring of the error; "" for success
	}{
		{"one", []string{"0001_init.sql"}, ""},
		{"three", []string{"0001_init.sql", "0002_more.sql", "0003_again.sql"}, ""},
		{"none", nil, "no NNNN_description.sql"},
		{"gap", []string{"0001_init.sql", "0003_skip.sql"}, "numbered 3, want 2"},
		{"repeat", []string{"0001_init.sql", "0001_other.sql"}, "numbered 1, want 2"},
		{"zero", []string{"0000_init.sql"}, "numbered 0, want 1"},
		{"not from 1", []string{"0002_init.sql"}, "numbered 2, want 1"},
		{"three digits", []string{"001_init.sql"}, "want a file named NNNN_description.sql"},
		{"upper case", []string{"0001_Init.sql"}, "want a file named"},
		{"other extension", []string{"0001_init.up.sql"}, "want a file named"},
		{"stray file", []string{"0001_init.sql", "README"}, "migrations/README"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"migrations": &fstest.MapFile{Mode: os.ModeDir}}
			for _, f := range tc.files {
				fsys["migrations/"+f] = file
			}
			ms, err := loadMigrations(fsys)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("loadMigrations(%v): %v", tc.files, err)
			case tc.want == "" && len(ms) != len(tc.files):
				t.Fatalf("loadMigrations(%v) loaded %d", tc.files, len(ms))
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("loadMigrations(%v) = %v, want an error containing %q", tc.files, err, tc.want)
			}
		})
	}
}

func TestOpenTwiceAndNewerSchema(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Path: "api1", Title: "t", MaxContentLength: 1}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Reopening applies nothing again and keeps the data.
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	if _, err := s.APIRoot(ctx, "api1"); err != nil {
		t.Errorf("after reopening: %v", err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "newer entente") {
		t.Errorf("opening a database from a newer schema: %v, want a hint to upgrade", err)
	}
	// The database is the file asked for, not a name the URI escaping made up.
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file: %v", err)
	}
}

func TestOpenOddPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a dir?with #odd%chars", "e.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("Open(%q) did not create that file: %v", path, err)
	}
}

func TestPragmas(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	for _, tc := range []struct {
		db     string
		pragma string
		want   string
	}{
		{"writer", "journal_mode", "wal"},
		{"writer", "synchronous", "1"}, // NORMAL
		{"writer", "foreign_keys", "1"},
		{"writer", "busy_timeout", "10000"},
		{"reader", "query_only", "1"},
		{"reader", "busy_timeout", "10000"},
	} {
		db := s.w
		if tc.db == "reader" {
			db = s.r
		}
		var got string
		if err := db.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("%s: PRAGMA %s = %s, want %s", tc.db, tc.pragma, got, tc.want)
		}
	}
}

// TestFrozenClock adds objects while the clock stands still, then while it
// steps back: date_added must still strictly increase.
func TestFrozenClock(t *testing.T) {
	var (
		mu  sync.Mutex
		now = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, _ := openTemp(t, WithClock(clock))
	defer s.Close()
	coll := setupCollection(t, s)

	var first []store.AddOutcome
	for batch := range 3 {
		out := addIndicators(t, s, coll, batch*100, 100)
		first = append(first, out...)
		mu.Lock()
		now = now.Add(-time.Second)
		mu.Unlock()
	}
	for i, o := range first {
		want := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Microsecond)
		if !o.DateAdded.Equal(want) {
			t.Fatalf("object %d: date_added %v, want %v (one microsecond after the previous)", i, o.DateAdded, want)
		}
	}
}

// TestTwoProcesses opens the same file twice, as `entente user add` does
// beside `entente serve`, and writes through both at once.
func TestTwoProcesses(t *testing.T) {
	a, path := openTemp(t)
	defer a.Close()
	b, err := Open(t.Context(), path, WithBusyTimeout(time.Minute))
	if err != nil {
		t.Fatalf("opening the file a second time: %v", err)
	}
	defer b.Close()
	coll := setupCollection(t, a)

	const batches = 20
	var wg sync.WaitGroup
	for w, s := range []*Store{a, b} {
		wg.Go(func() {
			for i := range batches {
				addIndicators(t, s, coll, (w*batches+i)*10, 10)
			}
		})
	}
	wg.Go(func() {
		for i := range 10 {
			acct := store.Account{Name: fmt.Sprint("user", i), Role: store.RoleReader, TokenHash: []byte(fmt.Sprint("hash", i))}
			if err := b.CreateAccount(context.Background(), acct); err != nil {
				t.Errorf("CreateAccount through the second handle: %v", err)
			}
		}
	})
	wg.Wait()

	p, err := a.Objects(t.Context(), store.Query{Collection: coll, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Objects) != 2*batches*10 {
		t.Errorf("stored %d objects, want %d", len(p.Objects), 2*batches*10)
	}
	for i := 1; i < len(p.Objects); i++ {
		if !p.Objects[i].DateAdded.After(p.Objects[i-1].DateAdded) {
			t.Fatalf("object %d: date_added %v not after %v", i, p.Objects[i].DateAdded, p.Objects[i-1].DateAdded)
		}
	}
	if _, err := a.Account(t.Context(), "user9"); err != nil {
		t.Errorf("an account created through the other handle: %v", err)
	}
}

func TestClosedStore(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APIRoots(t.Context()); err == nil {
		t.Error("APIRoots on a closed store succeeded")
	}
	if _, err := s.AddObjects(t.Context(), "x", nil); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddObjects on a closed store: %v, want a database error", err)
	}
}

const testCollection = "c6a4a3e2-6bd1-4c1c-9d41-8e1e1b0c0a11"

func setupCollection(t testing.TB, s *Store) string {
	t.Helper()
	ctx := context.Background()
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Path: "api1", Title: "t", MaxContentLength: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCollection(ctx, store.Collection{ID: testCollection, APIRoot: "api1", Title: "c"}); err != nil {
		t.Fatal(err)
	}
	return testCollection
}

// indicator returns the JSON of a realistic indicator, numbered n.
func indicator(n int) []byte {
	return fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-000000000000",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Malicious site %d",`+
		`"pattern":"[domain-name:value = 'evil%d.example.com']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z",`+
		`"indicator_types":["malicious-activity"],"labels":["benchmark"]}`, n, n, n)
}

func indicators(t testing.TB, from, n int) []*stix.Object {
	t.Helper()
	objs := make([]*stix.Object, n)
	for i := range objs {
		o, err := stix.Parse(indicator(from + i))
		if err != nil {
			t.Fatal(err)
		}
		objs[i] = o
	}
	return objs
}

func addIndicators(t testing.TB, s *Store, coll string, from, n int) []store.AddOutcome {
	t.Helper()
	out, err := s.AddObjects(context.Background(), coll, indicators(t, from, n))
	if err != nil {
		t.Errorf("AddObjects: %v", err)
		return nil
	}
	for i, o := range out {
		if o.Err != nil || o.Duplicate {
			t.Errorf("object %d: %+v, want added", from+i, o)
		}
	}
	return out
}

// TestQueryPlans checks that every shape of listing reads through an index
// that bounds the work by about one page, never a scan of the collection: on
// a million objects that is the difference between milliseconds and seconds.
func TestQueryPlans(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	setupCollection(t, s)
	addIndicators(t, s, testCollection, 0, 10)
	pk, err := s.collectionKey(t.Context(), s.r, testCollection)
	if err != nil {
		t.Fatal(err)
	}
	added := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		q    store.Query
		want []string // each must appear in the plan
	}{
		{"everything", store.Query{}, []string{"USING INDEX objects_collection (collection=? AND seq>?)"}},
		{"one type", store.Query{Types: []string{"indicator"}}, []string{"USING INDEX objects_type (collection=? AND type=? AND seq>?)"}},
		{"two types", store.Query{Types: []string{"indicator", "malware"}}, []string{"USING INDEX objects_type (collection=? AND type=? AND seq>?)"}},
		{"ids", store.Query{IDs: []string{"a", "b"}, Versions: store.VersionFilter{All: true}}, []string{"USING INDEX objects_version (collection=? AND id=?)"}},
		{"ids and types", store.Query{IDs: []string{"a"}, Types: []string{"indicator", "tool"}}, []string{"USING INDEX objects_version (collection=? AND id=?)"}},
		{"added after", store.Query{AddedAfter: added}, []string{"USING INDEX objects_collection (collection=? AND seq>?)"}},
		{"one type added after", store.Query{Types: []string{"indicator"}, AddedAfter: added}, []string{"USING INDEX objects_type (collection=? AND type=? AND seq>?)"}},
		{"exact versions", store.Query{Versions: store.VersionFilter{Exact: []time.Time{added}}}, []string{"USING INDEX objects_collection (collection=? AND seq>?)"}},
		{"more types than are merged", store.Query{Types: manyTypes(maxMergedTypes + 1)}, []string{"USING INDEX objects_collection (collection=? AND seq>?)"}},
		{"as many types as are merged", store.Query{Types: manyTypes(maxMergedTypes)}, []string{"USING INDEX objects_type (collection=? AND type=? AND seq>?)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Limit = 1000
			query, args := listQuery(pk, 0, tc.q)
			plan := explain(t, s, query, args...)
			for _, w := range tc.want {
				if !strings.Contains(plan, w) {
					t.Errorf("plan of %s\n%s\nlacks %q", query, plan, w)
				}
			}
			if strings.Contains(plan, "SCAN objects") {
				t.Errorf("plan of %s scans the table:\n%s", query, plan)
			}
		})
	}
	plan := explain(t, s, addedBoundQuery, pk, 0)
	if !strings.Contains(plan, "USING COVERING INDEX objects_added") || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("plan of the added_after bound:\n%s\nwant it to use objects_added", plan)
	}
}

func manyTypes(n int) []string {
	types := make([]string, n)
	for i := range types {
		types[i] = fmt.Sprintf("x-type-%d", i)
	}
	return types
}

func explain(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN %s: %v", query, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var (
			id, parent, unused int
			detail             string
		)
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d %d %s\n", id, parent, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestOtherProcess writes from a child process, as `entente user add` does
// beside `entente serve`, while this process writes too: SQLite's file
// locks and the busy timeout must serialize them, and date_added must
// still strictly increase.
func TestOtherProcess(t *testing.T) {
	if path := os.Getenv("ENTENTE_SQLITE_CHILD"); path != "" {
		childProcess(t, path)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	s, path := openTemp(t)
	defer s.Close()
	coll := setupCollection(t, s)

	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestOtherProcess$")
	cmd.Env = append(os.Environ(), "ENTENTE_SQLITE_CHILD="+path)
	var output strings.Builder
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		addIndicators(t, s, coll, i*10, 10)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child process: %v\n%s", err, output.String())
	}

	p, err := s.Objects(t.Context(), store.Query{Collection: coll, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Objects) != 400 {
		t.Errorf("stored %d objects, want 200 from each process", len(p.Objects))
	}
	for i := 1; i < len(p.Objects); i++ {
		if !p.Objects[i].DateAdded.After(p.Objects[i-1].DateAdded) {
			t.Fatalf("object %d: date_added %v not after %v", i, p.Objects[i].DateAdded, p.Objects[i-1].DateAdded)
		}
	}
	if _, err := s.Account(t.Context(), "child"); err != nil {
		t.Errorf("the account the child process created: %v", err)
	}
}

func childProcess(t *testing.T, path string) {
	s, err := Open(t.Context(), path, WithBusyTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 20 {
		addIndicators(t, s, testCollection, 1000+i*10, 10)
	}
	if err := s.CreateAccount(t.Context(), store.Account{Name: "child", Role: store.RoleAdmin, TokenHash: []byte("child's token hash")}); err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		path string
		opts []Option
		want string
	}{
		{"no path", "", nil, "needs a database file path"},
		{"in memory", ":memory:", nil, "needs a database file path"},
		{"no readers", filepath.Join(dir, "a.db"), []Option{WithReaders(0)}, "want at least 1 reader"},
		{"missing directory", filepath.Join(dir, "missing", "a.db"), nil, filepath.Join(dir, "missing", "a.db")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(t.Context(), tc.path, tc.opts...)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", tc.path)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open(%q): %v, want it to mention %q", tc.path, err, tc.want)
			}
		})
	}
}

// TestFileModes checks that the database and its WAL companions are
// readable by their owner only: they hold token hashes and every object.
// A file left readable by an earlier version is tightened on open.
func TestFileModes(t *testing.T) {
	s, path := openTemp(t)
	mustAdd(t, s)
	check := func() {
		t.Helper()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
			}
		}
	}
	check()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustAdd(t, s)
	check()
}

// mustAdd stores one object in a new collection, so that the WAL files
// exist.
func mustAdd(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	root := fmt.Sprintf("r%d", time.Now().UnixNano())
	col := "c-" + root
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Path: root, Title: "r", MaxContentLength: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCollection(ctx, store.Collection{ID: col, APIRoot: root, Title: "c"}); err != nil {
		t.Fatal(err)
	}
	o, err := stix.Parse([]byte(`{"type":"ipv4-addr","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddObjects(ctx, col, []*stix.Object{o}); err != nil {
		t.Fatal(err)
	}
}

// TestMigrationKeepsAccounts opens a database made by the first schema,
// whose accounts table listed the roles in a CHECK, and checks that the
// accounts survive the rebuild that drops it and start without grants.
func TestMigrationKeepsAccounts(t *testing.T) {
	ctx := t.Context()
	s := openBefore(t, "_grants.sql",
		`INSERT INTO accounts (name, role, token_hash, created) VALUES ('rita', 'reader', x'0102', 7)`)
	a, err := s.AccountByTokenHash(ctx, []byte{1, 2})
	if err != nil || a.Name != "rita" || a.Role != store.RoleReader || a.Created.UnixMicro() != 7 {
		t.Errorf("account after the migration = %+v, %v", a, err)
	}
	if gs, err := s.Grants(ctx, "rita"); err != nil || len(gs) != 0 {
		t.Errorf("grants after the migration = %v, %v; want none", gs, err)
	}
}

// TestStatsReadsNoObjects checks that Stats, which every metrics scrape
// calls, reads the per-collection counts and not the objects table.
func TestStatsReadsNoObjects(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	setupCollection(t, s)
	addIndicators(t, s, testCollection, 0, 10)
	plan := explain(t, s, statsQuery)
	if strings.Contains(plan, "objects") {
		t.Errorf("plan of %s reads the objects:\n%s", statsQuery, plan)
	}
	if st, err := s.Stats(t.Context()); err != nil || st.Objects != 10 {
		t.Errorf("Stats = %+v, %v; want 10 objects", st, err)
	}
}

// openBefore migrates a new database up to, not including, the migration
// whose file name ends in suffix, runs the statements to put data in it as
// that schema had it, and opens it as a Store, which runs the remaining
// migrations.
func openBefore(t *testing.T, suffix string, stmts ...string) *Store {
	t.Helper()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "entente.db")
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, url.Values{"_pragma": {"foreign_keys(ON)"}}))
	if err != nil {
		t.Fatal(err)
	}
	before := slices.IndexFunc(ms, func(m migration) bool { return strings.HasSuffix(m.Name, suffix) })
	if before < 0 {
		t.Fatalf("no migration named *%s", suffix)
	}
	if err := migrate(ctx, db, ms[:before]); err != nil {
		t.Fatal(err)
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("migrating: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestMigrationCountsObjects opens a database whose objects were stored
// before collections counted them.
func TestMigrationCountsObjects(t *testing.T) {
	s := openBefore(t, "_object_counts.sql",
		`INSERT INTO api_roots (pk, path, title, description, max_content_length) VALUES (1, 'api1', 't', '', 1)`,
		`INSERT INTO collections (pk, id, api_root, title, description, alias, media_types) VALUES (1, 'a', 1, 't', '', '', '[]'), (2, 'b', 1, 't', '', '', '[]')`,
		`INSERT INTO objects (collection, id, type, version, version_key, versioned, spec_version, date_added, content_hash, is_first, is_last, top_spec, raw)
			VALUES (1, 'x--1', 'x', 'v', 'v1', 1, '2.1', 1, x'00', 1, 1, 1, x'7b7d'), (1, 'x--1', 'x', 'v', 'v2', 1, '2.1', 2, x'00', 1, 1, 1, x'7b7d'),
			       (2, 'x--1', 'x', 'v', 'v1', 1, '2.1', 1, x'00', 1, 1, 1, x'7b7d')`)
	if st, err := s.Stats(t.Context()); err != nil || st != (store.Stats{Collections: 2, Objects: 3}) {
		t.Errorf("Stats after the migration = %+v, %v; want 2 collections, 3 objects", st, err)
	}
}

// TestMigrationLedgerStart opens a database whose objects were stored
// before it had a ledger: they have no entries, and LedgerObjects leaves
// them out, so verification does not ask for entries that never existed.
func TestMigrationLedgerStart(t *testing.T) {
	ctx := t.Context()
	s := openBefore(t, "_ledger.sql",
		`INSERT INTO api_roots (pk, path, title, description, max_content_length) VALUES (1, 'api1', 't', '', 1)`,
		`INSERT INTO collections (pk, id, api_root, title, description, alias, media_types) VALUES (1, 'a', 1, 't', '', '', '[]')`,
		`INSERT INTO objects (collection, id, type, version, version_key, versioned, spec_version, date_added, content_hash, is_first, is_last, top_spec, raw)
			VALUES (1, 'x--1', 'x', 'v', 'v1', 1, '2.1', 1, x'00', 1, 1, 1, x'7b7d'), (1, 'x--2', 'x', 'v', 'v1', 1, '2.1', 2, x'00', 1, 1, 1, x'7b7d')`)
	if n, err := s.LedgerSize(ctx); err != nil || n != 0 {
		t.Errorf("LedgerSize after the migration = %d, %v; want 0", n, err)
	}
	if os, err := s.LedgerObjects(ctx, 0, 10); err != nil || len(os) != 0 {
		t.Errorf("LedgerObjects after the migration = %+v, %v; want none: the versions predate the ledger", os, err)
	}
	addIndicators(t, s, "a", 0, 1)
	if os, err := s.LedgerObjects(ctx, 0, 10); err != nil || len(os) != 1 || os[0].Seq != 3 || os[0].Entry != -1 {
		t.Errorf("LedgerObjects after a later add = %+v, %v; want seq 3 without entry", os, err)
	}
}

// TestLatestSpecVersionOrderFree stores two versions whose spec_version
// values name the same number ("2.1", "02.1") in both orders. The store
// once called such values equal, so the latest spec_version was whichever
// came first.
func TestLatestSpecVersionOrderFree(t *testing.T) {
	obj := func(spec, modified string) *stix.Object {
		o, err := stix.Parse(fmt.Appendf(nil, `{"type":"note","spec_version":%q,"id":"note--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",`+
			`"created":"2024-01-01T00:00:00.000Z","modified":%q,"content":"x","object_refs":["note--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]}`, spec, modified))
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	for _, order := range [][]*stix.Object{
		{obj("2.1", "2024-01-02T00:00:00.000Z"), obj("02.1", "2024-01-03T00:00:00.000Z")},
		{obj("02.1", "2024-01-03T00:00:00.000Z"), obj("2.1", "2024-01-02T00:00:00.000Z")},
	} {
		s, _ := openTemp(t)
		col := setupCollection(t, s)
		for _, o := range order {
			if out, err := s.AddObjects(t.Context(), col, []*stix.Object{o}); err != nil || out[0].Err != nil {
				t.Fatalf("AddObjects: %v, %+v", err, out)
			}
		}
		p, err := s.Objects(t.Context(), store.Query{Collection: col, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var specs []string
		for _, o := range p.Objects {
			specs = append(specs, o.SpecVersion)
		}
		if len(specs) != 1 || specs[0] != "2.1" {
			t.Errorf("stored %s first: served versions of spec_version %q, want one of 2.1", order[0].SpecVersion, specs)
		}
		s.Close()
	}
}
