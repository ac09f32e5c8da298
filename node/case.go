package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/casework"
	"github.com/entente/entente/federation"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// CasesAlias is the alias of the collection that holds the node's treaty
// cases (doc/casework.md): every version of every case, with the
// observables that travel beside incident notifications. Shared with a
// partner for reading, it is where the partner pulls the cases it is a
// party to; shared for writing, it is the inbox partners push case steps
// into.
const CasesAlias = "cases"

// CaseRule is the rule a disclosure of a case version names: the
// agreement's casework, which sends each case to its two parties.
const CaseRule = "casework"

// maxCaseVersions bounds the versions read for one case.
const maxCaseVersions = 10_000

// ErrNoCase is returned for a case id the node does not hold.
var ErrNoCase = errors.New("node: no such case")

// caseTypePrefix begins every case type (casework.Type.STIXType).
var caseTypePrefix = []byte("entente-")

// isCaseType reports whether a STIX type is one of casework's case SDOs.
func isCaseType(typ string) bool {
	for _, t := range casework.Types {
		if t.STIXType() == typ {
			return true
		}
	}
	return false
}

// caseTypes are the STIX types of casework's case SDOs.
func caseTypes() []string {
	out := make([]string, len(casework.Types))
	for i, t := range casework.Types {
		out[i] = t.STIXType()
	}
	return out
}

// CasesCollection returns the collection of the node's cases, creating it
// in the default API root the first time.
func (n *Node) CasesCollection(ctx context.Context) (store.Collection, error) {
	roots, err := n.store.APIRoots(ctx)
	if err != nil {
		return store.Collection{}, fmt.Errorf("node: reading API roots: %w", err)
	}
	if len(roots) == 0 {
		return store.Collection{}, errors.New("node: the store holds no API root; initialize it first")
	}
	col, err := n.lookup(ctx, roots[0].Path, CasesAlias)
	if err == nil || !errors.Is(err, taxii.ErrNotFound) {
		return col, err
	}
	if _, err := CreateCollection(ctx, n.store, roots[0].Path, "Treaty cases", CasesAlias); err != nil && !errors.Is(err, store.ErrExists) {
		return store.Collection{}, err
	}
	return n.lookup(ctx, roots[0].Path, CasesAlias)
}

// caseParty returns the agreement the node works under and its party.
func (n *Node) caseParty() (*agreement.Agreement, string, error) {
	f := n.fed.Load()
	if f == nil {
		return nil, "", errors.New("node: cases need an agreement; start the node with one (serve --agreement --node)")
	}
	return f.agreement, f.party, nil
}

// OpenCase opens a case of type t addressed to party to, as a draft of
// this node's party: stored as the case's first version, signed, with the
// ledger's opening transition (casework.Opened) in the same transaction.
// observables (an incident notification's, from casework.ParseFields) are
// stored beside it. A draft never leaves the node; StepCase sends it.
func (n *Node) OpenCase(ctx context.Context, t casework.Type, f casework.Fields, observables []*stix.Object, to string) (casework.Case, error) {
	a, self, err := n.caseParty()
	if err != nil {
		return casework.Case{}, err
	}
	c, err := casework.New(casework.NewID(t), f, self, to, a, n.now())
	if err != nil {
		return casework.Case{}, err
	}
	n.caseMu.Lock()
	defer n.caseMu.Unlock()
	if err := n.storeCase(ctx, c, casework.Opened(c, self), observables); err != nil {
		return casework.Case{}, err
	}
	n.caseEvent(ctx, casework.Case{}, c)
	return c, nil
}

// StepCase takes step e on case id as this node's party (e.Actor is set
// to it): casework.Step decides, the new version is stored with its
// origin signature and its casework.Record transition in one transaction,
// and, unless it is still a draft, pushed to the other party's nodes
// (their pull is the fallback).
func (n *Node) StepCase(ctx context.Context, id string, e casework.Event) (casework.Case, error) {
	a, self, err := n.caseParty()
	if err != nil {
		return casework.Case{}, err
	}
	if e.Actor != "" && e.Actor != self {
		return casework.Case{}, fmt.Errorf("node: this node acts for %s, not %s", self, e.Actor)
	}
	e.Actor = self
	n.caseMu.Lock()
	prev, err := n.LatestCase(ctx, id)
	if err != nil {
		n.caseMu.Unlock()
		return casework.Case{}, err
	}
	next, err := casework.Step(prev, e, a, n.now())
	if err != nil {
		n.caseMu.Unlock()
		return casework.Case{}, err
	}
	err = n.storeCase(ctx, next, casework.Record(prev, next, e, a, self), nil)
	n.caseMu.Unlock()
	if err != nil {
		return casework.Case{}, err
	}
	n.caseEvent(ctx, prev, next)
	if next.State != casework.StateDraft {
		n.deliverCase(ctx, next, prev.State == casework.StateDraft)
	}
	return next, nil
}

