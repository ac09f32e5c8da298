package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/entente/entente/store"
)

// FiredAlarms implements store.Store.
func (s *Store) FiredAlarms(ctx context.Context) ([]store.FiredAlarm, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT key, case_id, due, fired FROM fired_alarms ORDER BY fired, key`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading fired alarms: %w", err)
	}
	defer rows.Close()
	var out []store.FiredAlarm
	for rows.Next() {
		var (
			a          store.FiredAlarm
			due, fired int64
		)
		if err := rows.Scan(&a.Key, &a.Case, &due, &fired); err != nil {
			return nil, fmt.Errorf("sqlite: reading fired alarms: %w", err)
		}
		a.Due, a.Fired = fromMicros(due), fromMicros(fired)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading fired alarms: %w", err)
	}
	return out, nil
}

// MarkFired implements store.AlarmTx, in one statement.
func (t *txn) MarkFired(ctx context.Context, alarms []store.FiredAlarm) error {
	if len(alarms) == 0 {
		return nil
	}
	rows := make([][]any, len(alarms))
	for i, a := range alarms {
		if a.Key == "" {
			return fmt.Errorf("sqlite: recording a fired alarm: the key is empty")
		}
		rows[i] = []any{a.Key, a.Case, micros(a.Due), micros(a.Fired)}
	}
	set, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("sqlite: recording fired alarms: %w", err)
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO fired_alarms (key, case_id, due, fired)
		SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)`, string(set))
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: an alarm is recorded as fired already: %w", store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite: recording %d fired alarms: %w", len(alarms), err)
	}
	return nil
}
