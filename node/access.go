package node

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// Action is something a caller does with a collection.
type Action int

const (
	// ActionSee is learning that the collection exists: finding it in the
	// collections resource and reading its description.
	ActionSee Action = iota + 1
	// ActionRead is reading its objects, manifest and versions.
	ActionRead
	// ActionWrite is adding objects to it.
	ActionWrite
	// ActionDelete is removing objects from it, which TAXII 2.1 §5.7 allows
	// only to a caller who may both read and write.
	ActionDelete
)

// Principal is who asks: an account, its role and the rights it holds;
// or a partner node (Role RolePartner), its party and what is shared
// with that party.
type Principal struct {
	Account string
	Role    store.Role
	Grants  []store.Grant // the account's grants; others' are ignored
	Party   string        // a partner's party
	Shares  []store.Share // what is shared with Party; others' are ignored
}

// RolePartner is the role of a partner node, which no account has.
const RolePartner store.Role = taxii.RolePartner

// Can reports whether p may do act with a collection, named by its id. It
// is the node's one authorization decision over collections: the TAXII
// backend, and every other way into the node, ask it.
//
// An admin may do everything. Analysts and readers may use only the
// collections they hold rights on: deny by default. The role caps the
// rights: a reader never writes, whatever it was granted. A partner node
// may read and write only the collections shared with its party, and
// deletes nothing. An account with a role the node does not know may do
// nothing.
func Can(p Principal, collection string, act Action) bool {
	switch p.Role {
	case store.RoleAdmin:
		return true
	case RolePartner:
		return canPartner(p, collection, act)
	case store.RoleAnalyst, store.RoleReader:
	default:
		return false
	}
	var read, write bool
	for _, g := range p.Grants {
		if g.Account != p.Account || g.Collection != collection {
			continue
		}
		switch g.Right {
		case store.RightRead:
			read = true
		case store.RightWrite:
			write = p.Role == store.RoleAnalyst
		}
	}
	switch act {
	case ActionSee:
		return read || write
	case ActionRead:
		return read
	case ActionWrite:
		return write
	case ActionDelete:
		return read && write
	}
	return false
}

func canPartner(p Principal, collection string, act Action) bool {
	if p.Party == "" {
		return false
	}
	var read, write bool
	for _, s := range p.Shares {
		if s.Party != p.Party || s.Collection != collection {
			continue
		}
		switch s.Right {
		case store.RightRead:
			read = true
		case store.RightWrite:
			write = true
		}
	}
	switch act {
	case ActionSee:
		return read || write
	case ActionRead:
		return read
	case ActionWrite:
		return write
	}
	return false // a partner deletes nothing of this node's
}

// CanSeeStatus reports whether p may read the status of an add request
// that owner made: its own, or any if p is an admin.
func CanSeeStatus(p Principal, owner string) bool {
	return p.Role == store.RoleAdmin || p.Account != "" && p.Account == owner
}

// principal loads what Can needs to know about c. Grants are read on every
// request, so a grant or a revocation made by another process (`entente
// user grant` beside `entente serve`) applies from the next request on.
func (n *Node) principal(ctx context.Context, c *taxii.Caller) (Principal, error) {
	if c == nil {
		return Principal{}, nil
	}
	p := Principal{Account: c.Name, Role: store.Role(c.Role)}
	switch {
	case p.Role == store.RoleAdmin:
		return p, nil // needs no grants
	case p.Role == RolePartner:
		// Shares, like grants, are read on every request, so that
		// `entente partner unshare` applies from the next one on.
		p.Party = c.Party
		ss, err := n.store.Shares(ctx, c.Party)
		if err != nil {
			return Principal{}, fmt.Errorf("%w: reading what is shared with %q: %v", taxii.ErrUnavailable, c.Party, err)
		}
		p.Shares = ss
		return p, nil
	}
	gs, err := n.store.Grants(ctx, c.Name)
	if err != nil {
		return Principal{}, fmt.Errorf("node: reading the grants of %q: %w", c.Name, err)
	}
	p.Grants = gs
	return p, nil
}

// collection returns the collection that idOrAlias names in root if c may
// do act with it. A caller who may not even see it gets the very answer a
// collection that does not exist gets, so that a 404 reveals nothing (the
// first row of TAXII 2.1 §5.7's table); one who may see it but not do act
// gets 403.
func (n *Node) collection(ctx context.Context, c *taxii.Caller, root, idOrAlias string, act Action) (store.Collection, error) {
	col, _, err := n.authorize(ctx, c, root, idOrAlias, act)
	return col, err
}

// authorize is collection, also returning the principal it decided for.
func (n *Node) authorize(ctx context.Context, c *taxii.Caller, root, idOrAlias string, act Action) (store.Collection, Principal, error) {
	col, err := n.lookup(ctx, root, idOrAlias)
	if err != nil {
		return store.Collection{}, Principal{}, err
	}
	p, err := n.principal(ctx, c)
	if err != nil {
		return store.Collection{}, Principal{}, err
	}
	if !Can(p, col.ID, ActionSee) {
		return store.Collection{}, Principal{}, noCollection(root, idOrAlias)
	}
	if !Can(p, col.ID, act) {
		what := map[Action]string{ActionRead: "read", ActionWrite: "add objects to", ActionDelete: "delete from (which takes the rights to read and to write)"}[act]
		if p.Role == RolePartner {
			return store.Collection{}, Principal{}, fmt.Errorf("%w: party %q may not %s collection %q; it is not shared with it for that", taxii.ErrForbidden, p.Party, what, idOrAlias)
		}
		return store.Collection{}, Principal{}, fmt.Errorf("%w: account %q may not %s collection %q; an admin can grant the right", taxii.ErrForbidden, p.Account, what, idOrAlias)
	}
	return col, p, nil
}

