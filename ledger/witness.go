package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// maxProofLines is the most consistency proof lines a tlog-witness request
// may carry.
const maxProofLines = 63

// AddRequest is the body of a C2SP tlog-witness add-checkpoint request:
// the size of the checkpoint the client believes the witness holds, the
// consistency proof from that size, and the new signed checkpoint.
type AddRequest struct {
	Old        int64
	Proof      tlog.TreeProof
	Checkpoint []byte
}

// Marshal returns the request body: "old <N>\n", one base64 proof hash per
// line, an empty line, then the checkpoint.
func (r AddRequest) Marshal() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", r.Old)
	for _, h := range r.Proof {
		b.WriteString(h.String())
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(r.Checkpoint)
	return b.Bytes()
}

// ErrMalformedRequest means an add-checkpoint request is not well formed,
// or asks for an old size beyond the checkpoint's: answer 400 Bad Request.
var ErrMalformedRequest = errors.New("ledger: malformed add-checkpoint request")

// ParseAddRequest parses an add-checkpoint request body strictly: the old
// size in decimal without leading zeros, at most 63 proof lines each the
// standard base64 of a 32-byte hash, an empty line and a non-empty
// checkpoint. The checkpoint itself is checked when it is verified.
func ParseAddRequest(body []byte) (AddRequest, error) {
	bad := func(format string, args ...any) (AddRequest, error) {
		return AddRequest{}, fmt.Errorf("%w: %s", ErrMalformedRequest, fmt.Sprintf(format, args...))
	}
	line, rest, ok := bytes.Cut(body, []byte("\n"))
	if !ok {
		return bad("no old size line")
	}
	size, ok := strings.CutPrefix(string(line), "old ")
	if !ok {
		return bad(`the first line does not start with "old "`)
	}
	old, ok := decimal(size)
	if !ok {
		return bad("old size %q is not a decimal without leading zeros", size)
	}
	r := AddRequest{Old: old}
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return bad("no empty line before the checkpoint")
		}
		if len(line) == 0 {
			break
		}
		if len(r.Proof) == maxProofLines {
			return bad("more than %d proof lines", maxProofLines)
		}
		h, err := parseHashLine(string(line))
		if err != nil {
			return bad("proof line %d: %v", len(r.Proof)+1, err)
		}
		r.Proof = append(r.Proof, h)
	}
	if len(rest) == 0 {
		return bad("no checkpoint")
	}
	r.Checkpoint = rest
	return r, nil
}

// Errors of Witness.Add, and the tlog-witness answer each calls for.
var (
	// ErrUnknownLog: the checkpoint's origin is not a log this witness
	// witnesses. Answer 404 Not Found.
	ErrUnknownLog = errors.New("ledger: unknown log")
	// ErrUntrusted: no signature of a key trusted for the origin
	// verifies. Answer 403 Forbidden.
	ErrUntrusted = errors.New("ledger: checkpoint not signed by a trusted log key")
	// ErrConflict is matched by *ConflictError: the old size is not the
	// size this witness last cosigned. Answer 409 Conflict with the body
	// "<latest size>\n" and Content-Type text/x.tlog.size.
	ErrConflict = errors.New("ledger: old size does not match the witnessed size")
	// ErrInconsistent: the consistency proof does not verify, or is not
	// empty from size 0. Answer 422 Unprocessable Entity. The checkpoint
	// was signed by the log, so keep the request as possible evidence.
	ErrInconsistent = errors.New("ledger: checkpoint inconsistent with the witnessed one")
	// ErrFork wraps ErrInconsistent: the log signed two checkpoints of
	// the same size with different roots, proof of a split view. Answer
	// 422, keep both checkpoints, raise an alert and stop exchanging with
	// the log's node until an operator acts.
	ErrFork = fmt.Errorf("%w: fork (same size, different root)", ErrInconsistent)
	// ErrRollback is matched by a *ConflictError whose checkpoint is
	// smaller than the witnessed one: the log offers an earlier state than
	// one it already had cosigned. A log that lost its state (restored
	// from a backup) sees it about itself.
	ErrRollback = errors.New("ledger: checkpoint older than the witnessed one")
)

// ConflictError is the 409 answer: Latest is the size of the latest
// checkpoint the witness cosigned for the log.
type ConflictError struct {
	Latest int64
	// Rollback is set when the submitted checkpoint is smaller than
	// Latest.
	Rollback bool
}

func (e *ConflictError) Error() string {
	if e.Rollback {
		return fmt.Sprintf("ledger: checkpoint smaller than the witnessed size %d (a rollback)", e.Latest)
	}
	return fmt.Sprintf("ledger: old size does not match the witnessed size %d", e.Latest)
}

func (e *ConflictError) Is(target error) bool {
	return target == ErrConflict || target == ErrRollback && e.Rollback
}

