package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
)

// ledgerTests are the ledger's part of the contract (doc/ledger.md, "Store
// integration").
var ledgerTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"LedgerAppend", testLedgerAppend},
	{"LedgerAppendWithObjects", testLedgerAppendWithObjects},
	{"LedgerHashes", testLedgerHashes},
	{"LedgerConcurrentAppends", testLedgerConcurrentAppends},
	{"LedgerBadCommitment", testLedgerBadCommitment},
	{"Checkpoints", testCheckpoints},
}

// seededRand is a reproducible source of salts.
type seededRand struct{ r *rand.ChaCha8 }

func (s seededRand) Read(p []byte) (int, error) { return s.r.Read(p) }

// record makes the ledger record of an originated entry about object n.
func record(t testing.TB, rnd seededRand, n int, seq int64, concerns ...string) store.LedgerRecord {
	t.Helper()
	var ev ledger.Event = ledger.Originated{Object: ledger.ObjectRef{ID: id("indicator", n), Version: "2024-01-01T00:00:00.000Z", Digest: ledger.Digest{byte(n), byte(n >> 8)}}}
	if len(concerns) > 0 {
		ev = ledger.Received{From: concerns[0], Object: ledger.ObjectRef{ID: id("indicator", n), Version: "2024-01-01T00:00:00.000Z"}}
	}
	e := ledger.Entry{Time: time.Date(2024, 1, 1, 0, 0, n, 0, time.UTC), Event: ev}
	o, c, err := ledger.Commit(e, rnd)
	if err != nil {
		t.Fatalf("ledger.Commit: %v", err)
	}
	enc, err := e.Encode()
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return store.LedgerRecord{Commitment: c, Salt: o.Salt, Entry: enc, Concerns: concerns, Object: seq}
}

func appendLedger(t testing.TB, s store.Store, recs []store.LedgerRecord) int64 {
	t.Helper()
	var first int64
	err := s.Update(context.Background(), func(ctx context.Context, tx store.Tx) error {
		var err error
		first, err = tx.AppendLedger(ctx, recs)
		return err
	})
	if err != nil {
		t.Fatalf("AppendLedger: %v", err)
	}
	return first
}

func ledgerSize(t testing.TB, s store.Store) int64 {
	t.Helper()
	n, err := s.LedgerSize(context.Background())
	if err != nil {
		t.Fatalf("LedgerSize: %v", err)
	}
	return n
}

func records(t testing.TB, s store.Store, from, to int64) []store.LedgerRecord {
	t.Helper()
	rs, err := s.LedgerRecords(context.Background(), from, to)
	if err != nil {
		t.Fatalf("LedgerRecords(%d, %d): %v", from, to, err)
	}
	return rs
}

func equalRecord(a, b store.LedgerRecord) bool {
	return a.Index == b.Index && a.Commitment == b.Commitment && a.Salt == b.Salt && string(a.Entry) == string(b.Entry) &&
		slices.Equal(a.Concerns, b.Concerns) && a.Object == b.Object
}

