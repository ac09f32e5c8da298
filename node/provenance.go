package node

import (
	"crypto/sha256"
	"fmt"

	"github.com/entente/entente/provenance"
	"github.com/entente/entente/taxii"
)

// originID is the node id the node signs the versions it originates as:
// its id in the agreement, or, without one, its key's name.
func (n *Node) originID() string {
	if f := n.fed.Load(); f != nil {
		return f.self.ID
	}
	return n.key.Name
}

// signBatch is how many versions one origin signature covers at most. One
// Ed25519 signature per version would cost about half as much again as
// checking it; a batch of n adds log2(n) hashes to each version's record,
// and storing those bytes is what the rest of signing costs (about a
// quarter of ingest's throughput at n = 32, measured by
// BenchmarkIngestSigning), so n stays small.
const signBatch = 16

// originSigner returns what signs versions that c's envelope originates,
// given the SHA-256 of each one's RFC 8785 form: their provenance records,
// the node's origin signature, one batch signature for all of them
// (provenance.SignBatch). It is nil when the node has no key, and for a
// partner node, whose objects their originator signed.
func (n *Node) originSigner(c *taxii.Caller) func(sums [][sha256.Size]byte) ([][]byte, error) {
	if n.key == nil || c.Role == taxii.RolePartner {
		return nil
	}
	id := n.originID()
	return func(sums [][sha256.Size]byte) ([][]byte, error) {
		var ps []provenance.Provenance
		for start := 0; start < len(sums); start += signBatch {
			b, err := provenance.SignBatch(n.key.Private, id, sums[start:min(start+signBatch, len(sums))])
			if err != nil {
				return nil, fmt.Errorf("node: signing as %q: %w", id, err)
			}
			ps = append(ps, b...)
		}
		var err error
		recs := make([][]byte, len(ps))
		for i, p := range ps {
			if recs[i], err = p.Encode(); err != nil {
				return nil, err
			}
		}
		return recs, nil
	}
}

// checkOriginID fails when the node could not sign as id: ids appear in
// signed messages and must be printable ASCII without spaces.
func checkOriginID(key *Key, id string) error {
	if key == nil {
		return nil
	}
	if _, err := provenance.SignDigest(key.Private, id, [sha256.Size]byte{}); err != nil {
		return fmt.Errorf("node: %q cannot name the node in origin signatures (%w); name the key with printable ASCII and no spaces (entente keygen)", id, err)
	}
	return nil
}
