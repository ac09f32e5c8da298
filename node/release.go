package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/policy"
	"github.com/entente/entente/provenance"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// minScan is the least number of versions a partner's page reads from
// the store after its first read, so that a run of withheld versions is
// crossed in few reads.
const minScan = 64

// isPartner reports whether c is a partner node rather than an account.
func isPartner(c *taxii.Caller) bool { return c != nil && c.Role == taxii.RolePartner }

// item is a stored version as it leaves the node.
func item(o *store.Object) taxii.Item {
	return taxii.Item{
		ID:         o.ID,
		Version:    o.Version,
		DateAdded:  o.DateAdded,
		MediaType:  taxii.STIXMediaType,
		Object:     o.Raw,
		Provenance: o.Provenance,
	}
}

// releaseLocal turns a page of stored versions into what the node's own
// accounts receive: everything the page holds.
func releaseLocal(p store.Page) *taxii.Page {
	out := &taxii.Page{More: p.More, Items: make([]taxii.Item, 0, len(p.Objects))}
	for i := range p.Objects {
		out.Items = append(out.Items, item(&p.Objects[i]))
	}
	if len(p.Objects) > 0 {
		out.Next = p.Objects[len(p.Objects)-1].Seq
	}
	return out
}

// release answers query q for caller c. It is the one path by which
// objects leave the node. The node's own accounts get what the store
// holds. A partner node gets what policy.Decide allows its party: a denied
// version is left out, and the page is filled from the versions after it,
// so that neither its size, nor More, nor Next tells that anything was
// withheld; a redacted version goes out as policy.Apply builds it. Each
// version whose content a partner receives is recorded once per (party,
// node, id, version, digest): a ledger.Disclosed entry and a disclosure,
// in one transaction per page. A store that fails answers
// taxii.ErrUnavailable, never a page decided without it.
func (n *Node) release(ctx context.Context, c *taxii.Caller, col store.Collection, q store.Query) (*taxii.Page, error) {
	if !isPartner(c) {
		p, err := n.store.Objects(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("node: listing objects of collection %q: %w", col.ID, err)
		}
		return releaseLocal(p), nil
	}
	r, err := n.newPartnerRelease(ctx, c, col)
	if err != nil {
		return nil, err
	}
	return r.page(ctx, q)
}

// partnerRelease is one page's release to a partner node.
type partnerRelease struct {
	n   *Node
	fed *terms
	to  policy.Recipient
	// node is the partner node's id, and keyName the name of its key,
	// which ledger.Disclosed records.
	node, keyName string
	col           store.Collection
	// refs caches Lookup's answers (misses too) for the page.
	refs map[string]ref
	// decisions and recorded are the release cache's maps for this
	// recipient under this agreement version.
	decisions map[decisionKey]cachedDecision
	recorded  map[int64]struct{}
	// conditions caches the ledger form of each rule's conditions.
	conditions map[*agreement.Conditions][]string
}

// ref is a looked-up object, or a miss (Object nil).
type ref = policy.Ref

func (n *Node) newPartnerRelease(ctx context.Context, c *taxii.Caller, col store.Collection) (*partnerRelease, error) {
	f := n.fed.Load()
	if f == nil {
		return nil, fmt.Errorf("%w: this node works under no agreement", taxii.ErrUnauthorized)
	}
	p, ok := f.nodes[c.Node]
	if !ok || p.party != c.Party {
		// The agreement was amended since the caller was authenticated.
		return nil, fmt.Errorf("%w: agreement %q version %d names no partner node %q of party %q",
			taxii.ErrUnauthorized, f.agreement.ID, f.agreement.Version, c.Node, c.Party)
	}
	r := &partnerRelease{
		n: n, fed: f, col: col, node: p.node, keyName: p.keyName,
		to:         policy.Recipient{Party: p.party, Organization: p.authority},
		refs:       map[string]ref{},
		conditions: map[*agreement.Conditions][]string{},
	}
	r.decisions, r.recorded = n.cache.scopes(decisionScope{fed: f, to: r.to}, recordedScope{fed: f, node: p.node})
	return r, nil
}

// released is a version a partner receives.
type released struct {
	obj      *store.Object
	decision policy.Decision
	raw      []byte // what is sent: the stored JSON, or its redacted copy
	// digest is raw's (ledger.ObjectDigest); zero until record needs it,
	// unless redacted.
	digest ledger.Digest
	// provenance replaces the stored version's for a redacted copy.
	provenance json.RawMessage
}

