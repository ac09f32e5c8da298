package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
)

// countEntries counts a header range of the ledger from the index on
// entry headers (migration 10), at most ?3 rows.
const countEntries = `SELECT concerns, count(*) FROM (
	SELECT concerns FROM ledger_entries INDEXED BY ledger_entries_header
	WHERE substr(entry, 1, 10) >= ?1 AND substr(entry, 1, 10) < ?2 AND concerns <> '' LIMIT ?3)
	GROUP BY concerns`

// CountEntries implements store.Store.
func (s *Store) CountEntries(ctx context.Context, k ledger.Kind, from, to time.Time, limit int) (store.EntryCounts, error) {
	out := store.EntryCounts{ByParty: map[string]int64{}, Complete: true}
	if limit <= 0 || !from.Before(to) {
		return out, nil
	}
	rows, err := s.r.QueryContext(ctx, countEntries, ledger.Header(k, from), ledger.Header(k, to), limit+1)
	if err != nil {
		return out, fmt.Errorf("sqlite: counting %s entries: %w", k, err)
	}
	defer rows.Close()
	var total int64
	for rows.Next() {
		var (
			concerns string
			n        int64
		)
		if err := rows.Scan(&concerns, &n); err != nil {
			return out, fmt.Errorf("sqlite: counting %s entries: %w", k, err)
		}
		total += n
		for _, p := range store.SplitConcerns(concerns) {
			out.ByParty[p] += n
		}
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("sqlite: counting %s entries: %w", k, err)
	}
	out.Complete = total <= int64(limit)
	return out, nil
}

// NewestAlerts implements store.Store.
func (s *Store) NewestAlerts(ctx context.Context, limit int) ([]store.Alert, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts
		ORDER BY id DESC LIMIT ?`, max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing the newest alerts: %w", err)
	}
	return scanAlerts(rows, "listing the newest alerts")
}

// NewestObjects implements store.Store. It reads the (collection, type,
// seq) index backwards.
func (s *Store) NewestObjects(ctx context.Context, collection, typ string, limit int) ([]store.Object, error) {
	pk, err := s.collectionKey(ctx, s.r, collection)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, id, type, version, spec_version, date_added, from_party, from_node, ledger_index, raw, signatures
		FROM objects INDEXED BY objects_type WHERE collection = ? AND type = ? ORDER BY seq DESC LIMIT ?`, pk, typ, max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing the newest %s of %s: %w", typ, collection, err)
	}
	defer rows.Close()
	var out []store.Object
	for rows.Next() {
		var (
			o           = store.Object{Collection: collection}
			dateAdded   int64
			ledgerIndex sql.NullInt64
		)
		if err := rows.Scan(&o.Seq, &o.ID, &o.Type, &o.Version, &o.SpecVersion, &dateAdded, &o.FromParty, &o.FromNode, &ledgerIndex, &o.Raw, &o.Provenance); err != nil {
			return nil, fmt.Errorf("sqlite: listing the newest %s of %s: %w", typ, collection, err)
		}
		o.DateAdded = fromMicros(dateAdded)
		o.LedgerIndex = -1
		if ledgerIndex.Valid {
			o.LedgerIndex = ledgerIndex.Int64
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: listing the newest %s of %s: %w", typ, collection, err)
	}
	return out, nil
}
