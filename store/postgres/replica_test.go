package postgres

import (
	"context"
	"testing"

	"github.com/entente/entente/store"
	"github.com/entente/entente/store/postgres/pgtest"
)

// A caller's reads go to the replica, except while it has not replayed the
// caller's own latest write: then they go to the primary.
func TestReplicaReadYourWrites(t *testing.T) {
	u := testURL(t)
	ru := pgtest.ReplicaURL(t, u)
	s, err := Open(t.Context(), u, WithReplica(ru))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	replay := func(on bool) { t.Helper(); pgtest.SetReplay(t, u, ru, on) }
	setupCollection(t, s)
	replay(true) // the replica has the schema and the collection

	ctx := t.Context()
	alice, bob := store.ForCaller(ctx, "alice"), store.ForCaller(ctx, "bob")
	count := func(ctx context.Context) int {
		t.Helper()
		p, err := s.Objects(ctx, store.Query{Collection: testCollection, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Objects)
	}
	// write adds 3 objects and a status as caller, as the node does: the
	// write commits, then the caller's mark.
	write := func(ctx context.Context, caller, status string, from int) {
		t.Helper()
		addAll(t, s, objectsOf(t, "indicator", from, 3))
		if err := s.PutStatus(ctx, store.Status{ID: status, APIRoot: "api1", Status: "complete", TotalCount: 3, Owner: caller}); err != nil {
			t.Fatal(err)
		}
		if caller != "" {
			if err := s.Wrote(ctx, caller); err != nil {
				t.Fatal(err)
			}
		}
	}
	onPrimary := func() int {
		t.Helper()
		var n int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM objects`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	replay(false)
	write(alice, "alice", "s1", 0)
	if n := count(alice); n != 3 {
		t.Errorf("alice lists %d objects after writing 3; want her own writes", n)
	}
	if _, err := s.Status(alice, "api1", "s1"); err != nil {
		t.Errorf("alice's status of her own write: %v", err)
	}
	if _, err := s.Status(bob, "api1", "s1"); err == nil {
		t.Error("bob reads a status the paused replica does not hold; want its reads on the replica")
	}
	if n := count(bob); n != 0 {
		t.Errorf("bob lists %d objects while the replica is paused; want the replica's 0", n)
	}
	if n := count(ctx); n != 0 {
		t.Errorf("a read of no caller lists %d objects while the replica is paused; want the replica's 0", n)
	}

	// Once the replica has alice's write, her reads go to it again: a
	// write of another's, made while it is paused, is not seen.
	replay(true)
	replay(false)
	write(bob, "", "s2", 10)
	if n := count(alice); n != 3 {
		t.Errorf("alice lists %d objects; want the replica's 3", n)
	}
	if n := onPrimary(); n != 6 {
		t.Errorf("the primary holds %d objects; want 6", n)
	}
	replay(true)
	if n := count(bob); n != 6 {
		t.Errorf("bob lists %d objects after the replica caught up; want 6", n)
	}
}
