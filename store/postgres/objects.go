package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
)

// taxiiTimestampLayout is a TAXII 2.1 timestamp: microseconds, always.
const taxiiTimestampLayout = "2006-01-02T15:04:05.000000Z"

// checkPutText refuses what PostgreSQL's text cannot hold (checkText):
// such a value would fail the whole batch's statement, not this object
// alone.
func checkPutText(p store.Put) error {
	o := p.Object
	for _, v := range [][2]string{{"id", o.ID}, {"type", o.Type}, {"spec_version", o.SpecVersion},
		{"party it came from", p.FromParty}, {"node it came from", p.FromNode}} {
		if err := checkText(v[0], v[1]); err != nil {
			return fmt.Errorf("object %q: %w", o.ID, err)
		}
	}
	return nil
}

// version is one version of an object as the write path sees it: stored
// already (seq set, row -1) or added by this write (row: its index among
// the new rows, seq given when the rows are written).
type version struct {
	seq                       int64
	row                       int
	version, key, spec        string
	versioned                 bool
	dateAdded                 int64
	hash                      []byte
	created                   string // only for new rows
	first, last, topSpec      bool   // as stored
	newFirst, newLast, newTop bool   // as store.MarkVersions says
}

const versionColumns = `seq, id, version, version_key, spec_version, versioned, date_added, content_hash, is_first, is_last, top_spec`

// scanVersions reads the rows of a query for versionColumns, by id.
func scanVersions(rows pgx.Rows, into map[string][]*version) error {
	defer rows.Close()
	for rows.Next() {
		v := &version{row: -1}
		var id string
		if err := rows.Scan(&v.seq, &id, &v.version, &v.key, &v.spec, &v.versioned, &v.dateAdded, &v.hash, &v.first, &v.last, &v.topSpec); err != nil {
			return err
		}
		into[id] = append(into[id], v)
	}
	return rows.Err()
}

// computeFlags sets newFirst, newLast and newTop on every version of one
// object, as store.MarkVersions says.
func computeFlags(vs []*version) {
	keys := make([]store.StoredVersion, len(vs))
	for i, v := range vs {
		keys[i] = store.StoredVersion{Spec: v.spec, Key: v.key}
	}
	for i, m := range store.MarkVersions(keys) {
		vs[i].newFirst, vs[i].newLast, vs[i].newTop = m.First, m.Last, m.LatestSpec
	}
}

// flagUpdates collects the stored versions whose marks changed, as the
// arrays updateFlagsSQL takes.
type flagUpdates struct {
	seqs                 []int64
	first, last, topSpec []bool
}

func (u *flagUpdates) add(vs []*version) {
	for _, v := range vs {
		if v.row >= 0 || (v.first == v.newFirst && v.last == v.newLast && v.topSpec == v.newTop) {
			continue
		}
		u.seqs = append(u.seqs, v.seq)
		u.first, u.last, u.topSpec = append(u.first, v.newFirst), append(u.last, v.newLast), append(u.topSpec, v.newTop)
		v.first, v.last, v.topSpec = v.newFirst, v.newLast, v.newTop
	}
}

// updateFlagsSQL writes the marks of many versions in one statement.
const updateFlagsSQL = `UPDATE objects o SET is_first = u.f, is_last = u.l, top_spec = u.t
	FROM unnest($1::bigint[], $2::boolean[], $3::boolean[], $4::boolean[]) AS u(seq, f, l, t)
	WHERE o.seq = u.seq`

// allocateSQL draws n consecutive sequence numbers in one statement and
// returns the last. Only writers holding the write lock draw, so nothing
// takes numbers between nextval and setval.
const allocateSQL = `SELECT setval(pg_get_serial_sequence('objects', 'seq'), nextval(pg_get_serial_sequence('objects', 'seq')) + $1 - 1)`

// objectColumns are the columns COPY writes. ledger_index is written
// later, by the AppendLedger that records a received version.
var objectColumns = []string{"seq", "collection", "id", "type", "version", "version_key", "versioned", "spec_version",
	"date_added", "content_hash", "is_first", "is_last", "top_spec", "raw", "signatures", "from_party", "from_node"}

