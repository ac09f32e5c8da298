package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/entente/entente/store"
)

// CreateAPIRoot stores a new API root. It fails with store.ErrExists if the
// path is taken.
func (s *Store) CreateAPIRoot(ctx context.Context, r store.APIRoot) error {
	if r.Path == "" || strings.Contains(r.Path, "/") {
		return fmt.Errorf("sqlite: API root path %q: want one non-empty URL path segment", r.Path)
	}
	_, err := s.w.ExecContext(ctx,
		`INSERT INTO api_roots (path, title, description, max_content_length) VALUES (?, ?, ?, ?)`,
		r.Path, r.Title, r.Description, r.MaxContentLength)
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: API root %q: %w", r.Path, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite: creating API root %q: %w", r.Path, err)
	}
	return nil
}

// APIRoots lists the API roots in creation order.
func (s *Store) APIRoots(ctx context.Context) ([]store.APIRoot, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT path, title, description, max_content_length FROM api_roots ORDER BY pk`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing API roots: %w", err)
	}
	defer rows.Close()
	var roots []store.APIRoot
	for rows.Next() {
		var r store.APIRoot
		if err := rows.Scan(&r.Path, &r.Title, &r.Description, &r.MaxContentLength); err != nil {
			return nil, fmt.Errorf("sqlite: listing API roots: %w", err)
		}
		roots = append(roots, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: listing API roots: %w", err)
	}
	return roots, nil
}

// APIRoot returns one API root, or store.ErrNotFound.
func (s *Store) APIRoot(ctx context.Context, path string) (store.APIRoot, error) {
	r := store.APIRoot{Path: path}
	err := s.r.QueryRowContext(ctx,
		`SELECT title, description, max_content_length FROM api_roots WHERE path = ?`, path,
	).Scan(&r.Title, &r.Description, &r.MaxContentLength)
	if errors.Is(err, sql.ErrNoRows) {
		return store.APIRoot{}, fmt.Errorf("sqlite: API root %q: %w", path, store.ErrNotFound)
	}
	if err != nil {
		return store.APIRoot{}, fmt.Errorf("sqlite: reading API root %q: %w", path, err)
	}
	return r, nil
}

// apiRootKey returns the row key of an API root, or store.ErrNotFound.
func apiRootKey(ctx context.Context, q querier, path string) (int64, error) {
	var pk int64
	err := q.QueryRowContext(ctx, `SELECT pk FROM api_roots WHERE path = ?`, path).Scan(&pk)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite: API root %q: %w", path, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: reading API root %q: %w", path, err)
	}
	return pk, nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// CreateCollection stores a new collection in an existing API root. It fails
// with store.ErrNotFound if the API root does not exist, and with
// store.ErrExists if the id, or the alias within the API root, is taken.
func (s *Store) CreateCollection(ctx context.Context, c store.Collection) error {
	if c.ID == "" {
		return fmt.Errorf("sqlite: creating a collection in %q: the id is empty", c.APIRoot)
	}
	mediaTypes, err := json.Marshal(nonNil(c.MediaTypes))
	if err != nil {
		return fmt.Errorf("sqlite: collection %s: media types: %w", c.ID, err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: creating collection %s: %w", c.ID, err)
	}
	defer tx.Rollback()
	root, err := apiRootKey(ctx, tx, c.APIRoot)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO collections (id, api_root, title, description, alias, media_types) VALUES (?, ?, ?, ?, ?, ?)`,
		c.ID, root, c.Title, c.Description, c.Alias, string(mediaTypes))
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: collection %s (alias %q) in API root %q: %w", c.ID, c.Alias, c.APIRoot, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite: creating collection %s: %w", c.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: creating collection %s: %w", c.ID, err)
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

func scanCollection(sc interface{ Scan(...any) error }) (store.Collection, error) {
	var (
		c          store.Collection
		mediaTypes []byte
	)
	if err := sc.Scan(&c.ID, &c.APIRoot, &c.Title, &c.Description, &c.Alias, &mediaTypes); err != nil {
		return store.Collection{}, err
	}
	if err := json.Unmarshal(mediaTypes, &c.MediaTypes); err != nil {
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
	root, err := apiRootKey(ctx, s.r, apiRoot)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+collectionColumns+`
		FROM collections c JOIN api_roots r ON r.pk = c.api_root
		WHERE c.api_root = ? ORDER BY c.pk`, root)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing collections of %q: %w", apiRoot, err)
	}
	defer rows.Close()
	var cs []store.Collection
	for rows.Next() {
		c, err := scanCollection(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: listing collections of %q: %w", apiRoot, err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: listing collections of %q: %w", apiRoot, err)
	}
	return cs, nil
}

