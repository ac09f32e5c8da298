package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/entente/entente/store"
)

// Cursor implements store.Store.
func (s *Store) Cursor(ctx context.Context, node, collection string) (time.Time, error) {
	var us int64
	err := s.r.QueryRowContext(ctx, `SELECT added_after FROM cursors WHERE node = ? AND collection = ?`, node, collection).Scan(&us)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: reading the cursor of %s/%s: %w", node, collection, err)
	}
	return fromOptMicros(us), nil
}

// SaveCursor implements store.Store.
func (s *Store) SaveCursor(ctx context.Context, node, collection string, addedAfter time.Time) error {
	if node == "" || collection == "" {
		return errors.New("sqlite: saving a cursor: node and collection are required")
	}
	return s.Update(ctx, func(ctx context.Context, t store.Tx) error {
		_, err := t.(*txn).tx.ExecContext(ctx, `INSERT INTO cursors (node, collection, added_after, updated) VALUES (?, ?, ?, ?)
			ON CONFLICT (node, collection) DO UPDATE SET added_after = excluded.added_after, updated = excluded.updated
			WHERE excluded.added_after > cursors.added_after`,
			node, collection, optMicros(addedAfter), micros(s.now()))
		if err != nil {
			return fmt.Errorf("sqlite: saving the cursor of %s/%s: %w", node, collection, err)
		}
		return nil
	})
}

// Cursors implements store.Store.
func (s *Store) Cursors(ctx context.Context) ([]store.Cursor, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT node, collection, added_after, updated FROM cursors ORDER BY node, collection`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing cursors: %w", err)
	}
	defer rows.Close()
	var out []store.Cursor
	for rows.Next() {
		var (
			c              store.Cursor
			after, updated int64
		)
		if err := rows.Scan(&c.Node, &c.Collection, &after, &updated); err != nil {
			return nil, fmt.Errorf("sqlite: listing cursors: %w", err)
		}
		c.AddedAfter, c.Updated = fromOptMicros(after), fromOptMicros(updated)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: listing cursors: %w", err)
	}
	return out, nil
}

// PutLinkHealth implements store.Store.
func (s *Store) PutLinkHealth(ctx context.Context, h store.LinkHealth) error {
	if h.Node == "" {
		return errors.New("sqlite: recording a link's health: the node is required")
	}
	return s.Update(ctx, func(ctx context.Context, t store.Tx) error {
		_, err := t.(*txn).tx.ExecContext(ctx, `INSERT OR REPLACE INTO links (node, party, log, state, last_attempt, last_success,
			caught_up, behind, pending, stored, duplicates, refused, errors, last_error, suspended, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			h.Node, h.Party, h.Log, h.State, optMicros(h.LastAttempt), optMicros(h.LastSuccess), optMicros(h.CaughtUp),
			h.Behind, h.Pending, h.Stored, h.Duplicates, h.Refused, h.Errors, h.LastError, h.Suspended, optMicros(h.Updated))
		if err != nil {
			return fmt.Errorf("sqlite: recording the health of the link to %s: %w", h.Node, err)
		}
		return nil
	})
}

// LinkHealth implements store.Store.
func (s *Store) LinkHealth(ctx context.Context) ([]store.LinkHealth, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT node, party, log, state, last_attempt, last_success, caught_up, behind, pending,
		stored, duplicates, refused, errors, last_error, suspended, updated FROM links ORDER BY node`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing links: %w", err)
	}
	defer rows.Close()
	var out []store.LinkHealth
	for rows.Next() {
		var (
			h                                   store.LinkHealth
			attempt, success, caughtUp, updated int64
		)
		if err := rows.Scan(&h.Node, &h.Party, &h.Log, &h.State, &attempt, &success, &caughtUp, &h.Behind, &h.Pending,
			&h.Stored, &h.Duplicates, &h.Refused, &h.Errors, &h.LastError, &h.Suspended, &updated); err != nil {
			return nil, fmt.Errorf("sqlite: listing links: %w", err)
		}
		h.LastAttempt, h.LastSuccess, h.CaughtUp, h.Updated = fromOptMicros(attempt), fromOptMicros(success), fromOptMicros(caughtUp), fromOptMicros(updated)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: listing links: %w", err)
	}
	return out, nil
}

// AddAlert implements store.Store.
func (s *Store) AddAlert(ctx context.Context, a store.Alert) (int64, error) {
	if a.Kind == "" || a.Party == "" {
		return 0, errors.New("sqlite: recording an alert: kind and party are required")
	}
	var id int64
	err := s.Update(ctx, func(ctx context.Context, t store.Tx) error {
		return t.(*txn).tx.QueryRowContext(ctx, `INSERT INTO alerts (time, party, node, kind, object, detail, entry)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			micros(a.Time), a.Party, a.Node, a.Kind, a.Object, a.Detail, a.Entry).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: recording an alert: %w", err)
	}
	return id, nil
}

// Alerts implements store.Store.
func (s *Store) Alerts(ctx context.Context, after int64, limit int) ([]store.Alert, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts
		WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing alerts: %w", err)
	}
	return scanAlerts(rows, "listing alerts")
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

// alertColumns are the columns scanAlerts reads, in its order.
const alertColumns = `id, time, party, node, kind, object, detail, entry`

// scanAlerts reads the rows of alertColumns and closes them; what names
// the read in errors.
func scanAlerts(rows *sql.Rows, what string) ([]store.Alert, error) {
	defer rows.Close()
	var out []store.Alert
	for rows.Next() {
		var (
			a  store.Alert
			at int64
		)
		if err := rows.Scan(&a.ID, &at, &a.Party, &a.Node, &a.Kind, &a.Object, &a.Detail, &a.Entry); err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", what, err)
		}
		a.Time = fromMicros(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return out, nil
}
