package node

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// maxMessage caps one status message, so that an object with thousands of
// violations cannot make its status resource huge.
const maxMessage = 2000

// AddObjects implements taxii.Backend: it parses and validates each object
// of an envelope, stores the valid ones and records a status that reports
// every object, in one transaction shared with the envelopes that arrive
// at the same time (see writer). An invalid object fails alone, with a
// message naming the property path and the rule it broke; an exact
// duplicate of a stored version succeeds.
func (n *Node) AddObjects(ctx context.Context, c *taxii.Caller, root, collection string, objects []json.RawMessage) (*taxii.Status, error) {
	col, err := n.collection(ctx, c, root, collection, ActionWrite)
	if err != nil {
		return nil, err
	}
	if c.Role == taxii.RolePartner {
		return n.addFromPartner(ctx, c, col, objects, nil) // unsigned: each is refused
	}
	e, err := n.checkEnvelope(ctx, c, root, col, objects)
	if err != nil {
		return nil, err
	}
	return e.Store(ctx)
}

// CheckObjects is the first half of AddObjects, for a caller that adds a
// stream of envelopes (an import): it authorizes c and checks each object
// of an envelope (and signs the valid ones), without storing anything.
// The CheckedEnvelope's Store stores them. Checking one envelope while the
// one before is stored keeps both the checkers and the node's writer busy;
// storing them in the order they were checked keeps AddObjects' order. A
// partner node's envelope is refused: it is checked as a receipt, by
// AddObjects.
func (n *Node) CheckObjects(ctx context.Context, c *taxii.Caller, root, collection string, objects []json.RawMessage) (*CheckedEnvelope, error) {
	col, err := n.collection(ctx, c, root, collection, ActionWrite)
	if err != nil {
		return nil, err
	}
	if c.Role == taxii.RolePartner {
		return nil, fmt.Errorf("%w: a partner node's objects are checked as it sends them; use AddObjects", taxii.ErrForbidden)
	}
	return n.checkEnvelope(ctx, c, root, col, objects)
}

// A CheckedEnvelope is an envelope that CheckObjects checked, ready to be
// stored once. It is not safe for concurrent use.
type CheckedEnvelope struct {
	n       *Node
	caller  *taxii.Caller
	col     store.Collection
	w       *write
	valid   []store.Put
	objects int
	stored  bool
}

// checkEnvelope checks the objects of an envelope from c, one of the
// node's accounts, for col.
func (n *Node) checkEnvelope(ctx context.Context, c *taxii.Caller, root string, col store.Collection, objects []json.RawMessage) (*CheckedEnvelope, error) {
	now := n.now().UTC().Truncate(time.Microsecond)

	// failed holds the details of the objects that failed their checks, by
	// place in the envelope; valid holds the others, in order.
	var (
		failed   = make(map[int]store.StatusDetail)
		valid    []store.Put
		warnings []stix.Warnings // valid's, in the same order
	)
	checks, err := n.checkAll(ctx, objects, n.originSigner(c))
	if err != nil {
		return nil, fmt.Errorf("node: checking %d objects: %w", len(objects), err)
	}
	for i, ck := range checks {
		if ck.err != nil {
			id, version := identify(objects[i])
			failed[i] = store.StatusDetail{ID: id, Version: version, Message: message(ck.err)}
			continue
		}
		valid = append(valid, ck.put)
		warnings = append(warnings, ck.warnings)
	}

	// From one of the node's accounts, objects are recorded as
	// originated; from a partner node, as received from its party.
	w := &write{collection: col.ID, puts: valid, at: now}
	if isPartner(c) {
		w.from = c.Party
	}
	if !n.writer.noLedger {
		if err := w.prepare(n.writer.rand); err != nil {
			return nil, err
		}
	}
	total := len(objects)
	w.status = func(outcomes []store.AddOutcome) store.Status {
		s := store.Status{
			ID:               uuid.NewString(),
			APIRoot:          root,
			Status:           "complete",
			RequestTimestamp: now,
			TotalCount:       total,
			Owner:            c.Name,
		}
		j := 0 // the next outcome
		for i := range total {
			if d, ok := failed[i]; ok {
				s.Failures = append(s.Failures, d)
				continue
			}
			o, out, ws := valid[j].Object, outcomes[j], warnings[j]
			j++
			d := store.StatusDetail{ID: o.ID, Version: cmp.Or(out.Version, o.Version())}
			switch {
			case out.Err == nil && out.Duplicate:
				d.Message = "already stored with the same content"
			case out.Err == nil:
				d.Message = withWarnings("stored", ws)
			case errors.Is(out.Err, store.ErrCreatedChanged):
				d.Message = "its created differs from that of the versions stored already; STIX 2.1 §3.2: created must not change between versions of an object"
			case errors.Is(out.Err, store.ErrConflict):
				d.Message = "a different object is stored with this id and version; STIX 2.1 §3.6 requires a new modified timestamp for each change"
			default:
				d.Message = message(out.Err)
			}
			if out.Err == nil {
				s.Successes = append(s.Successes, d)
			} else {
				s.Failures = append(s.Failures, d)
			}
		}
		s.SuccessCount, s.FailureCount = len(s.Successes), len(s.Failures)
		return s
	}
	return &CheckedEnvelope{n: n, caller: c, col: col, w: w, valid: valid, objects: total}, nil
}

