package agreement

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"
)

// Digest returns the SHA-256 of the agreement's content (Content): the
// RFC 8785 canonical JSON that every party signed. It names the signed
// terms, not a file: every party recomputes it from its own copy, whatever
// its layout, comments or order of signatures, and a copy whose
// signatures verify (VerifySignatures) is signed content with this digest.
// The node's ledger records it when the node adopts or amends the
// agreement.
func (a *Agreement) Digest() ([sha256.Size]byte, error) {
	c, err := a.Content()
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	return sha256.Sum256(c), nil
}

// Document returns the agreement, with its signatures, as a YAML document
// that Parse reads back to the same content and signatures. It is how a
// node keeps the versions it worked under: the comments and layout of the
// file it was given are not kept, and need not be, since the signatures
// cover the content alone.
func (a *Agreement) Document() ([]byte, error) {
	doc, err := yaml.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("agreement: encoding %q version %d: %w", a.ID, a.Version, err)
	}
	// Parse is stricter than Marshal is faithful; a document that does not
	// read back to the same content must never be kept as this one.
	back, err := Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("agreement: %q version %d does not read back from its own encoding: %w", a.ID, a.Version, err)
	}
	want, err := a.Content()
	if err != nil {
		return nil, err
	}
	got, err := back.Content()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(want, got) || !slices.Equal(a.Signatures, back.Signatures) {
		return nil, fmt.Errorf("agreement: %q version %d changes when encoded and read back", a.ID, a.Version)
	}
	return doc, nil
}
