package node

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/entente/entente/casework"
	"github.com/entente/entente/federation"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/policy"
	"github.com/entente/entente/provenance"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

var _ federation.Sink = (*Node)(nil)

// ViolationWorkflow is the workflow name of the ledger entries that record
// an agreement violation: a partner sent an object version its own rule
// did not allow it to send, or one whose origin signature does not verify.
// The entry is a transition of the case "<id>@<version>" to "refused",
// with the sending party as counterparty (it may receive the opening) and
// the attributes node (the sending node), check (what failed: a
// policy.Code name or "signature"), rule (the sender's rule, if any),
// origin (the node the provenance names) and digest (hex SHA-256 of the
// object's RFC 8785 form). A transition rather than a new kind of entry:
// the entry encoding stays at its version (doc/ledger.md). The name is
// casework's, whose compliance record counts these entries.
const ViolationWorkflow = casework.ViolationWorkflow

// Alert kinds the node raises about partners; with federation's
// AlertReplay and AlertSuspended, the bounded set of the alert metric's
// label.
const (
	AlertViolation = "violation"     // an object outside the sender's rule
	AlertSignature = "bad-signature" // a missing, forged or re-signed origin signature
	AlertInvalid   = "invalid"       // an object that is not valid STIX 2.1
)

// A refusal is why an incoming object version is not stored.
type refusal struct {
	kind   string // AlertViolation, AlertSignature or AlertInvalid
	check  string // the failed check
	rule   string
	origin string
	detail string
}

// incoming is one received item as the checks leave it.
type incoming struct {
	put      store.Put
	refused  *refusal
	deferred error // a store outage during the checks: retry the page
	// hashErr is why the object has no RFC 8785 form (and put no Hash).
	hashErr error
}

// Receive implements federation.Sink: it checks what the partner node from
// sent (the origin signature against the key the agreement pins for the
// originating node, and the sender's own rule in the agreement for this
// node's party), stores the versions that pass in the local collection
// with the partner collection's id or alias (else the default API root's
// first collection), each recorded as received in the ledger with its
// provenance, and records each refused version as an agreement violation
// and an alert. It fails only when it cannot do that (a store outage), so
// that the Link retries.
func (n *Node) Receive(ctx context.Context, from federation.Peer, collection string, items []federation.Incoming) (federation.Result, error) {
	col, err := n.receivingCollection(ctx, collection)
	if err != nil {
		return federation.Result{}, err
	}
	res, _, err := n.receive(ctx, from, col, items, "", false)
	return res, err
}

var _ taxii.ProvenanceAdder = (*Node)(nil)

// AddObjectsWithProvenance implements taxii.ProvenanceAdder: a partner
// node's push carries each object's provenance, which Receive checks. From
// the node's own accounts the records are ignored: the node signs what
// they originate itself.
func (n *Node) AddObjectsWithProvenance(ctx context.Context, c *taxii.Caller, root, collection string, objects, provs []json.RawMessage) (*taxii.Status, error) {
	if c == nil || c.Role != taxii.RolePartner {
		return n.AddObjects(ctx, c, root, collection, objects)
	}
	col, err := n.collection(ctx, c, root, collection, ActionWrite)
	if err != nil {
		return nil, err
	}
	return n.addFromPartner(ctx, c, col, objects, provs)
}

// addFromPartner stores what a partner node pushed into col (an inbox
// shared with it for writing) through the same checks as Receive;
// provenances holds the envelope's x_entente_provenance, aligned with
// objects.
func (n *Node) addFromPartner(ctx context.Context, c *taxii.Caller, col store.Collection, objects []json.RawMessage, provenances []json.RawMessage) (*taxii.Status, error) {
	items := make([]federation.Incoming, len(objects))
	for i, o := range objects {
		items[i].Object = o
		if i < len(provenances) {
			items[i].Provenance = provenances[i]
		}
	}
	res, s, err := n.receive(ctx, federation.Peer{Party: c.Party, Node: c.Node}, col, items, c.Name, true)
	if err != nil {
		return nil, err
	}
	n.log.InfoContext(ctx, "partner pushed objects", slog.String("party", c.Party), slog.String("node", c.Node),
		slog.String("collection", col.ID), slog.Int("stored", res.Stored), slog.Int("refused", res.Refused))
	return statusResource(s), nil
}

