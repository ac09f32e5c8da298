package ledger

import (
	"errors"
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"
)

// Batch appends commitments to a log of a known size. It computes the
// hashes that tlog stores for each new leaf (about two per leaf: the leaf
// hash and the interior hashes it completes), which the caller writes in
// the same transaction as the entries. Storage index i of the whole log is
// at Hashes()[i - FirstIndex()].
//
// A Batch reads earlier hashes through the HashReader it was given and its
// own pending ones from memory, so the caller need not write them before
// the batch ends. A Batch is for one writer: the log has one sequencer.
type Batch struct {
	base      tlog.HashReader
	startSize int64
	first     int64 // storage index of the first pending hash
	size      int64
	// pending holds the new hashes in chunks of chunkSize, so a long
	// batch does not copy them all each time it grows.
	pending [][]tlog.Hash
	count   int64 // number of pending hashes
}

const chunkSize = 1 << 12

// NewBatch starts a batch on a log of size leaves whose stored hashes r
// reads. For a new log (size 0), r may be nil; NewBatch(0, nil) followed by
// every commitment rebuilds a whole tree in memory.
func NewBatch(size int64, r tlog.HashReader) *Batch {
	return &Batch{base: r, startSize: size, first: tlog.StoredHashCount(size), size: size}
}

// Append adds c as the next leaf and returns its index.
func (b *Batch) Append(c Commitment) (int64, error) {
	// The hashes tlog stores for leaf n (tlog.StoredHashesForRecordHash):
	// the leaf hash, then one interior hash for each subtree the leaf
	// completes, that is for each trailing 1 bit of n. Computed here
	// without allocating, reading the left siblings from the batch.
	n := b.size
	m := bits.TrailingZeros64(uint64(n + 1))
	var idx [64]int64
	var sib [64]tlog.Hash
	old := false
	for i := range m {
		idx[i] = tlog.StoredHashIndex(i, n>>i-1)
		old = old || idx[i] < b.first
	}
	if old {
		hs, err := b.ReadHashes(idx[:m])
		if err != nil {
			return 0, fmt.Errorf("ledger: appending leaf %d: %w", n, err)
		}
		copy(sib[:], hs)
	} else {
		for i := range m {
			sib[i] = b.pendingAt(idx[i] - b.first)
		}
	}
	h := c.LeafHash()
	b.push(h)
	for i := range m {
		h = tlog.NodeHash(sib[i], h)
		b.push(h)
	}
	b.size++
	return n, nil
}

func (b *Batch) push(h tlog.Hash) {
	if b.count%chunkSize == 0 {
		// Most batches hold one transaction's few entries: start small.
		b.pending = append(b.pending, make([]tlog.Hash, 0, 8))
	}
	last := len(b.pending) - 1
	b.pending[last] = append(b.pending[last], h)
	b.count++
}

func (b *Batch) pendingAt(j int64) tlog.Hash { return b.pending[j/chunkSize][j%chunkSize] }

// Size is the log's size with the batch's leaves.
func (b *Batch) Size() int64 { return b.size }

// Appended is the number of leaves the batch added.
func (b *Batch) Appended() int64 { return b.size - b.startSize }

// FirstIndex is the tlog storage index of Hashes()[0].
func (b *Batch) FirstIndex() int64 { return b.first }

// Hashes are the hashes to store for the batch's leaves, at consecutive
// storage indexes from FirstIndex.
func (b *Batch) Hashes() []tlog.Hash {
	out := make([]tlog.Hash, 0, b.count)
	for _, c := range b.pending {
		out = append(out, c...)
	}
	return out
}

// TreeHash is the root hash of the log with the batch's leaves.
func (b *Batch) TreeHash() (tlog.Hash, error) { return tlog.TreeHash(b.size, b) }

// Tree is the log's size and root hash with the batch's leaves, what a
// checkpoint signs.
func (b *Batch) Tree() (tlog.Tree, error) {
	h, err := b.TreeHash()
	return tlog.Tree{N: b.size, Hash: h}, err
}

// ReadHashes implements tlog.HashReader over the stored and pending hashes,
// so proofs can be made before the batch is written.
func (b *Batch) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var old []int64
	for _, i := range indexes {
		if i < b.first {
			old = append(old, i)
		}
	}
	if len(old) > 0 {
		if b.base == nil {
			return nil, errors.New("ledger: batch has no reader for earlier hashes")
		}
		hs, err := b.base.ReadHashes(old)
		if err != nil {
			return nil, err
		}
		if len(hs) != len(old) {
			return nil, fmt.Errorf("ledger: hash reader returned %d hashes for %d indexes", len(hs), len(old))
		}
		for k, i := range indexes {
			if i < b.first {
				out[k], hs = hs[0], hs[1:]
			}
		}
	}
	for k, i := range indexes {
		if i < b.first {
			continue
		}
		j := i - b.first
		if j >= b.count {
			return nil, fmt.Errorf("ledger: hash %d is beyond the log", i)
		}
		out[k] = b.pendingAt(j)
	}
	return out, nil
}

