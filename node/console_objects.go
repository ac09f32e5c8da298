package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/policy"
	"github.com/entente/entente/provenance"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// The console's reads of objects. Each takes the caller and authorizes it
// through Can as the TAXII paths do: a collection the caller may not read
// is answered as one that does not exist (taxii.ErrNotFound), and partner
// nodes, which never use the console, get nothing.

// ReadableCollections lists the collections of every API root that c may
// read, API roots and collections in creation order.
func (n *Node) ReadableCollections(ctx context.Context, c *taxii.Caller) ([]store.Collection, error) {
	cols, err := n.readableWithRights(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make([]store.Collection, len(cols))
	for i, col := range cols {
		out[i] = col.Collection
	}
	return out, nil
}

// consolePrincipal is c's principal; a caller that is not one of the
// node's accounts (consoleAccount), such as a partner node, is refused.
func (n *Node) consolePrincipal(ctx context.Context, c *taxii.Caller) (Principal, error) {
	if err := consoleAccount(c); err != nil {
		return Principal{}, fmt.Errorf("%w: the console is for the node's own accounts", err)
	}
	return n.principal(ctx, c)
}

// readable returns the collection with the given id if c may read it.
func (n *Node) readable(ctx context.Context, c *taxii.Caller, collection string) (store.Collection, error) {
	cols, err := n.ReadableCollections(ctx, c)
	if err != nil {
		return store.Collection{}, err
	}
	for _, col := range cols {
		if col.ID == collection {
			return col, nil
		}
	}
	return store.Collection{}, fmt.Errorf("%w: no collection %q", taxii.ErrNotFound, collection)
}

// ConsoleObjects lists the stored versions q selects, if c may read
// q.Collection. It is store.Store.Objects behind the console's
// authorization: its cost is the store's for q.Limit rows.
func (n *Node) ConsoleObjects(ctx context.Context, c *taxii.Caller, q store.Query) (store.Page, error) {
	if _, err := n.readable(ctx, c, q.Collection); err != nil {
		return store.Page{}, err
	}
	p, err := n.store.Objects(ctx, q)
	if err != nil {
		return store.Page{}, fmt.Errorf("%w: listing collection %q: %v", taxii.ErrUnavailable, q.Collection, err)
	}
	return p, nil
}

// Provenance is where a stored object version came from and how the
// node's ledger records it.
type Provenance struct {
	// FromParty and FromNode name the partner the version was received
	// from; both empty for a version this node's party originated.
	FromParty, FromNode string
	// Signed says the version carries an origin signature, by the node
	// Signer of party SignerParty ("" when the agreement names no such
	// node).
	Signed              bool
	Signer, SignerParty string
	// Verified says the signature verifies under the key the agreement
	// (or, without one, this node's key) pins for Signer; VerifyError says
	// why not.
	Verified    bool
	VerifyError string
	// RedactedBy and Removed say that the version is a redacted copy: the
	// node that removed the properties Removed.
	RedactedBy string
	Removed    []string
	// Entry is the index of the ledger entry that records the version, -1
	// when none does (a version stored before the node kept a ledger).
	Entry int64
	// Checkpoint is the size of the latest signed checkpoint (0 when none
	// is signed yet); InCheckpoint says that it covers Entry.
	Checkpoint   int64
	InCheckpoint bool
}

// ObjectProvenance tells where the stored version o of collection came
// from, whether its origin signature verifies, and where the ledger
// records it.
func (n *Node) ObjectProvenance(ctx context.Context, c *taxii.Caller, collection string, o *store.Object) (Provenance, error) {
	if _, err := n.readable(ctx, c, collection); err != nil {
		return Provenance{}, err
	}
	pv := Provenance{FromParty: o.FromParty, FromNode: o.FromNode, Entry: -1}
	if o.Provenance != nil {
		pv.Signed = true
		p, err := provenance.Decode(o.Provenance)
		if err != nil {
			pv.VerifyError = err.Error()
		} else {
			pv.Signer = p.Origin.Node
			if p.Redaction != nil {
				pv.RedactedBy, pv.Removed = p.Redaction.By, p.Redaction.Removed
			}
			if err := n.verifyProvenance(p, o.Raw); err != nil {
				pv.VerifyError = err.Error()
			} else {
				pv.Verified = true
			}
		}
		if f := n.fed.Load(); f != nil {
			pv.SignerParty = f.partyOf(pv.Signer)
		}
	}
	switch {
	case o.LedgerIndex >= 0:
		pv.Entry = o.LedgerIndex
	default:
		rec, err := n.store.LedgerRecordOf(ctx, o.Seq)
		switch {
		case err == nil:
			pv.Entry = rec.Index
		case !errors.Is(err, store.ErrNotFound):
			return Provenance{}, fmt.Errorf("%w: finding the ledger entry of %s: %v", taxii.ErrUnavailable, o.ID, err)
		}
	}
	cp, err := n.store.LatestCheckpoint(ctx)
	switch {
	case err == nil:
		pv.Checkpoint = cp.Size
		pv.InCheckpoint = pv.Entry >= 0 && pv.Entry < cp.Size
	case !errors.Is(err, store.ErrNotFound):
		return Provenance{}, fmt.Errorf("%w: reading the latest checkpoint: %v", taxii.ErrUnavailable, err)
	}
	return pv, nil
}

// verifyProvenance checks an origin signature as Receive does: under the
// keys the agreement pins, or, for a node without one, its own key.
func (n *Node) verifyProvenance(p provenance.Provenance, raw []byte) error {
	if f := n.fed.Load(); f != nil {
		return n.verifier(f).Verify(p, raw)
	}
	if n.key == nil {
		return errors.New("the node works under no agreement and has no key to check with")
	}
	return provenance.Verify(p, raw, func(node string) (ed25519.PublicKey, bool) {
		if node != n.originID() {
			return nil, false
		}
		return n.key.Private.Public().(ed25519.PublicKey), true
	})
}

// DisclosureRecord is a disclosure of an object version to a partner
// node, with what the ledger entry that records it says.
type DisclosureRecord struct {
	store.Disclosure
	// Time, Rule and Redactions are the recording entry's; zero when the
	// entry cannot be read.
	Time       time.Time
	Rule       string
	Redactions []string
}

// maxDisclosures bounds the disclosures ObjectDisclosures reads.
const maxDisclosures = 200

// ObjectDisclosures lists the disclosures of the object id (every
// version, to every partner), at most maxDisclosures of them; more says
// that there are others.
func (n *Node) ObjectDisclosures(ctx context.Context, c *taxii.Caller, collection, id string) (ds []DisclosureRecord, more bool, err error) {
	if _, err := n.readable(ctx, c, collection); err != nil {
		return nil, false, err
	}
	got, err := n.store.Disclosures(ctx, "", []string{id})
	if err != nil {
		return nil, false, fmt.Errorf("%w: reading the disclosures of %s: %v", taxii.ErrUnavailable, id, err)
	}
	if len(got) > maxDisclosures {
		got, more = got[:maxDisclosures], true
	}
	for _, d := range got {
		r := DisclosureRecord{Disclosure: d}
		recs, err := n.store.LedgerRecords(ctx, d.Ledger, d.Ledger+1)
		if err != nil {
			return nil, false, fmt.Errorf("%w: reading ledger entry %d: %v", taxii.ErrUnavailable, d.Ledger, err)
		}
		if len(recs) == 1 {
			if e, err := ledger.DecodeEntry(recs[0].Entry); err == nil {
				r.Time = e.Time
				if ev, ok := e.Event.(ledger.Disclosed); ok {
					r.Rule, r.Redactions = ev.Rule, ev.Redactions
				}
			}
		}
		ds = append(ds, r)
	}
	return ds, more, nil
}

// PartnerDecision is what the node would do now with an object version
// if a partner party read it.
type PartnerDecision struct {
	// Party is the partner party's id, Node the partner node the decision
	// is for (the party's first in the agreement), Organization the
	// authority that operates it, which receives.
	Party, Node, Organization string
	// FromRecipient says the version came from this party: it holds it,
	// and the node never sends it back. Decision is then zero.
	FromRecipient bool
	// Shared says a collection holding the version is shared with the
	// party for reading; without it the party reads none of it, whatever
	// the decision.
	Shared bool
	// Decision is what release decides: policy.Decide, or the casework's
	// decision for a case version.
	Decision policy.Decision
}

// ExplainRelease decides the stored version o of collection for each
// partner party of the agreement, as release would decide it if that
// party's node read it now, without releasing or recording anything. It
// returns nothing for a node that works under no agreement.
func (n *Node) ExplainRelease(ctx context.Context, c *taxii.Caller, collection string, o *store.Object) ([]PartnerDecision, error) {
	col, err := n.readable(ctx, c, collection)
	if err != nil {
		return nil, err
	}
	f := n.fed.Load()
	if f == nil {
		return nil, nil
	}
	parsed, err := stix.Parse(o.Raw)
	if err != nil {
		return nil, fmt.Errorf("node: stored object %s version %s does not parse: %w", o.ID, o.Version, err)
	}
	var out []PartnerDecision
	for _, party := range f.agreement.Parties {
		if party.ID == f.party || len(party.Nodes) == 0 {
			continue
		}
		pn := party.Nodes[0]
		d := PartnerDecision{Party: party.ID, Node: pn.ID, Organization: pn.Authority}
		shares, err := n.store.Shares(ctx, party.ID)
		if err != nil {
			return nil, fmt.Errorf("%w: reading what is shared with %q: %v", taxii.ErrUnavailable, party.ID, err)
		}
		d.Shared = Can(Principal{Role: RolePartner, Party: party.ID, Shares: shares}, col.ID, ActionRead)
		if receivedFrom(o) == party.ID {
			d.FromRecipient = true
			out = append(out, d)
			continue
		}
		r, err := n.newPartnerRelease(ctx, &taxii.Caller{Name: pn.ID, Role: taxii.RolePartner, Party: party.ID, Node: pn.ID}, col)
		if err != nil {
			return nil, err
		}
		pctx := policy.Context{
			ReceivedFrom: receivedFrom(o),
			Lookup: func(id string) (policy.Ref, bool, error) {
				return r.lookup(ctx, id)
			},
		}
		if rv, _ := parsed.Props["revoked"].(bool); rv {
			ds, err := n.store.Disclosures(ctx, party.ID, []string{o.ID})
			if err != nil {
				return nil, fmt.Errorf("%w: reading what was disclosed to %q: %v", taxii.ErrUnavailable, party.ID, err)
			}
			pctx.Released = func(string) bool { return len(ds) > 0 }
		}
		if d.Decision, err = r.decideVersion(o, parsed, pctx); err != nil {
			return nil, fmt.Errorf("%w: deciding on %s for %q: %v", taxii.ErrUnavailable, o.ID, party.ID, err)
		}
		out = append(out, d)
	}
	return out, nil
}