// receivingCollection is where objects pulled from a partner's
// collection named name go.
func (n *Node) receivingCollection(ctx context.Context, name string) (store.Collection, error) {
	roots, err := n.store.APIRoots(ctx)
	if err != nil {
		return store.Collection{}, fmt.Errorf("node: reading API roots: %w", err)
	}
	if len(roots) == 0 {
		return store.Collection{}, errors.New("node: the store holds no API root")
	}
	col, err := n.lookup(ctx, roots[0].Path, name)
	if err == nil {
		return col, nil
	}
	if !errors.Is(err, taxii.ErrNotFound) {
		return store.Collection{}, err
	}
	cols, err := n.store.Collections(ctx, roots[0].Path)
	if err != nil {
		return store.Collection{}, fmt.Errorf("node: listing collections: %w", err)
	}
	if len(cols) == 0 {
		return store.Collection{}, fmt.Errorf("node: API root %q has no collection to receive into", roots[0].Path)
	}
	return cols[0], nil
}

// receive checks items from the partner node from and stores those that
// pass in col, in one write, and returns what it did and, when status is
// set, the status of the write (a pull's is not kept); owner names the
// status's owner (the partner's caller name for a push, "" for a pull).
func (n *Node) receive(ctx context.Context, from federation.Peer, col store.Collection, items []federation.Incoming, owner string, status bool) (federation.Result, store.Status, error) {
	if col.Alias != CasesAlias && slices.ContainsFunc(items, func(it federation.Incoming) bool { return isCaseRaw(it.Object) }) {
		return n.receiveSplit(ctx, from, col, items, owner, status)
	}
	f := n.fed.Load()
	if f == nil {
		return federation.Result{}, store.Status{}, errors.New("node: the node works under no agreement, so it receives from no partner")
	}
	if p, _, ok := f.agreement.Node(from.Node); !ok || p.ID != from.Party || p.ID == f.party {
		return federation.Result{}, store.Status{}, fmt.Errorf("node: %s of %s is not a partner node in agreement %q", from.Node, from.Party, f.agreement.ID)
	}
	sender, err := n.senderPolicy(f, from.Party)
	if err != nil {
		return federation.Result{}, store.Status{}, err
	}
	now := n.now().UTC().Truncate(time.Microsecond)
	ins := n.checkIncoming(ctx, f, sender, from, col, items)
	var cases map[int]receivedCase
	if hasCases(ins) {
		// Case versions follow from the version stored before them.
		n.caseMu.Lock()
		defer n.caseMu.Unlock()
		var err error
		if cases, err = n.checkCases(ctx, f, from, col, items, ins); err != nil {
			return federation.Result{}, store.Status{}, err
		}
	}

	var (
		res         federation.Result
		puts        []store.Put
		places      []int // puts[i] is items[places[i]]
		transitions map[int]ledger.Transition
	)
	for i := range ins {
		in := &ins[i]
		switch {
		case in.deferred != nil:
			return federation.Result{}, store.Status{}, in.deferred
		case in.refused != nil:
			res.Refused++
			if err := n.refuse(ctx, from, items[i].Object, in); err != nil {
				return federation.Result{}, store.Status{}, err
			}
		default:
			if rc, ok := cases[i]; ok {
				if transitions == nil {
					transitions = map[int]ledger.Transition{}
				}
				transitions[len(puts)] = rc.tr
			}
			puts = append(puts, in.put)
			places = append(places, i)
		}
	}

	if len(puts) == 0 && owner == "" {
		return res, store.Status{}, nil // a pulled page with nothing to store
	}
	// What the status names each item by, found before the transaction,
	// which the node's one writer holds.
	var ids, versions []string
	if status {
		ids, versions = make([]string, len(items)), make([]string, len(items))
		for i, it := range items {
			ids[i], versions[i] = identify(it.Object)
		}
	}
	// The ledger names the sending node by its key's name, as disclosures do.
	w := &write{collection: col.ID, puts: puts, at: now, from: from.Party, fromNode: f.nodes[from.Node].keyName,
		transitions: transitions}
	if !n.writer.noLedger {
		if err := w.prepare(n.writer.rand); err != nil {
			return federation.Result{}, store.Status{}, err
		}
	}
	w.status = func(outcomes []store.AddOutcome) store.Status {
		s := store.Status{ID: uuid.NewString(), APIRoot: col.APIRoot, Status: "complete", RequestTimestamp: now,
			TotalCount: len(items), Owner: owner}
		if !status {
			return s
		}
		placed := make(map[int]store.AddOutcome, len(outcomes))
		for j, out := range outcomes {
			placed[places[j]] = out
		}
		for i, in := range ins {
			id, version := ids[i], versions[i]
			if in.refused != nil {
				s.Failures = append(s.Failures, store.StatusDetail{ID: id, Version: version, Message: message(errors.New(in.refused.detail))})
				continue
			}
			out := placed[i]
			d := store.StatusDetail{ID: id, Version: version}
			switch {
			case out.Err != nil:
				d.Message = message(out.Err)
				s.Failures = append(s.Failures, d)
			case out.Duplicate:
				d.Message = "already stored with the same content"
				s.Successes = append(s.Successes, d)
			default:
				d.Message = "stored"
				s.Successes = append(s.Successes, d)
			}
		}
		s.SuccessCount, s.FailureCount = len(s.Successes), len(s.Failures)
		return s
	}
	if owner == "" {
		w.noStatus = true
	}
	if err := n.writer.do(ctx, w); err != nil {
		return federation.Result{}, store.Status{}, fmt.Errorf("node: storing %d objects from %s: %w", len(puts), from.Node, err)
	}
	for j, out := range w.outcomes {
		switch {
		case out.Err != nil:
			res.Refused++
		case out.Duplicate:
			res.Duplicates++
		default:
			res.Stored++
			if rc, ok := cases[places[j]]; ok {
				n.caseEvent(ctx, rc.prev, rc.next)
			}
		}
	}
	if res.Stored > 0 || res.Refused > 0 {
		n.log.InfoContext(ctx, "received objects", slog.String("party", from.Party), slog.String("node", from.Node),
			slog.String("collection", col.ID), slog.Int("stored", res.Stored), slog.Int("duplicates", res.Duplicates),
			slog.Int("refused", res.Refused))
	}
	return res, w.result, nil
}

