package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/entente/entente/store"
)

// The federation's tables (migration 0006): cursors, links and alerts.
// Cursors and link health are single-statement upserts, which need not
// wait for the write lock; alerts are added under it, so that their ids
// commit in order.

// Cursor implements store.Store.
func (s *Store) Cursor(ctx context.Context, node, collection string) (time.Time, error) {
	var us int64
	err := s.pool.QueryRow(ctx, `SELECT added_after FROM cursors WHERE node = $1 AND collection = $2`, node, collection).Scan(&us)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("postgres: reading the cursor of %s/%s: %w", node, collection, err)
	}
	return fromOptMicros(us), nil
}

// SaveCursor implements store.Store. The upsert keeps a later stored time:
// a cursor never moves back, whichever process saves last.
func (s *Store) SaveCursor(ctx context.Context, node, collection string, addedAfter time.Time) error {
	if node == "" || collection == "" {
		return errors.New("postgres: saving a cursor: node and collection are required")
	}
	for _, v := range [][2]string{{"node", node}, {"collection", collection}} {
		if err := checkText(v[0], v[1]); err != nil {
			return fmt.Errorf("postgres: saving a cursor: %w", err)
		}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO cursors (node, collection, added_after, updated) VALUES ($1, $2, $3, $4)
		ON CONFLICT (node, collection) DO UPDATE SET added_after = excluded.added_after, updated = excluded.updated
		WHERE excluded.added_after > cursors.added_after`,
		node, collection, optMicros(addedAfter), micros(s.now()))
	if err != nil {
		return fmt.Errorf("postgres: saving the cursor of %s/%s: %w", node, collection, err)
	}
	return nil
}

// Cursors implements store.Store.
func (s *Store) Cursors(ctx context.Context) ([]store.Cursor, error) {
	rows, _ := s.pool.Query(ctx, `SELECT node, collection, added_after, updated FROM cursors ORDER BY node, collection`)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Cursor, error) {
		var (
			c              store.Cursor
			after, updated int64
		)
		err := row.Scan(&c.Node, &c.Collection, &after, &updated)
		c.AddedAfter, c.Updated = fromOptMicros(after), fromOptMicros(updated)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: listing cursors: %w", err)
	}
	return out, nil
}

// PutLinkHealth implements store.Store. Its free text (the last error,
// why the link is suspended) is stored as valid UTF-8 without NUL
// characters, which PostgreSQL's text cannot hold: a partner's error
// message must not keep the link's health from being recorded.
func (s *Store) PutLinkHealth(ctx context.Context, h store.LinkHealth) error {
	if h.Node == "" {
		return errors.New("postgres: recording a link's health: the node is required")
	}
	for _, v := range [][2]string{{"node", h.Node}, {"party", h.Party}, {"log", h.Log}, {"state", h.State}} {
		if err := checkText(v[0], v[1]); err != nil {
			return fmt.Errorf("postgres: recording a link's health: %w", err)
		}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO links (node, party, log, state, last_attempt, last_success,
			caught_up, behind, pending, stored, duplicates, refused, errors, last_error, suspended, updated)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT (node) DO UPDATE SET party = excluded.party, log = excluded.log, state = excluded.state,
			last_attempt = excluded.last_attempt, last_success = excluded.last_success, caught_up = excluded.caught_up,
			behind = excluded.behind, pending = excluded.pending, stored = excluded.stored, duplicates = excluded.duplicates,
			refused = excluded.refused, errors = excluded.errors, last_error = excluded.last_error,
			suspended = excluded.suspended, updated = excluded.updated`,
		h.Node, h.Party, h.Log, h.State, optMicros(h.LastAttempt), optMicros(h.LastSuccess), optMicros(h.CaughtUp),
		h.Behind, h.Pending, h.Stored, h.Duplicates, h.Refused, h.Errors, cleanText(h.LastError), cleanText(h.Suspended), optMicros(h.Updated))
	if err != nil {
		return fmt.Errorf("postgres: recording the health of the link to %s: %w", h.Node, err)
	}
	return nil
}

