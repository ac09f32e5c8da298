package node

import (
	"errors"
	"fmt"
	"testing"

	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// TestNewestOfTypeReadable: the overview's newest sightings come only from
// the collections the caller may read, in every API root, each named with
// the API root it is stored in.
func TestNewestOfTypeReadable(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if err := f.st.CreateAPIRoot(ctx, store.APIRoot{Path: "api2", Title: "second"}); err != nil {
		t.Fatal(err)
	}
	const other = "collection--2b3c0000-0000-4000-8000-000000000002"
	if err := f.st.CreateCollection(ctx, store.Collection{ID: other, APIRoot: "api2", Title: "other"}); err != nil {
		t.Fatal(err)
	}
	for i, col := range []string{f.ini.CollectionID, other} {
		o, err := stix.Parse(fmt.Appendf(nil, `{"type":"sighting","spec_version":"2.1","id":"sighting--20000000-0000-4000-8000-00000000000%d","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","sighting_of_ref":"indicator--10000000-0000-4000-8000-000000000001"}`, i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.AddObjects(ctx, col, []*stix.Object{o}); err != nil {
			t.Fatal(err)
		}
	}
	roots := func(rs []Recent) map[string]string {
		m := map[string]string{}
		for _, r := range rs {
			m[r.Collection] = r.APIRoot
		}
		return m
	}
	// The reader may read the default collection only.
	got, err := f.node.NewestOfType(ctx, f.callers[store.RoleReader], "sighting", 10)
	if err != nil {
		t.Fatal(err)
	}
	if m := roots(got); len(got) != 1 || m[f.ini.CollectionID] != DefaultAPIRoot {
		t.Errorf("the reader's newest sightings: %v; want the default collection's only, in %s", m, DefaultAPIRoot)
	}
	got, err = f.node.NewestOfType(ctx, f.callers[store.RoleAdmin], "sighting", 10)
	if err != nil {
		t.Fatal(err)
	}
	if m := roots(got); len(got) != 2 || m[f.ini.CollectionID] != DefaultAPIRoot || m[other] != "api2" {
		t.Errorf("the admin's newest sightings: %v; want both collections' with their API roots", m)
	}
}

// TestConsoleRefusesNonAccounts: the console's collection reads refuse a
// caller that is not one of the node's accounts, as its other reads do
// (consoleAccount): a partner node, or a role the node does not know.
func TestConsoleRefusesNonAccounts(t *testing.T) {
	f := newFixture(t)
	for _, c := range []*taxii.Caller{nil, {Name: "p", Role: taxii.RolePartner, Party: "borealis"}, {Name: "x", Role: "root"}} {
		if _, err := f.node.VisibleCollections(t.Context(), c); !errors.Is(err, taxii.ErrForbidden) {
			t.Errorf("VisibleCollections(%+v): %v; want taxii.ErrForbidden", c, err)
		}
	}
	if _, err := f.node.VisibleCollections(t.Context(), f.callers[store.RoleReader]); err != nil {
		t.Errorf("VisibleCollections(reader): %v", err)
	}
}

// TestAccountWritesNeedAnAdmin: the console's account writes are the
// node's to refuse, not only the page's, and an admin's go through.
func TestAccountWritesNeedAnAdmin(t *testing.T) {
	f := newFixture(t)
	for _, c := range []*taxii.Caller{nil, f.callers[store.RoleReader], f.callers[store.RoleAnalyst], {Name: "p", Role: taxii.RolePartner, Party: "borealis"}} {
		if _, err := f.node.CreateAccountAs(t.Context(), c, "mallory", store.RoleAdmin); !errors.Is(err, taxii.ErrForbidden) {
			t.Errorf("CreateAccountAs(%+v): %v; want taxii.ErrForbidden", c, err)
		}
		if _, _, err := f.node.GrantAs(t.Context(), c, "reader", "cases", store.RightWrite); !errors.Is(err, taxii.ErrForbidden) {
			t.Errorf("GrantAs(%+v): %v; want taxii.ErrForbidden", c, err)
		}
		if _, _, err := f.node.RevokeAs(t.Context(), c, "reader", "cases", store.RightRead); !errors.Is(err, taxii.ErrForbidden) {
			t.Errorf("RevokeAs(%+v): %v; want taxii.ErrForbidden", c, err)
		}
	}
	admin := &taxii.Caller{Name: "admin", Role: string(store.RoleAdmin)}
	if tok, err := f.node.CreateAccountAs(t.Context(), admin, "duty", store.RoleAnalyst); err != nil || tok == "" {
		t.Fatalf("CreateAccountAs(admin): %q, %v", tok, err)
	}
}
