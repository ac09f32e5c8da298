package taxii_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/entente/entente/taxii"
	"github.com/entente/entente/taxii/taxiitest"
)

// Every route, for the checks that apply to all of them.
var everyEndpoint = []request{
	{method: "GET", path: "/taxii2/"},
	{method: "GET", path: "/api1/"},
	{method: "GET", path: "/api1/status/00000000-0000-4000-8000-000000000001/"},
	{method: "GET", path: "/api1/collections/"},
	{method: "GET", path: "/api1/collections/" + collID + "/"},
	{method: "GET", path: "/api1/collections/" + collID + "/manifest/"},
	{method: "GET", path: objectsPath(collID)},
	{method: "POST", path: objectsPath(collID), body: `{"objects":[{"type":"malware","id":"` + malwareID + `","created":"2024-01-05T00:00:00.000Z","modified":"2024-01-05T00:00:00.000Z","name":"Dropper","is_family":true,"spec_version":"2.1"}]}`},
	{method: "GET", path: objectsPath(collID) + indicatorID + "/"},
	{method: "GET", path: objectsPath(collID) + indicatorID + "/versions/"},
	{method: "DELETE", path: objectsPath(collID) + ipv4ID + "/"},
}

func TestContentNegotiation(t *testing.T) {
	tests := []struct {
		accept string // "" leaves Accept out
		want   int
	}{
		{"", 0},
		{"application/taxii+json;version=2.1", 0},
		{"application/taxii+json; version=2.1", 0},
		{"application/taxii+json", 0},
		{"*/*", 0},
		{"application/*", 0},
		{"text/html, application/taxii+json;version=2.1;q=0.9", 0},
		{"application/json", http.StatusNotAcceptable},
		{"application/taxii+json;version=2.0", http.StatusNotAcceptable},
		{"application/stix+json;version=2.1", http.StatusNotAcceptable},
		{"application/taxii+json;q=0", http.StatusNotAcceptable},
		{"text/html", http.StatusNotAcceptable},
		{";;;", http.StatusNotAcceptable},
	}
	for _, tt := range tests {
		for _, ep := range everyEndpoint {
			t.Run(tt.accept+" "+ep.method+" "+ep.path, func(t *testing.T) {
				w := newWorld(t, taxii.Config{})
				ep.header = map[string]string{"Accept": tt.accept}
				r := w.do(t, ep)
				if tt.want != 0 {
					checkTAXIIError(t, r, tt.want)
					return
				}
				if r.status >= 300 {
					t.Errorf("status %d: %s", r.status, r.body)
				}
				if ct := r.header.Get("Content-Type"); ct != taxii.MediaType {
					t.Errorf("Content-Type %q, want %q", ct, taxii.MediaType)
				}
			})
		}
	}
}

func TestAuthentication(t *testing.T) {
	w := newWorld(t, taxii.Config{Realm: "entente"})
	for _, ep := range everyEndpoint {
		for _, tt := range []struct {
			auth string
			ok   bool
		}{
			{"none", false},
			{"bearer wrong-token", false},
			{"bearer ", false},
			{"basic root:wrong-token", false},
			{"basic rita:admin-token", false}, // someone else's token
			{"basic :", false},
			{"basic root:admin-token", true},
			{"bearer admin-token", true},
		} {
			ep.auth = tt.auth
			r := w.do(t, ep)
			if tt.ok {
				if r.status == http.StatusUnauthorized {
					t.Errorf("%s %s with %q: 401 %s", ep.method, ep.path, tt.auth, r.body)
				}
				continue
			}
			checkTAXIIError(t, r, http.StatusUnauthorized)
			if got, want := r.header.Get("WWW-Authenticate"), `Basic realm="entente", charset="UTF-8"`; got != want {
				t.Errorf("%s %s with %q: WWW-Authenticate %q, want %q", ep.method, ep.path, tt.auth, got, want)
			}
		}
	}
}

