package ledgerhttp

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/ledger"
)

// SubmitLog is what a Submitter needs of the node's own log.
type SubmitLog interface {
	// Checkpoint returns the latest signed checkpoint and its size;
	// ErrNotFound before the first.
	Checkpoint(ctx context.Context) (note []byte, size int64, err error)
	// ReadHashes reads the log's stored hashes, for consistency proofs.
	ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	// AddCosignatures stores a witness's cosignature lines on the
	// checkpoint of that size.
	AddCosignatures(ctx context.Context, size int64, lines []byte) error
}

// Witness is a C2SP tlog-witness the node submits its checkpoints to.
type Witness struct {
	// Name names the witness in logs.
	Name string
	// URL is the witness's prefix; requests go to URL + "add-checkpoint".
	URL string
	// Key verifies the witness's cosignatures.
	Key note.Verifier
	// Client sends the requests. Nil means http.DefaultClient.
	Client *http.Client
}

// Defaults of Submitter.
const (
	DefaultSubmitInterval = time.Second
	DefaultMaxBackoff     = 5 * time.Minute
	submitTimeout         = 30 * time.Second
)

// Submitter sends each new checkpoint of the node's log to its witnesses,
// with the consistency proof from the size each witness holds, and keeps
// the cosignatures they return. It backs off on errors, and learns a
// witness's size from its 409 answers.
type Submitter struct {
	// Origin is the log's name.
	Origin string
	// LogKey verifies the log's own signature on its checkpoints.
	LogKey note.Verifier
	Log    SubmitLog
	// Witnesses are the witnesses the agreement names for the log.
	Witnesses []Witness
	// Interval is how often the Submitter looks for a new checkpoint.
	// Default DefaultSubmitInterval.
	Interval time.Duration
	// MaxBackoff bounds the wait after failures. Default
	// DefaultMaxBackoff.
	MaxBackoff time.Duration
	// Logger receives errors and alerts. Default: discard.
	Logger *slog.Logger
	// OnAlert, when set, is called with "own-rollback" when a witness
	// holds a later checkpoint of the log than the log itself (the node's
	// state was rolled back), "own-refused" when a witness finds a
	// checkpoint inconsistent with what it cosigned, and "own-forbidden"
	// when a witness refuses the log (403): it suspended it, or does not
	// trust its key.
	OnAlert func(reason string)
}

// ErrWitnessRefused: a witness answered an add-checkpoint request with 403
// Forbidden. C2SP tlog-witness answers so when no signature on the
// checkpoint verifies with a key it trusts for the origin; an Entente
// witness also answers so while it suspends the log (ErrSuspended).
var ErrWitnessRefused = errors.New("ledgerhttp: the witness refuses this log's checkpoints")

// Run submits until ctx is done, one goroutine per witness. It returns
// nil then.
func (s *Submitter) Run(ctx context.Context) error {
	done := make(chan struct{}, len(s.Witnesses))
	for i := range s.Witnesses {
		go func() {
			defer func() { done <- struct{}{} }()
			s.run(ctx, &s.Witnesses[i])
		}()
	}
	for range s.Witnesses {
		<-done
	}
	return nil
}

func (s *Submitter) logger() *slog.Logger { return cmp.Or(s.Logger, slog.New(slog.DiscardHandler)) }

func (s *Submitter) alert(reason string) {
	if s.OnAlert != nil {
		s.OnAlert(reason)
	}
}

// run keeps one witness up to date with the log.
func (s *Submitter) run(ctx context.Context, w *Witness) {
	interval := cmp.Or(s.Interval, DefaultSubmitInterval)
	maxBackoff := cmp.Or(s.MaxBackoff, DefaultMaxBackoff)
	log := s.logger().With(slog.String("witness", w.Name))
	// held is the size the witness holds for the log: 0 until it says
	// otherwise (a 409 tells), and the size it last cosigned after.
	var held, cosigned int64 = 0, -1
	wait, backoff := interval, time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = interval
		msg, size, err := s.Log.Checkpoint(ctx)
		if errors.Is(err, ErrNotFound) || err == nil && size == cosigned {
			continue
		}
		if err != nil {
			log.ErrorContext(ctx, "submitter: reading the latest checkpoint", slog.Any("error", err))
			continue
		}
		if s.cosignedBy(msg, w) {
			// Stored already (before a restart): a witness asked again
			// would only add a second cosignature.
			held, cosigned = size, size
			continue
		}
		// One retry at once after a 409 that names a size the log can
		// prove consistency from.
		for attempt := 0; attempt < 2; attempt++ {
			err = s.submit(ctx, w, msg, size, held)
			var conflict *ledger.ConflictError
			switch {
			case err == nil:
				held, cosigned = size, size
				log.DebugContext(ctx, "submitter: checkpoint cosigned", slog.Int64("size", size))
			case errors.As(err, &conflict) && conflict.Latest > size:
				s.alert("own-rollback")
				log.ErrorContext(ctx, "submitter: the witness holds a later checkpoint of this log than the log itself: this node's ledger was rolled back (restored from a backup?); its partners will refuse its checkpoints",
					slog.Int64("witness_size", conflict.Latest), slog.Int64("log_size", size))
			case errors.As(err, &conflict) && attempt == 0:
				held = conflict.Latest
				continue
			case errors.Is(err, ErrWitnessRefused):
				// Whatever the witness says of why, the log goes
				// uncosigned by it until operators act.
				s.alert("own-forbidden")
				log.ErrorContext(ctx, "submitter: the witness refuses this log's checkpoints: it suspended the log (after a rollback or fork it saw) or does not trust the log's key; the operators of both nodes must act",
					slog.Int64("log_size", size), slog.Any("error", err))
			case errors.Is(err, ledger.ErrInconsistent):
				s.alert("own-refused")
				log.ErrorContext(ctx, "submitter: the witness found this log's checkpoint inconsistent with the one it cosigned; the log forked or was rolled back",
					slog.Int64("witness_size", held), slog.Int64("log_size", size), slog.Any("error", err))
			default:
				log.WarnContext(ctx, "submitter: submitting a checkpoint", slog.Int64("size", size), slog.Any("error", err))
			}
			break
		}
		if err != nil {
			backoff = min(max(2*backoff, interval), maxBackoff)
			wait = backoff
		} else {
			backoff = 0
		}
	}
}