// ErrInvalidProof means a proof does not verify: the log is not what the
// checkpoint claims, or the proof was altered. For a consistency proof
// between two checkpoints the log signed, it is evidence of a fork.
var ErrInvalidProof = errors.New("ledger: invalid proof")

// ProveInclusion returns the RFC 6962 inclusion proof of leaf index in the
// tree of size leaves, reading stored hashes (for instance from tiles)
// through r.
func ProveInclusion(size, index int64, r tlog.HashReader) (tlog.RecordProof, error) {
	if index < 0 || index >= size {
		return nil, fmt.Errorf("ledger: entry %d is not in a log of %d entries", index, size)
	}
	p, err := tlog.ProveRecord(size, index, r)
	if err != nil {
		return nil, fmt.Errorf("ledger: proving entry %d in %d: %w", index, size, err)
	}
	return p, nil
}

// CheckInclusion checks that the leaf c is entry index of tree.
func CheckInclusion(p tlog.RecordProof, tree tlog.Tree, index int64, c Commitment) error {
	if index < 0 || index >= tree.N {
		return fmt.Errorf("%w: entry %d is not in a log of %d entries", ErrInvalidProof, index, tree.N)
	}
	if err := tlog.CheckRecord(p, tree.N, tree.Hash, index, c.LeafHash()); err != nil {
		return fmt.Errorf("%w: inclusion of entry %d in %d: %v", ErrInvalidProof, index, tree.N, err)
	}
	return nil
}

// ProveConsistency returns the RFC 6962 consistency proof that the tree of
// oldSize leaves is a prefix of the tree of newSize leaves. The proof from
// an empty tree, or to the same size, is empty.
func ProveConsistency(newSize, oldSize int64, r tlog.HashReader) (tlog.TreeProof, error) {
	if oldSize < 0 || oldSize > newSize {
		return nil, fmt.Errorf("ledger: no consistency proof from %d to %d entries", oldSize, newSize)
	}
	if oldSize == 0 {
		return tlog.TreeProof{}, nil
	}
	p, err := tlog.ProveTree(newSize, oldSize, r)
	if err != nil {
		return nil, fmt.Errorf("ledger: proving %d consistent with %d: %w", newSize, oldSize, err)
	}
	return p, nil
}

// CheckConsistency checks that old is a prefix of new. From an empty tree
// the proof must be empty (any log extends an empty one, whose hash is
// not checked); between equal
// sizes it must be empty and the hashes equal.
func CheckConsistency(p tlog.TreeProof, newTree, oldTree tlog.Tree) error {
	switch {
	case oldTree.N < 0 || oldTree.N > newTree.N:
		return fmt.Errorf("%w: a log of %d entries cannot extend one of %d", ErrInvalidProof, newTree.N, oldTree.N)
	case oldTree.N == 0:
		if len(p) != 0 {
			return fmt.Errorf("%w: the proof from an empty log must be empty", ErrInvalidProof)
		}
		if newTree.N == 0 && newTree.Hash != EmptyTreeHash {
			return fmt.Errorf("%w: an empty log has root %v, not %v", ErrInvalidProof, EmptyTreeHash, newTree.Hash)
		}
		return nil
	}
	if err := tlog.CheckTree(p, newTree.N, newTree.Hash, oldTree.N, oldTree.Hash); err != nil {
		return fmt.Errorf("%w: %d entries consistent with %d: %v", ErrInvalidProof, newTree.N, oldTree.N, err)
	}
	return nil
}

// EmptyTreeHash is the RFC 6962 root of the empty tree, SHA-256("").
var EmptyTreeHash, _ = tlog.TreeHash(0, nil)

// RootBuilder computes the root hash of a log leaf by leaf, keeping only
// the roots of its complete subtrees (one per 1 bit of the size, at most
// 64). It is how a verifier recomputes a whole log and compares it with
// every checkpoint, without storing its hashes.
type RootBuilder struct {
	size  int64
	roots []tlog.Hash // complete subtrees, largest (leftmost) first
}

// Append adds the next leaf.
func (r *RootBuilder) Append(c Commitment) {
	h := c.LeafHash()
	for n := r.size; n&1 == 1; n >>= 1 {
		h = tlog.NodeHash(r.roots[len(r.roots)-1], h)
		r.roots = r.roots[:len(r.roots)-1]
	}
	r.roots = append(r.roots, h)
	r.size++
}

// Tree returns the log's size and RFC 6962 root hash so far.
func (r *RootBuilder) Tree() tlog.Tree {
	if r.size == 0 {
		return tlog.Tree{Hash: EmptyTreeHash}
	}
	h := r.roots[len(r.roots)-1]
	for i := len(r.roots) - 2; i >= 0; i-- {
		h = tlog.NodeHash(r.roots[i], h)
	}
	return tlog.Tree{N: r.size, Hash: h}
}
