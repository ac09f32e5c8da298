// Package provenance signs STIX object versions at their origin and checks
// those signatures wherever the objects travel: Entente's origin
// signatures (issue 10, item 3).
//
// A node signs each object version it originates with its Ed25519 node
// key. The signature is over the SHA-256 of the version's RFC 8785
// canonical form (https://www.rfc-editor.org/rfc/rfc8785), the digest
// stix.Canonical and ledger.ObjectDigest compute, so it survives any
// re-encoding of the JSON and never changes the object's bytes: it travels
// beside the object (in TAXII envelopes, as the custom property
// x_entente_provenance) and is stored beside the version.
//
// A node that originates many versions at once signs them in batches
// (SignBatch): one signature over the root of an RFC 6962 Merkle tree of
// their digests, and, in each version's record, the proof of its place in
// the tree. A receiver checks one signature per batch (Verifier remembers
// the batches it verified) and a few hashes per version.
//
// A node that releases a redacted copy (policy.Apply) adds a Redaction: it
// signs, with its own key, the original digest, the names of the
// top-level properties it removed and the redacted copy's digest. The
// originator's signature still verifies over the original digest it
// names, so a receiver, and any third party the copy is passed on to,
// learns who originated the object, who removed what, and that nobody else
// changed it.
//
// Every signed message starts with a line naming what it is for ("entente
// object signature v1", "entente object redaction v1"), so that no
// signature made for one purpose, or by another of the node key's uses
// (TLS, ledger checkpoints), can pass for another.
//
// The package is pure: it computes and checks, and does no I/O.
package provenance

import (
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/entente/entente/stix"
)

// Errors Verify returns, wrapped with what failed. Each names the check
// that failed; none is worth retrying with the same input.
var (
	// ErrUnknownNode means a signer is not a node the verifier knows
	// (keyOf has no key for it): refuse the object, it cannot be
	// attributed.
	ErrUnknownNode = errors.New("provenance: unknown node")
	// ErrDigestMismatch means the object's bytes are not the ones the
	// provenance names: they were changed after signing.
	ErrDigestMismatch = errors.New("provenance: digest mismatch")
	// ErrBadSignature means a signature does not verify under the
	// signer's key: forged, or signed by another key.
	ErrBadSignature = errors.New("provenance: bad signature")
	// ErrRedactionMismatch means a redaction does not fit the object: a
	// property it says was removed is still there, or it names nothing
	// removed.
	ErrRedactionMismatch = errors.New("provenance: redaction mismatch")
	// ErrMalformed means a provenance record does not have the form this
	// package writes (Decode, Sign and Redact's arguments).
	ErrMalformed = errors.New("provenance: malformed")
)

// Signature is a node's signature over one object version.
type Signature struct {
	// Node is the signer's node id (its id in the agreement).
	Node string `json:"node"`
	// Digest is "sha256:" and the lower-case hex SHA-256 of the RFC 8785
	// form of the version signed.
	Digest string `json:"digest"`
	// Sig is the Ed25519 signature over the message originMessage builds
	// or, when Batch is set, over the batch's root (batchMessage).
	Sig []byte `json:"sig"`
	// Batch, when set, says that the signer signed many versions at once:
	// Sig signs the root of a Merkle tree over their digests, and Batch
	// proves this version's place in it.
	Batch *Batch `json:"batch,omitempty"`
}

// Batch places a version in a batch of versions signed together, so that
// a node originating many versions pays for one signature per batch, and a
// receiver that caches what it verified (Verifier) checks one per batch.
// The tree is RFC 6962's (https://www.rfc-editor.org/rfc/rfc6962 §2.1,
// as golang.org/x/mod/sumdb/tlog computes it), its leaves the versions'
// SHA-256 digests (32 bytes each) in batch order.
type Batch struct {
	// Size is the number of versions in the batch, and Index this
	// version's place among them.
	Size  int64 `json:"size"`
	Index int64 `json:"index"`
	// Root is the tree's root hash, which Sig signs.
	Root []byte `json:"root"`
	// Proof is the RFC 6962 audit path from this version's leaf to Root:
	// the hashes of 32 bytes each, concatenated.
	Proof []byte `json:"proof"`
}

