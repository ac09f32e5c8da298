package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// CallerOf returns the caller that the account named account is now: its
// role as stored, so that the console, which authenticates an account
// once and then keeps a session, sees a changed role or a removed account
// from the next request on. It fails with taxii.ErrUnauthorized for an
// account that no longer exists or holds no role the node knows.
func (n *Node) CallerOf(ctx context.Context, account string) (*taxii.Caller, error) {
	a, err := n.store.Account(ctx, account)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, taxii.ErrUnauthorized
	case err != nil:
		return nil, fmt.Errorf("%w: looking up account %q: %v", taxii.ErrUnavailable, account, err)
	}
	if !ValidRole(a.Role) {
		return nil, taxii.ErrUnauthorized
	}
	return &taxii.Caller{Name: a.Name, Role: string(a.Role)}, nil
}

// Principal returns what node.Can needs to know about c: its role and
// its grants, read now. The console asks it once per page and then
// decides each collection with Can, as the TAXII paths do.
func (n *Node) Principal(ctx context.Context, c *taxii.Caller) (Principal, error) {
	return n.principal(ctx, c)
}
