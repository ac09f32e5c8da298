package postgres

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/jackc/pgx/v5"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
)

// The ledger's tables (migration 0002): ledger_entries (index, salt, entry,
// the tlog hashes its append stored, concerns, object seq), ledger_state
// (size) and ledger_checkpoints.

// AppendLedger implements store.Tx. It reads the size with the state row
// locked (SELECT … FOR UPDATE: an append of any process waits for this
// transaction to end, and then reads the size it committed), hashes the new
// leaves with a ledger.Batch that reads earlier hashes through the
// transaction, and writes entries, hashes and the new size.
func (t *txn) AppendLedger(ctx context.Context, recs []store.LedgerRecord) (int64, error) {
	tx := t.tx
	var size int64
	var last *int64
	if err := tx.QueryRow(ctx, `SELECT size, (SELECT max(idx) FROM ledger_entries) FROM ledger_state WHERE one = 1 FOR UPDATE`).Scan(&size, &last); err != nil {
		return 0, fmt.Errorf("postgres: reading the ledger's size: %w", err)
	}
	if len(recs) == 0 {
		return size, nil
	}
	// The size row and the entries agree unless the database was
	// altered: appending then would fork the log, so refuse.
	if last == nil && size != 0 || last != nil && *last+1 != size {
		return 0, fmt.Errorf("postgres: the ledger's size is %d but its last entry is %v: the database was altered; run entente ledger verify", size, lastString(last))
	}
	batch := ledger.NewBatch(size, txHashReader{ctx: ctx, q: tx})
	concerns := make([]string, len(recs))
	var err error
	for i, r := range recs {
		c := ledger.CommitEncoded(r.Salt, r.Entry)
		if r.Commitment != (ledger.Commitment{}) && r.Commitment != c {
			return 0, fmt.Errorf("postgres: appending to the ledger: a record's commitment is not that of its salt and entry")
		}
		if concerns[i], err = store.JoinConcerns(r.Concerns); err != nil {
			return 0, fmt.Errorf("postgres: %w", err)
		}
		if _, err := batch.Append(c); err != nil {
			return 0, fmt.Errorf("postgres: appending to the ledger: %w", err)
		}
	}
	hashes := batch.Hashes()
	buf := make([]byte, 0, tlog.HashSize*len(hashes))
	for _, h := range hashes {
		buf = append(buf, h[:]...)
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"ledger_entries"}, []string{"idx", "salt", "entry", "hashes", "concerns", "object"},
		pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
			r, idx := recs[i], size+int64(i)
			from, to := tlog.StoredHashIndex(0, idx)-batch.FirstIndex(), tlog.StoredHashIndex(0, idx+1)-batch.FirstIndex()
			return []any{idx, r.Salt[:], r.Entry, buf[tlog.HashSize*from : tlog.HashSize*to], concerns[i], r.Object}, nil
		}))
	if err != nil {
		return 0, fmt.Errorf("postgres: appending entries %d to %d to the ledger: %w", size, size+int64(len(recs))-1, err)
	}
	// The received versions the new entries record learn the index of
	// the first that does, in one statement of primary key lookups.
	// Entries that concern no party record nothing received, so the
	// node's own ingest skips it.
	var seqs, idxs []int64
	seen := make(map[int64]bool)
	for i, r := range recs {
		if r.Object != 0 && len(r.Concerns) > 0 && !seen[r.Object] {
			seen[r.Object] = true
			seqs, idxs = append(seqs, r.Object), append(idxs, size+int64(i))
		}
	}
	if len(seqs) > 0 {
		if _, err := tx.Exec(ctx, setLedgerIndex, seqs, idxs); err != nil {
			return 0, fmt.Errorf("postgres: recording the ledger entries of received objects: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE ledger_state SET size = $1 WHERE one = 1`, batch.Size()); err != nil {
		return 0, fmt.Errorf("postgres: storing the ledger's size: %w", err)
	}
	return size, nil
}

// setLedgerIndex gives the received object versions (from_party set)
// among the seqs $1 the index of the entry $2 that records them, unless an
// earlier entry did.
const setLedgerIndex = `UPDATE objects o SET ledger_index = u.idx
	FROM unnest($1::bigint[], $2::bigint[]) AS u(seq, idx)
	WHERE o.seq = u.seq AND o.ledger_index IS NULL AND o.from_party <> ''`

func lastString(last *int64) string {
	if last == nil {
		return "none"
	}
	return fmt.Sprint(*last)
}

// txHashReader is a tlog.HashReader over the stored hashes, in a
// transaction or on the pool.
type txHashReader struct {
	ctx context.Context
	q   querier
}

func (r txHashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	return readHashes(r.ctx, r.q, indexes)
}

// readHashes reads stored hashes by storage index in one query. Hash x
// was stored by the append of the entry that completed its subtree, at the
// place of its level among that entry's hashes.
func readHashes(ctx context.Context, q querier, indexes []int64) ([]tlog.Hash, error) {
	leaves := make([]int64, 0, len(indexes))
	seen := make(map[int64]bool, len(indexes))
	for _, x := range indexes {
		if x < 0 {
			return nil, fmt.Errorf("postgres: the ledger's stored hash %d: %w", x, store.ErrNotFound)
		}
		level, n := tlog.SplitStoredHashIndex(x)
		if leaf := (n+1)<<level - 1; !seen[leaf] {
			seen[leaf] = true
			leaves = append(leaves, leaf)
		}
	}
	found := make(map[int64][]byte, len(leaves))
	rows, _ := q.Query(ctx, `SELECT idx, hashes FROM ledger_entries WHERE idx = ANY($1)`, leaves)
	var (
		idx int64
		h   []byte
	)
	_, err := pgx.ForEachRow(rows, []any{&idx, &h}, func() error {
		found[idx] = h
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reading the ledger's hashes: %w", err)
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		level, n := tlog.SplitStoredHashIndex(x)
		hs := found[(n+1)<<level-1]
		if len(hs) < (level+1)*tlog.HashSize {
			return nil, fmt.Errorf("postgres: the ledger's stored hash %d: %w", x, store.ErrNotFound)
		}
		copy(out[i][:], hs[level*tlog.HashSize:])
	}
	return out, nil
}

// LedgerSize implements store.Store.
func (s *Store) LedgerSize(ctx context.Context) (int64, error) {
	var size int64
	if err := s.pool.QueryRow(ctx, `SELECT size FROM ledger_state WHERE one = 1`).Scan(&size); err != nil {
		return 0, fmt.Errorf("postgres: reading the ledger's size: %w", err)
	}
	return size, nil
}

// ReadLedgerHashes implements store.Store.
func (s *Store) ReadLedgerHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	return readHashes(ctx, s.pool, indexes)
}

const selectRecords = `SELECT idx, salt, entry, concerns, object FROM ledger_entries`

func scanRecord(row pgx.Row) (store.LedgerRecord, error) {
	var (
		r        store.LedgerRecord
		salt     []byte
		concerns string
	)
	if err := row.Scan(&r.Index, &salt, &r.Entry, &concerns, &r.Object); err != nil {
		return r, err
	}
	if len(salt) != len(r.Salt) {
		return r, fmt.Errorf("postgres: ledger entry %d: salt of %d bytes, want %d", r.Index, len(salt), len(r.Salt))
	}
	copy(r.Salt[:], salt)
	r.Concerns = store.SplitConcerns(concerns)
	r.Commitment = ledger.CommitEncoded(r.Salt, r.Entry)
	return r, nil
}

// LedgerRecords implements store.Store.
func (s *Store) LedgerRecords(ctx context.Context, from, to int64) ([]store.LedgerRecord, error) {
	rows, _ := s.pool.Query(ctx, selectRecords+` WHERE idx >= $1 AND idx < $2 ORDER BY idx`, from, to)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.LedgerRecord, error) { return scanRecord(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: reading ledger entries: %w", err)
	}
	return out, nil
}

// LedgerRecordOf implements store.Store.
func (s *Store) LedgerRecordOf(ctx context.Context, seq int64) (store.LedgerRecord, error) {
	r, err := scanRecord(s.pool.QueryRow(ctx, selectRecords+` WHERE object = $1 AND object <> 0 ORDER BY idx LIMIT 1`, seq))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("postgres: the ledger entry of object version %d: %w", seq, store.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("postgres: reading the ledger entry of object version %d: %w", seq, err)
	}
	return r, nil
}

// LedgerObjects implements store.Store.
func (s *Store) LedgerObjects(ctx context.Context, after int64, limit int) ([]store.LedgerObject, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: LedgerObjects: limit %d: want a positive limit", limit)
	}
	rows, _ := s.pool.Query(ctx, `SELECT o.seq, c.id, o.id, o.version, o.raw,
			coalesce((SELECT min(l.idx) FROM ledger_entries l WHERE l.object = o.seq AND l.object <> 0), -1)
		FROM objects o JOIN collections c ON c.pk = o.collection
		WHERE o.seq > greatest($1::bigint, (SELECT objects_before FROM ledger_state WHERE one = 1))
		ORDER BY o.seq LIMIT $2`, after, limit)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.LedgerObject, error) {
		var o store.LedgerObject
		err := row.Scan(&o.Seq, &o.Collection, &o.ID, &o.Version, &o.Raw, &o.Entry)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: listing ledgered objects: %w", err)
	}
	return out, nil
}

