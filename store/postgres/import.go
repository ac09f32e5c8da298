package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/entente/entente/store"
)

// importTables are the tables Import copies, parents first, with the
// columns both stores' schemas give them.
var importTables = []struct {
	name    string
	columns []string
	// pk is the identity column whose sequence continues after the
	// copied rows, "" for none.
	pk string
}{
	{"api_roots", []string{"pk", "path", "title", "description", "max_content_length"}, "pk"},
	{"collections", []string{"pk", "id", "api_root", "title", "description", "alias", "media_types", "last_added", "object_count"}, "pk"},
	{"objects", append(slices.Clip(objectColumns), "ledger_index"), "seq"},
	{"statuses", []string{"api_root", "id", "status", "request_timestamp", "total_count", "success_count", "failure_count", "pending_count", "details", "owner"}, ""},
	{"accounts", []string{"name", "role", "token_hash", "created"}, ""},
	{"grants", []string{"account", "collection", "access"}, ""},
	{"ledger_entries", []string{"idx", "salt", "entry", "hashes", "concerns", "object"}, ""},
	{"ledger_state", []string{"one", "size", "objects_before"}, ""},
	{"ledger_checkpoints", []string{"size", "note", "signed"}, ""},
	{"witnessed_checkpoints", []string{"origin", "note"}, ""},
	{"suspended_logs", []string{"origin", "since", "reason", "evidence", "witnessed"}, ""},
	{"shares", []string{"party", "collection", "access"}, ""},
	{"disclosures", []string{"party", "object_id", "version", "node", "digest", "ledger_index"}, ""},
	{"cursors", []string{"node", "collection", "added_after", "updated"}, ""},
	{"links", []string{"node", "party", "log", "state", "last_attempt", "last_success", "caught_up", "behind", "pending",
		"stored", "duplicates", "refused", "errors", "last_error", "suspended", "updated"}, ""},
	{"alerts", []string{"id", "time", "party", "node", "kind", "object", "detail", "entry"}, "id"},
	{"fired_alarms", []string{"key", "case_id", "due", "fired"}, ""},
	{"agreements", []string{"seq", "agreement", "version", "previous", "digest", "document", "entry", "recorded"}, "seq"},
	{"node_keys", []string{"seq", "key", "entry", "recorded"}, "seq"},
}

// boolColumns are stored as booleans here and as integers 0 and 1 in
// SQLite.
var boolColumns = []string{"versioned", "is_first", "is_last", "top_spec", "pending"}

// Importer is where Import reads from: a *sql.DB or, for a consistent
// snapshot, a *sql.Tx.
type Importer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Import copies a whole node from src, a database with the tables and
// columns of this store's schema at its current version (store/sqlite's
// schema at its current version has them), into this store, which must
// hold no node yet. Row keys, sequence numbers and date_added values are
// kept, so TAXII next tokens, status ids and the ledger's links to object
// versions stay valid. objectsIssued is the highest object sequence number
// src ever gave out (deleted versions included), which this store's
// sequence continues after, so that no number is given out twice.
//
// The copy is one transaction under the write lock: it is whole or
// nothing. It returns the number of rows copied per table.
func (s *Store) Import(ctx context.Context, src Importer, objectsIssued int64) (map[string]int64, error) {
	counts := make(map[string]int64)
	err := s.Update(ctx, func(ctx context.Context, t store.Tx) error {
		tx := t.(*txn).tx
		var roots, size int64
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM api_roots), (SELECT size FROM ledger_state WHERE one = 1)`).Scan(&roots, &size); err != nil {
			return err
		}
		if roots > 0 || size > 0 {
			return fmt.Errorf("the target holds a node already (%d API roots, a ledger of %d entries); copy into an empty database", roots, size)
		}
		// The migration wrote the ledger's starting state; the source's
		// replaces it.
		if _, err := tx.Exec(ctx, `DELETE FROM ledger_state`); err != nil {
			return err
		}
		for _, tbl := range importTables {
			n, err := importTable(ctx, tx, src, tbl.name, tbl.columns)
			if err != nil {
				return fmt.Errorf("copying %s: %w", tbl.name, err)
			}
			counts[tbl.name] = n
			if tbl.pk == "" {
				continue
			}
			last := objectsIssued
			if tbl.name != "objects" {
				last = 0
			}
			// setval(…, 0) is out of range: an empty table keeps its
			// sequence as it is, unless objectsIssued says otherwise.
			if _, err := tx.Exec(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', '%s'), m)
				FROM (SELECT greatest(max(%s), $1) AS m FROM %s) AS t WHERE m > 0`, tbl.name, tbl.pk, tbl.pk, tbl.name), last); err != nil {
				return fmt.Errorf("copying %s: %w", tbl.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: import: %w", err)
	}
	return counts, nil
}

// importTable copies one table's rows with COPY.
func importTable(ctx context.Context, tx pgx.Tx, src Importer, table string, columns []string) (int64, error) {
	rows, err := src.QueryContext(ctx, "SELECT "+strings.Join(columns, ", ")+" FROM "+table)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	isBool := make([]bool, len(columns))
	for i, c := range columns {
		isBool[i] = slices.Contains(boolColumns, c)
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{table}, columns, &sqlRows{rows: rows, isBool: isBool})
	if err != nil {
		return 0, err
	}
	return n, rows.Err()
}

// sqlRows is a pgx.CopyFromSource over database/sql rows.
type sqlRows struct {
	rows   *sql.Rows
	isBool []bool
	err    error
}

func (r *sqlRows) Next() bool { return r.err == nil && r.rows.Next() }

func (r *sqlRows) Values() ([]any, error) {
	vals := make([]any, len(r.isBool))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := r.rows.Scan(ptrs...); err != nil {
		r.err = err
		return nil, err
	}
	for i, v := range vals {
		if r.isBool[i] {
			n, ok := v.(int64)
			if !ok {
				r.err = fmt.Errorf("column %d: %T, want an integer 0 or 1", i, v)
				return nil, r.err
			}
			vals[i] = n != 0
		}
	}
	return vals, nil
}

func (r *sqlRows) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.rows.Err()
}
