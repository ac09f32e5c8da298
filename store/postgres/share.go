package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/entente/entente/store"
)

// AddShare shares a collection with a partner party. It fails with
// store.ErrExists if the share is held already, and with store.ErrNotFound
// if the collection does not exist.
func (s *Store) AddShare(ctx context.Context, sh store.Share) error {
	if err := checkRight(sh.Right); err != nil {
		return err
	}
	if err := checkText("party", sh.Party); err != nil {
		return fmt.Errorf("postgres: sharing collection %s: %w", sh.Collection, err)
	}
	col, err := s.collectionKey(ctx, s.pool, sh.Collection)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO shares (party, collection, access) VALUES ($1, $2, $3)`, sh.Party, col, string(sh.Right))
	if isUniqueViolation(err) {
		return fmt.Errorf("postgres: party %q holds %s on collection %s: %w", sh.Party, sh.Right, sh.Collection, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("postgres: sharing collection %s with %q for %s: %w", sh.Collection, sh.Party, sh.Right, err)
	}
	return nil
}

// RemoveShare takes a share away, or fails with store.ErrNotFound if it
// was not held.
func (s *Store) RemoveShare(ctx context.Context, sh store.Share) error {
	if err := checkRight(sh.Right); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM shares
		WHERE party = $1 AND access = $2 AND collection = (SELECT pk FROM collections WHERE id = $3)`,
		sh.Party, string(sh.Right), sh.Collection)
	if err != nil {
		return fmt.Errorf("postgres: unsharing collection %s from %q: %w", sh.Collection, sh.Party, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: party %q holds no %s on collection %s: %w", sh.Party, sh.Right, sh.Collection, store.ErrNotFound)
	}
	return nil
}

// Shares lists what is shared with party, or with every party for "", by
// party, collection creation order, then read before write.
func (s *Store) Shares(ctx context.Context, party string) ([]store.Share, error) {
	const cols = `SELECT sh.party, c.id, sh.access FROM shares sh JOIN collections c ON c.pk = sh.collection`
	var rows pgx.Rows
	if party == "" {
		rows, _ = s.pool.Query(ctx, cols+` ORDER BY sh.party, c.pk, sh.access`)
	} else {
		rows, _ = s.pool.Query(ctx, cols+` WHERE sh.party = $1 ORDER BY c.pk, sh.access`, party)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Share, error) {
		var (
			sh    store.Share
			right string
		)
		err := row.Scan(&sh.Party, &sh.Collection, &right)
		sh.Right = store.Right(right)
		return sh, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reading the shares of %q: %w", party, err)
	}
	return out, nil
}

// The disclosure queries, each checked by TestDisclosurePlans.
const (
	disclosuresToParty = `SELECT party, node, object_id, version, digest, ledger_index FROM disclosures
		WHERE party = $1 AND object_id = ANY($2) ORDER BY ledger_index, node, object_id, version, digest`
	disclosuresToAll = `SELECT party, node, object_id, version, digest, ledger_index FROM disclosures
		WHERE object_id = ANY($1) ORDER BY ledger_index, party, node, object_id, version, digest`
	disclosedQuery = `SELECT EXISTS (SELECT 1 FROM disclosures d
			WHERE d.party = u.party AND d.object_id = u.id AND d.version = u.version AND d.node = u.node AND d.digest = u.digest)
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[]) WITH ORDINALITY AS u(party, node, id, version, digest, n)
		ORDER BY u.n`
)

// Disclosures lists the disclosures of the objects ids to party, or to
// every party for "", by ledger index. With a party, the primary key's
// (party, object_id) prefix finds them; without, the object_id index.
func (s *Store) Disclosures(ctx context.Context, party string, ids []string) ([]store.Disclosure, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var rows pgx.Rows
	if party == "" {
		rows, _ = s.pool.Query(ctx, disclosuresToAll, ids)
	} else {
		rows, _ = s.pool.Query(ctx, disclosuresToParty, party, ids)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Disclosure, error) {
		var (
			d      store.Disclosure
			digest []byte
		)
		if err := row.Scan(&d.Party, &d.Node, &d.ID, &d.Version, &digest, &d.Ledger); err != nil {
			return d, err
		}
		if len(digest) != len(d.Digest) {
			return d, fmt.Errorf("disclosure of %s to %q: digest of %d bytes", d.ID, d.Party, len(digest))
		}
		copy(d.Digest[:], digest)
		return d, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reading disclosures to %q: %w", party, err)
	}
	return out, nil
}

