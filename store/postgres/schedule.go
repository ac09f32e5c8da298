package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/entente/entente/store"
)

// FiredAlarms implements store.Store.
func (s *Store) FiredAlarms(ctx context.Context) ([]store.FiredAlarm, error) {
	rows, _ := s.pool.Query(ctx, `SELECT key, case_id, due, fired FROM fired_alarms ORDER BY fired, key`)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.FiredAlarm, error) {
		var (
			a          store.FiredAlarm
			due, fired int64
		)
		err := row.Scan(&a.Key, &a.Case, &due, &fired)
		a.Due, a.Fired = fromMicros(due), fromMicros(fired)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reading fired alarms: %w", err)
	}
	return out, nil
}

// MarkFired implements store.AlarmTx, in one statement, or fails with
// store.ErrExists and records none (see insertOrExists).
func (t *txn) MarkFired(ctx context.Context, alarms []store.FiredAlarm) error {
	if len(alarms) == 0 {
		return nil
	}
	keys, cases := make([]string, len(alarms)), make([]string, len(alarms))
	due, fired := make([]int64, len(alarms)), make([]int64, len(alarms))
	for i, a := range alarms {
		if a.Key == "" {
			return fmt.Errorf("postgres: recording a fired alarm: the key is empty")
		}
		for _, v := range [][2]string{{"key", a.Key}, {"case", a.Case}} {
			if err := checkText(v[0], v[1]); err != nil {
				return fmt.Errorf("postgres: recording a fired alarm: %w", err)
			}
		}
		keys[i], cases[i], due[i], fired[i] = a.Key, a.Case, micros(a.Due), micros(a.Fired)
	}
	exists, err := t.insertOrExists(ctx, `INSERT INTO fired_alarms (key, case_id, due, fired)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])`, keys, cases, due, fired)
	if exists {
		return fmt.Errorf("postgres: an alarm is recorded as fired already: %w", store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("postgres: recording %d fired alarms: %w", len(alarms), err)
	}
	return nil
}
