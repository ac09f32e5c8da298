package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// The console's ledger page: the node's checkpoints with the signatures
// they collected, the partner logs it witnesses, and a verification that
// goes on where the last one stopped. The log reveals only its size and
// growth (MayReadLedger), so every role may read it.

// Signature is one signature line of a checkpoint.
type Signature struct {
	// Name is the key's name as the line gives it.
	Name string
	// Own says it is the node's own signature; otherwise a witness's.
	Own bool
	// Party and Node name the witness when the agreement does ("" for a
	// third-party witness); Witness is the name the agreement gives it.
	Party, Node, Witness string
	// Time is a cosignature's timestamp; zero for a plain signature.
	Time time.Time
}

// CheckpointView is a signed checkpoint of the node's own log.
type CheckpointView struct {
	Size   int64
	Signed time.Time
	// Root is the tree's root hash (base64), Origin the log's name, as the
	// checkpoint's text says; empty if it does not parse.
	Root, Origin string
	// Note is the checkpoint as stored: its text and signature lines.
	Note       string
	Signatures []Signature
}

// LedgerState is the node's own log as the ledger page shows it.
type LedgerState struct {
	Origin string // the log's name
	Size   int64  // entries
	// Latest is the checkpoint of the largest size; nil before the first.
	Latest *CheckpointView
}

// Ledger returns the node's log: its size and latest checkpoint.
func (n *Node) Ledger(ctx context.Context, c *taxii.Caller) (*LedgerState, error) {
	if err := consoleAccount(c); err != nil {
		return nil, err
	}
	size, err := n.store.LedgerSize(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the ledger's size: %v", taxii.ErrUnavailable, err)
	}
	st := &LedgerState{Origin: n.logName, Size: size}
	latest, err := n.store.LatestCheckpoint(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("%w: reading the latest checkpoint: %v", taxii.ErrUnavailable, err)
	default:
		v := n.checkpointView(latest)
		st.Latest = &v
	}
	return st, nil
}

// Checkpoints returns the node's checkpoints of size above after, by
// increasing size, at most limit, and whether more follow: a keyset page.
func (n *Node) Checkpoints(ctx context.Context, c *taxii.Caller, after int64, limit int) ([]CheckpointView, bool, error) {
	if err := consoleAccount(c); err != nil {
		return nil, false, err
	}
	cs, err := n.store.Checkpoints(ctx, after, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("%w: reading checkpoints: %v", taxii.ErrUnavailable, err)
	}
	more := len(cs) > limit
	cs = cs[:min(len(cs), limit)]
	out := make([]CheckpointView, len(cs))
	for i, c := range cs {
		out[i] = n.checkpointView(c)
	}
	return out, more, nil
}

// checkpointView reads a stored checkpoint's text and signature lines. It
// verifies nothing: VerifyLedgerStep does.
func (n *Node) checkpointView(c store.StoredCheckpoint) CheckpointView {
	v := CheckpointView{Size: c.Size, Signed: c.Signed, Note: string(c.Note)}
	if cp, err := CheckpointOf(c.Note); err == nil {
		v.Root, v.Origin = cp.Hash.String(), cp.Origin
	}
	witnesses := n.witnessNames()
	for _, l := range signatureLines(c.Note) {
		s := Signature{Name: l.Name, Own: n.key != nil && l.Name == n.key.Name}
		if t, err := ledger.CosignatureTime(l); err == nil {
			s.Time = t.UTC()
		}
		if w, ok := witnesses[l.Name]; ok && !s.Own {
			s.Party, s.Node, s.Witness = w.party, w.node, w.name
		}
		v.Signatures = append(v.Signatures, s)
	}
	return v
}

// signatureLines reads the signature lines of a signed note ("— <name>
// <base64>" after the blank line that ends its text), without verifying
// any; a line of another form is skipped. Hash is left zero.
func signatureLines(msg []byte) []note.Signature {
	i := bytes.Index(msg, []byte("\n\n"))
	if i < 0 {
		return nil
	}
	var out []note.Signature
	for _, line := range strings.Split(string(msg[i+2:]), "\n") {
		rest, ok := strings.CutPrefix(line, "— ")
		f := strings.Split(rest, " ")
		if !ok || len(f) != 2 || f[0] == "" || f[1] == "" {
			continue
		}
		out = append(out, note.Signature{Name: f[0], Base64: f[1]})
	}
	return out
}

