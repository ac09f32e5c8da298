package storetest

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
)

var witnessTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"AddCosignatures", testAddCosignatures},
	{"WitnessedCheckpoints", testWitnessedCheckpoints},
	{"WitnessedCheckpointRace", testWitnessedCheckpointRace},
	{"Suspensions", testSuspensions},
}

func testAddCosignatures(t *testing.T, s store.Store) {
	setup(t, s)
	ctx := t.Context()
	rnd := seededRand{rand.NewChaCha8([32]byte{7})}
	appendLedger(t, s, []store.LedgerRecord{record(t, rnd, 1, 0), record(t, rnd, 2, 0)})
	signed := []byte("log\n2\nroot\n\n— log AAAA\n")
	if err := s.PutCheckpoint(ctx, store.StoredCheckpoint{Size: 2, Note: signed, Signed: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCosignatures(ctx, 3, []byte("— w1 BBBB\n")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddCosignatures to a checkpoint that does not exist: %v, want ErrNotFound", err)
	}
	if err := s.AddCosignatures(ctx, 2, []byte("not a signature\n")); err == nil {
		t.Error("AddCosignatures accepted a line that is not a signature line")
	}
	for _, lines := range []string{"— w1 BBBB\n", "— w2 CCCC\n— w1 BBBB\n", "— w2 CCCC\n"} {
		if err := s.AddCosignatures(ctx, 2, []byte(lines)); err != nil {
			t.Fatalf("AddCosignatures(%q): %v", lines, err)
		}
	}
	c, err := s.LatestCheckpoint(ctx)
	if want := string(signed) + "— w1 BBBB\n— w2 CCCC\n"; err != nil || string(c.Note) != want {
		t.Errorf("checkpoint after cosigning = %q, %v; want %q (each line once)", c.Note, err, want)
	}
}

func testWitnessedCheckpoints(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.WitnessedCheckpoint(ctx, "a.example/log"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("WitnessedCheckpoint of a new store: %v, want ErrNotFound", err)
	}
	one, two := []byte("a.example/log\n1\n...\n"), []byte("a.example/log\n2\n...\n")
	if err := s.SwapWitnessedCheckpoint(ctx, "a.example/log", two, one); !errors.Is(err, ledger.ErrStateChanged) {
		t.Errorf("swap from a checkpoint never stored: %v, want ErrStateChanged", err)
	}
	if err := s.SwapWitnessedCheckpoint(ctx, "a.example/log", nil, one); err != nil {
		t.Fatalf("first swap: %v", err)
	}
	if err := s.SwapWitnessedCheckpoint(ctx, "a.example/log", nil, two); !errors.Is(err, ledger.ErrStateChanged) {
		t.Errorf("swap from none once one is stored: %v, want ErrStateChanged", err)
	}
	if err := s.SwapWitnessedCheckpoint(ctx, "a.example/log", one, two); err != nil {
		t.Fatalf("second swap: %v", err)
	}
	if got, err := s.WitnessedCheckpoint(ctx, "a.example/log"); err != nil || !bytes.Equal(got, two) {
		t.Errorf("WitnessedCheckpoint = %q, %v; want %q", got, err, two)
	}
	if _, err := s.WitnessedCheckpoint(ctx, "b.example/log"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another log's checkpoint: %v, want ErrNotFound", err)
	}
}

// testWitnessedCheckpointRace swaps from one state concurrently: exactly
// one swap may win, as tlog-witness requires so that no race rolls a log
// back.
func testWitnessedCheckpointRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.SwapWitnessedCheckpoint(ctx, "o", nil, []byte("0")); err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range 8 {
		wg.Go(func() {
			err := s.SwapWitnessedCheckpoint(ctx, "o", []byte("0"), []byte{'1' + byte(i)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, ledger.ErrStateChanged):
				t.Errorf("losing swap: %v, want ErrStateChanged", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent swaps from one state won, want 1", wins)
	}
}

func testSuspensions(t *testing.T, s store.Store) {
	ctx := t.Context()
	if ss, err := s.Suspensions(ctx); err != nil || len(ss) != 0 {
		t.Errorf("Suspensions of a new store = %v, %v", ss, err)
	}
	at := time.Date(2027, 1, 2, 3, 4, 5, 6000, time.UTC)
	first := store.Suspension{Origin: "b.example/log", Since: at, Reason: "fork", Evidence: []byte("request"), Witnessed: []byte("cosigned")}
	if err := s.SuspendLog(ctx, first); err != nil {
		t.Fatal(err)
	}
	again := first
	again.Reason, again.Since = "inconsistent", at.Add(time.Hour)
	if err := s.SuspendLog(ctx, again); err != nil {
		t.Fatal(err)
	}
	if err := s.SuspendLog(ctx, store.Suspension{Origin: "a.example/log", Since: at, Reason: "inconsistent"}); err != nil {
		t.Fatal(err)
	}
	ss, err := s.Suspensions(ctx)
	if err != nil || len(ss) != 2 || ss[0].Origin != "a.example/log" {
		t.Fatalf("Suspensions = %+v, %v; want a.example/log and b.example/log", ss, err)
	}
	if b := ss[1]; b.Reason != "fork" || !b.Since.Equal(at) || string(b.Evidence) != "request" || string(b.Witnessed) != "cosigned" {
		t.Errorf("suspension of b.example/log = %+v; want the first one, kept whole", b)
	}
	if err := s.ResumeLog(ctx, "b.example/log"); err != nil {
		t.Fatal(err)
	}
	if err := s.ResumeLog(ctx, "b.example/log"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("resuming a log not suspended: %v, want ErrNotFound", err)
	}
	if ss, err := s.Suspensions(ctx); err != nil || len(ss) != 1 || ss[0].Origin != "a.example/log" {
		t.Errorf("Suspensions after resuming b = %+v, %v", ss, err)
	}
}
