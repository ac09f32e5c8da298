package node

import (
	"cmp"
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
)

// verifyChunk is how many entries VerifyLedger reads at a time.
const verifyChunk = 4096

// LedgerProblem is one way the stored ledger disagrees with itself, with
// its signed checkpoints or with the stored objects.
type LedgerProblem struct {
	// Entry is the index of the entry found wrong, or -1 when the problem
	// names no entry (a checkpoint's signature, an object without entry).
	Entry int64
	Msg   string
	// upTo, for a problem about a range of entries [Entry, upTo) (a
	// checkpoint's root), sorts it after the problems that name one entry
	// of the range.
	upTo int64
}

func (p LedgerProblem) String() string {
	if p.Entry < 0 {
		return p.Msg
	}
	return fmt.Sprintf("entry %d: %s", p.Entry, p.Msg)
}

// sortKey places a range problem at the last entry of its range, after
// any problem that names that entry.
func (p LedgerProblem) sortKey() int64 {
	if p.upTo > 0 {
		return p.upTo - 1
	}
	return p.Entry
}

// LedgerReport is what VerifyLedger found.
type LedgerReport struct {
	Size        int64 // entries in the log
	Checkpoints int   // checkpoints checked
	Latest      int64 // the latest checkpoint's size, 0 if none
	Objects     int   // object versions checked against their entries
	// Problems are sorted by entry, those that name none last; none when
	// the store, its checkpoints and its objects all agree.
	Problems []LedgerProblem
}

// entryRef is what verification keeps of an entry about a stored object.
type entryRef struct {
	index int64
	ref   ledger.ObjectRef
}