// AddObjects stores objects in one transaction and reports an outcome for
// each. It fails as a whole only if the collection does not exist
// (store.ErrNotFound) or the database fails.
func (s *Store) AddObjects(ctx context.Context, collection string, objs []*stix.Object) (out []store.AddOutcome, err error) {
	// Hashing needs no lock: do it before taking it.
	ins := store.PrepareAll(objs, checkPutText)
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
		ins[i] = store.Prepare(p, checkPutText)
	}
	return t.addPrepared(ctx, collection, ins)
}

// addPrepared decides every object's outcome in memory from one read of
// the collection's last date_added and the stored versions of the batch's
// ids, then writes: sequence numbers drawn, changed marks and the
// collection's counters updated, new rows copied.
func (t *txn) addPrepared(ctx context.Context, collection string, ins []store.Incoming) ([]store.AddOutcome, error) {
	s, tx := t.s, t.tx
	pk, err := s.collectionKey(ctx, tx, collection)
	if err != nil {
		return nil, err
	}
	fail := func(err error) ([]store.AddOutcome, error) {
		return nil, fmt.Errorf("postgres: adding objects to %s: %w", collection, err)
	}
	ids := make([]string, 0, len(ins))
	for _, in := range ins {
		if in.Err == nil {
			ids = append(ids, in.Obj.ID)
		}
	}
	var lastAdded int64
	byID := make(map[string][]*version)
	{
		var b pgx.Batch
		b.Queue(`SELECT last_added FROM collections WHERE pk = $1`, pk).QueryRow(func(row pgx.Row) error {
			return row.Scan(&lastAdded)
		})
		b.Queue(`SELECT `+versionColumns+` FROM objects WHERE collection = $1 AND id = ANY($2)`, pk, ids).Query(func(rows pgx.Rows) error {
			return scanVersions(rows, byID)
		})
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return fail(err)
		}
	}

	out := make([]store.AddOutcome, len(ins))
	outRow := make([]int, len(ins)) // the new row an outcome names, -1 for none
	var rows []*version
	rowIn := []store.Incoming(nil)
	touched := make(map[string]bool)
	for i, in := range ins {
		outRow[i] = -1
		if in.Err != nil {
			out[i].Err = fmt.Errorf("postgres: %w", in.Err)
			continue
		}
		vs := byID[in.Obj.ID]
		if v, ok := sameVersion(vs, in); ok && bytes.Equal(v.hash, in.Hash) {
			out[i] = store.AddOutcome{Seq: v.seq, DateAdded: fromMicros(v.dateAdded), Version: v.version, Duplicate: true}
			outRow[i] = v.row
			continue
		} else if ok {
			out[i] = store.AddOutcome{Version: in.Version, Err: fmt.Errorf("postgres: %s version %s: %w", in.Obj.ID, in.Version, store.ErrConflict)}
			continue
		}
		if changed, err := createdChanged(ctx, tx, vs, in); err != nil {
			return nil, fmt.Errorf("postgres: adding %s to %s: %w", in.Obj.ID, collection, err)
		} else if changed != "" {
			out[i] = store.AddOutcome{Version: in.Version, Err: fmt.Errorf("postgres: %s version %s: created %s, stored versions have %s: %w",
				in.Obj.ID, in.Version, in.Obj.Created, changed, store.ErrCreatedChanged)}
			continue
		}
		// date_added strictly increases within the collection even when
		// the clock stands still or steps back.
		dateAdded := max(micros(s.now()), lastAdded+1)
		if !in.Versioned {
			tm := fromMicros(dateAdded)
			in.Version, in.Key = tm.Format(taxiiTimestampLayout), store.VersionKey(tm)
			if slices.ContainsFunc(vs, func(v *version) bool { return v.key == in.Key }) {
				// A versioned copy claims this instant already.
				out[i] = store.AddOutcome{Version: in.Version, Err: fmt.Errorf("postgres: %s version %s: %w", in.Obj.ID, in.Version, store.ErrConflict)}
				continue
			}
		}
		nv := &version{row: len(rows), version: in.Version, key: in.Key, spec: in.SpecVersion, versioned: in.Versioned,
			dateAdded: dateAdded, hash: in.Hash, created: in.Obj.Created}
		byID[in.Obj.ID] = append(vs, nv)
		touched[in.Obj.ID] = true
		rows = append(rows, nv)
		rowIn = append(rowIn, in)
		lastAdded = dateAdded
		out[i] = store.AddOutcome{DateAdded: fromMicros(dateAdded), Version: in.Version}
		outRow[i] = nv.row
	}
	if len(rows) == 0 {
		return out, nil
	}

	var flags flagUpdates
	for id := range touched {
		computeFlags(byID[id])
		flags.add(byID[id])
	}
	var last int64
	{
		var b pgx.Batch
		b.Queue(allocateSQL, len(rows)).QueryRow(func(row pgx.Row) error { return row.Scan(&last) })
		if len(flags.seqs) > 0 {
			b.Queue(updateFlagsSQL, flags.seqs, flags.first, flags.last, flags.topSpec)
		}
		b.Queue(`UPDATE collections SET last_added = $1, object_count = object_count + $2 WHERE pk = $3`, lastAdded, len(rows), pk)
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return fail(err)
		}
	}
	first := last - int64(len(rows)) + 1
	for i, v := range rows {
		v.seq = first + int64(i)
	}
	for i := range out {
		if outRow[i] >= 0 {
			out[i].Seq = rows[outRow[i]].seq
		}
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"objects"}, objectColumns, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		v, in := rows[i], rowIn[i]
		return []any{v.seq, pk, in.Obj.ID, in.Obj.Type, v.version, v.key, v.versioned, v.spec,
			v.dateAdded, v.hash, v.newFirst, v.newLast, v.newTop, []byte(in.Obj.Raw), in.Provenance, in.FromParty, in.FromNode}, nil
	}))
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// createdChanged returns the created of the stored versions vs if in, a
// new version, states another (STIX 2.1 §3.2), and "" otherwise. Versions
// agree on created, so the latest stands for all; the same instant written
// otherwise is the same created.
func createdChanged(ctx context.Context, tx pgx.Tx, vs []*version, in store.Incoming) (string, error) {
	if len(vs) == 0 || !in.Versioned || in.Obj.Created == "" {
		return "", nil
	}
	latest := slices.MaxFunc(vs, func(a, b *version) int { return strings.Compare(a.key, b.key) })
	stored := latest.created
	if latest.row < 0 {
		var raw []byte
		if err := tx.QueryRow(ctx, `SELECT raw FROM objects WHERE seq = $1`, latest.seq).Scan(&raw); err != nil {
			return "", err
		}
		var o struct {
			Created *string `json:"created"`
		}
		if err := json.Unmarshal(raw, &o); err != nil || o.Created == nil {
			return "", nil // the stored version states no created: nothing to keep
		}
		stored = *o.Created
	}
	if stored == "" || stored == in.Obj.Created {
		return "", nil
	}
	a, errA := stix.ParseTime(stored)
	b, errB := stix.ParseTime(in.Obj.Created)
	if errA == nil && errB == nil && a.Equal(b) {
		return "", nil
	}
	return stored, nil
}

