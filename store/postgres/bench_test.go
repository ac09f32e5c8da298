package postgres

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
)

// The benchmarks compare the store with a baseline measured in the same run
// and report the ratio of their throughputs as "x-baseline" (1 = as fast as
// the baseline). They need ENTENTE_TEST_POSTGRES, as the tests do:
//
//	go test ./store/postgres -run '^$' -bench . -benchtime 1x
//
// -short skips them.

const (
	ingestObjects = 20_000
	ingestBatch   = 1_000
	readObjects   = 100_000
	pageSize      = 1_000
)

// benchObjects returns n indicators of a realistic size, numbered from
// `from`, of the types of readTypes in rotation.
func benchObjects(b *testing.B, from, n int, types []string) []*stix.Object {
	objs := make([]*stix.Object, n)
	for j := range objs {
		i := from + j
		typ := types[i%len(types)]
		o, err := stix.Parse(fmt.Appendf(nil,
			`{"type":%q,"spec_version":"2.1","id":"%s--%08x-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z",`+
				`"modified":"2024-01-01T00:00:00.000Z","name":"Object %d","description":"A benchmark object of a realistic size, `+
				`with a sentence or two of text in it, as threat intelligence objects usually carry.","labels":["benchmark"]}`,
			typ, typ, i, i))
		if err != nil {
			b.Fatal(err)
		}
		objs[j] = o
	}
	return objs
}

// BenchmarkIngest adds 20k objects in batches of 1,000 to an empty
// collection, each batch one AddObjects (which hashes the objects'
// canonical JSON, reads their stored versions, draws sequence numbers and
// copies the rows). The baseline copies the same rows, every column value
// computed beforehand, with pgx's COPY into the same table of another
// schema, one transaction per batch. The two take turns to go first.
func BenchmarkIngest(b *testing.B) {
	if testing.Short() {
		b.Skip("adds 20k objects per iteration")
	}
	objs := benchObjects(b, 0, ingestObjects, []string{"indicator"})
	ctx := context.Background()
	var storeTime, baseTime time.Duration
	for b.Loop() {
		b.StopTimer()
		st := openTest(b, testURL(b))
		setupCollection(b, st)
		base := openTest(b, testURL(b))
		setupCollection(b, base)
		pk, err := base.collectionKey(ctx, base.pool, testCollection)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for i := 0; i < len(objs); i += ingestBatch {
			batch := objs[i : i+ingestBatch]
			add := func() {
				start := time.Now()
				out, err := st.AddObjects(ctx, testCollection, batch)
				storeTime += time.Since(start)
				if err != nil || out[0].Err != nil || out[0].Duplicate {
					b.Fatalf("AddObjects: %v, %+v", err, out[0])
				}
			}
			cp := func() {
				rows := make([][]any, len(batch))
				for j, o := range batch {
					h := sha256.Sum256(o.Raw)
					rows[j] = []any{pk, o.ID, o.Type, o.Modified, o.Modified, true, "2.1", int64(i + j), h[:], true, true, true, []byte(o.Raw), []byte(nil), "", ""}
				}
				start := time.Now()
				err := pgx.BeginFunc(ctx, base.pool, func(tx pgx.Tx) error {
					_, err := tx.CopyFrom(ctx, pgx.Identifier{"objects"}, objectColumns[1:], pgx.CopyFromRows(rows))
					return err
				})
				baseTime += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
			}
			if i/ingestBatch%2 == 0 {
				add()
				cp()
			} else {
				cp()
				add()
			}
		}
	}
	n := float64(b.N * ingestObjects)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(n/storeTime.Seconds(), "store-obj/s")
	b.ReportMetric(n/baseTime.Seconds(), "baseline-obj/s")
	b.ReportMetric(baseTime.Seconds()/storeTime.Seconds(), "x-baseline")
}

