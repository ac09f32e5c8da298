package main

// The end-to-end conformance test: a real node (entente serve, SQLite, TLS
// with the generated certificate pinned by fingerprint) on 127.0.0.1,
// driven through taxii.Client and through raw HTTP.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/node"
	"github.com/entente/entente/taxii"
)

// stixIndicator returns a valid indicator: object n, version modified.
func stixIndicator(n int, modified string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,`+
		`"created":"2024-01-01T00:00:00.000Z","modified":%q,"pattern":"[ipv4-addr:value = '198.51.100.%d']",`+
		`"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","x_entente_test":{"n":%d}}`,
		indicatorID(n), modified, n%250, n))
}

func indicatorID(n int) string {
	return fmt.Sprintf("indicator--%08x-0000-4000-8000-000000000000", n)
}

const malwareID = "malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc"

var malware = json.RawMessage(`{"type":"malware","spec_version":"2.1","id":"` + malwareID + `",` +
	`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Cryptolocker","is_family":true}`)

// e2e is a running node with accounts of every role.
type e2e struct {
	*runningNode
	tokens  map[string]string // role → token
	clients map[string]*taxii.Client
	col     string // the default collection's id
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	n := startServe(t, t.TempDir())
	e := &e2e{runningNode: n, tokens: map[string]string{"admin": n.adminToken}, clients: map[string]*taxii.Client{}}
	for _, role := range []string{"analyst", "reader"} {
		code, stdout, stderr := runCmd(t, "user", "add", "--data", n.dir, role+"-user", "--role", role)
		if code != 0 {
			t.Fatalf("user add: %s", stderr)
		}
		e.tokens[role] = lastLine(stdout)
	}
	// The analyst reads and writes the default collection, the reader reads
	// it.
	for _, g := range [][]string{{"analyst-user", "read"}, {"analyst-user", "write"}, {"reader-user", "read"}} {
		if code, _, stderr := runCmd(t, "user", "grant", "--data", n.dir, g[0], node.DefaultCollectionAlias, g[1]); code != 0 {
			t.Fatalf("user grant: %s", stderr)
		}
	}
	for role, tok := range e.tokens {
		c, err := taxii.NewClient(n.base+"/", taxii.ClientOptions{Token: tok, HTTPClient: n.client})
		if err != nil {
			t.Fatal(err)
		}
		e.clients[role] = c
	}
	cols, err := e.clients["admin"].Collections(t.Context(), node.DefaultAPIRoot)
	if err != nil || len(cols) != 1 {
		t.Fatalf("Collections = %+v, %v", cols, err)
	}
	e.col = cols[0].ID
	return e
}

// do sends a raw request and returns the response with its body read.
func (e *e2e) do(t *testing.T, method, path string, h http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h.Clone()
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func taxiiHeaders(token string) http.Header {
	h := http.Header{}
	h.Set("Accept", taxii.MediaType)
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return h
}

// checkTAXIIError checks that an error answer carries the TAXII media type
// and an error resource whose http_status is the status sent.
func checkTAXIIError(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != taxii.MediaType {
		t.Errorf("%d answer has Content-Type %q; want %q", resp.StatusCode, ct, taxii.MediaType)
	}
	var er taxii.Error
	if err := json.Unmarshal(body, &er); err != nil || er.Title == "" {
		t.Errorf("%d answer has no TAXII error resource: %s", resp.StatusCode, body)
		return
	}
	if er.HTTPStatus != "" && er.HTTPStatus != strconv.Itoa(resp.StatusCode) {
		t.Errorf("error resource says http_status %q; the answer is %d", er.HTTPStatus, resp.StatusCode)
	}
}

// snapshot returns every stored version of the default collection, for
// checking that bad requests changed nothing.
func (e *e2e) snapshot(t *testing.T) []string {
	t.Helper()
	var all []string
	for obj, err := range e.clients["admin"].AllObjects(t.Context(), node.DefaultAPIRoot, e.col, taxii.Query{Versions: []string{"all"}, Limit: 7}) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, string(obj))
	}
	return all
}

