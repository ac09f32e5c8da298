package ledger

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"golang.org/x/mod/sumdb/tlog"
)

// commitmentDomain separates commitment hashes from every other SHA-256
// computed over entries; it ends in a byte that no text contains.
const commitmentDomain = "entente ledger commitment v1\x00"

// Salt is the random value that hides an entry inside its commitment. Each
// entry gets a fresh one; without it, anyone who could guess an entry (a
// partner knows which objects it sent) could confirm the guess against the
// public log.
type Salt [32]byte

// Commitment is a leaf of the log: SHA-256(commitmentDomain || salt ||
// entry encoding). It is all the public log holds about an entry.
type Commitment [32]byte

func (c Commitment) String() string { return base64.StdEncoding.EncodeToString(c[:]) }

// LeafHash is the commitment's RFC 6962 leaf hash, SHA-256(0x00 || c): the
// level-0 hash of the tree.
func (c Commitment) LeafHash() tlog.Hash { return tlog.RecordHash(c[:]) }

// Opening is what a partner needs to see an entry and check it against the
// log: the entry and its salt.
type Opening struct {
	Entry Entry
	Salt  Salt
}

// Commit draws a fresh salt from rand (crypto/rand.Reader in production)
// and returns the entry's opening and its commitment.
func Commit(e Entry, rand io.Reader) (Opening, Commitment, error) {
	enc, err := e.Encode()
	if err != nil {
		return Opening{}, Commitment{}, err
	}
	var salt Salt
	if _, err := io.ReadFull(rand, salt[:]); err != nil {
		return Opening{}, Commitment{}, fmt.Errorf("ledger: drawing a salt: %w", err)
	}
	return Opening{Entry: e, Salt: salt}, commit(salt, enc), nil
}

// CommitEncoded returns the commitment to an already encoded entry, as
// stored with its salt; it is how a node rebuilds its leaves without
// decoding its entries.
func CommitEncoded(salt Salt, encoding []byte) Commitment { return commit(salt, encoding) }

func commit(salt Salt, enc []byte) Commitment {
	// Hash from a stack buffer when the entry fits: sha256.New would
	// allocate for every leaf.
	var stack [512]byte
	if len(commitmentDomain)+len(salt)+len(enc) <= len(stack) {
		buf := append(append(append(stack[:0], commitmentDomain...), salt[:]...), enc...)
		return sha256.Sum256(buf)
	}
	h := sha256.New()
	h.Write([]byte(commitmentDomain))
	h.Write(salt[:])
	h.Write(enc)
	var c Commitment
	h.Sum(c[:0])
	return c
}

// Commitment recomputes the opening's commitment.
func (o Opening) Commitment() (Commitment, error) {
	enc, err := o.Entry.Encode()
	if err != nil {
		return Commitment{}, err
	}
	return commit(o.Salt, enc), nil
}

// ErrOpeningMismatch means an opening does not open the leaf it was checked
// against: the entry or salt differ from what the log committed to.
var ErrOpeningMismatch = errors.New("ledger: the opening does not match the commitment")

// Verify checks that the opening opens c.
func (o Opening) Verify(c Commitment) error {
	got, err := o.Commitment()
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(got[:], c[:]) != 1 {
		return ErrOpeningMismatch
	}
	return nil
}

// MarshalBinary encodes the opening as the salt followed by the entry's
// encoding.
func (o Opening) MarshalBinary() ([]byte, error) {
	return o.Entry.AppendEncoding(append(make([]byte, 0, 160), o.Salt[:]...))
}

// ParseOpening decodes what MarshalBinary returns, as strictly as
// [DecodeEntry].
func ParseOpening(b []byte) (Opening, error) {
	var o Opening
	if len(b) < len(o.Salt) {
		return Opening{}, fmt.Errorf("%w: opening of %d bytes is shorter than its salt", ErrMalformedEntry, len(b))
	}
	copy(o.Salt[:], b)
	e, err := DecodeEntry(b[len(o.Salt):])
	if err != nil {
		return Opening{}, err
	}
	o.Entry = e
	return o, nil
}
