package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/entente/entente/taxii"
)

// maxPush bounds one pushed envelope.
const maxPush = 1000

// Enqueue queues items to push into the partner's inbox. Run pushes them,
// retrying with backoff until the partner has stored them or Run stops;
// what is still queued then reaches the partner by its own pull.
func (l *Link) Enqueue(items ...Incoming) {
	if len(items) == 0 {
		return
	}
	l.mu.Lock()
	l.queue = append(l.queue, items...)
	l.mu.Unlock()
	select {
	case l.pushes <- struct{}{}:
	default:
	}
}

// Queued returns how many items wait to be pushed.
func (l *Link) Queued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}

// runPushes pushes queued items until ctx ends.
func (l *Link) runPushes(ctx context.Context) {
	failures := 0
	for {
		l.mu.Lock()
		batch := l.queue[:min(len(l.queue), maxPush)]
		l.mu.Unlock()
		wait := time.Duration(-1)
		if len(batch) > 0 {
			err := l.Push(ctx, batch)
			if errors.Is(err, ErrNoInbox) {
				// Nothing to retry into: the partner's pull fetches them.
				l.log.InfoContext(ctx, "federation: the partner has no inbox for this node; it will pull what was to be pushed",
					slog.Int("items", len(batch)))
				err = nil
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				failures++
				wait = l.backoff(failures, err)
				l.log.WarnContext(ctx, "federation: push failed; retrying",
					slog.Int("items", len(batch)), slog.Duration("wait", wait), slog.Any("error", err))
			} else {
				failures = 0
				l.mu.Lock()
				l.queue = slices.Delete(l.queue, 0, len(batch))
				if len(l.queue) == 0 {
					l.queue = nil
				}
				more := len(l.queue) > 0
				l.mu.Unlock()
				if more {
					continue
				}
			}
		}
		var (
			t     *time.Timer
			timer <-chan time.Time // nil: wait for Enqueue only
		)
		if wait >= 0 {
			t = time.NewTimer(wait)
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-l.pushes:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// Push posts items into the partner's inbox, the collection it lets this
// node write into. It fails when the post does not reach the partner, or
// leaves items pending, so that they are pushed again; items the partner
// refused are logged, not retried. It fails with ErrNoInbox when the
// partner shares no inbox.
func (l *Link) Push(ctx context.Context, items []Incoming) error {
	root, err := l.apiRoot(ctx)
	if err != nil {
		return err
	}
	inbox, err := l.inbox(ctx, root)
	if err != nil {
		return err
	}
	env := &taxii.Envelope{Objects: make([]json.RawMessage, len(items)), Provenance: make([]json.RawMessage, len(items))}
	for i, it := range items {
		env.Objects[i], env.Provenance[i] = it.Object, it.Provenance
	}
	st, err := l.cfg.Client.AddEnvelope(ctx, root, inbox, env)
	if err != nil {
		return fmt.Errorf("federation: pushing %d objects to %s: %w", len(items), l.cfg.Peer.Node, err)
	}
	if st.PendingCount > 0 {
		return fmt.Errorf("federation: %s has %d of %d pushed objects pending", l.cfg.Peer.Node, st.PendingCount, st.TotalCount)
	}
	if st.FailureCount > 0 {
		// The partner refused them: sending them again would not help.
		var why []string
		for _, f := range st.Failures {
			why = append(why, f.ID+": "+f.Message)
		}
		l.log.WarnContext(ctx, "federation: the partner refused pushed objects",
			slog.Int("refused", st.FailureCount), slog.Int("pushed", st.TotalCount), slog.String("why", strings.Join(why, "; ")))
	}
	l.log.InfoContext(ctx, "federation: pushed", slog.Int("objects", len(items)), slog.String("inbox", inbox))
	return nil
}

// inbox finds the collection the partner lets this node write into,
// preferring one aliased "inbox".
func (l *Link) inbox(ctx context.Context, root string) (string, error) {
	cs, err := l.cfg.Client.Collections(ctx, root)
	if err != nil {
		return "", fmt.Errorf("federation: listing %s's collections: %w", l.cfg.Peer.Node, err)
	}
	var found *taxii.Collection
	for i, c := range cs {
		if c.CanWrite && (found == nil || c.Alias == "inbox") {
			found = &cs[i]
		}
	}
	if found == nil {
		return "", fmt.Errorf("%w: %s", ErrNoInbox, l.cfg.Peer.Node)
	}
	return found.ID, nil
}