// Store stores the valid objects of e and its status, as AddObjects does
// after its checks, and returns the status. It may be called once.
func (e *CheckedEnvelope) Store(ctx context.Context) (*taxii.Status, error) {
	n, c, col, w, valid := e.n, e.caller, e.col, e.w, e.valid
	if e.stored {
		return nil, errors.New("node: a checked envelope is stored once")
	}
	e.stored = true
	if err := n.writer.do(ctx, w); err != nil {
		return nil, fmt.Errorf("node: storing %d objects in collection %q: %w", len(valid), col.ID, err)
	}
	// The caller's next reads must see what it just wrote, also on a
	// store that reads from a replica.
	if r, ok := n.store.(store.Replicated); ok {
		if err := r.Wrote(ctx, c.Name); err != nil {
			return nil, fmt.Errorf("node: storing %d objects in collection %q: %w", len(valid), col.ID, err)
		}
	}
	s := w.result
	if rs := revocations(col, valid, w.outcomes); len(rs) > 0 {
		// After the commit, and not on the request's time: the pushes
		// are retried by the links.
		n.pushing.Go(func() { n.pushRevocations(context.WithoutCancel(ctx), rs) })
	}
	n.log.InfoContext(ctx, "added objects",
		slog.String("account", c.Name), slog.String("collection", col.ID), slog.String("status", s.ID),
		slog.Int("total", s.TotalCount), slog.Int("succeeded", s.SuccessCount), slog.Int("failed", s.FailureCount))
	return statusResource(s), nil
}

// checked is the outcome of checking one object.
type checked struct {
	put      store.Put
	warnings stix.Warnings
	err      error
}

// parallelCheck is the envelope size from which checking is spread over
// the processors: parsing and validating cost as much as storing, and
// SQLite writes on one core, so the others are free.
const parallelCheck = 256

// checkChunk is how many objects a checker handles per turn of the
// checking semaphore.
const checkChunk = 32