func (r *partnerRelease) page(ctx context.Context, q store.Query) (*taxii.Page, error) {
	manifest := q.WithoutContent
	limit := q.Limit
	// Deciding needs the content, whatever the endpoint sends.
	scan := q
	scan.WithoutContent = false
	// One more than the page: whether a releasable version follows is
	// what More says.
	scan.Limit = limit + 1
	var (
		out  = make([]released, 0, limit+1)
		more bool
	)
	for {
		p, err := r.n.store.Objects(ctx, scan)
		if err != nil {
			return nil, r.unavailable(ctx, err, "listing objects of collection %q", r.col.ID)
		}
		batch, err := r.decide(ctx, p.Objects)
		if err != nil {
			return nil, err
		}
		out = append(out, batch...)
		if len(out) > limit {
			out, more = out[:limit], true
			break
		}
		if !p.More || len(p.Objects) == 0 {
			break
		}
		scan.After = p.Objects[len(p.Objects)-1].Seq
		scan.Limit = max(limit-len(out)+1, minScan)
	}
	if !manifest {
		if err := r.record(ctx, out); err != nil {
			return nil, err
		}
	}
	page := &taxii.Page{More: more, Items: make([]taxii.Item, 0, len(out))}
	for _, rl := range out {
		it := item(rl.obj)
		if manifest {
			it.Object = nil
		} else {
			it.Object = rl.raw
			if rl.decision.Verdict == policy.Redact {
				it.Provenance = rl.provenance
			}
		}
		page.Items = append(page.Items, it)
	}
	if len(out) > 0 {
		page.Next = out[len(out)-1].obj.Seq
	}
	return page, nil
}

// decide decides each stored version for the partner and returns those it
// may receive, in order.
func (r *partnerRelease) decide(ctx context.Context, objs []store.Object) ([]released, error) {
	// A page read again is decided from the cache alone, mostly.
	out := make([]released, 0, len(objs))
	hits := 0
	for i := range objs {
		c, ok := r.cached(&objs[i])
		if !ok {
			break
		}
		if c.released {
			out = append(out, c.rl)
		}
		hits++
	}
	if hits == len(objs) {
		return out, nil
	}
	slots := make([]decideSlot, len(objs))
	var miss []int // the versions no cached decision answers
	for i := range objs {
		o := &objs[i]
		if c, ok := r.cached(o); ok {
			slots[i] = c
			continue
		}
		miss = append(miss, i)
	}
	if len(miss) == 0 {
		return keep(slots), nil
	}
	parsed := make([]*stix.Object, len(objs))
	var revoked []string
	for _, i := range miss {
		o, err := stix.Parse(objs[i].Raw)
		if err != nil {
			// The node stored it, so it parsed then: the store is broken.
			return nil, fmt.Errorf("node: stored object %s version %s does not parse: %w", objs[i].ID, objs[i].Version, err)
		}
		parsed[i] = o
		if rv, _ := o.Props["revoked"].(bool); rv {
			revoked = append(revoked, o.ID)
		}
	}
	if err := r.prefetch(ctx, parsed); err != nil {
		return nil, err
	}
	// A revocation goes only where the object it revokes went.
	wentTo := map[string]bool{}
	if len(revoked) > 0 {
		ds, err := r.n.store.Disclosures(ctx, r.to.Party, revoked)
		if err != nil {
			return nil, r.unavailable(ctx, err, "reading what was disclosed to %q", r.to.Party)
		}
		for _, d := range ds {
			wentTo[d.ID] = true
		}
	}
	// consulted tells whether a decision depended on more than the object,
	// and so may not be cached.
	consulted := false
	pctx := policy.Context{
		Lookup: func(id string) (policy.Ref, bool, error) {
			consulted = true
			return r.lookup(ctx, id)
		},
		Released: func(id string) bool {
			consulted = true
			return wentTo[id]
		},
	}
	for _, i := range miss {
		o := &objs[i]
		if receivedFrom(o) == r.to.Party {
			// The partner's own party sent it here: it holds it already,
			// and what went back would only come back as a duplicate.
			continue
		}
		pctx.ReceivedFrom, consulted = receivedFrom(o), false
		d, err := r.decideVersion(o, parsed[i], pctx)
		if isCaseType(parsed[i].Type) {
			consulted = true // a draft's later versions decide anew
		}
		if err != nil {
			// Lookup failed, and logged why.
			return nil, fmt.Errorf("%w: deciding on %s", taxii.ErrUnavailable, o.ID)
		}
		c := cachedDecision{decision: d}
		if d.Verdict == policy.Redact {
			red, err := policy.Apply(parsed[i], d)
			if err != nil {
				return nil, fmt.Errorf("node: redacting %s for %q: %w", o.ID, r.to.Party, err)
			}
			c.raw = red.Raw
			if c.digest, err = ledger.ObjectDigest(red.Raw); err != nil {
				return nil, fmt.Errorf("node: redacting %s for %q: %w", o.ID, r.to.Party, err)
			}
			if c.provenance, err = r.n.redactProvenance(o, d.Redact, red.Raw); err != nil {
				return nil, fmt.Errorf("node: redacting %s for %q: %w", o.ID, r.to.Party, err)
			}
		}
		rl, err := r.outcome(o, c)
		if err != nil {
			return nil, err
		}
		slots[i] = decideSlot{rl: rl, released: d.Verdict != policy.Deny}
		if !consulted {
			r.n.cache.putDecision(r.decisions, r.decisionKey(o), c)
		}
	}
	return keep(slots), nil
}

