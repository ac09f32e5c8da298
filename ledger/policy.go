package ledger

import (
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
)

// Policy decides when a checkpoint is final: when at least Threshold of
// the Witnesses have cosigned it. The agreement names the witnesses of each
// node's log and the threshold.
type Policy struct {
	Threshold int
	Witnesses []note.Verifier
}

// NewPolicy returns the policy "k of these witnesses", from their verifier
// keys (type 0x04, or the witnesses' Ed25519 node keys).
func NewPolicy(k int, vkeys ...string) (Policy, error) {
	p := Policy{Threshold: k}
	for _, vk := range vkeys {
		v, err := NewCosignatureVerifier(vk)
		if err != nil {
			return Policy{}, err
		}
		p.Witnesses = append(p.Witnesses, v)
	}
	return p, p.Validate()
}

// Validate checks that the threshold can be met and that no witness is
// listed twice (which would let one witness count twice).
func (p Policy) Validate() error {
	if p.Threshold < 0 || p.Threshold > len(p.Witnesses) {
		return fmt.Errorf("ledger: witness policy asks for %d of %d witnesses", p.Threshold, len(p.Witnesses))
	}
	seen := make(map[string]bool)
	for _, w := range p.Witnesses {
		if seen[w.Name()] {
			return fmt.Errorf("ledger: witness policy lists %s twice", w.Name())
		}
		seen[w.Name()] = true
	}
	return nil
}

// ErrNotFinal means a checkpoint lacks the cosignatures its policy asks
// for: wait for more witnesses before relying on it.
var ErrNotFinal = errors.New("ledger: checkpoint not final")

// Final verifies a signed checkpoint of the log origin, signed by log, and
// checks that the policy's threshold of witnesses cosigned it. Signatures
// of unknown keys are ignored; a signature of a known key that does not
// verify is an error.
func (p Policy) Final(msg []byte, origin string, log note.Verifier) (Checkpoint, error) {
	if err := p.Validate(); err != nil {
		return Checkpoint{}, err
	}
	c, n, err := OpenCheckpoint(msg, origin, log, p.Witnesses...)
	if err != nil {
		return Checkpoint{}, err
	}
	if got := p.Cosigners(n); got < p.Threshold {
		return Checkpoint{}, fmt.Errorf("%w: %d of the %d witness cosignatures needed", ErrNotFinal, got, p.Threshold)
	}
	return c, nil
}

// Cosigners counts the policy's witnesses whose signature on n verified.
func (p Policy) Cosigners(n *note.Note) int {
	count := 0
	for _, w := range p.Witnesses {
		if signedBy(n, w) {
			count++
		}
	}
	return count
}
