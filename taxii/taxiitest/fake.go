// Package taxiitest provides Fake, a small in-memory taxii.Backend that
// follows TAXII 2.1 (https://docs.oasis-open.org/cti/taxii/v2.1/taxii-v2.1.html)
// closely enough to test the taxii Server, the taxii Client and their users,
// with fault injection for the failure paths.
//
// Fake checks only the little of STIX 2.1 it needs to key objects (type,
// id, created, modified, spec_version); it is no substitute for a node's
// validation.
package taxiitest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// Perm is what a role may do in a collection.
type Perm struct{ Read, Write bool }

// Fake is an in-memory taxii.Backend. Set its exported fields before
// serving; its methods are safe for concurrent use.
type Fake struct {
	// Now gives the date_added of new object versions, which Fake then
	// makes strictly increasing per collection at microsecond precision.
	// Default time.Now.
	Now func() time.Time

	// NewID gives status ids. Default: random UUIDv4.
	NewID func() string

	mu       sync.Mutex
	failFunc func(method string) error
	accounts map[string]account // by token
	roots    map[string]*apiRoot
	order    []string // API root paths in creation order
	seq      int64
}

type account struct {
	name, role string
}

type apiRoot struct {
	info        taxii.APIRoot
	collections []*collection
	statuses    map[string]*taxii.Status
}

type collection struct {
	info     taxii.Collection
	perms    map[string]Perm // by role
	versions []*version      // ascending by seq and date_added
}

type version struct {
	seq         int64
	id, typ     string
	version     string
	versionTime time.Time
	specVersion string
	dateAdded   time.Time
	raw         json.RawMessage
	provenance  json.RawMessage // as posted beside the object; nil for none
}

var (
	_ taxii.Backend         = (*Fake)(nil)
	_ taxii.ProvenanceAdder = (*Fake)(nil)
)

// New returns an empty Fake.
func New() *Fake {
	return &Fake{accounts: make(map[string]account), roots: make(map[string]*apiRoot)}
}

// AddAccount lets name, holding role, authenticate with token.
func (f *Fake) AddAccount(name, role, token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accounts[token] = account{name, role}
}

// AddAPIRoot adds an API root at path (a single path segment).
func (f *Fake) AddAPIRoot(path string, info taxii.APIRoot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roots[path] = &apiRoot{info: info, statuses: make(map[string]*taxii.Status)}
	f.order = append(f.order, path)
}

// AddCollection adds a collection to an API root; perms says what each
// role may do in it. To a role absent from perms, or one that may neither
// read nor write, the collection does not exist, as taxii.Backend asks.
func (f *Fake) AddCollection(root string, info taxii.Collection, perms map[string]Perm) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.roots[root]
	if !ok {
		return fmt.Errorf("taxiitest: no API root %q", root)
	}
	r.collections = append(r.collections, &collection{info: info, perms: perms})
	return nil
}

// SetFail injects faults: fn is called first by every Backend method with
// the method's name ("Objects", "AddObjects", ...), and a non-nil result is
// returned as the method's error, with nothing else done. A nil fn stops
// the faults. fn may panic, to test recovery.
func (f *Fake) SetFail(fn func(method string) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failFunc = fn
}

func (f *Fake) fail(method string) error {
	f.mu.Lock()
	fn := f.failFunc
	f.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn(method)
}