// decideVersion decides the stored version o, parsed as parsed, for the
// partner: a case version by the casework, anything else by
// policy.Decide. It is the decision release acts on, and the one the
// console shows (ExplainRelease).
func (r *partnerRelease) decideVersion(o *store.Object, parsed *stix.Object, pctx policy.Context) (policy.Decision, error) {
	if isCaseType(parsed.Type) {
		// Disclosures of case versions name the casework as their rule.
		d := policy.Decision{Verdict: policy.Allow, Code: policy.CodeAllowed, Rule: CaseRule}
		// A version goes back to the party that took its step never.
		if ok, _ := caseDecision(parsed, r.to.Party); !ok || o.FromParty == r.to.Party {
			d = policy.Decision{Verdict: policy.Deny, Code: policy.CodeNoRule}
		}
		return d, nil
	}
	return policy.Decide(r.fed.policy, r.to, parsed, pctx)
}

// decideSlot is a version's outcome in decide.
type decideSlot struct {
	rl       released
	released bool
}

// keep returns, in order, the versions whose decision releases them.
func keep(slots []decideSlot) []released {
	out := make([]released, 0, len(slots))
	for _, s := range slots {
		if s.released {
			out = append(out, s.rl)
		}
	}
	return out
}

// cached returns the outcome of a decision cached for o.
func (r *partnerRelease) cached(o *store.Object) (decideSlot, bool) {
	c, ok := r.n.cache.decision(r.decisions, r.decisionKey(o))
	if !ok {
		return decideSlot{}, false
	}
	rl, err := r.outcome(o, c)
	return decideSlot{rl: rl, released: c.decision.Verdict != policy.Deny}, err == nil
}

func (r *partnerRelease) decisionKey(o *store.Object) decisionKey {
	return decisionKey{seq: o.Seq, receivedFrom: receivedFrom(o)}
}

// outcome is what leaves the node for o under decision c.
func (r *partnerRelease) outcome(o *store.Object, c cachedDecision) (released, error) {
	rl := released{obj: o, decision: c.decision, raw: o.Raw}
	if c.decision.Verdict == policy.Redact {
		rl.raw, rl.digest, rl.provenance = c.raw, c.digest, c.provenance
	}
	return rl, nil
}

// receivedFrom is the party a stored version was received from, "" when
// this node's party originated it.
func receivedFrom(o *store.Object) string { return o.FromParty }

// refProps are the properties through which objects reference the objects
// they are about (policy's closed references).
var refProps = [...]string{"source_ref", "target_ref", "sighting_of_ref", "observed_data_refs", "where_sighted_refs", "object_refs"}