func testLedgerAppend(t *testing.T, s store.Store) {
	setup(t, s)
	rnd := seededRand{rand.NewChaCha8([32]byte{1})}
	if n := ledgerSize(t, s); n != 0 {
		t.Fatalf("LedgerSize of a new store = %d, want 0", n)
	}
	if got := records(t, s, 0, 10); len(got) != 0 {
		t.Fatalf("LedgerRecords of a new store = %d records, want none", len(got))
	}
	want := []store.LedgerRecord{record(t, rnd, 1, 0), record(t, rnd, 2, 0, "party-b"), record(t, rnd, 3, 0, "party-b", "party-c")}
	if first := appendLedger(t, s, want[:1]); first != 0 {
		t.Errorf("first AppendLedger returned %d, want 0", first)
	}
	if first := appendLedger(t, s, want[1:]); first != 1 {
		t.Errorf("second AppendLedger returned %d, want 1", first)
	}
	if first := appendLedger(t, s, nil); first != 3 {
		t.Errorf("AppendLedger of nothing returned %d, want the size 3", first)
	}
	if n := ledgerSize(t, s); n != 3 {
		t.Fatalf("LedgerSize = %d, want 3", n)
	}
	for i := range want {
		want[i].Index = int64(i)
	}
	got := records(t, s, 0, 100)
	if !slices.EqualFunc(got, want, equalRecord) {
		t.Errorf("LedgerRecords(0, 100) = %+v\nwant %+v", got, want)
	}
	if got := records(t, s, 1, 2); len(got) != 1 || !equalRecord(got[0], want[1]) {
		t.Errorf("LedgerRecords(1, 2) = %+v, want entry 1 alone", got)
	}

	// A failed Update appends nothing; the next append takes its place.
	boom := errors.New("boom")
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.AppendLedger(ctx, []store.LedgerRecord{record(t, rnd, 4, 0)}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update: %v, want boom", err)
	}
	if n := ledgerSize(t, s); n != 3 {
		t.Errorf("LedgerSize after a failed Update = %d, want 3", n)
	}
	if got := records(t, s, 3, 4); len(got) != 0 {
		t.Errorf("a failed Update left entry %+v", got)
	}
	if first := appendLedger(t, s, []store.LedgerRecord{record(t, rnd, 5, 0)}); first != 3 {
		t.Errorf("AppendLedger after a failed Update returned %d, want 3", first)
	}
}

// testLedgerAppendWithObjects checks that objects and their entries commit
// together or not at all, and that each entry finds its object.
func testLedgerAppendWithObjects(t *testing.T, s store.Store) {
	setup(t, s)
	ctx := t.Context()
	rnd := seededRand{rand.NewChaCha8([32]byte{2})}
	const v = "2021-01-01T00:00:00.000Z"
	var out []store.AddOutcome
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if out, err = tx.AddObjects(ctx, coll1, puts(t, parse(t, sdo("tool", 1, v, "")), parse(t, sdo("tool", 2, v, "")))); err != nil {
			return err
		}
		_, err = tx.AppendLedger(ctx, []store.LedgerRecord{record(t, rnd, 1, out[0].Seq), record(t, rnd, 2, out[1].Seq)})
		return err
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	boom := errors.New("boom")
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		o, err := tx.AddObjects(ctx, coll2, puts(t, parse(t, sdo("tool", 3, v, ""))))
		if err != nil {
			return err
		}
		if _, err := tx.AppendLedger(ctx, []store.LedgerRecord{record(t, rnd, 3, o[0].Seq)}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update: %v, want boom", err)
	}
	if n := ledgerSize(t, s); n != 2 {
		t.Errorf("LedgerSize = %d, want 2: a failed Update kept its entry", n)
	}
	objs, err := s.LedgerObjects(ctx, 0, 10)
	if err != nil {
		t.Fatalf("LedgerObjects: %v", err)
	}
	if len(objs) != 2 {
		t.Fatalf("LedgerObjects = %+v, want the 2 committed versions", objs)
	}
	for i, o := range objs {
		if o.Seq != out[i].Seq || o.Entry != int64(i) || o.ID != id("tool", i+1) || o.Version != v || o.Collection != coll1 || len(o.Raw) == 0 {
			t.Errorf("LedgerObjects[%d] = %+v, want seq %d recorded by entry %d", i, o, out[i].Seq, i)
		}
		r, err := s.LedgerRecordOf(ctx, o.Seq)
		if err != nil || r.Index != int64(i) || r.Object != o.Seq {
			t.Errorf("LedgerRecordOf(%d) = %+v, %v; want entry %d", o.Seq, r, err, i)
		}
	}
	if objs, err := s.LedgerObjects(ctx, out[0].Seq, 10); err != nil || len(objs) != 1 || objs[0].Seq != out[1].Seq {
		t.Errorf("LedgerObjects after %d = %+v, %v; want the second version alone", out[0].Seq, objs, err)
	}
	if _, err := s.LedgerRecordOf(ctx, out[1].Seq+100); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LedgerRecordOf an unknown version: %v, want ErrNotFound", err)
	}

	// A version stored without an entry is listed with Entry -1.
	plain := mustAdd(t, s, coll1, sdo("tool", 4, v, ""))
	objs, err = s.LedgerObjects(ctx, out[1].Seq, 10)
	if err != nil || len(objs) != 1 || objs[0].Seq != plain[0].Seq || objs[0].Entry != -1 {
		t.Errorf("LedgerObjects of a version without entry = %+v, %v; want it with Entry -1", objs, err)
	}
}

