package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entente/entente/store"
)

// CreateAPIRoot stores a new API root. It fails with store.ErrExists if the
// path is taken.
func (s *Store) CreateAPIRoot(ctx context.Context, r store.APIRoot) error {
	if r.Path == "" || strings.Contains(r.Path, "/") {
		return fmt.Errorf("postgres: API root path %q: want one non-empty URL path segment", r.Path)
	}
	_, err := s.pool.Exec(ctx,
		`INSERT INTO api_roots (path, title, description, max_content_length) VALUES ($1, $2, $3, $4)`,
		r.Path, r.Title, r.Description, r.MaxContentLength)
	if isUniqueViolation(err) {
		return fmt.Errorf("postgres: API root %q: %w", r.Path, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("postgres: creating API root %q: %w", r.Path, err)
	}
	return nil
}

// APIRoots lists the API roots in creation order.
func (s *Store) APIRoots(ctx context.Context) ([]store.APIRoot, error) {
	rows, _ := s.pool.Query(ctx, `SELECT path, title, description, max_content_length FROM api_roots ORDER BY pk`)
	roots, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.APIRoot, error) {
		var r store.APIRoot
		err := row.Scan(&r.Path, &r.Title, &r.Description, &r.MaxContentLength)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: listing API roots: %w", err)
	}
	return roots, nil
}

// APIRoot returns one API root, or store.ErrNotFound.
func (s *Store) APIRoot(ctx context.Context, path string) (store.APIRoot, error) {
	r := store.APIRoot{Path: path}
	err := s.pool.QueryRow(ctx,
		`SELECT title, description, max_content_length FROM api_roots WHERE path = $1`, path,
	).Scan(&r.Title, &r.Description, &r.MaxContentLength)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.APIRoot{}, fmt.Errorf("postgres: API root %q: %w", path, store.ErrNotFound)
	}
	if err != nil {
		return store.APIRoot{}, fmt.Errorf("postgres: reading API root %q: %w", path, err)
	}
	return r, nil
}

