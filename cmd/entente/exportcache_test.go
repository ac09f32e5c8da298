package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entente/entente/export"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/store/sqlite"
	"github.com/entente/entente/taxii"
)

// countingNode is a node whose object reads are counted: an export served
// from the cache reads no object.
type countingNode struct {
	*node.Node
	reads *atomic.Int64
}

func (c countingNode) Objects(ctx context.Context, cl *taxii.Caller, root, collection string, f *taxii.Filter) (*taxii.Page, error) {
	c.reads.Add(1)
	return c.Node.Objects(ctx, cl, root, collection, f)
}

// exportFixture is a node on SQLite, its export handler with a clock the
// test moves, and the tokens of its admin and of a reader, "sensor",
// granted the default collection.
type exportFixture struct {
	st            store.Store
	n             *node.Node
	ini           *node.Initialized
	h             *exportHandler
	reads         atomic.Int64
	mu            sync.Mutex
	clock         time.Time
	admin, sensor string
}

func newExportFixture(t *testing.T) *exportFixture {
	t.Helper()
	ctx := t.Context()
	f := &exportFixture{clock: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	var err error
	if f.st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), dbFile)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.st.Close() })
	if f.ini, err = node.Initialize(ctx, f.st, f.now()); err != nil {
		t.Fatal(err)
	}
	if f.n, err = node.New(ctx, node.Config{Store: f.st, Now: f.now}); err != nil {
		t.Fatal(err)
	}
	f.admin = f.ini.AdminToken
	if f.sensor, err = node.CreateAccount(ctx, f.st, "sensor", store.RoleReader, f.now()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := node.Grant(ctx, f.st, "sensor", f.ini.CollectionID, store.RightRead); err != nil {
		t.Fatal(err)
	}
	f.h = newExportHandler(countingNode{f.n, &f.reads}, slog.New(slog.DiscardHandler), f.now)
	t.Cleanup(f.h.Close)
	return f
}

func (f *exportFixture) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clock
}

func (f *exportFixture) setClock(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock = t
}

func (f *exportFixture) post(t *testing.T, objs ...string) {
	t.Helper()
	raws := make([]json.RawMessage, len(objs))
	for i, o := range objs {
		raws[i] = json.RawMessage(o)
	}
	admin := &taxii.Caller{Name: node.AdminAccount, Role: string(store.RoleAdmin)}
	s, err := f.n.AddObjects(t.Context(), admin, node.DefaultAPIRoot, f.ini.CollectionID, raws)
	if err != nil || s.SuccessCount != len(objs) {
		t.Fatalf("adding %d objects: %+v, %v", len(objs), s, err)
	}
}

// fetch GETs path with token and If-None-Match etag, and returns the answer
// and how many object reads it took.
func (f *exportFixture) fetch(t *testing.T, path, token, etag string) (*httptest.ResponseRecorder, int64) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	rec := httptest.NewRecorder()
	before := f.reads.Load()
	f.h.ServeHTTP(rec, req)
	return rec, f.reads.Load() - before
}