// VerifyLedger checks the stored ledger from scratch: every entry decodes,
// the entries are at consecutive indexes, their commitments rebuild the
// stored hashes and the root of every stored checkpoint, every checkpoint
// is signed by logKey (with origin as its first line, when origin is not
// empty), and every object version stored since the ledger began has its
// entry, whose digest is the SHA-256 of the object's RFC 8785 form. Errors
// are for a store that cannot be read; what does not match is in the
// report's Problems.
func VerifyLedger(ctx context.Context, st store.Store, logKey note.Verifier, origin string) (*LedgerReport, error) {
	rep := &LedgerReport{}
	problem := func(entry int64, format string, args ...any) {
		rep.Problems = append(rep.Problems, LedgerProblem{Entry: entry, Msg: fmt.Sprintf(format, args...)})
	}
	size, err := st.LedgerSize(ctx)
	if err != nil {
		return nil, err
	}
	rep.Size = size

	// The checkpoints, by size: each signed by the node, for a size the
	// log reaches.
	type signedTree struct {
		tree   tlog.Tree
		signed time.Time
	}
	var trees []signedTree
	for after := int64(-1); ; {
		cs, err := st.Checkpoints(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			after = c.Size
			rep.Checkpoints++
			rep.Latest = c.Size
			n, err := note.Open(c.Note, note.VerifierList(logKey))
			if err != nil {
				problem(-1, "checkpoint %d: its signature does not verify with the node key %s: %v", c.Size, logKey.Name(), err)
				continue
			}
			cp, err := ledger.ParseCheckpoint(n.Text)
			switch {
			case err != nil:
				problem(-1, "checkpoint %d: %v", c.Size, err)
				continue
			case cp.N != c.Size:
				problem(-1, "checkpoint %d: stored as size %d but signed for %d entries", c.Size, c.Size, cp.N)
				continue
			case origin != "" && cp.Origin != origin:
				problem(-1, "checkpoint %d: signed for the log %q, want %q", c.Size, cp.Origin, origin)
			}
			if cp.N > size {
				problem(size, "checkpoint %d was signed for %d entries, but the log holds %d: the log was truncated from entry %d on", cp.N, cp.N, size, size)
			}
			trees = append(trees, signedTree{tree: cp.Tree, signed: c.Signed})
		}
	}

	// The entries, in order: their leaves rebuild the stored hashes (a
	// batch per chunk, reading only hashes checked already) and every
	// checkpoint's root.
	var (
		rb       ledger.RootBuilder
		objs     = map[int64]entryRef{}
		next     = 0     // the next checkpoint to compare
		broken   = false // the tree no longer matches: stop comparing it
		diverged = false // a checkpoint's root did not match: later ones cannot
		r        = HashReader(ctx, st)
	)
	for from := int64(0); from < size && !broken; from += verifyChunk {
		to := min(from+verifyChunk, size)
		recs, err := st.LedgerRecords(ctx, from, to)
		if err != nil {
			return nil, err
		}
		batch := ledger.NewBatch(from, r)
		for i, rec := range recs {
			want := from + int64(i)
			if rec.Index != want {
				problem(want, "is missing (the next stored entry is %d): an entry was deleted", rec.Index)
				broken = true
				break
			}
			e, err := ledger.DecodeEntry(rec.Entry)
			if err != nil {
				problem(want, "does not decode: %v", err)
			} else if rec.Object != 0 {
				ref, ok := objectOf(e)
				if !ok {
					problem(want, "is a %s entry, but is stored as recording object version %d", e.Event.Kind(), rec.Object)
				} else if prev, dup := objs[rec.Object]; dup {
					problem(want, "records object version %d, which entry %d records already", rec.Object, prev.index)
				} else {
					objs[rec.Object] = entryRef{index: want, ref: ref}
				}
			}
			if _, err := batch.Append(rec.Commitment); err != nil {
				return nil, err
			}
			rb.Append(rec.Commitment)
			for next < len(trees) && trees[next].tree.N == rb.Tree().N {
				if trees[next].tree.Hash != rb.Tree().Hash && !diverged {
					diverged = true
					prev, end := int64(0), trees[next].tree.N
					if next > 0 {
						prev = trees[next-1].tree.N
					}
					rep.Problems = append(rep.Problems, LedgerProblem{Entry: prev, upTo: end,
						Msg: fmt.Sprintf("the first %d entries do not hash to the root that checkpoint %d signed (the checkpoint before, of size %d, matched): an entry in [%d, %d) was changed, removed or moved, and no later checkpoint can match",
							end, end, prev, prev, end)})
				}
				next++
			}
		}
		if broken {
			break
		}
		if int64(len(recs)) < to-from {
			problem(from+int64(len(recs)), "is missing: the log's size is %d but its entries stop at %d (truncated)", size, from+int64(len(recs)))
			broken = true
			break
		}
		if leaf, err := checkStoredHashes(ctx, st, batch); err != nil {
			return nil, err
		} else if leaf >= 0 {
			problem(leaf, "does not match the log's stored hashes: the entry, its salt or its place was changed")
			broken = true
		}
	}

	// The objects: each version stored since the ledger began has its
	// entry, which names it and its digest.
	for after := int64(0); ; {
		os, err := st.LedgerObjects(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		if len(os) == 0 {
			break
		}
		for _, o := range os {
			after = o.Seq
			rep.Objects++
			e, ok := objs[o.Seq]
			if !ok {
				problem(-1, "object %s version %s (seq %d, collection %s) has no ledger entry", o.ID, o.Version, o.Seq, o.Collection)
				continue
			}
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
	slices.SortStableFunc(rep.Problems, func(a, b LedgerProblem) int {
		if (a.Entry < 0) != (b.Entry < 0) {
			return cmp.Compare(b.Entry, a.Entry) // -1 last
		}
		return cmp.Or(cmp.Compare(a.sortKey(), b.sortKey()), cmp.Compare(a.upTo, b.upTo))
	})
	return rep, nil
}

// checkStoredHashes compares the hashes a batch computed with the stored
// ones, and returns the first leaf whose hashes differ, or -1.
func checkStoredHashes(ctx context.Context, st store.Store, b *ledger.Batch) (int64, error) {
	want := b.Hashes()
	idx := make([]int64, len(want))
	for i := range idx {
		idx[i] = b.FirstIndex() + int64(i)
	}
	leafOf := func(x int64) int64 {
		// The leaf whose append stored hash x: the last leaf whose
		// first stored hash is at or before x.
		first := b.Size() - b.Appended()
		for j := first; j < b.Size(); j++ {
			if tlog.StoredHashIndex(0, j+1) > x {
				return j
			}
		}
		return b.Size() - 1
	}
	got, err := st.ReadLedgerHashes(ctx, idx)
	if errors.Is(err, store.ErrNotFound) {
		// Find the first missing one.
		for i, x := range idx {
			if _, err := st.ReadLedgerHashes(ctx, idx[i:i+1]); errors.Is(err, store.ErrNotFound) {
				return leafOf(x), nil
			}
		}
	}
	if err != nil {
		return 0, err
	}
	for i := range want {
		if got[i] != want[i] {
			return leafOf(idx[i]), nil
		}
	}
	return -1, nil
}

// objectOf returns the object an entry records, for the kinds that record
// a stored version.
func objectOf(e ledger.Entry) (ledger.ObjectRef, bool) {
	switch ev := e.Event.(type) {
	case ledger.Received:
		return ev.Object, true
	case ledger.Originated:
		return ev.Object, true
	}
	return ledger.ObjectRef{}, false
}

// DescribeEntry renders a stored entry on one line, tab-separated: index,
// kind, object (or what the entry is about), time, and the parties it
// concerns ("-" for none).
func DescribeEntry(r store.LedgerRecord) string {
	concerns := "-"
	if len(r.Concerns) > 0 {
		concerns = strings.Join(r.Concerns, ",")
	}
	e, err := ledger.DecodeEntry(r.Entry)
	if err != nil {
		return fmt.Sprintf("%d\tmalformed\t%v\t-\t%s", r.Index, err, concerns)
	}
	var about string
	switch ev := e.Event.(type) {
	case ledger.Received:
		about = fmt.Sprintf("%s@%s from %s", ev.Object.ID, ev.Object.Version, ev.From)
		if ev.Node != "" {
			about += " (" + ev.Node + ")"
		}
	case ledger.Originated:
		about = ev.Object.ID + "@" + ev.Object.Version
	case ledger.Disclosed:
		about = fmt.Sprintf("%s@%s to %s under rule %s of agreement %s", ev.Object.ID, ev.Object.Version, ev.To, ev.Rule, ev.Agreement)
	case ledger.Revoked:
		about = ev.Object.ID + "@" + ev.Object.Version
	case ledger.AgreementAdopted:
		about = fmt.Sprintf("%s version %s adopted, content sha256 %x", ev.Agreement, ev.Version, ev.Digest)
	case ledger.AgreementAmended:
		about = fmt.Sprintf("%s amended from version %s to %s, content sha256 %x", ev.Agreement, ev.Previous, ev.Version, ev.Digest)
	case ledger.KeyRotated:
		if ev.Old == "" {
			about = "node key " + ev.New + " first recorded"
		} else {
			about = "node key " + ev.Old + " replaced by " + ev.New
		}
	case ledger.Transition:
		about = fmt.Sprintf("%s %s: %s to %s", ev.Workflow, ev.Case, cmp.Or(ev.From, "(open)"), ev.To)
	}
	return fmt.Sprintf("%d\t%s\t%s\t%s\t%s", r.Index, e.Event.Kind(), about, e.Time.UTC().Format(time.RFC3339Nano), concerns)
}

// ErrNotCheckpointed means an entry is not yet covered by a signed
// checkpoint; the node signs one within its checkpoint interval.
var ErrNotCheckpointed = errors.New("node: the entry is not in a signed checkpoint yet")

// ErrNotFinal means no stored checkpoint that covers an entry is final
// yet: the witnesses the agreement names have not cosigned one. They do
// within seconds when they are reachable; `entente witness list` shows why
// they are not.
var ErrNotFinal = errors.New("node: no checkpoint covering the entry is cosigned by enough witnesses yet")

// ProveObject returns the C2SP tlog-proof of the entry that records a
// stored version of the object id (the given version, or the latest
// stored), and the entry's opening. The proof is against the newest
// checkpoint that final accepts (the agreement's witness policy: a partner
// relies only on a cosigned checkpoint), or, when final is nil, against the
// newest checkpoint.
func ProveObject(ctx context.Context, st store.Store, id, version string, final func(note []byte) bool) (ledger.Proof, ledger.Opening, error) {
	var (
		found []store.Object
		roots []store.APIRoot
	)
	roots, err := st.APIRoots(ctx)
	if err != nil {
		return ledger.Proof{}, ledger.Opening{}, err
	}
	for _, root := range roots {
		cols, err := st.Collections(ctx, root.Path)
		if err != nil {
			return ledger.Proof{}, ledger.Opening{}, err
		}
		for _, c := range cols {
			for after := int64(0); ; {
				p, err := st.Objects(ctx, store.Query{Collection: c.ID, After: after, IDs: []string{id}, Versions: store.VersionFilter{All: true}, Limit: 1000, WithoutContent: true})
				if err != nil {
					return ledger.Proof{}, ledger.Opening{}, err
				}
				for _, o := range p.Objects {
					if version == "" || o.Version == version {
						found = append(found, o)
					}
					after = o.Seq
				}
				if !p.More {
					break
				}
			}
		}
	}
	if len(found) == 0 {
		if version != "" {
			return ledger.Proof{}, ledger.Opening{}, fmt.Errorf("node: no stored version %s of %s: %w", version, id, store.ErrNotFound)
		}
		return ledger.Proof{}, ledger.Opening{}, fmt.Errorf("node: no stored object %s: %w", id, store.ErrNotFound)
	}
	o := slices.MaxFunc(found, func(a, b store.Object) int { return cmp.Compare(a.Seq, b.Seq) })
	rec, err := st.LedgerRecordOf(ctx, o.Seq)
	if err != nil {
		return ledger.Proof{}, ledger.Opening{}, fmt.Errorf("node: %s version %s (seq %d): %w", o.ID, o.Version, o.Seq, err)
	}
	e, err := ledger.DecodeEntry(rec.Entry)
	if err != nil {
		return ledger.Proof{}, ledger.Opening{}, fmt.Errorf("node: entry %d: %w", rec.Index, err)
	}
	cp, err := provingCheckpoint(ctx, st, rec.Index, final)
	if err != nil {
		return ledger.Proof{}, ledger.Opening{}, fmt.Errorf("node: entry %d of %s: %w", rec.Index, o.ID, err)
	}
	incl, err := ledger.ProveInclusion(cp.Size, rec.Index, HashReader(ctx, st))
	if err != nil {
		return ledger.Proof{}, ledger.Opening{}, fmt.Errorf("node: proving entry %d: %w", rec.Index, err)
	}
	op := ledger.Opening{Entry: e, Salt: rec.Salt}
	p, err := ledger.NewProof(op, rec.Index, incl, cp.Note)
	return p, op, err
}

// provingCheckpoint returns the newest stored checkpoint that covers entry
// index and that final accepts (any, when final is nil). Cosignatures
// arrive seconds after a checkpoint is signed, so the one sought is near
// the end: it looks back over windows of sizes that double, and reads
// every checkpoint only when none is final.
func provingCheckpoint(ctx context.Context, st store.Store, index int64, final func([]byte) bool) (store.StoredCheckpoint, error) {
	latest, err := st.LatestCheckpoint(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && latest.Size <= index:
		return store.StoredCheckpoint{}, ErrNotCheckpointed
	case err != nil:
		return store.StoredCheckpoint{}, err
	case final == nil || final(latest.Note):
		return latest, nil
	}
	const page = 256
	hi := latest.Size // the window is the sizes in (lo, hi]
	for span := int64(64); ; span *= 2 {
		lo := max(hi-span, index)
		var (
			best  store.StoredCheckpoint
			found bool
		)
		for after := lo; after < hi; {
			cps, err := st.Checkpoints(ctx, after, page)
			if err != nil {
				return store.StoredCheckpoint{}, err
			}
			for _, c := range cps {
				if c.Size <= hi && final(c.Note) {
					best, found = c, true
				}
			}
			if len(cps) < page {
				break
			}
			after = cps[len(cps)-1].Size
		}
		if found {
			return best, nil
		}
		if lo == index {
			return store.StoredCheckpoint{}, ErrNotFinal
		}
		hi = lo
	}
}

// CheckProof verifies a C2SP tlog-proof offline, as an arbiter does: the
// checkpoint is signed by logKey for the log origin (the checkpoint's own
// first line when origin is empty; logKey's signature authenticates it)
// and final under policy, and the opening is entry Index of its tree. If
// pinned is not nil, it is a signed checkpoint the arbiter holds, and the
// proof must be against that same tree.
func CheckProof(text []byte, logKey note.Verifier, origin string, policy ledger.Policy, pinned []byte) (ledger.Opening, ledger.Checkpoint, error) {
	if origin == "" {
		p, err := ledger.ParseProof(text)
		if err != nil {
			return ledger.Opening{}, ledger.Checkpoint{}, err
		}
		cp, err := CheckpointOf(p.Checkpoint)
		if err != nil {
			return ledger.Opening{}, ledger.Checkpoint{}, err
		}
		origin = cp.Origin
	}
	op, cp, err := ledger.VerifyProof(text, origin, logKey, policy)
	if err != nil {
		return op, cp, err
	}
	if pinned != nil {
		pc, _, err := ledger.OpenCheckpoint(pinned, origin, logKey)
		if err != nil {
			return op, cp, fmt.Errorf("the checkpoint given: %w", err)
		}
		if pc.Tree != cp.Tree {
			return op, cp, fmt.Errorf("the proof is against the log at size %d, the checkpoint given is of size %d with another root: %w; ask the node for a proof against the checkpoint you hold",
				cp.N, pc.N, ledger.ErrInvalidProof)
		}
	}
	return op, cp, nil
}