// BenchmarkReadPage pages through the indicators of a collection of 100k
// objects (half of them indicators), 1,000 at a time, through Objects and
// through the raw keyset query with pgx, taking turns to go first.
func BenchmarkReadPage(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a collection of 100k objects")
	}
	ctx := context.Background()
	s := openTest(b, testURL(b))
	setupCollection(b, s)
	types := []string{"indicator", "malware", "indicator", "tool"}
	for i := 0; i < readObjects; i += ingestBatch {
		if _, err := s.AddObjects(ctx, testCollection, benchObjects(b, i, ingestBatch, types)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	pk, err := s.collectionKey(ctx, s.pool, testCollection)
	if err != nil {
		b.Fatal(err)
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
		{name: "baseline", read: func(after int64) ([]store.Object, error) {
			// The columns a listing returns: the version, its content, and
			// what federation keeps beside it.
			rows, _ := s.pool.Query(ctx, `SELECT seq, id, type, version, spec_version, date_added, from_party, from_node, ledger_index, raw, signatures
				FROM objects WHERE collection = $1 AND type = $2 AND seq > $3 ORDER BY seq LIMIT $4`, pk, "indicator", after, pageSize)
			return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Object, error) {
				o := store.Object{Collection: testCollection}
				var (
					dateAdded   int64
					ledgerIndex *int64
				)
				err := row.Scan(&o.Seq, &o.ID, &o.Type, &o.Version, &o.SpecVersion, &dateAdded, &o.FromParty, &o.FromNode, &ledgerIndex, &o.Raw, &o.Provenance)
				o.DateAdded = fromMicros(dateAdded)
				return o, err
			})
		}},
	}
	pages := 0
	for b.Loop() {
		var after int64
		for {
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
			if len(got[1]) != n || (n > 0 && got[1][n-1].Seq != got[0][n-1].Seq) {
				b.Fatalf("the readers disagree on the page after seq %d", after)
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
	b.ReportMetric(readers[1].time.Seconds()/readers[0].time.Seconds(), "x-baseline")
}

// BenchmarkTwoStores measures what a second process adds: two stores on
// one database (two connection pools, as two processes have) ingest and
// read at once, against one store alone doing the same per-store work, and
// it reports the throughput of two over that of one. Writers take turns
// under the write lock, so ingest cannot scale past one writer's rate;
// reads scale with the cores the database and the clients share.
func BenchmarkTwoStores(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a collection of 100k objects")
	}
	ctx := context.Background()
	u := testURL(b)
	stores := []*Store{openTest(b, u), openTest(b, u)}
	setupCollection(b, stores[0])
	types := []string{"indicator", "malware", "indicator", "tool"}
	const perStore = 10 * ingestBatch
	next := 0
	read := func(s *Store) {
		var after int64
		for {
			p, err := s.Objects(ctx, store.Query{Collection: testCollection, After: after, Types: []string{"indicator"}, Limit: pageSize})
			if err != nil {
				b.Error(err)
				return
			}
			if !p.More {
				return
			}
			after = p.Objects[len(p.Objects)-1].Seq
		}
	}
	var mu sync.Mutex // guards next, which the writers share
	ingest := func(s *Store) {
		for range perStore / ingestBatch {
			mu.Lock()
			n := next
			next += ingestBatch
			mu.Unlock()
			objs := benchObjects(b, n, ingestBatch, types)
			if _, err := s.AddObjects(ctx, testCollection, objs); err != nil {
				b.Error(err)
				return
			}
		}
	}
	timed := func(f func(*Store), both bool) time.Duration {
		start := time.Now()
		if !both {
			f(stores[0])
			return time.Since(start)
		}
		var wg sync.WaitGroup
		for _, s := range stores {
			wg.Go(func() { f(s) })
		}
		wg.Wait()
		return time.Since(start)
	}
	var ingest1, ingest2, read1, read2 time.Duration
	for b.Loop() {
		ingest1 += timed(ingest, false)
		ingest2 += timed(ingest, true)
		if _, err := stores[0].pool.Exec(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
		read1 += timed(read, false)
		read2 += timed(read, true)
	}
	b.ReportMetric(0, "ns/op")
	// Two do twice the work of one: throughput ratio = 2·t1/t2.
	b.ReportMetric(2*ingest1.Seconds()/ingest2.Seconds(), "ingest-two-over-one")
	b.ReportMetric(2*read1.Seconds()/read2.Seconds(), "read-two-over-one")
}
