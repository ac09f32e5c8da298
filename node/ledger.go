package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
)

// DefaultCheckpointInterval is the least time between two checkpoints
// when Config.CheckpointInterval is zero.
const DefaultCheckpointInterval = time.Second

// finalCheckpointTimeout bounds the checkpoint Run signs as it stops.
const finalCheckpointTimeout = 10 * time.Second

// DefaultLogName is the log name (the checkpoints' origin line) of a node
// whose agreement names none: the node key's name followed by "/ledger".
// Partners find the key's name in the agreement, so the origin is still
// one they can tell from every other log's.
func DefaultLogName(k *Key) string { return k.Name + "/ledger" }

// LogName is the origin line of the node's checkpoints; "" when the node
// has no key.
func (n *Node) LogName() string { return n.logName }

// signCheckpoints signs a checkpoint when the log grew, at most one per
// interval, until ctx is done; then it signs a last one for what was
// committed until then.
//
// On a store that several processes share (a store.Elector), only the
// process elected for the role signs: the others wait to be elected, which
// happens when the signer stops or dies. The signer then looks for growth
// every interval, since other processes' writes do not reach its writer.
func (n *Node) signCheckpoints(ctx context.Context) {
	if n.key == nil {
		return
	}
	el, ok := n.store.(store.Elector)
	if !ok {
		n.signWhile(ctx, ctx, n.writer.grew)
		return
	}
	always := make(chan struct{})
	close(always)
	for ctx.Err() == nil {
		held, release, err := el.Lead(ctx, checkpointRole)
		if err != nil {
			if ctx.Err() == nil {
				n.log.ErrorContext(ctx, "electing the ledger's checkpoint signer", slog.Any("error", err))
				select {
				case <-ctx.Done():
				case <-time.After(n.checkpointInterval):
				}
			}
			continue
		}
		n.log.InfoContext(ctx, "elected: this process signs the ledger's checkpoints")
		n.signWhile(ctx, held, always)
		release()
		if ctx.Err() == nil {
			n.log.WarnContext(ctx, "no longer the ledger's checkpoint signer; waiting to be elected again")
		}
	}
}

// checkpointRole is the role elected among a node's processes to sign
// its checkpoints.
const checkpointRole = "checkpoint signer"

// signWhile signs checkpoints until held is done, waiting the interval and
// then for grew between two. If ctx (of which held is a part) is done too,
// it signs a last checkpoint: the node stops, rather than losing the role.
func (n *Node) signWhile(ctx, held context.Context, grew <-chan struct{}) {
	// The log may have grown since the last checkpoint (a crash, or
	// another process): look once at start.
	for {
		if _, _, err := n.Checkpoint(held); err != nil && held.Err() == nil {
			n.log.ErrorContext(ctx, "signing a ledger checkpoint", slog.Any("error", err))
		}
		// The interval passes before the next checkpoint, whatever the load.
		select {
		case <-held.Done():
		case <-time.After(n.checkpointInterval):
		}
		select {
		case <-held.Done():
			if ctx.Err() == nil {
				return
			}
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalCheckpointTimeout)
			defer cancel()
			if _, _, err := n.Checkpoint(fctx); err != nil {
				n.log.ErrorContext(fctx, "signing the last ledger checkpoint", slog.Any("error", err))
			}
			return
		case <-grew:
		}
	}
}

// Checkpoint signs and stores a checkpoint of the ledger as committed, if
// it grew since the latest checkpoint; signed says whether it did. It
// first checks that the log is consistent with the latest checkpoint: a
// log that is not (its database was altered or rolled back) is never
// signed, since signing it would fork the log.
func (n *Node) Checkpoint(ctx context.Context) (c store.StoredCheckpoint, signed bool, err error) {
	if n.key == nil {
		return c, false, errors.New("node: no key to sign checkpoints with")
	}
	n.checkpointMu.Lock()
	defer n.checkpointMu.Unlock()
	size, err := n.store.LedgerSize(ctx)
	if err != nil {
		return c, false, fmt.Errorf("node: signing a checkpoint: %w", err)
	}
	latest, err := n.store.LatestCheckpoint(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return c, false, fmt.Errorf("node: signing a checkpoint: %w", err)
	case size < latest.Size:
		return c, false, fmt.Errorf("node: the ledger holds %d entries but checkpoint %d is signed: the database was rolled back or altered; run entente ledger verify", size, latest.Size)
	}
	if size == 0 || size == latest.Size {
		return latest, false, nil
	}
	r := HashReader(ctx, n.store)
	root, err := tlog.TreeHash(size, r)
	if err != nil {
		return c, false, fmt.Errorf("node: signing a checkpoint: %w", err)
	}
	tree := tlog.Tree{N: size, Hash: root}
	if latest.Note != nil {
		old, err := CheckpointOf(latest.Note)
		if err != nil {
			return c, false, fmt.Errorf("node: the latest checkpoint (%d): %w", latest.Size, err)
		}
		proof, err := ledger.ProveConsistency(size, old.N, r)
		if err == nil {
			err = ledger.CheckConsistency(proof, tree, old.Tree)
		}
		if err != nil {
			return c, false, fmt.Errorf("node: the ledger is not consistent with checkpoint %d: %w; the database was altered; run entente ledger verify", old.N, err)
		}
	}
	note, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: n.logName, Tree: tree}, n.key.Signer)
	if err != nil {
		return c, false, fmt.Errorf("node: signing a checkpoint: %w", err)
	}
	c = store.StoredCheckpoint{Size: size, Note: note, Signed: n.now().UTC()}
	if err := n.store.PutCheckpoint(ctx, c); err != nil {
		return store.StoredCheckpoint{}, false, fmt.Errorf("node: storing checkpoint %d: %w", size, err)
	}
	n.log.DebugContext(ctx, "signed a ledger checkpoint", slog.Int64("size", size))
	return c, true, nil
}

// HashReader reads the ledger's stored hashes from st.
func HashReader(ctx context.Context, st store.Store) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) { return st.ReadLedgerHashes(ctx, idx) })
}

// CheckpointOf parses the checkpoint of a signed note without checking
// its signatures (the caller stored it, or checks them apart).
func CheckpointOf(signed []byte) (ledger.Checkpoint, error) {
	i := bytes.Index(signed, []byte("\n\n"))
	if i < 0 {
		return ledger.Checkpoint{}, fmt.Errorf("%w: no signature block", ledger.ErrMalformedCheckpoint)
	}
	return ledger.ParseCheckpoint(string(signed[:i+1]))
}
