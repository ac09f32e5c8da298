package node

import (
	"context"
	"errors"
	"time"

	"github.com/entente/entente/store"
)

// The fake store keeps no federation state: the node's federation is
// tested against store/sqlite.
var errNoFederationFake = errors.New("fake store: no federation state; test federation against store/sqlite")

func (f *fakeStore) Cursor(context.Context, string, string) (time.Time, error) {
	return time.Time{}, errNoFederationFake
}
func (f *fakeStore) SaveCursor(context.Context, string, string, time.Time) error {
	return errNoFederationFake
}
func (f *fakeStore) Cursors(context.Context) ([]store.Cursor, error) { return nil, nil }
func (f *fakeStore) PutLinkHealth(context.Context, store.LinkHealth) error {
	return errNoFederationFake
}
func (f *fakeStore) LinkHealth(context.Context) ([]store.LinkHealth, error) { return nil, nil }
func (f *fakeStore) AddAlert(context.Context, store.Alert) (int64, error) {
	return 0, errNoFederationFake
}
func (f *fakeStore) Alerts(context.Context, int64, int) ([]store.Alert, error) { return nil, nil }

func (f *fakeStore) FiredAlarms(context.Context) ([]store.FiredAlarm, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]store.FiredAlarm(nil), f.fired...), nil
}

func (t fakeTx) MarkFired(ctx context.Context, as []store.FiredAlarm) error {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	for _, a := range as {
		for _, g := range t.f.fired {
			if g.Key == a.Key {
				return store.ErrExists
			}
		}
	}
	t.f.fired = append(t.f.fired, as...)
	return nil
}
