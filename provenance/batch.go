package provenance

import (
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// maxBatch bounds a batch, and so a proof (at most 63 hashes).
const maxBatch = 1 << 32

// SignBatch signs many versions that node originates with one signature:
// sums are the SHA-256 digests of their RFC 8785 forms, and the result
// holds one Provenance per sum, in order. Each names its own digest and
// carries the proof that places it under the signed root (Batch). A batch
// of one is signed as SignDigest signs, without a Batch.
func SignBatch(signer crypto.Signer, node string, sums [][sha256.Size]byte) ([]Provenance, error) {
	switch len(sums) {
	case 0:
		return nil, nil
	case 1:
		p, err := SignDigest(signer, node, sums[0])
		if err != nil {
			return nil, err
		}
		return []Provenance{p}, nil
	}
	if err := checkNode(node); err != nil {
		return nil, err
	}
	if int64(len(sums)) > maxBatch {
		return nil, fmt.Errorf("%w: a batch of %d versions; sign at most %d at once", ErrMalformed, len(sums), int64(maxBatch))
	}
	// The tree's stored hashes, as tlog lays them out (tlog.StoredHashIndex).
	var hashes []tlog.Hash
	read := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i, sum := range sums {
		hs, err := tlog.StoredHashes(int64(i), sum[:], read)
		if err != nil {
			return nil, fmt.Errorf("provenance: hashing the batch: %w", err)
		}
		hashes = append(hashes, hs...)
	}
	n := int64(len(sums))
	root, err := tlog.TreeHash(n, read)
	if err != nil {
		return nil, fmt.Errorf("provenance: hashing the batch: %w", err)
	}
	sig, err := sign(signer, batchMessage(node, n, root[:]))
	if err != nil {
		return nil, err
	}
	out := make([]Provenance, len(sums))
	for i, sum := range sums {
		proof, err := tlog.ProveRecord(n, int64(i), read)
		if err != nil {
			return nil, fmt.Errorf("provenance: proving a batch member: %w", err)
		}
		flat := make([]byte, 0, len(proof)*sha256.Size)
		for _, h := range proof {
			flat = append(flat, h[:]...)
		}
		out[i] = Provenance{Origin: Signature{
			Node:   node,
			Digest: FormatDigest(sum),
			Sig:    sig,
			Batch:  &Batch{Size: n, Index: int64(i), Root: root[:], Proof: flat},
		}}
	}
	return out, nil
}

// batchMessage is what an originator signs for a batch: who, how many
// versions, and the root of their tree.
func batchMessage(node string, size int64, root []byte) []byte {
	return []byte(batchContext + node + "\n" + strconv.FormatInt(size, 10) + "\n" + hex.EncodeToString(root) + "\n")
}

func (b *Batch) check() error {
	switch {
	case b.Size < 2 || b.Size > maxBatch:
		return fmt.Errorf("%w: a batch has 2 to %d versions, not %d", ErrMalformed, int64(maxBatch), b.Size)
	case b.Index < 0 || b.Index >= b.Size:
		return fmt.Errorf("%w: batch index %d is outside a batch of %d", ErrMalformed, b.Index, b.Size)
	case len(b.Root) != sha256.Size:
		return fmt.Errorf("%w: the batch root has %d bytes, not %d", ErrMalformed, len(b.Root), sha256.Size)
	case len(b.Proof)%sha256.Size != 0 || len(b.Proof)/sha256.Size > 64:
		return fmt.Errorf("%w: the batch proof is %d bytes, not a list of at most 64 hashes of %d", ErrMalformed, len(b.Proof), sha256.Size)
	}
	return nil
}

// verifyOrigin checks an originator's signature: over the digest, or
// over a batch's root after the proof placed the digest under it. cache,
// when not nil, remembers the batch signatures verified, so that the other
// versions of a batch cost a proof each, not a signature.
func verifyOrigin(s Signature, keyOf func(string) (ed25519.PublicKey, bool), cache *batchCache) error {
	if s.Batch == nil {
		return verify(keyOf, s.Node, originMessage(s.Node, s.Digest), s.Sig, "origin")
	}
	b := s.Batch
	sum, _ := hex.DecodeString(s.Digest[len(digestPrefix):]) // check() vetted the form
	proof := make(tlog.RecordProof, len(b.Proof)/sha256.Size)
	for i := range proof {
		copy(proof[i][:], b.Proof[i*sha256.Size:])
	}
	var root tlog.Hash
	copy(root[:], b.Root)
	if err := tlog.CheckRecord(proof, b.Size, root, b.Index, tlog.RecordHash(sum)); err != nil {
		return fmt.Errorf("%w: the origin batch proof does not place digest %s at %d of %d under the signed root", ErrBadSignature, s.Digest, b.Index, b.Size)
	}
	key, ok := keyOf(s.Node)
	if !ok {
		return fmt.Errorf("%w: the origin signer %q is not a node of the agreement", ErrUnknownNode, s.Node)
	}
	msg := batchMessage(s.Node, b.Size, b.Root)
	if cache.has(key, msg, s.Sig) {
		return nil
	}
	if len(key) != ed25519.PublicKeySize || !ed25519.Verify(key, msg, s.Sig) {
		return fmt.Errorf("%w: the origin batch signature of node %q does not verify under its key", ErrBadSignature, s.Node)
	}
	cache.add(key, msg, s.Sig)
	return nil
}

// A Verifier is Verify with a memory: it remembers the batch signatures it
// has verified (a bounded number), so that a page of versions signed in
// batches costs about one signature check per batch. It is safe for
// concurrent use.
type Verifier struct {
	keyOf func(string) (ed25519.PublicKey, bool)
	cache batchCache
}

// NewVerifier returns a Verifier that resolves node ids with keyOf, as
// Verify does.
func NewVerifier(keyOf func(node string) (ed25519.PublicKey, bool)) *Verifier {
	return &Verifier{keyOf: keyOf}
}

// Verify is Verify, with v's keys and memory.
func (v *Verifier) Verify(p Provenance, raw []byte) error {
	return verifyWith(p, raw, v.keyOf, &v.cache)
}

// VerifyDigest is Verify for a caller that has computed the SHA-256 of
// raw's RFC 8785 form already (store.NewPut's Hash), so that the object is
// not canonicalized twice. sum must be that digest: VerifyDigest trusts it
// and reads raw only for the properties a redaction removed.
func (v *Verifier) VerifyDigest(p Provenance, sum [sha256.Size]byte, raw []byte) error {
	if err := p.check(); err != nil {
		return err
	}
	return verifyChecked(p, FormatDigest(sum), raw, v.keyOf, &v.cache)
}

// maxCached bounds a batchCache; when full, it starts over.
const maxCached = 4096

// batchCache remembers verified (key, message, signature) triples by
// their hash.
type batchCache struct {
	mu   sync.Mutex
	seen map[[sha256.Size]byte]struct{}
}

func cacheKey(key ed25519.PublicKey, msg, sig []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write(key)
	h.Write(sig)
	h.Write(msg)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

func (c *batchCache) has(key ed25519.PublicKey, msg, sig []byte) bool {
	if c == nil {
		return false
	}
	k := cacheKey(key, msg, sig)
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.seen[k]
	return ok
}

func (c *batchCache) add(key ed25519.PublicKey, msg, sig []byte) {
	if c == nil {
		return
	}
	k := cacheKey(key, msg, sig)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil || len(c.seen) >= maxCached {
		c.seen = make(map[[sha256.Size]byte]struct{})
	}
	c.seen[k] = struct{}{}
}
