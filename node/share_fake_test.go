package node

import (
	"context"
	"slices"

	"github.com/entente/entente/store"
)

// Shares and disclosures of the fake store, kept simply; store/storetest
// tests their semantics.

func (f *fakeStore) AddShare(ctx context.Context, s store.Share) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	if !slices.ContainsFunc(f.collections, func(c store.Collection) bool { return c.ID == s.Collection }) {
		return store.ErrNotFound
	}
	return addOnce(&f.shares, s)
}

func (f *fakeStore) RemoveShare(ctx context.Context, s store.Share) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	return removeOnce(&f.shares, s)
}

func (f *fakeStore) Shares(ctx context.Context, party string) ([]store.Share, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	var out []store.Share
	for _, s := range f.shares {
		if party == "" || s.Party == party {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeStore) Disclosures(ctx context.Context, party string, ids []string) ([]store.Disclosure, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	var out []store.Disclosure
	for _, d := range f.disclosures {
		if (party == "" || d.Party == party) && slices.Contains(ids, d.ID) {
			out = append(out, d)
		}
	}
	return out, nil
}

func sameDisclosure(a, b store.Disclosure) bool {
	a.Ledger, b.Ledger = 0, 0
	return a == b
}

func (t fakeTx) Disclosed(ctx context.Context, ds []store.Disclosure) ([]bool, error) {
	f := t.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	out := make([]bool, len(ds))
	for i, d := range ds {
		out[i] = slices.ContainsFunc(f.disclosures, func(x store.Disclosure) bool { return sameDisclosure(x, d) })
	}
	return out, nil
}

func (t fakeTx) AddDisclosures(ctx context.Context, ds []store.Disclosure) error {
	f := t.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	for _, d := range ds {
		if slices.ContainsFunc(f.disclosures, func(x store.Disclosure) bool { return sameDisclosure(x, d) }) {
			return store.ErrExists
		}
		f.disclosures = append(f.disclosures, d)
	}
	return nil
}