// receiveSplit receives the case versions among items into the cases
// collection, wherever the partner put them (its pull, or a push into
// another inbox), and the rest into col. The status (of a push) reports
// both; the one stored keeps col's part only.
func (n *Node) receiveSplit(ctx context.Context, from federation.Peer, col store.Collection, items []federation.Incoming, owner string, status bool) (federation.Result, store.Status, error) {
	cases, err := n.CasesCollection(ctx)
	if err != nil {
		return federation.Result{}, store.Status{}, err
	}
	var caseItems, rest []federation.Incoming
	for _, it := range items {
		if isCaseRaw(it.Object) {
			caseItems = append(caseItems, it)
		} else {
			rest = append(rest, it)
		}
	}
	r1, s1, err := n.receive(ctx, from, cases, caseItems, "", status)
	if err != nil {
		return federation.Result{}, store.Status{}, err
	}
	r2, s2, err := n.receive(ctx, from, col, rest, owner, status)
	if err != nil {
		return federation.Result{}, store.Status{}, err
	}
	s2.TotalCount += s1.TotalCount
	s2.Successes = append(s2.Successes, s1.Successes...)
	s2.Failures = append(s2.Failures, s1.Failures...)
	s2.SuccessCount, s2.FailureCount = len(s2.Successes), len(s2.Failures)
	return federation.Result{Stored: r1.Stored + r2.Stored, Duplicates: r1.Duplicates + r2.Duplicates, Refused: r1.Refused + r2.Refused}, s2, nil
}

// senderPolicy returns the agreement compiled for the sending party, so
// that its rule toward this node's party decides what it may send.
func (n *Node) senderPolicy(f *terms, party string) (*policy.Policy, error) {
	key := senderKey{f, party}
	if p, ok := n.senders.Load(key); ok {
		return p.(*policy.Policy), nil
	}
	p, err := policy.Compile(f.agreement, party)
	if err != nil {
		return nil, fmt.Errorf("node: compiling the agreement for %s: %w", party, err)
	}
	n.senders.Store(key, p)
	return p, nil
}

// verifier returns the origin signature verifier of agreement f: the keys
// it pins, and the batch signatures verified already.
func (n *Node) verifier(f *terms) *provenance.Verifier {
	if v, ok := n.verifiers.Load(f); ok {
		return v.(*provenance.Verifier)
	}
	v, _ := n.verifiers.LoadOrStore(f, provenance.NewVerifier(f.keyOf))
	return v.(*provenance.Verifier)
}