// Redaction says which node released a redacted copy, and what it removed.
type Redaction struct {
	// By is the redacting node's id.
	By string `json:"by"`
	// Removed lists the top-level properties removed, sorted, each once.
	Removed []string `json:"removed"`
	// Digest is the digest of the redacted copy, in Signature.Digest's
	// form.
	Digest string `json:"digest"`
	// Sig is By's Ed25519 signature binding the original digest, Removed
	// and Digest (redactionMessage).
	Sig []byte `json:"sig"`
}

// Provenance travels with an object version: its origin, and how it was
// redacted on the way, if it was.
type Provenance struct {
	// Origin is the originator's signature over the original version.
	Origin Signature `json:"origin"`
	// Redaction, when present, says that the object is a redacted copy of
	// the version Origin signs.
	Redaction *Redaction `json:"redaction,omitempty"`
}

// Domain separation: the first line of every signed message.
const (
	originContext    = "entente object signature v1\n"
	batchContext     = "entente object batch signature v1\n"
	redactionContext = "entente object redaction v1\n"
)

const digestPrefix = "sha256:"

// FormatDigest writes a SHA-256 sum as Signature.Digest holds it.
func FormatDigest(sum [sha256.Size]byte) string {
	return digestPrefix + hex.EncodeToString(sum[:])
}

// Digest returns the digest of raw's RFC 8785 form, in Signature.Digest's
// form: the sum ledger.ObjectDigest and store.NewPut compute.
func Digest(raw []byte) (string, error) {
	c, err := stix.Canonical(raw)
	if err != nil {
		return "", fmt.Errorf("provenance: %w", err)
	}
	return FormatDigest(sha256.Sum256(c)), nil
}

// Sign signs raw, a STIX object version that node originates, with
// signer, which must hold an Ed25519 key (ed25519.PrivateKey is one).
func Sign(signer crypto.Signer, node string, raw []byte) (Provenance, error) {
	c, err := stix.Canonical(raw)
	if err != nil {
		return Provenance{}, fmt.Errorf("provenance: %w", err)
	}
	return SignDigest(signer, node, sha256.Sum256(c))
}

// SignDigest is Sign for a caller that has the SHA-256 of the version's
// RFC 8785 form already (store.Put.Hash).
func SignDigest(signer crypto.Signer, node string, sum [sha256.Size]byte) (Provenance, error) {
	if err := checkNode(node); err != nil {
		return Provenance{}, err
	}
	s := Signature{Node: node, Digest: FormatDigest(sum)}
	sig, err := sign(signer, originMessage(s.Node, s.Digest))
	if err != nil {
		return Provenance{}, err
	}
	s.Sig = sig
	return Provenance{Origin: s}, nil
}

// Redact returns p for a redacted copy, redactedRaw, of the version p
// describes, from which node by removed the top-level properties removed.
// The originator's signature is kept as it is. A copy that was redacted
// already is redacted again: the new Redaction, by this node, names every
// property removed since the original (both lists) and replaces the
// earlier one, since it is this node that vouches for the copy it sends.
func Redact(p Provenance, signer crypto.Signer, by string, removed []string, redactedRaw []byte) (Provenance, error) {
	if err := checkNode(by); err != nil {
		return Provenance{}, err
	}
	if err := checkSignature(p.Origin, "origin"); err != nil {
		return Provenance{}, err
	}
	all := slices.Clone(removed)
	if p.Redaction != nil {
		all = append(all, p.Redaction.Removed...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	if err := checkRemoved(all); err != nil {
		return Provenance{}, err
	}
	digest, err := Digest(redactedRaw)
	if err != nil {
		return Provenance{}, err
	}
	if err := absent(redactedRaw, all); err != nil {
		return Provenance{}, err
	}
	r := &Redaction{By: by, Removed: all, Digest: digest}
	if r.Sig, err = sign(signer, redactionMessage(p.Origin.Digest, r)); err != nil {
		return Provenance{}, err
	}
	return Provenance{Origin: p.Origin, Redaction: r}, nil
}

// Verify checks that raw is the object version p describes: signed by its
// originator and, for a redacted copy, redacted by the node p names and
// changed by nobody else. keyOf returns the Ed25519 key a node id stands
// for (the key the agreement pins); false for a node it does not know.
// The error wraps ErrUnknownNode, ErrDigestMismatch, ErrBadSignature,
// ErrRedactionMismatch or ErrMalformed, and says which signature failed.
func Verify(p Provenance, raw []byte, keyOf func(node string) (ed25519.PublicKey, bool)) error {
	return verifyWith(p, raw, keyOf, nil)
}

func verifyWith(p Provenance, raw []byte, keyOf func(node string) (ed25519.PublicKey, bool), cache *batchCache) error {
	if err := p.check(); err != nil {
		return err
	}
	digest, err := Digest(raw)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDigestMismatch, err)
	}
	return verifyChecked(p, digest, raw, keyOf, cache)
}