// checkAll checks every object of an envelope, in parallel when the
// envelope is large. Checking is CPU-bound: a turn of n.checking is held
// for each chunk of objects, so that however many envelopes arrive at once,
// no more checkers run than there are processors, and the writer, which
// they feed, is not starved of CPU by them. It fails only if ctx ends.
//
// sign, when not nil, makes the valid objects' provenance records from
// the hashes check computed, a chunk at a time, so that it can sign them
// in batches (see originSigner).
func (n *Node) checkAll(ctx context.Context, objects []json.RawMessage, sign func([][sha256.Size]byte) ([][]byte, error)) ([]checked, error) {
	out := make([]checked, len(objects))
	workers := min(runtime.GOMAXPROCS(0), len(objects)/parallelCheck+1)
	chunks := (len(objects) + checkChunk - 1) / checkChunk
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			// Interleaved by chunk, so that a run of costly objects is
			// shared.
			for c := w; c < chunks; c += workers {
				select {
				case n.checking <- struct{}{}:
				case <-ctx.Done():
					errs[w] = ctx.Err()
					return
				}
				chunk := out[c*checkChunk : min((c+1)*checkChunk, len(objects))]
				for i := range chunk {
					chunk[i].put, chunk[i].warnings, chunk[i].err = check(objects[c*checkChunk+i])
				}
				if sign != nil {
					signChunk(chunk, sign)
				}
				<-n.checking
			}
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// signChunk gives the valid objects of chunk their provenance records,
// signed together; if signing fails, they fail.
func signChunk(chunk []checked, sign func([][sha256.Size]byte) ([][]byte, error)) {
	var sums [][sha256.Size]byte
	for _, ck := range chunk {
		if ck.err == nil {
			sums = append(sums, ck.put.Hash)
		}
	}
	if len(sums) == 0 {
		return
	}
	recs, err := sign(sums)
	j := 0
	for i := range chunk {
		if chunk[i].err != nil {
			continue
		}
		if err != nil {
			chunk[i].err = err
			continue
		}
		chunk[i].put.Provenance = recs[j]
		j++
	}
}

// check parses and validates one object of an envelope, hashes its
// canonical form for the store, and returns what in it departs from
// STIX 2.1's recommendations.
func check(raw json.RawMessage) (store.Put, stix.Warnings, error) {
	o, err := stix.Parse(raw)
	if err != nil {
		return store.Put{}, nil, err
	}
	if o.Type == "bundle" {
		// A bundle is a transport wrapper, not a STIX object (STIX 2.1
		// §8); TAXII carries objects in the envelope itself.
		return store.Put{}, nil, &stix.Error{Path: "type", Rule: "not-bundle", Msg: `a bundle cannot be stored; put its objects in the envelope's "objects" list`}
	}
	warnings, err := stix.Check(o)
	if err != nil {
		return store.Put{}, nil, err
	}
	if err := checkSignature(o); err != nil {
		return store.Put{}, nil, err
	}
	// The store needs the common properties and the bytes only. Dropping
	// the decoded view keeps an envelope waiting for its commit to about
	// its own size.
	slim := &stix.Object{Type: o.Type, ID: o.ID, SpecVersion: o.SpecVersion, Created: o.Created, Modified: o.Modified, Raw: o.Raw}
	p, err := store.NewPut(slim)
	return p, warnings, err
}

// withWarnings appends an object's warnings to the message of its success.
func withWarnings(msg string, ws stix.Warnings) string {
	if len(ws) == 0 {
		return msg
	}
	return message(errors.New(msg + "; " + ws.String()))
}

// identify extracts what it can of an invalid object's id and version for
// its status details, which TAXII requires even when the object is broken.
func identify(raw json.RawMessage) (id, version string) {
	var head struct {
		ID       any `json:"id"`
		Created  any `json:"created"`
		Modified any `json:"modified"`
	}
	if json.Unmarshal(raw, &head) != nil {
		return "", ""
	}
	id, _ = head.ID.(string)
	if v, ok := head.Modified.(string); ok {
		return id, v
	}
	version, _ = head.Created.(string)
	return id, version
}

func message(err error) string {
	m := err.Error()
	if len(m) > maxMessage {
		cut := maxMessage
		for cut > 0 && !utf8.RuneStart(m[cut]) {
			cut--
		}
		m = m[:cut] + "…"
	}
	return m
}

func statusResource(s store.Status) *taxii.Status {
	res := &taxii.Status{
		ID:           s.ID,
		Status:       s.Status,
		TotalCount:   s.TotalCount,
		SuccessCount: s.SuccessCount,
		FailureCount: s.FailureCount,
		PendingCount: s.PendingCount,
		Successes:    details(s.Successes),
		Failures:     details(s.Failures),
		Pendings:     details(s.Pendings),
	}
	if !s.RequestTimestamp.IsZero() {
		res.RequestTimestamp = taxii.FormatTimestamp(s.RequestTimestamp)
	}
	return res
}

func details(ds []store.StatusDetail) []taxii.StatusDetails {
	if len(ds) == 0 {
		return nil
	}
	out := make([]taxii.StatusDetails, len(ds))
	for i, d := range ds {
		out[i] = taxii.StatusDetails{ID: d.ID, Version: d.Version, Message: d.Message}
	}
	return out
}
