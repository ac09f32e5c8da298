package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
)

// The ledger's tables (migration 0004): ledger_entries (index, salt, entry,
// the tlog hashes its append stored, concerns, object seq), ledger_state
// (size) and ledger_checkpoints.

// entriesPerInsert is how many entries one INSERT writes at most.
const entriesPerInsert = 64

// insertSizes are the sizes of the INSERT statements the store prepares
// when it opens (a statement prepared during a write would wait for the
// connection the write holds); a chunk is written by the largest that
// fits, then the next, and so on.
var insertSizes = []int{entriesPerInsert, 16, 4, 1}

// insertEntries is the INSERT of n ledger entries.
func insertEntries(n int) string {
	return `INSERT INTO ledger_entries (idx, salt, entry, hashes, concerns, object) VALUES (?, ?, ?, ?, ?, ?)` +
		strings.Repeat(", (?, ?, ?, ?, ?, ?)", n-1)
}

// insertEntries writes the entries whose columns args holds, six each,
// with the prepared statements.
func (t *txn) insertEntries(ctx context.Context, args []any) error {
	for i, n := range insertSizes {
		for len(args) >= 6*n {
			if _, err := t.tx.StmtContext(ctx, t.s.insertEntriesStmts[i]).ExecContext(ctx, args[:6*n]...); err != nil {
				return err
			}
			args = args[6*n:]
		}
	}
	return nil
}

// AppendLedger implements store.Tx. It reads the size in the transaction
// (which holds SQLite's write lock, so no other writer of any process can
// append meanwhile), hashes the new leaves with a ledger.Batch that reads
// earlier hashes through the transaction, and writes entries, hashes and
// the new size.
func (t *txn) AppendLedger(ctx context.Context, recs []store.LedgerRecord) (int64, error) {
	tx := t.tx
	var size int64
	if err := tx.QueryRowContext(ctx, `SELECT size FROM ledger_state WHERE one = 1`).Scan(&size); err != nil {
		return 0, fmt.Errorf("sqlite: reading the ledger's size: %w", err)
	}
	if len(recs) == 0 {
		return size, nil
	}
	var err error
	// The size row and the entries agree unless the file was altered:
	// appending then would fork the log, so refuse.
	var last sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(idx) FROM ledger_entries`).Scan(&last); err != nil {
		return 0, fmt.Errorf("sqlite: reading the ledger's size: %w", err)
	}
	if have := last.Int64 + 1; !last.Valid && size != 0 || last.Valid && have != size {
		return 0, fmt.Errorf("sqlite: the ledger's size is %d but its last entry is %d: the database was altered; run entente ledger verify", size, last.Int64)
	}
	batch := ledger.NewBatch(size, txHashReader{ctx: ctx, q: tx})
	concerns := make([]string, len(recs))
	for i, r := range recs {
		c := ledger.CommitEncoded(r.Salt, r.Entry)
		if r.Commitment != (ledger.Commitment{}) && r.Commitment != c {
			return 0, fmt.Errorf("sqlite: appending to the ledger: a record's commitment is not that of its salt and entry")
		}
		if concerns[i], err = store.JoinConcerns(r.Concerns); err != nil {
			return 0, fmt.Errorf("sqlite: %w", err)
		}
		if _, err := batch.Append(c); err != nil {
			return 0, fmt.Errorf("sqlite: appending to the ledger: %w", err)
		}
	}
	hashes := batch.Hashes()
	buf := make([]byte, 0, 32*len(hashes))
	for _, h := range hashes {
		buf = append(buf, h[:]...)
	}
	// Many rows per statement: a statement costs several times what a
	// row does.
	args := make([]any, 0, 6*min(len(recs), entriesPerInsert))
	for start := 0; start < len(recs); start += entriesPerInsert {
		part := recs[start:min(start+entriesPerInsert, len(recs))]
		args = args[:0]
		for i, r := range part {
			idx := size + int64(start+i)
			from, to := tlog.StoredHashIndex(0, idx)-batch.FirstIndex(), tlog.StoredHashIndex(0, idx+1)-batch.FirstIndex()
			args = append(args, idx, r.Salt[:], r.Entry, buf[32*from:32*to], concerns[start+i], r.Object)
		}
		if err := t.insertEntries(ctx, args); err != nil {
			return 0, fmt.Errorf("sqlite: appending entries %d to %d to the ledger: %w", size+int64(start), size+int64(start+len(part))-1, err)
		}
	}
	// One statement for the batch: the received versions the new entries
	// record learn their entry's index. Entries that concern no party
	// record nothing received, so the node's own ingest skips it.
	if slices.ContainsFunc(recs, func(r store.LedgerRecord) bool { return r.Object != 0 && len(r.Concerns) > 0 }) {
		if _, err := tx.ExecContext(ctx, setLedgerIndex, size); err != nil {
			return 0, fmt.Errorf("sqlite: recording the ledger entries of received objects: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE ledger_state SET size = ? WHERE one = 1`, batch.Size()); err != nil {
		return 0, fmt.Errorf("sqlite: storing the ledger's size: %w", err)
	}
	return size, nil
}