// cosignedBy reports whether msg holds a valid cosignature of w.
func (s *Submitter) cosignedBy(msg []byte, w *Witness) bool {
	n, err := note.Open(msg, note.VerifierList(s.LogKey, w.Key))
	if err != nil {
		return false
	}
	for _, sig := range n.Sigs {
		if sig.Name == w.Key.Name() && sig.Hash == w.Key.KeyHash() {
			return true
		}
	}
	return false
}

// submit sends one add-checkpoint request from old and stores the
// cosignature the witness answers with.
func (s *Submitter) submit(ctx context.Context, w *Witness, msg []byte, size, old int64) error {
	_, n, err := ledger.OpenCheckpoint(msg, s.Origin, s.LogKey)
	if err != nil {
		return fmt.Errorf("ledgerhttp: the log's own checkpoint does not verify: %w", err)
	}
	// Only the log's signature goes to the witness; cosignatures of other
	// witnesses are none of its business.
	own, err := note.Sign(&note.Note{Text: n.Text, Sigs: n.Sigs})
	if err != nil {
		return err
	}
	if old > size {
		old = 0
	}
	proof, err := ledger.ProveConsistency(size, old, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		return s.Log.ReadHashes(ctx, idx)
	}))
	if err != nil {
		return fmt.Errorf("ledgerhttp: proving consistency from %d to %d: %w", old, size, err)
	}
	body := ledger.AddRequest{Old: old, Proof: proof, Checkpoint: own}.Marshal()
	lines, err := AddCheckpoint(ctx, w, body)
	if err != nil {
		return err
	}
	// Keep only what verifies: the witness's cosignature of this note.
	cn, err := note.Open(append(bytes.Clone(own), lines...), note.VerifierList(s.LogKey, w.Key))
	if err != nil {
		return fmt.Errorf("ledgerhttp: witness %s answered with a cosignature that does not verify: %w", w.Name, err)
	}
	var keep []byte
	for _, sig := range cn.Sigs {
		if sig.Name == w.Key.Name() && sig.Hash == w.Key.KeyHash() {
			keep = fmt.Appendf(keep, "— %s %s\n", sig.Name, sig.Base64)
		}
	}
	if keep == nil {
		return fmt.Errorf("ledgerhttp: witness %s answered without its cosignature", w.Name)
	}
	return s.Log.AddCosignatures(ctx, size, keep)
}

// maxAnswer bounds a witness's answer: a few signature lines.
const maxAnswer = 16 << 10

// AddCheckpoint sends a tlog-witness add-checkpoint request to w and
// returns the cosignature lines of a 200 answer. A 409 answer is a
// *ledger.ConflictError with the witness's size, a 422 an error matching
// ledger.ErrInconsistent, a 403 one matching ErrWitnessRefused; other
// answers are errors that say the status.
func AddCheckpoint(ctx context.Context, w *Witness, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, submitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL+"add-checkpoint", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	client := cmp.Or(w.Client, http.DefaultClient)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ledgerhttp: witness %s: %w", w.Name, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("ledgerhttp: witness %s: reading the answer: %w", w.Name, err)
	}
	if len(answer) > maxAnswer {
		return nil, fmt.Errorf("ledgerhttp: witness %s: answer longer than %d bytes", w.Name, maxAnswer)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return answer, nil
	case http.StatusConflict:
		latest, err := strconv.ParseInt(strings.TrimSuffix(string(answer), "\n"), 10, 64)
		if err != nil || latest < 0 {
			return nil, fmt.Errorf("ledgerhttp: witness %s: 409 without a size: %q", w.Name, answer)
		}
		return nil, &ledger.ConflictError{Latest: latest}
	case http.StatusUnprocessableEntity:
		return nil, fmt.Errorf("%w: witness %s: %s", ledger.ErrInconsistent, w.Name, strings.TrimSpace(string(answer)))
	case http.StatusForbidden:
		return nil, fmt.Errorf("%w: witness %s: %s", ErrWitnessRefused, w.Name, strings.TrimSpace(string(answer)))
	}
	return nil, fmt.Errorf("ledgerhttp: witness %s answered %s: %s", w.Name, resp.Status, strings.TrimSpace(string(answer)))
}
