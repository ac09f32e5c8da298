package sqlite

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
)

// The benchmarks compare the store with a baseline measured in the same run
// and report the ratio of their throughputs as "x-baseline" (1 = as fast as
// the baseline). Run them with:
//
//	go test ./store/sqlite -run '^$' -bench . -benchtime 2x -timeout 30m
//
// The read benchmarks share a collection of one million objects, built once
// per run in a temporary file (which takes a minute or so). -short skips
// every benchmark that needs it.

const (
	ingestObjects = 100_000
	ingestBatch   = 1_000
	readObjects   = 1_000_000
	pageSize      = 1_000
)

// BenchmarkIngest adds 100k indicators in batches of 1,000 to an empty
// store. The baseline inserts the same rows with a prepared INSERT, one
// transaction per batch, through the same driver and into the same schema,
// with every column value computed beforehand. The two write to separate
// databases batch by batch, taking turns to go first, so that both see the
// same load on a noisy machine.
func BenchmarkIngest(b *testing.B) {
	if testing.Short() {
		b.Skip("adds 100k objects per iteration")
	}
	objs := indicators(b, 0, ingestObjects)
	rows := make([]baselineRow, len(objs))
	for i, o := range objs {
		h := sha256.Sum256(o.Raw)
		rows[i] = baselineRow{id: o.ID, typ: o.Type, version: o.Modified, key: o.Modified, hash: h[:], raw: o.Raw}
	}
	ctx := context.Background()

	var storeTime, baseTime time.Duration
	for b.Loop() {
		b.StopTimer()
		st, _ := emptyStore(b)
		base, basePK := emptyStore(b)
		b.StartTimer()
		for i := 0; i < len(objs); i += ingestBatch {
			addBatch := func() {
				start := time.Now()
				out, err := st.AddObjects(ctx, testCollection, objs[i:i+ingestBatch])
				storeTime += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				if out[0].Err != nil || out[0].Duplicate {
					b.Fatalf("AddObjects: %+v", out[0])
				}
			}
			insertBatch := func() {
				start := time.Now()
				err := baselineInsert(ctx, base, basePK, rows[i:i+ingestBatch], int64(i))
				baseTime += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
			}
			if i/ingestBatch%2 == 0 {
				addBatch()
				insertBatch()
			} else {
				insertBatch()
				addBatch()
			}
		}
	}
	n := float64(b.N * ingestObjects)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(n/storeTime.Seconds(), "store-obj/s")
	b.ReportMetric(n/baseTime.Seconds(), "baseline-obj/s")
	b.ReportMetric(baseTime.Seconds()/storeTime.Seconds(), "x-baseline")
}

type baselineRow struct {
	id, typ, version, key string
	hash, raw             []byte
}

// emptyStore opens a store with one empty collection in a new directory,
// removed when the benchmark ends, and returns the collection's row key.
func emptyStore(b *testing.B) (*Store, int64) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "ingest.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	setupCollection(b, s)
	pk, err := s.collectionKey(ctx, s.r, testCollection)
	if err != nil {
		b.Fatal(err)
	}
	return s, pk
}