// setLedgerIndex gives the received object versions (from_party set) that
// the entries from index ? on record the index of their (first) entry.
const setLedgerIndex = `UPDATE objects SET ledger_index = l.idx
	FROM (SELECT object, min(idx) AS idx FROM ledger_entries WHERE idx >= ?1 AND object <> 0 AND concerns <> '' GROUP BY object) AS l
	WHERE objects.seq = l.object AND objects.ledger_index IS NULL AND objects.from_party <> ''`

// txHashReader is a tlog.HashReader over the stored hashes, in a
// transaction or on the readers.
type txHashReader struct {
	ctx context.Context
	q   querier
}

func (r txHashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	return readHashes(r.ctx, r.q, indexes)
}

// readHashes reads stored hashes by storage index, a few hundred entries
// per query. Hash x was stored by the append of the entry that completed
// its subtree, at the place of its level among that entry's hashes.
func readHashes(ctx context.Context, q querier, indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	const chunk = 500
	for start := 0; start < len(indexes); start += chunk {
		part := indexes[start:min(start+chunk, len(indexes))]
		leaves := make([]any, 0, len(part))
		seen := make(map[int64]bool, len(part))
		for _, x := range part {
			if x < 0 {
				return nil, fmt.Errorf("sqlite: the ledger's stored hash %d: %w", x, store.ErrNotFound)
			}
			level, n := tlog.SplitStoredHashIndex(x)
			if leaf := (n+1)<<level - 1; !seen[leaf] {
				seen[leaf] = true
				leaves = append(leaves, leaf)
			}
		}
		rows, err := q.QueryContext(ctx, `SELECT idx, hashes FROM ledger_entries WHERE idx IN (?`+strings.Repeat(", ?", len(leaves)-1)+`)`, leaves...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: reading the ledger's hashes: %w", err)
		}
		found := make(map[int64][]byte, len(leaves))
		for rows.Next() {
			var idx int64
			var h []byte
			if err := rows.Scan(&idx, &h); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: reading the ledger's hashes: %w", err)
			}
			found[idx] = h
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: reading the ledger's hashes: %w", err)
		}
		for i, x := range part {
			level, n := tlog.SplitStoredHashIndex(x)
			hs := found[(n+1)<<level-1]
			if len(hs) < (level+1)*tlog.HashSize {
				return nil, fmt.Errorf("sqlite: the ledger's stored hash %d: %w", x, store.ErrNotFound)
			}
			copy(out[start+i][:], hs[level*tlog.HashSize:])
		}
	}
	return out, nil
}

// LedgerSize implements store.Store.
func (s *Store) LedgerSize(ctx context.Context) (int64, error) {
	var size int64
	if err := s.r.QueryRowContext(ctx, `SELECT size FROM ledger_state WHERE one = 1`).Scan(&size); err != nil {
		return 0, fmt.Errorf("sqlite: reading the ledger's size: %w", err)
	}
	return size, nil
}

// ReadLedgerHashes implements store.Store.
func (s *Store) ReadLedgerHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	return readHashes(ctx, s.r, indexes)
}

const selectRecords = `SELECT idx, salt, entry, concerns, object FROM ledger_entries`

func scanRecord(sc interface{ Scan(...any) error }) (store.LedgerRecord, error) {
	var (
		r        store.LedgerRecord
		salt     []byte
		concerns string
	)
	if err := sc.Scan(&r.Index, &salt, &r.Entry, &concerns, &r.Object); err != nil {
		return r, err
	}
	if len(salt) != len(r.Salt) {
		return r, fmt.Errorf("sqlite: ledger entry %d: salt of %d bytes, want %d", r.Index, len(salt), len(r.Salt))
	}
	copy(r.Salt[:], salt)
	r.Concerns = store.SplitConcerns(concerns)
	r.Commitment = ledger.CommitEncoded(r.Salt, r.Entry)
	return r, nil
}

