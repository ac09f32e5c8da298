package taxii_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entente/entente/taxii"
	"github.com/entente/entente/taxii/taxiitest"
)

// The test world: one API root with a collection everyone may use as
// their role allows, and a restricted one whose rights differ per role
// so that every row of TAXII 2.1's permission tables can be reached.
const (
	root         = "api1"
	collID       = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
	restrictedID = "52892447-4d7e-4f70-b94d-d7f22742ff63"
	unknownID    = "2a0cd5b8-7a3a-4a4c-8f0e-3f3c3c2a9d55"

	indicatorID = "indicator--a1f8b7b4-2a4c-4c2c-9f1e-0d6b2b7e1a01"
	malwareID   = "malware--b2e3c4d5-6f70-4a81-9b2c-3d4e5f607182"
	ipv4ID      = "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"
	identityID  = "identity--c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b"
	missingID   = "indicator--00000000-0000-4000-8000-000000000000"
)

// Accounts: name, role and token.
var accounts = []struct{ name, role, token string }{
	{"root", "admin", "admin-token"},
	{"ana", "analyst", "analyst-token"},
	{"rita", "reader", "reader-token"},
	{"gus", "guest", "guest-token"},
}

// testKey keys next tokens, so that golden files are stable.
var testKey = []byte("a fixed key for tests, 32 bytes!")

type world struct {
	fake *taxiitest.Fake
	srv  *httptest.Server

	mu       sync.Mutex
	observed []string // "route status", from Config.Observe
}

// newWorld starts a Server over a Fake holding testdata/objects.json in
// the open collection. Its clock ticks one second a call from 2025-01-01.
func newWorld(t testing.TB, cfg taxii.Config) *world {
	t.Helper()
	f := taxiitest.New()
	tick := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Now = func() time.Time { tick = tick.Add(time.Second); return tick }
	ids := 0
	f.NewID = func() string { ids++; return fmt.Sprintf("00000000-0000-4000-8000-%012d", ids) }
	for _, a := range accounts {
		f.AddAccount(a.name, a.role, a.token)
	}
	f.AddAPIRoot(root, taxii.APIRoot{
		Title:            "Test root",
		Versions:         []string{taxii.MediaType},
		MaxContentLength: 1 << 16,
	})
	must(t, f.AddCollection(root, taxii.Collection{ID: collID, Title: "Indicators", Alias: "indicators", MediaTypes: []string{taxii.STIXMediaType}},
		map[string]taxiitest.Perm{"admin": {Read: true, Write: true}, "analyst": {Read: true, Write: true}, "reader": {Read: true}}))
	must(t, f.AddCollection(root, taxii.Collection{ID: restrictedID, Title: "Restricted"},
		map[string]taxiitest.Perm{"admin": {Read: true, Write: true}, "analyst": {Write: true}, "reader": {Read: true}}))

	w := &world{fake: f}
	cfg.TokenKey = testKey
	cfg.Observe = func(route string, status int, _ time.Duration) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.observed = append(w.observed, fmt.Sprintf("%s %d", route, status))
	}
	w.srv = httptest.NewServer(taxii.NewServer(f, cfg))
	t.Cleanup(w.srv.Close)

	w.post(t, collID, readFile(t, "testdata/objects.json"))
	w.post(t, restrictedID, `{"objects":[{"type":"malware","spec_version":"2.1","id":"`+malwareID+`","created":"2024-01-05T00:00:00.000Z","modified":"2024-01-05T00:00:00.000Z","name":"Dropper","is_family":true}]}`)
	return w
}

func (w *world) post(t testing.TB, collection, body string) {
	t.Helper()
	r := w.do(t, request{method: "POST", path: "/" + root + "/collections/" + collection + "/objects/", body: body})
	if r.status != http.StatusAccepted {
		t.Fatalf("loading fixtures: %d %s", r.status, r.body)
	}
}

func (w *world) client(t testing.TB, user, token string) *taxii.Client {
	t.Helper()
	c, err := taxii.NewClient(w.srv.URL, taxii.ClientOptions{User: user, Token: token, HTTPClient: w.srv.Client()})
	must(t, err)
	return c
}

// request is a raw HTTP request. The zero auth is the admin's bearer
// token; headers set to "" are removed.
type request struct {
	method, path, body string
	auth               string            // "basic user:token", "bearer token", "none"
	chunked            bool              // send the body without a Content-Length
	header             map[string]string // overrides
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (w *world) do(t testing.TB, r request) response {
	t.Helper()
	var body io.Reader = strings.NewReader(r.body)
	if r.chunked {
		body = io.MultiReader(body) // hides the length
	}
	req, err := http.NewRequest(r.method, w.srv.URL+r.path, body)
	must(t, err)
	req.Header.Set("Accept", taxii.MediaType)
	if r.method == "POST" {
		req.Header.Set("Content-Type", taxii.MediaType)
	}
	switch kind, cred, _ := strings.Cut(r.auth, " "); kind {
	case "":
		req.Header.Set("Authorization", "Bearer admin-token")
	case "bearer":
		req.Header.Set("Authorization", "Bearer "+cred)
	case "basic":
		user, token, _ := strings.Cut(cred, ":")
		req.SetBasicAuth(user, token)
	}
	for k, v := range r.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := w.srv.Client().Do(req)
	must(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	must(t, err)
	return response{resp.StatusCode, resp.Header, got}
}

// checkTAXIIError checks that r is a TAXII error answer with status want.
func checkTAXIIError(t testing.TB, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Errorf("status %d, want %d; body %s", r.status, want, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != taxii.MediaType {
		t.Errorf("Content-Type %q, want %q", ct, taxii.MediaType)
	}
	var e taxii.Error
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("body %q is not an error resource: %v", r.body, err)
	}
	if e.Title == "" || e.Description == "" || e.HTTPStatus != fmt.Sprint(r.status) {
		t.Errorf("error resource %+v lacks a title or description, or has the wrong http_status", e)
	}
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	must(t, err)
	return string(b)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func objectsPath(collection string) string {
	return "/" + root + "/collections/" + collection + "/objects/"
}
