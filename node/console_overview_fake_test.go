package node

import (
	"bytes"
	"context"
	"time"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
)

// CountEntries counts the fake's ledger by its entries' headers, as the
// stores' index does.
func (f *fakeStore) CountEntries(ctx context.Context, k ledger.Kind, from, to time.Time, limit int) (store.EntryCounts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := store.EntryCounts{ByParty: map[string]int64{}, Complete: true}
	lo, hi := ledger.Header(k, from), ledger.Header(k, to)
	n := 0
	for _, r := range f.ledger {
		h := r.Entry[:min(len(r.Entry), ledger.HeaderSize)]
		if bytes.Compare(h, lo) < 0 || bytes.Compare(h, hi) >= 0 || len(r.Concerns) == 0 {
			continue
		}
		if n == limit {
			out.Complete = false
			break
		}
		n++
		for _, p := range r.Concerns {
			out.ByParty[p]++
		}
	}
	return out, f.fail
}

// NewestAlerts: the fake keeps no alerts (see AddAlert).
func (f *fakeStore) NewestAlerts(context.Context, int) ([]store.Alert, error) { return nil, nil }

func (f *fakeStore) NewestObjects(ctx context.Context, collection, typ string, limit int) ([]store.Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Object
	for i := len(f.objects) - 1; i >= 0 && len(out) < limit; i-- {
		if o := f.objects[i]; o.Collection == collection && o.Type == typ {
			out = append(out, o)
		}
	}
	return out, f.fail
}