// TestExportCache: a fetch of an export whose inputs did not change is
// answered from the cache, 200 or 304, with the body and ETag of a fresh
// render and no object read; a new indicator, a revocation, a deletion
// and the clock passing a valid_until or a valid_from each render anew; a
// revoked grant is refused at once; and each caller has its own entry.
func TestExportCache(t *testing.T) {
	f := newExportFixture(t)
	t0 := f.now()
	stamp := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
	f.post(t,
		exportIndicator(1, "stix", "[ipv4-addr:value = '198.51.100.1']"),
		exportIndicator(2, "stix", "[ipv4-addr:value = '198.51.100.2']", `"valid_until":"`+stamp(time.Hour)+`"`),
	)
	const path = "/export/api1/default/zeek-intel"
	has := func(rec *httptest.ResponseRecorder, n int) bool {
		return strings.Contains(rec.Body.String(), fmt.Sprintf("198.51.100.%d\t", n))
	}
	// fresh checks that rec is what a render from scratch gives now.
	fresh := func(rec *httptest.ResponseRecorder) {
		t.Helper()
		other := newExportHandler(f.n, slog.New(slog.DiscardHandler), f.now)
		defer other.Close()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+f.sensor)
		want := httptest.NewRecorder()
		other.ServeHTTP(want, req)
		if rec.Body.String() != want.Body.String() || rec.Header().Get("ETag") != want.Header().Get("ETag") {
			t.Errorf("the answer (ETag %s) is not a fresh render's (ETag %s):\n%s\nwant\n%s",
				rec.Header().Get("ETag"), want.Header().Get("ETag"), rec.Body, want.Body)
		}
	}
	// rendered fetches and checks that the export was rendered anew.
	rendered := func(what string) *httptest.ResponseRecorder {
		t.Helper()
		rec, reads := f.fetch(t, path, f.sensor, "")
		if rec.Code != http.StatusOK || reads == 0 {
			t.Fatalf("after %s: %d with %d object reads; want 200, rendered anew", what, rec.Code, reads)
		}
		fresh(rec)
		return rec
	}
	// cached fetches and checks that the cache answered.
	cached := func(what string, want *httptest.ResponseRecorder) {
		t.Helper()
		rec, reads := f.fetch(t, path, f.sensor, "")
		if rec.Code != http.StatusOK || reads != 0 || rec.Body.String() != want.Body.String() || rec.Header().Get("ETag") != want.Header().Get("ETag") {
			t.Errorf("%s: %d with %d object reads, ETag %s; want 200 from the cache, ETag %s", what, rec.Code, reads, rec.Header().Get("ETag"), want.Header().Get("ETag"))
		}
		if rec, reads := f.fetch(t, path, f.sensor, want.Header().Get("ETag")); rec.Code != http.StatusNotModified || reads != 0 {
			t.Errorf("%s, with If-None-Match: %d with %d object reads; want 304 from the cache", what, rec.Code, reads)
		}
	}

	first := rendered("the first fetch")
	if !has(first, 1) || !has(first, 2) {
		t.Fatalf("the export lacks an indicator:\n%s", first.Body)
	}
	cached("a second fetch", first)
	if rec, reads := f.fetch(t, path+"/report", f.sensor, ""); rec.Code != http.StatusOK || reads != 0 ||
		!strings.Contains(rec.Body.String(), "2 indicators exported") {
		t.Errorf("the report: %d with %d object reads, %q; want it rendered with the export", rec.Code, reads, rec.Body)
	}

	f.post(t, exportIndicator(3, "stix", "[ipv4-addr:value = '198.51.100.3']"))
	if rec := rendered("a new indicator"); !has(rec, 3) {
		t.Errorf("the new indicator is not exported:\n%s", rec.Body)
	}

	revoked := strings.Replace(exportIndicator(3, "stix", "[ipv4-addr:value = '198.51.100.3']", `"revoked":true`),
		`"modified":"2024-01-01T00:00:00.000Z"`, `"modified":"2024-02-01T00:00:00.000Z"`, 1)
	f.post(t, revoked)
	if rec := rendered("a revocation"); has(rec, 3) {
		t.Errorf("the revoked indicator is exported:\n%s", rec.Body)
	}

	f.post(t, strings.Replace(exportIndicator(4, "stix", "[ipv4-addr:value = '198.51.100.4']"),
		`"valid_from":"2024-01-01T00:00:00Z"`, `"valid_from":"`+stamp(2*time.Hour)+`"`, 1))
	before := rendered("an indicator valid from later")
	if has(before, 4) {
		t.Errorf("an indicator not valid yet is exported:\n%s", before.Body)
	}
	f.setClock(t0.Add(59 * time.Minute))
	cached("the clock moving before any validity changes", before)
	f.setClock(t0.Add(time.Hour))
	if rec := rendered("indicator 2's valid_until passing"); has(rec, 2) {
		t.Errorf("the expired indicator is exported:\n%s", rec.Body)
	}
	f.setClock(t0.Add(2 * time.Hour))
	rec := rendered("indicator 4's valid_from passing")
	if !has(rec, 4) {
		t.Errorf("the indicator valid from now is not exported:\n%s", rec.Body)
	}
	cached("nothing changing", rec)

	admin := &taxii.Caller{Name: node.AdminAccount, Role: string(store.RoleAdmin)}
	if err := f.n.DeleteObject(t.Context(), admin, node.DefaultAPIRoot, f.ini.CollectionID, "indicator--00000004-0000-4000-8000-0000000000e0", &taxii.Filter{}); err != nil {
		t.Fatal(err)
	}
	rec = rendered("a deletion")
	if has(rec, 4) {
		t.Errorf("the deleted indicator is exported:\n%s", rec.Body)
	}

	// The admin has an entry of its own: its first fetch renders, and
	// leaves the sensor's entry as it was.
	if got, reads := f.fetch(t, path, f.admin, ""); got.Code != http.StatusOK || reads == 0 {
		t.Errorf("the admin's first fetch: %d with %d object reads; want a render of its own", got.Code, reads)
	}
	cached("the admin's fetch", rec)

	if _, _, err := node.Revoke(t.Context(), f.st, "sensor", f.ini.CollectionID, store.RightRead); err != nil {
		t.Fatal(err)
	}
	for _, etag := range []string{"", rec.Header().Get("ETag")} {
		if got, reads := f.fetch(t, path, f.sensor, etag); got.Code != http.StatusNotFound || reads != 0 {
			t.Errorf("after the grant was revoked (If-None-Match %q): %d with %d object reads; want 404 at once", etag, got.Code, reads)
		}
	}
}