// storeCase stores version c (and observables) in the cases collection
// as the node originates objects, with tr in the same transaction.
func (n *Node) storeCase(ctx context.Context, c casework.Case, tr ledger.Transition, observables []*stix.Object) error {
	return n.storeCaseWith(ctx, c, tr, observables, nil)
}

// storeCaseWith is storeCase, recording fired alarms in the same
// transaction.
func (n *Node) storeCaseWith(ctx context.Context, c casework.Case, tr ledger.Transition, observables []*stix.Object, fired []store.FiredAlarm) error {
	col, err := n.CasesCollection(ctx)
	if err != nil {
		return err
	}
	o, err := casework.Encode(c)
	if err != nil {
		return err
	}
	raws := [][]byte{o.Raw}
	for _, ob := range observables {
		raws = append(raws, ob.Raw)
	}
	objects := make([]json.RawMessage, len(raws))
	for i, r := range raws {
		objects[i] = r
	}
	checks, err := n.checkAll(ctx, objects, n.originSigner(&taxii.Caller{Name: "casework"}))
	if err != nil {
		return err
	}
	puts := make([]store.Put, len(checks))
	for i, ck := range checks {
		if ck.err != nil {
			return fmt.Errorf("node: case %s: object %d is not valid STIX: %w", c.ID, i, ck.err)
		}
		puts[i] = ck.put
	}
	w := &write{collection: col.ID, puts: puts, at: n.now().UTC().Truncate(time.Microsecond), noStatus: true,
		transitions: map[int]ledger.Transition{0: tr}, fired: fired}
	w.status = func([]store.AddOutcome) store.Status { return store.Status{} }
	if !n.writer.noLedger {
		if err := w.prepare(n.writer.rand); err != nil {
			return err
		}
	}
	if err := n.writer.do(ctx, w); err != nil {
		return fmt.Errorf("node: storing case %s: %w", c.ID, err)
	}
	for i, out := range w.outcomes {
		if out.Err != nil {
			return fmt.Errorf("node: storing case %s (object %d): %w", c.ID, i, out.Err)
		}
	}
	return nil
}

// LatestCase returns the last stored version of case id.
func (n *Node) LatestCase(ctx context.Context, id string) (casework.Case, error) {
	vs, err := n.caseVersions(ctx, id, store.VersionFilter{Last: true})
	if err != nil {
		return casework.Case{}, err
	}
	if len(vs) == 0 {
		return casework.Case{}, fmt.Errorf("%w: %s", ErrNoCase, id)
	}
	return vs[0], nil
}

// CaseHistory returns every stored version of case id, oldest first: its
// timeline.
func (n *Node) CaseHistory(ctx context.Context, id string) ([]casework.Case, error) {
	vs, err := n.caseVersions(ctx, id, store.VersionFilter{All: true})
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoCase, id)
	}
	return vs, nil
}

func (n *Node) caseVersions(ctx context.Context, id string, v store.VersionFilter) ([]casework.Case, error) {
	col, err := n.CasesCollection(ctx)
	if err != nil {
		return nil, err
	}
	p, err := n.store.Objects(ctx, store.Query{Collection: col.ID, IDs: []string{id}, Versions: v, Limit: maxCaseVersions})
	if err != nil {
		return nil, fmt.Errorf("node: reading case %s: %w", id, err)
	}
	return decodeCases(p.Objects)
}

// Cases returns the last version of every case the node holds, oldest
// first.
func (n *Node) Cases(ctx context.Context) ([]casework.Case, error) {
	col, err := n.CasesCollection(ctx)
	if err != nil {
		return nil, err
	}
	var out []casework.Case
	var after int64
	for {
		p, err := n.store.Objects(ctx, store.Query{Collection: col.ID, Types: caseTypes(), After: after,
			Versions: store.VersionFilter{Last: true}, Limit: 1000})
		if err != nil {
			return nil, fmt.Errorf("node: reading cases: %w", err)
		}
		cs, err := decodeCases(p.Objects)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
		if !p.More || len(p.Objects) == 0 {
			break
		}
		after = p.Objects[len(p.Objects)-1].Seq
	}
	slices.SortStableFunc(out, func(a, b casework.Case) int { return a.Created.Compare(b.Created) })
	return out, nil
}