// sameVersion finds the stored version that in would be another copy of:
// the one with the same version or, for an object without one (an SCO),
// the one with the same content, since there is no version to compare.
func sameVersion(vs []*version, in store.Incoming) (*version, bool) {
	for _, v := range vs {
		if in.Versioned && v.key == in.Key || !in.Versioned && !v.versioned && bytes.Equal(v.hash, in.Hash) {
			return v, true
		}
	}
	return nil, false
}

// whereVersions appends the conditions that the version and spec_version
// filters impose.
func whereVersions(b *strings.Builder, args []any, vf store.VersionFilter, specVersions []string) []any {
	if len(specVersions) > 0 {
		args = append(args, specVersions)
		fmt.Fprintf(b, " AND spec_version = ANY($%d)", len(args))
	} else {
		b.WriteString(" AND top_spec")
	}
	if vf.All {
		return args
	}
	var conds []string
	if vf.First {
		conds = append(conds, "is_first")
	}
	if vf.Last || (!vf.First && len(vf.Exact) == 0) {
		conds = append(conds, "is_last")
	}
	if len(vf.Exact) > 0 {
		keys := make([]string, len(vf.Exact))
		for i, t := range vf.Exact {
			keys[i] = store.VersionKey(t)
		}
		args = append(args, keys)
		conds = append(conds, fmt.Sprintf("version_key = ANY($%d)", len(args)))
	}
	b.WriteString(" AND (" + strings.Join(conds, " OR ") + ")")
	return args
}

