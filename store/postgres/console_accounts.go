package postgres

import (
	"context"
	"fmt"

	"github.com/entente/entente/store"
)

// Accounts lists accounts by name after after, at most limit of them.
// Names compare byte by byte (COLLATE "C"), as SQLite compares them,
// whatever the database's locale; account names are few (people and
// tools), so the read does not need an index in that collation.
func (s *Store) Accounts(ctx context.Context, after string, limit int) ([]store.Account, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: listing accounts: limit %d must be positive", limit)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name COLLATE "C" > $1 ORDER BY name COLLATE "C" LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing accounts: %w", err)
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
			return nil, fmt.Errorf("postgres: listing accounts: %w", err)
		}
		a.Role, a.Created = store.Role(role), fromMicros(created)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: listing accounts: %w", err)
	}
	return out, nil
}