// LinkHealth implements store.Store.
func (s *Store) LinkHealth(ctx context.Context) ([]store.LinkHealth, error) {
	rows, _ := s.pool.Query(ctx, `SELECT node, party, log, state, last_attempt, last_success, caught_up, behind, pending,
		stored, duplicates, refused, errors, last_error, suspended, updated FROM links ORDER BY node`)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.LinkHealth, error) {
		var (
			h                                   store.LinkHealth
			attempt, success, caughtUp, updated int64
		)
		err := row.Scan(&h.Node, &h.Party, &h.Log, &h.State, &attempt, &success, &caughtUp, &h.Behind, &h.Pending,
			&h.Stored, &h.Duplicates, &h.Refused, &h.Errors, &h.LastError, &h.Suspended, &updated)
		h.LastAttempt, h.LastSuccess, h.CaughtUp, h.Updated = fromOptMicros(attempt), fromOptMicros(success), fromOptMicros(caughtUp), fromOptMicros(updated)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: listing links: %w", err)
	}
	return out, nil
}

// AddAlert implements store.Store. It runs under the write lock, so ids
// are drawn and committed in the same order and Alerts, paging by id,
// never finds a lower id appear behind its cursor. Its free text is
// stored as PutLinkHealth's is.
func (s *Store) AddAlert(ctx context.Context, a store.Alert) (int64, error) {
	if a.Kind == "" || a.Party == "" {
		return 0, errors.New("postgres: recording an alert: kind and party are required")
	}
	for _, v := range [][2]string{{"party", a.Party}, {"node", a.Node}, {"kind", a.Kind}} {
		if err := checkText(v[0], v[1]); err != nil {
			return 0, fmt.Errorf("postgres: recording an alert: %w", err)
		}
	}
	var id int64
	err := s.Update(ctx, func(ctx context.Context, t store.Tx) error {
		return t.(*txn).tx.QueryRow(ctx, `INSERT INTO alerts (time, party, node, kind, object, detail, entry)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			micros(a.Time), a.Party, a.Node, a.Kind, cleanText(a.Object), cleanText(a.Detail), a.Entry).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: recording an alert: %w", err)
	}
	return id, nil
}

// Alerts implements store.Store.
func (s *Store) Alerts(ctx context.Context, after int64, limit int) ([]store.Alert, error) {
	// As SQLite's LIMIT: a negative limit is none (LIMIT NULL).
	var lim *int
	if limit >= 0 {
		lim = &limit
	}
	rows, _ := s.pool.Query(ctx, `SELECT `+alertColumns+` FROM alerts
		WHERE id > $1 ORDER BY id LIMIT $2`, after, lim)
	out, err := pgx.CollectRows(rows, scanAlert)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing alerts: %w", err)
	}
	return out, nil
}

// alertColumns are the columns scanAlert reads, in its order.
const alertColumns = `id, time, party, node, kind, object, detail, entry`

// scanAlert reads one row of alertColumns.
func scanAlert(row pgx.CollectableRow) (store.Alert, error) {
	var (
		a  store.Alert
		at int64
	)
	err := row.Scan(&a.ID, &at, &a.Party, &a.Node, &a.Kind, &a.Object, &a.Detail, &a.Entry)
	a.Time = fromMicros(at)
	return a, err
}

// checkText refuses a value PostgreSQL's text cannot hold (invalid UTF-8,
// NUL characters), before it fails a statement with a less clear error.
func checkText(what, v string) error {
	if strings.IndexByte(v, 0) >= 0 || !utf8.ValidString(v) {
		return fmt.Errorf("%s %q: want UTF-8 text without NUL characters", what, v)
	}
	return nil
}

// cleanText makes free text storable as PostgreSQL text: invalid UTF-8
// and NUL characters become U+FFFD.
func cleanText(v string) string {
	if strings.IndexByte(v, 0) < 0 && utf8.ValidString(v) {
		return v
	}
	return strings.ReplaceAll(strings.ToValidUTF8(v, "\uFFFD"), "\x00", "\uFFFD")
}

// optMicros is micros, with 0 for the zero time.
func optMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// fromOptMicros is the inverse of optMicros.
func fromOptMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}