func TestPermissions(t *testing.T) {
	restricted := objectsPath(restrictedID)
	post := `{"objects":[{"type":"malware","spec_version":"2.1","id":"` + malwareID + `","created":"2024-01-05T00:00:00.000Z","modified":"2024-01-05T00:00:00.000Z","name":"Dropper","is_family":true}]}`
	tests := []struct {
		name string
		req  request
		want map[string]int // by account name
	}{
		// gus may neither read nor write: to him the collection does not
		// exist.
		{"manifest", request{method: "GET", path: "/api1/collections/" + restrictedID + "/manifest/"},
			map[string]int{"root": 200, "ana": 403, "rita": 200, "gus": 404}},
		{"objects", request{method: "GET", path: restricted},
			map[string]int{"root": 200, "ana": 403, "rita": 200, "gus": 404}},
		{"object", request{method: "GET", path: restricted + malwareID + "/"},
			map[string]int{"root": 200, "ana": 403, "rita": 200, "gus": 404}},
		{"versions", request{method: "GET", path: restricted + malwareID + "/versions/"},
			map[string]int{"root": 200, "ana": 403, "rita": 200, "gus": 404}},
		{"add", request{method: "POST", path: restricted, body: post},
			map[string]int{"root": 202, "ana": 202, "rita": 403, "gus": 404}},
		// Refused before the body is read, which would answer 400.
		{"add malformed", request{method: "POST", path: restricted, body: `{"objects":[`},
			map[string]int{"root": 400, "ana": 400, "rita": 403, "gus": 404}},
		// TAXII 2.1 §5.7's table: read F/write F → 404; T/F and F/T → 403.
		{"delete", request{method: "DELETE", path: restricted + missingID + "/"},
			map[string]int{"root": 404, "ana": 403, "rita": 403, "gus": 404}},
		{"collection", request{method: "GET", path: "/api1/collections/" + restrictedID + "/"},
			map[string]int{"root": 200, "ana": 200, "rita": 200, "gus": 404}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, taxii.Config{})
			for _, a := range accounts {
				before := w.fake.Snapshot()
				req := tt.req
				req.auth = "basic " + a.name + ":" + a.token
				r := w.do(t, req)
				want := tt.want[a.name]
				if want >= 400 {
					checkTAXIIError(t, r, want)
					if after := w.fake.Snapshot(); after != before && tt.name != "add" {
						t.Errorf("%s: refused request changed the store", a.name)
					}
				} else if r.status != want {
					t.Errorf("%s: status %d, want %d: %s", a.name, r.status, want, r.body)
				}
			}
		})
	}
}

func TestCollectionPermissionsReported(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	cols, err := w.client(t, "ana", "analyst-token").Collections(t.Context(), root)
	must(t, err)
	got := make(map[string][2]bool)
	for _, c := range cols {
		got[c.ID] = [2]bool{c.CanRead, c.CanWrite}
	}
	if want := map[string][2]bool{collID: {true, true}, restrictedID: {false, true}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("analyst sees %v, want %v", got, want)
	}
}