// disclosureArrays are ds's columns, as the arrays unnest reads.
func disclosureArrays(ds []store.Disclosure) (parties, nodes, ids, versions []string, digests [][]byte, ledger []int64) {
	parties, nodes, ids, versions = make([]string, len(ds)), make([]string, len(ds)), make([]string, len(ds)), make([]string, len(ds))
	digests, ledger = make([][]byte, len(ds)), make([]int64, len(ds))
	for i, d := range ds {
		parties[i], nodes[i], ids[i], versions[i] = d.Party, d.Node, d.ID, d.Version
		digests[i], ledger[i] = d.Digest[:], d.Ledger
	}
	return
}

// Disclosed reports which of ds are recorded already, in one query: a
// primary key lookup each.
func (t *txn) Disclosed(ctx context.Context, ds []store.Disclosure) ([]bool, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	parties, nodes, ids, versions, digests, _ := disclosureArrays(ds)
	rows, _ := t.tx.Query(ctx, disclosedQuery, parties, nodes, ids, versions, digests)
	out, err := pgx.CollectRows(rows, pgx.RowTo[bool])
	if err != nil {
		return nil, fmt.Errorf("postgres: reading disclosures: %w", err)
	}
	if len(out) != len(ds) {
		return nil, fmt.Errorf("postgres: reading disclosures: %d answers for %d disclosures", len(out), len(ds))
	}
	return out, nil
}

// AddDisclosures records ds in one statement, or fails with
// store.ErrExists, and records none, if one is recorded already (see
// insertOrExists).
func (t *txn) AddDisclosures(ctx context.Context, ds []store.Disclosure) error {
	if len(ds) == 0 {
		return nil
	}
	for _, d := range ds {
		for _, v := range [][2]string{{"party", d.Party}, {"node", d.Node}, {"id", d.ID}, {"version", d.Version}} {
			if err := checkText(v[0], v[1]); err != nil {
				return fmt.Errorf("postgres: recording the disclosure of %q: %w", d.ID, err)
			}
		}
	}
	parties, nodes, ids, versions, digests, ledger := disclosureArrays(ds)
	exists, err := t.insertOrExists(ctx, `INSERT INTO disclosures (party, node, object_id, version, digest, ledger_index)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::bigint[])`,
		parties, nodes, ids, versions, digests, ledger)
	if exists {
		return fmt.Errorf("postgres: a disclosure is recorded already: %w", store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("postgres: recording %d disclosures: %w", len(ds), err)
	}
	return nil
}

// insertOrExists runs an INSERT within a savepoint, sent with it in one
// round trip, and reports whether it was refused for a row that exists.
// A refused statement aborts a PostgreSQL transaction; rolling back to
// the savepoint keeps the rest of the Update's writes, as a caller told
// store.ErrExists expects, and the INSERT writes all its rows or none.
func (t *txn) insertOrExists(ctx context.Context, insert string, args ...any) (exists bool, err error) {
	var b pgx.Batch
	b.Queue(`SAVEPOINT insert_or_exists`)
	b.Queue(insert, args...)
	b.Queue(`RELEASE SAVEPOINT insert_or_exists`)
	err = t.tx.SendBatch(ctx, &b).Close()
	if err == nil {
		return false, nil
	}
	if _, rbErr := t.tx.Exec(ctx, `ROLLBACK TO SAVEPOINT insert_or_exists`); rbErr != nil {
		return false, fmt.Errorf("%w (and rolling back: %v)", err, rbErr)
	}
	return isUniqueViolation(err), err
}