// CreateCollection stores a new collection in an existing API root. It fails
// with store.ErrNotFound if the API root does not exist, and with
// store.ErrExists if the id, or the alias within the API root, is taken.
func (s *Store) CreateCollection(ctx context.Context, c store.Collection) error {
	if c.ID == "" {
		return fmt.Errorf("postgres: creating a collection in %q: the id is empty", c.APIRoot)
	}
	mediaTypes, err := json.Marshal(nonNil(c.MediaTypes))
	if err != nil {
		return fmt.Errorf("postgres: collection %s: media types: %w", c.ID, err)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO collections (id, api_root, title, description, alias, media_types)
		SELECT $1, pk, $2, $3, $4, $5 FROM api_roots WHERE path = $6`,
		c.ID, c.Title, c.Description, c.Alias, string(mediaTypes), c.APIRoot)
	if isUniqueViolation(err) {
		return fmt.Errorf("postgres: collection %s (alias %q) in API root %q: %w", c.ID, c.Alias, c.APIRoot, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("postgres: creating collection %s: %w", c.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: API root %q: %w", c.APIRoot, store.ErrNotFound)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const collectionColumns = `c.id, r.path, c.title, c.description, c.alias, c.media_types`

func scanCollection(row pgx.Row) (store.Collection, error) {
	var (
		c          store.Collection
		mediaTypes string
	)
	if err := row.Scan(&c.ID, &c.APIRoot, &c.Title, &c.Description, &c.Alias, &mediaTypes); err != nil {
		return store.Collection{}, err
	}
	if err := json.Unmarshal([]byte(mediaTypes), &c.MediaTypes); err != nil {
		return store.Collection{}, fmt.Errorf("collection %s: stored media types %q: %w", c.ID, mediaTypes, err)
	}
	if len(c.MediaTypes) == 0 {
		c.MediaTypes = nil
	}
	return c, nil
}

// Collections lists an API root's collections in creation order. It fails
// with store.ErrNotFound if the API root does not exist.
func (s *Store) Collections(ctx context.Context, apiRoot string) ([]store.Collection, error) {
	if _, err := s.APIRoot(ctx, apiRoot); err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, `SELECT `+collectionColumns+`
		FROM collections c JOIN api_roots r ON r.pk = c.api_root
		WHERE r.path = $1 ORDER BY c.pk`, apiRoot)
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Collection, error) { return scanCollection(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: listing collections of %q: %w", apiRoot, err)
	}
	return cs, nil
}

// Collection returns one collection of an API root, or store.ErrNotFound.
func (s *Store) Collection(ctx context.Context, apiRoot, id string) (store.Collection, error) {
	c, err := scanCollection(s.pool.QueryRow(ctx, `SELECT `+collectionColumns+`
		FROM collections c JOIN api_roots r ON r.pk = c.api_root
		WHERE r.path = $1 AND c.id = $2`, apiRoot, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Collection{}, fmt.Errorf("postgres: collection %s in API root %q: %w", id, apiRoot, store.ErrNotFound)
	}
	if err != nil {
		return store.Collection{}, fmt.Errorf("postgres: reading collection %s: %w", id, err)
	}
	return c, nil
}

// collectionKey returns the row key of a collection, or store.ErrNotFound.
func (s *Store) collectionKey(ctx context.Context, q querier, id string) (int64, error) {
	if pk, ok := s.collections.Load(id); ok {
		return pk.(int64), nil
	}
	var pk int64
	err := q.QueryRow(ctx, `SELECT pk FROM collections WHERE id = $1`, id).Scan(&pk)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("postgres: collection %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: reading collection %s: %w", id, err)
	}
	s.collections.Store(id, pk)
	return pk, nil
}

// putStatusSQL creates or replaces a status; it stores nothing, and
// reports no row, if the API root does not exist.
const putStatusSQL = `INSERT INTO statuses (api_root, id, status, request_timestamp,
		total_count, success_count, failure_count, pending_count, details, owner)
	SELECT pk, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM api_roots WHERE path = $1
	ON CONFLICT (api_root, id) DO UPDATE SET
		status = excluded.status,
		request_timestamp = excluded.request_timestamp,
		total_count = excluded.total_count,
		success_count = excluded.success_count,
		failure_count = excluded.failure_count,
		pending_count = excluded.pending_count,
		details = excluded.details,
		owner = excluded.owner`

// PutStatus creates or replaces a status resource. It fails with
// store.ErrNotFound if the API root does not exist. A status is one row:
// it needs no write lock.
func (s *Store) PutStatus(ctx context.Context, st store.Status) error {
	return putStatus(ctx, s.pool, st)
}

// PutStatus implements store.Tx.
func (t *txn) PutStatus(ctx context.Context, st store.Status) error {
	return putStatus(ctx, t.tx, st)
}

func putStatus(ctx context.Context, q querier, st store.Status) error {
	details, err := store.EncodeStatusDetails(st)
	if err != nil {
		return fmt.Errorf("postgres: status %s: %w", st.ID, err)
	}
	tag, err := q.Exec(ctx, putStatusSQL, st.APIRoot, st.ID, st.Status, micros(st.RequestTimestamp),
		st.TotalCount, st.SuccessCount, st.FailureCount, st.PendingCount, details, st.Owner)
	if err != nil {
		return fmt.Errorf("postgres: storing status %s: %w", st.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: API root %q: %w", st.APIRoot, store.ErrNotFound)
	}
	return nil
}

// Status returns one status resource, or store.ErrNotFound.
func (s *Store) Status(ctx context.Context, apiRoot, id string) (store.Status, error) {
	st := store.Status{ID: id, APIRoot: apiRoot}
	var (
		requested int64
		details   []byte
	)
	err := s.reader(ctx).QueryRow(ctx, `SELECT s.status, s.request_timestamp,
			s.total_count, s.success_count, s.failure_count, s.pending_count, s.details, s.owner
		FROM statuses s JOIN api_roots r ON r.pk = s.api_root
		WHERE r.path = $1 AND s.id = $2`, apiRoot, id,
	).Scan(&st.Status, &requested, &st.TotalCount, &st.SuccessCount, &st.FailureCount, &st.PendingCount, &details, &st.Owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Status{}, fmt.Errorf("postgres: status %s in API root %q: %w", id, apiRoot, store.ErrNotFound)
	}
	if err != nil {
		return store.Status{}, fmt.Errorf("postgres: reading status %s: %w", id, err)
	}
	st.RequestTimestamp = fromMicros(requested)
	if err := store.DecodeStatusDetails(details, &st); err != nil {
		return store.Status{}, fmt.Errorf("postgres: status %s: stored details: %w", id, err)
	}
	return st, nil
}

// PruneStatuses deletes the statuses requested before t and returns how
// many it deleted.
func (s *Store) PruneStatuses(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM statuses WHERE request_timestamp < $1`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("postgres: pruning statuses: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// CreateAccount stores a new account. It fails with store.ErrExists if the
// name (or, against all odds, the token hash) is taken.
func (s *Store) CreateAccount(ctx context.Context, a store.Account) error {
	switch {
	case a.Name == "":
		return errors.New("postgres: creating an account: the name is empty")
	case a.Role == "":
		return fmt.Errorf("postgres: account %q: the role is empty", a.Name)
	case len(a.TokenHash) == 0:
		return fmt.Errorf("postgres: account %q: the token hash is empty", a.Name)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO accounts (name, role, token_hash, created) VALUES ($1, $2, $3, $4)`,
		a.Name, string(a.Role), a.TokenHash, micros(a.Created))
	if isUniqueViolation(err) {
		return fmt.Errorf("postgres: account %q: %w", a.Name, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("postgres: creating account %q: %w", a.Name, err)
	}
	return nil
}

const accountColumns = `name, role, token_hash, created`

func scanAccount(row pgx.Row) (store.Account, error) {
	var (
		a       store.Account
		role    string
		created int64
	)
	if err := row.Scan(&a.Name, &role, &a.TokenHash, &created); err != nil {
		return store.Account{}, err
	}
	a.Role, a.Created = store.Role(role), fromMicros(created)
	return a, nil
}

// Account returns the account with this name, or store.ErrNotFound.
func (s *Store) Account(ctx context.Context, name string) (store.Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Account{}, fmt.Errorf("postgres: account %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("postgres: reading account %q: %w", name, err)
	}
	return a, nil
}

// AccountByTokenHash returns the account whose token has this hash, or
// store.ErrNotFound.
func (s *Store) AccountByTokenHash(ctx context.Context, hash []byte) (store.Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE token_hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		// The hash is a credential: keep it out of the message.
		return store.Account{}, fmt.Errorf("postgres: no account has this token: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("postgres: reading an account by token: %w", err)
	}
	return a, nil
}

// AddGrant gives an account a right on a collection. It fails with
// store.ErrExists if the right is held already, and with store.ErrNotFound
// if the account or the collection does not exist.
func (s *Store) AddGrant(ctx context.Context, g store.Grant) error {
	if err := checkRight(g.Right); err != nil {
		return err
	}
	col, err := s.collectionKey(ctx, s.pool, g.Collection)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO grants (account, collection, access)
		SELECT name, $1, $2 FROM accounts WHERE name = $3`, col, string(g.Right), g.Account)
	if isUniqueViolation(err) {
		return fmt.Errorf("postgres: account %q holds %s on collection %s: %w", g.Account, g.Right, g.Collection, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("postgres: granting %s on collection %s to %q: %w", g.Right, g.Collection, g.Account, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: account %q: %w", g.Account, store.ErrNotFound)
	}
	return nil
}

// RemoveGrant takes a right away, or fails with store.ErrNotFound if it was
// not held.
func (s *Store) RemoveGrant(ctx context.Context, g store.Grant) error {
	if err := checkRight(g.Right); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM grants
		WHERE account = $1 AND access = $2 AND collection = (SELECT pk FROM collections WHERE id = $3)`,
		g.Account, string(g.Right), g.Collection)
	if err != nil {
		return fmt.Errorf("postgres: revoking %s on collection %s from %q: %w", g.Right, g.Collection, g.Account, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: account %q holds no %s on collection %s: %w", g.Account, g.Right, g.Collection, store.ErrNotFound)
	}
	return nil
}

// Grants lists an account's rights by collection creation order, read
// before write.
func (s *Store) Grants(ctx context.Context, account string) ([]store.Grant, error) {
	rows, _ := s.pool.Query(ctx, `SELECT c.id, g.access FROM grants g JOIN collections c ON c.pk = g.collection
		WHERE g.account = $1 ORDER BY c.pk, g.access`, account)
	gs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Grant, error) {
		g := store.Grant{Account: account}
		var right string
		err := row.Scan(&g.Collection, &right)
		g.Right = store.Right(right)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reading the grants of %q: %w", account, err)
	}
	return gs, nil
}

func checkRight(r store.Right) error {
	if r != store.RightRead && r != store.RightWrite {
		return fmt.Errorf("postgres: right %q: want %q or %q", r, store.RightRead, store.RightWrite)
	}
	return nil
}

// statsQuery reads the counts that AddObjects and DeleteObject keep per
// collection: its cost grows with the collections, not the objects.
const statsQuery = `SELECT count(*), coalesce(sum(object_count), 0)::bigint FROM collections`

// Stats counts the collections and stored object versions.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	if err := s.pool.QueryRow(ctx, statsQuery).Scan(&st.Collections, &st.Objects); err != nil {
		return store.Stats{}, fmt.Errorf("postgres: counting: %w", err)
	}
	return st, nil
}

// CollectionState reads the marks AddObjects and DeleteObject keep on the
// collection's row. With a replica it reads there, whoever asks: a reader
// that renders from the collection after this probe then reads at least
// the state the probe saw, from the replica or the primary, never less.
// (Read from the primary, the probe could see a write that a later read
// of the replica does not yet hold, and mark an older rendering as newer.)
func (s *Store) CollectionState(ctx context.Context, collection string) (store.CollectionState, error) {
	q := querier(s.pool)
	if s.replica != nil {
		q = s.replica
	}
	var last, n int64
	err := q.QueryRow(ctx, `SELECT last_added, object_count FROM collections WHERE id = $1`, collection).Scan(&last, &n)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.CollectionState{}, fmt.Errorf("postgres: collection %s: %w", collection, store.ErrNotFound)
	}
	if err != nil {
		return store.CollectionState{}, fmt.Errorf("postgres: reading the state of collection %s: %w", collection, err)
	}
	st := store.CollectionState{Versions: n}
	if last != 0 {
		st.LastAdded = fromMicros(last)
	}
	return st, nil
}
