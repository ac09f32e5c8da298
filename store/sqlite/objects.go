package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
)

// taxiiTimestampLayout is a TAXII 2.1 timestamp: microseconds, always.
const taxiiTimestampLayout = "2006-01-02T15:04:05.000000Z"

// storedVersion is what the write path needs to know about one stored
// version of an object.
type storedVersion struct {
	seq                       int64
	version, key, spec        string
	versioned                 bool
	dateAdded                 int64
	hash                      []byte
	first, last, topSpec      bool
	newFirst, newLast, newTop bool
}

// insertObject stores one object version.
const insertObject = `INSERT INTO objects
	(collection, id, type, version, version_key, versioned, spec_version, date_added, content_hash, is_first, is_last, top_spec, raw,
		signatures, from_party, from_node)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const selectVersions = `SELECT seq, version, version_key, spec_version, versioned, date_added, content_hash, is_first, is_last, top_spec
	FROM objects WHERE collection = ? AND id = ?`

// scanVersions reads the result of selectVersions; it takes the query's
// results as they come, so that it serves both a prepared statement and a
// one-off query.
func scanVersions(rows *sql.Rows, err error) ([]storedVersion, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var vs []storedVersion
	for rows.Next() {
		var v storedVersion
		if err := rows.Scan(&v.seq, &v.version, &v.key, &v.spec, &v.versioned, &v.dateAdded, &v.hash, &v.first, &v.last, &v.topSpec); err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, rows.Err()
}

// computeFlags sets newFirst, newLast and newTop on every version of one
// object, as store.MarkVersions says.
func computeFlags(vs []storedVersion) {
	keys := make([]store.StoredVersion, len(vs))
	for i, v := range vs {
		keys[i] = store.StoredVersion{Spec: v.spec, Key: v.key}
	}
	for i, m := range store.MarkVersions(keys) {
		vs[i].newFirst, vs[i].newLast, vs[i].newTop = m.First, m.Last, m.LatestSpec
	}
}

// updateFlags writes the flags computeFlags changed.
func updateFlags(ctx context.Context, tx querier, vs []storedVersion) error {
	for _, v := range vs {
		if v.seq == 0 || (v.first == v.newFirst && v.last == v.newLast && v.topSpec == v.newTop) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE objects SET is_first = ?, is_last = ?, top_spec = ? WHERE seq = ?`,
			v.newFirst, v.newLast, v.newTop, v.seq); err != nil {
			return err
		}
	}
	return nil
}

// AddObjects stores objects in one transaction and reports an outcome for
// each. It fails as a whole only if the collection does not exist
// (store.ErrNotFound) or the database fails.
func (s *Store) AddObjects(ctx context.Context, collection string, objs []*stix.Object) (out []store.AddOutcome, err error) {
	// Hashing needs no lock: do it before taking it.
	ins := store.PrepareAll(objs, nil)
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		out, err = tx.(*txn).addPrepared(ctx, collection, ins)
		return err
	})
	return out, err
}

// AddObjects implements store.Tx.
func (t *txn) AddObjects(ctx context.Context, collection string, puts []store.Put) ([]store.AddOutcome, error) {
	ins := make([]store.Incoming, len(puts))
	for i, p := range puts {
		ins[i] = store.Prepare(p, nil)
	}
	return t.addPrepared(ctx, collection, ins)
}

