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

// BenchmarkIngestSigning measures what origin signatures cost ingest: two
// nodes on their own SQLite files, one with a node key (it signs every
// version) and one without, take the same envelopes from concurrent
// clients, alternately within each iteration so that both see the same
// machine load. ratio is the signing node's throughput over the other's.
//
//	go test ./node -run XXX -bench IngestSigning -benchtime 3x
func BenchmarkIngestSigning(b *testing.B) {
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
	skey, err := GenerateKey("cti.arcadia.example")
	if err != nil {
		b.Fatal(err)
	}
	key, err := ParseKey(skey)
	if err != nil {
		b.Fatal(err)
	}
	open := func(key *Key) *target {
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
		n, err := New(ctx, Config{Store: st, Key: key})
		if err != nil {
			b.Fatal(err)
		}
		return &target{n: n, c: &taxii.Caller{Name: "admin", Role: string(store.RoleAdmin)}, col: ini.CollectionID}
	}
	with, without := open(key), open(nil)
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
	b.ReportMetric(rateWith, "signed-objects/s")
	b.ReportMetric(rateWithout, "unsigned-objects/s")
	b.ReportMetric(rateWith/rateWithout, "ratio")
	b.StopTimer()
	p, err := with.n.store.Objects(context.Background(), store.Query{Collection: with.col, Limit: 1})
	if err != nil || len(p.Objects) != 1 || p.Objects[0].Provenance == nil {
		b.Errorf("the signing node stored no provenance: %+v, %v", p.Objects, err)
	}
}
