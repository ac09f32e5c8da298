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
	if c == nil || store.Role(c.Role) != store.RoleAdmin {
		return nil, false, fmt.Errorf("%w: only an admin may list accounts", taxii.ErrForbidden)
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