type witnessName struct{ party, node, name string }

// witnessNames maps the key names of the witnesses the agreement gives the
// node's log to who they are.
func (n *Node) witnessNames() map[string]witnessName {
	f := n.fed.Load()
	if f == nil || f.self == nil {
		return nil
	}
	out := map[string]witnessName{}
	for _, w := range f.agreement.LogWitnesses(f.self) {
		name, _, _ := strings.Cut(w.Key, "+")
		wn := witnessName{node: w.Node, name: w.Name}
		if w.Node != "" {
			if p, _, ok := f.agreement.Node(w.Node); ok {
				wn.party = p.ID
			}
		}
		out[name] = wn
	}
	return out
}

// WitnessedLog is a partner's log that the node witnesses.
type WitnessedLog struct {
	Origin string
	Party  string
	// Nodes are the partner nodes that write to it.
	Nodes []string
	// Size is the size of the latest checkpoint the node cosigned, Root
	// its root (base64); Cosigned false when it cosigned none yet.
	Size     int64
	Root     string
	Cosigned bool
	// Suspension is set while the log is suspended: it showed a
	// checkpoint inconsistent with what the node cosigned before.
	Suspension *store.Suspension
}

// WitnessedLogs returns the partner logs of the agreement, in its order,
// with the latest checkpoint this node cosigned of each and whether its
// witness suspended it; then any suspended log the agreement no longer
// names.
func (n *Node) WitnessedLogs(ctx context.Context, c *taxii.Caller) ([]WitnessedLog, error) {
	if err := consoleAccount(c); err != nil {
		return nil, err
	}
	var out []WitnessedLog
	for _, p := range n.Peers() {
		if p.Log == "" {
			continue
		}
		if i := slices.IndexFunc(out, func(w WitnessedLog) bool { return w.Origin == p.Log }); i >= 0 {
			out[i].Nodes = append(out[i].Nodes, p.Node)
			continue
		}
		out = append(out, WitnessedLog{Origin: p.Log, Party: p.Party, Nodes: []string{p.Node}})
	}
	sus, err := n.store.Suspensions(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the suspended logs: %v", taxii.ErrUnavailable, err)
	}
	for _, s := range sus {
		if !slices.ContainsFunc(out, func(w WitnessedLog) bool { return w.Origin == s.Origin }) {
			out = append(out, WitnessedLog{Origin: s.Origin})
		}
	}
	for i := range out {
		w := &out[i]
		if j := slices.IndexFunc(sus, func(s store.Suspension) bool { return s.Origin == w.Origin }); j >= 0 {
			w.Suspension = &sus[j]
		}
		b, err := n.store.WitnessedCheckpoint(ctx, w.Origin)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return nil, fmt.Errorf("%w: reading the checkpoint of %q cosigned: %v", taxii.ErrUnavailable, w.Origin, err)
		}
		if cp, err := CheckpointOf(b); err == nil {
			w.Size, w.Root, w.Cosigned = cp.N, cp.Hash.String(), true
		}
	}
	return out, nil
}

// LedgerMark is how far a step-by-step verification of the ledger got:
// its first Entries entries were found to rebuild the stored hashes, and
// Checkpoint is the size of the last checkpoint whose root they gave.
type LedgerMark struct {
	Entries    int64
	Checkpoint int64
}

// LedgerStep is what one VerifyLedgerStep checked and found.
type LedgerStep struct {
	// Checkpoint is the latest checkpoint's size, 0 when none is signed
	// yet; Size the log's size.
	Checkpoint, Size int64
	// From and To are the entries this step read: [From, To).
	From, To int64
	// Objects counts the stored object versions compared with their
	// entries.
	Objects int
	// Done says the step reached the latest checkpoint and compared its
	// root; otherwise the budget stopped it, and the next step goes on
	// from Mark.
	Done bool
	Mark LedgerMark
	// Problems are what did not match, as VerifyLedger words them; none
	// when all did.
	Problems []LedgerProblem
}

