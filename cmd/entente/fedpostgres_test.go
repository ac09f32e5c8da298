package main

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/store/postgres"
	"github.com/entente/entente/store/postgres/pgtest"
)

// The trilateral example with Arcadia's node, which relays, on PostgreSQL:
// its store moved there with store copy after it was set up, as an
// operator would. Every node must hold exactly what the oracle says, every
// ledger verify, and the PostgreSQL store must hold what federation
// stores: received versions with their provenance and receipt entries,
// disclosures, cursors and the links' health.
func TestFederationPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three nodes")
	}
	db := pgtest.URL(t)
	f := newFederation(t)
	a := f.nodes["arcadia"]
	if stdout, stderr, code := execEntente(t, "store", "copy", "--from", "sqlite:"+a.dir, "--to", db); code != 0 {
		t.Fatalf("store copy: exit %d\n%s%s", code, stdout, stderr)
	}
	a.env = append(a.env, storeEnv+"="+db)
	f.startAll()
	r := rand.New(rand.NewPCG(fedSeed(t), 7))
	per, rounds := fedSize()
	var objs []fedObject
	for range rounds {
		objs = append(objs, f.createRandom(r, per, len(objs))...)
		f.converged(objs, fedTimeout)
	}
	for _, p := range f.order {
		n := f.nodes[p]
		args := []string{"ledger", "verify", "--data", n.dir}
		if n == a {
			args = append(args, "--store", db)
		}
		if _, stderr, code := execEntente(t, args...); code != 0 {
			t.Errorf("%s: ledger verify exited with %d: %s", n.id, code, stderr)
		}
	}

	ctx := t.Context()
	st, err := postgres.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cols, err := st.Collections(ctx, node.DefaultAPIRoot)
	// The shared collection, beside the one of treaty cases that a node
	// under an agreement keeps.
	i := slices.IndexFunc(cols, func(c store.Collection) bool { return c.Alias == "default" })
	if err != nil || i < 0 {
		t.Fatalf("Collections = %+v, %v", cols, err)
	}
	page, err := st.Objects(ctx, store.Query{Collection: cols[i].ID, Versions: store.VersionFilter{All: true}, Limit: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	var received, own []string
	for _, o := range page.Objects {
		switch {
		case o.FromParty == "":
			own = append(own, o.ID)
			if o.Provenance == nil || o.LedgerIndex != -1 {
				t.Errorf("%s, originated: provenance %q, ledger index %d; want a provenance and -1", o.ID, o.Provenance, o.LedgerIndex)
			}
		default:
			received = append(received, o.ID)
			if o.Provenance == nil || o.FromNode == "" || o.LedgerIndex < 0 {
				t.Errorf("%s, received from %s/%s: provenance %q, ledger index %d; want a provenance and its receipt entry",
					o.ID, o.FromParty, o.FromNode, o.Provenance, o.LedgerIndex)
			}
		}
	}
	if len(received) == 0 || len(own) == 0 {
		t.Errorf("Arcadia holds %d versions it received and %d of its own; want some of each", len(received), len(own))
	}
	if ds, err := st.Disclosures(ctx, "", own); err != nil || len(ds) == 0 {
		t.Errorf("Disclosures of Arcadia's objects = %d, %v; want some", len(ds), err)
	}
	if cs, err := st.Cursors(ctx); err != nil || len(cs) == 0 {
		t.Errorf("Cursors = %+v, %v; want the links' cursors", cs, err)
	}
	if hs, err := st.LinkHealth(ctx); err != nil || len(hs) != 2 {
		t.Errorf("LinkHealth = %+v, %v; want Arcadia's two links", hs, err)
	}
}
