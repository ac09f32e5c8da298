package node

import (
	"context"
	"slices"
	"strings"

	"github.com/entente/entente/store"
)

func (f *fakeStore) Accounts(ctx context.Context, after string, limit int) ([]store.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	var out []store.Account
	for _, a := range f.accounts {
		if a.Name > after {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b store.Account) int { return strings.Compare(a.Name, b.Name) })
	return out[:min(limit, len(out))], nil
}
