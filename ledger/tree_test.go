package ledger

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
	"pgregory.net/rapid"
)

// seeded is a deterministic randomness source for salts.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

func TestCommitment(t *testing.T) {
	e := sampleEntries()[2]
	o, c, err := Commit(e, seeded(1))
	if err != nil {
		t.Fatal(err)
	}
	// The scheme, computed independently: SHA-256(domain || salt || entry).
	want := sha256.Sum256(append(append([]byte("entente ledger commitment v1\x00"), o.Salt[:]...), mustEncode(t, e)...))
	if c != Commitment(want) {
		t.Fatalf("commitment %x, want %x", c, want)
	}
	if err := o.Verify(c); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.LeafHash() != tlog.RecordHash(c[:]) {
		t.Error("leaf hash is not the RFC 6962 record hash of the commitment")
	}

	o2, c2, err := Commit(e, seeded(2))
	if err != nil {
		t.Fatal(err)
	}
	if c2 == c || o2.Salt == o.Salt {
		t.Error("two commitments to one entry under fresh salts are equal")
	}
	if err := o2.Verify(c); !errors.Is(err, ErrOpeningMismatch) {
		t.Errorf("another salt opens the commitment: %v", err)
	}
	other := o
	other.Entry = sampleEntries()[3]
	if err := other.Verify(c); !errors.Is(err, ErrOpeningMismatch) {
		t.Errorf("another entry opens the commitment: %v", err)
	}

	b, err := o.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseOpening(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Verify(c); err != nil {
		t.Errorf("parsed opening does not verify: %v", err)
	}
	if _, err := ParseOpening(b[:20]); !errors.Is(err, ErrMalformedEntry) {
		t.Errorf("short opening: %v", err)
	}
	if CommitEncoded(o.Salt, mustEncode(t, e)) != c {
		t.Error("CommitEncoded differs from Commit")
	}
	if _, _, err := Commit(e, strings.NewReader("short")); err == nil {
		t.Error("Commit with a failing randomness source succeeded")
	}
}

// memHashes is a whole log's stored hashes in memory.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, errors.New("hash index out of range")
		}
		out[i] = m[x]
	}
	return out, nil
}

