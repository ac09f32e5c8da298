package node_test

import (
	"errors"
	"testing"

	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// TestReadState: the state a reader probes changes with every version
// stored or deleted and with an amendment of the agreement, names the
// collection by id whichever name the caller used, and is refused, as
// Objects is, to a caller whose grant was revoked.
func TestReadState(t *testing.T) {
	f := newFedNode(t, nil)
	ctx := t.Context()
	if _, err := node.CreateAccount(ctx, f.st, "sensor", store.RoleReader, f.clock.now()); err != nil {
		t.Fatal(err)
	}
	sensor := &taxii.Caller{Name: "sensor", Role: string(store.RoleReader)}
	if _, err := f.n.ReadState(ctx, sensor, node.DefaultAPIRoot, f.ini.CollectionID); !errors.Is(err, taxii.ErrNotFound) {
		t.Errorf("ReadState without a grant: %v; want ErrNotFound, as Objects answers", err)
	}
	if _, _, err := node.Grant(ctx, f.st, "sensor", f.ini.CollectionID, store.RightRead); err != nil {
		t.Fatal(err)
	}
	var seen []node.ReadState
	changed := func(what string) {
		t.Helper()
		st, err := f.n.ReadState(ctx, sensor, node.DefaultAPIRoot, "default")
		if err != nil {
			t.Fatalf("ReadState after %s: %v", what, err)
		}
		if st.Collection != f.ini.CollectionID {
			t.Errorf("ReadState names collection %q; want its id %q", st.Collection, f.ini.CollectionID)
		}
		for _, old := range seen {
			if st.Equal(old) {
				t.Errorf("after %s the state is %+v, as before", what, st)
			}
		}
		seen = append(seen, st)
	}
	changed("nothing")
	if again, _ := f.n.ReadState(ctx, sensor, node.DefaultAPIRoot, f.ini.CollectionID); !again.Equal(seen[0]) {
		t.Errorf("ReadState changed with nothing stored: %+v, then %+v", seen[0], again)
	}
	f.post(t, fedObject(1, 0))
	changed("an add")
	admin := &taxii.Caller{Name: "admin", Role: string(store.RoleAdmin)}
	if err := f.n.DeleteObject(ctx, admin, node.DefaultAPIRoot, f.ini.CollectionID, fedObjectID(1, 0), &taxii.Filter{}); err != nil {
		t.Fatal(err)
	}
	changed("a delete")
	next := exampleAgreement(t, map[string]*node.Key{selfNode: f.keys.self, partnerNode: f.keys.partner})
	next.Version, next.Supersedes = f.a.Version+1, f.a.Version
	if err := f.n.Amend(t.Context(), next); err != nil {
		t.Fatal(err)
	}
	changed("an amendment")

	if _, _, err := node.Revoke(ctx, f.st, "sensor", f.ini.CollectionID, store.RightRead); err != nil {
		t.Fatal(err)
	}
	if _, err := f.n.ReadState(ctx, sensor, node.DefaultAPIRoot, "default"); !errors.Is(err, taxii.ErrNotFound) {
		t.Errorf("ReadState after the grant was revoked: %v; want ErrNotFound", err)
	}
}
