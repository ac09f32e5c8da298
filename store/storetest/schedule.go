package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/entente/entente/store"
)

var scheduleTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"FiredAlarms", testFiredAlarms},
}

func testFiredAlarms(t *testing.T, s store.Store) {
	ctx := t.Context()
	if fs, err := s.FiredAlarms(ctx); err != nil || len(fs) != 0 {
		t.Fatalf("FiredAlarms of a new store = %v, %v; want none", fs, err)
	}
	t1 := time.Date(2027, 1, 4, 9, 0, 0, 123456000, time.UTC)
	mark := func(as ...store.FiredAlarm) error {
		return s.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.MarkFired(ctx, as) })
	}
	a := store.FiredAlarm{Key: "case-1/ack/breach", Case: "case-1", Due: t1, Fired: t1.Add(time.Second)}
	b := store.FiredAlarm{Key: "stale/borealis-cert", Due: t1, Fired: t1.Add(2 * time.Second)}
	if err := mark(a, b); err != nil {
		t.Fatal(err)
	}
	// A key fired already: the whole batch is refused, nothing recorded.
	c := store.FiredAlarm{Key: "case-2/ack/remind", Case: "case-2", Due: t1, Fired: t1.Add(3 * time.Second)}
	if err := mark(c, a); !errors.Is(err, store.ErrExists) {
		t.Errorf("MarkFired of a fired key = %v, want ErrExists", err)
	}
	// A failed transaction records nothing either.
	boom := errors.New("boom")
	if err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.MarkFired(ctx, []store.FiredAlarm{c}); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Update = %v", err)
	}
	if err := mark(store.FiredAlarm{Case: "x", Due: t1, Fired: t1}); err == nil {
		t.Error("MarkFired without a key succeeded")
	}
	fs, err := s.FiredAlarms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0] != a || fs[1] != b {
		t.Errorf("FiredAlarms = %+v, want %+v and %+v", fs, a, b)
	}
}
