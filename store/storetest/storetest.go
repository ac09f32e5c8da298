// Package storetest is the conformance suite of the [store.Store] contract.
// Every implementation (store/sqlite, store/postgres) runs it from its own
// tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
//	}
//
// The suite checks the TAXII 2.1 semantics the contract promises (OASIS
// TAXII Version 2.1, §3.4 filtering, §3.5 pagination, §5 collections):
// https://docs.oasis-open.org/cti/taxii/v2.1/taxii-v2.1.html
//
// Where TAXII leaves a choice open, the suite pins one down so that every
// store answers alike: a version filter applies within each selected
// spec_version, objects without a version (SCOs) are deduplicated by content,
// and DeleteObject reports zero rather than an error when nothing matched.
package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
)

// Run runs the suite. open must return a new, empty store each time it is
// called; Run closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"APIRoots", testAPIRoots},
		{"Collections", testCollections},
		{"AddObjects", testAddObjects},
		{"AddObjectsConflict", testAddObjectsConflict},
		{"AddObjectsCreatedChanged", testAddObjectsCreatedChanged},
		{"AddObjectsUnversioned", testAddObjectsUnversioned},
		{"AddObjectsUnknownCollection", testAddObjectsUnknownCollection},
		{"Ordering", testOrdering},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Filters", testFilters},
		{"LargeFilters", testLargeFilters},
		{"ExactVersionsAreInstants", testExactVersionsAreInstants},
		{"SpecVersions", testSpecVersions},
		{"LimitAndMore", testLimitAndMore},
		{"Paging", testPaging},
		{"Content", testContent},
		{"Delete", testDelete},
		{"SequenceNeverReused", testSequenceNeverReused},
		{"Statuses", testStatuses},
		{"Update", testUpdate},
		{"Accounts", testAccounts},
		{"Grants", testGrants},
		{"Stats", testStats},
		{"CollectionState", testCollectionState},
	}
	tests = append(tests, ledgerTests...)
	tests = append(tests, witnessTests...)
	tests = append(tests, provenanceTests...)
	tests = append(tests, shareTests...)
	tests = append(tests, federationTests...)
	tests = append(tests, scheduleTests...)
	tests = append(tests, consoleAccountsTests...)
	tests = append(tests, overviewTests...)
	tests = append(tests, termsTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

const (
	apiRoot = "api1"
	coll1   = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
	coll2   = "52892447-4d7e-4f70-b94d-d7f22742ff63"
)

// setup creates one API root with two collections.
func setup(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Path: apiRoot, Title: "API root", MaxContentLength: 1 << 20}); err != nil {
		t.Fatalf("CreateAPIRoot: %v", err)
	}
	for _, id := range []string{coll1, coll2} {
		if err := s.CreateCollection(ctx, store.Collection{ID: id, APIRoot: apiRoot, Title: id}); err != nil {
			t.Fatalf("CreateCollection(%s): %v", id, err)
		}
	}
}

func parse(t testing.TB, raw string) *stix.Object {
	t.Helper()
	o, err := stix.Parse([]byte(raw))
	if err != nil {
		t.Fatalf("stix.Parse(%s): %v", raw, err)
	}
	return o
}

// id returns a distinct, valid STIX id of the given type for each n.
func id(typ string, n int) string {
	return fmt.Sprintf("%s--00000000-0000-4000-8000-%012d", typ, n)
}

// sdo returns a minimal versioned object; extra is spliced in as further
// properties (",\"name\":\"x\"").
func sdo(typ string, n int, modified, extra string) string {
	return fmt.Sprintf(`{"type":%q,"spec_version":"2.1","id":%q,"created":"2016-01-01T00:00:00.000Z","modified":%q%s}`,
		typ, id(typ, n), modified, extra)
}

func add(t testing.TB, s store.Store, collection string, raws ...string) []store.AddOutcome {
	t.Helper()
	objs := make([]*stix.Object, len(raws))
	for i, r := range raws {
		objs[i] = parse(t, r)
	}
	out, err := s.AddObjects(context.Background(), collection, objs)
	if err != nil {
		t.Fatalf("AddObjects: %v", err)
	}
	if len(out) != len(objs) {
		t.Fatalf("AddObjects returned %d outcomes for %d objects", len(out), len(objs))
	}
	return out
}

// mustAdd adds objects and fails unless each was added anew.
func mustAdd(t testing.TB, s store.Store, collection string, raws ...string) []store.AddOutcome {
	t.Helper()
	out := add(t, s, collection, raws...)
	for i, o := range out {
		if o.Err != nil || o.Duplicate {
			t.Fatalf("AddObjects object %d: outcome %+v, want added", i, o)
		}
	}
	return out
}

func list(t testing.TB, s store.Store, q store.Query) store.Page {
	t.Helper()
	if q.Collection == "" {
		q.Collection = coll1
	}
	if q.Limit == 0 {
		q.Limit = 1000
	}
	p, err := s.Objects(context.Background(), q)
	if err != nil {
		t.Fatalf("Objects(%+v): %v", q, err)
	}
	return p
}

// versions renders a page as "id@version" strings, which read well in
// failure messages.
func versions(p store.Page) []string {
	var vs []string
	for _, o := range p.Objects {
		vs = append(vs, o.ID+"@"+o.Version)
	}
	return vs
}

func testAPIRoots(t *testing.T, s store.Store) {
	ctx := t.Context()
	roots := []store.APIRoot{
		{Path: "zeta", Title: "Zeta", Description: "created first", MaxContentLength: 1000},
		{Path: "alpha", Title: "Alpha", MaxContentLength: 2000},
	}
	for _, r := range roots {
		if err := s.CreateAPIRoot(ctx, r); err != nil {
			t.Fatalf("CreateAPIRoot(%q): %v", r.Path, err)
		}
	}
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Path: "zeta", Title: "again"}); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateAPIRoot(zeta) again: %v, want ErrExists", err)
	}
	got, err := s.APIRoots(ctx)
	if err != nil {
		t.Fatalf("APIRoots: %v", err)
	}
	if !slices.Equal(got, roots) {
		t.Errorf("APIRoots = %+v, want %+v in creation order", got, roots)
	}
	r, err := s.APIRoot(ctx, "alpha")
	if err != nil || r != roots[1] {
		t.Errorf("APIRoot(alpha) = %+v, %v; want %+v", r, err, roots[1])
	}
	if _, err := s.APIRoot(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("APIRoot(nope): %v, want ErrNotFound", err)
	}
}