func (t *txn) addPrepared(ctx context.Context, collection string, ins []store.Incoming) ([]store.AddOutcome, error) {
	s, tx := t.s, t.tx
	pk, err := s.collectionKey(ctx, tx, collection)
	if err != nil {
		return nil, err
	}
	// Read under the write lock, so no other process can add to the
	// collection between this read and the commit.
	var lastAdded int64
	if err := tx.QueryRowContext(ctx, `SELECT last_added FROM collections WHERE pk = ?`, pk).Scan(&lastAdded); err != nil {
		return nil, fmt.Errorf("sqlite: adding objects to %s: %w", collection, err)
	}
	insert := tx.StmtContext(ctx, s.insertObjectStmt)
	versions := tx.StmtContext(ctx, s.versionsStmt)

	out := make([]store.AddOutcome, len(ins))
	added := 0
	stored, err := storedIDs(ctx, tx.StmtContext(ctx, s.storedIDsStmt), pk, ins)
	if err != nil {
		return nil, fmt.Errorf("sqlite: adding objects to %s: %w", collection, err)
	}
	for i, in := range ins {
		if in.Err != nil {
			out[i].Err = fmt.Errorf("sqlite: %w", in.Err)
			continue
		}
		var vs []storedVersion
		if stored[in.Obj.ID] {
			vs, err = scanVersions(versions.QueryContext(ctx, pk, in.Obj.ID))
			if err != nil {
				return nil, fmt.Errorf("sqlite: adding %s to %s: %w", in.Obj.ID, collection, err)
			}
		}
		if v, ok := sameVersion(vs, in); ok && bytes.Equal(v.hash, in.Hash) {
			out[i] = store.AddOutcome{Seq: v.seq, DateAdded: fromMicros(v.dateAdded), Version: v.version, Duplicate: true}
			continue
		} else if ok {
			out[i] = store.AddOutcome{Version: in.Version, Err: fmt.Errorf("sqlite: %s version %s: %w", in.Obj.ID, in.Version, store.ErrConflict)}
			continue
		}

		if changed, err := createdChanged(ctx, tx, vs, in); err != nil {
			return nil, fmt.Errorf("sqlite: adding %s to %s: %w", in.Obj.ID, collection, err)
		} else if changed != "" {
			out[i] = store.AddOutcome{Version: in.Version, Err: fmt.Errorf("sqlite: %s version %s: created %s, stored versions have %s: %w",
				in.Obj.ID, in.Version, in.Obj.Created, changed, store.ErrCreatedChanged)}
			continue
		}

		// date_added strictly increases within the collection even when
		// the clock stands still or steps back.
		dateAdded := max(micros(s.now()), lastAdded+1)
		if !in.Versioned {
			t := fromMicros(dateAdded)
			in.Version, in.Key = t.Format(taxiiTimestampLayout), store.VersionKey(t)
			if slices.ContainsFunc(vs, func(v storedVersion) bool { return v.key == in.Key }) {
				// A versioned copy claims this instant already.
				out[i] = store.AddOutcome{Version: in.Version, Err: fmt.Errorf("sqlite: %s version %s: %w", in.Obj.ID, in.Version, store.ErrConflict)}
				continue
			}
		}
		vs = append(vs, storedVersion{version: in.Version, key: in.Key, spec: in.SpecVersion})
		computeFlags(vs)
		if err := updateFlags(ctx, tx, vs); err != nil {
			return nil, fmt.Errorf("sqlite: adding %s to %s: %w", in.Obj.ID, collection, err)
		}
		nv := vs[len(vs)-1]
		res, err := insert.ExecContext(ctx, pk, in.Obj.ID, in.Obj.Type, in.Version, in.Key, in.Versioned, in.SpecVersion,
			dateAdded, in.Hash, nv.newFirst, nv.newLast, nv.newTop, []byte(in.Obj.Raw), in.Provenance, in.FromParty, in.FromNode)
		if err != nil {
			return nil, fmt.Errorf("sqlite: adding %s to %s: %w", in.Obj.ID, collection, err)
		}
		seq, err := res.LastInsertId()
		if err != nil {
			return nil, fmt.Errorf("sqlite: adding %s to %s: %w", in.Obj.ID, collection, err)
		}
		lastAdded = dateAdded
		added++
		stored[in.Obj.ID] = true
		out[i] = store.AddOutcome{Seq: seq, DateAdded: fromMicros(dateAdded), Version: in.Version}
	}
	if added > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE collections SET last_added = ?, object_count = object_count + ? WHERE pk = ?`,
			lastAdded, added, pk); err != nil {
			return nil, fmt.Errorf("sqlite: adding objects to %s: %w", collection, err)
		}
	}
	return out, nil
}

// createdChanged returns the created of the stored versions vs if in, a
// new version, states another (STIX 2.1 §3.2), and "" otherwise. Versions
// agree on created, so the latest stands for all; the same instant written
// otherwise is the same created.
func createdChanged(ctx context.Context, tx querier, vs []storedVersion, in store.Incoming) (string, error) {
	if len(vs) == 0 || !in.Versioned || in.Obj.Created == "" {
		return "", nil
	}
	latest := slices.MaxFunc(vs, func(a, b storedVersion) int { return strings.Compare(a.key, b.key) })
	var stored sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT json_extract(CAST(raw AS TEXT), '$.created') FROM objects WHERE seq = ?`, latest.seq).Scan(&stored)
	if err != nil || !stored.Valid || stored.String == in.Obj.Created {
		return "", err
	}
	a, errA := stix.ParseTime(stored.String)
	b, errB := stix.ParseTime(in.Obj.Created)
	if errA == nil && errB == nil && a.Equal(b) {
		return "", nil
	}
	return stored.String, nil
}

