package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Terms is what the node keeps of the terms it works under: each signed
// agreement version it adopted or moved to, and each node key it signed
// with, with the ledger entry that recorded it. Store includes it.
type Terms interface {
	// AgreementRecords lists the recorded agreement versions, the latest
	// recorded first, at most limit of them.
	AgreementRecords(ctx context.Context, limit int) ([]AgreementRecord, error)
	// KeyRecords lists the recorded node keys, the latest first, at most
	// limit of them.
	KeyRecords(ctx context.Context, limit int) ([]KeyRecord, error)
}

// TermsTx is the part of Tx that records the terms, in the transaction
// that appends their ledger entries: a reader sees a record only with its
// entry, and the write lock makes "is this the latest recorded?" and the
// record one step, across processes.
type TermsTx interface {
	// LatestAgreement returns the agreement version recorded last, or
	// ErrNotFound.
	LatestAgreement(ctx context.Context) (AgreementRecord, error)
	// AddAgreement records an agreement version; Seq is assigned.
	AddAgreement(ctx context.Context, r AgreementRecord) error
	// LatestKey returns the node key recorded last, or ErrNotFound.
	LatestKey(ctx context.Context) (KeyRecord, error)
	// AddKey records a node key; Seq is assigned.
	AddKey(ctx context.Context, r KeyRecord) error
}

// AgreementRecord is an agreement version the node worked under.
type AgreementRecord struct {
	Seq       int64  // order of recording, from 1
	Agreement string // the agreement's id
	Version   int
	// Previous is the version this one amended, 0 when the node adopted
	// it (its first agreement, or another agreement than the last).
	Previous int
	// Digest is agreement.Agreement.Digest: SHA-256 of the signed content.
	Digest [sha256.Size]byte
	// Document is the signed agreement (agreement.Agreement.Document),
	// which agreement.Parse reads; the reader verifies it again.
	Document []byte
	Entry    int64 // the index of the ledger entry that records it
	Recorded time.Time
}

// KeyRecord is a node key the node signed with.
type KeyRecord struct {
	Seq      int64  // order of recording, from 1
	Key      string // the signed-note verifier key
	Entry    int64  // the index of the ledger entry that records it
	Recorded time.Time
}

// CheckAgreementRecord reports what makes r unfit to record, for the
// backends to refuse before writing.
func CheckAgreementRecord(r AgreementRecord) error {
	switch {
	case r.Agreement == "" || !utf8.ValidString(r.Agreement) || strings.IndexByte(r.Agreement, 0) >= 0:
		return fmt.Errorf("recording an agreement: id %q: want non-empty UTF-8 text without NUL characters", r.Agreement)
	case r.Version <= 0 || r.Previous < 0:
		return fmt.Errorf("recording agreement %q: version %d amending %d: want a positive version and a previous one of 0 (none) or more", r.Agreement, r.Version, r.Previous)
	case len(r.Document) == 0:
		return fmt.Errorf("recording agreement %q version %d: the signed document is empty", r.Agreement, r.Version)
	case r.Entry < 0:
		return fmt.Errorf("recording agreement %q version %d: ledger entry %d: want the index of the entry that records it", r.Agreement, r.Version, r.Entry)
	}
	return nil
}

// CheckKeyRecord reports what makes r unfit to record.
func CheckKeyRecord(r KeyRecord) error {
	switch {
	case r.Key == "" || !utf8.ValidString(r.Key) || strings.IndexByte(r.Key, 0) >= 0:
		return fmt.Errorf("recording a node key: %q: want a signed-note verifier key", r.Key)
	case r.Entry < 0:
		return fmt.Errorf("recording node key %q: ledger entry %d: want the index of the entry that records it", r.Key, r.Entry)
	}
	return nil
}
