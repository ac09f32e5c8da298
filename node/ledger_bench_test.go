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
	const (
		clients     = 8
		envelopes   = 2 // per client and round
		rounds      = 8 // per iteration
		perEnvelope = 100
	)
	type target struct {
		n    *Node
		c    *taxii.Caller
		col  string
		took time.Duration
	}
	open := func(noLedger bool) *target {
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
		n, err := New(ctx, Config{Store: st})
		if err != nil {
			b.Fatal(err)
		}
		n.writer.noLedger = noLedger
		return &target{n: n, c: &taxii.Caller{Name: "admin", Role: string(store.RoleAdmin)}, col: ini.CollectionID}
	}
	with, without := open(false), open(true)
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
	ingest := func(t *target) {
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
		// Short rounds, alternating which goes first, so that both see
		// the same load on a shared machine.
		if i%2 == 0 {
			ingest(with)
			ingest(without)
		} else {
			ingest(without)
			ingest(with)
		}
	}
	objects := float64(b.N * rounds * clients * envelopes * perEnvelope)
	rateWith, rateWithout := objects/with.took.Seconds(), objects/without.took.Seconds()
	b.ReportMetric(rateWith, "ledger-objects/s")
	b.ReportMetric(rateWithout, "no-ledger-objects/s")
	b.ReportMetric(rateWith/rateWithout, "ratio")
	if size, err := with.n.store.LedgerSize(context.Background()); err != nil || size != int64(objects) {
		b.Errorf("the ledger holds %d entries (%v), want %d", size, err, int64(objects))
	}
}
