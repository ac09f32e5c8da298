package node

import (
	"context"
	"testing"

	"github.com/entente/entente/store"
)

// BenchmarkIngestSigning measures what origin signatures cost ingest: two
// nodes on their own SQLite files, one with a node key (it signs every
// version) and one without, take the same envelopes from concurrent
// clients, alternately within each iteration so that both see the same
// machine load. ratio is the signing node's throughput over the other's.
//
//	go test ./node -run XXX -bench IngestSigning -benchtime 3x
func BenchmarkIngestSigning(b *testing.B) {
	skey, err := GenerateKey("cti.arcadia.example")
	if err != nil {
		b.Fatal(err)
	}
	key, err := ParseKey(skey)
	if err != nil {
		b.Fatal(err)
	}
	with, without := newIngestTarget(b, Config{Key: key}), newIngestTarget(b, Config{})
	compareIngest(b, with, without, "signed-objects/s", "unsigned-objects/s")
	p, err := with.n.store.Objects(context.Background(), store.Query{Collection: with.col, Limit: 1})
	if err != nil || len(p.Objects) != 1 || p.Objects[0].Provenance == nil {
		b.Errorf("the signing node stored no provenance: %+v, %v", p.Objects, err)
	}
}