// Collection returns one collection of an API root, or store.ErrNotFound.
func (s *Store) Collection(ctx context.Context, apiRoot, id string) (store.Collection, error) {
	c, err := scanCollection(s.r.QueryRowContext(ctx, `SELECT `+collectionColumns+`
		FROM collections c JOIN api_roots r ON r.pk = c.api_root
		WHERE r.path = ? AND c.id = ?`, apiRoot, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Collection{}, fmt.Errorf("sqlite: collection %s in API root %q: %w", id, apiRoot, store.ErrNotFound)
	}
	if err != nil {
		return store.Collection{}, fmt.Errorf("sqlite: reading collection %s: %w", id, err)
	}
	return c, nil
}

// collectionKey returns the row key of a collection, or store.ErrNotFound.
func (s *Store) collectionKey(ctx context.Context, q querier, id string) (int64, error) {
	if pk, ok := s.collections.Load(id); ok {
		return pk.(int64), nil
	}
	var pk int64
	err := q.QueryRowContext(ctx, `SELECT pk FROM collections WHERE id = ?`, id).Scan(&pk)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite: collection %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: reading collection %s: %w", id, err)
	}
	s.collections.Store(id, pk)
	return pk, nil
}

// PutStatus creates or replaces a status resource. It fails with
// store.ErrNotFound if the API root does not exist.
func (s *Store) PutStatus(ctx context.Context, st store.Status) error {
	// Encoding needs no lock: do it before taking it.
	details, err := store.EncodeStatusDetails(st)
	if err != nil {
		return fmt.Errorf("sqlite: status %s: %w", st.ID, err)
	}
	return s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.(*txn).putStatus(ctx, st, details)
	})
}

// PutStatus implements store.Tx.
func (t *txn) PutStatus(ctx context.Context, st store.Status) error {
	details, err := store.EncodeStatusDetails(st)
	if err != nil {
		return fmt.Errorf("sqlite: status %s: %w", st.ID, err)
	}
	return t.putStatus(ctx, st, details)
}

func (t *txn) putStatus(ctx context.Context, st store.Status, details []byte) error {
	tx := t.tx
	root, err := apiRootKey(ctx, tx, st.APIRoot)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO statuses (api_root, id, status, request_timestamp,
			total_count, success_count, failure_count, pending_count, details, owner)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (api_root, id) DO UPDATE SET
			status = excluded.status,
			request_timestamp = excluded.request_timestamp,
			total_count = excluded.total_count,
			success_count = excluded.success_count,
			failure_count = excluded.failure_count,
			pending_count = excluded.pending_count,
			details = excluded.details,
			owner = excluded.owner`,
		root, st.ID, st.Status, micros(st.RequestTimestamp),
		st.TotalCount, st.SuccessCount, st.FailureCount, st.PendingCount, details, st.Owner)
	if err != nil {
		return fmt.Errorf("sqlite: storing status %s: %w", st.ID, err)
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
	err := s.r.QueryRowContext(ctx, `SELECT s.status, s.request_timestamp,
			s.total_count, s.success_count, s.failure_count, s.pending_count, s.details, s.owner
		FROM statuses s JOIN api_roots r ON r.pk = s.api_root
		WHERE r.path = ? AND s.id = ?`, apiRoot, id,
	).Scan(&st.Status, &requested, &st.TotalCount, &st.SuccessCount, &st.FailureCount, &st.PendingCount, &details, &st.Owner)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Status{}, fmt.Errorf("sqlite: status %s in API root %q: %w", id, apiRoot, store.ErrNotFound)
	}
	if err != nil {
		return store.Status{}, fmt.Errorf("sqlite: reading status %s: %w", id, err)
	}
	st.RequestTimestamp = fromMicros(requested)
	if err := store.DecodeStatusDetails(details, &st); err != nil {
		return store.Status{}, fmt.Errorf("sqlite: status %s: stored details: %w", id, err)
	}
	return st, nil
}

// PruneStatuses deletes the statuses requested before t and returns how
// many it deleted.
func (s *Store) PruneStatuses(ctx context.Context, before time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM statuses WHERE request_timestamp < ?`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: pruning statuses: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: pruning statuses: %w", err)
	}
	return int(n), nil
}