// TestBadRequests sends requests that TAXII 2.1 refuses and checks each
// answer's status and error resource, and that nothing stored changed.
func TestBadRequests(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	objects := objectsPath(collID)
	valid := readFile(t, "testdata/objects.json")
	// A token minted for the admin's indicator query.
	first := w.do(t, request{method: "GET", path: objects + "?match[type]=indicator,malware&limit=1"})
	var env taxii.Envelope
	must(t, json.Unmarshal(first.body, &env))
	if env.Next == "" {
		t.Fatalf("no next token in %s", first.body)
	}
	next := env.Next
	altered := []byte(next)
	altered[len(altered)/2] ^= 1

	tests := []struct {
		name string
		req  request
		want int
	}{
		{"malformed JSON", request{method: "POST", path: objects, body: `{"objects":[{"type":"indicator",}]}`}, 400},
		{"truncated JSON", request{method: "POST", path: objects, body: valid[:len(valid)/2]}, 400},
		{"empty body", request{method: "POST", path: objects}, 400},
		{"trailing data", request{method: "POST", path: objects, body: valid + "{}"}, 400},
		{"bundle, not envelope", request{method: "POST", path: objects, body: `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}`}, 422},
		{"list, not envelope", request{method: "POST", path: objects, body: `[{"type":"malware"}]`}, 422},
		{"objects not a list", request{method: "POST", path: objects, body: `{"objects":{"type":"malware"}}`}, 422},
		{"objects null", request{method: "POST", path: objects, body: `{"objects":null}`}, 422},
		{"objects empty", request{method: "POST", path: objects, body: `{"objects":[]}`}, 422},
		{"objects twice", request{method: "POST", path: objects, body: `{"objects":[{"type":"malware"}],` + strings.TrimSpace(valid)[1:]}, 400},
		{"more twice", request{method: "POST", path: objects, body: `{"more":false,"more":true,"objects":[{"type":"malware"}]}`}, 400},
		{"objects twice, once in other case", request{method: "POST", path: objects, body: `{"objects":[{"type":"malware"}],"oBjeCtS":[]}`}, 400},
		{"object not an object", request{method: "POST", path: objects, body: `{"objects":["malware--b2e3c4d5-6f70-4a81-9b2c-3d4e5f607182"]}`}, 422},
		{"wrong Content-Type", request{method: "POST", path: objects, body: valid, header: map[string]string{"Content-Type": "application/json"}}, 415},
		{"STIX Content-Type", request{method: "POST", path: objects, body: valid, header: map[string]string{"Content-Type": "application/stix+json;version=2.1"}}, 415},
		{"TAXII 2.0 Content-Type", request{method: "POST", path: objects, body: valid, header: map[string]string{"Content-Type": "application/taxii+json;version=2.0"}}, 415},
		{"no Content-Type", request{method: "POST", path: objects, body: valid, header: map[string]string{"Content-Type": ""}}, 415},
		{"oversized body", request{method: "POST", path: objects, body: `{"objects":[` + strings.Repeat(`{"type":"malware"},`, 1<<12) + `{}]}`}, 413},
		{"oversized chunked body", request{method: "POST", path: objects, chunked: true, body: `{"objects":[` + strings.Repeat(`{"type":"malware"},`, 1<<12) + `{}]}`}, 413},
		{"invalid object id", request{method: "GET", path: objects + "not-an-id/"}, 400},
		{"invalid object id, versions", request{method: "GET", path: objects + "indicator--1234/versions/"}, 400},
		{"invalid object id, delete", request{method: "DELETE", path: objects + "indicator/"}, 400},
		{"invalid match[id]", request{method: "GET", path: objects + "?match[id]=indicator"}, 400},
		{"invalid match[type]", request{method: "GET", path: objects + "?match[type]=Indicator"}, 400},
		{"bad added_after", request{method: "GET", path: objects + "?added_after=2024-13-01T00:00:00Z"}, 400},
		{"added_after with offset", request{method: "GET", path: "/api1/collections/" + collID + "/manifest/?added_after=2024-01-01T00:00:00%2B01:00"}, 400},
		{"bad version timestamp", request{method: "GET", path: objects + indicatorID + "/?match[version]=2024-02-30T00:00:00.000Z"}, 400},
		{"bad delete version", request{method: "DELETE", path: objects + indicatorID + "/?match[version]=yesterday"}, 400},
		{"bad limit", request{method: "GET", path: objects + "?limit=0"}, 400},
		{"malformed query", request{method: "GET", path: objects + "?limit=%zz"}, 400},
		{"unknown collection", request{method: "GET", path: objectsPath(unknownID)}, 404},
		{"unknown collection, post", request{method: "POST", path: objectsPath(unknownID), body: valid}, 404},
		{"unknown collection, delete", request{method: "DELETE", path: objectsPath(unknownID) + indicatorID + "/"}, 404},
		{"unknown collection resource", request{method: "GET", path: "/api1/collections/" + unknownID + "/"}, 404},
		{"unknown API root", request{method: "GET", path: "/api9/collections/"}, 404},
		{"unknown object", request{method: "GET", path: objects + missingID + "/"}, 404},
		{"unknown object versions", request{method: "GET", path: objects + missingID + "/versions/"}, 404},
		{"unknown object, delete", request{method: "DELETE", path: objects + missingID + "/"}, 404},
		{"no matching version, delete", request{method: "DELETE", path: objects + indicatorID + "/?match[version]=2020-01-01T00:00:00.000Z"}, 404},
		{"unknown status", request{method: "GET", path: "/api1/status/" + unknownID + "/"}, 404},
		{"malformed status id", request{method: "GET", path: "/api1/status/not-a-uuid/"}, 404},
		{"unclean path", request{method: "GET", path: "/api1/collections/../collections/"}, 404},
		{"forged next", request{method: "GET", path: objects + "?match[type]=indicator,malware&next=AQAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, 400},
		{"garbage next", request{method: "GET", path: objects + "?match[type]=indicator,malware&next=%00%FF"}, 400},
		{"altered next", request{method: "GET", path: objects + "?match[type]=indicator,malware&next=" + string(altered)}, 400},
		{"next with other filters", request{method: "GET", path: objects + "?match[type]=indicator&next=" + next}, 400},
		{"next without its filters", request{method: "GET", path: objects + "?next=" + next}, 400},
		{"next with added_after", request{method: "GET", path: objects + "?match[type]=indicator,malware&added_after=2020-01-01T00:00:00Z&next=" + next}, 400},
		{"next on another collection", request{method: "GET", path: objectsPath(restrictedID) + "?match[type]=indicator,malware&next=" + next}, 400},
		{"next by another caller", request{method: "GET", path: objects + "?match[type]=indicator,malware&next=" + next, auth: "bearer reader-token"}, 400},
		{"next on the manifest", request{method: "GET", path: "/api1/collections/" + collID + "/manifest/?match[type]=indicator,malware&next=" + next}, 400},
		{"path without trailing slash", request{method: "GET", path: "/api1/collections"}, 404},
		{"no such resource", request{method: "GET", path: "/api1/collections/" + collID + "/nothing/"}, 404},
		{"method not defined", request{method: "PUT", path: objects, body: valid}, 405},
		{"delete a collection", request{method: "DELETE", path: "/api1/collections/" + collID + "/"}, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.fake.Snapshot()
			r := w.do(t, tt.req)
			checkTAXIIError(t, r, tt.want)
			if after := w.fake.Snapshot(); after != before {
				t.Errorf("the store changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
	// The same token, replayed as issued, still works.
	if r := w.do(t, request{method: "GET", path: objects + "?match[type]=malware,indicator&next=" + next}); r.status != 200 {
		t.Errorf("replaying the token with its own filters: %d %s", r.status, r.body)
	}
}

func TestMethodNotAllowedAllow(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	r := w.do(t, request{method: "PATCH", path: objectsPath(collID) + indicatorID + "/"})
	checkTAXIIError(t, r, http.StatusMethodNotAllowed)
	if got := r.header.Get("Allow"); !strings.Contains(got, "GET") || !strings.Contains(got, "DELETE") {
		t.Errorf("Allow %q, want GET and DELETE", got)
	}
}

func TestFaults(t *testing.T) {
	var logs bytes.Buffer
	tests := []struct {
		name   string
		fail   func(string) error
		status int
	}{
		{"unavailable", func(string) error { return fmt.Errorf("store busy: %w", taxii.ErrUnavailable) }, 503},
		{"internal", func(string) error { return errors.New("disk on fire at /var/lib/secret") }, 500},
		{"panic", func(m string) error { panic("backend bug in " + m) }, 500},
		{"canceled", func(string) error { return fmt.Errorf("query: %w", context.Canceled) }, 503},
		{"deadline", func(string) error { return context.DeadlineExceeded }, 503},
		{"forbidden", func(string) error { return fmt.Errorf("%w: TLP:RED", taxii.ErrForbidden) }, 403},
		{"not found", func(string) error { return taxii.ErrNotFound }, 404},
		{"bad request", func(string) error { return fmt.Errorf("%w: cursor expired", taxii.ErrBadRequest) }, 400},
		{"unprocessable", func(string) error { return fmt.Errorf("%w: spec_version 3.0", taxii.ErrUnprocessable) }, 422},
		{"unauthorized", func(string) error { return taxii.ErrUnauthorized }, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, taxii.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil)), RetryAfter: 1500e6})
			w.fake.SetFail(func(m string) error {
				if m == "Objects" {
					return tt.fail(m)
				}
				return nil
			})
			r := w.do(t, request{method: "GET", path: objectsPath(collID)})
			checkTAXIIError(t, r, tt.status)
			if tt.status == 503 && r.header.Get("Retry-After") != "2" {
				t.Errorf("Retry-After %q, want 2", r.header.Get("Retry-After"))
			}
			if tt.status == 500 {
				if bytes.Contains(r.body, []byte("fire")) || bytes.Contains(r.body, []byte("bug")) {
					t.Errorf("internal error text reached the client: %s", r.body)
				}
				var e taxii.Error
				must(t, json.Unmarshal(r.body, &e))
				if e.ErrorID == "" || !strings.Contains(logs.String(), e.ErrorID) {
					t.Errorf("error_id %q is not in the log:\n%s", e.ErrorID, logs.String())
				}
			}
		})
	}
}

func TestObserve(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	w.do(t, request{method: "GET", path: objectsPath(collID) + indicatorID + "/"})
	w.do(t, request{method: "GET", path: objectsPath(collID) + "bogus/"})
	w.do(t, request{method: "GET", path: "/no/such/thing"})
	w.mu.Lock()
	defer w.mu.Unlock()
	want := []string{
		"POST /{root}/collections/{id}/objects/{$} 202", // the fixtures
		"POST /{root}/collections/{id}/objects/{$} 202",
		"GET /{root}/collections/{id}/objects/{object}/{$} 200",
		"GET /{root}/collections/{id}/objects/{object}/{$} 400",
		"unmatched 404",
	}
	if !slices.Equal(w.observed, want) {
		t.Errorf("observed\n%s\nwant\n%s", strings.Join(w.observed, "\n"), strings.Join(want, "\n"))
	}
}

func TestAddObjects(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	c := w.client(t, "ana", "analyst-token")
	changed := `{"type":"malware","spec_version":"2.1","id":"` + malwareID + `","created":"2024-01-05T00:00:00.000Z","modified":"2024-01-05T00:00:00.000Z","name":"Changed","is_family":true}`
	newer := `{"type":"malware","spec_version":"2.1","id":"` + malwareID + `","created":"2024-01-05T00:00:00.000Z","modified":"2024-04-05T00:00:00.000Z","name":"Dropper","is_family":false}`
	duplicate := `{"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.3"}`
	st, err := c.AddObjects(t.Context(), root, collID, []json.RawMessage{
		json.RawMessage(changed), json.RawMessage(newer), json.RawMessage(`{"id":"no-type"}`), json.RawMessage(duplicate),
	})
	must(t, err)
	if st.Status != "complete" || st.TotalCount != 4 || st.SuccessCount != 2 || st.FailureCount != 2 || st.PendingCount != 0 {
		t.Errorf("status %+v, want complete, 4 = 2 successes + 2 failures", st)
	}
	if len(st.Failures) != 2 || st.Failures[0].ID != malwareID || st.Failures[0].Message == "" {
		t.Errorf("failures %+v, want the changed malware first, with a message", st.Failures)
	}
	got, err := c.Status(t.Context(), root, st.ID)
	must(t, err)
	if got.ID != st.ID || got.SuccessCount != 2 {
		t.Errorf("GET status = %+v, want %+v", got, st)
	}
	v, _, err := c.Versions(t.Context(), root, collID, malwareID, taxii.Query{})
	must(t, err)
	if want := []string{"2024-01-05T00:00:00.000Z", "2024-04-05T00:00:00.000Z"}; !slices.Equal(v.Versions, want) {
		t.Errorf("versions %v, want %v", v.Versions, want)
	}
}

func TestDeleteObject(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	c := w.client(t, "root", "admin-token")
	ctx := t.Context()
	must(t, c.DeleteObject(ctx, root, collID, indicatorID, taxii.Query{Versions: []string{"2024-02-01T00:00:00.000Z"}}))
	v, _, err := c.Versions(ctx, root, collID, indicatorID, taxii.Query{})
	must(t, err)
	if want := []string{"2024-01-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z"}; !slices.Equal(v.Versions, want) {
		t.Errorf("after deleting one version: %v, want %v", v.Versions, want)
	}

	// Raw: 200, no body, the TAXII Content-Type.
	r := w.do(t, request{method: "DELETE", path: objectsPath(collID) + indicatorID + "/"})
	if r.status != 200 || len(r.body) != 0 || r.header.Get("Content-Type") != taxii.MediaType {
		t.Errorf("DELETE: %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	if _, _, err := c.Object(ctx, root, collID, indicatorID, taxii.Query{Versions: []string{"all"}}); !errors.Is(err, taxii.ErrNotFound) {
		t.Errorf("GET after DELETE: %v, want ErrNotFound", err)
	}
	for rec, err := range c.AllManifest(ctx, root, collID, taxii.Query{Versions: []string{"all"}}) {
		must(t, err)
		if rec.ID == indicatorID {
			t.Errorf("deleted object still in the manifest: %+v", rec)
		}
	}
	if err := c.DeleteObject(ctx, root, collID, indicatorID, taxii.Query{}); !errors.Is(err, taxii.ErrNotFound) {
		t.Errorf("second DELETE: %v, want ErrNotFound", err)
	}
}

func TestTrailingSlashHint(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	r := w.do(t, request{method: "GET", path: "/taxii2"})
	checkTAXIIError(t, r, http.StatusNotFound)
	if !bytes.Contains(r.body, []byte(`end with \"/\"`)) {
		t.Errorf("404 for a path without its slash does not say why: %s", r.body)
	}
}

func TestDiscoveryConfig(t *testing.T) {
	w := newWorld(t, taxii.Config{Title: "Entente node", Contact: "soc@example.org"})
	d, err := w.client(t, "", "reader-token").Discovery(t.Context())
	must(t, err)
	want := taxii.Discovery{Title: "Entente node", Contact: "soc@example.org", Default: "/api1/", APIRoots: []string{"/api1/"}}
	if fmt.Sprint(*d) != fmt.Sprint(want) {
		t.Errorf("discovery %+v, want %+v", *d, want)
	}
}

func TestMaxInFlight(t *testing.T) {
	w := newWorld(t, taxii.Config{MaxInFlight: 1})
	entered, release := make(chan struct{}), make(chan struct{})
	w.fake.SetFail(func(m string) error {
		if m == "Objects" {
			close(entered)
			<-release
		}
		return nil
	})
	req, err := http.NewRequest("GET", w.srv.URL+objectsPath(collID), nil)
	must(t, err)
	req.Header.Set("Authorization", "Bearer admin-token")
	done := w.send(req)
	<-entered
	r := w.do(t, request{method: "GET", path: "/taxii2/"})
	checkTAXIIError(t, r, http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	close(release)
	if status := <-done; status != http.StatusOK {
		t.Errorf("the request in flight: %d", status)
	}
	w.fake.SetFail(nil)
	if r := w.do(t, request{method: "GET", path: "/taxii2/"}); r.status != http.StatusOK {
		t.Errorf("after the request in flight: %d %s", r.status, r.body)
	}
}

// defective wraps the Fake to answer like a buggy Backend.
type defective struct {
	*taxiitest.Fake
	hollow bool // items without their objects
}

func (d defective) Objects(ctx context.Context, c *taxii.Caller, root, id string, f *taxii.Filter) (*taxii.Page, error) {
	if !d.hollow {
		return nil, nil
	}
	p, err := d.Fake.Objects(ctx, c, root, id, f)
	if err != nil {
		return nil, err
	}
	for i := range p.Items {
		p.Items[i].Object = nil
	}
	return p, nil
}

func (d defective) Discovery(context.Context, *taxii.Caller) (*taxii.Discovery, error) {
	return nil, nil
}

// TestBackendDefects checks that a Backend's bugs become 500s with an
// error resource, never a null body or a broken envelope.
func TestBackendDefects(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	for _, hollow := range []bool{false, true} {
		srv := httptest.NewServer(taxii.NewServer(defective{w.fake, hollow}, taxii.Config{}))
		defer srv.Close()
		w2 := &world{fake: w.fake, srv: srv}
		for _, path := range []string{"/taxii2/", objectsPath(collID), objectsPath(collID) + indicatorID + "/"} {
			r := w2.do(t, request{method: "GET", path: path})
			checkTAXIIError(t, r, http.StatusInternalServerError)
			if r.header.Get("X-TAXII-Date-Added-First") != "" {
				t.Errorf("%s: a failed page kept its X-TAXII headers", path)
			}
		}
	}
}

// TestMaxInFlightBodyBytes checks the bound on envelopes being served
// together: an add that would pass it gets 503 with Retry-After, while
// reads go on, and it is admitted once the first is done.
func TestMaxInFlightBodyBytes(t *testing.T) {
	body := `{"objects":[{"type":"malware","spec_version":"2.1","id":"` + malwareID + `","created":"2024-01-05T00:00:00.000Z","modified":"2024-01-05T00:00:00.000Z","name":"Dropper","is_family":true}]}`
	w := newWorld(t, taxii.Config{MaxInFlightBodyBytes: int64(len(body)) * 3 / 2})
	entered, release := make(chan struct{}), make(chan struct{})
	w.fake.SetFail(func(m string) error {
		if m == "AddObjects" {
			close(entered)
			<-release
		}
		return nil
	})
	req, err := http.NewRequest("POST", w.srv.URL+objectsPath(collID), strings.NewReader(body))
	must(t, err)
	req.Header.Set("Authorization", "Bearer admin-token")
	req.Header.Set("Content-Type", taxii.MediaType)
	done := w.send(req)
	<-entered
	r := w.do(t, request{method: "POST", path: objectsPath(collID), body: body})
	checkTAXIIError(t, r, http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if r := w.do(t, request{method: "GET", path: objectsPath(collID)}); r.status != http.StatusOK {
		t.Errorf("a read while an envelope is served: %d %s", r.status, r.body)
	}
	close(release)
	if status := <-done; status != http.StatusAccepted {
		t.Errorf("the envelope in flight: %d", status)
	}
	w.fake.SetFail(nil)
	if r := w.do(t, request{method: "POST", path: objectsPath(collID), body: body}); r.status != http.StatusAccepted {
		t.Errorf("after the envelope in flight: %d %s", r.status, r.body)
	}
}

// TestAdmissionByDefault checks that a Server configured with nothing
// still bounds the requests it serves at once.
func TestAdmissionByDefault(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	var entered sync.WaitGroup
	entered.Add(taxii.DefaultMaxInFlight)
	release := make(chan struct{})
	w.fake.SetFail(func(m string) error {
		if m == "Objects" {
			entered.Done()
			<-release
		}
		return nil
	})
	statuses := make(chan int, taxii.DefaultMaxInFlight)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: taxii.DefaultMaxInFlight}}
	defer client.CloseIdleConnections()
	for range taxii.DefaultMaxInFlight {
		go func() {
			req, _ := http.NewRequest("GET", w.srv.URL+objectsPath(collID), nil)
			req.Header.Set("Authorization", "Bearer admin-token")
			resp, err := client.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	entered.Wait()
	r := w.do(t, request{method: "GET", path: "/taxii2/"})
	checkTAXIIError(t, r, http.StatusServiceUnavailable)
	close(release)
	for range taxii.DefaultMaxInFlight {
		if s := <-statuses; s != http.StatusOK {
			t.Errorf("a request within the bound: %d", s)
		}
	}
}

// TestListsHaveLength checks that the list resources leave whole, with
// their Content-Length, rather than chunked.
func TestListsHaveLength(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	objects := objectsPath(collID)
	// Enough objects for a page well beyond any write buffer.
	var objs []string
	for i := range 60 {
		objs = append(objs, fmt.Sprintf(`{"type":"malware","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-%012d",`+
			`"created":"2024-01-05T00:00:00.000Z","modified":"2024-01-05T00:00:00.000Z","name":"Padding %d","is_family":true}`, i, i))
	}
	w.post(t, collID, `{"objects":[`+strings.Join(objs, ",")+`]}`)
	for _, path := range []string{
		objects + "?match[version]=all",
		objects + "?match[type]=grouping",
		"/api1/collections/" + collID + "/manifest/",
		objects + indicatorID + "/versions/",
	} {
		r := w.do(t, request{method: "GET", path: path})
		if r.status != 200 || r.header.Get("Content-Length") != strconv.Itoa(len(r.body)) {
			t.Errorf("GET %s: %d, Content-Length %q for %d bytes", path, r.status, r.header.Get("Content-Length"), len(r.body))
		}
	}
}

// send sends req on a goroutine of its own and delivers its status code, 0
// if it failed. (Not w.do: that may call t.Fatal, which only the test's
// goroutine may.)
func (w *world) send(req *http.Request) <-chan int {
	done := make(chan int, 1)
	go func() {
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	return done
}