// viewsReader is a test fake of the export's reader in which two callers
// read different indicators of one collection, of the same state; the
// agreement named in the state is the test's to change.
type viewsReader struct {
	reads     *atomic.Int64
	agreement *atomic.Value // string
}

func (v viewsReader) Authenticate(_ context.Context, _, token string) (*taxii.Caller, error) {
	switch token {
	case "alice", "bob":
		return &taxii.Caller{Name: token, Role: string(store.RoleReader)}, nil
	}
	return nil, taxii.ErrUnauthorized
}

func (v viewsReader) ReadState(_ context.Context, c *taxii.Caller, _, _ string) (node.ReadState, error) {
	return node.ReadState{Collection: "c1", Agreement: v.agreement.Load().(string)}, nil
}

func (v viewsReader) Objects(_ context.Context, c *taxii.Caller, _, _ string, _ *taxii.Filter) (*taxii.Page, error) {
	v.reads.Add(1)
	n := map[string]int{"alice": 1, "bob": 2}[c.Name]
	return &taxii.Page{Items: []taxii.Item{{Object: json.RawMessage(exportIndicator(n, "stix", fmt.Sprintf("[ipv4-addr:value = '198.51.100.%d']", n)))}}}, nil
}

// TestExportCacheCallers: two callers who read different objects, in the
// same state, each get their own export, from the cache too; and a new
// agreement renders anew.
func TestExportCacheCallers(t *testing.T) {
	var reads atomic.Int64
	var agreement atomic.Value
	agreement.Store("a version 1")
	now := time.Now()
	h := newExportHandler(viewsReader{&reads, &agreement}, slog.New(slog.DiscardHandler), func() time.Time { return now })
	defer h.Close()
	fetch := func(token string) (string, int64) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/export/api1/c1/suricata", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		before := reads.Load()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", token, rec.Code, rec.Body)
		}
		return rec.Body.String(), reads.Load() - before
	}
	for round := range 2 {
		for _, who := range []struct{ token, mine, theirs string }{{"alice", "198.51.100.1", "198.51.100.2"}, {"bob", "198.51.100.2", "198.51.100.1"}} {
			body, n := fetch(who.token)
			if !strings.Contains(body, who.mine) || strings.Contains(body, who.theirs) {
				t.Errorf("round %d: %s got\n%s", round, who.token, body)
			}
			if fromCache := n == 0; fromCache != (round == 1) {
				t.Errorf("round %d: %s's fetch read %d times", round, who.token, n)
			}
		}
	}
	agreement.Store("a version 2")
	if _, n := fetch("alice"); n == 0 {
		t.Error("after an amendment the export was served from the cache")
	}
}