// maxMergedTypes is the most types listQuery reads as a merge of one
// ordered read per type.
const maxMergedTypes = 100

// listQuery builds the query for one page of q, starting after the
// sequence number after. It fetches one row beyond the limit, which tells
// whether more follow. Its shapes, each checked by TestQueryPlans:
//   - with ids, a read of the (collection, id, version_key) index for
//     those ids, then a sort of the few versions found;
//   - with one type, an ordered read of the (collection, type, seq) index;
//   - with up to maxMergedTypes types, a Merge Append of one such ordered
//     read per type, so a page of rare types costs about a page;
//   - otherwise, an ordered read of the (collection, seq) index, which
//     stops after a page of matching rows; for a collection that holds a
//     large part of the table, the planner may read the primary key in seq
//     order instead, skipping other collections' rows, which it costs
//     lower than fetching the collection's rows scattered in the heap.
//
// Every filter's values are bound as one array parameter.
func listQuery(collection, after int64, q store.Query) (string, []any) {
	cols := "seq, id, type, version, spec_version, date_added, from_party, from_node, ledger_index"
	if !q.WithoutContent {
		cols += ", raw, signatures"
	}
	var b strings.Builder
	args := []any{collection, after, q.Limit + 1}
	selectPage := func(types []string) {
		b.WriteString("SELECT " + cols + " FROM objects WHERE collection = $1 AND seq > $2")
		if len(q.IDs) > 0 {
			args = append(args, q.IDs)
			fmt.Fprintf(&b, " AND id = ANY($%d)", len(args))
		}
		switch len(types) {
		case 0:
		case 1:
			args = append(args, types[0])
			fmt.Fprintf(&b, " AND type = $%d", len(args))
		default:
			args = append(args, types)
			fmt.Fprintf(&b, " AND type = ANY($%d)", len(args))
		}
		args = whereVersions(&b, args, q.Versions, q.SpecVersions)
		b.WriteString(" ORDER BY seq LIMIT $3")
	}
	types := slices.Compact(slices.Sorted(slices.Values(q.Types)))
	if len(types) <= 1 || len(types) > maxMergedTypes || len(q.IDs) > 0 {
		selectPage(types)
		return b.String(), args
	}
	for i, t := range types {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("(")
		selectPage([]string{t})
		b.WriteString(")")
	}
	b.WriteString(" ORDER BY seq LIMIT $3")
	return b.String(), args
}

// addedBoundQuery finds the sequence number of the last version added at or
// before a time: one backward step in the (collection, date_added) index.
const addedBoundQuery = `SELECT seq FROM objects WHERE collection = $1 AND date_added <= $2 ORDER BY date_added DESC LIMIT 1`

