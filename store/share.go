package store

import (
	"context"

	"github.com/entente/entente/ledger"
)

// Sharing is what a store keeps about partners: the collections shared
// with each partner party, and what the node disclosed to them.
type Sharing interface {
	// AddShare shares a collection with a partner party. It fails with
	// ErrExists if the share is held already, and with ErrNotFound if
	// the collection does not exist.
	AddShare(ctx context.Context, s Share) error
	// RemoveShare takes a share away; ErrNotFound if it was not held.
	RemoveShare(ctx context.Context, s Share) error
	// Shares lists what is shared with party ("" for every party), by
	// party, then collection creation order, then read before write.
	Shares(ctx context.Context, party string) ([]Share, error)

	// Disclosures lists the disclosures of the objects with the given ids
	// to party ("" for every party), by ledger index.
	Disclosures(ctx context.Context, party string, ids []string) ([]Disclosure, error)
}

// Share is a right a partner party holds on one collection: to read it,
// or to write into it (its inbox). Nothing is shared by default.
type Share struct {
	Party      string // the party's id in the agreement
	Collection string // the collection id
	Right      Right
}

// Disclosure is an object version the node released to a partner node,
// recorded once per (Party, Node, ID, Version, Digest).
type Disclosure struct {
	Party   string // the receiving party
	Node    string // the receiving node's id in the agreement
	ID      string
	Version string
	// Digest is the SHA-256 of the RFC 8785 form of what was released:
	// of the redacted copy when the policy redacted it.
	Digest ledger.Digest
	// Ledger is the index of the ledger entry that records it.
	Ledger int64
}

// DisclosureTx is the part of Tx that records disclosures, in the
// transaction that appends their ledger entries.
type DisclosureTx interface {
	// Disclosed reports, for each of ds, whether a disclosure with the
	// same Party, Node, ID, Version and Digest is recorded. Ledger is
	// ignored.
	Disclosed(ctx context.Context, ds []Disclosure) ([]bool, error)
	// AddDisclosures records ds; ErrExists if one is recorded already.
	AddDisclosures(ctx context.Context, ds []Disclosure) error
}
