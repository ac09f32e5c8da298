package storetest

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/entente/entente/store"
)

// provenanceTests are the contract for what is stored beside a version:
// its provenance record, whom it came from, and its ledger entry.
var provenanceTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Provenance", testProvenance},
	{"LedgerIndex", testLedgerIndex},
}

// put makes a Put of raw with what is stored beside it.
func put(t testing.TB, raw string, prov []byte, party, node string) store.Put {
	t.Helper()
	p, err := store.NewPut(parse(t, raw))
	if err != nil {
		t.Fatalf("NewPut: %v", err)
	}
	p.Provenance, p.FromParty, p.FromNode = prov, party, node
	return p
}

func addPuts(t testing.TB, s store.Store, puts ...store.Put) []store.AddOutcome {
	t.Helper()
	var out []store.AddOutcome
	err := s.Update(context.Background(), func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = tx.AddObjects(ctx, coll1, puts)
		return err
	})
	if err != nil {
		t.Fatalf("Tx.AddObjects: %v", err)
	}
	return out
}

func testProvenance(t *testing.T, s store.Store) {
	setup(t, s)
	sig := []byte(`{"origin":{"node":"arcadia-cert","digest":"sha256:00","sig":"AA=="}}`)
	other := []byte(`{"origin":{"node":"borealis-cert","digest":"sha256:11","sig":"BB=="}}`)
	out := addPuts(t, s,
		put(t, sdo("indicator", 1, "2024-01-01T00:00:00.000Z", ""), sig, "", ""),
		put(t, sdo("indicator", 2, "2024-01-01T00:00:00.000Z", ""), other, "borealis", "borealis-cert"),
		put(t, sdo("indicator", 3, "2024-01-01T00:00:00.000Z", ""), nil, "", ""),
		put(t, `{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`, other, "caledonia", "caledonia-cert"),
	)
	for i, o := range out {
		if o.Err != nil || o.Duplicate {
			t.Fatalf("object %d: %+v, want added", i, o)
		}
	}
	// A copy of a stored version, with another provenance, is a Duplicate
	// and changes nothing.
	dup := addPuts(t, s, put(t, sdo("indicator", 1, "2024-01-01T00:00:00.000Z", ""), other, "borealis", "borealis-cert"))
	if !dup[0].Duplicate {
		t.Fatalf("the copy: %+v, want a Duplicate", dup[0])
	}
	want := []struct {
		prov        []byte
		party, node string
	}{{sig, "", ""}, {other, "borealis", "borealis-cert"}, {nil, "", ""}, {other, "caledonia", "caledonia-cert"}}

	page := list(t, s, store.Query{Versions: store.VersionFilter{All: true}})
	if len(page.Objects) != len(want) {
		t.Fatalf("Objects: %v, want %d versions", versions(page), len(want))
	}
	for i, o := range page.Objects {
		w := want[i]
		if !bytes.Equal(o.Provenance, w.prov) || (o.Provenance == nil) != (w.prov == nil) || o.FromParty != w.party || o.FromNode != w.node {
			t.Errorf("version %d: provenance %q from %q/%q, want %q from %q/%q", i, o.Provenance, o.FromParty, o.FromNode, w.prov, w.party, w.node)
		}
		if o.LedgerIndex != -1 {
			t.Errorf("version %d: LedgerIndex %d, want -1 (no entry records it)", i, o.LedgerIndex)
		}
	}
	// Manifests need no provenance record, but still say whom a version
	// came from (a release decides by it).
	for i, o := range list(t, s, store.Query{WithoutContent: true, Versions: store.VersionFilter{All: true}}).Objects {
		if o.Provenance != nil || o.FromParty != want[i].party || o.FromNode != want[i].node {
			t.Errorf("version %d WithoutContent: provenance %q from %q/%q, want none from %q/%q", i, o.Provenance, o.FromParty, o.FromNode, want[i].party, want[i].node)
		}
	}
	// The Store's own AddObjects stores none.
	mustAdd(t, s, coll1, sdo("indicator", 5, "2024-01-01T00:00:00.000Z", ""))
	got := list(t, s, store.Query{IDs: []string{id("indicator", 5)}}).Objects
	if len(got) != 1 || got[0].Provenance != nil || got[0].FromParty != "" || got[0].FromNode != "" {
		t.Errorf("a version added without provenance: %+v", got)
	}
}

func testLedgerIndex(t *testing.T, s store.Store) {
	setup(t, s)
	rnd := seededRand{rand.NewChaCha8([32]byte{7})}
	appendLedger(t, s, []store.LedgerRecord{record(t, rnd, 100, 0), record(t, rnd, 101, 0)}) // entries 0, 1: no object
	var out []store.AddOutcome
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = tx.AddObjects(ctx, coll1, []store.Put{
			put(t, sdo("indicator", 1, "2024-01-01T00:00:00.000Z", ""), nil, "borealis", "borealis-cert"),
			put(t, sdo("indicator", 2, "2024-01-01T00:00:00.000Z", ""), nil, "caledonia", "caledonia-cert"),
			put(t, sdo("indicator", 3, "2024-01-01T00:00:00.000Z", ""), nil, "borealis", "borealis-cert"),
			put(t, sdo("indicator", 4, "2024-01-01T00:00:00.000Z", ""), nil, "", ""),
		})
		if err != nil {
			return err
		}
		// Entries 2 and 3 record the receipt of the second and first
		// versions; the third has none yet; the fourth was originated.
		_, err = tx.AppendLedger(ctx, []store.LedgerRecord{
			record(t, rnd, 2, out[1].Seq, "caledonia"), record(t, rnd, 1, out[0].Seq, "borealis"), record(t, rnd, 4, out[3].Seq),
		})
		return err
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	check := func(want ...int64) {
		t.Helper()
		for _, q := range []store.Query{{}, {WithoutContent: true}} {
			idx := make(map[int64]int64)
			for _, o := range list(t, s, q).Objects {
				idx[o.Seq] = o.LedgerIndex
			}
			for i, w := range want {
				if idx[out[i].Seq] != w {
					t.Errorf("WithoutContent %v: version %d has LedgerIndex %d, want %d (all: %v)", q.WithoutContent, i, idx[out[i].Seq], w, idx)
				}
			}
		}
	}
	check(3, 2, -1, -1)
	// A later entry records the third; a later entry about the first (a
	// disclosure) leaves the index of the one that recorded its receipt.
	appendLedger(t, s, []store.LedgerRecord{record(t, rnd, 3, out[2].Seq, "borealis"), record(t, rnd, 1, out[0].Seq, "caledonia")})
	check(3, 2, 5, -1)
}
