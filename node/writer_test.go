package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// queued waits until n envelopes wait in the writer's queue.
func queued(t *testing.T, w *writer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.mu.Lock()
		got := len(w.queue)
		w.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d envelopes queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGroupCommit checks that envelopes arriving during a transaction
// share the next one, and that each still gets its own status.
func TestGroupCommit(t *testing.T) {
	f := newFixture(t)
	c := f.callers[store.RoleAnalyst]
	const later = 8
	release := make(chan struct{})
	first := true
	f.st.commitHook = func() error {
		if first {
			first = false
			<-release
		}
		return nil
	}
	var wg sync.WaitGroup
	statuses := make([]*taxii.Status, later+1)
	errs := make([]error, later+1)
	add := func(i int) {
		statuses[i], errs[i] = f.node.AddObjects(t.Context(), c, DefaultAPIRoot, f.ini.CollectionID,
			[]json.RawMessage{indicator(2*i, "2024-01-01T00:00:00.000Z"), indicator(2*i+1, "2024-01-01T00:00:00.000Z")})
	}
	wg.Go(func() { add(0) })
	// The first envelope's transaction is under way and held; the others
	// queue behind it.
	for f.st.updatesSoFar() == 0 {
		time.Sleep(time.Millisecond)
	}
	for i := 1; i <= later; i++ {
		wg.Go(func() { add(i) })
	}
	queued(t, f.node.writer, later)
	close(release)
	wg.Wait()

	if got := f.st.updatesSoFar(); got != 2 {
		t.Errorf("%d transactions for %d envelopes, want 2 (the first alone, then the rest together)", got, later+1)
	}
	ids := map[string]bool{}
	for i, s := range statuses {
		if errs[i] != nil || s.SuccessCount != 2 || len(s.Successes) != 2 {
			t.Fatalf("envelope %d: %+v, %v", i, s, errs[i])
		}
		if want := fmt.Sprintf("indicator--%08d-", 2*i); !strings.HasPrefix(s.Successes[0].ID, want) {
			t.Errorf("envelope %d's status reports %s, want its own objects", i, s.Successes[0].ID)
		}
		ids[s.ID] = true
		if _, err := f.node.Status(t.Context(), c, DefaultAPIRoot, s.ID); err != nil {
			t.Errorf("status of envelope %d: %v", i, err)
		}
	}
	if len(ids) != later+1 {
		t.Errorf("%d distinct status ids for %d envelopes", len(ids), later+1)
	}
}

// TestGroupCommitFailure checks that an envelope whose write fails does
// not take its neighbours down, and that nothing of it is kept.
func TestGroupCommitFailure(t *testing.T) {
	f := newFixture(t)
	c := f.callers[store.RoleAnalyst]
	poison := indicator(99, "2024-01-01T00:00:00.000Z")
	release := make(chan struct{})
	calls := 0
	f.st.commitHook = func() error {
		calls++
		if calls == 1 {
			<-release
			return nil
		}
		// Any transaction holding the poisoned object fails to commit.
		for _, o := range f.st.objects {
			if string(o.Raw) == string(poison) {
				return errors.New("disk full")
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		f.node.AddObjects(t.Context(), c, DefaultAPIRoot, f.ini.CollectionID, []json.RawMessage{indicator(1, "2024-01-01T00:00:00.000Z")})
	})
	for f.st.updatesSoFar() == 0 {
		time.Sleep(time.Millisecond)
	}
	envs := [][]json.RawMessage{{indicator(2, "2024-01-01T00:00:00.000Z")}, {poison}, {indicator(3, "2024-01-01T00:00:00.000Z")}}
	statuses := make([]*taxii.Status, len(envs))
	errs := make([]error, len(envs))
	for i, env := range envs {
		wg.Go(func() {
			statuses[i], errs[i] = f.node.AddObjects(t.Context(), c, DefaultAPIRoot, f.ini.CollectionID, env)
		})
	}
	queued(t, f.node.writer, len(envs))
	close(release)
	wg.Wait()

	if errs[1] == nil {
		t.Errorf("the envelope whose commit failed got %+v, want an error", statuses[1])
	}
	for _, i := range []int{0, 2} {
		if errs[i] != nil || statuses[i].SuccessCount != 1 {
			t.Errorf("envelope %d beside a failing one: %+v, %v; want it stored", i, statuses[i], errs[i])
		}
	}
	for _, o := range f.st.objects {
		if string(o.Raw) == string(poison) {
			t.Errorf("the failed envelope's object was kept")
		}
	}
	if len(f.st.statuses) != 3 {
		t.Errorf("%d statuses kept, want 3 (none for the failed envelope)", len(f.st.statuses))
	}
}
