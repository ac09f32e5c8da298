package node

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/entente/entente/store"
	"github.com/entente/entente/store/sqlite"
	"github.com/entente/entente/taxii"
)

// BenchmarkIngestLedger measures what the ledger costs ingest: two nodes
// on their own SQLite files, one recording its ledger and one not (the
// writer's noLedger, which only this benchmark sets), take the same
// envelopes from concurrent clients, alternately within each iteration so
// both see the same machine load. ratio is the ledger's throughput over
// the other's (the goal: at least 0.9).
//
//	go test ./node -run XXX -bench IngestLedger -benchtime 3x
func BenchmarkIngestLedger(b *testing.B) {
	with, without := newIngestTarget(b, Config{}), newIngestTarget(b, Config{})
	without.n.writer.noLedger = true
	objects := compareIngest(b, with, without, "ledger-objects/s", "no-ledger-objects/s")
	if size, err := with.n.store.LedgerSize(context.Background()); err != nil || size != objects {
		b.Errorf("the ledger holds %d entries (%v), want %d", size, err, objects)
	}
}

// ingestTarget is a node on its own SQLite file that a benchmark posts
// envelopes to, as an admin, and the time it took.
type ingestTarget struct {
	n    *Node
	c    *taxii.Caller
	col  string
	took time.Duration
}

// newIngestTarget returns a node on a fresh SQLite store, configured as
// cfg says (its Store is set here).
func newIngestTarget(b *testing.B, cfg Config) *ingestTarget {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "entente.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ini, err := Initialize(ctx, st, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	cfg.Store = st
	n, err := New(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return &ingestTarget{n: n, c: &taxii.Caller{Name: "admin", Role: string(store.RoleAdmin)}, col: ini.CollectionID}
}

// compareIngest posts the same envelopes of new indicators from
// concurrent clients to with and to without, in short rounds that
// alternate which goes first so that both see the same load on a shared
// machine. It reports each one's objects per second under its label and
// their ratio, and returns how many objects each took.
func compareIngest(b *testing.B, with, without *ingestTarget, withLabel, withoutLabel string) int64 {
	const (
		clients     = 8
		envelopes   = 2 // per client and round
		rounds      = 8 // per iteration
		perEnvelope = 100
	)
	envs := make([][]json.RawMessage, clients*envelopes)
	next := 0
	fill := func() {
		for i := range envs {
			envs[i] = make([]json.RawMessage, perEnvelope)
			for j := range envs[i] {
				envs[i][j] = indicator(next, "2024-01-01T00:00:00.000Z")
				next++
			}
		}
	}
	ingest := func(t *ingestTarget) {
		start := time.Now()
		var wg sync.WaitGroup
		for cl := range clients {
			wg.Go(func() {
				for e := range envelopes {
					s, err := t.n.AddObjects(context.Background(), t.c, DefaultAPIRoot, t.col, envs[cl*envelopes+e])
					if err != nil || s.SuccessCount != perEnvelope {
						b.Errorf("AddObjects: %v, %+v", err, s)
						return
					}
				}
			})
		}
		wg.Wait()
		t.took += time.Since(start)
	}
	b.ResetTimer()
	for i := range b.N * rounds {
		fill()
		if i%2 == 0 {
			ingest(with)
			ingest(without)
		} else {
			ingest(without)
			ingest(with)
		}
	}
	b.StopTimer()
	objects := b.N * rounds * clients * envelopes * perEnvelope
	rateWith, rateWithout := float64(objects)/with.took.Seconds(), float64(objects)/without.took.Seconds()
	b.ReportMetric(rateWith, withLabel)
	b.ReportMetric(rateWithout, withoutLabel)
	b.ReportMetric(rateWith/rateWithout, "ratio")
	return int64(objects)
}