// senderKey keys the compiled policies of senders: by agreement (an
// amendment makes a new federation), and party.
type senderKey struct {
	f     *terms
	party string
}

// receiveChunk is how many received objects a checker takes per turn.
const receiveChunk = 32

// checkIncoming checks every item, in parallel across the processors as
// checkAll does: first each object alone (parsing, validation and its
// RFC 8785 digest, which both the signature check and the store use),
// then, once the page's objects are known, each signature and the
// sender's rule.
func (n *Node) checkIncoming(ctx context.Context, f *terms, sender *policy.Policy, from federation.Peer, col store.Collection, items []federation.Incoming) []incoming {
	out := make([]incoming, len(items))
	objs := make([]*stix.Object, len(items))
	canceled := func(i int) { out[i].deferred = ctx.Err() }
	n.eachChecked(ctx, len(items), func(i int) {
		o, err := stix.Parse(items[i].Object)
		if err == nil && o.Type == "bundle" {
			err = errors.New("a bundle is not a STIX object")
		}
		if err == nil {
			_, err = stix.Check(o)
		}
		if err != nil {
			out[i].refused = &refusal{kind: AlertInvalid, check: "stix", detail: fmt.Sprintf("not valid STIX 2.1: %v", err)}
			return
		}
		objs[i] = o
		// The store needs the common properties and the bytes only.
		out[i].put, out[i].hashErr = store.NewPut(&stix.Object{Type: o.Type, ID: o.ID, SpecVersion: o.SpecVersion, Created: o.Created, Modified: o.Modified, Raw: o.Raw})
	}, canceled)
	if ctx.Err() != nil {
		return out
	}
	// References resolve first within the page, then among what the
	// receiving collection holds.
	inPage := make(map[string]*stix.Object, len(objs))
	for _, o := range objs {
		if o != nil {
			inPage[o.ID] = o
		}
	}
	lookup := func(id string) (policy.Ref, bool, error) {
		if o, ok := inPage[id]; ok {
			return policy.Ref{Object: o}, true, nil
		}
		p, err := n.store.Objects(ctx, store.Query{Collection: col.ID, IDs: []string{id}, Limit: 1})
		if err != nil {
			return policy.Ref{}, false, err
		}
		if len(p.Objects) == 0 {
			return policy.Ref{}, false, nil
		}
		o, err := stix.Parse(p.Objects[0].Raw)
		if err != nil {
			return policy.Ref{}, false, err
		}
		return policy.Ref{Object: o}, true, nil
	}
	recipient := policy.Recipient{Party: f.party, Organization: f.self.Authority}
	n.eachChecked(ctx, len(items), func(i int) {
		if objs[i] != nil {
			out[i] = n.checkOne(f, sender, recipient, from, objs[i], items[i], out[i], lookup)
		}
	}, canceled)
	return out
}

// eachChecked calls check for every index below count, in parallel
// across the processors when count is large, a chunk of receiveChunk at a
// time under a turn of n.checking, as checkAll does. For the indexes of
// the chunks that find ctx ended before their turn, it calls canceled
// instead.
func (n *Node) eachChecked(ctx context.Context, count int, check, canceled func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), count/parallelCheck+1)
	chunks := (count + receiveChunk - 1) / receiveChunk
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for c := w; c < chunks; c += workers {
				first, end := c*receiveChunk, min((c+1)*receiveChunk, count)
				select {
				case n.checking <- struct{}{}:
				case <-ctx.Done():
					for i := first; i < end; i++ {
						canceled(i)
					}
					continue
				}
				for i := first; i < end; i++ {
					check(i)
				}
				<-n.checking
			}
		})
	}
	wg.Wait()
}