// VerifyLedgerStep checks the node's ledger as VerifyLedger does, but at
// a bounded cost, so that it can run in a request: it checks the latest
// checkpoint's signature (the node key, the log's name), then the entries
// from mark up to that checkpoint, at most budget of them (each decodes,
// its commitment rebuilds the stored hashes, and the object version it
// records is the one stored, with the same digest), and, once it reaches
// the checkpoint, that the stored hashes give the root the checkpoint
// signed. Entries before mark are taken as verified by the steps before;
// the root comparison still covers them, since the root is computed from
// the stored hashes of the whole tree. A mark beyond the latest checkpoint
// (a log that shrank) starts over from the first entry. Errors are for a
// store that cannot be read; what does not match is in Problems.
func (n *Node) VerifyLedgerStep(ctx context.Context, c *taxii.Caller, mark LedgerMark, budget int) (*LedgerStep, error) {
	if err := consoleAccount(c); err != nil {
		return nil, err
	}
	st := n.store
	step := &LedgerStep{}
	problem := func(entry int64, format string, args ...any) {
		step.Problems = append(step.Problems, LedgerProblem{Entry: entry, Msg: fmt.Sprintf(format, args...)})
	}
	size, err := st.LedgerSize(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the ledger's size: %v", taxii.ErrUnavailable, err)
	}
	step.Size = size
	latest, err := st.LatestCheckpoint(ctx)
	if errors.Is(err, store.ErrNotFound) {
		step.Done = size == 0
		if size > 0 {
			problem(-1, "the log holds %d entries but no signed checkpoint: the node signs one within seconds while it runs", size)
		}
		return step, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading the latest checkpoint: %v", taxii.ErrUnavailable, err)
	}
	step.Checkpoint = latest.Size
	if n.key == nil {
		problem(-1, "checkpoint %d: the node has no key to check its signature with", latest.Size)
		return step, nil
	}
	v, err := note.NewVerifier(n.key.VerifierKey)
	if err != nil {
		return nil, fmt.Errorf("node: the node key's verifier: %w", err)
	}
	signed, err := note.Open(latest.Note, note.VerifierList(v))
	if err != nil {
		problem(-1, "checkpoint %d: its signature does not verify with the node key %s: %v", latest.Size, v.Name(), err)
		return step, nil
	}
	cp, err := ledger.ParseCheckpoint(signed.Text)
	switch {
	case err != nil:
		problem(-1, "checkpoint %d: %v", latest.Size, err)
		return step, nil
	case cp.N != latest.Size:
		problem(-1, "checkpoint %d: stored as size %d but signed for %d entries", latest.Size, latest.Size, cp.N)
		return step, nil
	case n.logName != "" && cp.Origin != n.logName:
		problem(-1, "checkpoint %d: signed for the log %q, want %q", latest.Size, cp.Origin, n.logName)
	}
	if cp.N > size {
		problem(size, "checkpoint %d was signed for %d entries, but the log holds %d: the log was truncated from entry %d on", cp.N, cp.N, size, size)
		return step, nil
	}
	from := mark.Entries
	if from > cp.N || from < 0 {
		from = 0
	}
	step.From, step.To = from, min(cp.N, from+int64(max(budget, 0)))
	r := HashReader(ctx, st)
	for at := step.From; at < step.To; at += verifyChunk {
		to := min(at+verifyChunk, step.To)
		recs, err := st.LedgerRecords(ctx, at, to)
		if err != nil {
			return nil, fmt.Errorf("%w: reading entries [%d, %d): %v", taxii.ErrUnavailable, at, to, err)
		}
		batch := ledger.NewBatch(at, r)
		refs := map[int64]entryRef{} // object seq → its entry
		for i, rec := range recs {
			want := at + int64(i)
			if rec.Index != want {
				problem(want, "is missing (the next stored entry is %d): an entry was deleted", rec.Index)
				step.To = want
				return step, nil
			}
			e, err := ledger.DecodeEntry(rec.Entry)
			if err != nil {
				problem(want, "does not decode: %v", err)
			} else if rec.Object != 0 {
				if ref, ok := objectOf(e); !ok {
					problem(want, "is a %s entry, but is stored as recording object version %d", e.Event.Kind(), rec.Object)
				} else {
					refs[rec.Object] = entryRef{index: want, ref: ref}
				}
			}
			if _, err := batch.Append(rec.Commitment); err != nil {
				return nil, err
			}
		}
		if int64(len(recs)) < to-at {
			problem(at+int64(len(recs)), "is missing: the log's size is %d but its entries stop at %d (truncated)", size, at+int64(len(recs)))
			step.To = at + int64(len(recs))
			return step, nil
		}
		if leaf, err := checkStoredHashes(ctx, st, batch); err != nil {
			return nil, err
		} else if leaf >= 0 {
			problem(leaf, "does not match the log's stored hashes: the entry, its salt or its place was changed")
			step.To = leaf + 1
			return step, nil
		}
		k, err := n.checkObjects(ctx, refs, problem)
		if err != nil {
			return nil, err
		}
		step.Objects += k
	}
	step.Mark = LedgerMark{Entries: step.To, Checkpoint: mark.Checkpoint}
	if step.To < cp.N {
		return step, nil
	}
	step.Done = true
	root, err := tlog.TreeHash(cp.N, r)
	if err != nil {
		return nil, fmt.Errorf("%w: computing the root of %d entries: %v", taxii.ErrUnavailable, cp.N, err)
	}
	if root != cp.Hash {
		problem(-1, "the stored hashes of the first %d entries do not give the root checkpoint %d signed: a stored entry or hash was changed since it was verified; run entente ledger verify to find which", cp.N, cp.N)
		return step, nil
	}
	if len(step.Problems) == 0 {
		step.Mark.Checkpoint = cp.N
	}
	return step, nil
}