func decodeCases(objs []store.Object) ([]casework.Case, error) {
	out := make([]casework.Case, 0, len(objs))
	for _, so := range objs {
		o, err := stix.Parse(so.Raw)
		if err != nil {
			return nil, fmt.Errorf("node: stored case %s does not parse: %w", so.ID, err)
		}
		c, err := casework.Decode(o)
		if err != nil {
			return nil, fmt.Errorf("node: stored case %s@%s does not decode: %w", so.ID, so.Version, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// deliverCase pushes the last version of c (and, with first, the
// observables it names) to the nodes of the other party, through release
// (so the disclosure is recorded). Failures are logged: the partner's
// pull of the cases collection is the fallback.
func (n *Node) deliverCase(ctx context.Context, c casework.Case, first bool) {
	pp := n.pusher.Load()
	f := n.fed.Load()
	if pp == nil || f == nil {
		return
	}
	other := c.To
	if other == f.party {
		other = c.From
	}
	p, ok := f.agreement.Party(other)
	if !ok {
		return
	}
	col, err := n.CasesCollection(ctx)
	if err != nil {
		n.log.WarnContext(ctx, "casework: delivering a case step; the partner will pull it", slog.String("case", c.ID), slog.Any("error", err))
		return
	}
	ids := []string{c.ID}
	if first && c.Incident != nil {
		ids = append(ids, c.Incident.Observables...)
	}
	for _, nd := range p.Nodes {
		caller := &taxii.Caller{Name: nd.ID, Role: taxii.RolePartner, Party: other, Node: nd.ID}
		page, err := n.release(ctx, caller, col, store.Query{Collection: col.ID, IDs: ids,
			Versions: store.VersionFilter{Last: true}, Limit: len(ids)})
		if err != nil {
			n.log.WarnContext(ctx, "casework: releasing a case step; the partner will pull it", slog.String("case", c.ID),
				slog.String("node", nd.ID), slog.Any("error", err))
			continue
		}
		items := make([]federation.Incoming, 0, len(page.Items))
		for _, it := range page.Items {
			items = append(items, federation.Incoming{Object: it.Object, Provenance: it.Provenance})
		}
		// The case version last: its observables are there when it arrives.
		slices.SortStableFunc(items, func(a, b federation.Incoming) int {
			ac, bc := isCaseRaw(a.Object), isCaseRaw(b.Object)
			switch {
			case ac == bc:
				return 0
			case bc:
				return -1
			}
			return 1
		})
		if len(items) > 0 && (*pp)(nd.ID, items...) {
			n.log.InfoContext(ctx, "casework: pushing a case step", slog.String("case", c.ID),
				slog.String("event", c.Event.String()), slog.String("node", nd.ID))
		}
	}
}

// isCaseRaw reports whether raw is a case SDO.
func isCaseRaw(raw []byte) bool {
	// Bytes without the prefix, and without an escape that could spell
	// it, hold no case id, and need no decoding to say so.
	if !bytes.Contains(raw, caseTypePrefix) && bytes.IndexByte(raw, '\\') < 0 {
		return false
	}
	id, _ := identify(raw)
	typ, _, _ := strings.Cut(id, "--")
	return isCaseType(typ)
}

// caseDecision is what release decides for a case version going to party:
// a case goes to its two parties only, and never as a draft. The sharing
// rules of the agreement decide the observables beside it, not the case:
// the case is the agreement's own channel between its parties.
func caseDecision(o *stix.Object, party string) (allowed bool, reason string) {
	c, err := casework.Decode(o)
	switch {
	case err != nil:
		return false, fmt.Sprintf("the stored case does not decode: %v", err)
	case c.From != party && c.To != party:
		return false, fmt.Sprintf("%s is not a party to the case", party)
	case c.State == casework.StateDraft:
		return false, "a draft stays with its author"
	}
	return true, ""
}

// A CaseHook is told of each case version the node stores, its own or a
// partner's: prev is the version before (zero for a new case). The
// notifier (SMTP) and the scheduler hang on it. It runs after the commit,
// on the storing goroutine, and must not block for long.
type CaseHook func(ctx context.Context, prev, next casework.Case)

// OnCase sets the hook told of each stored case version.
func (n *Node) OnCase(h CaseHook) { n.onCase.Store(&h) }

func (n *Node) caseEvent(ctx context.Context, prev, next casework.Case) {
	if h := n.onCase.Load(); h != nil {
		(*h)(ctx, prev, next)
	}
}

// eventOf rebuilds the event that made version next, as casework.Verify
// does.
func eventOf(prev, next casework.Case) casework.Event {
	e := casework.Event{Kind: next.Event, Actor: next.Actor, Note: next.Note, Ground: next.Ground, Ref: next.Link,
		At: next.Until, Partial: next.Partial, Pledge: next.Type == casework.TypeDeclaration && next.Event == casework.EventAcknowledge}
	switch next.Event {
	case casework.EventAddAction:
		if len(next.Actions) > 0 {
			e.Item = next.Actions[len(next.Actions)-1]
		}
	case casework.EventCompleteAction:
		for i := range prev.Actions {
			if i < len(next.Actions) && prev.Actions[i].Done.IsZero() && !next.Actions[i].Done.IsZero() {
				e.Index = i
			}
		}
	}
	return e
}

// draftOf rebuilds the draft a partner's first version (its send) was
// stepped from: the draft never leaves its author, and casework.New from
// the same fields at the case's creation gives it.
func draftOf(next casework.Case, a *agreement.Agreement) (casework.Case, error) {
	var f casework.Fields
	tlp := next.TLP.String()
	switch {
	case next.Incident != nil:
		g := *next.Incident
		g.TLP, f = tlp, &g
	case next.Assistance != nil:
		g := *next.Assistance
		g.TLP, f = tlp, &g
	case next.Preservation != nil:
		g := *next.Preservation
		g.TLP, f = tlp, &g
	case next.Consultation != nil:
		g := *next.Consultation
		g.TLP, f = tlp, &g
	case next.Reachability != nil:
		g := *next.Reachability
		g.TLP, f = tlp, &g
	case next.Declaration != nil:
		g := *next.Declaration
		g.TLP, f = tlp, &g
	}
	return casework.New(next.ID, f, next.From, next.To, a, next.Created)
}

// receivedCase is a case version of a received page, checked.
type receivedCase struct {
	prev, next casework.Case
	tr         ledger.Transition
}

// checkCases checks the case versions among the accepted items of a
// received page, in order: each must decode, be a case between the
// sender's party and this one, taken by the sender's party, and follow
// from the version stored before it (or, for the first, from the draft
// it names) by casework.Verify. What fails is refused as a violation. It
// returns, by item, the transitions to ledger with the versions stored
// anew. The caller holds caseMu.
func (n *Node) checkCases(ctx context.Context, f *terms, from federation.Peer, col store.Collection, items []federation.Incoming, ins []incoming) (map[int]receivedCase, error) {
	var out map[int]receivedCase
	latest := map[string]casework.Case{}
	for i := range ins {
		in := &ins[i]
		if in.refused != nil || in.deferred != nil || !isCaseType(in.put.Object.Type) {
			continue
		}
		refuse := func(format string, args ...any) {
			in.refused = &refusal{kind: AlertViolation, check: "casework", detail: fmt.Sprintf(format, args...)}
		}
		o, err := stix.Parse(items[i].Object)
		if err != nil {
			refuse("the case does not parse: %v", err)
			continue
		}
		next, err := casework.Decode(o)
		if err != nil {
			refuse("the case does not decode: %v", err)
			continue
		}
		if next.Agreement != f.agreement.ID || next.Actor != from.Party ||
			!(next.From == from.Party && next.To == f.party || next.To == from.Party && next.From == f.party) {
			refuse("case %s is not a step %s may take toward %s under agreement %s", next.ID, from.Party, f.party, f.agreement.ID)
			continue
		}
		prev, ok := latest[next.ID]
		if !ok {
			p, err := n.store.Objects(ctx, store.Query{Collection: col.ID, IDs: []string{next.ID}, Versions: store.VersionFilter{All: true}, Limit: maxCaseVersions})
			if err != nil {
				return nil, fmt.Errorf("node: reading case %s: %w", next.ID, err)
			}
			cs, err := decodeCases(p.Objects)
			if err != nil {
				return nil, err
			}
			dup := false
			for _, c := range cs {
				dup = dup || c.Modified.Equal(next.Modified)
			}
			if dup {
				continue // a duplicate: the store says so, nothing is ledgered
			}
			if len(cs) > 0 {
				prev, ok = cs[len(cs)-1], true
			}
		}
		if !ok {
			if next.Event != casework.EventSend {
				refuse("the first version of case %s received is %s; it must be its send", next.ID, next.Event)
				continue
			}
			if prev, err = draftOf(next, f.agreement); err != nil {
				refuse("case %s was sent from a draft its fields cannot make: %v", next.ID, err)
				continue
			}
		}
		if err := casework.Verify(prev, next, f.agreement); err != nil {
			refuse("case %s: %v", next.ID, err)
			continue
		}
		latest[next.ID] = next
		if out == nil {
			out = map[int]receivedCase{}
		}
		out[i] = receivedCase{prev: prev, next: next, tr: casework.Record(prev, next, eventOf(prev, next), f.agreement, f.party)}
	}
	return out, nil
}
