package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
)

// AddCosignatures implements store.Store.
func (s *Store) AddCosignatures(ctx context.Context, size int64, lines []byte) error {
	return s.Update(ctx, func(ctx context.Context, t store.Tx) error {
		tx := t.(*txn).tx
		var note []byte
		err := tx.QueryRowContext(ctx, `SELECT note FROM ledger_checkpoints WHERE size = ?`, size).Scan(&note)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: cosigning checkpoint %d: %w", size, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: cosigning checkpoint %d: %w", size, err)
		}
		fresh := store.FreshCosignatures(note, lines)
		if len(fresh) == 0 {
			return nil
		}
		note, err = ledger.AddCosignatures(note, fresh)
		if err != nil {
			return fmt.Errorf("sqlite: cosigning checkpoint %d: %w", size, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ledger_checkpoints SET note = ? WHERE size = ?`, note, size); err != nil {
			return fmt.Errorf("sqlite: cosigning checkpoint %d: %w", size, err)
		}
		return nil
	})
}

// WitnessedCheckpoint implements store.Store.
func (s *Store) WitnessedCheckpoint(ctx context.Context, origin string) ([]byte, error) {
	var note []byte
	err := s.r.QueryRowContext(ctx, `SELECT note FROM witnessed_checkpoints WHERE origin = ?`, origin).Scan(&note)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: witnessed checkpoint of %q: %w", origin, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading the witnessed checkpoint of %q: %w", origin, err)
	}
	return note, nil
}

// SwapWitnessedCheckpoint implements store.Store. The write is synced
// before it returns (synchronous FULL for this one transaction): the
// store otherwise trades the last commits of a power loss for speed, and a
// witness that forgets what it cosigned could be shown a rolled-back log.
func (s *Store) SwapWitnessedCheckpoint(ctx context.Context, origin string, old, next []byte) error {
	if len(next) == 0 {
		return fmt.Errorf("sqlite: storing the witnessed checkpoint of %q: empty note", origin)
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: storing the witnessed checkpoint of %q: %w", origin, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err != nil {
		return fmt.Errorf("sqlite: storing the witnessed checkpoint of %q: %w", origin, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = NORMAL`)

	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: storing the witnessed checkpoint of %q: %w", origin, err)
	}
	defer tx.Rollback()
	var stored []byte
	err = tx.QueryRowContext(ctx, `SELECT note FROM witnessed_checkpoints WHERE origin = ?`, origin).Scan(&stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		stored = nil
	case err != nil:
		return fmt.Errorf("sqlite: storing the witnessed checkpoint of %q: %w", origin, err)
	}
	if (stored == nil) != (old == nil) || !bytes.Equal(stored, old) {
		return fmt.Errorf("sqlite: storing the witnessed checkpoint of %q: %w", origin, ledger.ErrStateChanged)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO witnessed_checkpoints (origin, note) VALUES (?, ?)
		ON CONFLICT (origin) DO UPDATE SET note = excluded.note`, origin, next); err != nil {
		return fmt.Errorf("sqlite: storing the witnessed checkpoint of %q: %w", origin, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: storing the witnessed checkpoint of %q: %w", origin, err)
	}
	return nil
}

// SuspendLog implements store.Store.
func (s *Store) SuspendLog(ctx context.Context, sp store.Suspension) error {
	if sp.Origin == "" || sp.Reason == "" {
		return errors.New("sqlite: suspending a log: origin and reason are required")
	}
	return s.Update(ctx, func(ctx context.Context, t store.Tx) error {
		_, err := t.(*txn).tx.ExecContext(ctx, `INSERT INTO suspended_logs (origin, since, reason, evidence, witnessed)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO NOTHING`,
			sp.Origin, micros(sp.Since), sp.Reason, blob(sp.Evidence), blob(sp.Witnessed))
		if err != nil {
			return fmt.Errorf("sqlite: suspending %q: %w", sp.Origin, err)
		}
		return nil
	})
}

// blob keeps a nil slice from being stored as NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Suspensions implements store.Store.
func (s *Store) Suspensions(ctx context.Context) ([]store.Suspension, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT origin, since, reason, evidence, witnessed FROM suspended_logs ORDER BY origin`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing suspended logs: %w", err)
	}
	defer rows.Close()
	var out []store.Suspension
	for rows.Next() {
		var (
			sp    store.Suspension
			since int64
		)
		if err := rows.Scan(&sp.Origin, &since, &sp.Reason, &sp.Evidence, &sp.Witnessed); err != nil {
			return nil, fmt.Errorf("sqlite: listing suspended logs: %w", err)
		}
		sp.Since = fromMicros(since)
		out = append(out, sp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: listing suspended logs: %w", err)
	}
	return out, nil
}

// ResumeLog implements store.Store.
func (s *Store) ResumeLog(ctx context.Context, origin string) error {
	return s.Update(ctx, func(ctx context.Context, t store.Tx) error {
		res, err := t.(*txn).tx.ExecContext(ctx, `DELETE FROM suspended_logs WHERE origin = ?`, origin)
		if err != nil {
			return fmt.Errorf("sqlite: resuming %q: %w", origin, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("sqlite: resuming %q: the log is not suspended: %w", origin, store.ErrNotFound)
		}
		return nil
	})
}
