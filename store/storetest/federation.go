package storetest

import (
	"testing"
	"time"

	"github.com/entente/entente/store"
)

var federationTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Cursors", testCursors},
	{"LinkHealth", testLinkHealth},
	{"Alerts", testAlerts},
}

func testCursors(t *testing.T, s store.Store) {
	ctx := t.Context()
	if c, err := s.Cursor(ctx, "b-1", coll1); err != nil || !c.IsZero() {
		t.Fatalf("Cursor of a new store = %v, %v; want the zero time", c, err)
	}
	t1 := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	t2 := t1.Add(time.Microsecond)
	for _, c := range []struct {
		node, col string
		at        time.Time
	}{{"b-1", coll1, t1}, {"b-1", coll2, t2}, {"c-1", coll1, t2}, {"b-1", coll1, t2}} {
		if err := s.SaveCursor(ctx, c.node, c.col, c.at); err != nil {
			t.Fatalf("SaveCursor(%s, %s): %v", c.node, c.col, err)
		}
	}
	if c, err := s.Cursor(ctx, "b-1", coll1); err != nil || !c.Equal(t2) {
		t.Errorf("Cursor after saving %v = %v, %v", t2, c, err)
	}
	// A cursor never moves back: a late writer of an older page must not
	// make the next pull repeat what was stored.
	if err := s.SaveCursor(ctx, "b-1", coll1, t1); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Cursor(ctx, "b-1", coll1); err != nil || !c.Equal(t2) {
		t.Errorf("Cursor after saving an earlier time = %v, %v; want %v kept", c, err, t2)
	}
	if err := s.SaveCursor(ctx, "", coll1, t1); err == nil {
		t.Error("SaveCursor without a node succeeded")
	}
	cs, err := s.Cursors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.Node+"/"+c.Collection+"@"+c.AddedAfter.Format(time.RFC3339Nano))
	}
	want := []string{"b-1/" + coll2 + "@" + t2.Format(time.RFC3339Nano), "b-1/" + coll1 + "@" + t2.Format(time.RFC3339Nano), "c-1/" + coll1 + "@" + t2.Format(time.RFC3339Nano)}
	// By node, then collection id: coll2 < coll1 as text.
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("Cursors = %v, want %v", got, want)
	}
}

func testLinkHealth(t *testing.T, s store.Store) {
	ctx := t.Context()
	if hs, err := s.LinkHealth(ctx); err != nil || len(hs) != 0 {
		t.Fatalf("LinkHealth of a new store = %v, %v", hs, err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 1000, time.UTC)
	h := store.LinkHealth{Node: "c-1", Party: "caledonia", Log: "c.example/ledger", State: "idle", LastAttempt: at, LastSuccess: at,
		CaughtUp: at, Behind: 0, Stored: 10, Duplicates: 2, Refused: 1, Errors: 3, LastError: "", Updated: at}
	b := store.LinkHealth{Node: "b-1", Party: "borealis", State: "backoff", LastAttempt: at, Behind: 5, Pending: true,
		Errors: 1, LastError: "taxii: server answered 503", Suspended: "fork", Updated: at}
	for _, x := range []store.LinkHealth{h, b, h} {
		if err := s.PutLinkHealth(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	h.State, h.Stored = "syncing", 11
	if err := s.PutLinkHealth(ctx, h); err != nil {
		t.Fatal(err)
	}
	hs, err := s.LinkHealth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 2 || !equalHealth(hs[0], b) || !equalHealth(hs[1], h) {
		t.Errorf("LinkHealth = %+v\nwant %+v and %+v", hs, b, h)
	}
	if err := s.PutLinkHealth(ctx, store.LinkHealth{}); err == nil {
		t.Error("PutLinkHealth without a node succeeded")
	}
}

func equalHealth(a, b store.LinkHealth) bool {
	return a.Node == b.Node && a.Party == b.Party && a.Log == b.Log && a.State == b.State && a.LastAttempt.Equal(b.LastAttempt) &&
		a.LastSuccess.Equal(b.LastSuccess) && a.CaughtUp.Equal(b.CaughtUp) && a.Behind == b.Behind &&
		a.Pending == b.Pending && a.Stored == b.Stored && a.Duplicates == b.Duplicates && a.Refused == b.Refused &&
		a.Errors == b.Errors && a.LastError == b.LastError && a.Suspended == b.Suspended && a.Updated.Equal(b.Updated)
}

func testAlerts(t *testing.T, s store.Store) {
	ctx := t.Context()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var ids []int64
	for i, kind := range []string{"violation", "replay", "bad-signature"} {
		id, err := s.AddAlert(ctx, store.Alert{Time: at.Add(time.Duration(i) * time.Second), Party: "borealis", Node: "b-1",
			Kind: kind, Object: "indicator--x@2026", Detail: "why " + kind, Entry: int64(i) - 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > 0 && id <= ids[len(ids)-1] {
			t.Fatalf("alert ids %v then %d: not increasing", ids, id)
		}
		ids = append(ids, id)
	}
	if _, err := s.AddAlert(ctx, store.Alert{Time: at, Party: "borealis"}); err == nil {
		t.Error("AddAlert without a kind succeeded")
	}
	all, err := s.Alerts(ctx, 0, 10)
	if err != nil || len(all) != 3 {
		t.Fatalf("Alerts = %+v, %v; want 3", all, err)
	}
	if a := all[2]; a.ID != ids[2] || a.Kind != "bad-signature" || a.Party != "borealis" || a.Node != "b-1" ||
		a.Object != "indicator--x@2026" || a.Detail != "why bad-signature" || a.Entry != 1 || !a.Time.Equal(at.Add(2*time.Second)) {
		t.Errorf("Alerts[2] = %+v", a)
	}
	if all[0].Entry != -1 {
		t.Errorf("Alerts[0].Entry = %d, want -1 (none)", all[0].Entry)
	}
	page, err := s.Alerts(ctx, ids[0], 1)
	if err != nil || len(page) != 1 || page[0].ID != ids[1] {
		t.Errorf("Alerts(after %d, 1) = %+v, %v", ids[0], page, err)
	}
}