// fataler is what testing.TB and rapid.T have in common.
type fataler interface {
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// testLog appends commitments in batches, as a store would.
type testLog struct {
	hashes  memHashes
	leaves  []Commitment
	entries []Opening
}

func (l *testLog) appendBatch(t fataler, n int, rnd *rand.ChaCha8) {
	b := NewBatch(int64(len(l.leaves)), l.hashes)
	for range n {
		e := sampleEntries()[len(l.leaves)%len(sampleEntries())]
		o, c, err := Commit(e, rnd)
		if err != nil {
			t.Fatal(err)
		}
		i, err := b.Append(c)
		if err != nil {
			t.Fatal(err)
		}
		if i != int64(len(l.leaves)) {
			t.Fatalf("Append returned index %d, want %d", i, len(l.leaves))
		}
		l.leaves = append(l.leaves, c)
		l.entries = append(l.entries, o)
	}
	if b.FirstIndex() != int64(len(l.hashes)) {
		t.Fatalf("batch starts at storage index %d, log has %d hashes", b.FirstIndex(), len(l.hashes))
	}
	l.hashes = append(l.hashes, b.Hashes()...)
}

// appendSynthetic appends n stand-in commitments, without openings, in one
// batch: for tests of the tree alone.
func (l *testLog) appendSynthetic(t fataler, n int) {
	b := NewBatch(int64(len(l.leaves)), l.hashes)
	for range n {
		c := Commitment(sha256.Sum256([]byte(fmt.Sprint(len(l.leaves)))))
		if _, err := b.Append(c); err != nil {
			t.Fatal(err)
		}
		l.leaves = append(l.leaves, c)
	}
	l.hashes = append(l.hashes, b.Hashes()...)
}

func (l *testLog) tree(t fataler, n int64) tlog.Tree {
	h, err := tlog.TreeHash(n, l.hashes)
	if err != nil {
		t.Fatal(err)
	}
	return tlog.Tree{N: n, Hash: h}
}

func TestBatchMatchesOneByOne(t *testing.T) {
	var batched testLog
	rnd := seeded(3)
	for _, n := range []int{1, 2, 5, 256, 300, 1} {
		batched.appendBatch(t, n, rnd)
	}
	whole := NewBatch(0, nil)
	for _, c := range batched.leaves {
		if _, err := whole.Append(c); err != nil {
			t.Fatal(err)
		}
	}
	if !slicesEqual(whole.Hashes(), batched.hashes) {
		t.Fatal("hashes stored batch by batch differ from one batch")
	}
	got, err := whole.Tree()
	if err != nil {
		t.Fatal(err)
	}
	if want := batched.tree(t, int64(len(batched.leaves))); got != want {
		t.Errorf("tree %v, want %v", got, want)
	}
	// A batch can prove before it is written.
	p, err := ProveInclusion(whole.Size(), 3, whole)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckInclusion(p, got, 3, batched.leaves[3]); err != nil {
		t.Error(err)
	}
}

func slicesEqual(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func flipBit(h tlog.Hash, bit int) tlog.Hash {
	h[bit/8%32] ^= 1 << (bit % 8)
	return h
}

// TestProofsProperty appends random batches, takes checkpoints, and checks
// that every inclusion and consistency proof verifies and that a proof with
// one bit flipped does not.
func TestProofsProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var l testLog
		rnd := seeded(rapid.Uint64().Draw(rt, "seed"))
		var checkpoints []tlog.Tree
		for range rapid.IntRange(1, 8).Draw(rt, "batches") {
			l.appendBatch(rt, rapid.IntRange(1, 300).Draw(rt, "batch size"), rnd)
			if rapid.Bool().Draw(rt, "checkpoint") || len(checkpoints) == 0 {
				checkpoints = append(checkpoints, l.tree(rt, int64(len(l.leaves))))
			}
		}
		for ci, cp := range checkpoints {
			index := rapid.Int64Range(0, cp.N-1).Draw(rt, "index")
			p, err := ProveInclusion(cp.N, index, l.hashes)
			if err != nil {
				rt.Fatal(err)
			}
			if err := CheckInclusion(p, cp, index, l.leaves[index]); err != nil {
				rt.Fatalf("inclusion of %d in %d: %v", index, cp.N, err)
			}
			if err := l.entries[index].Verify(l.leaves[index]); err != nil {
				rt.Fatalf("opening %d: %v", index, err)
			}
			for k := range p {
				bit := rapid.IntRange(0, 255).Draw(rt, "bit")
				q := append(tlog.RecordProof(nil), p...)
				q[k] = flipBit(q[k], bit)
				if err := CheckInclusion(q, cp, index, l.leaves[index]); !errors.Is(err, ErrInvalidProof) {
					rt.Fatalf("inclusion proof with bit %d of hash %d flipped: %v", bit, k, err)
				}
			}
			if err := CheckInclusion(p, cp, index, Commitment(flipBit(tlog.Hash(l.leaves[index]), 0))); err == nil {
				rt.Fatal("inclusion of an altered leaf verified")
			}
			for _, old := range checkpoints[:ci+1] {
				p, err := ProveConsistency(cp.N, old.N, l.hashes)
				if err != nil {
					rt.Fatal(err)
				}
				if err := CheckConsistency(p, cp, old); err != nil {
					rt.Fatalf("consistency %d -> %d: %v", old.N, cp.N, err)
				}
				for k := range p {
					bit := rapid.IntRange(0, 255).Draw(rt, "bit")
					q := append(tlog.TreeProof(nil), p...)
					q[k] = flipBit(q[k], bit)
					if err := CheckConsistency(q, cp, old); !errors.Is(err, ErrInvalidProof) {
						rt.Fatalf("consistency proof %d -> %d with bit %d of hash %d flipped: %v", old.N, cp.N, bit, k, err)
					}
				}
				if old.N != cp.N {
					forged := old
					forged.Hash = flipBit(forged.Hash, rapid.IntRange(0, 255).Draw(rt, "bit"))
					if err := CheckConsistency(p, cp, forged); !errors.Is(err, ErrInvalidProof) {
						rt.Fatalf("consistency with an altered old root verified: %v", err)
					}
				}
			}
		}
	})
}