// LedgerRecords implements store.Store.
func (s *Store) LedgerRecords(ctx context.Context, from, to int64) ([]store.LedgerRecord, error) {
	rows, err := s.r.QueryContext(ctx, selectRecords+` WHERE idx >= ? AND idx < ? ORDER BY idx`, from, to)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading ledger entries: %w", err)
	}
	defer rows.Close()
	var out []store.LedgerRecord
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: reading ledger entries: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading ledger entries: %w", err)
	}
	return out, nil
}

// LedgerRecordOf implements store.Store.
func (s *Store) LedgerRecordOf(ctx context.Context, seq int64) (store.LedgerRecord, error) {
	r, err := scanRecord(s.r.QueryRowContext(ctx, selectRecords+` WHERE object = ? AND object <> 0 ORDER BY idx LIMIT 1`, seq))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("sqlite: the ledger entry of object version %d: %w", seq, store.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("sqlite: reading the ledger entry of object version %d: %w", seq, err)
	}
	return r, nil
}

// LedgerObjects implements store.Store.
func (s *Store) LedgerObjects(ctx context.Context, after int64, limit int) ([]store.LedgerObject, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlite: LedgerObjects: limit %d: want a positive limit", limit)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT o.seq, c.id, o.id, o.version, o.raw,
			coalesce((SELECT min(l.idx) FROM ledger_entries l WHERE l.object = o.seq AND l.object <> 0), -1)
		FROM objects o JOIN collections c ON c.pk = o.collection
		WHERE o.seq > max(?, (SELECT objects_before FROM ledger_state WHERE one = 1))
		ORDER BY o.seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing ledgered objects: %w", err)
	}
	defer rows.Close()
	var out []store.LedgerObject
	for rows.Next() {
		var o store.LedgerObject
		if err := rows.Scan(&o.Seq, &o.Collection, &o.ID, &o.Version, &o.Raw, &o.Entry); err != nil {
			return nil, fmt.Errorf("sqlite: listing ledgered objects: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: listing ledgered objects: %w", err)
	}
	return out, nil
}

// PutCheckpoint implements store.Store.
func (s *Store) PutCheckpoint(ctx context.Context, c store.StoredCheckpoint) error {
	if len(c.Note) == 0 {
		return fmt.Errorf("sqlite: storing checkpoint %d: empty note", c.Size)
	}
	return s.Update(ctx, func(ctx context.Context, t store.Tx) error {
		tx := t.(*txn).tx
		var size, latest int64
		if err := tx.QueryRowContext(ctx, `SELECT size, coalesce((SELECT max(size) FROM ledger_checkpoints), -1) FROM ledger_state WHERE one = 1`).Scan(&size, &latest); err != nil {
			return fmt.Errorf("sqlite: storing checkpoint %d: %w", c.Size, err)
		}
		if c.Size <= latest {
			return fmt.Errorf("sqlite: storing checkpoint %d: a checkpoint of size %d is stored already: %w", c.Size, latest, store.ErrConflict)
		}
		if c.Size > size {
			return fmt.Errorf("sqlite: storing checkpoint %d: the ledger holds only %d entries: %w", c.Size, size, store.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_checkpoints (size, note, signed) VALUES (?, ?, ?)`, c.Size, c.Note, micros(c.Signed)); err != nil {
			return fmt.Errorf("sqlite: storing checkpoint %d: %w", c.Size, err)
		}
		return nil
	})
}

// LatestCheckpoint implements store.Store.
func (s *Store) LatestCheckpoint(ctx context.Context) (store.StoredCheckpoint, error) {
	var (
		c      store.StoredCheckpoint
		signed int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT size, note, signed FROM ledger_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&c.Size, &c.Note, &signed)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("sqlite: the latest checkpoint: %w", store.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("sqlite: reading the latest checkpoint: %w", err)
	}
	c.Signed = fromMicros(signed)
	return c, nil
}

// Checkpoints implements store.Store.
func (s *Store) Checkpoints(ctx context.Context, after int64, limit int) ([]store.StoredCheckpoint, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlite: Checkpoints: limit %d: want a positive limit", limit)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT size, note, signed FROM ledger_checkpoints WHERE size > ? ORDER BY size LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing checkpoints: %w", err)
	}
	defer rows.Close()
	var out []store.StoredCheckpoint
	for rows.Next() {
		var (
			c      store.StoredCheckpoint
			signed int64
		)
		if err := rows.Scan(&c.Size, &c.Note, &signed); err != nil {
			return nil, fmt.Errorf("sqlite: listing checkpoints: %w", err)
		}
		c.Signed = fromMicros(signed)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: listing checkpoints: %w", err)
	}
	return out, nil
}
