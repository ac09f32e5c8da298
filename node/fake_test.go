package node

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// fakeStore is an in-memory store.Store with just enough behaviour for the
// node's own logic; the store's semantics are tested by store/storetest and
// end to end against store/sqlite. It records the last query and can be
// made to fail.
type fakeStore struct {
	mu          sync.Mutex
	roots       []store.APIRoot
	collections []store.Collection
	objects     []store.Object
	statuses    map[string]store.Status
	fired       []store.FiredAlarm
	accounts    map[string]store.Account
	grants      []store.Grant
	shares      []store.Share
	disclosures []store.Disclosure
	seq         int64
	lastAdded   map[string]time.Time // by collection
	lastQuery   store.Query
	fail        error // returned by every method when set
	updates     int   // calls of Update
	// commitHook, when set, runs where Update would commit; an error it
	// returns fails the commit.
	commitHook func() error
	txMu       sync.Mutex // held by Update
	// The ledger, kept simply: entries in order and tlog's stored hashes.
	ledger      []store.LedgerRecord
	hashes      []tlog.Hash
	checkpoints []store.StoredCheckpoint
	// The terms recorded (store.Terms), in order.
	agreements []store.AgreementRecord
	keys       []store.KeyRecord
}

var _ store.Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{statuses: map[string]store.Status{}, accounts: map[string]store.Account{}}
}

func (f *fakeStore) CreateAPIRoot(ctx context.Context, r store.APIRoot) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	for _, x := range f.roots {
		if x.Path == r.Path {
			return store.ErrExists
		}
	}
	f.roots = append(f.roots, r)
	return nil
}

func (f *fakeStore) APIRoots(ctx context.Context) ([]store.APIRoot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.roots), f.fail
}

func (f *fakeStore) APIRoot(ctx context.Context, path string) (store.APIRoot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return store.APIRoot{}, f.fail
	}
	for _, r := range f.roots {
		if r.Path == path {
			return r, nil
		}
	}
	return store.APIRoot{}, store.ErrNotFound
}

func (f *fakeStore) CreateCollection(ctx context.Context, c store.Collection) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	for _, x := range f.collections {
		if x.ID == c.ID || c.Alias != "" && x.APIRoot == c.APIRoot && x.Alias == c.Alias {
			return store.ErrExists
		}
	}
	f.collections = append(f.collections, c)
	return nil
}

func (f *fakeStore) Collections(ctx context.Context, apiRoot string) ([]store.Collection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Collection
	for _, c := range f.collections {
		if c.APIRoot == apiRoot {
			out = append(out, c)
		}
	}
	return out, f.fail
}

func (f *fakeStore) Collection(ctx context.Context, apiRoot, id string) (store.Collection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return store.Collection{}, f.fail
	}
	for _, c := range f.collections {
		if c.APIRoot == apiRoot && c.ID == id {
			return c, nil
		}
	}
	return store.Collection{}, store.ErrNotFound
}

// Update runs f against the fake itself and undoes f's writes if it
// fails, which is all a transaction means to the node.
func (f *fakeStore) Update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	f.txMu.Lock()
	defer f.txMu.Unlock()
	f.mu.Lock()
	objects, statuses, seq := slices.Clone(f.objects), maps.Clone(f.statuses), f.seq
	entries, hashes := len(f.ledger), len(f.hashes)
	disclosures := len(f.disclosures)
	agreements, keys := len(f.agreements), len(f.keys)
	f.updates++
	hook := f.commitHook
	f.mu.Unlock()
	err := fn(ctx, fakeTx{f})
	if err == nil && hook != nil {
		err = hook()
	}
	if err != nil {
		f.mu.Lock()
		f.objects, f.statuses, f.seq = objects, statuses, seq
		f.ledger, f.hashes = f.ledger[:entries], f.hashes[:hashes]
		f.disclosures = f.disclosures[:disclosures]
		f.agreements, f.keys = f.agreements[:agreements], f.keys[:keys]
		f.mu.Unlock()
		return err
	}
	return nil
}

func (f *fakeStore) AddObjects(ctx context.Context, collection string, objs []*stix.Object) ([]store.AddOutcome, error) {
	puts := make([]store.Put, len(objs))
	for i, o := range objs {
		puts[i] = store.Put{Object: o}
	}
	return f.addPuts(collection, puts)
}