// PutCheckpoint implements store.Store.
func (s *Store) PutCheckpoint(ctx context.Context, c store.StoredCheckpoint) error {
	if len(c.Note) == 0 {
		return fmt.Errorf("postgres: storing checkpoint %d: empty note", c.Size)
	}
	return s.Update(ctx, func(ctx context.Context, t store.Tx) error {
		tx := t.(*txn).tx
		var size, latest int64
		if err := tx.QueryRow(ctx, `SELECT size, coalesce((SELECT max(size) FROM ledger_checkpoints), -1) FROM ledger_state WHERE one = 1`).Scan(&size, &latest); err != nil {
			return fmt.Errorf("postgres: storing checkpoint %d: %w", c.Size, err)
		}
		if c.Size <= latest {
			return fmt.Errorf("postgres: storing checkpoint %d: a checkpoint of size %d is stored already: %w", c.Size, latest, store.ErrConflict)
		}
		if c.Size > size {
			return fmt.Errorf("postgres: storing checkpoint %d: the ledger holds only %d entries: %w", c.Size, size, store.ErrConflict)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ledger_checkpoints (size, note, signed) VALUES ($1, $2, $3)`, c.Size, c.Note, micros(c.Signed)); err != nil {
			return fmt.Errorf("postgres: storing checkpoint %d: %w", c.Size, err)
		}
		return nil
	})
}

func scanCheckpoint(row pgx.Row) (store.StoredCheckpoint, error) {
	var (
		c      store.StoredCheckpoint
		signed int64
	)
	err := row.Scan(&c.Size, &c.Note, &signed)
	c.Signed = fromMicros(signed)
	return c, err
}

// LatestCheckpoint implements store.Store.
func (s *Store) LatestCheckpoint(ctx context.Context) (store.StoredCheckpoint, error) {
	c, err := scanCheckpoint(s.pool.QueryRow(ctx, `SELECT size, note, signed FROM ledger_checkpoints ORDER BY size DESC LIMIT 1`))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.StoredCheckpoint{}, fmt.Errorf("postgres: the latest checkpoint: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.StoredCheckpoint{}, fmt.Errorf("postgres: reading the latest checkpoint: %w", err)
	}
	return c, nil
}

// Checkpoints implements store.Store.
func (s *Store) Checkpoints(ctx context.Context, after int64, limit int) ([]store.StoredCheckpoint, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: Checkpoints: limit %d: want a positive limit", limit)
	}
	rows, _ := s.pool.Query(ctx, `SELECT size, note, signed FROM ledger_checkpoints WHERE size > $1 ORDER BY size LIMIT $2`, after, limit)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.StoredCheckpoint, error) { return scanCheckpoint(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: listing checkpoints: %w", err)
	}
	return out, nil
}