func TestE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node; skipped under -short")
	}
	e := newE2E(t)
	ctx := t.Context()
	admin, analyst, reader := e.clients["admin"], e.clients["analyst"], e.clients["reader"]
	root := node.DefaultAPIRoot

	t.Run("discovery and API root", func(t *testing.T) {
		d, err := reader.Discovery(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d.Default != "/api1/" || !slices.Equal(d.APIRoots, []string{"/api1/"}) || d.Title == "" {
			t.Errorf("discovery = %+v", d)
		}
		ar, err := reader.APIRoot(ctx, d.Default)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(ar.Versions, taxii.MediaType) || ar.MaxContentLength != node.DefaultMaxContentLength {
			t.Errorf("API root = %+v", ar)
		}
	})

	t.Run("collections", func(t *testing.T) {
		for role, want := range map[string][2]bool{"admin": {true, true}, "analyst": {true, true}, "reader": {true, false}} {
			c, err := e.clients[role].Collection(ctx, root, e.col)
			if err != nil {
				t.Fatal(err)
			}
			if c.CanRead != want[0] || c.CanWrite != want[1] || c.Alias != node.DefaultCollectionAlias ||
				!slices.Equal(c.MediaTypes, []string{taxii.STIXMediaType}) {
				t.Errorf("%s sees %+v", role, c)
			}
		}
		byAlias, err := reader.Collection(ctx, root, node.DefaultCollectionAlias)
		if err != nil || byAlias.ID != e.col {
			t.Errorf("collection by alias = %+v, %v", byAlias, err)
		}
	})

	// Twelve indicators, the first three in two versions, and a malware.
	var batch []json.RawMessage
	for i := range 12 {
		batch = append(batch, stixIndicator(i, "2024-01-01T00:00:00.000Z"))
	}
	for i := range 3 {
		batch = append(batch, stixIndicator(i, "2024-02-01T00:00:00.000Z"))
	}
	batch = append(batch, malware)

	t.Run("add objects", func(t *testing.T) {
		s, err := analyst.AddObjects(ctx, root, e.col, batch)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != "complete" || s.TotalCount != 16 || s.SuccessCount != 16 || s.FailureCount != 0 {
			t.Fatalf("status = %+v", s)
		}
		got, err := analyst.Status(ctx, root, s.ID)
		if err != nil || got.SuccessCount != 16 || len(got.Successes) != 16 {
			t.Errorf("GET status = %+v, %v", got, err)
		}

		// A mix: valid, invalid, duplicate and conflicting objects.
		conflict := json.RawMessage(strings.Replace(string(stixIndicator(5, "2024-01-01T00:00:00.000Z")), `"n":5`, `"n":-5`, 1))
		badTime := json.RawMessage(strings.Replace(string(stixIndicator(100, "2024-01-01T00:00:00.000Z")), `"created":"2024-01-01T00:00:00.000Z"`, `"created":"yesterday"`, 1))
		mixed := []json.RawMessage{
			stixIndicator(12, "2024-01-01T00:00:00.000Z"), // new
			badTime, // invalid
			stixIndicator(3, "2024-01-01T00:00:00.000Z"), // duplicate
			conflict, // same id and version, other content
			json.RawMessage(`{"type":"indicator","id":"x"}`),                            // invalid id
			json.RawMessage(`{"id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}`), // no type
		}
		s, err = analyst.AddObjects(ctx, root, e.col, mixed)
		if err != nil {
			t.Fatal(err)
		}
		if s.TotalCount != 6 || s.SuccessCount != 2 || s.FailureCount != 4 || len(s.Successes) != 2 || len(s.Failures) != 4 {
			t.Fatalf("mixed status = %+v", s)
		}
		if f := s.Failures[0]; f.ID != indicatorID(100) || !strings.Contains(f.Message, "created") {
			t.Errorf("the bad timestamp's failure = %+v; want its id and the path", f)
		}
		got, err = analyst.Status(ctx, root, s.ID)
		if err != nil || got.FailureCount != 4 || got.Failures[0].Message != s.Failures[0].Message {
			t.Errorf("GET status after the mix = %+v, %v", got, err)
		}
		// A new version that changes created fails alone (STIX 2.1 §3.2).
		recreated := json.RawMessage(strings.Replace(string(stixIndicator(7, "2024-03-01T00:00:00.000Z")),
			`"created":"2024-01-01T00:00:00.000Z"`, `"created":"2024-01-15T00:00:00.000Z"`, 1))
		s2, err := analyst.AddObjects(ctx, root, e.col, []json.RawMessage{recreated, stixIndicator(3, "2024-01-01T00:00:00.000Z")})
		if err != nil {
			t.Fatal(err)
		}
		if s2.SuccessCount != 1 || s2.FailureCount != 1 || s2.Failures[0].ID != indicatorID(7) || !strings.Contains(s2.Failures[0].Message, "§3.2") {
			t.Errorf("a version with another created: status %+v; want it alone refused, citing §3.2", s2)
		}

		// Another account may not read the status; an unknown one is 404.
		if _, err := reader.Status(ctx, root, s.ID); !errors.Is(err, taxii.ErrNotFound) {
			t.Errorf("another account's status: %v; want 404", err)
		}
	})
	const total = 17 // 13 indicators, 3 second versions, 1 malware

	t.Run("pagination with next", func(t *testing.T) {
		var ids []string
		q := taxii.Query{Limit: 5, Versions: []string{"all"}}
		for pages := 1; ; pages++ {
			env, info, err := reader.Objects(ctx, root, e.col, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(env.Objects) > 5 || info.DateAddedFirst.IsZero() || info.DateAddedLast.Before(info.DateAddedFirst) {
				t.Errorf("page %d: %d objects, headers %+v", pages, len(env.Objects), info)
			}
			for _, o := range env.Objects {
				ids = append(ids, string(o))
			}
			if !env.More {
				break
			}
			if env.Next == "" || pages > 10 {
				t.Fatalf("page %d: more without next", pages)
			}
			q.Next = env.Next
		}
		if len(ids) != total {
			t.Errorf("paged through %d versions; want %d", len(ids), total)
		}
	})

	t.Run("pagination with added_after", func(t *testing.T) {
		var n int
		var after time.Time
		for pages := 1; ; pages++ {
			m, info, err := reader.Manifest(ctx, root, e.col, taxii.Query{Limit: 4, AddedAfter: after, Versions: []string{"all"}})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range m.Objects {
				da, err := time.Parse(time.RFC3339Nano, r.DateAdded)
				if err != nil || !da.After(after) || r.MediaType != taxii.STIXMediaType {
					t.Errorf("record %+v is not after %v", r, after)
				}
			}
			n += len(m.Objects)
			if !m.More {
				break
			}
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			after = info.DateAddedLast
		}
		if n != total {
			t.Errorf("paged through %d records; want %d", n, total)
		}
	})

	t.Run("match filters", func(t *testing.T) {
		count := func(q taxii.Query) int {
			t.Helper()
			n := 0
			for _, err := range reader.AllObjects(ctx, root, e.col, q) {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			return n
		}
		tests := []struct {
			name string
			q    taxii.Query
			want int
		}{
			{"default is the latest version", taxii.Query{}, 14},
			{"type", taxii.Query{Types: []string{"malware"}}, 1},
			{"types ORed", taxii.Query{Types: []string{"malware", "indicator"}}, 14},
			{"unknown type", taxii.Query{Types: []string{"x-nothing"}}, 0},
			{"ids ORed", taxii.Query{IDs: []string{indicatorID(0), malwareID}}, 2},
			{"all versions of one id", taxii.Query{IDs: []string{indicatorID(0)}, Versions: []string{"all"}}, 2},
			{"first", taxii.Query{IDs: []string{indicatorID(1)}, Versions: []string{"first"}}, 1},
			{"first,last", taxii.Query{IDs: []string{indicatorID(1)}, Versions: []string{"first", "last"}}, 2},
			{"exact version", taxii.Query{Versions: []string{"2024-02-01T00:00:00.000Z"}}, 3},
			{"spec_version 2.1", taxii.Query{SpecVersions: []string{"2.1"}}, 14},
			{"spec_version 2.0", taxii.Query{SpecVersions: []string{"2.0"}}, 0},
			{"added_after the future", taxii.Query{AddedAfter: time.Now().Add(time.Hour)}, 0},
			{"fields ANDed", taxii.Query{Types: []string{"malware"}, IDs: []string{indicatorID(0)}}, 0},
		}
		for _, tt := range tests {
			if got := count(tt.q); got != tt.want {
				t.Errorf("%s: %d objects; want %d", tt.name, got, tt.want)
			}
		}
	})

	t.Run("object and versions", func(t *testing.T) {
		env, info, err := reader.Object(ctx, root, e.col, indicatorID(2), taxii.Query{Versions: []string{"all"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(env.Objects) != 2 || info.DateAddedFirst.IsZero() {
			t.Errorf("object: %d versions, headers %+v", len(env.Objects), info)
		}
		v, _, err := reader.Versions(ctx, root, e.col, indicatorID(2), taxii.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(v.Versions, []string{"2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z"}) {
			t.Errorf("versions = %q", v.Versions)
		}
		if _, _, err := reader.Object(ctx, root, e.col, "indicator--00000000-0000-4000-8000-0000000000ff", taxii.Query{}); !errors.Is(err, taxii.ErrNotFound) {
			t.Errorf("unknown object: %v; want 404", err)
		}
	})

	t.Run("delete", func(t *testing.T) {
		if err := reader.DeleteObject(ctx, root, e.col, indicatorID(11), taxii.Query{}); !errors.Is(err, taxii.ErrForbidden) {
			t.Errorf("reader DELETE: %v; want 403", err)
		}
		if err := admin.DeleteObject(ctx, root, e.col, indicatorID(11), taxii.Query{}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := reader.Object(ctx, root, e.col, indicatorID(11), taxii.Query{}); !errors.Is(err, taxii.ErrNotFound) {
			t.Errorf("GET after DELETE: %v; want 404", err)
		}
		for r, err := range reader.AllManifest(ctx, root, e.col, taxii.Query{IDs: []string{indicatorID(11)}}) {
			t.Errorf("manifest after DELETE lists %+v, %v", r, err)
		}
		if err := admin.DeleteObject(ctx, root, e.col, indicatorID(11), taxii.Query{}); !errors.Is(err, taxii.ErrNotFound) {
			t.Errorf("second DELETE: %v; want 404", err)
		}
	})

	t.Run("accept and content type", func(t *testing.T) {
		for _, accept := range []struct {
			value string
			code  int
		}{
			{"application/taxii+json;version=2.1", 200},
			{"application/taxii+json", 200},
			{"*/*", 200},
			{"application/json, application/taxii+json;q=0.5", 200},
			{"application/json", 406},
			{"application/taxii+json;version=2.0", 406},
		} {
			h := taxiiHeaders(e.tokens["reader"])
			h.Set("Accept", accept.value)
			resp, body := e.do(t, "GET", "/api1/collections/", h, nil)
			if resp.StatusCode != accept.code || resp.Header.Get("Content-Type") != taxii.MediaType {
				t.Errorf("Accept %q: %d %q; want %d with the TAXII Content-Type", accept.value, resp.StatusCode, resp.Header.Get("Content-Type"), accept.code)
			}
			if resp.StatusCode >= 400 {
				checkTAXIIError(t, resp, body)
			}
		}
	})

	t.Run("authentication", func(t *testing.T) {
		basic := func(user, pass string) string {
			return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
		}
		for _, tt := range []struct {
			name, auth string
			code       int
		}{
			{"none", "", 401},
			{"unknown bearer", "Bearer " + node.TokenPrefix + strings.Repeat("A", 43), 401},
			{"garbage bearer", "Bearer x", 401},
			{"basic", basic("reader-user", e.tokens["reader"]), 200},
			{"basic with the wrong user", basic("analyst-user", e.tokens["reader"]), 401},
			{"basic garbage", "Basic !!!", 401},
			{"bearer", "Bearer " + e.tokens["reader"], 200},
		} {
			h := taxiiHeaders("")
			if tt.auth != "" {
				h.Set("Authorization", tt.auth)
			}
			for _, path := range []string{"/taxii2/", "/api1/", "/api1/collections/" + e.col + "/objects/"} {
				resp, body := e.do(t, "GET", path, h, nil)
				if resp.StatusCode != tt.code {
					t.Errorf("%s, GET %s: %d; want %d", tt.name, path, resp.StatusCode, tt.code)
				}
				if resp.StatusCode == 401 {
					checkTAXIIError(t, resp, body)
					if resp.Header.Get("WWW-Authenticate") == "" {
						t.Errorf("%s: 401 without a WWW-Authenticate challenge", tt.name)
					}
				}
			}
		}
	})

	t.Run("permissions", func(t *testing.T) {
		env := []byte(`{"objects":[` + string(stixIndicator(50, "2024-01-01T00:00:00.000Z")) + `]}`)
		unknown := "/api1/collections/00000000-0000-4000-8000-000000000000/"
		obj := "/api1/collections/" + e.col + "/objects/" + indicatorID(1) + "/"
		for _, tt := range []struct {
			role, method, path string
			body               []byte
			code               int
		}{
			{"reader", "POST", "/api1/collections/" + e.col + "/objects/", env, 403},
			{"reader", "DELETE", obj, nil, 403},
			{"reader", "GET", unknown, nil, 404},
			{"reader", "GET", unknown + "objects/", nil, 404},
			{"admin", "DELETE", unknown + "objects/" + indicatorID(1) + "/", nil, 404},
			{"reader", "GET", "/nope/", nil, 404},
			{"reader", "GET", "/api1/status/00000000-0000-4000-8000-000000000000/", nil, 404},
			{"reader", "GET", "/api1/collections", nil, 404}, // no trailing slash
			{"reader", "PUT", obj, nil, 405},
		} {
			h := taxiiHeaders(e.tokens[tt.role])
			if tt.body != nil {
				h.Set("Content-Type", taxii.MediaType)
			}
			resp, body := e.do(t, tt.method, tt.path, h, tt.body)
			if resp.StatusCode != tt.code {
				t.Errorf("%s %s %s: %d; want %d: %s", tt.role, tt.method, tt.path, resp.StatusCode, tt.code, body)
			}
			checkTAXIIError(t, resp, body)
		}
	})

	t.Run("bad requests change nothing", func(t *testing.T) {
		before := e.snapshot(t)
		objects := "/api1/collections/" + e.col + "/objects/"
		big := append([]byte(`{"objects":[`), bytes.Repeat([]byte(" "), node.DefaultMaxContentLength)...)
		big = append(big, `]}`...)
		for _, tt := range []struct {
			name, method, path, ctype string
			body                      []byte
			code                      int
		}{
			{"malformed JSON", "POST", objects, taxii.MediaType, []byte(`{"objects":[`), 400},
			{"not an envelope", "POST", objects, taxii.MediaType, []byte(`[1,2]`), 422},
			{"an item that is no object", "POST", objects, taxii.MediaType, []byte(`{"objects":[` + string(stixIndicator(60, "2024-01-01T00:00:00.000Z")) + `,"x"]}`), 422},
			{"wrong Content-Type", "POST", objects, "application/json", []byte(`{"objects":[]}`), 415},
			{"oversized body", "POST", objects, taxii.MediaType, big, 413},
			{"invalid match[id]", "GET", objects + "?match[id]=nope", "", nil, 400},
			{"invalid object id", "GET", objects + "not-an-id/", "", nil, 400},
			{"bad added_after", "GET", objects + "?added_after=yesterday", "", nil, 400},
			{"bad version", "GET", objects + "?match[version]=soon", "", nil, 400},
			{"limit 0", "GET", objects + "?limit=0", "", nil, 400},
			{"limit not a number", "GET", objects + "?limit=ten", "", nil, 400},
			{"forged next", "GET", objects + "?next=AAAAAAAAAAAAAAAAAAAA", "", nil, 400},
			{"unknown collection", "POST", "/api1/collections/nope/objects/", taxii.MediaType, []byte(`{"objects":[]}`), 404},
			{"unknown status", "GET", "/api1/status/nope/", "", nil, 404},
			{"delete with a bad filter", "DELETE", objects + indicatorID(1) + "/?match[version]=soon", "", nil, 400},
		} {
			h := taxiiHeaders(e.tokens["admin"])
			if tt.ctype != "" {
				h.Set("Content-Type", tt.ctype)
			}
			resp, body := e.do(t, tt.method, tt.path, h, tt.body)
			if resp.StatusCode != tt.code {
				t.Errorf("%s: %d; want %d: %s", tt.name, resp.StatusCode, tt.code, body)
			}
			checkTAXIIError(t, resp, body)
		}

		// A next token is bound to its query and its caller.
		env, _, err := e.clients["reader"].Objects(ctx, root, e.col, taxii.Query{Limit: 2})
		if err != nil || env.Next == "" {
			t.Fatalf("no next token: %v", err)
		}
		for name, q := range map[string]string{
			"another caller": "?limit=2&next=" + env.Next,
			"another query":  "?limit=2&match[type]=malware&next=" + env.Next,
		} {
			tok := e.tokens["reader"]
			if name == "another caller" {
				tok = e.tokens["analyst"]
			}
			resp, body := e.do(t, "GET", objects+q, taxiiHeaders(tok), nil)
			if resp.StatusCode != 400 {
				t.Errorf("next token replayed by %s: %d; want 400", name, resp.StatusCode)
			}
			checkTAXIIError(t, resp, body)
		}

		if after := e.snapshot(t); !slices.Equal(before, after) {
			t.Errorf("bad requests changed the collection: %d versions before, %d after", len(before), len(after))
		}
	})
}