// selectStoredIDs lists which of a JSON array of ids have a version in a
// collection. The ids go in as one parameter (see inSet), so that one
// prepared statement serves every batch.
const selectStoredIDs = `SELECT DISTINCT id FROM objects WHERE collection = ? AND id IN (SELECT value FROM json_each(?))`

// storedIDs returns the set of ids among ins that have a version stored in
// the collection already, with selectStoredIDs. Most objects of a typical
// batch are new: one query per batch saves one per object.
func storedIDs(ctx context.Context, q *sql.Stmt, collection int64, ins []store.Incoming) (map[string]bool, error) {
	ids := make([]string, 0, len(ins))
	for _, in := range ins {
		if in.Err == nil {
			ids = append(ids, in.Obj.ID)
		}
	}
	stored := make(map[string]bool)
	if len(ids) == 0 {
		return stored, nil
	}
	set, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, collection, string(set))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		stored[id] = true
	}
	return stored, rows.Err()
}

// sameVersion finds the stored version that in would be another copy of:
// the one with the same version or, for an object without one (an SCO),
// the one with the same content, since there is no version to compare.
func sameVersion(vs []storedVersion, in store.Incoming) (storedVersion, bool) {
	for _, v := range vs {
		if in.Versioned && v.key == in.Key || !in.Versioned && !v.versioned && bytes.Equal(v.hash, in.Hash) {
			return v, true
		}
	}
	return storedVersion{}, false
}

// whereVersions appends the conditions that the version and spec_version
// filters impose.
func whereVersions(b *strings.Builder, args []any, vf store.VersionFilter, specVersions []string) []any {
	if len(specVersions) > 0 {
		b.WriteString(" AND ")
		args = inSet(b, args, "spec_version", specVersions)
	} else {
		b.WriteString(" AND top_spec = 1")
	}
	if vf.All {
		return args
	}
	var conds []string
	if vf.First {
		conds = append(conds, "is_first = 1")
	}
	if vf.Last || (!vf.First && len(vf.Exact) == 0) {
		conds = append(conds, "is_last = 1")
	}
	b.WriteString(" AND (")
	b.WriteString(strings.Join(conds, " OR "))
	if len(vf.Exact) > 0 {
		if len(conds) > 0 {
			b.WriteString(" OR ")
		}
		keys := make([]string, len(vf.Exact))
		for i, t := range vf.Exact {
			keys[i] = store.VersionKey(t)
		}
		args = inSet(b, args, "version_key", keys)
	}
	b.WriteString(")")
	return args
}

// inSet appends "column IN set" for the values vals. The values go in as
// one JSON array, so that neither the query's text nor its number of bound
// parameters (at most 32,766) grows with them; SQLite builds an index of
// the set once and looks each row up in it, or uses it as an index
// constraint like any IN list.
func inSet(b *strings.Builder, args []any, column string, vals []string) []any {
	set, err := json.Marshal(vals)
	if err != nil {
		panic(err) // cannot fail for strings
	}
	b.WriteString(column)
	b.WriteString(" IN (SELECT value FROM json_each(?))")
	return append(args, string(set))
}

