package node_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/store/sqlite"
)

// benchLedger is a node on SQLite whose ledger holds perDay entries
// received from one partner on each of days days up to now, and a
// checkpoint of them.
func benchLedger(b *testing.B, now time.Time, days, perDay int) (*sqlite.Store, *node.Node, *node.Key) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "entente.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := node.Initialize(ctx, st, now); err != nil {
		b.Fatal(err)
	}
	skey, _ := node.GenerateKey("node.bench.example")
	key, _ := node.ParseKey(skey)
	n, err := node.New(ctx, node.Config{Store: st, Key: key})
	if err != nil {
		b.Fatal(err)
	}
	const batch = 5000
	for d := range days {
		day := now.Truncate(24*time.Hour).AddDate(0, 0, -d)
		for i := 0; i < perDay; i += batch {
			var recs []store.LedgerRecord
			for j := i; j < min(i+batch, perDay); j++ {
				ref := ledger.ObjectRef{ID: fmt.Sprintf("indicator--00000000-0000-4000-8000-%06d%06d", d, j), Version: "2026-01-01T00:00:00.000Z"}
				enc, err := ledger.Entry{Time: day.Add(time.Duration(j) * time.Second), Event: ledger.Received{From: "borealis", Object: ref}}.Encode()
				if err != nil {
					b.Fatal(err)
				}
				r := store.LedgerRecord{Entry: enc, Concerns: []string{"borealis"}}
				r.Salt[0], r.Salt[1], r.Salt[2], r.Salt[3] = byte(j), byte(j>>8), byte(j>>16), byte(d)
				recs = append(recs, r)
			}
			err := st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.AppendLedger(ctx, recs)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, _, err := n.Checkpoint(ctx); err != nil {
		b.Fatal(err)
	}
	return st, n, key
}

// BenchmarkPartnerActivity counts a fortnight in which a partner sent more
// than node.ActivityBudget entries (the overview's chart): once without a
// cache, as the first page after a start does, then the page after with
// the cache that call filled, which counts only what the first left; and,
// as the baseline in the same run, reads and decodes as many entries as
// the budget (what counting in Go would cost). ratio is the first count's
// time over the scan's.
//
//	go test ./node -run XXX -bench PartnerActivity -benchtime 3x
func BenchmarkPartnerActivity(b *testing.B) {
	now := time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC)
	st, n, _ := benchLedger(b, now, 14, 15_000)
	ctx := context.Background()
	var first, second, scan time.Duration
	for b.Loop() {
		cache := &node.ActivityCache{}
		start := time.Now()
		a, err := n.PartnerActivity(ctx, consoleReader, now, 14, cache)
		if err != nil {
			b.Fatal(err)
		}
		first += time.Since(start)
		if a.Counted[0] || !a.Counted[13] {
			b.Fatalf("counted %v: want the newest days counted and the oldest past the budget", a.Counted)
		}
		start = time.Now()
		if _, err := n.PartnerActivity(ctx, consoleReader, now, 14, cache); err != nil {
			b.Fatal(err)
		}
		second += time.Since(start)
		start = time.Now()
		size, _ := st.LedgerSize(ctx)
		var decoded int
		for from := size - node.ActivityBudget; from < size; from += 4096 {
			recs, err := st.LedgerRecords(ctx, from, min(from+4096, size))
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range recs {
				if _, err := ledger.DecodeEntry(r.Entry); err == nil {
					decoded++
				}
			}
		}
		scan += time.Since(start)
	}
	b.ReportMetric(float64(first.Microseconds())/1e3/float64(b.N), "first-ms/op")
	b.ReportMetric(float64(second.Microseconds())/1e3/float64(b.N), "cached-ms/op")
	b.ReportMetric(float64(scan.Microseconds())/1e3/float64(b.N), "scan-ms/op")
	b.ReportMetric(float64(first)/float64(scan), "ratio")
}

// BenchmarkVerifyLedgerStep verifies a ledger of 20,000 entries as one
// press of the console's "Verify now" does (a step of that budget from
// the start), then as a press after 1,000 more entries does (from the
// mark), and as the baseline in the same run the full VerifyLedger of the
// command. ratio is the first step's time over the full verification's.
//
//	go test ./node -run XXX -bench VerifyLedgerStep -benchtime 1x
func BenchmarkVerifyLedgerStep(b *testing.B) {
	now := time.Now().UTC()
	st, n, key := benchLedger(b, now, 1, 20_000)
	ctx := context.Background()
	v, err := note.NewVerifier(key.VerifierKey)
	if err != nil {
		b.Fatal(err)
	}
	var first, incr, full time.Duration
	for b.Loop() {
		start := time.Now()
		step, err := n.VerifyLedgerStep(ctx, consoleReader, node.LedgerMark{}, 20_000)
		if err != nil || !step.Done || len(step.Problems) > 0 {
			b.Fatalf("step: %+v, %v", step, err)
		}
		first += time.Since(start)
		start = time.Now()
		next, err := n.VerifyLedgerStep(ctx, consoleReader, node.LedgerMark{Entries: 19_000}, 20_000)
		if err != nil || !next.Done || len(next.Problems) > 0 {
			b.Fatalf("step from 19000: %+v, %v", next, err)
		}
		incr += time.Since(start)
		start = time.Now()
		rep, err := node.VerifyLedger(ctx, st, v, "")
		if err != nil || len(rep.Problems) > 0 {
			b.Fatalf("VerifyLedger: %+v, %v", rep, err)
		}
		full += time.Since(start)
	}
	b.ReportMetric(float64(first.Microseconds())/1e3/float64(b.N), "step20k-ms/op")
	b.ReportMetric(float64(incr.Microseconds())/1e3/float64(b.N), "step1k-ms/op")
	b.ReportMetric(float64(full.Microseconds())/1e3/float64(b.N), "full-ms/op")
	b.ReportMetric(float64(first)/float64(full), "ratio")
}