func testCollections(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, p := range []string{"a", "b"} {
		if err := s.CreateAPIRoot(ctx, store.APIRoot{Path: p, Title: p, MaxContentLength: 1}); err != nil {
			t.Fatal(err)
		}
	}
	cs := []store.Collection{
		{ID: "f0000000-0000-4000-8000-000000000000", APIRoot: "a", Title: "Last id, first created", Alias: "high", MediaTypes: []string{"application/stix+json;version=2.1"}},
		{ID: "10000000-0000-4000-8000-000000000000", APIRoot: "a", Title: "No alias", Description: "d"},
		{ID: "20000000-0000-4000-8000-000000000000", APIRoot: "a", Title: "Also no alias"},
		{ID: "30000000-0000-4000-8000-000000000000", APIRoot: "b", Title: "Same alias, other root", Alias: "high"},
	}
	for _, c := range cs {
		if err := s.CreateCollection(ctx, c); err != nil {
			t.Fatalf("CreateCollection(%+v): %v", c, err)
		}
	}
	for _, tc := range []struct {
		name string
		c    store.Collection
		want error
	}{
		{"duplicate id", store.Collection{ID: cs[1].ID, APIRoot: "a", Title: "x"}, store.ErrExists},
		{"duplicate id in another root", store.Collection{ID: cs[1].ID, APIRoot: "b", Title: "x"}, store.ErrExists},
		{"duplicate alias in the root", store.Collection{ID: "40000000-0000-4000-8000-000000000000", APIRoot: "a", Title: "x", Alias: "high"}, store.ErrExists},
		{"unknown API root", store.Collection{ID: "50000000-0000-4000-8000-000000000000", APIRoot: "c", Title: "x"}, store.ErrNotFound},
	} {
		if err := s.CreateCollection(ctx, tc.c); !errors.Is(err, tc.want) {
			t.Errorf("CreateCollection, %s: %v, want %v", tc.name, err, tc.want)
		}
	}

	got, err := s.Collections(ctx, "a")
	if err != nil {
		t.Fatalf("Collections(a): %v", err)
	}
	if want := cs[:3]; !slices.EqualFunc(got, want, equalCollection) {
		t.Errorf("Collections(a) = %+v, want %+v in creation order", got, want)
	}
	if _, err := s.Collections(ctx, "c"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Collections(unknown root): %v, want ErrNotFound", err)
	}
	c, err := s.Collection(ctx, "a", cs[0].ID)
	if err != nil || !equalCollection(c, cs[0]) {
		t.Errorf("Collection(a, %s) = %+v, %v; want %+v", cs[0].ID, c, err, cs[0])
	}
	if _, err := s.Collection(ctx, "b", cs[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Collection from the wrong API root: %v, want ErrNotFound", err)
	}
	if _, err := s.Collection(ctx, "a", "60000000-0000-4000-8000-000000000000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Collection(unknown id): %v, want ErrNotFound", err)
	}
}

func equalCollection(a, b store.Collection) bool {
	return a.ID == b.ID && a.APIRoot == b.APIRoot && a.Title == b.Title && a.Description == b.Description &&
		a.Alias == b.Alias && slices.Equal(a.MediaTypes, b.MediaTypes)
}

func testAddObjects(t *testing.T, s store.Store) {
	setup(t, s)
	first := add(t, s, coll1, sdo("indicator", 1, "2020-01-01T00:00:00.000Z", ""))[0]
	if first.Err != nil || first.Duplicate || first.Seq <= 0 || first.Version != "2020-01-01T00:00:00.000Z" {
		t.Fatalf("adding a new object: %+v, want added with a positive Seq and the object's modified as Version", first)
	}
	// The same object with other whitespace and key order is a duplicate:
	// RFC 8785 canonical forms are compared, not bytes.
	reordered := `{ "modified": "2020-01-01T00:00:00.000Z", "id": "` + id("indicator", 1) + `",
		"type": "indicator", "created": "2016-01-01T00:00:00.000Z", "spec_version": "2.1" }`
	for _, raw := range []string{sdo("indicator", 1, "2020-01-01T00:00:00.000Z", ""), reordered} {
		dup := add(t, s, coll1, raw)[0]
		want := first
		want.Duplicate = true
		if dup.Err != nil || dup.Seq != want.Seq || !dup.DateAdded.Equal(want.DateAdded) || dup.Version != want.Version || !dup.Duplicate {
			t.Errorf("adding %s again: %+v, want %+v", raw, dup, want)
		}
	}
	// Twice in one batch: the second copy is a duplicate of the first.
	twice := add(t, s, coll1, sdo("tool", 1, "2020-01-01T00:00:00.000Z", ""), sdo("tool", 1, "2020-01-01T00:00:00.000Z", ""))
	if twice[0].Err != nil || twice[0].Duplicate || twice[1].Err != nil || !twice[1].Duplicate || twice[1].Seq != twice[0].Seq {
		t.Errorf("the same object twice in one batch: %+v, want added, then a duplicate of it", twice)
	}
	// The same object in another collection is a separate version.
	other := add(t, s, coll2, sdo("indicator", 1, "2020-01-01T00:00:00.000Z", ""))[0]
	if other.Err != nil || other.Duplicate || other.Seq <= first.Seq {
		t.Errorf("adding the object to another collection: %+v, want added with Seq > %d", other, first.Seq)
	}
	if got := list(t, s, store.Query{Versions: store.VersionFilter{All: true}}); len(got.Objects) != 2 {
		t.Errorf("collection 1 holds %v, want the indicator and the tool", versions(got))
	}
	// A version without modified takes created as its version.
	created := add(t, s, coll1, `{"type":"identity","spec_version":"2.1","id":"`+id("identity", 1)+`","created":"2017-05-05T05:05:05.123Z","name":"x"}`)[0]
	if created.Err != nil || created.Version != "2017-05-05T05:05:05.123Z" {
		t.Errorf("adding an object with created only: %+v, want Version = created", created)
	}
}

func testAddObjectsConflict(t *testing.T, s store.Store) {
	setup(t, s)
	const v = "2020-01-01T00:00:00.000Z"
	mustAdd(t, s, coll1, sdo("indicator", 1, v, `,"name":"original"`))
	out := add(t, s, coll1,
		sdo("indicator", 2, v, ""),
		sdo("indicator", 1, v, `,"name":"changed without bumping modified"`),
		sdo("indicator", 3, v, ""),
		`{"type":"indicator","id":"`+id("indicator", 4)+`","modified":"2020-01-01T00:00:00.000Z","x_big":123456789012345678901}`,
		`{"type":"indicator","id":"`+id("indicator", 5)+`","modified":"not a timestamp"}`,
	)
	if !errors.Is(out[1].Err, store.ErrConflict) {
		t.Errorf("a different object under a stored id and version: %+v, want ErrConflict", out[1])
	}
	for _, i := range []int{3, 4} {
		if out[i].Err == nil {
			t.Errorf("object %d (a number RFC 8785 cannot represent, or a bad version) was stored: %+v, want it to fail", i, out[i])
		}
	}
	for _, i := range []int{0, 2} {
		if out[i].Err != nil || out[i].Duplicate {
			t.Errorf("object %d: %+v; a failing sibling must not spoil it", i, out[i])
		}
	}
	got := list(t, s, store.Query{Versions: store.VersionFilter{All: true}})
	want := []string{id("indicator", 1) + "@" + v, id("indicator", 2) + "@" + v, id("indicator", 3) + "@" + v}
	if !slices.Equal(versions(got), want) {
		t.Errorf("stored %v, want %v", versions(got), want)
	}
	if raw := string(got.Objects[0].Raw); raw != sdo("indicator", 1, v, `,"name":"original"`) {
		t.Errorf("the conflicting add changed the stored object to %s", raw)
	}
}

// testAddObjectsCreatedChanged: STIX 2.1 §3.2 says created MUST NOT change
// between versions of an object. A new version that changes it fails
// alone; one that writes the same instant differently is the same created.
func testAddObjectsCreatedChanged(t *testing.T, s store.Store) {
	setup(t, s)
	const v1, v2, v3, v4 = "2020-01-01T00:00:00.000Z", "2020-02-01T00:00:00.000Z", "2020-03-01T00:00:00.000Z", "2020-04-01T00:00:00.000Z"
	withCreated := func(n int, created, modified string) string {
		return fmt.Sprintf(`{"type":"malware","spec_version":"2.1","id":%q,"created":%q,"modified":%q,"is_family":true}`,
			id("malware", n), created, modified)
	}
	mustAdd(t, s, coll1, sdo("malware", 1, v1, ""))
	out := add(t, s, coll1,
		withCreated(1, "2019-01-01T00:00:00.000Z", v2),
		sdo("malware", 2, v1, ""),
		withCreated(1, "2016-01-01T00:00:00Z", v3), // the stored created, written otherwise
		withCreated(2, "2017-06-01T00:00:00.000Z", v2),
	)
	for _, i := range []int{0, 3} {
		if !errors.Is(out[i].Err, store.ErrCreatedChanged) {
			t.Errorf("object %d, a version with another created: %+v, want ErrCreatedChanged", i, out[i])
		}
	}
	for _, i := range []int{1, 2} {
		if out[i].Err != nil || out[i].Duplicate {
			t.Errorf("object %d: %+v; want it stored", i, out[i])
		}
	}
	// The same holds within one call, for an object not stored before.
	out = add(t, s, coll2, withCreated(3, "2018-01-01T00:00:00.000Z", v1), withCreated(3, "2018-01-02T00:00:00.000Z", v4))
	if out[0].Err != nil || !errors.Is(out[1].Err, store.ErrCreatedChanged) {
		t.Errorf("two versions with different created in one call: %+v, want the second to fail with ErrCreatedChanged", out)
	}
	got := list(t, s, store.Query{Versions: store.VersionFilter{All: true}})
	want := []string{id("malware", 1) + "@" + v1, id("malware", 2) + "@" + v1, id("malware", 1) + "@" + v3}
	if !slices.Equal(versions(got), want) {
		t.Errorf("stored %v, want %v", versions(got), want)
	}
}