// verifyChecked is verifyWith once p is checked and raw's digest, in
// Signature.Digest's form, is known.
func verifyChecked(p Provenance, digest string, raw []byte, keyOf func(node string) (ed25519.PublicKey, bool), cache *batchCache) error {
	want := p.Origin.Digest
	if p.Redaction != nil {
		want = p.Redaction.Digest
	}
	if digest != want {
		return fmt.Errorf("%w: the object's digest is %s, the provenance names %s", ErrDigestMismatch, digest, want)
	}
	if err := verifyOrigin(p.Origin, keyOf, cache); err != nil {
		return err
	}
	r := p.Redaction
	if r == nil {
		return nil
	}
	if r.Digest == p.Origin.Digest {
		return fmt.Errorf("%w: the redacted copy has the original's digest; nothing was removed", ErrRedactionMismatch)
	}
	if err := absent(raw, r.Removed); err != nil {
		return err
	}
	return verify(keyOf, r.By, redactionMessage(p.Origin.Digest, r), r.Sig, "redaction")
}

// Encode returns p's JSON encoding, the same bytes for the same p.
func (p Provenance) Encode() ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(p, json.Deterministic(true))
	if err != nil {
		return nil, fmt.Errorf("provenance: encoding: %w", err)
	}
	return b, nil
}

