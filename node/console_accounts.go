package node

import (
	"context"
	"fmt"
	"time"

	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// AccountEntry is an account as the console's accounts page lists it:
// never its token hash.
type AccountEntry struct {
	Name    string
	Role    store.Role
	Created time.Time
	Grants  []store.Grant
}

// AccountsPage lists the accounts whose name sorts after after, at most
// limit, each with its grants, and says whether more follow. Only an
// admin may list accounts.
func (n *Node) AccountsPage(ctx context.Context, c *taxii.Caller, after string, limit int) ([]AccountEntry, bool, error) {
	if err := requireAdmin(c, "list accounts"); err != nil {
		return nil, false, err
	}
	as, err := n.store.Accounts(ctx, after, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("%w: listing accounts: %v", taxii.ErrUnavailable, err)
	}
	more := len(as) > limit
	as = as[:min(len(as), limit)]
	out := make([]AccountEntry, len(as))
	for i, a := range as {
		out[i] = AccountEntry{Name: a.Name, Role: a.Role, Created: a.Created}
		if a.Role == store.RoleAdmin {
			continue // an admin holds every right; grants are not read
		}
		if out[i].Grants, err = n.store.Grants(ctx, a.Name); err != nil {
			return nil, false, fmt.Errorf("%w: reading the grants of %q: %v", taxii.ErrUnavailable, a.Name, err)
		}
	}
	return out, more, nil
}

// requireAdmin refuses a caller that is not one of the node's admins.
func requireAdmin(c *taxii.Caller, what string) error {
	if c == nil || store.Role(c.Role) != store.RoleAdmin {
		return fmt.Errorf("%w: only an admin may %s", taxii.ErrForbidden, what)
	}
	return nil
}

// CreateAccountAs is CreateAccount for caller c, which must be an admin.
func (n *Node) CreateAccountAs(ctx context.Context, c *taxii.Caller, name string, role store.Role) (string, error) {
	if err := requireAdmin(c, "create accounts"); err != nil {
		return "", err
	}
	return CreateAccount(ctx, n.store, name, role, n.now())
}

// GrantAs is Grant for caller c, which must be an admin.
func (n *Node) GrantAs(ctx context.Context, c *taxii.Caller, account, idOrAlias string, r store.Right) (store.Collection, bool, error) {
	if err := requireAdmin(c, "grant rights"); err != nil {
		return store.Collection{}, false, err
	}
	return Grant(ctx, n.store, account, idOrAlias, r)
}

// RevokeAs is Revoke for caller c, which must be an admin.
func (n *Node) RevokeAs(ctx context.Context, c *taxii.Caller, account, idOrAlias string, r store.Right) (store.Collection, bool, error) {
	if err := requireAdmin(c, "revoke rights"); err != nil {
		return store.Collection{}, false, err
	}
	return Revoke(ctx, n.store, account, idOrAlias, r)
}