// Objects lists the stored versions matching q in ascending sequence order.
// Sequence numbers and date_added increase together within a collection, so
// this is also TAXII's date_added order.
func (s *Store) Objects(ctx context.Context, q store.Query) (store.Page, error) {
	if q.Limit <= 0 {
		return store.Page{}, fmt.Errorf("postgres: listing %s: limit %d: want a limit above 0", q.Collection, q.Limit)
	}
	pk, err := s.collectionKey(ctx, s.pool, q.Collection)
	if err != nil {
		return store.Page{}, err
	}
	r := s.reader(ctx)
	after := q.After
	if !q.AddedAfter.IsZero() {
		// The time bound is also a sequence bound (see addedBoundQuery).
		var bound int64
		err := r.QueryRow(ctx, addedBoundQuery, pk, micros(q.AddedAfter)).Scan(&bound)
		if errors.Is(err, pgx.ErrNoRows) {
			bound, err = 0, nil
		}
		if err != nil {
			return store.Page{}, fmt.Errorf("postgres: listing %s: %w", q.Collection, err)
		}
		after = max(after, bound)
	}
	query, args := listQuery(pk, after, q)
	rows, err := r.Query(ctx, query, args...)
	if err != nil {
		return store.Page{}, fmt.Errorf("postgres: listing %s: %w", q.Collection, err)
	}
	defer rows.Close()
	page := store.Page{Objects: make([]store.Object, 0, min(q.Limit, 1024))}
	dest := make([]any, 0, 11)
	for rows.Next() {
		if len(page.Objects) == q.Limit {
			page.More = true
			break
		}
		var (
			o           = store.Object{Collection: q.Collection}
			dateAdded   int64
			ledgerIndex *int64
		)
		dest = append(dest[:0], &o.Seq, &o.ID, &o.Type, &o.Version, &o.SpecVersion, &dateAdded, &o.FromParty, &o.FromNode, &ledgerIndex)
		if !q.WithoutContent {
			dest = append(dest, &o.Raw, &o.Provenance)
		}
		if err := rows.Scan(dest...); err != nil {
			return store.Page{}, fmt.Errorf("postgres: listing %s: %w", q.Collection, err)
		}
		o.DateAdded = fromMicros(dateAdded)
		o.LedgerIndex = -1
		if ledgerIndex != nil {
			o.LedgerIndex = *ledgerIndex
		}
		page.Objects = append(page.Objects, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return store.Page{}, fmt.Errorf("postgres: listing %s: %w", q.Collection, err)
	}
	return page, nil
}

// DeleteObject removes the versions of one object that match the filters
// (the zero VersionFilter selects the last version; no spec versions select
// the latest spec_version) and returns how many it removed. The first, last
// and latest-spec_version marks move to the versions that remain. It runs
// under the write lock, since it moves marks that writers also move.
func (s *Store) DeleteObject(ctx context.Context, collection, id string, versions store.VersionFilter, specVersions []string) (n int, err error) {
	err = s.Update(ctx, func(ctx context.Context, t store.Tx) error {
		tx := t.(*txn).tx
		pk, err := s.collectionKey(ctx, tx, collection)
		if err != nil {
			return err
		}
		var b strings.Builder
		b.WriteString("DELETE FROM objects WHERE collection = $1 AND id = $2")
		args := whereVersions(&b, []any{pk, id}, versions, specVersions)
		tag, err := tx.Exec(ctx, b.String(), args...)
		if err != nil {
			return fmt.Errorf("postgres: deleting %s from %s: %w", id, collection, err)
		}
		if n = int(tag.RowsAffected()); n == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE collections SET object_count = object_count - $1 WHERE pk = $2`, n, pk); err != nil {
			return fmt.Errorf("postgres: deleting %s from %s: %w", id, collection, err)
		}
		byID := make(map[string][]*version)
		rows, _ := tx.Query(ctx, `SELECT `+versionColumns+` FROM objects WHERE collection = $1 AND id = $2`, pk, id)
		if err := scanVersions(rows, byID); err != nil {
			return fmt.Errorf("postgres: deleting %s from %s: %w", id, collection, err)
		}
		computeFlags(byID[id])
		var flags flagUpdates
		flags.add(byID[id])
		if len(flags.seqs) > 0 {
			if _, err := tx.Exec(ctx, updateFlagsSQL, flags.seqs, flags.first, flags.last, flags.topSpec); err != nil {
				return fmt.Errorf("postgres: deleting %s from %s: %w", id, collection, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