// checkObjects compares the object versions entries record (by seq) with
// the stored ones, read in one range of sequence numbers: each must name
// the same id and version and hash to the entry's digest. A version
// deleted since is not a problem; one stored in the range without its
// entry is. It returns how many versions it compared.
func (n *Node) checkObjects(ctx context.Context, refs map[int64]entryRef, problem func(int64, string, ...any)) (int, error) {
	if len(refs) == 0 {
		return 0, nil
	}
	lo, hi := int64(-1), int64(0)
	for seq := range refs {
		if lo < 0 || seq < lo {
			lo = seq
		}
		hi = max(hi, seq)
	}
	var checked int
	for after := lo - 1; after < hi; {
		os, err := n.store.LedgerObjects(ctx, after, min(int(hi-after), 1000))
		if err != nil {
			return 0, fmt.Errorf("%w: reading object versions after %d: %v", taxii.ErrUnavailable, after, err)
		}
		if len(os) == 0 {
			break
		}
		for _, o := range os {
			after = o.Seq
			if o.Seq > hi {
				break
			}
			e, ok := refs[o.Seq]
			if !ok {
				if o.Entry < 0 {
					problem(-1, "object %s version %s (seq %d, collection %s) has no ledger entry", o.ID, o.Version, o.Seq, o.Collection)
				}
				continue
			}
			checked++
			if e.ref.ID != o.ID || e.ref.Version != o.Version {
				problem(e.index, "records %s version %s, but points at the stored %s version %s (seq %d)", e.ref.ID, e.ref.Version, o.ID, o.Version, o.Seq)
				continue
			}
			d, err := ledger.ObjectDigest(o.Raw)
			if err != nil {
				problem(e.index, "records %s version %s, whose stored bytes (seq %d) have no canonical form: %v", o.ID, o.Version, o.Seq, err)
				continue
			}
			if d != e.ref.Digest {
				problem(e.index, "records %s version %s with SHA-256 %x, but the stored version (seq %d, collection %s) hashes to %x: the object's bytes were changed",
					o.ID, o.Version, e.ref.Digest[:], o.Seq, o.Collection, d[:])
			}
		}
	}
	return checked, nil
}