// addPuts stores what a Put carries beside the object, as the store
// contract says; it does not check the hash.
func (f *fakeStore) addPuts(collection string, puts []store.Put) ([]store.AddOutcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	out := make([]store.AddOutcome, len(puts))
	for i, p := range puts {
		o := p.Object
		// An object without a STIX version (an SCO) has one version per
		// content, named by its date_added, as the store contract says.
		version := o.Version()
		j := slices.IndexFunc(f.objects, func(s store.Object) bool {
			if version == "" {
				return s.Collection == collection && s.ID == o.ID && bytes.Equal(s.Raw, o.Raw)
			}
			return s.Collection == collection && s.ID == o.ID && s.Version == version
		})
		if j >= 0 {
			s := f.objects[j]
			out[i] = store.AddOutcome{Seq: s.Seq, DateAdded: s.DateAdded, Version: s.Version}
			if bytes.Equal(s.Raw, o.Raw) {
				out[i].Duplicate = true
			} else {
				out[i].Err = store.ErrConflict
			}
			continue
		}
		f.seq++
		s := store.Object{
			Seq: f.seq, Collection: collection, ID: o.ID, Type: o.Type, Version: version,
			SpecVersion: o.SpecVersion, DateAdded: time.UnixMicro(f.seq).UTC(), Raw: o.Raw,
			Provenance: p.Provenance, FromParty: p.FromParty, FromNode: p.FromNode, LedgerIndex: -1,
		}
		if version == "" {
			version = taxii.FormatTimestamp(s.DateAdded)
			s.Version = version
		}
		f.objects = append(f.objects, s)
		out[i] = store.AddOutcome{Seq: s.Seq, DateAdded: s.DateAdded, Version: version}
		if f.lastAdded == nil {
			f.lastAdded = map[string]time.Time{}
		}
		f.lastAdded[collection] = s.DateAdded
	}
	return out, nil
}

func (f *fakeStore) CollectionState(ctx context.Context, collection string) (store.CollectionState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return store.CollectionState{}, f.fail
	}
	if !slices.ContainsFunc(f.collections, func(c store.Collection) bool { return c.ID == collection }) {
		return store.CollectionState{}, store.ErrNotFound
	}
	st := store.CollectionState{LastAdded: f.lastAdded[collection]}
	for _, o := range f.objects {
		if o.Collection == collection {
			st.Versions++
		}
	}
	return st, nil
}

// Objects honours the collection, the cursor, ids, types and the limit,
// which is what the node's tests look at.
func (f *fakeStore) Objects(ctx context.Context, q store.Query) (store.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastQuery = q
	if f.fail != nil {
		return store.Page{}, f.fail
	}
	var p store.Page
	for _, o := range f.objects {
		if o.Collection != q.Collection || o.Seq <= q.After ||
			len(q.IDs) > 0 && !slices.Contains(q.IDs, o.ID) ||
			len(q.Types) > 0 && !slices.Contains(q.Types, o.Type) {
			continue
		}
		if len(p.Objects) == q.Limit {
			p.More = true
			break
		}
		if q.WithoutContent {
			o.Raw, o.Provenance = nil, nil
		}
		p.Objects = append(p.Objects, o)
	}
	return p, nil
}

func (f *fakeStore) DeleteObject(ctx context.Context, collection, id string, versions store.VersionFilter, specVersions []string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return 0, f.fail
	}
	before := len(f.objects)
	f.objects = slices.DeleteFunc(f.objects, func(o store.Object) bool {
		return o.Collection == collection && o.ID == id
	})
	return before - len(f.objects), nil
}

func (f *fakeStore) PutStatus(ctx context.Context, s store.Status) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.statuses[s.APIRoot+"/"+s.ID] = s
	return nil
}

func (f *fakeStore) Status(ctx context.Context, apiRoot, id string) (store.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return store.Status{}, f.fail
	}
	s, ok := f.statuses[apiRoot+"/"+id]
	if !ok {
		return store.Status{}, store.ErrNotFound
	}
	return s, nil
}

func (f *fakeStore) PruneStatuses(ctx context.Context, before time.Time) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return 0, f.fail
	}
	n := 0
	for k, s := range f.statuses {
		if s.RequestTimestamp.Before(before) {
			delete(f.statuses, k)
			n++
		}
	}
	return n, nil
}

func (f *fakeStore) CreateAccount(ctx context.Context, a store.Account) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	if _, ok := f.accounts[a.Name]; ok {
		return store.ErrExists
	}
	f.accounts[a.Name] = a
	return nil
}

func (f *fakeStore) Account(ctx context.Context, name string) (store.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return store.Account{}, f.fail
	}
	a, ok := f.accounts[name]
	if !ok {
		return store.Account{}, store.ErrNotFound
	}
	return a, nil
}

func (f *fakeStore) AccountByTokenHash(ctx context.Context, hash []byte) (store.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return store.Account{}, f.fail
	}
	for _, a := range f.accounts {
		if bytes.Equal(a.TokenHash, hash) {
			return a, nil
		}
	}
	return store.Account{}, store.ErrNotFound
}

