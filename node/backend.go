package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// maxPage bounds a page when a caller of Objects leaves Filter.Limit unset;
// taxii.Server always sets it.
const maxPage = 1000

// notFound turns the store's ErrNotFound into TAXII's, naming what was
// missing, and wraps any other error for the server's 500.
func notFound(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s", taxii.ErrNotFound, what)
	}
	return fmt.Errorf("node: reading %s: %w", what, err)
}

// Discovery implements taxii.Backend. API roots are listed as
// server-relative URLs ("/api1/"), which TAXII 2.1 §4.1.1 allows, so that
// the resource is right whatever host name a client used.
func (n *Node) Discovery(ctx context.Context, c *taxii.Caller) (*taxii.Discovery, error) {
	roots, err := n.store.APIRoots(ctx)
	if err != nil {
		return nil, fmt.Errorf("node: reading API roots: %w", err)
	}
	d := &taxii.Discovery{Title: n.title, Description: n.description, Contact: n.contact}
	for _, r := range roots {
		d.APIRoots = append(d.APIRoots, "/"+r.Path+"/")
	}
	if len(d.APIRoots) > 0 {
		d.Default = d.APIRoots[0]
	}
	return d, nil
}

// APIRoot implements taxii.Backend.
func (n *Node) APIRoot(ctx context.Context, c *taxii.Caller, root string) (*taxii.APIRoot, error) {
	r, err := n.store.APIRoot(ctx, root)
	if err != nil {
		return nil, notFound(err, "API root %q", root)
	}
	return &taxii.APIRoot{
		Title:            r.Title,
		Description:      r.Description,
		Versions:         []string{taxii.MediaType},
		MaxContentLength: r.MaxContentLength,
	}, nil
}

// Collections implements taxii.Backend. It lists the collections c may
// see, with c's rights on each.
func (n *Node) Collections(ctx context.Context, c *taxii.Caller, root string) ([]taxii.Collection, error) {
	if _, err := n.store.APIRoot(ctx, root); err != nil {
		return nil, notFound(err, "API root %q", root)
	}
	p, err := n.principal(ctx, c)
	if err != nil {
		return nil, err
	}
	cs, err := n.store.Collections(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("node: listing the collections of %q: %w", root, err)
	}
	out := make([]taxii.Collection, 0, len(cs))
	for _, col := range cs {
		if Can(p, col.ID, ActionSee) {
			out = append(out, collectionResource(col, p))
		}
	}
	return out, nil
}

// Collection implements taxii.Backend.
func (n *Node) Collection(ctx context.Context, c *taxii.Caller, root, id string) (*taxii.Collection, error) {
	col, p, err := n.authorize(ctx, c, root, id, ActionSee)
	if err != nil {
		return nil, err
	}
	res := collectionResource(col, p)
	return &res, nil
}

// lookup finds a collection by id or, failing that, by alias: TAXII 2.1
// §5.2.1 lets an alias stand for a collection id, so URLs may carry either.
//
// Every TAXII request names its collection, so found collections are
// cached: the store has no way to change or remove one, which keeps the
// cache right. Misses are not cached, since another process (entente
// collection add) may create the collection at any time.
func (n *Node) lookup(ctx context.Context, root, idOrAlias string) (store.Collection, error) {
	key := collectionKey{root, idOrAlias}
	if col, ok := n.collections.Load(key); ok {
		return col.(store.Collection), nil
	}
	col, err := n.store.Collection(ctx, root, idOrAlias)
	if !errors.Is(err, store.ErrNotFound) {
		if err != nil {
			return store.Collection{}, notFound(err, "collection %q in API root %q", idOrAlias, root)
		}
		n.collections.Store(key, col)
		return col, nil
	}
	cols, err := n.store.Collections(ctx, root)
	if err != nil {
		return store.Collection{}, notFound(err, "collections of API root %q", root)
	}
	for _, col := range cols {
		if col.Alias != "" && col.Alias == idOrAlias {
			n.collections.Store(key, col)
			return col, nil
		}
	}
	return store.Collection{}, noCollection(root, idOrAlias)
}

// collectionKey names a collection as a request does.
type collectionKey struct{ root, idOrAlias string }

// collectionResource describes a collection to p, with p's rights on it.
func collectionResource(c store.Collection, p Principal) taxii.Collection {
	media := c.MediaTypes
	if len(media) == 0 {
		media = []string{taxii.STIXMediaType}
	}
	return taxii.Collection{
		ID:          c.ID,
		Title:       c.Title,
		Description: c.Description,
		Alias:       c.Alias,
		CanRead:     Can(p, c.ID, ActionRead),
		CanWrite:    Can(p, c.ID, ActionWrite),
		MediaTypes:  media,
	}
}

// Objects implements taxii.Backend for the objects, object, manifest and
// versions endpoints. Pages follow the store's sequence numbers, so a next
// position is the last sequence number returned.
func (n *Node) Objects(ctx context.Context, c *taxii.Caller, root, collection string, f *taxii.Filter) (*taxii.Page, error) {
	col, err := n.collection(ctx, c, root, collection, ActionRead)
	if err != nil {
		return nil, err
	}
	return n.release(ctx, c, col, query(col.ID, f))
}

func query(collection string, f *taxii.Filter) store.Query {
	limit := f.Limit
	if limit <= 0 || limit > maxPage {
		limit = maxPage
	}
	return store.Query{
		Collection:     collection,
		After:          f.After,
		AddedAfter:     f.AddedAfter,
		IDs:            f.IDs,
		Types:          f.Types,
		Versions:       versionFilter(f.Versions),
		SpecVersions:   f.SpecVersions,
		Limit:          limit,
		WithoutContent: f.Manifest,
	}
}

func versionFilter(v taxii.VersionMatch) store.VersionFilter {
	return store.VersionFilter{All: v.All, First: v.First, Last: v.Last, Exact: v.Exact}
}

// DeleteObject implements taxii.Backend. TAXII 2.1 §5.7 needs both rights
// to delete.
func (n *Node) DeleteObject(ctx context.Context, c *taxii.Caller, root, collection, id string, f *taxii.Filter) error {
	col, err := n.collection(ctx, c, root, collection, ActionDelete)
	if err != nil {
		return err
	}
	removed, err := n.store.DeleteObject(ctx, col.ID, id, versionFilter(f.Versions), f.SpecVersions)
	if err != nil {
		return notFound(err, "object %q", id)
	}
	if removed == 0 {
		return fmt.Errorf("%w: no version of object %q matches the request in collection %q", taxii.ErrNotFound, id, collection)
	}
	n.log.InfoContext(ctx, "deleted object", slog.String("account", c.Name), slog.String("collection", col.ID),
		slog.String("id", id), slog.Int("versions", removed))
	return nil
}

// Status implements taxii.Backend. A status is shown to the account that
// made the request and to admins; to anyone else it does not exist.
func (n *Node) Status(ctx context.Context, c *taxii.Caller, root, id string) (*taxii.Status, error) {
	s, err := n.store.Status(ctx, root, id)
	if err != nil {
		return nil, notFound(err, "status %q in API root %q", id, root)
	}
	// The role alone decides, so no grants are read.
	if c == nil || !CanSeeStatus(Principal{Account: c.Name, Role: store.Role(c.Role)}, s.Owner) {
		return nil, fmt.Errorf("%w: status %q in API root %q", taxii.ErrNotFound, id, root)
	}
	return statusResource(s), nil
}
