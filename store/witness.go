package store

import (
	"bytes"
	"context"
	"time"
)

// Witnessing is what a node keeps as a witness of its partners' logs, and
// the cosignatures its own checkpoints collect (C2SP tlog-witness,
// tlog-cosignature). Store includes it.
type Witnessing interface {
	// AddCosignatures appends witness cosignature lines ("— <name>
	// <base64>\n" each) to the node's own checkpoint of that size, skipping
	// lines it holds already. ErrNotFound if no checkpoint has that size.
	AddCosignatures(ctx context.Context, size int64, lines []byte) error

	// WitnessedCheckpoint returns the latest checkpoint the node cosigned
	// for the partner log origin, or ErrNotFound.
	WitnessedCheckpoint(ctx context.Context, origin string) ([]byte, error)
	// SwapWitnessedCheckpoint stores next as origin's latest cosigned
	// checkpoint if the stored one is still old (nil: none), atomically
	// and durably; otherwise it fails with ledger.ErrStateChanged.
	SwapWitnessedCheckpoint(ctx context.Context, origin string, old, next []byte) error

	// SuspendLog records that the partner log origin showed an
	// inconsistent checkpoint. A log suspended already keeps its first
	// suspension, the evidence of the first misbehaviour.
	SuspendLog(ctx context.Context, s Suspension) error
	// Suspensions lists the suspended logs by origin.
	Suspensions(ctx context.Context) ([]Suspension, error)
	// ResumeLog lifts a log's suspension (an operator's decision); it
	// fails with ErrNotFound if the log is not suspended.
	ResumeLog(ctx context.Context, origin string) error
}

// Suspension is a partner log the node stopped witnessing, and stopped
// exchanging with, after it showed an inconsistent checkpoint.
type Suspension struct {
	Origin string
	Since  time.Time
	// Reason says what the log did ("fork", "inconsistent").
	Reason string
	// Evidence is the refused add-checkpoint request; with the stored
	// checkpoint it proves the misbehaviour.
	Evidence []byte
	// Witnessed is the checkpoint the node had cosigned when it refused.
	Witnessed []byte
}

// FreshCosignatures returns the signature lines of lines that the signed
// checkpoint note lacks, each once, for a backend's AddCosignatures: a
// witness asked twice answers twice.
func FreshCosignatures(note, lines []byte) []byte {
	var fresh []byte
	for l := range bytes.SplitAfterSeq(lines, []byte("\n")) {
		if len(l) != 0 && !bytes.Contains(note, l) && !bytes.Contains(fresh, l) {
			fresh = append(fresh, l...)
		}
	}
	return fresh
}
