package sqlite

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/entente/entente/store"
)

// AddShare shares a collection with a partner party. It fails with
// store.ErrExists if the share is held already, and with store.ErrNotFound
// if the collection does not exist.
func (s *Store) AddShare(ctx context.Context, sh store.Share) error {
	if err := checkRight(sh.Right); err != nil {
		return err
	}
	if sh.Party == "" {
		return fmt.Errorf("sqlite: sharing collection %s with no party", sh.Collection)
	}
	col, err := s.collectionKey(ctx, s.r, sh.Collection)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO shares (party, collection, access) VALUES (?, ?, ?)`, sh.Party, col, string(sh.Right))
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: party %q holds %s on collection %s: %w", sh.Party, sh.Right, sh.Collection, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite: sharing collection %s with %q for %s: %w", sh.Collection, sh.Party, sh.Right, err)
	}
	return nil
}

// RemoveShare takes a share away, or fails with store.ErrNotFound if it
// was not held.
func (s *Store) RemoveShare(ctx context.Context, sh store.Share) error {
	if err := checkRight(sh.Right); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM shares
		WHERE party = ? AND access = ? AND collection = (SELECT pk FROM collections WHERE id = ?)`,
		sh.Party, string(sh.Right), sh.Collection)
	if err != nil {
		return fmt.Errorf("sqlite: unsharing collection %s from %q: %w", sh.Collection, sh.Party, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: unsharing collection %s from %q: %w", sh.Collection, sh.Party, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: party %q holds no %s on collection %s: %w", sh.Party, sh.Right, sh.Collection, store.ErrNotFound)
	}
	return nil
}

// Shares lists what is shared with party, or with every party for "".
func (s *Store) Shares(ctx context.Context, party string) ([]store.Share, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT sh.party, c.id, sh.access FROM shares sh JOIN collections c ON c.pk = sh.collection
		WHERE ?1 = '' OR sh.party = ?1 ORDER BY sh.party, c.pk, sh.access`, party)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading the shares of %q: %w", party, err)
	}
	defer rows.Close()
	var out []store.Share
	for rows.Next() {
		var sh store.Share
		if err := rows.Scan(&sh.Party, &sh.Collection, &sh.Right); err != nil {
			return nil, fmt.Errorf("sqlite: reading the shares of %q: %w", party, err)
		}
		out = append(out, sh)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading the shares of %q: %w", party, err)
	}
	return out, nil
}

// Disclosures lists the disclosures of the objects ids to party, or to
// every party for "", by ledger index.
func (s *Store) Disclosures(ctx context.Context, party string, ids []string) ([]store.Disclosure, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	set, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading disclosures: %w", err)
	}
	// Two queries rather than one with "?1 = '' OR party = ?1", which
	// would keep SQLite from the primary key's (party, object_id) prefix.
	query := `SELECT party, node, object_id, version, digest, ledger_index FROM disclosures
		WHERE party = ?1 AND object_id IN (SELECT value FROM json_each(?2)) ORDER BY ledger_index`
	if party == "" {
		query = `SELECT party, node, object_id, version, digest, ledger_index FROM disclosures
		WHERE object_id IN (SELECT value FROM json_each(?2)) AND ?1 = '' ORDER BY ledger_index`
	}
	rows, err := s.r.QueryContext(ctx, query, party, string(set))
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading disclosures to %q: %w", party, err)
	}
	defer rows.Close()
	var out []store.Disclosure
	for rows.Next() {
		var (
			d      store.Disclosure
			digest []byte
		)
		if err := rows.Scan(&d.Party, &d.Node, &d.ID, &d.Version, &digest, &d.Ledger); err != nil {
			return nil, fmt.Errorf("sqlite: reading disclosures to %q: %w", party, err)
		}
		if len(digest) != len(d.Digest) {
			return nil, fmt.Errorf("sqlite: disclosure of %s to %q: digest of %d bytes", d.ID, d.Party, len(digest))
		}
		copy(d.Digest[:], digest)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading disclosures to %q: %w", party, err)
	}
	return out, nil
}

// Disclosed reports which of ds are recorded already. It reads each
// party's recorded disclosures of the objects in one query.
func (t *txn) Disclosed(ctx context.Context, ds []store.Disclosure) ([]bool, error) {
	type key struct {
		node, id, version string
		digest            [32]byte
	}
	byParty := map[string][]string{}
	for _, d := range ds {
		byParty[d.Party] = append(byParty[d.Party], d.ID)
	}
	recorded := map[string]map[key]bool{}
	for party, ids := range byParty {
		set, err := json.Marshal(ids)
		if err != nil {
			return nil, fmt.Errorf("sqlite: reading disclosures: %w", err)
		}
		rows, err := t.tx.QueryContext(ctx, `SELECT node, object_id, version, digest FROM disclosures
			WHERE party = ? AND object_id IN (SELECT value FROM json_each(?))`, party, string(set))
		if err != nil {
			return nil, fmt.Errorf("sqlite: reading the disclosures to %q: %w", party, err)
		}
		m := map[key]bool{}
		for rows.Next() {
			var (
				k      key
				digest []byte
			)
			if err := rows.Scan(&k.node, &k.id, &k.version, &digest); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: reading the disclosures to %q: %w", party, err)
			}
			copy(k.digest[:], digest)
			m[k] = true
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("sqlite: reading the disclosures to %q: %w", party, err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: reading the disclosures to %q: %w", party, err)
		}
		recorded[party] = m
	}
	out := make([]bool, len(ds))
	for i, d := range ds {
		out[i] = recorded[d.Party][key{d.Node, d.ID, d.Version, d.Digest}]
	}
	return out, nil
}

// AddDisclosures records ds in one statement, or fails with
// store.ErrExists if one is recorded already.
func (t *txn) AddDisclosures(ctx context.Context, ds []store.Disclosure) error {
	if len(ds) == 0 {
		return nil
	}
	rows := make([][]any, len(ds))
	for i, d := range ds {
		rows[i] = []any{d.Party, d.ID, d.Version, d.Node, hex.EncodeToString(d.Digest[:]), d.Ledger}
	}
	set, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("sqlite: recording disclosures: %w", err)
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO disclosures (party, object_id, version, node, digest, ledger_index)
		SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, unhex(value ->> 4), value ->> 5 FROM json_each(?)`, string(set))
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: a disclosure is recorded already: %w", store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite: recording %d disclosures: %w", len(ds), err)
	}
	return nil
}