// checkOne checks one received object version, which parsed and
// validated as pre says: its origin signature, then the sender's rule.
func (n *Node) checkOne(f *terms, sender *policy.Policy, to policy.Recipient, from federation.Peer, o *stix.Object, it federation.Incoming, pre incoming, lookup func(string) (policy.Ref, bool, error)) incoming {
	var in incoming
	if len(it.Provenance) == 0 || string(it.Provenance) == "null" {
		in.refused = &refusal{kind: AlertSignature, check: "signature", detail: "it carries no origin signature; every object version a node releases must"}
		return in
	}
	prov, err := provenance.Decode(it.Provenance)
	if err == nil {
		if pre.hashErr != nil {
			// Verify canonicalizes again, and says why it cannot.
			err = n.verifier(f).Verify(prov, it.Object)
		} else {
			err = n.verifier(f).VerifyDigest(prov, pre.put.Hash, it.Object)
		}
	}
	if err != nil {
		in.refused = &refusal{kind: AlertSignature, check: "signature", origin: prov.Origin.Node,
			detail: fmt.Sprintf("its origin signature does not verify against the keys the agreement pins: %v", err)}
		return in
	}
	originParty := f.partyOf(prov.Origin.Node)
	if isCaseType(o.Type) {
		// A case is the agreement's own channel between its two parties:
		// checkCases decides it (casework.Verify), not the sharing rules.
		if originParty != from.Party {
			in.refused = &refusal{kind: AlertViolation, check: "casework", origin: prov.Origin.Node,
				detail: fmt.Sprintf("a case version is signed by the node of the party that took the step; this one by %s", prov.Origin.Node)}
			return in
		}
		return storable(pre.put, prov, from)
	}
	ctx := policy.Context{Lookup: lookup}
	if originParty != from.Party {
		ctx.ReceivedFrom = originParty // the sender passes on what it received
	}
	d, err := policy.Decide(sender, to, o, ctx)
	if err != nil {
		in.deferred = fmt.Errorf("node: checking %s against %s's rule: %w", o.ID, from.Party, err)
		return in
	}
	switch {
	case d.Verdict == policy.Allow:
	case d.Verdict == policy.Redact && !hasAny(o, d.Redact):
		// A copy the sender redacted as its rule asks.
	case d.Code == policy.CodeReferenceMissing:
		// The object passed its own checks; what it references is not
		// here to check (the sender's release closes references), so the
		// object is no evidence of a violation.
	default:
		in.refused = &refusal{kind: AlertViolation, check: d.Code.String(), rule: d.Rule, origin: prov.Origin.Node,
			detail: fmt.Sprintf("%s's rule does not allow sending it to %s: %s", from.Party, to.Party, d.Reason())}
		return in
	}
	return storable(pre.put, prov, from)
}

// storable makes the put of a received version that passed its checks
// from the store's put of its object.
func storable(put store.Put, prov provenance.Provenance, from federation.Peer) incoming {
	var in incoming
	enc, err := prov.Encode()
	if err != nil {
		in.refused = &refusal{kind: AlertSignature, check: "signature", detail: err.Error()}
		return in
	}
	put.Provenance, put.FromParty, put.FromNode = enc, from.Party, from.Node
	in.put = put
	return in
}

// hasCases reports whether any accepted item may be a case version.
func hasCases(ins []incoming) bool {
	for _, in := range ins {
		if in.refused == nil && in.deferred == nil && isCaseType(in.put.Object.Type) {
			return true
		}
	}
	return false
}

// hasAny reports whether o has any of the top-level properties.
func hasAny(o *stix.Object, props []string) bool {
	for _, p := range props {
		if _, ok := o.Props[p]; ok {
			return true
		}
	}
	return false
}

// keyOf returns the Ed25519 key the agreement pins for a node id.
func (f *terms) keyOf(node string) (ed25519.PublicKey, bool) {
	pub, ok := f.keys[node]
	return pub, ok
}

// partyOf returns the party that runs a node, "" if none does.
func (f *terms) partyOf(node string) string {
	if p, _, ok := f.agreement.Node(node); ok {
		return p.ID
	}
	return ""
}

// refuse records a refused object version: an alert, and for a violation
// or a bad signature, a ledger entry that concerns the sender.
func (n *Node) refuse(ctx context.Context, from federation.Peer, raw []byte, in *incoming) error {
	r := in.refused
	id, version := identify(raw)
	a := store.Alert{Time: n.now().UTC(), Party: from.Party, Node: from.Node, Kind: r.kind,
		Object: id + "@" + version, Detail: r.detail, Entry: -1}
	if r.kind != AlertInvalid && id != "" && version != "" {
		attrs := map[string]string{"node": from.Node, "check": r.check}
		if r.rule != "" {
			attrs["rule"] = r.rule
		}
		if r.origin != "" {
			attrs["origin"] = r.origin
		}
		if d, err := ledger.ObjectDigest(raw); err == nil {
			attrs["digest"] = hex.EncodeToString(d[:])
		}
		idx, err := n.appendTransition(ctx, ledger.Transition{Workflow: ViolationWorkflow, Case: id + "@" + version,
			To: "refused", Party: from.Party, Attrs: attrs})
		if err != nil {
			return err
		}
		a.Entry = idx
	}
	return n.raise(ctx, a)
}