func testAddObjectsUnversioned(t *testing.T, s store.Store) {
	setup(t, s)
	ipv4 := `{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`
	first := mustAdd(t, s, coll1, ipv4)[0]
	if want := first.DateAdded.UTC().Format("2006-01-02T15:04:05.000000Z"); first.Version != want {
		t.Errorf("an SCO's version is %q, want its date_added %q", first.Version, want)
	}
	// Re-posting the same content, however formatted, is a duplicate.
	spaced := `{ "value": "198.51.100.3", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "type": "ipv4-addr", "spec_version": "2.1" }`
	for _, raw := range []string{ipv4, spaced} {
		dup := add(t, s, coll1, raw)[0]
		if dup.Err != nil || !dup.Duplicate || dup.Seq != first.Seq || dup.Version != first.Version || !dup.DateAdded.Equal(first.DateAdded) {
			t.Errorf("re-posting the SCO: %+v, want a duplicate of %+v", dup, first)
		}
	}
	// Other content under the same id is another version, dated later.
	changed := mustAdd(t, s, coll1, `{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3","x_note":"seen again"}`)[0]
	if !changed.DateAdded.After(first.DateAdded) || changed.Version == first.Version {
		t.Errorf("changed SCO: %+v, want a new version after %+v", changed, first)
	}
	got := list(t, s, store.Query{})
	if len(got.Objects) != 1 || got.Objects[0].Seq != changed.Seq || got.Objects[0].Version != changed.Version {
		t.Errorf("latest SCO version: %+v, want seq %d version %s", got.Objects, changed.Seq, changed.Version)
	}
	// An SCO without spec_version is STIX 2.1 (STIX 2.1 §3.1).
	bare := mustAdd(t, s, coll1, `{"type":"domain-name","id":"domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5","value":"example.com"}`)[0]
	if got := list(t, s, store.Query{IDs: []string{"domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5"}, SpecVersions: []string{"2.1"}}); len(got.Objects) != 1 || got.Objects[0].Seq != bare.Seq || got.Objects[0].SpecVersion != "2.1" {
		t.Errorf("an SCO without spec_version listed under 2.1: %+v", got.Objects)
	}
}

func testAddObjectsUnknownCollection(t *testing.T, s store.Store) {
	setup(t, s)
	_, err := s.AddObjects(t.Context(), "00000000-0000-4000-8000-00000000dead", []*stix.Object{parse(t, sdo("indicator", 1, "2020-01-01T00:00:00.000Z", ""))})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddObjects to an unknown collection: %v, want ErrNotFound", err)
	}
	_, err = s.Objects(t.Context(), store.Query{Collection: "00000000-0000-4000-8000-00000000dead", Limit: 1})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Objects of an unknown collection: %v, want ErrNotFound", err)
	}
	_, err = s.DeleteObject(t.Context(), "00000000-0000-4000-8000-00000000dead", id("indicator", 1), store.VersionFilter{All: true}, nil)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteObject in an unknown collection: %v, want ErrNotFound", err)
	}
}

// checkOrder fails unless seq and date_added strictly increase along objs,
// and date_added has no precision beyond the microsecond.
func checkOrder(t *testing.T, objs []store.Object) {
	t.Helper()
	for i, o := range objs {
		if !o.DateAdded.Equal(o.DateAdded.Truncate(time.Microsecond)) {
			t.Errorf("object %d: date_added %v is finer than a microsecond", i, o.DateAdded)
		}
		if i == 0 {
			continue
		}
		p := objs[i-1]
		if o.Seq <= p.Seq || !o.DateAdded.After(p.DateAdded) {
			t.Fatalf("object %d: seq %d, date_added %v after seq %d, date_added %v: both must strictly increase",
				i, o.Seq, o.DateAdded.Format(time.RFC3339Nano), p.Seq, p.DateAdded.Format(time.RFC3339Nano))
		}
	}
}

func testOrdering(t *testing.T, s store.Store) {
	setup(t, s)
	// A large batch is added within few microseconds per object, so many
	// share a clock reading: date_added must still strictly increase.
	var raws []string
	for i := range 500 {
		raws = append(raws, sdo("indicator", i, "2020-01-01T00:00:00.000Z", ""))
	}
	out := mustAdd(t, s, coll1, raws...)
	out = append(out, mustAdd(t, s, coll1, sdo("indicator", 1000, "2020-01-01T00:00:00.000Z", ""))...)
	for i := 1; i < len(out); i++ {
		if out[i].Seq <= out[i-1].Seq || !out[i].DateAdded.After(out[i-1].DateAdded) {
			t.Fatalf("outcome %d: %+v after %+v: seq and date_added must strictly increase", i, out[i], out[i-1])
		}
	}
	got := list(t, s, store.Query{})
	checkOrder(t, got.Objects)
	for i, o := range got.Objects {
		if o.Seq != out[i].Seq || !o.DateAdded.Equal(out[i].DateAdded) {
			t.Fatalf("listed object %d: seq %d, date_added %v; AddObjects said %+v", i, o.Seq, o.DateAdded, out[i])
		}
	}
}

