package node_test

import (
	"crypto/ed25519"
	"slices"
	"testing"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/node"
	"github.com/entente/entente/provenance"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// agreementKeys resolves node ids through the keys an agreement pins: all
// a receiver, or anyone the objects are passed on to, needs.
func agreementKeys(a *agreement.Agreement) func(string) (ed25519.PublicKey, bool) {
	return func(id string) (ed25519.PublicKey, bool) {
		_, n, ok := a.Node(id)
		if !ok {
			return nil, false
		}
		_, pub, err := provenance.PublicKey(n.Key)
		return pub, err == nil
	}
}

// TestPartnerReleaseProvenance: a partner reading over mutual TLS gets each
// object's origin signature beside it, and for a redacted copy the
// releasing node's signed statement of what it removed; both verify
// against the keys the agreement pins.
func TestPartnerReleaseProvenance(t *testing.T) {
	f := newFedNode(t, nil)
	_, kinds := fedData(t, f, 40)
	f.share(t, f.ini.CollectionID, store.RightRead)
	env, _, err := f.partner(t).Objects(t.Context(), node.DefaultAPIRoot, f.ini.CollectionID, taxii.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(env.Objects) == 0 || len(env.Provenance) != len(env.Objects) {
		t.Fatalf("%d objects with %d provenance records", len(env.Objects), len(env.Provenance))
	}
	v := provenance.NewVerifier(agreementKeys(f.a))
	redacted := 0
	for i, raw := range env.Objects {
		id := objectIDs(t, env.Objects[i:i+1])[0]
		p, err := provenance.Decode(env.Provenance[i])
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		if err := v.Verify(p, raw); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		if p.Origin.Node != selfNode {
			t.Errorf("%s: originated by %q, want %q", id, p.Origin.Node, selfNode)
		}
		switch r := p.Redaction; {
		case kinds[id] == kindRedacted:
			redacted++
			if r == nil || r.By != selfNode || !slices.Equal(r.Removed, []string{"description"}) {
				t.Errorf("%s: redaction %+v, want %s removing description", id, r, selfNode)
			}
		case r != nil:
			t.Errorf("%s: released whole, but says it was redacted: %+v", id, r)
		}
	}
	if redacted == 0 {
		t.Fatal("no redacted object was released; the test data has none")
	}

	// The node's own accounts read the originals, with the origin
	// signature alone.
	own, _, err := f.admin(t).Objects(t.Context(), node.DefaultAPIRoot, f.ini.CollectionID, taxii.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i, raw := range own.Objects {
		p, err := provenance.Decode(own.Provenance[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(p, raw); err != nil || p.Redaction != nil {
			t.Errorf("own read %d: %v, redaction %+v", i, err, p.Redaction)
		}
	}
}