// noCollection is the one answer for a collection that does not exist or
// that the caller may not know about.
func noCollection(root, idOrAlias string) error {
	return fmt.Errorf("%w: no collection %q in API root %q", taxii.ErrNotFound, idOrAlias, root)
}

// Grant gives an account a right on the collection that idOrAlias names,
// in any API root, and returns the collection. changed is false when the
// account held the right already.
//
// It refuses grants that would mean nothing, so that what an operator sees
// granted is what an account may do: admins hold every right already, and
// readers never write.
func Grant(ctx context.Context, st store.Store, account, idOrAlias string, r store.Right) (col store.Collection, changed bool, err error) {
	col, err = grantTarget(ctx, st, account, idOrAlias, r)
	if err != nil {
		return store.Collection{}, false, err
	}
	err = st.AddGrant(ctx, store.Grant{Account: account, Collection: col.ID, Right: r})
	switch {
	case errors.Is(err, store.ErrExists):
		return col, false, nil
	case err != nil:
		return store.Collection{}, false, fmt.Errorf("node: granting %s on collection %s to %q: %w", r, col.ID, account, err)
	}
	return col, true, nil
}

// Revoke takes a right on the collection that idOrAlias names away from an
// account. changed is false when the account did not hold it.
func Revoke(ctx context.Context, st store.Store, account, idOrAlias string, r store.Right) (col store.Collection, changed bool, err error) {
	col, err = grantTarget(ctx, st, account, idOrAlias, r)
	if err != nil {
		return store.Collection{}, false, err
	}
	err = st.RemoveGrant(ctx, store.Grant{Account: account, Collection: col.ID, Right: r})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return col, false, nil
	case err != nil:
		return store.Collection{}, false, fmt.Errorf("node: revoking %s on collection %s from %q: %w", r, col.ID, account, err)
	}
	return col, true, nil
}

// ErrNoAccount means a grant named an account that does not exist. Create
// the account first.
var ErrNoAccount = errors.New("node: no such account")

// grantTarget checks a grant or revocation and finds its collection.
func grantTarget(ctx context.Context, st store.Store, account, idOrAlias string, r store.Right) (store.Collection, error) {
	if r != store.RightRead && r != store.RightWrite {
		return store.Collection{}, fmt.Errorf("node: right %q: want read or write", r)
	}
	a, err := st.Account(ctx, account)
	if errors.Is(err, store.ErrNotFound) {
		return store.Collection{}, fmt.Errorf("%w: %q", ErrNoAccount, account)
	}
	if err != nil {
		return store.Collection{}, fmt.Errorf("node: looking up account %q: %w", account, err)
	}
	switch {
	case a.Role == store.RoleAdmin:
		return store.Collection{}, fmt.Errorf("node: %q is an admin account, which may read and write every collection; grants are for analyst and reader accounts", account)
	case a.Role == store.RoleReader && r == store.RightWrite:
		return store.Collection{}, fmt.Errorf("node: %q is a reader account, and readers never write; grant it read, or grant write to an analyst account", account)
	}
	return FindCollection(ctx, st, idOrAlias)
}

// ErrNoCollection means no collection has the id or alias asked for.
// The error names the collections there are.
var ErrNoCollection = errors.New("node: no such collection")

// FindCollection returns the collection with this id or alias in any API
// root. An alias taken in several API roots is ambiguous: give the id.
func FindCollection(ctx context.Context, st store.Store, idOrAlias string) (store.Collection, error) {
	roots, err := st.APIRoots(ctx)
	if err != nil {
		return store.Collection{}, fmt.Errorf("node: reading API roots: %w", err)
	}
	var (
		found []store.Collection
		names []string
	)
	for _, r := range roots {
		cols, err := st.Collections(ctx, r.Path)
		if err != nil {
			return store.Collection{}, fmt.Errorf("node: listing the collections of %q: %w", r.Path, err)
		}
		for _, c := range cols {
			if c.ID == idOrAlias {
				return c, nil
			}
			if c.Alias != "" && c.Alias == idOrAlias {
				found = append(found, c)
			}
			name := c.ID
			if c.Alias != "" {
				name = c.Alias + " (" + c.ID + ")"
			}
			names = append(names, name)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		var ids []string
		for _, c := range found {
			ids = append(ids, c.ID+" in API root "+c.APIRoot)
		}
		return store.Collection{}, fmt.Errorf("node: alias %q names %d collections (%s); give the collection's id", idOrAlias, len(found), strings.Join(ids, ", "))
	}
	const show = 10
	list := strings.Join(names[:min(len(names), show)], ", ")
	if len(names) > show {
		list += fmt.Sprintf(" and %d more", len(names)-show)
	}
	if list == "" {
		list = "none"
	}
	return store.Collection{}, fmt.Errorf("%w: no collection has the id or alias %q; the collections are: %s", ErrNoCollection, idOrAlias, list)
}