// testLedgerHashes appends in batches of several sizes and checks the
// stored hashes against tlog's own computation.
func testLedgerHashes(t *testing.T, s store.Store) {
	setup(t, s)
	ctx := t.Context()
	rnd := seededRand{rand.NewChaCha8([32]byte{3})}
	var leaves [][]byte
	n := 0
	for _, size := range []int{1, 2, 5, 1, 13, 256, 3, 40} {
		recs := make([]store.LedgerRecord, size)
		for i := range recs {
			n++
			recs[i] = record(t, rnd, n, 0)
			leaves = append(leaves, recs[i].Commitment[:])
		}
		appendLedger(t, s, recs)
	}
	var want []tlog.Hash
	for i, l := range leaves {
		hs, err := tlog.StoredHashes(int64(i), l, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(idx))
			for j, x := range idx {
				out[j] = want[x]
			}
			return out, nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, hs...)
	}
	// tlog hashes a record as SHA-256(0x00 || data): the commitment is the
	// record, so the leaf hash is Commitment.LeafHash.
	if tlog.StoredHashCount(int64(n)) != int64(len(want)) {
		t.Fatalf("tlog.StoredHashCount(%d) = %d, computed %d", n, tlog.StoredHashCount(int64(n)), len(want))
	}
	idx := make([]int64, len(want))
	for i := range idx {
		idx[len(idx)-1-i] = int64(i) // in reverse: the order asked is the order returned
	}
	got, err := s.ReadLedgerHashes(ctx, idx)
	if err != nil {
		t.Fatalf("ReadLedgerHashes: %v", err)
	}
	for i, x := range idx {
		if got[i] != want[x] {
			t.Fatalf("stored hash %d = %x, want %x (tlog)", x, got[i], want[x])
		}
	}
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) { return s.ReadLedgerHashes(ctx, idx) })
	root, err := tlog.TreeHash(int64(n), reader)
	if err != nil {
		t.Fatalf("tlog.TreeHash over the store: %v", err)
	}
	var rb ledger.RootBuilder
	for _, r := range records(t, s, 0, int64(n)) {
		rb.Append(r.Commitment)
	}
	if rb.Tree().Hash != root || rb.Tree().N != int64(n) {
		t.Errorf("tree from the stored hashes %x, from the stored entries %v", root, rb.Tree())
	}
	if _, err := s.ReadLedgerHashes(ctx, []int64{int64(len(want))}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ReadLedgerHashes beyond the log: %v, want ErrNotFound", err)
	}
}

// testLedgerConcurrentAppends runs writers at once: the log gets every
// entry once, at consecutive indexes, and its hashes stay those of tlog.
func testLedgerConcurrentAppends(t *testing.T, s store.Store) {
	setup(t, s)
	const writers, each = 4, 10
	var wg sync.WaitGroup
	firsts := make(chan int64, writers*each)
	for w := range writers {
		wg.Go(func() {
			rnd := seededRand{rand.NewChaCha8([32]byte{4, byte(w)})}
			for i := range each {
				err := s.Update(context.Background(), func(ctx context.Context, tx store.Tx) error {
					first, err := tx.AppendLedger(ctx, []store.LedgerRecord{record(t, rnd, w*100+i, 0), record(t, rnd, w*100+i+50, 0)})
					firsts <- first
					return err
				})
				if err != nil {
					t.Errorf("AppendLedger: %v", err)
				}
			}
		})
	}
	wg.Wait()
	close(firsts)
	var got []int64
	for f := range firsts {
		got = append(got, f)
	}
	slices.Sort(got)
	for i, f := range got {
		if f != int64(2*i) {
			t.Fatalf("appends started at %v; want 0, 2, 4, …", got)
		}
	}
	n := ledgerSize(t, s)
	if n != 2*writers*each {
		t.Fatalf("LedgerSize = %d, want %d", n, 2*writers*each)
	}
	var rb ledger.RootBuilder
	for _, r := range records(t, s, 0, n) {
		rb.Append(r.Commitment)
	}
	root, err := tlog.TreeHash(n, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) { return s.ReadLedgerHashes(t.Context(), idx) }))
	if err != nil || root != rb.Tree().Hash {
		t.Errorf("root from the stored hashes %x (%v), from the entries %x", root, err, rb.Tree().Hash)
	}
}

