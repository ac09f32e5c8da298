package sqlite

import (
	"context"
	"fmt"

	"github.com/entente/entente/store"
)

// Accounts lists accounts by name after after, at most limit of them.
// The name is the table's primary key: the read is one range scan of its
// index.
func (s *Store) Accounts(ctx context.Context, after string, limit int) ([]store.Account, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlite: listing accounts: limit %d must be positive", limit)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name > ? ORDER BY name LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing accounts: %w", err)
	}
	defer rows.Close()
	var out []store.Account
	for rows.Next() {
		var (
			a       store.Account
			role    string
			created int64
		)
		if err := rows.Scan(&a.Name, &role, &a.TokenHash, &created); err != nil {
			return nil, fmt.Errorf("sqlite: listing accounts: %w", err)
		}
		a.Role, a.Created = store.Role(role), fromMicros(created)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: listing accounts: %w", err)
	}
	return out, nil
}