// CreateAccount stores a new account. It fails with store.ErrExists if the
// name (or, against all odds, the token hash) is taken.
func (s *Store) CreateAccount(ctx context.Context, a store.Account) error {
	switch {
	case a.Name == "":
		return errors.New("sqlite: creating an account: the name is empty")
	case a.Role == "":
		return fmt.Errorf("sqlite: account %q: the role is empty", a.Name)
	case len(a.TokenHash) == 0:
		return fmt.Errorf("sqlite: account %q: the token hash is empty", a.Name)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO accounts (name, role, token_hash, created) VALUES (?, ?, ?, ?)`,
		a.Name, string(a.Role), a.TokenHash, micros(a.Created))
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: account %q: %w", a.Name, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite: creating account %q: %w", a.Name, err)
	}
	return nil
}

const accountColumns = `name, role, token_hash, created`

func scanAccount(row *sql.Row) (store.Account, error) {
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
	a, err := scanAccount(s.r.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Account{}, fmt.Errorf("sqlite: account %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("sqlite: reading account %q: %w", name, err)
	}
	return a, nil
}

// AccountByTokenHash returns the account whose token has this hash, or
// store.ErrNotFound.
func (s *Store) AccountByTokenHash(ctx context.Context, hash []byte) (store.Account, error) {
	a, err := scanAccount(s.r.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE token_hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		// The hash is a credential: keep it out of the message.
		return store.Account{}, fmt.Errorf("sqlite: no account has this token: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("sqlite: reading an account by token: %w", err)
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
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: granting %s: %w", g.Right, err)
	}
	defer tx.Rollback()
	col, err := s.collectionKey(ctx, tx, g.Collection)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO grants (account, collection, access)
		SELECT name, ?, ? FROM accounts WHERE name = ?`, col, string(g.Right), g.Account)
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: account %q holds %s on collection %s: %w", g.Account, g.Right, g.Collection, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite: granting %s on collection %s to %q: %w", g.Right, g.Collection, g.Account, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: granting %s on collection %s to %q: %w", g.Right, g.Collection, g.Account, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: account %q: %w", g.Account, store.ErrNotFound)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: granting %s on collection %s to %q: %w", g.Right, g.Collection, g.Account, err)
	}
	return nil
}

// RemoveGrant takes a right away, or fails with store.ErrNotFound if it was
// not held.
func (s *Store) RemoveGrant(ctx context.Context, g store.Grant) error {
	if err := checkRight(g.Right); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM grants
		WHERE account = ? AND access = ? AND collection = (SELECT pk FROM collections WHERE id = ?)`,
		g.Account, string(g.Right), g.Collection)
	if err != nil {
		return fmt.Errorf("sqlite: revoking %s on collection %s from %q: %w", g.Right, g.Collection, g.Account, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: revoking %s on collection %s from %q: %w", g.Right, g.Collection, g.Account, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: account %q holds no %s on collection %s: %w", g.Account, g.Right, g.Collection, store.ErrNotFound)
	}
	return nil
}

// Grants lists an account's rights by collection creation order, read
// before write.
func (s *Store) Grants(ctx context.Context, account string) ([]store.Grant, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, g.access FROM grants g JOIN collections c ON c.pk = g.collection
		WHERE g.account = ? ORDER BY c.pk, g.access`, account)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading the grants of %q: %w", account, err)
	}
	defer rows.Close()
	var gs []store.Grant
	for rows.Next() {
		g := store.Grant{Account: account}
		if err := rows.Scan(&g.Collection, &g.Right); err != nil {
			return nil, fmt.Errorf("sqlite: reading the grants of %q: %w", account, err)
		}
		gs = append(gs, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading the grants of %q: %w", account, err)
	}
	return gs, nil
}

func checkRight(r store.Right) error {
	if r != store.RightRead && r != store.RightWrite {
		return fmt.Errorf("sqlite: right %q: want %q or %q", r, store.RightRead, store.RightWrite)
	}
	return nil
}

// statsQuery reads the counts that AddObjects and DeleteObject keep per
// collection: its cost grows with the collections, not the objects.
const statsQuery = `SELECT count(*), coalesce(sum(object_count), 0) FROM collections`

// Stats counts the collections and stored object versions.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	err := s.r.QueryRowContext(ctx, statsQuery).Scan(&st.Collections, &st.Objects)
	if err != nil {
		return store.Stats{}, fmt.Errorf("sqlite: counting: %w", err)
	}
	return st, nil
}

// CollectionState reads the marks AddObjects and DeleteObject keep on the
// collection's row.
func (s *Store) CollectionState(ctx context.Context, collection string) (store.CollectionState, error) {
	var last, n int64
	err := s.r.QueryRowContext(ctx, `SELECT last_added, object_count FROM collections WHERE id = ?`, collection).Scan(&last, &n)
	if errors.Is(err, sql.ErrNoRows) {
		return store.CollectionState{}, fmt.Errorf("sqlite: collection %s: %w", collection, store.ErrNotFound)
	}
	if err != nil {
		return store.CollectionState{}, fmt.Errorf("sqlite: reading the state of collection %s: %w", collection, err)
	}
	st := store.CollectionState{Versions: n}
	if last != 0 {
		st.LastAdded = fromMicros(last)
	}
	return st, nil
}
