package sqlite

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
)

var ledgerEntries = flag.Int64("ledger.entries", 1_000_000, "entries in the log BenchmarkLedgerProofs proves against")

// BenchmarkLedgerProofs measures what a partner's proof request costs the
// store: an inclusion proof of a random entry and a consistency proof from
// a random earlier size, each read from the log's stored hashes in SQLite
// (one query per proof), in a log of -ledger.entries entries. Building the
// log is not timed.
func BenchmarkLedgerProofs(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a large log")
	}
	ctx := context.Background()
	s, _ := emptyStore(b)
	start := time.Now()
	e := ledger.Entry{Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		Event: ledger.Originated{Object: ledger.ObjectRef{ID: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", Version: "2024-01-01T00:00:00.000Z"}}}
	enc, err := e.Encode()
	if err != nil {
		b.Fatal(err)
	}
	const batch = 10_000
	for n := int64(0); n < *ledgerEntries; n += batch {
		recs := make([]store.LedgerRecord, min(batch, *ledgerEntries-n))
		for i := range recs {
			recs[i].Entry = enc
			rand.Read(recs[i].Salt[:])
			recs[i].Commitment = ledger.CommitEncoded(recs[i].Salt, enc)
		}
		if err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			_, err := tx.AppendLedger(ctx, recs)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("appended %d entries in %v", *ledgerEntries, time.Since(start).Round(time.Millisecond))
	size := *ledgerEntries
	hr := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) { return s.ReadLedgerHashes(ctx, idx) })
	root, err := tlog.TreeHash(size, hr)
	if err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("inclusion/entries=%d", size), func(b *testing.B) {
		i := int64(0)
		for b.Loop() {
			index := (i * 7919) % size
			i++
			if _, err := ledger.ProveInclusion(size, index, hr); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(fmt.Sprintf("consistency/entries=%d", size), func(b *testing.B) {
		i := int64(1)
		for b.Loop() {
			old := 1 + (i*7919)%(size-1)
			i++
			p, err := ledger.ProveConsistency(size, old, hr)
			if err != nil {
				b.Fatal(err)
			}
			if i == 2 {
				oldRoot, err := tlog.TreeHash(old, hr)
				if err != nil {
					b.Fatal(err)
				}
				if err := ledger.CheckConsistency(p, tlog.Tree{N: size, Hash: root}, tlog.Tree{N: old, Hash: oldRoot}); err != nil {
					b.Fatalf("the proof from the store does not verify: %v", err)
				}
			}
		}
	})
}