// TestExportCacheBound: the cache keeps at most its bytes and entries,
// drops the least recently used first, removes the spool file of what it
// drops, and keeps no export larger than its byte bound.
func TestExportCacheBound(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	now := time.Now()
	reader := countingPaged{pagedIndicators{n: 400}, &atomic.Int64{}}
	h := newExportHandler(reader, slog.New(slog.DiscardHandler), func() time.Time { return now })
	h.spoolMax = 1024
	fetch := func(format string) (*httptest.ResponseRecorder, int64) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/export/api1/default/"+format, nil)
		req.Header.Set("Authorization", "Bearer t")
		rec := httptest.NewRecorder()
		before := reader.reads.Load()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", format, rec.Code, rec.Body)
		}
		return rec, reader.reads.Load() - before
	}
	files := func() int {
		t.Helper()
		left, err := os.ReadDir(tmp)
		if err != nil {
			t.Fatal(err)
		}
		return len(left)
	}
	zeek, _ := fetch("zeek-intel")
	suricata, _ := fetch("suricata")
	if files() != 2 {
		t.Fatalf("%d spool files for two cached exports", files())
	}
	h.Close()
	if files() != 0 {
		t.Fatalf("Close left %d spool files", files())
	}
	// Room for the Suricata export and the reports, but not for the Zeek
	// export beside them.
	h.cache = newExportCache(10, int64(suricata.Body.Len())+1000)
	if int64(zeek.Body.Len()+suricata.Body.Len()) <= h.cache.maxBytes {
		t.Fatalf("the exports are %d and %d bytes; the test needs them larger", zeek.Body.Len(), suricata.Body.Len())
	}
	fetch("zeek-intel")
	fetch("suricata") // drops the Zeek export and, before it, its report
	if entries, size := h.cache.stats(); size > h.cache.maxBytes || entries != 2 || files() != 1 {
		t.Errorf("the cache holds %d entries, %d bytes (bound %d), %d spool files; want the Suricata export and its report, in 1 file",
			entries, size, h.cache.maxBytes, files())
	}
	if _, n := fetch("suricata"); n != 0 {
		t.Error("the most recent export was dropped")
	}
	if _, n := fetch("zeek-intel"); n == 0 {
		t.Error("the least recently used export was not dropped")
	}

	// An export larger than the bound is served and not kept.
	h.Close()
	h.cache = newExportCache(10, int64(suricata.Body.Len()/2))
	for range 2 {
		if rec, n := fetch("suricata"); n == 0 || !bytes.Equal(rec.Body.Bytes(), suricata.Body.Bytes()) {
			t.Errorf("an export larger than the cache: %d bytes with %d reads; want it rendered each time", rec.Body.Len(), n)
		}
	}
	if files() != 0 {
		t.Errorf("%d spool files left of an export the cache did not keep", files())
	}

	// The entry bound, the least recently used going first: each render
	// keeps an export and its report.
	h.Close()
	h.cache = newExportCache(4, 1<<30)
	fetch("suricata")
	fetch("yara")
	for _, f := range []string{"suricata", "suricata/report"} {
		if _, n := fetch(f); n != 0 {
			t.Errorf("%s was dropped within the entry bound", f)
		}
	}
	fetch("zeek-intel") // drops the YARA export, used less recently
	if entries, _ := h.cache.stats(); entries != 4 {
		t.Errorf("%d entries; want 4", entries)
	}
	if _, n := fetch("suricata"); n != 0 {
		t.Error("the entry bound dropped the export used most recently")
	}
	if _, n := fetch("yara"); n == 0 {
		t.Error("the entry bound did not drop the export used least recently")
	}
	h.Close()
	if files() != 0 {
		t.Errorf("Close left %d spool files", files())
	}
}

// countingPaged counts the object reads of a pagedIndicators.
type countingPaged struct {
	pagedIndicators
	reads *atomic.Int64
}

func (c countingPaged) Objects(ctx context.Context, cl *taxii.Caller, root, collection string, f *taxii.Filter) (*taxii.Page, error) {
	c.reads.Add(1)
	return c.pagedIndicators.Objects(ctx, cl, root, collection, f)
}

// TestExportCacheConcurrent fetches exports from many goroutines through a
// cache too small for them all, so that entries are dropped while others
// send them: every answer is whole, and no spool file is left.
func TestExportCacheConcurrent(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	now := time.Now()
	h := newExportHandler(pagedIndicators{n: 300}, slog.New(slog.DiscardHandler), func() time.Time { return now })
	h.spoolMax = 1024
	h.cache = newExportCache(3, 1<<30)
	formats := []string{"suricata", "zeek-intel", "suricata-datasets/sha256", "suricata-datasets/md5"}
	want := map[string]string{}
	for _, f := range formats {
		var b bytes.Buffer
		hash := ""
		format := export.Format(f)
		if name, h, ok := strings.Cut(f, "/"); ok {
			format, hash = export.Format(name), h
		}
		if _, err := exportObjects(&b, export.Config{Format: format, Now: now, Source: "api1/default", Hash: hash}, func(yield func([]byte, error) bool) {
			for i := range 300 {
				if !yield(exportBenchIndicator(i), nil) {
					return
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		want[f] = b.String()
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				f := formats[(g+i)%len(formats)]
				req := httptest.NewRequest(http.MethodGet, "/export/api1/default/"+f, nil)
				req.Header.Set("Authorization", "Bearer t")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || rec.Body.String() != want[f] {
					t.Errorf("%s: %d, %d bytes; want the %d bytes of the export", f, rec.Code, rec.Body.Len(), len(want[f]))
					return
				}
			}
		})
	}
	wg.Wait()
	h.Close()
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("%d spool files left", len(left))
	}
}