// Authenticate implements taxii.Backend.
func (f *Fake) Authenticate(ctx context.Context, user, token string) (*taxii.Caller, error) {
	if err := f.fail("Authenticate"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.accounts[token]
	if !ok || user != "" && user != a.name {
		return nil, fmt.Errorf("%w: unknown user name or token", taxii.ErrUnauthorized)
	}
	return &taxii.Caller{Name: a.name, Role: a.role}, nil
}

// Discovery implements taxii.Backend.
func (f *Fake) Discovery(ctx context.Context, c *taxii.Caller) (*taxii.Discovery, error) {
	if err := f.fail("Discovery"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	d := &taxii.Discovery{Title: "Fake TAXII server"}
	for _, p := range f.order {
		d.APIRoots = append(d.APIRoots, "/"+p+"/")
	}
	if len(d.APIRoots) > 0 {
		d.Default = d.APIRoots[0]
	}
	return d, nil
}

// APIRoot implements taxii.Backend.
func (f *Fake) APIRoot(ctx context.Context, c *taxii.Caller, root string) (*taxii.APIRoot, error) {
	if err := f.fail("APIRoot"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.root(root)
	if err != nil {
		return nil, err
	}
	info := r.info
	return &info, nil
}

func (f *Fake) root(path string) (*apiRoot, error) {
	r, ok := f.roots[path]
	if !ok {
		return nil, fmt.Errorf("%w: no API root %q", taxii.ErrNotFound, path)
	}
	return r, nil
}

func (f *Fake) collection(root, id string) (*apiRoot, *collection, error) {
	r, err := f.root(root)
	if err != nil {
		return nil, nil, err
	}
	for _, col := range r.collections {
		if col.info.ID == id {
			return r, col, nil
		}
	}
	return nil, nil, fmt.Errorf("%w: no collection %q in API root %q", taxii.ErrNotFound, id, root)
}

// use returns the collection if c holds the rights need says, and the
// errors taxii.Backend documents if not.
func (f *Fake) use(c *taxii.Caller, root, id string, need Perm) (*apiRoot, *collection, error) {
	r, col, err := f.collection(root, id)
	if err != nil {
		return nil, nil, err
	}
	p := col.perms[c.Role]
	switch {
	case !p.Read && !p.Write:
		return nil, nil, fmt.Errorf("%w: no collection %q in API root %q", taxii.ErrNotFound, id, root)
	case need.Read && !p.Read, need.Write && !p.Write:
		return nil, nil, fmt.Errorf("%w: role %s lacks a right on collection %q", taxii.ErrForbidden, c.Role, id)
	}
	return r, col, nil
}

func (col *collection) infoFor(c *taxii.Caller) taxii.Collection {
	info := col.info
	p := col.perms[c.Role]
	info.CanRead, info.CanWrite = p.Read, p.Write
	return info
}

// Collections implements taxii.Backend.
func (f *Fake) Collections(ctx context.Context, c *taxii.Caller, root string) ([]taxii.Collection, error) {
	if err := f.fail("Collections"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.root(root)
	if err != nil {
		return nil, err
	}
	var out []taxii.Collection
	for _, col := range r.collections {
		if info := col.infoFor(c); info.CanRead || info.CanWrite {
			out = append(out, info)
		}
	}
	return out, nil
}

// Collection implements taxii.Backend.
func (f *Fake) Collection(ctx context.Context, c *taxii.Caller, root, id string) (*taxii.Collection, error) {
	if err := f.fail("Collection"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, col, err := f.use(c, root, id, Perm{})
	if err != nil {
		return nil, err
	}
	info := col.infoFor(c)
	return &info, nil
}

// Objects implements taxii.Backend. A Limit of 0 means no limit.
func (f *Fake) Objects(ctx context.Context, c *taxii.Caller, root, id string, flt *taxii.Filter) (*taxii.Page, error) {
	if err := f.fail("Objects"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, col, err := f.use(c, root, id, Perm{Read: true})
	if err != nil {
		return nil, err
	}
	p := new(taxii.Page)
	for _, v := range col.selected(flt) {
		if v.seq <= flt.After || !flt.AddedAfter.IsZero() && !v.dateAdded.After(flt.AddedAfter) {
			continue
		}
		if flt.Limit > 0 && len(p.Items) == flt.Limit {
			p.More = true
			break
		}
		it := taxii.Item{ID: v.id, Version: v.version, DateAdded: v.dateAdded, MediaType: taxii.STIXMediaType}
		if !flt.Manifest {
			it.Object, it.Provenance = v.raw, v.provenance
		}
		p.Items = append(p.Items, it)
		p.Next = v.seq
	}
	return p, nil
}

// selected returns the versions that flt's ids, types, spec versions and
// version match select (TAXII 2.1 §3.5), ascending by seq.
func (col *collection) selected(flt *taxii.Filter) []*version {
	byID := make(map[string][]*version)
	for _, v := range col.versions {
		if len(flt.IDs) > 0 && !slices.Contains(flt.IDs, v.id) || len(flt.Types) > 0 && !slices.Contains(flt.Types, v.typ) {
			continue
		}
		byID[v.id] = append(byID[v.id], v)
	}
	keep := make(map[*version]bool)
	for _, vs := range byID {
		keys := make([]store.StoredVersion, len(vs))
		for i, v := range vs {
			keys[i] = store.StoredVersion{Spec: v.specVersion, Key: store.VersionKey(v.versionTime)}
		}
		m := store.VersionFilter(flt.Versions)
		for i, mark := range store.MarkVersions(keys) {
			v := vs[i]
			if len(flt.SpecVersions) > 0 && !slices.Contains(flt.SpecVersions, v.specVersion) || len(flt.SpecVersions) == 0 && !mark.LatestSpec {
				continue
			}
			if m.Selects(mark, v.versionTime) {
				keep[v] = true
			}
		}
	}
	var out []*version
	for _, v := range col.versions {
		if keep[v] {
			out = append(out, v)
		}
	}
	return out
}

// AddObjects implements taxii.Backend. An object fails alone when it lacks
// a type or id, has malformed timestamps, or differs from the object stored
// under its id and version; an exact duplicate succeeds without a new
// version.
func (f *Fake) AddObjects(ctx context.Context, c *taxii.Caller, root, id string, objects []json.RawMessage) (*taxii.Status, error) {
	return f.AddObjectsWithProvenance(ctx, c, root, id, objects, nil)
}

// AddObjectsWithProvenance implements taxii.ProvenanceAdder: it is
// AddObjects, and it keeps each object's provenance record as given, to
// serve it beside the object; it checks none.
func (f *Fake) AddObjectsWithProvenance(ctx context.Context, c *taxii.Caller, root, id string, objects, provenance []json.RawMessage) (*taxii.Status, error) {
	if provenance != nil && len(provenance) != len(objects) {
		return nil, fmt.Errorf("%w: %d provenance records for %d objects", taxii.ErrUnprocessable, len(provenance), len(objects))
	}
	if err := f.fail("AddObjects"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, col, err := f.use(c, root, id, Perm{Write: true})
	if err != nil {
		return nil, err
	}
	now := f.now()
	st := &taxii.Status{
		ID:               f.newID(),
		Status:           "complete",
		RequestTimestamp: taxii.FormatTimestamp(now),
		TotalCount:       len(objects),
	}
	for i, raw := range objects {
		v, err := parseVersion(raw)
		if provenance != nil {
			v.provenance = provenance[i]
		}
		if err != nil {
			st.FailureCount++
			st.Failures = append(st.Failures, taxii.StatusDetails{ID: v.id, Version: v.version, Message: err.Error()})
			continue
		}
		if err := col.add(v, now, &f.seq); err != nil {
			st.FailureCount++
			st.Failures = append(st.Failures, taxii.StatusDetails{ID: v.id, Version: v.version, Message: err.Error()})
			continue
		}
		st.SuccessCount++
		st.Successes = append(st.Successes, taxii.StatusDetails{ID: v.id, Version: v.version})
	}
	r.statuses[st.ID] = st
	out := *st
	return &out, nil
}

func (col *collection) add(v *version, now time.Time, seq *int64) error {
	for _, old := range col.versions {
		if old.id == v.id && old.version == v.version {
			if !bytes.Equal(compact(old.raw), compact(v.raw)) {
				return fmt.Errorf("a different object is stored as %s version %s; publish a change with a later modified", v.id, v.version)
			}
			return nil
		}
	}
	v.dateAdded = now.UTC().Truncate(time.Microsecond)
	if n := len(col.versions); n > 0 {
		if last := col.versions[n-1].dateAdded; !v.dateAdded.After(last) {
			v.dateAdded = last.Add(time.Microsecond)
		}
	}
	if v.version == "" {
		v.version, v.versionTime = taxii.FormatTimestamp(v.dateAdded), v.dateAdded
	}
	*seq++
	v.seq = *seq
	col.versions = append(col.versions, v)
	return nil
}

func compact(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

func parseVersion(raw json.RawMessage) (*version, error) {
	var o struct {
		Type        string `json:"type"`
		ID          string `json:"id"`
		SpecVersion string `json:"spec_version"`
		Created     string `json:"created"`
		Modified    string `json:"modified"`
	}
	v := &version{raw: raw}
	if err := json.Unmarshal(raw, &o); err != nil {
		return v, fmt.Errorf("not a STIX object: %v", err)
	}
	v.id, v.typ, v.specVersion = o.ID, o.Type, cmp.Or(o.SpecVersion, store.DefaultSpecVersion)
	v.version = cmp.Or(o.Modified, o.Created)
	if o.Type == "" || !strings.HasPrefix(o.ID, o.Type+"--") {
		return v, fmt.Errorf("id %q does not start with its type %q and \"--\"", o.ID, o.Type)
	}
	if v.version != "" {
		t, err := time.Parse(time.RFC3339Nano, v.version)
		if err != nil || !strings.HasSuffix(v.version, "Z") {
			return v, fmt.Errorf("version %q is not a STIX timestamp", v.version)
		}
		v.versionTime = t
	}
	return v, nil
}

// DeleteObject implements taxii.Backend.
func (f *Fake) DeleteObject(ctx context.Context, c *taxii.Caller, root, id, objectID string, flt *taxii.Filter) error {
	if err := f.fail("DeleteObject"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, col, err := f.use(c, root, id, Perm{Read: true, Write: true})
	if err != nil {
		return err
	}
	sel := *flt
	sel.IDs = []string{objectID}
	gone := col.selected(&sel)
	if len(gone) == 0 {
		return fmt.Errorf("%w: no version of %s in collection %s matches", taxii.ErrNotFound, objectID, id)
	}
	col.versions = slices.DeleteFunc(col.versions, func(v *version) bool { return slices.Contains(gone, v) })
	return nil
}

// Status implements taxii.Backend.
func (f *Fake) Status(ctx context.Context, c *taxii.Caller, root, id string) (*taxii.Status, error) {
	if err := f.fail("Status"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.root(root)
	if err != nil {
		return nil, err
	}
	st, ok := r.statuses[id]
	if !ok {
		return nil, fmt.Errorf("%w: no status %q in API root %q", taxii.ErrNotFound, id, root)
	}
	out := *st
	return &out, nil
}

// Snapshot describes everything Fake stores, deterministically: compare two
// snapshots to check that a request changed nothing.
func (f *Fake) Snapshot() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, p := range f.order {
		r := f.roots[p]
		fmt.Fprintf(&b, "root %s: %d statuses\n", p, len(r.statuses))
		for _, col := range r.collections {
			fmt.Fprintf(&b, " collection %s\n", col.info.ID)
			for _, v := range col.versions {
				fmt.Fprintf(&b, "  %d %s %s %s %s\n", v.seq, v.dateAdded.Format(time.RFC3339Nano), v.id, v.version, compact(v.raw))
			}
		}
	}
	return b.String()
}

func (f *Fake) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Fake) newID() string {
	if f.NewID != nil {
		return f.NewID()
	}
	return uuid.NewString()
}
