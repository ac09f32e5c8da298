package node

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/provenance"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// keyedFixture is newFixture's node with a node key, and an agreement
// when a is not nil (self: this node's id in it).
func keyedFixture(t *testing.T, a *agreement.Agreement, self string, key *Key) *fixture {
	t.Helper()
	f := newFixture(t)
	n, err := New(t.Context(), Config{Store: f.st, Now: func() time.Time { return f.clock }, Key: key, Agreement: a, Self: self})
	if err != nil {
		t.Fatal(err)
	}
	f.node = n
	return f
}

func namedKey(t *testing.T, name string) *Key {
	t.Helper()
	skey, err := GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// readAll reads the default collection as c, with content.
func readAll(t *testing.T, f *fixture, c *taxii.Caller) *taxii.Page {
	t.Helper()
	p, err := f.node.Objects(t.Context(), c, DefaultAPIRoot, f.ini.CollectionID, &taxii.Filter{Limit: 100, Versions: taxii.VersionMatch{All: true}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOriginSignatures: every version the node's own accounts create is
// stored with the node's signature over it, and released with it; a
// partner, knowing only the key the agreement pins, verifies it.
func TestOriginSignatures(t *testing.T) {
	key := namedKey(t, "cti.arcadia.example")
	f := keyedFixture(t, nil, "", key)
	objs := []json.RawMessage{indicator(1, "2024-01-01T00:00:00.000Z"), indicator(1, "2024-02-01T00:00:00.000Z"), indicator(2, "2024-01-01T00:00:00.000Z"),
		json.RawMessage(`{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`)}
	s, err := f.node.AddObjects(t.Context(), f.callers[store.RoleAnalyst], DefaultAPIRoot, f.ini.CollectionID, objs)
	if err != nil || s.SuccessCount != len(objs) {
		t.Fatalf("AddObjects: %+v, %v", s, err)
	}
	_, pub, err := provenance.PublicKey(key.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	keyOf := func(id string) (ed25519.PublicKey, bool) { return pub, id == key.Name }
	page := readAll(t, f, f.callers[store.RoleReader])
	if len(page.Items) != len(objs) {
		t.Fatalf("read %d items, want %d", len(page.Items), len(objs))
	}
	for i, it := range page.Items {
		if it.Provenance == nil {
			t.Errorf("item %d (%s) has no provenance", i, it.ID)
			continue
		}
		p, err := provenance.Decode(it.Provenance)
		if err != nil {
			t.Errorf("item %d: %v", i, err)
			continue
		}
		if p.Origin.Node != key.Name || p.Redaction != nil {
			t.Errorf("item %d: provenance %+v, want the origin signature of %s", i, p, key.Name)
		}
		if err := provenance.Verify(p, it.Object, keyOf); err != nil {
			t.Errorf("item %d: %v", i, err)
		}
		// The signature is stored as made: re-reading gives the same bytes.
		if string(f.st.objects[i].Provenance) != string(it.Provenance) {
			t.Errorf("item %d: released %s, stored %s", i, it.Provenance, f.st.objects[i].Provenance)
		}
	}
	// Another node's key does not verify them.
	other := namedKey(t, "cti.arcadia.example")
	_, otherPub, _ := provenance.PublicKey(other.VerifierKey)
	p, _ := provenance.Decode(page.Items[0].Provenance)
	if err := provenance.Verify(p, page.Items[0].Object, func(string) (ed25519.PublicKey, bool) { return otherPub, true }); !errors.Is(err, provenance.ErrBadSignature) {
		t.Errorf("under another key: %v, want ErrBadSignature", err)
	}
	// A manifest carries no provenance.
	m, err := f.node.Objects(t.Context(), f.callers[store.RoleReader], DefaultAPIRoot, f.ini.CollectionID, &taxii.Filter{Limit: 100, Manifest: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range m.Items {
		if it.Provenance != nil {
			t.Errorf("manifest item %s has provenance", it.ID)
		}
	}
}

// TestOriginSignaturesIgnorePosted: what an account posts beside its
// objects is not kept; the node signs what its accounts originate.
func TestOriginSignaturesIgnorePosted(t *testing.T) {
	key := namedKey(t, "cti.arcadia.example")
	f := keyedFixture(t, nil, "", key)
	posted := json.RawMessage(`{"origin":{"node":"someone-else","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","sig":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}}`)
	s, err := f.node.AddObjectsWithProvenance(t.Context(), f.callers[store.RoleAdmin], DefaultAPIRoot, f.ini.CollectionID,
		[]json.RawMessage{indicator(1, "2024-01-01T00:00:00.000Z")}, []json.RawMessage{posted})
	if err != nil || s.SuccessCount != 1 {
		t.Fatalf("AddObjectsWithProvenance: %+v, %v", s, err)
	}
	p, err := provenance.Decode(readAll(t, f, f.callers[store.RoleAdmin]).Items[0].Provenance)
	if err != nil || p.Origin.Node != key.Name {
		t.Errorf("stored provenance %+v (%v), want the node's own signature", p, err)
	}
}

// TestOriginSignaturesWithoutKey: a node without a key signs nothing, and
// its envelopes stay as they were.
func TestOriginSignaturesWithoutKey(t *testing.T) {
	f := newFixture(t)
	s, err := f.node.AddObjects(t.Context(), f.callers[store.RoleAdmin], DefaultAPIRoot, f.ini.CollectionID, []json.RawMessage{indicator(1, "2024-01-01T00:00:00.000Z")})
	if err != nil || s.SuccessCount != 1 {
		t.Fatalf("AddObjects: %+v, %v", s, err)
	}
	if it := readAll(t, f, f.callers[store.RoleAdmin]).Items[0]; it.Provenance != nil {
		t.Errorf("provenance %s from a node without a key", it.Provenance)
	}
}

// TestOriginSignaturesAgreementID: under an agreement the node signs as
// its node id there, which partners look its pinned key up by.
func TestOriginSignaturesAgreementID(t *testing.T) {
	doc, err := os.ReadFile("../examples/arcadia-borealis.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := agreement.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	key := namedKey(t, "cti.arcadia.example")
	self := a.Parties[0].Nodes[0].ID
	a.Parties[0].Nodes[0].Key = key.VerifierKey
	f := keyedFixture(t, a, self, key)
	s, err := f.node.AddObjects(t.Context(), f.callers[store.RoleAdmin], DefaultAPIRoot, f.ini.CollectionID, []json.RawMessage{indicator(1, "2024-01-01T00:00:00.000Z")})
	if err != nil || s.SuccessCount != 1 {
		t.Fatalf("AddObjects: %+v, %v", s, err)
	}
	it := readAll(t, f, f.callers[store.RoleAdmin]).Items[0]
	p, err := provenance.Decode(it.Provenance)
	if err != nil {
		t.Fatal(err)
	}
	// A partner resolves the signer through the agreement alone.
	keyOf := func(id string) (ed25519.PublicKey, bool) {
		_, n, ok := a.Node(id)
		if !ok {
			return nil, false
		}
		_, pub, err := provenance.PublicKey(n.Key)
		return pub, err == nil
	}
	if p.Origin.Node != self {
		t.Errorf("signed as %q, want the agreement's node id %q", p.Origin.Node, self)
	}
	if err := provenance.Verify(p, it.Object, keyOf); err != nil {
		t.Error(err)
	}
}

func TestNewRefusesUnsignableKeyName(t *testing.T) {
	key := namedKey(t, "cti.arcadia.example")
	key.Name = "two words"
	if _, err := New(t.Context(), Config{Store: newFixture(t).st, Key: key}); err == nil {
		t.Error("New accepted a key whose name cannot name the node in signatures")
	}
}