// prefetch looks up, in one read, the objects that the versions of a batch
// (nil for those decided already) reference, so that deciding them reads the store once rather than once
// per reference.
func (r *partnerRelease) prefetch(ctx context.Context, objs []*stix.Object) error {
	var ids []string
	want := func(id string) {
		if _, seen := r.refs[id]; seen || !stix.ValidID(id) {
			return
		}
		if _, ok := stix.TLPOf(id); ok {
			return
		}
		r.refs[id] = ref{} // a miss unless found below
		ids = append(ids, id)
	}
	for _, o := range objs {
		if o == nil {
			continue // decided from the cache
		}
		for _, prop := range refProps {
			switch v := o.Props[prop].(type) {
			case string:
				want(v)
			case []any:
				for _, x := range v {
					if id, ok := x.(string); ok {
						want(id)
					}
				}
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	found, err := r.fetch(ctx, ids)
	if err != nil {
		for _, id := range ids {
			delete(r.refs, id)
		}
		return err
	}
	for id, f := range found {
		r.refs[id] = f
	}
	return nil
}

// lookup is policy.Context.Lookup: the latest version of a referenced
// object in the collection being read, which is where the partner would
// find it.
func (r *partnerRelease) lookup(ctx context.Context, id string) (policy.Ref, bool, error) {
	if f, ok := r.refs[id]; ok {
		return f, f.Object != nil, nil
	}
	found, err := r.fetch(ctx, []string{id})
	if err != nil {
		return policy.Ref{}, false, err
	}
	f := found[id]
	r.refs[id] = f
	return f, f.Object != nil, nil
}

// fetch reads the latest versions of the objects ids in the collection.
func (r *partnerRelease) fetch(ctx context.Context, ids []string) (map[string]ref, error) {
	p, err := r.n.store.Objects(ctx, store.Query{Collection: r.col.ID, IDs: ids, Limit: len(ids)})
	if err != nil {
		return nil, r.unavailable(ctx, err, "looking up referenced objects")
	}
	found := make(map[string]ref, len(p.Objects))
	for i := range p.Objects {
		o, err := stix.Parse(p.Objects[i].Raw)
		if err != nil {
			return nil, fmt.Errorf("node: stored object %s does not parse: %w", p.Objects[i].ID, err)
		}
		found[o.ID] = ref{Object: o, ReceivedFrom: receivedFrom(&p.Objects[i])}
	}
	return found, nil
}

// record records the disclosures of a page that are not recorded yet: a
// ledger entry each and their disclosure rows, in one transaction. A page
// read again records nothing, so the ledger grows with what partners
// receive, not with how often they ask.
func (r *partnerRelease) record(ctx context.Context, out []released) error {
	// What a partner reads again is known to be recorded, mostly, and
	// needs neither a digest nor a read of the store.
	var cands []released
	for _, rl := range out {
		if r.n.cache.isRecorded(r.recorded, rl.obj.Seq) {
			continue
		}
		if rl.decision.Verdict == policy.Allow {
			var err error
			if rl.digest, err = ledger.ObjectDigest(rl.raw); err != nil {
				return fmt.Errorf("node: the digest of %s: %w", rl.obj.ID, err)
			}
		}
		cands = append(cands, rl)
	}
	if len(cands) == 0 {
		return nil
	}
	ids := make([]string, 0, len(cands))
	for _, rl := range cands {
		ids = append(ids, rl.obj.ID)
	}
	known, err := r.n.store.Disclosures(ctx, r.to.Party, ids)
	if err != nil {
		return r.unavailable(ctx, err, "reading what was disclosed to %q", r.to.Party)
	}
	have := make(map[store.Disclosure]bool, len(known))
	for _, d := range known {
		d.Ledger = 0
		have[d] = true
	}
	var fresh []store.Disclosure
	var events []ledger.Disclosed
	for _, rl := range cands {
		d := r.disclosure(rl)
		if have[d] {
			r.n.cache.putRecorded(r.recorded, rl.obj.Seq)
			continue
		}
		have[d] = true // a page may hold a version once only, but be sure
		fresh = append(fresh, d)
		events = append(events, ledger.Disclosed{
			To: r.to.Party, Node: r.keyName,
			Object:     ledger.ObjectRef{ID: d.ID, Version: d.Version, Digest: d.Digest},
			Agreement:  agreementVersion(r.fed),
			Rule:       rl.decision.Rule,
			Conditions: r.conditionsOf(rl.decision.Conditions),
			Redactions: rl.decision.Redact,
		})
	}
	if len(fresh) == 0 {
		return nil
	}
	now := r.n.now().UTC()
	recs := make([]store.LedgerRecord, len(events))
	for i, ev := range events {
		enc, err := ledger.Entry{Time: now, Event: ev}.Encode()
		if err != nil {
			return fmt.Errorf("node: the disclosure entry of %s: %w", ev.Object.ID, err)
		}
		recs[i] = store.LedgerRecord{Entry: enc, Concerns: []string{r.to.Party}}
		if _, err := io.ReadFull(r.n.writer.rand, recs[i].Salt[:]); err != nil {
			return fmt.Errorf("node: drawing a ledger salt: %w", err)
		}
	}
	err = r.n.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		// Another read of the same page may have recorded some since.
		recorded, err := tx.Disclosed(ctx, fresh)
		if err != nil {
			return err
		}
		var ds []store.Disclosure
		var rs []store.LedgerRecord
		for i, done := range recorded {
			if !done {
				ds, rs = append(ds, fresh[i]), append(rs, recs[i])
			}
		}
		if len(ds) == 0 {
			return nil
		}
		first, err := tx.AppendLedger(ctx, rs)
		if err != nil {
			return err
		}
		for i := range ds {
			ds[i].Ledger = first + int64(i)
		}
		return tx.AddDisclosures(ctx, ds)
	})
	if err != nil {
		return r.unavailable(ctx, err, "recording the disclosures to %q", r.to.Party)
	}
	for _, rl := range cands {
		r.n.cache.putRecorded(r.recorded, rl.obj.Seq)
	}
	select {
	case r.n.writer.grew <- struct{}{}:
	default: // a checkpoint is due already
	}
	return nil
}

// disclosure is the disclosure of rl to the partner node.
func (r *partnerRelease) disclosure(rl released) store.Disclosure {
	return store.Disclosure{Party: r.to.Party, Node: r.node, ID: rl.obj.ID, Version: rl.obj.Version, Digest: rl.digest}
}

// agreementVersion names the agreement version a decision applied, as
// ledger.Disclosed records it.
func agreementVersion(f *terms) string {
	return f.agreement.ID + " version " + strconv.Itoa(f.agreement.Version)
}

// conditionsOf renders a rule's handling conditions for the ledger, once
// per rule and page.
func (r *partnerRelease) conditionsOf(c *agreement.Conditions) []string {
	if c == nil {
		return nil
	}
	if s, ok := r.conditions[c]; ok {
		return s
	}
	var s []string
	if c.Confidential {
		s = append(s, "confidential")
	}
	for _, p := range c.Purposes {
		s = append(s, "purpose:"+p)
	}
	if c.ThirdParties != "" {
		s = append(s, "third-parties:"+c.ThirdParties)
	}
	if c.RetentionDays > 0 {
		s = append(s, "retention-days:"+strconv.Itoa(c.RetentionDays))
	}
	r.conditions[c] = s
	return s
}

// unavailable logs a failure to read or write what a release depends on
// and answers taxii.ErrUnavailable: the partner should retry, and must
// not take the answer for what the agreement allows. The store's error
// stays in the log.
func (r *partnerRelease) unavailable(ctx context.Context, err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	r.n.log.WarnContext(ctx, "node: a release to a partner failed", slog.String("node", r.node),
		slog.String("doing", what), slog.Any("error", err))
	return fmt.Errorf("%w: %s failed", taxii.ErrUnavailable, what)
}

// redactProvenance is the provenance a redacted copy carries: the
// originator's signature over the original o, and this node's signature
// saying that it removed these properties to make redacted
// (provenance.Redact). A version stored without provenance, or a node
// without a key, gives the copy none.
func (n *Node) redactProvenance(o *store.Object, removed []string, redacted []byte) (json.RawMessage, error) {
	if n.key == nil || o.Provenance == nil {
		return nil, nil
	}
	p, err := provenance.Decode(o.Provenance)
	if err != nil {
		return nil, fmt.Errorf("node: the stored provenance of %s: %w", o.ID, err)
	}
	r, err := provenance.Redact(p, n.key.Private, n.originID(), removed, redacted)
	if err != nil {
		return nil, fmt.Errorf("node: signing the redaction of %s: %w", o.ID, err)
	}
	return r.Encode()
}