// Decode reads a provenance record as Encode writes it: JSON with no
// unknown or repeated names, well-formed digests and node ids, signatures
// of Ed25519's size, and a redaction's removed list sorted and unique. It
// checks no signature (Verify does).
func Decode(data []byte) (Provenance, error) {
	var p Provenance
	if err := json.Unmarshal(data, &p, json.RejectUnknownMembers(true)); err != nil {
		return Provenance{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := p.check(); err != nil {
		return Provenance{}, err
	}
	return p, nil
}

// check checks p's form.
func (p Provenance) check() error {
	if err := checkSignature(p.Origin, "origin"); err != nil {
		return err
	}
	r := p.Redaction
	if r == nil {
		return nil
	}
	if err := checkNode(r.By); err != nil {
		return fmt.Errorf("redaction: %w", err)
	}
	if err := checkDigest(r.Digest); err != nil {
		return fmt.Errorf("redaction: %w", err)
	}
	if len(r.Sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: the redaction's sig has %d bytes, not %d", ErrMalformed, len(r.Sig), ed25519.SignatureSize)
	}
	if !slices.IsSorted(r.Removed) || len(slices.Compact(slices.Clone(r.Removed))) != len(r.Removed) {
		return fmt.Errorf("%w: the redaction's removed list must be sorted, each name once", ErrMalformed)
	}
	return checkRemoved(r.Removed)
}

func checkSignature(s Signature, what string) error {
	if err := checkNode(s.Node); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := checkDigest(s.Digest); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if len(s.Sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: the %s sig has %d bytes, not %d", ErrMalformed, what, len(s.Sig), ed25519.SignatureSize)
	}
	if s.Batch != nil {
		if err := s.Batch.check(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

// maxNode bounds a node id; agreement ids are at most 64 bytes, signed-note
// key names rarely more than a host name.
const maxNode = 256

// checkNode accepts node ids of printable ASCII without spaces: agreement
// ids and signed-note key names. They are written into signed messages one
// per line, so no id may hold a line break.
func checkNode(node string) error {
	if node == "" || len(node) > maxNode {
		return fmt.Errorf("%w: node id %q must have 1 to %d characters", ErrMalformed, node, maxNode)
	}
	for i := range len(node) {
		if c := node[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%w: node id %q must be printable ASCII without spaces", ErrMalformed, node)
		}
	}
	return nil
}

func checkDigest(d string) error {
	h, ok := strings.CutPrefix(d, digestPrefix)
	if !ok || len(h) != 2*sha256.Size || strings.ToLower(h) != h {
		return fmt.Errorf("%w: digest %q is not sha256: and 64 lower-case hex digits", ErrMalformed, d)
	}
	if _, err := hex.DecodeString(h); err != nil {
		return fmt.Errorf("%w: digest %q is not sha256: and 64 lower-case hex digits", ErrMalformed, d)
	}
	return nil
}

// checkRemoved checks a sorted, compacted list of removed properties.
func checkRemoved(removed []string) error {
	if len(removed) == 0 {
		return fmt.Errorf("%w: a redaction removes at least one property", ErrMalformed)
	}
	for _, name := range removed {
		if name == "" {
			return fmt.Errorf("%w: a removed property has an empty name", ErrMalformed)
		}
		switch name {
		case "type", "id", "spec_version":
			// Without them the copy is no longer the same object.
			return fmt.Errorf("%w: %q cannot be removed from a STIX object", ErrRedactionMismatch, name)
		}
	}
	return nil
}

// absent checks that none of removed is a top-level property of raw.
func absent(raw []byte, removed []string) error {
	var top map[string]jsontext.Value // values are kept as bytes, not decoded
	if err := json.Unmarshal(raw, &top); err != nil {
		return fmt.Errorf("%w: the object is not a JSON object: %v", ErrRedactionMismatch, err)
	}
	for _, name := range removed {
		if _, ok := top[name]; ok {
			return fmt.Errorf("%w: the redaction says %q was removed, but the object has it", ErrRedactionMismatch, name)
		}
	}
	return nil
}

// originMessage is what an originator signs.
func originMessage(node, digest string) []byte {
	return []byte(originContext + node + "\n" + digest + "\n")
}

// redactionMessage is what a redactor signs: who, the original, what was
// removed (a JSON list, so any name is written unambiguously) and the
// copy.
func redactionMessage(origin string, r *Redaction) []byte {
	removed, _ := json.Marshal(r.Removed) // a list of strings always encodes
	return []byte(redactionContext + r.By + "\n" + origin + "\n" + string(removed) + "\n" + r.Digest + "\n")
}

func sign(signer crypto.Signer, msg []byte) ([]byte, error) {
	if signer == nil {
		return nil, errors.New("provenance: no signer")
	}
	if _, ok := signer.Public().(ed25519.PublicKey); !ok {
		return nil, fmt.Errorf("provenance: the signer's key is %T, not Ed25519", signer.Public())
	}
	// crypto.Hash(0): Ed25519 signs the message itself (RFC 8032 pure
	// Ed25519), not a pre-hash.
	sig, err := signer.Sign(nil, msg, crypto.Hash(0))
	if err != nil {
		return nil, fmt.Errorf("provenance: signing: %w", err)
	}
	return sig, nil
}

func verify(keyOf func(string) (ed25519.PublicKey, bool), node string, msg, sig []byte, what string) error {
	key, ok := keyOf(node)
	if !ok {
		return fmt.Errorf("%w: the %s signer %q is not a node of the agreement", ErrUnknownNode, what, node)
	}
	if len(key) != ed25519.PublicKeySize || !ed25519.Verify(key, msg, sig) {
		return fmt.Errorf("%w: the %s signature of node %q does not verify under its key", ErrBadSignature, what, node)
	}
	return nil
}