func testConcurrentWriters(t *testing.T, s store.Store) {
	setup(t, s)
	const writers, batches, perBatch = 6, 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				objs := make([]*stix.Object, perBatch)
				for i := range objs {
					n := (w*batches+b)*perBatch + i
					o, err := stix.Parse([]byte(sdo("indicator", n, "2020-01-01T00:00:00.000Z", "")))
					if err != nil {
						errs <- err
						return
					}
					objs[i] = o
				}
				out, err := s.AddObjects(context.Background(), coll1, objs)
				if err != nil {
					errs <- err
					return
				}
				for _, o := range out {
					if o.Err != nil || o.Duplicate {
						errs <- fmt.Errorf("writer %d: outcome %+v, want added", w, o)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := list(t, s, store.Query{Limit: writers * batches * perBatch * 2})
	if len(got.Objects) != writers*batches*perBatch {
		t.Errorf("stored %d objects, want %d", len(got.Objects), writers*batches*perBatch)
	}
	checkOrder(t, got.Objects)
}

// fixture stores versions that the filter tests select from, in this order:
//
//	indicator 1 at v1, v2, v3 (three versions)
//	malware 1 at v1
//	indicator 2 at v2
//	identity 1 at v1 (in the other collection)
//	indicator 1 at v4 (a fourth version, added last)
func fixture(t *testing.T, s store.Store) []store.AddOutcome {
	setup(t, s)
	out := mustAdd(t, s, coll1,
		sdo("indicator", 1, v1, ""),
		sdo("indicator", 1, v2, ""),
		sdo("indicator", 1, v3, ""),
		sdo("malware", 1, v1, `,"is_family":false`),
		sdo("indicator", 2, v2, ""),
	)
	mustAdd(t, s, coll2, sdo("identity", 1, v1, ""))
	return append(out, mustAdd(t, s, coll1, sdo("indicator", 1, v4, ""))...)
}

const (
	v1 = "2021-01-01T00:00:00.000Z"
	v2 = "2021-02-01T00:00:00.000Z"
	v3 = "2021-03-01T00:00:00.000Z"
	v4 = "2021-04-01T00:00:00.000Z"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func testFilters(t *testing.T, s store.Store) {
	out := fixture(t, s)
	var (
		ind1 = id("indicator", 1)
		ind2 = id("indicator", 2)
		mal1 = id("malware", 1)
	)
	all := store.VersionFilter{All: true}
	tests := []struct {
		name string
		q    store.Query
		want []string
	}{
		{"default: last version of each", store.Query{}, []string{mal1 + "@" + v1, ind2 + "@" + v2, ind1 + "@" + v4}},
		{"all versions", store.Query{Versions: all},
			[]string{ind1 + "@" + v1, ind1 + "@" + v2, ind1 + "@" + v3, mal1 + "@" + v1, ind2 + "@" + v2, ind1 + "@" + v4}},
		{"last", store.Query{Versions: store.VersionFilter{Last: true}}, []string{mal1 + "@" + v1, ind2 + "@" + v2, ind1 + "@" + v4}},
		{"first", store.Query{Versions: store.VersionFilter{First: true}}, []string{ind1 + "@" + v1, mal1 + "@" + v1, ind2 + "@" + v2}},
		{"first and last", store.Query{Versions: store.VersionFilter{First: true, Last: true}},
			[]string{ind1 + "@" + v1, mal1 + "@" + v1, ind2 + "@" + v2, ind1 + "@" + v4}},
		{"exact", store.Query{Versions: store.VersionFilter{Exact: []time.Time{mustTime(t, v2)}}},
			[]string{ind1 + "@" + v2, ind2 + "@" + v2}},
		{"two exact", store.Query{Versions: store.VersionFilter{Exact: []time.Time{mustTime(t, v3), mustTime(t, v1)}}},
			[]string{ind1 + "@" + v1, ind1 + "@" + v3, mal1 + "@" + v1}},
		{"exact and last", store.Query{Versions: store.VersionFilter{Last: true, Exact: []time.Time{mustTime(t, v2)}}},
			[]string{ind1 + "@" + v2, mal1 + "@" + v1, ind2 + "@" + v2, ind1 + "@" + v4}},
		{"exact matching nothing", store.Query{Versions: store.VersionFilter{Exact: []time.Time{mustTime(t, "2000-01-01T00:00:00Z")}}}, nil},
		{"one id", store.Query{IDs: []string{ind1}}, []string{ind1 + "@" + v4}},
		{"ids ORed, all versions", store.Query{IDs: []string{ind2, mal1}, Versions: all}, []string{mal1 + "@" + v1, ind2 + "@" + v2}},
		{"unknown id", store.Query{IDs: []string{id("indicator", 99)}}, nil},
		{"type", store.Query{Types: []string{"indicator"}}, []string{ind2 + "@" + v2, ind1 + "@" + v4}},
		{"types ORed", store.Query{Types: []string{"malware", "identity"}, Versions: all}, []string{mal1 + "@" + v1}},
		{"types ORed, merged in order", store.Query{Types: []string{"malware", "indicator"}, Versions: all},
			[]string{ind1 + "@" + v1, ind1 + "@" + v2, ind1 + "@" + v3, mal1 + "@" + v1, ind2 + "@" + v2, ind1 + "@" + v4}},
		{"repeated type", store.Query{Types: []string{"indicator", "indicator"}}, []string{ind2 + "@" + v2, ind1 + "@" + v4}},
		{"types, ids and added after", store.Query{Types: []string{"malware", "indicator"}, IDs: []string{ind1, mal1}, AddedAfter: out[1].DateAdded, Versions: all},
			[]string{ind1 + "@" + v3, mal1 + "@" + v1, ind1 + "@" + v4}},
		{"types and cursor", store.Query{Types: []string{"tool", "indicator", "malware"}, After: out[3].Seq}, []string{ind2 + "@" + v2, ind1 + "@" + v4}},
		{"type and id ANDed", store.Query{Types: []string{"malware"}, IDs: []string{ind1}}, nil},
		{"added after the third version", store.Query{AddedAfter: out[2].DateAdded, Versions: all},
			[]string{mal1 + "@" + v1, ind2 + "@" + v2, ind1 + "@" + v4}},
		{"added after, default versions", store.Query{AddedAfter: out[0].DateAdded},
			[]string{mal1 + "@" + v1, ind2 + "@" + v2, ind1 + "@" + v4}},
		{"added after the last", store.Query{AddedAfter: out[5].DateAdded, Versions: all}, nil},
		{"added after a time before everything", store.Query{AddedAfter: out[0].DateAdded.Add(-time.Microsecond), Versions: store.VersionFilter{First: true}},
			[]string{ind1 + "@" + v1, mal1 + "@" + v1, ind2 + "@" + v2}},
		{"cursor", store.Query{After: out[3].Seq, Versions: all}, []string{ind2 + "@" + v2, ind1 + "@" + v4}},
		{"cursor and type", store.Query{After: out[1].Seq, Types: []string{"indicator"}, Versions: all},
			[]string{ind1 + "@" + v3, ind2 + "@" + v2, ind1 + "@" + v4}},
		{"other collection", store.Query{Collection: coll2}, []string{id("identity", 1) + "@" + v1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := list(t, s, tc.q)
			if !slices.Equal(versions(got), tc.want) {
				t.Errorf("Objects(%+v) = %v, want %v", tc.q, versions(got), tc.want)
			}
			if got.More {
				t.Errorf("Objects(%+v).More = true with everything on one page", tc.q)
			}
		})
	}
}

// testLargeFilters checks that a filter's size is no limit of the store:
// a query with more values than SQLite takes bound parameters (32,766), or
// more types than it takes branches in a compound SELECT (500), answers as
// a small one does. TAXII servers cap what clients send, but the store is
// also queried by the node itself.
func testLargeFilters(t *testing.T, s store.Store) {
	fixture(t, s)
	var (
		ind1 = id("indicator", 1)
		ind2 = id("indicator", 2)
		mal1 = id("malware", 1)
	)
	const many = 40_000
	// n values that match nothing, then the given ones.
	pad := func(n int, f func(i int) string, real ...string) []string {
		vs := make([]string, 0, n+len(real))
		for i := range n {
			vs = append(vs, f(i))
		}
		return append(vs, real...)
	}
	types := pad(1_000, func(i int) string { return fmt.Sprintf("x-type-%d", i) }, "malware", "indicator")
	ids := pad(many, func(i int) string { return id("indicator", 1_000+i) }, ind2, mal1)
	var exact []time.Time
	for i := range many {
		exact = append(exact, mustTime(t, "2000-01-01T00:00:00Z").Add(time.Duration(i)*time.Second))
	}
	exact = append(exact, mustTime(t, v2))
	specs := pad(many, func(i int) string { return fmt.Sprintf("3.%d", i) }, "2.1")
	all := store.VersionFilter{All: true}
	for _, tc := range []struct {
		name string
		q    store.Query
		want []string
	}{
		{"1,002 types", store.Query{Types: types, Versions: all},
			[]string{ind1 + "@" + v1, ind1 + "@" + v2, ind1 + "@" + v3, mal1 + "@" + v1, ind2 + "@" + v2, ind1 + "@" + v4}},
		{"1,002 types and a cursor", store.Query{Types: types, After: 0, Limit: 2}, []string{mal1 + "@" + v1, ind2 + "@" + v2}},
		{"40,002 ids", store.Query{IDs: ids, Versions: all}, []string{mal1 + "@" + v1, ind2 + "@" + v2}},
		{"40,002 ids and 1,002 types", store.Query{IDs: ids, Types: types}, []string{mal1 + "@" + v1, ind2 + "@" + v2}},
		{"40,001 exact versions", store.Query{Versions: store.VersionFilter{Exact: exact}}, []string{ind1 + "@" + v2, ind2 + "@" + v2}},
		{"40,001 exact versions and last", store.Query{Versions: store.VersionFilter{Exact: exact, Last: true}},
			[]string{ind1 + "@" + v2, mal1 + "@" + v1, ind2 + "@" + v2, ind1 + "@" + v4}},
		{"40,001 spec versions", store.Query{SpecVersions: specs}, []string{mal1 + "@" + v1, ind2 + "@" + v2, ind1 + "@" + v4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Not list: its failure message would print every value.
			tc.q.Collection, tc.q.Limit = coll1, cmp.Or(tc.q.Limit, 1000)
			got, err := s.Objects(t.Context(), tc.q)
			if err != nil {
				t.Fatalf("Objects: %v", err)
			}
			if !slices.Equal(versions(got), tc.want) {
				t.Errorf("Objects = %v, want %v", versions(got), tc.want)
			}
		})
	}
	n, err := s.DeleteObject(t.Context(), coll1, ind1, store.VersionFilter{Exact: exact}, specs)
	if err != nil || n != 1 {
		t.Errorf("DeleteObject with 40,001 exact versions and spec versions = %d, %v; want 1, nil", n, err)
	}
}

func testExactVersionsAreInstants(t *testing.T, s store.Store) {
	setup(t, s)
	mustAdd(t, s, coll1,
		sdo("indicator", 1, "2016-01-01T00:00:00Z", ""),
		sdo("indicator", 2, "2016-01-01T00:00:00.000Z", ""),
		sdo("indicator", 3, "2016-01-01T00:00:00.1Z", ""),
		sdo("indicator", 4, "2016-01-01T00:00:00.123456Z", ""),
	)
	for _, tc := range []struct {
		exact string
		want  []int
	}{
		{"2016-01-01T00:00:00Z", []int{1, 2}},
		{"2016-01-01T00:00:00.000000Z", []int{1, 2}},
		{"2016-01-01T00:00:00.100Z", []int{3}},
		{"2016-01-01T00:00:00.123456Z", []int{4}},
		{"2016-01-01T00:00:00.123Z", nil},
	} {
		got := list(t, s, store.Query{Versions: store.VersionFilter{Exact: []time.Time{mustTime(t, tc.exact)}}})
		var want []string
		for _, n := range tc.want {
			want = append(want, id("indicator", n))
		}
		var ids []string
		for _, o := range got.Objects {
			ids = append(ids, o.ID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("match[version]=%s selected %v, want %v", tc.exact, versions(got), want)
		}
	}
	// The stored version keeps the object's own spelling.
	got := list(t, s, store.Query{IDs: []string{id("indicator", 1)}})
	if len(got.Objects) != 1 || got.Objects[0].Version != "2016-01-01T00:00:00Z" {
		t.Errorf("stored version %v, want the object's own 2016-01-01T00:00:00Z", versions(got))
	}
}

func testSpecVersions(t *testing.T, s store.Store) {
	setup(t, s)
	// One object published under STIX 2.0 and later 2.1, another under 2.0
	// only. STIX 2.0 objects have no spec_version property, but a store keys
	// on what it is told; 2.0 copies here say so explicitly.
	spec := func(n int, sv, modified string) string {
		return fmt.Sprintf(`{"type":"indicator","spec_version":%q,"id":%q,"created":"2016-01-01T00:00:00.000Z","modified":%q}`,
			sv, id("indicator", n), modified)
	}
	mustAdd(t, s, coll1,
		spec(1, "2.0", v1),
		spec(1, "2.0", v2),
		spec(1, "2.1", v3),
		spec(2, "2.0", v1),
	)
	ind1, ind2 := id("indicator", 1), id("indicator", 2)
	all := store.VersionFilter{All: true}
	for _, tc := range []struct {
		name string
		q    store.Query
		want []string
	}{
		{"default: latest spec_version of each object", store.Query{}, []string{ind1 + "@" + v3, ind2 + "@" + v1}},
		{"default spec_version, all versions", store.Query{Versions: all}, []string{ind1 + "@" + v3, ind2 + "@" + v1}},
		{"2.0 only, last within it", store.Query{SpecVersions: []string{"2.0"}}, []string{ind1 + "@" + v2, ind2 + "@" + v1}},
		{"2.0 only, first", store.Query{SpecVersions: []string{"2.0"}, Versions: store.VersionFilter{First: true}}, []string{ind1 + "@" + v1, ind2 + "@" + v1}},
		{"2.1 only", store.Query{SpecVersions: []string{"2.1"}, Versions: all}, []string{ind1 + "@" + v3}},
		{"both, all versions", store.Query{SpecVersions: []string{"2.0", "2.1"}, Versions: all},
			[]string{ind1 + "@" + v1, ind1 + "@" + v2, ind1 + "@" + v3, ind2 + "@" + v1}},
		{"unknown", store.Query{SpecVersions: []string{"3.0"}}, nil},
	} {
		got := list(t, s, tc.q)
		if !slices.Equal(versions(got), tc.want) {
			t.Errorf("%s: Objects(%+v) = %v, want %v", tc.name, tc.q, versions(got), tc.want)
		}
	}
}

func testLimitAndMore(t *testing.T, s store.Store) {
	setup(t, s)
	var raws []string
	for i := range 5 {
		raws = append(raws, sdo("indicator", i, v1, ""))
	}
	out := mustAdd(t, s, coll1, raws...)
	for _, tc := range []struct {
		after     int64
		limit     int
		wantCount int
		wantMore  bool
	}{
		{0, 1, 1, true},
		{0, 4, 4, true},
		{0, 5, 5, false},
		{0, 6, 5, false},
		{out[2].Seq, 2, 2, false},
		{out[2].Seq, 1, 1, true},
		{out[4].Seq, 3, 0, false},
	} {
		got := list(t, s, store.Query{After: tc.after, Limit: tc.limit})
		if len(got.Objects) != tc.wantCount || got.More != tc.wantMore {
			t.Errorf("After %d, Limit %d: %d objects, More %v; want %d, %v", tc.after, tc.limit, len(got.Objects), got.More, tc.wantCount, tc.wantMore)
		}
	}
	for _, limit := range []int{0, -1} {
		if _, err := s.Objects(t.Context(), store.Query{Collection: coll1, Limit: limit}); err == nil {
			t.Errorf("Objects with Limit %d succeeded, want an error", limit)
		}
	}
}

func testPaging(t *testing.T, s store.Store) {
	setup(t, s)
	// 30 objects of three types, some with several versions, added in
	// interleaved batches.
	var raws []string
	for i := range 30 {
		typ := []string{"indicator", "malware", "tool"}[i%3]
		raws = append(raws, sdo(typ, i, v1, ""))
		if i%4 == 0 {
			raws = append(raws, sdo(typ, i, v2, ""))
		}
	}
	for len(raws) > 0 {
		n := min(7, len(raws))
		mustAdd(t, s, coll1, raws[:n]...)
		raws = raws[n:]
	}
	queries := []store.Query{
		{Versions: store.VersionFilter{All: true}},
		{},
		{Types: []string{"malware", "tool"}},
		{Versions: store.VersionFilter{First: true}, Types: []string{"indicator"}},
		{WithoutContent: true, Versions: store.VersionFilter{All: true}},
	}
	for _, q := range queries {
		whole := list(t, s, q)
		if len(whole.Objects) == 0 {
			t.Fatalf("Objects(%+v) is empty", q)
		}
		for _, limit := range []int{1, 2, 3, 10} {
			var paged []store.Object
			q := q
			q.Limit = limit
			for pages := 0; ; pages++ {
				if pages > len(whole.Objects)+1 {
					t.Fatalf("paging %+v does not end", q)
				}
				p := list(t, s, q)
				paged = append(paged, p.Objects...)
				if !p.More {
					break
				}
				q.After = p.Objects[len(p.Objects)-1].Seq
			}
			if !slices.Equal(versions(store.Page{Objects: paged}), versions(whole)) {
				t.Errorf("paging %+v by %d: %v, want %v", q, limit, versions(store.Page{Objects: paged}), versions(whole))
			}
			checkOrder(t, paged)
		}
	}
}

func testContent(t *testing.T, s store.Store) {
	setup(t, s)
	// The JSON as received, with its spacing, key order and custom
	// properties.
	raw := `{"type": "indicator", "id": "` + id("indicator", 1) + `", "spec_version": "2.1",
		"modified": "2020-01-01T00:00:00.000Z", "created": "2020-01-01T00:00:00.000Z", "x_custom": {"b": 1, "a": [1.50]}}`
	out := mustAdd(t, s, coll1, raw)[0]
	got := list(t, s, store.Query{})
	if len(got.Objects) != 1 {
		t.Fatalf("Objects: %v, want one", versions(got))
	}
	o := got.Objects[0]
	if string(o.Raw) != string(parse(t, raw).Raw) {
		t.Errorf("Raw = %s, want the JSON as received: %s", o.Raw, raw)
	}
	want := store.Object{Seq: out.Seq, Collection: coll1, ID: id("indicator", 1), Type: "indicator",
		Version: "2020-01-01T00:00:00.000Z", SpecVersion: "2.1", DateAdded: out.DateAdded}
	o.Raw = nil
	if o.Seq != want.Seq || o.Collection != want.Collection || o.ID != want.ID || o.Type != want.Type ||
		o.Version != want.Version || o.SpecVersion != want.SpecVersion || !o.DateAdded.Equal(want.DateAdded) {
		t.Errorf("Objects()[0] = %+v, want %+v", o, want)
	}
	if o.DateAdded.Location() != time.UTC {
		t.Errorf("DateAdded is in %v, want UTC", o.DateAdded.Location())
	}
	manifest := list(t, s, store.Query{WithoutContent: true})
	if len(manifest.Objects) != 1 || manifest.Objects[0].Raw != nil || manifest.Objects[0].Seq != out.Seq {
		t.Errorf("Objects(WithoutContent) = %+v, want the one version without Raw", manifest.Objects)
	}
}

func testDelete(t *testing.T, s store.Store) {
	fixture(t, s)
	ctx := t.Context()
	ind1 := id("indicator", 1)
	del := func(vf store.VersionFilter, specs []string, want int) {
		t.Helper()
		n, err := s.DeleteObject(ctx, coll1, ind1, vf, specs)
		if err != nil || n != want {
			t.Errorf("DeleteObject(%+v, %v) = %d, %v; want %d", vf, specs, n, err, want)
		}
	}
	lastOf := func() string {
		t.Helper()
		got := versions(list(t, s, store.Query{IDs: []string{ind1}}))
		if len(got) != 1 {
			return fmt.Sprint(got)
		}
		return got[0]
	}

	// The zero filter deletes the last version; "last" moves back.
	del(store.VersionFilter{}, nil, 1)
	if got := lastOf(); got != ind1+"@"+v3 {
		t.Errorf("after deleting the last version, last is %s, want %s", got, ind1+"@"+v3)
	}
	del(store.VersionFilter{Exact: []time.Time{mustTime(t, v2)}}, nil, 1)
	del(store.VersionFilter{Exact: []time.Time{mustTime(t, v2)}}, nil, 0)
	del(store.VersionFilter{First: true}, nil, 1)
	first := versions(list(t, s, store.Query{IDs: []string{ind1}, Versions: store.VersionFilter{First: true}}))
	if !slices.Equal(first, []string{ind1 + "@" + v3}) {
		t.Errorf("after deleting the first version, first is %v, want %s", first, ind1+"@"+v3)
	}
	del(store.VersionFilter{All: true}, []string{"2.0"}, 0)
	del(store.VersionFilter{All: true}, nil, 1)
	if got := list(t, s, store.Query{IDs: []string{ind1}, Versions: store.VersionFilter{All: true}}); len(got.Objects) != 0 {
		t.Errorf("after deleting every version: %v", versions(got))
	}
	del(store.VersionFilter{All: true}, nil, 0)

	// Other objects and collections are untouched.
	want := []string{id("malware", 1) + "@" + v1, id("indicator", 2) + "@" + v2}
	if got := versions(list(t, s, store.Query{Versions: store.VersionFilter{All: true}})); !slices.Equal(got, want) {
		t.Errorf("after the deletes the collection holds %v, want %v", got, want)
	}
	if got := list(t, s, store.Query{Collection: coll2}); len(got.Objects) != 1 {
		t.Errorf("the other collection holds %v, want its one object", versions(got))
	}
	// A deleted version can be stored again.
	mustAdd(t, s, coll1, sdo("indicator", 1, v4, ""))
}

func testSequenceNeverReused(t *testing.T, s store.Store) {
	setup(t, s)
	out := mustAdd(t, s, coll1, sdo("indicator", 1, v1, ""), sdo("indicator", 2, v1, ""))
	if _, err := s.DeleteObject(t.Context(), coll1, id("indicator", 2), store.VersionFilter{}, nil); err != nil {
		t.Fatal(err)
	}
	// A client whose cursor is past the deleted version must still see
	// what is added next: neither seq nor date_added may go back.
	next := mustAdd(t, s, coll1, sdo("indicator", 3, v1, ""))[0]
	if next.Seq <= out[1].Seq || !next.DateAdded.After(out[1].DateAdded) {
		t.Errorf("after deleting the newest version, the next one got %+v; want seq and date_added past %+v", next, out[1])
	}
	got := list(t, s, store.Query{After: out[1].Seq})
	if len(got.Objects) != 1 || got.Objects[0].Seq != next.Seq {
		t.Errorf("Objects after the deleted cursor: %v, want the new version", versions(got))
	}
}

func testStatuses(t *testing.T, s store.Store) {
	setup(t, s)
	ctx := t.Context()
	base := time.Date(2024, 5, 1, 12, 0, 0, 123456000, time.UTC)
	sts := []store.Status{
		{
			ID: "2d086da7-4bdc-4f91-900e-d77486753710", APIRoot: apiRoot, Status: "complete", RequestTimestamp: base,
			TotalCount: 3, SuccessCount: 1, FailureCount: 1, PendingCount: 1,
			Successes: []store.StatusDetail{{ID: id("indicator", 1), Version: v1}},
			Failures:  []store.StatusDetail{{ID: id("indicator", 2), Version: v1, Message: "invalid: pattern: unexpected token"}},
			Pendings:  []store.StatusDetail{{ID: id("indicator", 3), Version: v2}},
			Owner:     "alice",
		},
		{ID: "4ec0a4b2-3c69-43c8-8a0a-b2db7c8ba1a5", APIRoot: apiRoot, Status: "pending", RequestTimestamp: base.Add(time.Hour), Owner: "bob"},
	}
	for _, st := range sts {
		if err := s.PutStatus(ctx, st); err != nil {
			t.Fatalf("PutStatus(%s): %v", st.ID, err)
		}
	}
	for _, st := range sts {
		got, err := s.Status(ctx, apiRoot, st.ID)
		if err != nil || !equalStatus(got, st) {
			t.Errorf("Status(%s) = %+v, %v; want %+v", st.ID, got, err, st)
		}
	}
	// PutStatus replaces: a pending status completes.
	done := sts[1]
	done.Status, done.TotalCount, done.SuccessCount = "complete", 1, 1
	done.Successes = []store.StatusDetail{{ID: id("tool", 1), Version: v1}}
	if err := s.PutStatus(ctx, done); err != nil {
		t.Fatalf("PutStatus (replace): %v", err)
	}
	if got, err := s.Status(ctx, apiRoot, done.ID); err != nil || !equalStatus(got, done) {
		t.Errorf("Status after replacing = %+v, %v; want %+v", got, err, done)
	}
	if _, err := s.Status(ctx, "other", sts[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Status from another API root: %v, want ErrNotFound", err)
	}
	if _, err := s.Status(ctx, apiRoot, "8a2b1d3e-0000-4000-8000-000000000000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Status(unknown): %v, want ErrNotFound", err)
	}
	if err := s.PutStatus(ctx, store.Status{ID: "x", APIRoot: "nope", Status: "complete"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutStatus in an unknown API root: %v, want ErrNotFound", err)
	}

	// Pruning removes what was requested strictly before the time.
	n, err := s.PruneStatuses(ctx, base.Add(time.Hour))
	if err != nil || n != 1 {
		t.Errorf("PruneStatuses = %d, %v; want 1", n, err)
	}
	if _, err := s.Status(ctx, apiRoot, sts[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a pruned status: %v, want ErrNotFound", err)
	}
	if _, err := s.Status(ctx, apiRoot, sts[1].ID); err != nil {
		t.Errorf("a status at the pruning time was removed: %v", err)
	}
}

func equalStatus(a, b store.Status) bool {
	return a.ID == b.ID && a.APIRoot == b.APIRoot && a.Status == b.Status && a.RequestTimestamp.Equal(b.RequestTimestamp) &&
		a.TotalCount == b.TotalCount && a.SuccessCount == b.SuccessCount && a.FailureCount == b.FailureCount &&
		a.PendingCount == b.PendingCount && slices.Equal(a.Successes, b.Successes) && slices.Equal(a.Failures, b.Failures) &&
		slices.Equal(a.Pendings, b.Pendings) && a.Owner == b.Owner
}

func testAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	created := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	alice := store.Account{Name: "alice", Role: store.RoleAnalyst, TokenHash: []byte("0123456789abcdef0123456789abcdef"), Created: created}
	bob := store.Account{Name: "bob", Role: store.RoleReader, TokenHash: []byte("fedcba9876543210fedcba9876543210"), Created: created}
	for _, a := range []store.Account{alice, bob} {
		if err := s.CreateAccount(ctx, a); err != nil {
			t.Fatalf("CreateAccount(%s): %v", a.Name, err)
		}
	}
	again := alice
	again.TokenHash = []byte("another token hash, same name...")
	if err := s.CreateAccount(ctx, again); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateAccount with a taken name: %v, want ErrExists", err)
	}
	equal := func(a, b store.Account) bool {
		return a.Name == b.Name && a.Role == b.Role && string(a.TokenHash) == string(b.TokenHash) && a.Created.Equal(b.Created)
	}
	if got, err := s.Account(ctx, "alice"); err != nil || !equal(got, alice) {
		t.Errorf("Account(alice) = %+v, %v; want %+v", got, err, alice)
	}
	if got, err := s.AccountByTokenHash(ctx, bob.TokenHash); err != nil || !equal(got, bob) {
		t.Errorf("AccountByTokenHash(bob's) = %+v, %v; want %+v", got, err, bob)
	}
	if _, err := s.Account(ctx, "carol"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Account(unknown): %v, want ErrNotFound", err)
	}
	if _, err := s.AccountByTokenHash(ctx, []byte("no such hash")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AccountByTokenHash(unknown): %v, want ErrNotFound", err)
	}
}

func testGrants(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s)
	for i, name := range []string{"alice", "bob"} {
		a := store.Account{Name: name, Role: store.RoleAnalyst, TokenHash: []byte(fmt.Sprintf("token hash of account %d", i)), Created: time.Now()}
		if err := s.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	grants := func(account string) string {
		t.Helper()
		gs, err := s.Grants(ctx, account)
		if err != nil {
			t.Fatalf("Grants(%s): %v", account, err)
		}
		return fmt.Sprint(gs)
	}
	g := func(account, collection string, r store.Right) store.Grant {
		return store.Grant{Account: account, Collection: collection, Right: r}
	}
	// Added out of order, listed by collection and then read before write.
	for _, gr := range []store.Grant{g("alice", coll2, store.RightWrite), g("alice", coll1, store.RightRead), g("alice", coll2, store.RightRead)} {
		if err := s.AddGrant(ctx, gr); err != nil {
			t.Fatalf("AddGrant(%+v): %v", gr, err)
		}
	}
	want := fmt.Sprint([]store.Grant{g("alice", coll1, store.RightRead), g("alice", coll2, store.RightRead), g("alice", coll2, store.RightWrite)})
	if got := grants("alice"); got != want {
		t.Errorf("Grants(alice) = %s; want %s", got, want)
	}
	if got := grants("bob"); got != "[]" {
		t.Errorf("Grants(bob) = %s; want none", got)
	}
	if got := grants("nobody"); got != "[]" {
		t.Errorf("Grants(nobody) = %s; want none", got)
	}

	for _, tt := range []struct {
		name string
		g    store.Grant
		want error
	}{
		{"held already", g("alice", coll1, store.RightRead), store.ErrExists},
		{"unknown account", g("nobody", coll1, store.RightRead), store.ErrNotFound},
		{"unknown collection", g("alice", "5c1c4ad4-0000-4000-8000-000000000000", store.RightRead), store.ErrNotFound},
	} {
		if err := s.AddGrant(ctx, tt.g); !errors.Is(err, tt.want) {
			t.Errorf("AddGrant, %s: %v; want %v", tt.name, err, tt.want)
		}
	}
	if err := s.AddGrant(ctx, g("alice", coll1, "delete")); err == nil {
		t.Error("AddGrant of right \"delete\" succeeded; want an error")
	}

	if err := s.RemoveGrant(ctx, g("alice", coll2, store.RightRead)); err != nil {
		t.Fatalf("RemoveGrant: %v", err)
	}
	for _, gr := range []store.Grant{
		g("alice", coll2, store.RightRead), // just removed
		g("bob", coll1, store.RightRead),   // never held
		g("alice", "5c1c4ad4-0000-4000-8000-000000000000", store.RightRead),
	} {
		if err := s.RemoveGrant(ctx, gr); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RemoveGrant(%+v): %v; want ErrNotFound", gr, err)
		}
	}
	want = fmt.Sprint([]store.Grant{g("alice", coll1, store.RightRead), g("alice", coll2, store.RightWrite)})
	if got := grants("alice"); got != want {
		t.Errorf("Grants(alice) after a revoke = %s; want %s", got, want)
	}
}

func testStats(t *testing.T, s store.Store) {
	ctx := t.Context()
	if st, err := s.Stats(ctx); err != nil || st != (store.Stats{}) {
		t.Errorf("Stats of an empty store = %+v, %v; want zeros", st, err)
	}
	fixture(t, s)
	add(t, s, coll1, sdo("indicator", 1, v1, "")) // a duplicate adds nothing
	if _, err := s.DeleteObject(ctx, coll1, id("malware", 1), store.VersionFilter{}, nil); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Stats(ctx); err != nil || st != (store.Stats{Collections: 2, Objects: 6}) {
		t.Errorf("Stats = %+v, %v; want 2 collections, 6 object versions", st, err)
	}
	// One new version beside a duplicate and a conflict, then a delete of
	// every version of an object.
	add(t, s, coll2, sdo("identity", 1, v2, ""), sdo("identity", 1, v1, ""), sdo("identity", 1, v1, `,"description":"other"`))
	if n, err := s.DeleteObject(ctx, coll1, id("indicator", 1), store.VersionFilter{All: true}, nil); err != nil || n != 4 {
		t.Fatalf("DeleteObject = %d, %v; want 4", n, err)
	}
	if st, err := s.Stats(ctx); err != nil || st != (store.Stats{Collections: 2, Objects: 3}) {
		t.Errorf("Stats = %+v, %v; want 2 collections, 3 object versions", st, err)
	}
}

// testCollectionState checks the probe of a collection's stored versions:
// every add and delete changes it, in the collection it touches only, and
// no sequence of them brings back a state seen before.
func testCollectionState(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.CollectionState(ctx, coll1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CollectionState of a missing collection: %v; want ErrNotFound", err)
	}
	setup(t, s)
	var seen []store.CollectionState
	state := func(collection string) store.CollectionState {
		t.Helper()
		st, err := s.CollectionState(ctx, collection)
		if err != nil {
			t.Fatalf("CollectionState(%s): %v", collection, err)
		}
		return st
	}
	// changed checks that coll1's state is new, and returns it.
	changed := func(what string) store.CollectionState {
		t.Helper()
		st := state(coll1)
		for _, old := range seen {
			if st.Equal(old) {
				t.Errorf("after %s the state is %+v, as before", what, st)
			}
		}
		seen = append(seen, st)
		return st
	}
	unchanged := func(what string) {
		t.Helper()
		if st := state(coll1); !st.Equal(seen[len(seen)-1]) {
			t.Errorf("after %s the state is %+v; want it unchanged, %+v", what, st, seen[len(seen)-1])
		}
	}
	if st := changed("nothing"); st != (store.CollectionState{}) {
		t.Errorf("state of an empty collection = %+v; want the zero state", st)
	}
	out := mustAdd(t, s, coll1, sdo("indicator", 1, v1, ""), sdo("indicator", 2, v1, ""))
	if st := changed("an add"); st.Versions != 2 || !st.LastAdded.Equal(out[1].DateAdded) {
		t.Errorf("state = %+v; want 2 versions, last added %v", st, out[1].DateAdded)
	}
	add(t, s, coll1, sdo("indicator", 1, v1, ""))
	unchanged("a duplicate")
	mustAdd(t, s, coll2, sdo("indicator", 3, v1, ""))
	unchanged("an add to another collection")
	mustAdd(t, s, coll1, sdo("indicator", 1, v2, `,"revoked":true`))
	changed("a revocation (a new version)")
	if _, err := s.DeleteObject(ctx, coll1, id("indicator", 2), store.VersionFilter{}, nil); err != nil {
		t.Fatal(err)
	}
	changed("a delete")
	// A delete of the newest version and an add: as many versions as
	// before the delete, and the newest date_added was the deleted one's.
	if _, err := s.DeleteObject(ctx, coll1, id("indicator", 1), store.VersionFilter{}, nil); err != nil {
		t.Fatal(err)
	}
	changed("a delete of the newest version")
	mustAdd(t, s, coll1, sdo("indicator", 4, v1, ""))
	changed("an add after it")
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		put, err := store.NewPut(parse(t, sdo("indicator", 5, v1, "")))
		if err != nil {
			return err
		}
		_, err = tx.AddObjects(ctx, coll1, []store.Put{put})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	changed("an add in a transaction")
}

// testUpdate checks the write transaction: what f writes commits together,
// in order, or not at all.
func testUpdate(t *testing.T, s store.Store) {
	setup(t, s)
	ctx := t.Context()
	const v = "2020-01-01T00:00:00.000Z"
	status := func(id string, out []store.AddOutcome) store.Status {
		st := store.Status{ID: id, APIRoot: apiRoot, Status: "complete", RequestTimestamp: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
			TotalCount: len(out), SuccessCount: len(out), Owner: "alice"}
		for _, o := range out {
			st.Successes = append(st.Successes, store.StatusDetail{ID: "x", Version: o.Version})
		}
		return st
	}
	const st1, st2, st3 = "7f1c2b9e-0000-4000-8000-000000000001", "7f1c2b9e-0000-4000-8000-000000000002", "7f1c2b9e-0000-4000-8000-000000000003"

	// Two envelopes' writes in one transaction.
	var first, second []store.AddOutcome
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if first, err = tx.AddObjects(ctx, coll1, puts(t, parse(t, sdo("tool", 1, v, "")), parse(t, sdo("tool", 2, v, "")))); err != nil {
			return err
		}
		if err := tx.PutStatus(ctx, status(st1, first)); err != nil {
			return err
		}
		// The second sees what the first wrote.
		if second, err = tx.AddObjects(ctx, coll1, puts(t, parse(t, sdo("tool", 2, v, "")), parse(t, sdo("tool", 3, v, "")))); err != nil {
			return err
		}
		return tx.PutStatus(ctx, status(st2, second))
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if !second[0].Duplicate || second[0].Seq != first[1].Seq || second[1].Duplicate {
		t.Errorf("outcomes %+v then %+v; want the second call to see the first's tool 2 as a duplicate", first, second)
	}
	if !(first[0].Seq < first[1].Seq && first[1].Seq < second[1].Seq) || !second[1].DateAdded.After(first[1].DateAdded) {
		t.Errorf("sequence and date_added do not increase across the calls: %+v, %+v", first, second)
	}
	for _, id := range []string{st1, st2} {
		if _, err := s.Status(ctx, apiRoot, id); err != nil {
			t.Errorf("Status(%s) after Update: %v", id, err)
		}
	}

	// f fails: nothing it wrote is kept, and the store goes on.
	boom := errors.New("boom")
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		out, err := tx.AddObjects(ctx, coll1, puts(t, parse(t, sdo("tool", 4, v, ""))))
		if err != nil {
			return err
		}
		if err := tx.PutStatus(ctx, status(st3, out)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("Update with f failing: %v, want f's error", err)
	}
	if _, err := s.Status(ctx, apiRoot, st3); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the status of a failed Update: %v, want ErrNotFound", err)
	}
	got := list(t, s, store.Query{Versions: store.VersionFilter{All: true}})
	want := []string{id("tool", 1) + "@" + v, id("tool", 2) + "@" + v, id("tool", 3) + "@" + v}
	if !slices.Equal(versions(got), want) {
		t.Errorf("stored %v, want %v: a failed Update kept its objects", versions(got), want)
	}
	out := mustAdd(t, s, coll1, sdo("tool", 4, v, ""))
	if out[0].Seq <= second[1].Seq {
		t.Errorf("after a failed Update, seq %d; want above %d", out[0].Seq, second[1].Seq)
	}

	// An unknown collection fails the call with ErrNotFound.
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.AddObjects(ctx, "00000000-0000-4000-8000-00000000dead", puts(t, parse(t, sdo("tool", 5, v, ""))))
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Update adding to an unknown collection: %v, want ErrNotFound", err)
	}
}

// puts prepares objects for Tx.AddObjects.
func puts(t *testing.T, objs ...*stix.Object) []store.Put {
	t.Helper()
	out := make([]store.Put, len(objs))
	for i, o := range objs {
		p, err := store.NewPut(o)
		if err != nil {
			t.Fatalf("NewPut(%s): %v", o.ID, err)
		}
		out[i] = p
	}
	return out
}
