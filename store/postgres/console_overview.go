package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
)

// countEntries counts a header range of the ledger through the index on
// entry headers (migration 8), at most $3 rows.
const countEntries = `SELECT concerns, count(*) FROM (
	SELECT concerns FROM ledger_entries
	WHERE substring(entry FROM 1 FOR 10) >= $1 AND substring(entry FROM 1 FOR 10) < $2 AND concerns <> '' LIMIT $3) AS e
	GROUP BY concerns`

// CountEntries implements store.Store.
func (s *Store) CountEntries(ctx context.Context, k ledger.Kind, from, to time.Time, limit int) (store.EntryCounts, error) {
	out := store.EntryCounts{ByParty: map[string]int64{}, Complete: true}
	if limit <= 0 || !from.Before(to) {
		return out, nil
	}
	rows, _ := s.pool.Query(ctx, countEntries, ledger.Header(k, from), ledger.Header(k, to), limit+1)
	var total int64
	var concerns string
	var n int64
	_, err := pgx.ForEachRow(rows, []any{&concerns, &n}, func() error {
		total += n
		for _, p := range store.SplitConcerns(concerns) {
			out.ByParty[p] += n
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("postgres: counting %s entries: %w", k, err)
	}
	out.Complete = total <= int64(limit)
	return out, nil
}

// NewestAlerts implements store.Store.
func (s *Store) NewestAlerts(ctx context.Context, limit int) ([]store.Alert, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+alertColumns+` FROM alerts
		ORDER BY id DESC LIMIT $1`, max(limit, 0))
	out, err := pgx.CollectRows(rows, scanAlert)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing the newest alerts: %w", err)
	}
	return out, nil
}

// NewestObjects implements store.Store. It reads the (collection, type,
// seq) index backwards.
func (s *Store) NewestObjects(ctx context.Context, collection, typ string, limit int) ([]store.Object, error) {
	pk, err := s.collectionKey(ctx, s.pool, collection)
	if err != nil {
		return nil, err
	}
	rows, _ := s.reader(ctx).Query(ctx, `SELECT seq, id, type, version, spec_version, date_added, from_party, from_node, ledger_index, raw, signatures
		FROM objects WHERE collection = $1 AND type = $2 ORDER BY seq DESC LIMIT $3`, pk, typ, max(limit, 0))
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Object, error) {
		var (
			o           = store.Object{Collection: collection}
			dateAdded   int64
			ledgerIndex *int64
		)
		err := row.Scan(&o.Seq, &o.ID, &o.Type, &o.Version, &o.SpecVersion, &dateAdded, &o.FromParty, &o.FromNode, &ledgerIndex, &o.Raw, &o.Provenance)
		o.DateAdded = fromMicros(dateAdded)
		o.LedgerIndex = -1
		if ledgerIndex != nil {
			o.LedgerIndex = *ledgerIndex
		}
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: listing the newest %s of %s: %w", typ, collection, err)
	}
	return out, nil
}