// baselineInsert inserts one batch of rows in one transaction; dateAdded is
// the first row's date_added.
func baselineInsert(ctx context.Context, s *Store, pk int64, rows []baselineRow, dateAdded int64) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO objects
		(collection, id, type, version, version_key, versioned, spec_version, date_added, content_hash, is_first, is_last, top_spec, raw)
		VALUES (?, ?, ?, ?, ?, 1, '2.1', ?, ?, 1, 1, 1, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for j, r := range rows {
		if _, err := stmt.ExecContext(ctx, pk, r.id, r.typ, r.version, r.key, dateAdded+int64(j), r.hash, r.raw); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// large is the shared collection of readObjects objects, built on first use.
var large struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// readTypes are the types of the large collection, in rotation: half the
// objects are indicators.
var readTypes = []string{"indicator", "malware", "indicator", "tool"}

func largeStore(b *testing.B) *Store {
	b.Helper()
	if testing.Short() {
		b.Skip("needs a collection of 1M objects")
	}
	large.once.Do(func() {
		large.dir, large.err = os.MkdirTemp("", "entente-bench-")
		if large.err != nil {
			return
		}
		large.path = filepath.Join(large.dir, "large.db")
		large.err = buildLarge(b, large.path)
	})
	if large.err != nil {
		b.Fatalf("building the 1M-object collection: %v", large.err)
	}
	s, err := Open(context.Background(), large.path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func buildLarge(b *testing.B, path string) error {
	start := time.Now()
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		return err
	}
	defer s.Close()
	setupCollection(b, s)
	objs := make([]*stix.Object, ingestBatch)
	for i := 0; i < readObjects; i += ingestBatch {
		for j := range objs {
			n := i + j
			o, err := stix.Parse(fmt.Appendf(nil,
				`{"type":%q,"spec_version":"2.1","id":"%s--%08x-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z",`+
					`"modified":"2024-01-01T00:00:00.000Z","name":"Object %d","description":"A benchmark object of a realistic size, `+
					`with a sentence or two of text in it, as threat intelligence objects usually carry.","labels":["benchmark"]}`,
				readTypes[n%len(readTypes)], readTypes[n%len(readTypes)], n, n))
			if err != nil {
				return err
			}
			objs[j] = o
		}
		if _, err := s.AddObjects(ctx, testCollection, objs); err != nil {
			return err
		}
	}
	b.Logf("built %d objects in %v", readObjects, time.Since(start).Round(time.Second))
	return nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if large.dir != "" {
		os.RemoveAll(large.dir)
	}
	os.Exit(code)
}

// BenchmarkReadPage reads pages of 1,000 indicators, walking the whole
// collection of 1M objects (half of them indicators) with the cursor: one
// walk is one op. It times three readers of the same rows, page by page:
//   - store: Store.Objects, the default TAXII listing (last version of the
//     latest spec_version), served by the flags each write maintains;
//   - baseline: the hand-written query that returns the same rows (every
//     object here has one version), scanned into the same structs;
//   - subquery: the same listing computed without the flags, by a correlated
//     subquery per row, the design the flags replace.
func BenchmarkReadPage(b *testing.B) {
	s := largeStore(b)
	ctx := context.Background()
	pk, err := s.collectionKey(ctx, s.r, testCollection)
	if err != nil {
		b.Fatal(err)
	}
	raw := func(query string) func(after int64) ([]store.Object, error) {
		return func(after int64) ([]store.Object, error) {
			rows, err := s.r.QueryContext(ctx, query, pk, "indicator", after, pageSize)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			objs := make([]store.Object, 0, pageSize)
			for rows.Next() {
				o := store.Object{Collection: testCollection}
				var dateAdded int64
				if err := rows.Scan(&o.Seq, &o.ID, &o.Type, &o.Version, &o.SpecVersion, &dateAdded, &o.Raw); err != nil {
					return nil, err
				}
				o.DateAdded = fromMicros(dateAdded)
				objs = append(objs, o)
			}
			return objs, rows.Err()
		}
	}
	readers := []struct {
		name string
		read func(after int64) ([]store.Object, error)
		time time.Duration
	}{
		{name: "store", read: func(after int64) ([]store.Object, error) {
			p, err := s.Objects(ctx, store.Query{Collection: testCollection, After: after, Types: []string{"indicator"}, Limit: pageSize})
			return p.Objects, err
		}},
		{name: "baseline", read: raw(`SELECT seq, id, type, version, spec_version, date_added, raw
			FROM objects WHERE collection = ? AND type = ? AND seq > ? ORDER BY seq LIMIT ?`)},
		{name: "subquery", read: raw(`SELECT seq, id, type, version, spec_version, date_added, raw
			FROM objects o WHERE collection = ? AND type = ? AND seq > ?
			AND version_key = (SELECT max(version_key) FROM objects l WHERE l.collection = o.collection AND l.id = o.id)
			ORDER BY seq LIMIT ?`)},
	}

	pages := 0
	for b.Loop() {
		var after int64
		for {
			// Whichever reads a page first pays for bringing it into the
			// cache: rotate who goes first.
			var got [][]store.Object
			for i := range readers {
				r := &readers[(pages+i)%len(readers)]
				start := time.Now()
				objs, err := r.read(after)
				r.time += time.Since(start)
				if err != nil {
					b.Fatalf("%s: %v", r.name, err)
				}
				got = append(got, objs)
			}
			pages++
			n := len(got[0])
			for _, objs := range got[1:] {
				if len(objs) != n || (n > 0 && objs[n-1].Seq != got[0][n-1].Seq) {
					b.Fatalf("the readers disagree on the page after seq %d", after)
				}
			}
			if n < pageSize {
				break
			}
			after = got[0][n-1].Seq
		}
	}
	b.ReportMetric(float64(pages)/float64(b.N), "pages/op")
	for _, r := range readers {
		b.ReportMetric(float64(r.time.Microseconds())/float64(pages)/1000, r.name+"-ms/page")
	}
	// Throughput relative to the baseline: above 1 is faster.
	b.ReportMetric(readers[1].time.Seconds()/readers[0].time.Seconds(), "x-baseline")
	b.ReportMetric(readers[1].time.Seconds()/readers[2].time.Seconds(), "subquery-x-baseline")
}

// BenchmarkPageThrough pages through all 1M objects, 1,000 at a time, and
// reports the heap in use at the start, the middle and the end of the walk:
// it stays flat because only one page is held at a time.
func BenchmarkPageThrough(b *testing.B) {
	s := largeStore(b)
	ctx := context.Background()
	heap := func() float64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapInuse) / (1 << 20)
	}
	for b.Loop() {
		var (
			after  int64
			seen   int
			marks  []float64
			marked = map[int]bool{}
		)
		marks = append(marks, heap())
		for {
			page, err := s.Objects(ctx, store.Query{Collection: testCollection, After: after, Limit: pageSize})
			if err != nil {
				b.Fatal(err)
			}
			seen += len(page.Objects)
			if seen >= readObjects/2 && !marked[1] {
				marked[1] = true
				marks = append(marks, heap())
			}
			if !page.More {
				break
			}
			after = page.Objects[len(page.Objects)-1].Seq
		}
		marks = append(marks, heap())
		if seen != readObjects {
			b.Fatalf("paged through %d objects, want %d", seen, readObjects)
		}
		b.ReportMetric(marks[0], "heap-start-MiB")
		b.ReportMetric(marks[1], "heap-middle-MiB")
		b.ReportMetric(marks[2], "heap-end-MiB")
	}
}

// BenchmarkGroupCommit writes 64 envelopes of 100 indicators, each with
// its status, as the node's writer does under load: all in one Update,
// against one Update per envelope, alternating, into separate stores. It
// reports the ratio of their throughputs ("x-separate").
func BenchmarkGroupCommit(b *testing.B) {
	const envelopes, perEnvelope = 64, 100
	ctx := context.Background()
	var groupTime, separateTime time.Duration
	round := 0
	write := func(st *Store, envs [][]store.Put, first int) error {
		for i, env := range envs {
			err := st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
				return writeEnvelope(ctx, tx, env, first+i)
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	for b.Loop() {
		b.StopTimer()
		envs := make([][]store.Put, envelopes)
		for i := range envs {
			for _, o := range indicators(b, (round*envelopes+i)*perEnvelope, perEnvelope) {
				p, err := store.NewPut(o)
				if err != nil {
					b.Fatal(err)
				}
				envs[i] = append(envs[i], p)
			}
		}
		group, _ := emptyStore(b)
		separate, _ := emptyStore(b)
		b.StartTimer()
		start := time.Now()
		err := group.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			for i, env := range envs {
				if err := writeEnvelope(ctx, tx, env, i); err != nil {
					return err
				}
			}
			return nil
		})
		groupTime += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		start = time.Now()
		if err := write(separate, envs, 0); err != nil {
			b.Fatal(err)
		}
		separateTime += time.Since(start)
		b.StartTimer()
		round++
	}
	b.ReportMetric(separateTime.Seconds()/groupTime.Seconds(), "x-separate")
	b.ReportMetric(float64(round*envelopes*perEnvelope)/groupTime.Seconds(), "objects/s")
}

// writeEnvelope adds one envelope's objects and its status through tx.
func writeEnvelope(ctx context.Context, tx store.Tx, env []store.Put, n int) error {
	out, err := tx.AddObjects(ctx, testCollection, env)
	if err != nil {
		return err
	}
	st := store.Status{ID: fmt.Sprintf("status-%d", n), APIRoot: "api1", Status: "complete",
		RequestTimestamp: time.Now(), TotalCount: len(out), SuccessCount: len(out)}
	for i, o := range out {
		if o.Err != nil || o.Duplicate {
			return fmt.Errorf("object %d: %+v", i, o)
		}
		st.Successes = append(st.Successes, store.StatusDetail{ID: env[i].Object.ID, Version: o.Version, Message: "stored"})
	}
	return tx.PutStatus(ctx, st)
}

// BenchmarkStats measures what a metrics scrape costs the store at two
// sizes: Stats should cost the same at both, while counting the objects
// (the "count" baseline, what Stats once ran) grows with them.
func BenchmarkStats(b *testing.B) {
	for _, n := range []int{1_000, 50_000} {
		if n > 1_000 && testing.Short() {
			continue
		}
		s, _ := emptyStore(b)
		for i := 0; i < n; i += ingestBatch {
			if _, err := s.AddObjects(context.Background(), testCollection, indicators(b, i, min(ingestBatch, n-i))); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			for b.Loop() {
				st, err := s.Stats(context.Background())
				if err != nil || st.Objects != int64(n) {
					b.Fatalf("Stats = %+v, %v; want %d objects", st, err, n)
				}
			}
		})
		b.Run(fmt.Sprintf("count/objects=%d", n), func(b *testing.B) {
			for b.Loop() {
				var c int64
				if err := s.r.QueryRowContext(context.Background(), `SELECT count(*) FROM objects`).Scan(&c); err != nil || c != int64(n) {
					b.Fatalf("count = %d, %v", c, err)
				}
			}
		})
	}
}

// BenchmarkGrants measures the read every request of a non-admin account
// makes to authorize it: one account's grants among 1,000 accounts'.
func BenchmarkGrants(b *testing.B) {
	ctx := context.Background()
	s, _ := emptyStore(b)
	for i := range 1_000 {
		name := fmt.Sprint("user", i)
		if err := s.CreateAccount(ctx, store.Account{Name: name, Role: store.RoleReader, TokenHash: []byte(name), Created: time.Now()}); err != nil {
			b.Fatal(err)
		}
		if err := s.AddGrant(ctx, store.Grant{Account: name, Collection: testCollection, Right: store.RightRead}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		gs, err := s.Grants(ctx, "user500")
		if err != nil || len(gs) != 1 {
			b.Fatalf("Grants = %v, %v", gs, err)
		}
	}
}