func testLedgerBadCommitment(t *testing.T, s store.Store) {
	setup(t, s)
	rnd := seededRand{rand.NewChaCha8([32]byte{5})}
	r := record(t, rnd, 1, 0)
	r.Commitment[0] ^= 1
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
		_, err := tx.AppendLedger(ctx, []store.LedgerRecord{r})
		return err
	})
	if err == nil {
		t.Errorf("AppendLedger of a record whose commitment is not its salt and entry's: no error")
	}
	// The zero commitment asks the store to compute it.
	r.Commitment = ledger.Commitment{}
	appendLedger(t, s, []store.LedgerRecord{r})
	if got := records(t, s, 0, 1); len(got) != 1 || got[0].Commitment != ledger.CommitEncoded(r.Salt, r.Entry) {
		t.Errorf("LedgerRecords = %+v, want the computed commitment", got)
	}
	for _, bad := range [][]string{{""}, {"a\nb"}} {
		r := record(t, rnd, 2, 0)
		r.Concerns = bad
		err := s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
			_, err := tx.AppendLedger(ctx, []store.LedgerRecord{r})
			return err
		})
		if err == nil {
			t.Errorf("AppendLedger with concerns %q: no error", bad)
		}
	}
}

func testCheckpoints(t *testing.T, s store.Store) {
	setup(t, s)
	ctx := t.Context()
	rnd := seededRand{rand.NewChaCha8([32]byte{6})}
	if _, err := s.LatestCheckpoint(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestCheckpoint of a new store: %v, want ErrNotFound", err)
	}
	appendLedger(t, s, []store.LedgerRecord{record(t, rnd, 1, 0), record(t, rnd, 2, 0), record(t, rnd, 3, 0)})
	at := time.Date(2024, 2, 3, 4, 5, 6, 7000, time.UTC)
	cp := func(size int64) store.StoredCheckpoint {
		return store.StoredCheckpoint{Size: size, Note: fmt.Appendf(nil, "log\n%d\nnote\n", size), Signed: at.Add(time.Duration(size) * time.Second)}
	}
	for _, size := range []int64{1, 3} {
		if err := s.PutCheckpoint(ctx, cp(size)); err != nil {
			t.Fatalf("PutCheckpoint(%d): %v", size, err)
		}
	}
	for _, size := range []int64{3, 2, 4} {
		if err := s.PutCheckpoint(ctx, cp(size)); !errors.Is(err, store.ErrConflict) {
			t.Errorf("PutCheckpoint(%d) after 3 of a 3-entry log: %v, want ErrConflict", size, err)
		}
	}
	equal := func(a, b store.StoredCheckpoint) bool {
		return a.Size == b.Size && string(a.Note) == string(b.Note) && a.Signed.Equal(b.Signed)
	}
	if c, err := s.LatestCheckpoint(ctx); err != nil || !equal(c, cp(3)) {
		t.Errorf("LatestCheckpoint = %+v, %v; want %+v", c, err, cp(3))
	}
	all, err := s.Checkpoints(ctx, 0, 10)
	if err != nil || !slices.EqualFunc(all, []store.StoredCheckpoint{cp(1), cp(3)}, equal) {
		t.Errorf("Checkpoints(0, 10) = %+v, %v; want sizes 1 and 3", all, err)
	}
	if page, err := s.Checkpoints(ctx, 1, 10); err != nil || len(page) != 1 || page[0].Size != 3 {
		t.Errorf("Checkpoints(1, 10) = %+v, %v; want size 3 alone", page, err)
	}
	if page, err := s.Checkpoints(ctx, 0, 1); err != nil || len(page) != 1 || page[0].Size != 1 {
		t.Errorf("Checkpoints(0, 1) = %+v, %v; want size 1 alone", page, err)
	}
}
