package node

import (
	"context"
	"slices"

	"github.com/entente/entente/store"
)

// The fake's store.Terms and store.TermsTx.

func (f *fakeStore) AgreementRecords(ctx context.Context, limit int) ([]store.AgreementRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.agreements)
	slices.Reverse(out)
	return out[:min(len(out), max(limit, 0))], f.fail
}

func (f *fakeStore) KeyRecords(ctx context.Context, limit int) ([]store.KeyRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.keys)
	slices.Reverse(out)
	return out[:min(len(out), max(limit, 0))], f.fail
}

func (t fakeTx) LatestAgreement(ctx context.Context) (store.AgreementRecord, error) {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	if len(t.f.agreements) == 0 {
		return store.AgreementRecord{}, store.ErrNotFound
	}
	return t.f.agreements[len(t.f.agreements)-1], t.f.fail
}

func (t fakeTx) AddAgreement(ctx context.Context, r store.AgreementRecord) error {
	if err := store.CheckAgreementRecord(r); err != nil {
		return err
	}
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	if t.f.fail != nil {
		return t.f.fail
	}
	r.Seq = int64(len(t.f.agreements)) + 1
	t.f.agreements = append(t.f.agreements, r)
	return nil
}

func (t fakeTx) LatestKey(ctx context.Context) (store.KeyRecord, error) {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	if len(t.f.keys) == 0 {
		return store.KeyRecord{}, store.ErrNotFound
	}
	return t.f.keys[len(t.f.keys)-1], t.f.fail
}

func (t fakeTx) AddKey(ctx context.Context, r store.KeyRecord) error {
	if err := store.CheckKeyRecord(r); err != nil {
		return err
	}
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	if t.f.fail != nil {
		return t.f.fail
	}
	r.Seq = int64(len(t.f.keys)) + 1
	t.f.keys = append(t.f.keys, r)
	return nil
}