func (f *fakeStore) AddGrant(ctx context.Context, g store.Grant) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	if _, ok := f.accounts[g.Account]; !ok {
		return store.ErrNotFound
	}
	if !slices.ContainsFunc(f.collections, func(c store.Collection) bool { return c.ID == g.Collection }) {
		return store.ErrNotFound
	}
	return addOnce(&f.grants, g)
}

func (f *fakeStore) RemoveGrant(ctx context.Context, g store.Grant) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	return removeOnce(&f.grants, g)
}

// addOnce appends v to the list, or says it is there already, as the
// stores do for grants and shares.
func addOnce[T comparable](list *[]T, v T) error {
	if slices.Contains(*list, v) {
		return store.ErrExists
	}
	*list = append(*list, v)
	return nil
}

// removeOnce removes v from the list, or says it is not there.
func removeOnce[T comparable](list *[]T, v T) error {
	i := slices.Index(*list, v)
	if i < 0 {
		return store.ErrNotFound
	}
	*list = slices.Delete(*list, i, i+1)
	return nil
}

func (f *fakeStore) Grants(ctx context.Context, account string) ([]store.Grant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	var gs []store.Grant
	for _, g := range f.grants {
		if g.Account == account {
			gs = append(gs, g)
		}
	}
	return gs, nil
}

func (f *fakeStore) Stats(ctx context.Context) (store.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return store.Stats{Collections: int64(len(f.collections)), Objects: int64(len(f.objects))}, f.fail
}

func (f *fakeStore) Close() error { return nil }

func (f *fakeStore) updatesSoFar() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.updates
}

// fakeTx is a store.Tx on the fake.
type fakeTx struct{ f *fakeStore }

func (t fakeTx) AddObjects(ctx context.Context, collection string, puts []store.Put) ([]store.AddOutcome, error) {
	return t.f.addPuts(collection, puts)
}

func (t fakeTx) PutStatus(ctx context.Context, s store.Status) error { return t.f.PutStatus(ctx, s) }

func (t fakeTx) AppendLedger(ctx context.Context, recs []store.LedgerRecord) (int64, error) {
	f := t.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return 0, f.fail
	}
	first := int64(len(f.ledger))
	b := ledger.NewBatch(first, tlog.HashReaderFunc(f.readHashes))
	for _, r := range recs {
		r.Commitment = ledger.CommitEncoded(r.Salt, r.Entry)
		idx, err := b.Append(r.Commitment)
		if err != nil {
			return 0, err
		}
		r.Index = idx
		f.ledger = append(f.ledger, r)
		for j := range f.objects {
			if o := &f.objects[j]; r.Object != 0 && len(r.Concerns) > 0 && o.Seq == r.Object && o.FromParty != "" && o.LedgerIndex == -1 {
				o.LedgerIndex = idx
			}
		}
	}
	f.hashes = append(f.hashes, b.Hashes()...)
	return first, nil
}

func (f *fakeStore) readHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(f.hashes)) {
			return nil, store.ErrNotFound
		}
		out[i] = f.hashes[x]
	}
	return out, nil
}

func (f *fakeStore) LedgerSize(ctx context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return int64(len(f.ledger)), f.fail
}

func (f *fakeStore) ReadLedgerHashes(ctx context.Context, idx []int64) ([]tlog.Hash, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.readHashes(idx)
}

func (f *fakeStore) LedgerRecords(ctx context.Context, from, to int64) ([]store.LedgerRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	to = min(to, int64(len(f.ledger)))
	if from >= to {
		return nil, f.fail
	}
	return slices.Clone(f.ledger[from:to]), f.fail
}

func (f *fakeStore) LedgerRecordOf(ctx context.Context, seq int64) (store.LedgerRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.ledger {
		if r.Object == seq && seq != 0 {
			return r, nil
		}
	}
	return store.LedgerRecord{}, store.ErrNotFound
}

func (f *fakeStore) LedgerObjects(ctx context.Context, after int64, limit int) ([]store.LedgerObject, error) {
	return nil, errors.ErrUnsupported
}

func (f *fakeStore) PutCheckpoint(ctx context.Context, c store.StoredCheckpoint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.checkpoints); n > 0 && f.checkpoints[n-1].Size >= c.Size || c.Size > int64(len(f.ledger)) {
		return store.ErrConflict
	}
	f.checkpoints = append(f.checkpoints, c)
	return nil
}

func (f *fakeStore) LatestCheckpoint(ctx context.Context) (store.StoredCheckpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.checkpoints) == 0 {
		return store.StoredCheckpoint{}, store.ErrNotFound
	}
	return f.checkpoints[len(f.checkpoints)-1], nil
}

func (f *fakeStore) Checkpoints(ctx context.Context, after int64, limit int) ([]store.StoredCheckpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.StoredCheckpoint
	for _, c := range f.checkpoints {
		if c.Size > after && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}
