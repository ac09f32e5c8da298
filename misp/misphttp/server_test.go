package misphttp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entente/entente/misp"
	"github.com/entente/entente/taxii"
)

// fakeBackend serves one collection to the token "good"; canRead and the
// objects can change during a test.
type fakeBackend struct {
	mu      sync.Mutex
	canRead bool
	objects []json.RawMessage
	reads   int // calls of Objects
}

func (f *fakeBackend) Authenticate(_ context.Context, user, token string) (*taxii.Caller, error) {
	if token != "good" {
		return nil, fmt.Errorf("%w: unknown token", taxii.ErrUnauthorized)
	}
	return &taxii.Caller{Name: "ana", Role: "analyst"}, nil
}

func (f *fakeBackend) Collection(_ context.Context, c *taxii.Caller, root, id string) (*taxii.Collection, error) {
	if root != "api1" || id != "col" {
		return nil, fmt.Errorf("%w: no collection %q", taxii.ErrNotFound, id)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return &taxii.Collection{ID: "col", Title: "Col", CanRead: f.canRead}, nil
}

func (f *fakeBackend) Objects(_ context.Context, c *taxii.Caller, root, collection string, flt *taxii.Filter) (*taxii.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	start := int(flt.After)
	end := min(start+flt.Limit, len(f.objects))
	p := &taxii.Page{More: end < len(f.objects), Next: int64(end)}
	for _, o := range f.objects[start:end] {
		p.Items = append(p.Items, taxii.Item{Object: o})
	}
	return p, nil
}

func backendWithEvent(t *testing.T) *fakeBackend {
	t.Helper()
	data, err := os.ReadFile("../testdata/small-event.json")
	if err != nil {
		t.Fatal(err)
	}
	e, err := misp.DecodeEvent(data)
	if err != nil {
		t.Fatal(err)
	}
	res, err := misp.ToSTIX(e, misp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &fakeBackend{canRead: true, objects: res.Objects}
}

func get(t *testing.T, h http.Handler, method, path, token string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestFeedFiles(t *testing.T) {
	b := backendWithEvent(t)
	s := NewServer(b, Config{MaxObjects: 100})
	w := get(t, s, "GET", "/misp/api1/col/manifest.json", "good")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "7c1d0c5e-1b7a-4d8e-9f3a-2b4c6d8e0f1a") {
		t.Fatalf("manifest: %d %s", w.Code, w.Body)
	}
	etag := w.Header().Get("ETag")
	if w := get(t, s, "GET", "/misp/api1/col/manifest.json", "good", "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match with the ETag: %d, want 304", w.Code)
	}
	if w := get(t, s, "HEAD", "/misp/api1/col/hashes.csv", "good"); w.Code != 200 || w.Body.Len() != 0 {
		t.Errorf("HEAD hashes.csv: %d, %d bytes", w.Code, w.Body.Len())
	}
	w = get(t, s, "GET", "/misp/api1/col/7c1d0c5e-1b7a-4d8e-9f3a-2b4c6d8e0f1a.json", "good")
	e, err := misp.DecodeEvent(w.Body.Bytes())
	if w.Code != 200 || err != nil || len(e.Attributes) != 2 {
		t.Errorf("event: %d %v %s", w.Code, err, w.Body)
	}
	if w := get(t, s, "POST", "/misp/api1/col/manifest.json", "good"); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", w.Code)
	}
	for _, p := range []string{"/misp/api1/col/../col/manifest.json", "/misp/api1/col/x/y/z", "/misp/api1/col/manifest.txt", "/misp/api1/col/"} {
		if w := get(t, s, "GET", p, "good"); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, w.Code)
		}
	}
}

// TestRightsCheckedDespiteCache revokes the right to read while a built
// feed is cached: the next request is refused all the same.
func TestRightsCheckedDespiteCache(t *testing.T) {
	b := backendWithEvent(t)
	s := NewServer(b, Config{})
	if w := get(t, s, "GET", "/misp/api1/col/manifest.json", "good"); w.Code != 200 {
		t.Fatal(w.Code)
	}
	if w := get(t, s, "GET", "/misp/api1/col/hashes.csv", "good"); w.Code != 200 || b.reads != 1 {
		t.Errorf("second file: %d after %d reads; want the cached feed", w.Code, b.reads)
	}
	b.mu.Lock()
	b.canRead = false
	b.mu.Unlock()
	if w := get(t, s, "GET", "/misp/api1/col/manifest.json", "good"); w.Code != http.StatusForbidden {
		t.Errorf("after revocation: %d, want 403", w.Code)
	}
	if w := get(t, s, "GET", "/misp/api1/col/manifest.json", ""); w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("without credentials: %d", w.Code)
	}
}

func TestTooLarge(t *testing.T) {
	b := backendWithEvent(t)
	s := NewServer(b, Config{MaxObjects: 2})
	if w := get(t, s, "GET", "/misp/api1/col/manifest.json", "good"); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("over MaxObjects: %d", w.Code)
	}
}

// statefulBackend is a fakeBackend that is a StateReader: its state is
// version, which the test bumps when it changes the objects, or "" while
// unknown is set.
type statefulBackend struct {
	*fakeBackend
	version int
	unknown bool
}

func (f *statefulBackend) State(_ context.Context, c *taxii.Caller, root, collection string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unknown {
		return "", nil
	}
	return fmt.Sprint(f.version), nil
}

// TestStateDecidesCache: with a StateReader, a feed is rebuilt as soon as
// the state changes, within CacheFor, and kept beyond CacheFor while it
// does not; an unknown state builds every time.
func TestStateDecidesCache(t *testing.T) {
	b := &statefulBackend{fakeBackend: backendWithEvent(t)}
	s := NewServer(b, Config{CacheFor: time.Hour})
	hashes := func() (string, int) {
		t.Helper()
		before := b.reads
		w := get(t, s, "GET", "/misp/api1/col/hashes.csv", "good")
		if w.Code != 200 {
			t.Fatalf("hashes.csv: %d %s", w.Code, w.Body)
		}
		return w.Body.String(), b.reads - before
	}
	first, reads := hashes()
	if reads == 0 || first == "" {
		t.Fatalf("the first request read %d times: %q", reads, first)
	}
	if again, reads := hashes(); reads != 0 || again != first {
		t.Errorf("the state unchanged, the feed was read %d times", reads)
	}
	// Objects leave the collection and its state changes: the next
	// request sees it at once, though CacheFor has not passed.
	b.mu.Lock()
	b.objects = b.objects[:1]
	b.version++
	b.mu.Unlock()
	changed, reads := hashes()
	if reads == 0 || changed == first {
		t.Errorf("after a change, hashes.csv read %d times and is %q, as before", reads, changed)
	}

	// Kept beyond CacheFor while the state holds.
	s = NewServer(b, Config{CacheFor: time.Nanosecond})
	hashes()
	time.Sleep(time.Millisecond)
	if _, reads := hashes(); reads != 0 {
		t.Errorf("with the state unchanged, a feed older than CacheFor was rebuilt (%d reads)", reads)
	}
	b.mu.Lock()
	b.unknown = true
	b.mu.Unlock()
	for range 2 {
		if _, reads := hashes(); reads == 0 {
			t.Error("with the state unknown, a feed was served from the cache")
		}
	}
}