// maxMergedTypes is the most types listQuery reads as a merge of one
// ordered read per type. SQLite allows at most 500 branches in a compound
// SELECT, and each branch costs a seek.
const maxMergedTypes = 100

// listQuery builds the query for one page of q, starting after the
// sequence number after. It fetches one row beyond the limit, which tells
// whether more follow.
//
// It steers SQLite's planner, which has no statistics to go by, towards a
// plan that reads about one page of index entries:
//   - with ids, through the (collection, id, version_key) index, then sorting
//     the few versions found;
//   - with one type, through the (collection, type, seq) index, in order;
//   - with up to maxMergedTypes types, as a merge of one such ordered read
//     per type, rather than a scan of the whole collection for the rare
//     ones;
//   - with more types, as one read of the collection in order that keeps
//     the rows of those types: its cost does not grow with the number of
//     types, but reaching a page of rare types may read far.
//
// The values of every filter are bound as one parameter each (see inSet),
// so no filter's size can exceed SQLite's limits.
func listQuery(collection, after int64, q store.Query) (string, []any) {
	cols := "seq, id, type, version, spec_version, date_added, from_party, from_node, ledger_index"
	if !q.WithoutContent {
		cols += ", raw, signatures"
	}
	var (
		b    strings.Builder
		args []any
	)
	selectPage := func(types []string) {
		b.WriteString("SELECT " + cols + " FROM objects")
		switch {
		case len(q.IDs) > 0:
			b.WriteString(" INDEXED BY objects_version")
		case len(types) > maxMergedTypes:
			b.WriteString(" INDEXED BY objects_collection")
		}
		// An added_after bound is already part of after (see Objects). A
		// date_added condition here would only tempt the planner into the
		// date_added index and a sort of everything after the bound.
		b.WriteString(" WHERE collection = ? AND seq > ?")
		args = append(args, collection, after)
		if len(q.IDs) > 0 {
			b.WriteString(" AND ")
			args = inSet(&b, args, "id", q.IDs)
		}
		switch len(types) {
		case 0:
		case 1:
			b.WriteString(" AND type = ?")
			args = append(args, types[0])
		default:
			b.WriteString(" AND ")
			args = inSet(&b, args, "type", types)
		}
		args = whereVersions(&b, args, q.Versions, q.SpecVersions)
		b.WriteString(" ORDER BY seq LIMIT ?")
		args = append(args, q.Limit+1)
	}
	types := slices.Compact(slices.Sorted(slices.Values(q.Types)))
	if len(types) <= 1 || len(types) > maxMergedTypes || len(q.IDs) > 0 {
		selectPage(types)
		return b.String(), args
	}
	b.WriteString("SELECT " + cols + " FROM (")
	for i, t := range types {
		if i > 0 {
			fmt.Fprintf(&b, ") AS t%d UNION ALL SELECT %s FROM (", i-1, cols)
		}
		selectPage([]string{t})
	}
	fmt.Fprintf(&b, ") AS t%d ORDER BY seq LIMIT ?", len(types)-1)
	args = append(args, q.Limit+1)
	return b.String(), args
}

// addedBoundQuery finds the sequence number of the last version added at or
// before a time.
const addedBoundQuery = `SELECT seq FROM objects WHERE collection = ? AND date_added <= ? ORDER BY date_added DESC LIMIT 1`

