package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
)

// AddCosignatures implements store.Store.
func (s *Store) AddCosignatures(ctx context.Context, size int64, lines []byte) error {
	return s.Update(ctx, func(ctx context.Context, t store.Tx) error {
		tx := t.(*txn).tx
		var note []byte
		err := tx.QueryRow(ctx, `SELECT note FROM ledger_checkpoints WHERE size = $1 FOR UPDATE`, size).Scan(&note)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: cosigning checkpoint %d: %w", size, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("postgres: cosigning checkpoint %d: %w", size, err)
		}
		fresh := store.FreshCosignatures(note, lines)
		if len(fresh) == 0 {
			return nil
		}
		note, err = ledger.AddCosignatures(note, fresh)
		if err != nil {
			return fmt.Errorf("postgres: cosigning checkpoint %d: %w", size, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE ledger_checkpoints SET note = $1 WHERE size = $2`, note, size); err != nil {
			return fmt.Errorf("postgres: cosigning checkpoint %d: %w", size, err)
		}
		return nil
	})
}

// WitnessedCheckpoint implements store.Store.
func (s *Store) WitnessedCheckpoint(ctx context.Context, origin string) ([]byte, error) {
	var note []byte
	err := s.pool.QueryRow(ctx, `SELECT note FROM witnessed_checkpoints WHERE origin = $1`, origin).Scan(&note)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: witnessed checkpoint of %q: %w", origin, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: reading the witnessed checkpoint of %q: %w", origin, err)
	}
	return note, nil
}

// SwapWitnessedCheckpoint implements store.Store. It runs under the write
// lock, so swaps of every process take turns, and commits synchronously
// whatever the server's synchronous_commit: a witness that forgets what it
// cosigned could be shown a rolled-back log.
func (s *Store) SwapWitnessedCheckpoint(ctx context.Context, origin string, old, next []byte) error {
	if len(next) == 0 {
		return fmt.Errorf("postgres: storing the witnessed checkpoint of %q: empty note", origin)
	}
	return s.Update(ctx, func(ctx context.Context, t store.Tx) error {
		tx := t.(*txn).tx
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = on`); err != nil {
			return fmt.Errorf("postgres: storing the witnessed checkpoint of %q: %w", origin, err)
		}
		var stored []byte
		err := tx.QueryRow(ctx, `SELECT note FROM witnessed_checkpoints WHERE origin = $1`, origin).Scan(&stored)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			stored = nil
		case err != nil:
			return fmt.Errorf("postgres: storing the witnessed checkpoint of %q: %w", origin, err)
		}
		if (stored == nil) != (old == nil) || !bytes.Equal(stored, old) {
			return fmt.Errorf("postgres: storing the witnessed checkpoint of %q: %w", origin, ledger.ErrStateChanged)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO witnessed_checkpoints (origin, note) VALUES ($1, $2)
			ON CONFLICT (origin) DO UPDATE SET note = excluded.note`, origin, next); err != nil {
			return fmt.Errorf("postgres: storing the witnessed checkpoint of %q: %w", origin, err)
		}
		return nil
	})
}

// SuspendLog implements store.Store.
func (s *Store) SuspendLog(ctx context.Context, sp store.Suspension) error {
	if sp.Origin == "" || sp.Reason == "" {
		return errors.New("postgres: suspending a log: origin and reason are required")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO suspended_logs (origin, since, reason, evidence, witnessed)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (origin) DO NOTHING`,
		sp.Origin, micros(sp.Since), sp.Reason, blob(sp.Evidence), blob(sp.Witnessed))
	if err != nil {
		return fmt.Errorf("postgres: suspending %q: %w", sp.Origin, err)
	}
	return nil
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
	rows, _ := s.pool.Query(ctx, `SELECT origin, since, reason, evidence, witnessed FROM suspended_logs ORDER BY origin`)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Suspension, error) {
		var (
			sp    store.Suspension
			since int64
		)
		err := row.Scan(&sp.Origin, &since, &sp.Reason, &sp.Evidence, &sp.Witnessed)
		sp.Since = fromMicros(since)
		return sp, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: listing suspended logs: %w", err)
	}
	return out, nil
}

// ResumeLog implements store.Store.
func (s *Store) ResumeLog(ctx context.Context, origin string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM suspended_logs WHERE origin = $1`, origin)
	if err != nil {
		return fmt.Errorf("postgres: resuming %q: %w", origin, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: resuming %q: the log is not suspended: %w", origin, store.ErrNotFound)
	}
	return nil
}
