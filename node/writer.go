package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
)

// Group commit bounds: one transaction takes the envelopes waiting when it
// starts, up to these totals (and always at least one), so that no
// transaction holds the write lock for long.
const (
	maxBatchEnvelopes = 64
	maxBatchObjects   = 20_000
)

// A writer sequences the node's writes. Requests queue their envelope;
// one goroutine at a time takes everything queued, writes it in one store
// transaction (store.Store.Update) and then tells each request its outcome.
// Envelopes that arrive during a transaction wait for the next one, so
// under load many share a commit, and SQLite's single writer is never
// contended within the process.
//
// Each envelope's objects, status and ledger entries (one per object
// version it stored) commit together, and its outcome is delivered only
// after that commit. The store reads the log's size inside the
// transaction, so this writer, the one that holds it, sequences the log:
// nothing about the log is kept in memory across transactions, and a
// failed or interrupted commit leaves no trace to fork from.
type writer struct {
	store store.Store
	log   *slog.Logger
	// rand draws the entries' salts (crypto/rand.Reader).
	rand io.Reader
	// noLedger leaves the ledger out; only benchmarks set it, to measure
	// what the ledger costs.
	noLedger bool
	// grew is signalled after each commit that appended to the ledger.
	grew chan struct{}

	mu      sync.Mutex
	queue   []*write
	running bool // a goroutine is draining the queue
}

// A write is one envelope's share of a transaction.
type write struct {
	collection string
	puts       []store.Put
	// status makes the envelope's status from the store's outcomes, one
	// per element of puts; it runs inside the transaction.
	status func([]store.AddOutcome) store.Status
	// at is when the node received the envelope: its entries' time.
	at time.Time
	// from is the partner party that sent the envelope, "" when it was
	// posted by one of the node's own accounts (its entries then record
	// the objects as originated).
	from string
	// fromNode is the partner node that sent it, with from.
	fromNode string
	// noStatus leaves the status out: objects pulled from a partner
	// answer no TAXII request.
	noStatus bool
	// early holds, for each put, its ledger record made before the
	// transaction (prepare), valid if the store gives the version it
	// assumed; nil when not prepared.
	early []earlyRecord
	// transitions holds, for some puts (by index), a case step's ledger
	// transition (casework.Record), appended in the same transaction
	// when that put is stored anew.
	transitions map[int]ledger.Transition
	// fired are scheduler alarms recorded as fired with the envelope.
	fired []store.FiredAlarm

	done     chan struct{} // closed once result and err are final
	result   store.Status
	outcomes []store.AddOutcome // the store's, one per put
	err      error
	taken    bool // in a transaction already; guarded by writer.mu
	canceled bool // the request left before its turn; guarded by writer.mu
}

// do queues w and waits until it is committed or has failed. A request
// whose context ends while it still waits is dropped from the queue; one
// whose transaction has begun waits for its outcome, since its objects may
// be committed.
func (wr *writer) do(ctx context.Context, w *write) error {
	w.done = make(chan struct{})
	wr.mu.Lock()
	wr.queue = append(wr.queue, w)
	if !wr.running {
		wr.running = true
		// The transaction outlives any one request that joins it.
		go wr.drain(context.WithoutCancel(ctx))
	}
	wr.mu.Unlock()

	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
	}
	wr.mu.Lock()
	taken := w.taken
	w.canceled = !taken
	wr.mu.Unlock()
	if !taken {
		return ctx.Err()
	}
	<-w.done
	return w.err
}

// drain commits batches until the queue is empty.
func (wr *writer) drain(ctx context.Context) {
	for {
		batch := wr.take()
		if len(batch) == 0 {
			return
		}
		wr.commit(ctx, batch)
	}
}

// take removes the next batch from the queue, or stops the drain when the
// queue is empty.
func (wr *writer) take() []*write {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	var (
		batch   []*write
		objects int
		i       int
	)
	for i = 0; i < len(wr.queue); i++ {
		w := wr.queue[i]
		if w.canceled {
			continue
		}
		if len(batch) > 0 && (len(batch) == maxBatchEnvelopes || objects+len(w.puts) > maxBatchObjects) {
			break
		}
		w.taken = true
		batch = append(batch, w)
		objects += len(w.puts)
	}
	wr.queue = wr.queue[i:]
	if len(wr.queue) == 0 {
		wr.queue = nil // let the backing array go
	}
	if len(batch) == 0 {
		wr.running = false
	}
	return batch
}

