package node

import (
	"context"
	"errors"

	"github.com/entente/entente/store"
)

// The fake store keeps no witness state: the witness is tested against
// store/sqlite (witness_test.go), and store/storetest checks the methods'
// semantics.

var errNoWitnessFake = errors.New("fake store: no witness state; test the witness against store/sqlite")

func (f *fakeStore) AddCosignatures(context.Context, int64, []byte) error { return errNoWitnessFake }
func (f *fakeStore) WitnessedCheckpoint(context.Context, string) ([]byte, error) {
	return nil, store.ErrNotFound
}
func (f *fakeStore) SwapWitnessedCheckpoint(context.Context, string, []byte, []byte) error {
	return errNoWitnessFake
}
func (f *fakeStore) SuspendLog(context.Context, store.Suspension) error      { return errNoWitnessFake }
func (f *fakeStore) Suspensions(context.Context) ([]store.Suspension, error) { return nil, nil }
func (f *fakeStore) ResumeLog(context.Context, string) error                 { return store.ErrNotFound }