func TestConsistencyEdges(t *testing.T) {
	var l testLog
	l.appendBatch(t, 10, seeded(4))
	t10 := l.tree(t, 10)
	if p, err := ProveConsistency(10, 0, l.hashes); err != nil || len(p) != 0 {
		t.Errorf("proof from 0 = %v, %v; want empty", p, err)
	}
	if err := CheckConsistency(nil, t10, tlog.Tree{}); err != nil {
		t.Errorf("empty proof from 0: %v", err)
	}
	if err := CheckConsistency(tlog.TreeProof{{1}}, t10, tlog.Tree{}); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("non-empty proof from 0: %v", err)
	}
	if err := CheckConsistency(nil, t10, t10); err != nil {
		t.Errorf("same tree: %v", err)
	}
	other := t10
	other.Hash[0] ^= 1
	if err := CheckConsistency(nil, t10, other); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("same size, other root: %v", err)
	}
	if err := CheckConsistency(nil, l.tree(t, 5), t10); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("shrinking log: %v", err)
	}
	if _, err := ProveConsistency(5, 10, l.hashes); err == nil {
		t.Error("proved a shrinking log")
	}
	if _, err := ProveInclusion(10, 10, l.hashes); err == nil {
		t.Error("proved an entry beyond the log")
	}
	if err := CheckInclusion(nil, t10, 11, l.leaves[0]); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("inclusion beyond the log: %v", err)
	}
	if err := CheckConsistency(nil, tlog.Tree{N: 0, Hash: tlog.Hash{1}}, tlog.Tree{}); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("empty log with a non-empty root: %v", err)
	}
	if !bytes.Equal(EmptyTreeHash[:], sha256.New().Sum(nil)) {
		t.Error("EmptyTreeHash is not SHA-256 of nothing")
	}
}

// TestBatchAgainstTlog checks the batch's stored hashes and the root
// builder against tlog's own functions, leaf by leaf, across tile and
// subtree boundaries.
func TestBatchAgainstTlog(t *testing.T) {
	var ref memHashes
	b := NewBatch(0, nil)
	var rb RootBuilder
	if rb.Tree() != (tlog.Tree{Hash: EmptyTreeHash}) {
		t.Fatal("empty root builder")
	}
	for n := int64(0); n < 1100; n++ {
		c := Commitment(sha256.Sum256([]byte{byte(n), byte(n >> 8)}))
		hs, err := tlog.StoredHashes(n, c[:], ref)
		if err != nil {
			t.Fatal(err)
		}
		ref = append(ref, hs...)
		if _, err := b.Append(c); err != nil {
			t.Fatal(err)
		}
		rb.Append(c)
		want, err := tlog.TreeHash(n+1, ref)
		if err != nil {
			t.Fatal(err)
		}
		if got := rb.Tree(); got != (tlog.Tree{N: n + 1, Hash: want}) {
			t.Fatalf("root builder at %d: %v, want %v", n+1, got, want)
		}
		if n%97 == 0 || n == 1099 {
			if !slicesEqual(b.Hashes(), ref) {
				t.Fatalf("batch hashes differ from tlog.StoredHashes after %d leaves", n+1)
			}
		}
	}
	// A batch on top of stored hashes reads its left siblings from them.
	top := NewBatch(1100, ref)
	c := Commitment{9}
	if _, err := top.Append(c); err != nil {
		t.Fatal(err)
	}
	hs, _ := tlog.StoredHashes(1100, c[:], ref)
	if !slicesEqual(top.Hashes(), hs) {
		t.Error("a batch on stored hashes differs from tlog")
	}
}

func TestCommitLargeEntry(t *testing.T) {
	e := Entry{testTime, Received{From: strings.Repeat("p", 2000), Object: testObject(1)}}
	o, c, err := Commit(e, seeded(12))
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(append(append([]byte("entente ledger commitment v1\x00"), o.Salt[:]...), mustEncode(t, e)...))
	if c != Commitment(want) {
		t.Fatal("commitment of a large entry differs")
	}
}
