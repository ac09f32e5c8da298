package ledger

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// memState is an in-memory WitnessState. beforeSwap, if set, runs inside
// Swap, to inject a concurrent update.
type memState struct {
	mu         sync.Mutex
	latest     map[string][]byte
	beforeSwap func(origin string)
}

func (s *memState) Latest(_ context.Context, origin string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest[origin], nil
}

func (s *memState) Swap(_ context.Context, origin string, old, next []byte) error {
	if s.beforeSwap != nil {
		s.beforeSwap(origin)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !bytes.Equal(s.latest[origin], old) {
		return ErrStateChanged
	}
	if s.latest == nil {
		s.latest = map[string][]byte{}
	}
	s.latest[origin] = bytes.Clone(next)
	return nil
}

const testOrigin = "a.example/ledger"

type witnessFixture struct {
	log      testLog
	signer   note.Signer
	verifier note.Verifier
	cosigner *Cosigner
	state    *memState
	w        *Witness
}

func newWitnessFixture(t testing.TB) *witnessFixture {
	f := &witnessFixture{state: &memState{}}
	f.signer, f.verifier, _ = testKey(t, "node.a.example/1", 21)
	f.cosigner = testCosigner(t, "witness.b.example", 22)
	f.w = &Witness{Cosigner: f.cosigner, Logs: map[string][]note.Verifier{testOrigin: {f.verifier}}, State: f.state}
	return f
}

// checkpoint signs the log's checkpoint at size n.
func (f *witnessFixture) checkpoint(t testing.TB, n int64) []byte {
	t.Helper()
	msg, err := SignCheckpoint(Checkpoint{Origin: testOrigin, Tree: f.log.tree(t, n)}, f.signer)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func (f *witnessFixture) request(t testing.TB, old, n int64) []byte {
	t.Helper()
	p, err := ProveConsistency(n, old, f.log.hashes)
	if err != nil {
		t.Fatal(err)
	}
	return AddRequest{Old: old, Proof: p, Checkpoint: f.checkpoint(t, n)}.Marshal()
}

func TestWitnessAccepts(t *testing.T) {
	f := newWitnessFixture(t)
	f.log.appendBatch(t, 10, seeded(7))
	ctx := context.Background()
	for _, step := range []struct{ old, n int64 }{{0, 3}, {3, 10}, {10, 10}} {
		if step.n > int64(len(f.log.leaves)) {
			t.Fatal("test log too short")
		}
		req := f.request(t, step.old, step.n)
		lines, err := f.w.Add(ctx, req)
		if err != nil {
			t.Fatalf("old %d, size %d: %v", step.old, step.n, err)
		}
		// The answer appended to the checkpoint meets a 1-of-1 policy.
		both, err := AddCosignatures(f.checkpoint(t, step.n), lines)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := NewPolicy(1, f.cosigner.VerifierKey())
		if c, err := p.Final(both, testOrigin, f.verifier); err != nil || c.N != step.n {
			t.Fatalf("cosigned checkpoint: %+v, %v", c, err)
		}
		if got, _ := f.state.Latest(ctx, testOrigin); !bytes.Equal(got, f.checkpoint(t, step.n)) {
			t.Fatalf("state after accepting size %d: %q", step.n, got)
		}
	}
}

func TestWitnessRefuses(t *testing.T) {
	ctx := context.Background()
	f := newWitnessFixture(t)
	f.log.appendBatch(t, 20, seeded(8))
	if _, err := f.w.Add(ctx, f.request(t, 0, 5)); err != nil {
		t.Fatal(err)
	}
	stranger, _, _ := testKey(t, "node.a.example/1", 99)
	strangerMsg, _ := SignCheckpoint(Checkpoint{Origin: testOrigin, Tree: f.log.tree(t, 8)}, stranger)
	otherLog, _ := SignCheckpoint(Checkpoint{Origin: "c.example/ledger", Tree: f.log.tree(t, 8)}, f.signer)
	proof58, _ := ProveConsistency(8, 5, f.log.hashes)
	badProof := append(tlog.TreeProof(nil), proof58...)
	badProof[0][0] ^= 1

	// A fork: a different log of the same length signed by the same key.
	var forked testLog
	forked.appendBatch(t, 5, seeded(9))
	forkMsg, _ := SignCheckpoint(Checkpoint{Origin: testOrigin, Tree: forked.tree(t, 5)}, f.signer)
	tamperedSig := bytes.Replace(f.checkpoint(t, 8), []byte("\n8\n"), []byte("\n9\n"), 1)

	for _, tc := range []struct {
		name string
		body []byte
		want error
	}{
		{"garbage", []byte("hello"), ErrMalformedRequest},
		{"unknown origin", AddRequest{Old: 5, Proof: proof58, Checkpoint: otherLog}.Marshal(), ErrUnknownLog},
		{"unknown key", AddRequest{Old: 5, Proof: proof58, Checkpoint: strangerMsg}.Marshal(), ErrUntrusted},
		{"bad signature", AddRequest{Old: 5, Proof: proof58, Checkpoint: tamperedSig}.Marshal(), ErrUntrusted},
		{"old beyond size", AddRequest{Old: 9, Proof: proof58, Checkpoint: f.checkpoint(t, 8)}.Marshal(), ErrMalformedRequest},
		{"old behind", f.request(t, 3, 8), ErrConflict},
		{"old 0 probe", AddRequest{Old: 0, Checkpoint: f.checkpoint(t, 8)}.Marshal(), ErrConflict},
		{"bad proof", AddRequest{Old: 5, Proof: badProof, Checkpoint: f.checkpoint(t, 8)}.Marshal(), ErrInconsistent},
		{"no proof", AddRequest{Old: 5, Checkpoint: f.checkpoint(t, 8)}.Marshal(), ErrInconsistent},
		{"fork", AddRequest{Old: 5, Checkpoint: forkMsg}.Marshal(), ErrFork},
		{"rollback", AddRequest{Old: 3, Checkpoint: f.checkpoint(t, 3)}.Marshal(), ErrRollback},
	} {
		_, err := f.w.Add(ctx, tc.body)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if got, _ := f.state.Latest(ctx, testOrigin); !bytes.Equal(got, f.checkpoint(t, 5)) {
			t.Fatalf("%s changed the witnessed checkpoint", tc.name)
		}
	}
	var conflict *ConflictError
	if _, err := f.w.Add(ctx, f.request(t, 3, 8)); !errors.As(err, &conflict) || conflict.Latest != 5 || conflict.Rollback {
		t.Errorf("conflict answer: %v", err)
	}
	if _, err := f.w.Add(ctx, AddRequest{Old: 3, Checkpoint: f.checkpoint(t, 3)}.Marshal()); !errors.As(err, &conflict) || !conflict.Rollback {
		t.Errorf("rollback answer: %v", err)
	}
	// A fresh witness: a non-empty proof from size 0 is refused.
	g := newWitnessFixture(t)
	g.log = f.log
	if _, err := g.w.Add(ctx, AddRequest{Old: 0, Proof: tlog.TreeProof{{1}}, Checkpoint: g.checkpoint(t, 5)}.Marshal()); !errors.Is(err, ErrInconsistent) {
		t.Errorf("non-empty proof from 0: %v", err)
	}
}

// TestWitnessRace checks the compare-and-set: a request checked against
// size N that loses the race to one for N+K gets a conflict, and the
// witnessed size does not roll back.
func TestWitnessRace(t *testing.T) {
	ctx := context.Background()
	f := newWitnessFixture(t)
	f.log.appendBatch(t, 20, seeded(10))
	if _, err := f.w.Add(ctx, f.request(t, 0, 5)); err != nil {
		t.Fatal(err)
	}
	f.state.beforeSwap = func(origin string) {
		f.state.beforeSwap = nil
		if _, err := f.w.Add(ctx, f.request(t, 5, 12)); err != nil {
			t.Errorf("the racing request: %v", err)
		}
	}
	var conflict *ConflictError
	if _, err := f.w.Add(ctx, f.request(t, 5, 8)); !errors.As(err, &conflict) || conflict.Latest != 12 {
		t.Fatalf("the losing request: %v", err)
	}
	if got, _ := f.state.Latest(ctx, testOrigin); !bytes.Equal(got, f.checkpoint(t, 12)) {
		t.Fatal("the witnessed checkpoint rolled back")
	}
}

func TestParseAddRequest(t *testing.T) {
	spec := "old 20852014\n" +
		"PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n" +
		"jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n" +
		"5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n" +
		"/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n" +
		"\n" + readVector(t, "checkpoint.txt")
	r, err := ParseAddRequest([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	if r.Old != 20852014 || len(r.Proof) != 4 || string(r.Checkpoint) != readVector(t, "checkpoint.txt") {
		t.Errorf("parsed %+v", r)
	}
	if string(r.Marshal()) != spec {
		t.Error("Marshal does not give back the spec's example")
	}
	h := tlog.Hash{1}.String() + "\n"
	for _, bad := range []string{
		"", "old 1", "old 1\n", "old 01\n\ncp\n", "old -1\n\ncp\n", "old  1\n\ncp\n", "Old 1\n\ncp\n",
		"old 1\n\n", "old 1\n" + h, "old 1\nAAAA\n\ncp\n", "old 1\n" + strings.TrimSuffix(h, "=\n") + "\n\ncp\n",
		"old 1\n" + strings.Repeat(h, 64) + "\ncp\n",
		"old 1\n\r" + h + "\ncp\n", // Decode would skip the '\r'
		"old 1\nAA==" + h[4:] + "\ncp\n",
	} {
		if r, err := ParseAddRequest([]byte(bad)); !errors.Is(err, ErrMalformedRequest) {
			t.Errorf("ParseAddRequest(%q) = %+v, %v; want ErrMalformedRequest", bad, r, err)
		}
	}
	if _, err := ParseAddRequest([]byte("old 1\n" + strings.Repeat(h, 63) + "\ncp\n")); err != nil {
		t.Errorf("63 proof lines: %v", err)
	}
}

// FuzzAddCheckpoint feeds request bodies to the parser and to a witness:
// neither may panic, what parses must print back the same, and every
// refusal must be one of the typed outcomes.
func FuzzAddCheckpoint(f *testing.F) {
	fx := newWitnessFixture(f)
	fx.log.appendBatch(f, 8, seeded(11))
	f.Add(fx.request(f, 0, 3))
	f.Add(fx.request(f, 3, 8))
	f.Add([]byte("old 0\n\n" + readVector(f, "checkpoint.txt")))
	f.Add([]byte("old 5\nAAAA\n\nx\n"))
	accepted := fx.request(f, 0, 3)
	if _, err := fx.w.Add(context.Background(), accepted); err != nil {
		f.Fatal(err)
	}
	witnessed := fx.state.latest[testOrigin]
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseAddRequest(body)
		if err == nil && !bytes.Equal(r.Marshal(), body) {
			t.Fatalf("parsed %q, printed %q", body, r.Marshal())
		}
		// A fresh state at size 3 for each input.
		w := *fx.w
		w.State = &memState{latest: map[string][]byte{testOrigin: witnessed}}
		_, err = w.Add(context.Background(), body)
		if err != nil && !errors.Is(err, ErrMalformedRequest) && !errors.Is(err, ErrUnknownLog) && !errors.Is(err, ErrUntrusted) &&
			!errors.Is(err, ErrConflict) && !errors.Is(err, ErrInconsistent) {
			t.Fatalf("untyped refusal: %v", err)
		}
	})
}