// Objects lists the stored versions matching q in ascending sequence order.
// Sequence numbers and date_added increase together within a collection, so
// this is also TAXII's date_added order.
func (s *Store) Objects(ctx context.Context, q store.Query) (store.Page, error) {
	if q.Limit <= 0 {
		return store.Page{}, fmt.Errorf("sqlite: listing %s: limit %d: want a limit above 0", q.Collection, q.Limit)
	}
	pk, err := s.collectionKey(ctx, s.r, q.Collection)
	if err != nil {
		return store.Page{}, err
	}
	after := q.After
	if !q.AddedAfter.IsZero() {
		// date_added and seq increase together within a collection, so the
		// time bound is also a sequence bound, found in the index on
		// date_added; without it a page would scan from the start of the
		// collection to find the first version added after the time.
		// The latest version added at or before the bound is one seek
		// (max(seq) over the same rows would read every one of them).
		var bound int64
		err := s.r.QueryRowContext(ctx, addedBoundQuery, pk, micros(q.AddedAfter)).Scan(&bound)
		if errors.Is(err, sql.ErrNoRows) {
			bound, err = 0, nil
		}
		if err != nil {
			return store.Page{}, fmt.Errorf("sqlite: listing %s: %w", q.Collection, err)
		}
		after = max(after, bound)
	}
	query, args := listQuery(pk, after, q)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlite: listing %s: %w", q.Collection, err)
	}
	defer rows.Close()
	var page store.Page
	page.Objects = make([]store.Object, 0, min(q.Limit, 1024))
	dest := make([]any, 0, 11)
	for rows.Next() {
		if len(page.Objects) == q.Limit {
			page.More = true
			break
		}
		var (
			o           = store.Object{Collection: q.Collection}
			dateAdded   int64
			ledgerIndex sql.NullInt64
		)
		dest = append(dest[:0], &o.Seq, &o.ID, &o.Type, &o.Version, &o.SpecVersion, &dateAdded, &o.FromParty, &o.FromNode, &ledgerIndex)
		if !q.WithoutContent {
			dest = append(dest, &o.Raw, &o.Provenance)
		}
		if err := rows.Scan(dest...); err != nil {
			return store.Page{}, fmt.Errorf("sqlite: listing %s: %w", q.Collection, err)
		}
		o.DateAdded = fromMicros(dateAdded)
		o.LedgerIndex = -1
		if ledgerIndex.Valid {
			o.LedgerIndex = ledgerIndex.Int64
		}
		page.Objects = append(page.Objects, o)
	}
	if err := rows.Err(); err != nil {
		return store.Page{}, fmt.Errorf("sqlite: listing %s: %w", q.Collection, err)
	}
	return page, nil
}

// DeleteObject removes the versions of one object that match the filters
// (the zero VersionFilter selects the last version; no spec versions select
// the latest spec_version) and returns how many it removed. The first, last
// and latest-spec_version marks move to the versions that remain.
func (s *Store) DeleteObject(ctx context.Context, collection, id string, versions store.VersionFilter, specVersions []string) (int, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: deleting %s from %s: %w", id, collection, err)
	}
	defer tx.Rollback()
	pk, err := s.collectionKey(ctx, tx, collection)
	if err != nil {
		return 0, err
	}
	var b strings.Builder
	b.WriteString("DELETE FROM objects WHERE collection = ? AND id = ?")
	args := whereVersions(&b, []any{pk, id}, versions, specVersions)
	res, err := tx.ExecContext(ctx, b.String(), args...)
	if err != nil {
		return 0, fmt.Errorf("sqlite: deleting %s from %s: %w", id, collection, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: deleting %s from %s: %w", id, collection, err)
	}
	if n == 0 {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE collections SET object_count = object_count - ? WHERE pk = ?`, n, pk); err != nil {
		return 0, fmt.Errorf("sqlite: deleting %s from %s: %w", id, collection, err)
	}
	vs, err := scanVersions(tx.QueryContext(ctx, selectVersions, pk, id))
	if err != nil {
		return 0, fmt.Errorf("sqlite: deleting %s from %s: %w", id, collection, err)
	}
	computeFlags(vs)
	if err := updateFlags(ctx, tx, vs); err != nil {
		return 0, fmt.Errorf("sqlite: deleting %s from %s: %w", id, collection, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite: deleting %s from %s: %w", id, collection, err)
	}
	return int(n), nil
}
