package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
)

var shareTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Shares", testShares},
	{"Disclosures", testDisclosures},
	{"DisclosuresRollBack", testDisclosuresRollBack},
}

func testShares(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s)
	shares := func(party string) string {
		t.Helper()
		ss, err := s.Shares(ctx, party)
		if err != nil {
			t.Fatalf("Shares(%q): %v", party, err)
		}
		return fmt.Sprint(ss)
	}
	sh := func(party, collection string, r store.Right) store.Share {
		return store.Share{Party: party, Collection: collection, Right: r}
	}
	if got := shares("borealis"); got != "[]" {
		t.Errorf("Shares before any: %s; want none (nothing is shared by default)", got)
	}
	// Added out of order, listed by party, collection, then read before write.
	for _, x := range []store.Share{sh("borealis", coll2, store.RightWrite), sh("cascadia", coll1, store.RightRead),
		sh("borealis", coll1, store.RightRead), sh("borealis", coll2, store.RightRead)} {
		if err := s.AddShare(ctx, x); err != nil {
			t.Fatalf("AddShare(%+v): %v", x, err)
		}
	}
	want := fmt.Sprint([]store.Share{sh("borealis", coll1, store.RightRead), sh("borealis", coll2, store.RightRead), sh("borealis", coll2, store.RightWrite)})
	if got := shares("borealis"); got != want {
		t.Errorf("Shares(borealis) = %s; want %s", got, want)
	}
	all := fmt.Sprint([]store.Share{sh("borealis", coll1, store.RightRead), sh("borealis", coll2, store.RightRead),
		sh("borealis", coll2, store.RightWrite), sh("cascadia", coll1, store.RightRead)})
	if got := shares(""); got != all {
		t.Errorf("Shares(\"\") = %s; want %s", got, all)
	}
	for _, tt := range []struct {
		name string
		s    store.Share
		want error
	}{
		{"held already", sh("borealis", coll1, store.RightRead), store.ErrExists},
		{"unknown collection", sh("borealis", "5c1c4ad4-0000-4000-8000-000000000000", store.RightRead), store.ErrNotFound},
	} {
		if err := s.AddShare(ctx, tt.s); !errors.Is(err, tt.want) {
			t.Errorf("AddShare, %s: %v; want %v", tt.name, err, tt.want)
		}
	}
	if err := s.AddShare(ctx, sh("borealis", coll1, "delete")); err == nil {
		t.Error("AddShare of right \"delete\" succeeded; want an error")
	}
	if err := s.RemoveShare(ctx, sh("borealis", coll2, store.RightRead)); err != nil {
		t.Fatalf("RemoveShare: %v", err)
	}
	for _, x := range []store.Share{sh("borealis", coll2, store.RightRead), sh("dystopia", coll1, store.RightRead)} {
		if err := s.RemoveShare(ctx, x); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RemoveShare(%+v): %v; want ErrNotFound", x, err)
		}
	}
	want = fmt.Sprint([]store.Share{sh("borealis", coll1, store.RightRead), sh("borealis", coll2, store.RightWrite)})
	if got := shares("borealis"); got != want {
		t.Errorf("Shares(borealis) after RemoveShare = %s; want %s", got, want)
	}
}

func disclosure(party, node, id, version string, digest byte, index int64) store.Disclosure {
	return store.Disclosure{Party: party, Node: node, ID: id, Version: version, Digest: ledger.Digest{digest}, Ledger: index}
}

func testDisclosures(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s)
	a, b := id("indicator", 1), id("indicator", 2)
	const v1, v2 = "2020-01-01T00:00:00.000Z", "2020-01-02T00:00:00.000Z"
	first := []store.Disclosure{
		disclosure("borealis", "b-node", a, v1, 1, 0),
		disclosure("borealis", "b-node", a, v2, 2, 1),
		disclosure("borealis", "b-node-2", a, v2, 2, 2), // another node of the party
		disclosure("borealis", "b-node", a, v2, 3, 3),   // the same version, redacted otherwise
		disclosure("cascadia", "c-node", a, v1, 1, 4),
		disclosure("cascadia", "c-node", b, v1, 4, 5),
	}
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		known, err := tx.Disclosed(ctx, first)
		if err != nil {
			return err
		}
		for i, k := range known {
			if k {
				t.Errorf("Disclosed before any: %+v is recorded", first[i])
			}
		}
		return tx.AddDisclosures(ctx, first)
	})
	if err != nil {
		t.Fatalf("recording disclosures: %v", err)
	}
	again := []store.Disclosure{
		disclosure("borealis", "b-node", a, v2, 2, 99), // recorded; the index does not count
		disclosure("borealis", "b-node", a, v2, 4, 99), // another digest
		disclosure("borealis", "b-node-3", a, v1, 1, 99),
		disclosure("cascadia", "b-node", a, v2, 2, 99),
	}
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		known, err := tx.Disclosed(ctx, again)
		if err != nil {
			return err
		}
		if want := fmt.Sprint([]bool{true, false, false, false}); fmt.Sprint(known) != want {
			t.Errorf("Disclosed = %v; want %s", known, want)
		}
		if err := tx.AddDisclosures(ctx, again[:1]); !errors.Is(err, store.ErrExists) {
			t.Errorf("AddDisclosures of a recorded disclosure: %v; want ErrExists", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	list := func(party string, ids ...string) string {
		t.Helper()
		ds, err := s.Disclosures(ctx, party, ids)
		if err != nil {
			t.Fatalf("Disclosures(%q, %v): %v", party, ids, err)
		}
		return fmt.Sprint(ds)
	}
	for _, tt := range []struct {
		party string
		ids   []string
		want  []store.Disclosure
	}{
		{"borealis", []string{a}, first[:4]},
		{"borealis", []string{b}, nil},
		{"cascadia", []string{a, b}, first[4:]},
		{"", []string{a}, first[:5]},
		{"", []string{b, a, "indicator--00000000-0000-4000-8000-000000000000"}, first},
		{"", nil, nil},
	} {
		if got := list(tt.party, tt.ids...); got != fmt.Sprint(tt.want) {
			t.Errorf("Disclosures(%q, %v) = %s; want %v", tt.party, tt.ids, got, tt.want)
		}
	}
}

// testDisclosuresRollBack: disclosures commit with their transaction or
// not at all, as the ledger entries that record them do.
func testDisclosuresRollBack(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s)
	d := disclosure("borealis", "b-node", id("indicator", 1), "2020-01-01T00:00:00.000Z", 1, 0)
	failed := errors.New("the page failed")
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.AddDisclosures(ctx, []store.Disclosure{d}); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("Update: %v; want the function's error", err)
	}
	ds, err := s.Disclosures(ctx, "", []string{d.ID})
	if err != nil || len(ds) != 0 {
		t.Errorf("after a rolled-back Update: Disclosures = %v, %v; want none", ds, err)
	}
}