// commit writes batch in one transaction. If it fails, each envelope is
// tried again alone, so that one envelope's failure is not its
// neighbours'.
func (wr *writer) commit(ctx context.Context, batch []*write) {
	appended := false
	err := wr.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var recs []store.LedgerRecord
		for _, w := range batch {
			var out []store.AddOutcome
			if len(w.puts) > 0 {
				var err error
				if out, err = tx.AddObjects(ctx, w.collection, w.puts); err != nil {
					return err
				}
				if len(out) != len(w.puts) {
					return errOutcomes
				}
				if !wr.noLedger {
					if recs, err = w.records(recs, out, wr.rand); err != nil {
						return err
					}
				}
			}
			if len(w.fired) > 0 {
				if err := tx.MarkFired(ctx, w.fired); err != nil {
					return err
				}
			}
			w.outcomes = out
			w.result = w.status(out)
			if w.noStatus {
				continue
			}
			if err := tx.PutStatus(ctx, w.result); err != nil {
				return err
			}
		}
		if len(recs) == 0 {
			return nil
		}
		appended = true
		_, err := tx.AppendLedger(ctx, recs)
		return err
	})
	if err != nil && len(batch) > 1 {
		wr.log.WarnContext(ctx, "a group commit failed; writing its envelopes one by one",
			slog.Int("envelopes", len(batch)), slog.Any("error", err))
		for _, w := range batch {
			wr.commit(ctx, []*write{w})
		}
		return
	}
	if err == nil && appended && wr.grew != nil {
		select {
		case wr.grew <- struct{}{}:
		default: // a checkpoint is due already
		}
	}
	for _, w := range batch {
		w.err = err
		close(w.done)
	}
}

// An earlyRecord is an object's ledger record made before its
// transaction, for the version the object states.
type earlyRecord struct {
	version string
	rec     store.LedgerRecord
}

// prepare makes the ledger records of w's puts before the transaction, on
// the caller's goroutine, so that the one writer only stores them: the
// entry of a versioned object does not depend on the store, except for
// whether it is new and for its seq, which records fills in.
func (w *write) prepare(rand io.Reader) error {
	w.early = make([]earlyRecord, len(w.puts))
	salts := make([]byte, len(w.puts)*len(ledger.Salt{}))
	if _, err := io.ReadFull(rand, salts); err != nil {
		return fmt.Errorf("node: drawing ledger salts: %w", err)
	}
	for i, p := range w.puts {
		v := p.Object.Version()
		if v == "" {
			continue // an unversioned object's version is its date_added
		}
		r, err := w.record(p, v, nil)
		if err != nil {
			return err
		}
		copy(r.Salt[:], salts[i*len(r.Salt):])
		w.early[i] = earlyRecord{version: v, rec: r}
	}
	return nil
}

// record makes the ledger record of one stored version; rand draws its
// salt, unless nil (the caller sets it).
func (w *write) record(p store.Put, version string, rand io.Reader) (store.LedgerRecord, error) {
	ref := ledger.ObjectRef{ID: p.Object.ID, Version: version, Digest: ledger.Digest(p.Hash)}
	e := ledger.Entry{Time: w.at, Event: ledger.Originated{Object: ref}}
	var concerns []string
	if w.from != "" {
		e.Event = ledger.Received{From: w.from, Node: w.fromNode, Object: ref}
		concerns = []string{w.from}
	}
	enc, err := e.Encode()
	if err != nil {
		return store.LedgerRecord{}, fmt.Errorf("node: the ledger entry of %s: %w", ref.ID, err)
	}
	// The store computes the commitment from the salt and the encoding
	// (the zero Commitment asks it to).
	r := store.LedgerRecord{Entry: enc, Concerns: concerns}
	if rand != nil {
		if _, err := io.ReadFull(rand, r.Salt[:]); err != nil {
			return store.LedgerRecord{}, fmt.Errorf("node: drawing a ledger salt: %w", err)
		}
	}
	return r, nil
}

// records appends to recs one ledger entry for each object version the
// envelope stored anew (outcomes, one per put): received from w.from, or
// originated. Duplicates and failures record nothing.
func (w *write) records(recs []store.LedgerRecord, outcomes []store.AddOutcome, rand io.Reader) ([]store.LedgerRecord, error) {
	for i, out := range outcomes {
		if out.Err != nil || out.Duplicate {
			continue
		}
		if w.early != nil && w.early[i].version == out.Version && out.Version != "" {
			r := w.early[i].rec
			r.Object = out.Seq
			recs = append(recs, r)
			continue
		}
		r, err := w.record(w.puts[i], out.Version, rand)
		if err != nil {
			return nil, err
		}
		r.Object = out.Seq
		recs = append(recs, r)
	}
	for i, out := range outcomes {
		tr, ok := w.transitions[i]
		if !ok || out.Err != nil || out.Duplicate {
			continue
		}
		r, err := transitionRecord(tr, w.at, rand)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// transitionRecord is the ledger record of a transition made at.
func transitionRecord(tr ledger.Transition, at time.Time, rand io.Reader) (store.LedgerRecord, error) {
	e := ledger.Entry{Time: at, Event: tr}
	enc, err := e.Encode()
	if err != nil {
		return store.LedgerRecord{}, fmt.Errorf("node: encoding the ledger entry of %s: %w", tr.Case, err)
	}
	r := store.LedgerRecord{Entry: enc}
	if tr.Party != "" {
		r.Concerns = []string{tr.Party}
	}
	if _, err := io.ReadFull(rand, r.Salt[:]); err != nil {
		return store.LedgerRecord{}, fmt.Errorf("node: drawing a ledger salt: %w", err)
	}
	return r, nil
}

var errOutcomes = errors.New("node: the store reported a different number of outcomes than objects")