// raise records an alert: a log line, a stored alert and the metric.
func (n *Node) raise(ctx context.Context, a store.Alert) error {
	n.log.WarnContext(ctx, "federation alert", slog.String("kind", a.Kind), slog.String("party", a.Party),
		slog.String("node", a.Node), slog.String("object", a.Object), slog.String("detail", a.Detail), slog.Int64("entry", a.Entry))
	if _, err := n.store.AddAlert(ctx, a); err != nil {
		return fmt.Errorf("node: recording an alert: %w", err)
	}
	if n.onAlert != nil {
		n.onAlert(a.Kind)
	}
	return nil
}

// appendTransition appends a transition to the ledger in a transaction of
// its own and returns its index.
func (n *Node) appendTransition(ctx context.Context, tr ledger.Transition) (int64, error) {
	e := ledger.Entry{Time: n.now().UTC(), Event: tr}
	enc, err := e.Encode()
	if err != nil {
		return 0, fmt.Errorf("node: encoding the ledger entry: %w", err)
	}
	r := store.LedgerRecord{Entry: enc}
	if tr.Party != "" {
		r.Concerns = []string{tr.Party}
	}
	if _, err := io.ReadFull(n.writer.rand, r.Salt[:]); err != nil {
		return 0, fmt.Errorf("node: drawing a ledger salt: %w", err)
	}
	var idx int64
	err = n.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		idx, err = tx.AppendLedger(ctx, []store.LedgerRecord{r})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("node: appending to the ledger: %w", err)
	}
	select {
	case n.writer.grew <- struct{}{}:
	default:
	}
	return idx, nil
}

// Cursor implements federation.Sink.
func (n *Node) Cursor(ctx context.Context, node, collection string) (time.Time, error) {
	return n.store.Cursor(ctx, node, collection)
}

// SaveCursor implements federation.Sink.
func (n *Node) SaveCursor(ctx context.Context, node, collection string, addedAfter time.Time) error {
	return n.store.SaveCursor(ctx, node, collection, addedAfter)
}

// SaveHealth implements federation.Sink.
func (n *Node) SaveHealth(ctx context.Context, h federation.Health) error {
	return n.store.PutLinkHealth(ctx, store.LinkHealth{
		Node: h.Node, Party: h.Party, Log: h.Log, State: h.State,
		LastAttempt: h.LastAttempt, LastSuccess: h.LastSuccess, CaughtUp: h.CaughtUp,
		Behind: h.Behind, Pending: h.Pending,
		Stored: h.Stored, Duplicates: h.Duplicates, Refused: h.Refused, Errors: h.Errors,
		LastError: h.LastError, Suspended: h.Suspended, Updated: n.now().UTC(),
	})
}

// Alert implements federation.Sink.
func (n *Node) Alert(ctx context.Context, a federation.Alert) error {
	return n.raise(ctx, store.Alert{Time: n.now().UTC(), Party: a.Peer.Party, Node: a.Peer.Node, Kind: a.Kind, Detail: a.Detail, Entry: -1})
}

// Suspended implements federation.Sink: whether the node's witness
// suspended the log origin (Transparency.Suspended).
func (n *Node) Suspended(ctx context.Context, origin string) (bool, error) {
	ss, err := n.store.Suspensions(ctx)
	if err != nil {
		return false, err
	}
	for _, s := range ss {
		if s.Origin == origin {
			return true, nil
		}
	}
	return false, nil
}

// Peers returns the partner nodes of the agreement the node works under,
// in the agreement's order, with their TAXII URLs; none without one.
func (n *Node) Peers() []Peer {
	f := n.fed.Load()
	if f == nil {
		return nil
	}
	var out []Peer
	for _, p := range f.agreement.Parties {
		if p.ID == f.party {
			continue
		}
		for _, nd := range p.Nodes {
			out = append(out, Peer{Peer: federation.Peer{Party: p.ID, Node: nd.ID, Log: nd.Log}, URL: nd.URL})
		}
	}
	return out
}

// Peer is a partner node and the URL of its TAXII API root as the
// agreement gives it.
type Peer struct {
	federation.Peer
	URL string
}
