package node

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// TestCheckObjects: an envelope checked first and stored later is stored
// as AddObjects stores it, in the order of the Store calls, once; checking
// stores nothing, and is refused to a caller who may not write and to a
// partner node.
func TestCheckObjects(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	admin := f.callers[store.RoleAdmin]
	first := []json.RawMessage{indicator(1, "2024-01-01T00:00:00.000Z"), json.RawMessage(`{"type":"indicator"}`)}
	second := []json.RawMessage{indicator(2, "2024-01-01T00:00:00.000Z"), indicator(1, "2024-01-01T00:00:00.000Z")}

	e1, err := f.node.CheckObjects(ctx, admin, DefaultAPIRoot, f.ini.CollectionID, first)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := f.node.CheckObjects(ctx, admin, DefaultAPIRoot, f.ini.CollectionID, second)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(readAll(t, f, admin).Items); got != 0 {
		t.Fatalf("checking stored %d objects", got)
	}
	s1, err := e1.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := e2.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s1.TotalCount != 2 || s1.SuccessCount != 1 || s1.FailureCount != 1 || s1.Successes[0].Message != "stored" {
		t.Errorf("first status %+v", s1)
	}
	// The second envelope, checked before the first was stored, finds
	// the first's indicator stored already.
	if s2.SuccessCount != 2 || s2.Successes[0].Message != "stored" || s2.Successes[1].Message != "already stored with the same content" {
		t.Errorf("second status %+v", s2)
	}
	items := readAll(t, f, admin).Items
	if len(items) != 2 || items[0].ID != "indicator--00000001-0000-4000-8000-000000000000" || items[1].ID != "indicator--00000002-0000-4000-8000-000000000000" {
		t.Errorf("stored %+v, want indicators 1 and 2 in that order", items)
	}
	if _, err := e1.Store(ctx); err == nil {
		t.Error("a checked envelope was stored twice")
	}
	st, err := f.node.Status(ctx, admin, DefaultAPIRoot, s2.ID)
	if err != nil || st.SuccessCount != 2 {
		t.Errorf("the stored status: %+v, %v", st, err)
	}

	if _, err := f.node.CheckObjects(ctx, f.callers[store.RoleReader], DefaultAPIRoot, f.ini.CollectionID, first); err == nil {
		t.Error("a reader's envelope was checked")
	}
	partner := &taxii.Caller{Name: "b-node", Role: taxii.RolePartner, Party: "b", Node: "b-node"}
	if _, err := f.node.CheckObjects(ctx, partner, DefaultAPIRoot, f.ini.CollectionID, first); !errors.Is(err, taxii.ErrForbidden) && !errors.Is(err, taxii.ErrNotFound) {
		t.Errorf("a partner's envelope: %v, want refused", err)
	}
}
