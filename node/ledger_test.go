package node

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
)

func testKey(t *testing.T) *Key {
	t.Helper()
	skey, err := GenerateKey("node.a.example")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestLedgerEntries checks that each stored version gets one originated
// entry in the envelope's transaction, and that duplicates and invalid
// objects get none.
func TestLedgerEntries(t *testing.T) {
	f := newFixture(t)
	c := f.callers[store.RoleAnalyst]
	const v1, v2 = "2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z"
	env := []json.RawMessage{indicator(1, v1), indicator(2, v1), json.RawMessage(`{"type":"indicator"}`)}
	if _, err := f.node.AddObjects(t.Context(), c, DefaultAPIRoot, f.ini.CollectionID, env); err != nil {
		t.Fatal(err)
	}
	// Again, with one new version: only it is recorded.
	env = []json.RawMessage{indicator(1, v1), indicator(2, v1), indicator(2, v2)}
	if _, err := f.node.AddObjects(t.Context(), c, DefaultAPIRoot, f.ini.CollectionID, env); err != nil {
		t.Fatal(err)
	}
	recs := f.st.ledger
	if len(recs) != 3 {
		t.Fatalf("%d entries, want 3 (two objects, then one new version)", len(recs))
	}
	want := []struct {
		raw     json.RawMessage
		version string
	}{{indicator(1, v1), v1}, {indicator(2, v1), v1}, {indicator(2, v2), v2}}
	for i, r := range recs {
		e, err := ledger.DecodeEntry(r.Entry)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		o, ok := e.Event.(ledger.Originated)
		if !ok {
			t.Fatalf("entry %d is %s, want originated (posted by a local account)", i, e.Event.Kind())
		}
		canon, err := stix.Canonical(want[i].raw)
		if err != nil {
			t.Fatal(err)
		}
		obj, _ := stix.Parse(want[i].raw)
		if o.Object.ID != obj.ID || o.Object.Version != want[i].version || o.Object.Digest != ledger.Digest(sha256.Sum256(canon)) {
			t.Errorf("entry %d records %+v, want %s@%s with the SHA-256 of its canonical form", i, o.Object, obj.ID, want[i].version)
		}
		if !e.Time.Equal(f.clock) {
			t.Errorf("entry %d at %v, want the request's time %v", i, e.Time, f.clock)
		}
		if len(r.Concerns) != 0 {
			t.Errorf("entry %d concerns %v; an originated entry concerns no partner", i, r.Concerns)
		}
		if r.Object == 0 || f.st.objects[i].Seq != r.Object {
			t.Errorf("entry %d records object version %d, want %d", i, r.Object, f.st.objects[i].Seq)
		}
	}
	if recs[0].Salt == recs[1].Salt {
		t.Errorf("two entries share a salt")
	}
}

// TestLedgerEntriesFailedCommit: a commit that fails keeps no entry, and
// the next commit's entries follow the last committed ones.
func TestLedgerEntriesFailedCommit(t *testing.T) {
	f := newFixture(t)
	c := f.callers[store.RoleAnalyst]
	boom := errors.New("disk full")
	f.st.commitHook = func() error { return boom }
	if _, err := f.node.AddObjects(t.Context(), c, DefaultAPIRoot, f.ini.CollectionID, []json.RawMessage{indicator(1, "2024-01-01T00:00:00.000Z")}); !errors.Is(err, boom) {
		t.Fatalf("AddObjects with a failing commit: %v, want %v", err, boom)
	}
	if len(f.st.ledger) != 0 || len(f.st.objects) != 0 {
		t.Fatalf("a failed commit kept %d entries and %d objects", len(f.st.ledger), len(f.st.objects))
	}
	f.st.commitHook = nil
	if _, err := f.node.AddObjects(t.Context(), c, DefaultAPIRoot, f.ini.CollectionID, []json.RawMessage{indicator(1, "2024-01-01T00:00:00.000Z")}); err != nil {
		t.Fatal(err)
	}
	if len(f.st.ledger) != 1 || f.st.ledger[0].Index != 0 {
		t.Fatalf("after a failed commit, entries %+v; want one at index 0", f.st.ledger)
	}
}

func newLedgerNode(t *testing.T, f *fixture, key *Key, interval time.Duration) *Node {
	t.Helper()
	n, err := New(t.Context(), Config{Store: f.st, Now: func() time.Time { return f.clock }, Key: key, CheckpointInterval: interval})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCheckpoint checks that a checkpoint is signed only when the log
// grew, by the node key, for the log's root, and consistent with the one
// before. The log starts with the entry that records the node's key.
func TestCheckpoint(t *testing.T) {
	f := newFixture(t)
	key := testKey(t)
	n := newLedgerNode(t, f, key, time.Hour)
	c := f.callers[store.RoleAnalyst]
	ctx := t.Context()
	if len(f.st.ledger) != 1 {
		t.Fatalf("a new node's log holds %d entries; want the one recording its key", len(f.st.ledger))
	}
	if cp, signed, err := n.Checkpoint(ctx); err != nil || !signed || cp.Size != 1 {
		t.Fatalf("Checkpoint of the new log: %+v, signed %v, %v; want size 1 signed", cp, signed, err)
	}
	if _, signed, err := n.Checkpoint(ctx); err != nil || signed {
		t.Fatalf("Checkpoint without growth: signed %v, %v; want nothing signed", signed, err)
	}
	verifier, err := note.NewVerifier(key.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	var trees []tlog.Tree
	for round := range 3 {
		if _, err := n.AddObjects(ctx, c, DefaultAPIRoot, f.ini.CollectionID, []json.RawMessage{indicator(2*round, "2024-01-01T00:00:00.000Z"), indicator(2*round+1, "2024-01-01T00:00:00.000Z")}); err != nil {
			t.Fatal(err)
		}
		cp, signed, err := n.Checkpoint(ctx)
		if err != nil || !signed {
			t.Fatalf("Checkpoint after growth: signed %v, %v", signed, err)
		}
		if _, signed, err := n.Checkpoint(ctx); err != nil || signed {
			t.Fatalf("Checkpoint without growth: signed %v, %v; want nothing signed", signed, err)
		}
		got, _, err := ledger.OpenCheckpoint(cp.Note, DefaultLogName(key), verifier)
		if err != nil {
			t.Fatalf("the checkpoint does not verify with the node key for %q: %v", DefaultLogName(key), err)
		}
		var rb ledger.RootBuilder
		for _, r := range f.st.ledger {
			rb.Append(r.Commitment)
		}
		if got.Tree != rb.Tree() || cp.Size != int64(2*round+3) {
			t.Fatalf("checkpoint %v (stored as size %d), want the log's tree %v", got.Tree, cp.Size, rb.Tree())
		}
		for _, old := range trees {
			p, err := ledger.ProveConsistency(got.N, old.N, tlog.HashReaderFunc(f.st.readHashes))
			if err != nil {
				t.Fatal(err)
			}
			if err := ledger.CheckConsistency(p, got.Tree, old); err != nil {
				t.Errorf("checkpoint %d is not consistent with checkpoint %d: %v", got.N, old.N, err)
			}
		}
		trees = append(trees, got.Tree)
	}

	// A log that shrank below its latest checkpoint is never signed.
	f.st.ledger = f.st.ledger[:2]
	if _, signed, err := n.Checkpoint(ctx); err == nil || signed {
		t.Errorf("Checkpoint of a log smaller than its latest checkpoint: signed %v, %v; want an error", signed, err)
	}
}

// TestCheckpointRejectsFork: a log whose stored hashes were rewritten (a
// different history of the same or larger size) is not signed.
func TestCheckpointRejectsFork(t *testing.T) {
	f := newFixture(t)
	n := newLedgerNode(t, f, testKey(t), time.Hour)
	c := f.callers[store.RoleAnalyst]
	ctx := t.Context()
	add := func(i int) {
		if _, err := n.AddObjects(ctx, c, DefaultAPIRoot, f.ini.CollectionID, []json.RawMessage{indicator(i, "2024-01-01T00:00:00.000Z")}); err != nil {
			t.Fatal(err)
		}
	}
	add(1)
	add(2)
	if _, signed, err := n.Checkpoint(ctx); !signed || err != nil {
		t.Fatalf("Checkpoint: %v, %v", signed, err)
	}
	f.st.hashes[tlog.StoredHashIndex(1, 0)][0] ^= 1 // the hash over entries 0 and 1
	add(3)
	if _, signed, err := n.Checkpoint(ctx); err == nil || signed {
		t.Errorf("Checkpoint of a log inconsistent with its latest checkpoint: signed %v, %v; want an error", signed, err)
	}
}

// TestRunSignsCheckpoints: Run signs once the log grows, no more than
// once per interval, and a last time when it stops.
func TestRunSignsCheckpoints(t *testing.T) {
	f := newFixture(t)
	const interval = 40 * time.Millisecond
	n := newLedgerNode(t, f, testKey(t), interval)
	c := f.callers[store.RoleAnalyst]
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	start := time.Now()
	go func() { done <- n.Run(ctx) }()
	for i := 0; time.Since(start) < 10*interval; i++ {
		if _, err := n.AddObjects(t.Context(), c, DefaultAPIRoot, f.ini.CollectionID, []json.RawMessage{indicator(i, "2024-01-01T00:00:00.000Z")}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	cps, _ := f.st.Checkpoints(t.Context(), 0, 1<<20)
	// One per interval at most, plus the last one at stop.
	if max := int(elapsed/interval) + 2; len(cps) > max {
		t.Errorf("%d checkpoints in %v; want at most %d at one per %v", len(cps), elapsed, max, interval)
	}
	if len(cps) < 2 {
		t.Errorf("%d checkpoints while the log grew for %v; want several", len(cps), elapsed)
	}
	if last := cps[len(cps)-1]; last.Size != int64(len(f.st.ledger)) {
		t.Errorf("the last checkpoint is of size %d, the log's size is %d: Run did not sign at stop", last.Size, len(f.st.ledger))
	}
}