// WitnessState keeps the latest checkpoint the witness cosigned for each
// log. It is the caller's durable storage.
type WitnessState interface {
	// Latest returns the latest checkpoint cosigned for origin, as the
	// signed note Swap stored, or nil if there is none.
	Latest(ctx context.Context, origin string) ([]byte, error)
	// Swap stores next as the latest checkpoint for origin if the stored
	// one is still old (nil: none), atomically; otherwise it returns
	// ErrStateChanged. It must be durable before it returns.
	Swap(ctx context.Context, origin string, old, next []byte) error
}

// ErrStateChanged is returned by WitnessState.Swap when another request
// updated the log's checkpoint first.
var ErrStateChanged = errors.New("ledger: witnessed checkpoint changed concurrently")

// Witness is the decision core of a C2SP tlog-witness: it checks
// add-checkpoint requests against the latest checkpoint it cosigned for
// each log and cosigns the consistent ones.
type Witness struct {
	// Cosigner signs the accepted checkpoints.
	Cosigner note.Signer
	// Logs maps each witnessed log's origin to the keys trusted to sign
	// its checkpoints.
	Logs map[string][]note.Verifier
	// State keeps the latest checkpoint of each log.
	State WitnessState
}

// Add handles an add-checkpoint request body. It returns the cosignature
// lines to answer with (200), or an error that matches ErrMalformedRequest
// (400), ErrUnknownLog (404), ErrUntrusted (403), ErrConflict (409, as a
// *ConflictError), or ErrInconsistent (422, ErrFork among them); other
// errors come from the state and call for 500. Checks run in the order
// tlog-witness gives.
func (w *Witness) Add(ctx context.Context, body []byte) ([]byte, error) {
	req, err := ParseAddRequest(body)
	if err != nil {
		return nil, err
	}
	// The origin is the first line of the note; it is trusted only once a
	// key of that origin verifies the signature.
	origin, _, _ := strings.Cut(string(req.Checkpoint), "\n")
	keys, ok := w.Logs[origin]
	if !ok || len(keys) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrUnknownLog, origin)
	}
	n, err := note.Open(req.Checkpoint, note.VerifierList(keys...))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		if errors.As(err, &unverified) || errors.As(err, &invalid) {
			return nil, fmt.Errorf("%w: %s: %v", ErrUntrusted, origin, err)
		}
		return nil, fmt.Errorf("%w: the checkpoint is not a signed note: %v", ErrMalformedRequest, err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedRequest, err)
	}
	if req.Old > c.N {
		return nil, fmt.Errorf("%w: old size %d is beyond the checkpoint's %d", ErrMalformedRequest, req.Old, c.N)
	}
	latestMsg, err := w.State.Latest(ctx, origin)
	if err != nil {
		return nil, fmt.Errorf("ledger: witness state of %s: %w", origin, err)
	}
	latest := tlog.Tree{N: 0, Hash: EmptyTreeHash}
	if latestMsg != nil {
		// The stored note was verified before it was stored, but the log's
		// keys may have rotated since; read it without verifying again.
		text, ok := noteBody(latestMsg)
		if !ok {
			return nil, fmt.Errorf("ledger: witness state of %s holds no signed note", origin)
		}
		lc, err := ParseCheckpoint(string(text))
		if err != nil {
			return nil, fmt.Errorf("ledger: witness state of %s: %w", origin, err)
		}
		latest = lc.Tree
	}
	if req.Old != latest.N {
		return nil, &ConflictError{Latest: latest.N, Rollback: c.N < latest.N}
	}
	if req.Old == c.N && c.Hash != latest.Hash {
		return nil, fmt.Errorf("%w: %s at size %d: witnessed root %v, submitted %v", ErrFork, origin, c.N, latest.Hash, c.Hash)
	}
	if err := CheckConsistency(req.Proof, c.Tree, latest); err != nil {
		return nil, fmt.Errorf("%w: %s from %d to %d: %v", ErrInconsistent, origin, latest.N, c.N, err)
	}
	cosigned, err := note.Sign(&note.Note{Text: n.Text}, w.Cosigner)
	if err != nil {
		return nil, fmt.Errorf("ledger: cosigning %s: %w", origin, err)
	}
	_, sigLine, _ := bytes.Cut(cosigned, []byte("\n\n"))
	if err := w.State.Swap(ctx, origin, latestMsg, req.Checkpoint); err != nil {
		if errors.Is(err, ErrStateChanged) {
			// Another request moved the log on; its size is the answer.
			if now, err := w.State.Latest(ctx, origin); err == nil && now != nil {
				if text, ok := noteBody(now); ok {
					if nc, err := ParseCheckpoint(string(text)); err == nil {
						return nil, &ConflictError{Latest: nc.N, Rollback: c.N < nc.N}
					}
				}
			}
		}
		return nil, fmt.Errorf("ledger: storing the checkpoint of %s: %w", origin, err)
	}
	return sigLine, nil
}
