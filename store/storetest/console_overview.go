package storetest

import (
	"errors"
	"maps"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
)

// overviewTests are the console overview's reads (store.Overviewing).
var overviewTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"CountEntries", testCountEntries},
	{"NewestAlerts", testNewestAlerts},
	{"NewestObjects", testNewestObjects},
}

// entryAt is the ledger record of an entry of kind k at time at that
// concerns the given parties.
func entryAt(t *testing.T, rnd seededRand, k ledger.Kind, at time.Time, n int, concerns ...string) store.LedgerRecord {
	t.Helper()
	ref := ledger.ObjectRef{ID: id("indicator", n), Version: "2026-01-01T00:00:00.000Z"}
	var ev ledger.Event
	switch k {
	case ledger.KindReceived:
		ev = ledger.Received{From: concerns[0], Object: ref}
	case ledger.KindDisclosed:
		ev = ledger.Disclosed{To: concerns[0], Node: concerns[0] + "-node-1", Object: ref, Agreement: "agreement--x version 1", Rule: "r"}
	default:
		ev = ledger.Originated{Object: ref}
	}
	e := ledger.Entry{Time: at, Event: ev}
	o, c, err := ledger.Commit(e, rnd)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return store.LedgerRecord{Commitment: c, Salt: o.Salt, Entry: enc, Concerns: concerns}
}

func testCountEntries(t *testing.T, s store.Store) {
	ctx := t.Context()
	rnd := seededRand{rand.NewChaCha8([32]byte{7})}
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var recs []store.LedgerRecord
	add := func(k ledger.Kind, at time.Time, concerns ...string) {
		recs = append(recs, entryAt(t, rnd, k, at, len(recs), concerns...))
	}
	// Day 0: two received from borealis, one from caledonia, one
	// disclosed to borealis; an originated entry and one at the very end
	// of the day before, and one at the first instant of the next day.
	add(ledger.KindReceived, day.Add(-time.Nanosecond), "borealis")
	add(ledger.KindReceived, day, "borealis")
	add(ledger.KindOriginated, day.Add(time.Hour))
	add(ledger.KindReceived, day.Add(2*time.Hour), "caledonia")
	add(ledger.KindDisclosed, day.Add(3*time.Hour), "borealis")
	add(ledger.KindReceived, day.Add(24*time.Hour-time.Nanosecond), "borealis")
	add(ledger.KindReceived, day.Add(24*time.Hour), "caledonia")
	appendLedger(t, s, recs)

	count := func(k ledger.Kind, from, to time.Time, limit int) store.EntryCounts {
		t.Helper()
		got, err := s.CountEntries(ctx, k, from, to, limit)
		if err != nil {
			t.Fatalf("CountEntries(%s, %v, %v, %d): %v", k, from, to, limit, err)
		}
		return got
	}
	for _, tt := range []struct {
		k        ledger.Kind
		from, to time.Time
		limit    int
		want     map[string]int64
		complete bool
	}{
		{ledger.KindReceived, day, day.Add(24 * time.Hour), 100, map[string]int64{"borealis": 2, "caledonia": 1}, true},
		{ledger.KindDisclosed, day, day.Add(24 * time.Hour), 100, map[string]int64{"borealis": 1}, true},
		{ledger.KindReceived, day.Add(24 * time.Hour), day.Add(48 * time.Hour), 100, map[string]int64{"caledonia": 1}, true},
		{ledger.KindReceived, day.Add(-24 * time.Hour), day, 100, map[string]int64{"borealis": 1}, true},
		// Originated entries concern no party: nothing to count.
		{ledger.KindOriginated, day, day.Add(24 * time.Hour), 100, map[string]int64{}, true},
		// At the limit the count stops and says so; what it counted is
		// there.
		{ledger.KindReceived, day, day.Add(24 * time.Hour), 3, map[string]int64{"borealis": 2, "caledonia": 1}, true},
		{ledger.KindReceived, day, day.Add(24 * time.Hour), 2, nil, false},
		{ledger.KindReceived, day.Add(48 * time.Hour), day.Add(72 * time.Hour), 100, map[string]int64{}, true},
	} {
		got := count(tt.k, tt.from, tt.to, tt.limit)
		if got.Complete != tt.complete || tt.want != nil && !maps.Equal(got.ByParty, tt.want) {
			t.Errorf("CountEntries(%s, %s, %s, %d) = %+v; want %v, complete %v", tt.k, tt.from, tt.to, tt.limit, got, tt.want, tt.complete)
		}
		if !tt.complete {
			var n int64
			for _, c := range got.ByParty {
				n += c
			}
			if n < int64(tt.limit) {
				t.Errorf("CountEntries stopped at the limit %d having counted %d", tt.limit, n)
			}
		}
	}
}

func testNewestAlerts(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got, err := s.NewestAlerts(ctx, 5); err != nil || len(got) != 0 {
		t.Fatalf("NewestAlerts of none = %+v, %v", got, err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var ids []int64
	for i, kind := range []string{"violation", "replay", "bad-signature"} {
		id, err := s.AddAlert(ctx, store.Alert{Time: at.Add(time.Duration(i) * time.Second), Party: "borealis", Node: "b-1",
			Kind: kind, Object: "indicator--x@2026", Detail: "why " + kind, Entry: int64(i) - 1})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	got, err := s.NewestAlerts(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != ids[2] || got[1].ID != ids[1] {
		t.Fatalf("NewestAlerts(2) = %+v; want alerts %d and %d", got, ids[2], ids[1])
	}
	if a := got[0]; a.Kind != "bad-signature" || a.Party != "borealis" || a.Node != "b-1" || a.Object != "indicator--x@2026" ||
		a.Detail != "why bad-signature" || a.Entry != 1 || !a.Time.Equal(at.Add(2*time.Second)) {
		t.Errorf("NewestAlerts()[0] = %+v", a)
	}
}

func testNewestObjects(t *testing.T, s store.Store) {
	setup(t, s)
	ctx := t.Context()
	mustAdd(t, s, coll1, sdo("sighting", 1, "2026-01-01T00:00:00.000Z", ""), sdo("indicator", 2, "2026-01-01T00:00:00.000Z", ""))
	mustAdd(t, s, coll2, sdo("sighting", 3, "2026-01-01T00:00:00.000Z", ""))
	last := mustAdd(t, s, coll1, sdo("sighting", 4, "2026-01-01T00:00:00.000Z", ""), sdo("sighting", 1, "2026-02-01T00:00:00.000Z", ""))
	got, err := s.NewestObjects(ctx, coll1, "sighting", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Seq != last[1].Seq || got[1].Seq != last[0].Seq {
		t.Fatalf("NewestObjects(coll1, sighting, 2) = %+v; want seqs %d, %d", got, last[1].Seq, last[0].Seq)
	}
	if o := got[0]; o.ID != id("sighting", 1) || o.Version != "2026-02-01T00:00:00Z" && o.Version != "2026-02-01T00:00:00.000Z" ||
		o.Collection != coll1 || len(o.Raw) == 0 || o.Type != "sighting" || o.LedgerIndex != -1 {
		t.Errorf("NewestObjects()[0] = %+v", o)
	}
	all, err := s.NewestObjects(ctx, coll1, "sighting", 10)
	if err != nil || len(all) != 3 {
		t.Fatalf("NewestObjects(coll1, sighting, 10) = %d objects, %v; want 3", len(all), err)
	}
	if _, err := s.NewestObjects(ctx, "00000000-0000-4000-8000-000000000000", "sighting", 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("NewestObjects of a missing collection: %v; want ErrNotFound", err)
	}
}
