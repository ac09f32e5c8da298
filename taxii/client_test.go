package taxii_test

import (
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/taxii"
)

// idVersion names an object version as "id@version".
func idVersion(raw json.RawMessage) string {
	var o struct{ ID, Modified, Created string }
	if err := json.Unmarshal(raw, &o); err != nil {
		return "invalid: " + err.Error()
	}
	if o.Modified == "" {
		return o.ID
	}
	return o.ID + "@" + o.Modified[:10]
}

// The fixture's versions, in the order they were added (and so their
// date_added order): see testdata/objects.json.
const (
	ind1  = indicatorID + "@2024-01-01"
	mal   = malwareID + "@2024-01-05"
	ind2  = indicatorID + "@2024-02-01"
	ipv4  = ipv4ID
	idt20 = identityID + "@2023-06-01" // spec_version 2.0
	idt21 = identityID + "@2023-07-01"
	ind3  = indicatorID + "@2024-03-01"
)

// The fixture was added in one request at 2025-01-01T00:00:01Z; each
// version's date_added is one microsecond after the previous one's.
func dateAdded(i int) time.Time {
	return time.Date(2025, 1, 1, 0, 0, 1, i*1000, time.UTC)
}

func TestObjectFilters(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	c := w.client(t, "rita", "reader-token")
	tests := []struct {
		name string
		q    taxii.Query
		want []string
	}{
		{"default: last version, latest spec version", taxii.Query{}, []string{mal, ipv4, idt21, ind3}},
		{"type", taxii.Query{Types: []string{"indicator"}}, []string{ind3}},
		{"types ORed", taxii.Query{Types: []string{"indicator", "ipv4-addr"}}, []string{ipv4, ind3}},
		{"unknown type", taxii.Query{Types: []string{"x-unheard-of"}}, nil},
		{"id", taxii.Query{IDs: []string{malwareID}}, []string{mal}},
		{"ids ORed", taxii.Query{IDs: []string{malwareID, identityID}}, []string{mal, idt21}},
		{"id and type ANDed", taxii.Query{IDs: []string{malwareID}, Types: []string{"indicator"}}, nil},
		{"all versions", taxii.Query{Versions: []string{"all"}}, []string{ind1, mal, ind2, ipv4, idt21, ind3}},
		{"first", taxii.Query{Versions: []string{"first"}, Types: []string{"indicator"}}, []string{ind1}},
		{"first and last", taxii.Query{Versions: []string{"first", "last"}, Types: []string{"indicator"}}, []string{ind1, ind3}},
		{"exact STIX timestamp", taxii.Query{Versions: []string{"2024-02-01T00:00:00.000Z"}}, []string{ind2}},
		{"exact TAXII timestamp", taxii.Query{Versions: []string{"2024-02-01T00:00:00.000000Z"}}, []string{ind2}},
		{"exact, first and last", taxii.Query{Versions: []string{"first", "2024-02-01T00:00:00Z", "last"}, IDs: []string{indicatorID}}, []string{ind1, ind2, ind3}},
		{"spec_version 2.0", taxii.Query{SpecVersions: []string{"2.0"}}, []string{idt20}},
		{"spec_version 2.0 or 2.1, all versions", taxii.Query{SpecVersions: []string{"2.0", "2.1"}, Versions: []string{"all"}, Types: []string{"identity"}},
			[]string{idt20, idt21}},
		{"added_after", taxii.Query{AddedAfter: dateAdded(3), Versions: []string{"all"}}, []string{idt21, ind3}},
		{"added_after excludes its own instant", taxii.Query{AddedAfter: dateAdded(6)}, nil},
		{"limit", taxii.Query{Limit: 2}, []string{mal, ipv4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, info, err := c.Objects(t.Context(), root, collID, tt.q)
			must(t, err)
			var got []string
			for _, o := range env.Objects {
				got = append(got, idVersion(o))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if env.More != (tt.q.Limit > 0) {
				t.Errorf("more = %v", env.More)
			}
			if len(got) == 0 && !info.DateAddedFirst.IsZero() {
				t.Errorf("an empty page has X-TAXII-Date-Added-First %v", info.DateAddedFirst)
			}
			if len(got) > 0 && (info.DateAddedFirst.IsZero() || info.DateAddedLast.Before(info.DateAddedFirst)) {
				t.Errorf("date_added headers %+v", info)
			}
		})
	}
}

func TestObjectEndpointFilters(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	c := w.client(t, "rita", "reader-token")
	tests := []struct {
		q    taxii.Query
		want []string
	}{
		{taxii.Query{}, []string{ind3}},
		{taxii.Query{Versions: []string{"all"}}, []string{ind1, ind2, ind3}},
		{taxii.Query{Versions: []string{"first"}}, []string{ind1}},
		{taxii.Query{Versions: []string{"all"}, AddedAfter: dateAdded(0)}, []string{ind2, ind3}},
		// match[type] is not defined for this endpoint, and is ignored.
		{taxii.Query{Types: []string{"malware"}}, []string{ind3}},
	}
	for _, tt := range tests {
		env, info, err := c.Object(t.Context(), root, collID, indicatorID, tt.q)
		must(t, err)
		var got []string
		for _, o := range env.Objects {
			got = append(got, idVersion(o))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%+v: got %v, want %v", tt.q, got, tt.want)
		}
		if info.DateAddedLast.IsZero() {
			t.Errorf("%+v: no X-TAXII-Date-Added-Last", tt.q)
		}
	}
	env, _, err := c.Object(t.Context(), root, collID, identityID, taxii.Query{SpecVersions: []string{"2.0"}})
	must(t, err)
	if len(env.Objects) != 1 || idVersion(env.Objects[0]) != idt20 {
		t.Errorf("identity, spec_version 2.0: %s", env.Objects)
	}
	v, info, err := c.Versions(t.Context(), root, collID, identityID, taxii.Query{SpecVersions: []string{"2.0", "2.1"}})
	must(t, err)
	if want := []string{"2023-06-01T00:00:00.000Z", "2023-07-01T00:00:00.000Z"}; !slices.Equal(v.Versions, want) || v.More {
		t.Errorf("versions %+v, want %v", v, want)
	}
	if !info.DateAddedFirst.Equal(dateAdded(4)) || !info.DateAddedLast.Equal(dateAdded(5)) {
		t.Errorf("versions headers %+v, want %v and %v", info, dateAdded(4), dateAdded(5))
	}
}

func TestManifest(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	c := w.client(t, "rita", "reader-token")
	m, info, err := c.Manifest(t.Context(), root, collID, taxii.Query{Types: []string{"indicator"}, Versions: []string{"all"}})
	must(t, err)
	want := []taxii.ManifestRecord{
		{ID: indicatorID, DateAdded: "2025-01-01T00:00:01.000000Z", Version: "2024-01-01T00:00:00.000Z", MediaType: taxii.STIXMediaType},
		{ID: indicatorID, DateAdded: "2025-01-01T00:00:01.000002Z", Version: "2024-02-01T00:00:00.000Z", MediaType: taxii.STIXMediaType},
		{ID: indicatorID, DateAdded: "2025-01-01T00:00:01.000006Z", Version: "2024-03-01T00:00:00.000Z", MediaType: taxii.STIXMediaType},
	}
	if !slices.Equal(m.Objects, want) || m.More {
		t.Errorf("manifest %+v, want %+v", m, want)
	}
	if !info.DateAddedFirst.Equal(dateAdded(0)) || !info.DateAddedLast.Equal(dateAdded(6)) {
		t.Errorf("headers %+v", info)
	}
}

// TestPaging walks every endpoint page by page, with next where TAXII
// gives one and added_after where it does not, at every page size.
func TestPaging(t *testing.T) {
	w := newWorld(t, taxii.Config{MaxPageSize: 3})
	c := w.client(t, "rita", "reader-token")
	ctx := t.Context()
	all := []string{ind1, mal, ind2, ipv4, idt21, ind3}
	for limit := range 8 {
		var got []string
		for o, err := range c.AllObjects(ctx, root, collID, taxii.Query{Limit: limit, Versions: []string{"all"}}) {
			must(t, err)
			got = append(got, idVersion(o))
		}
		if !slices.Equal(got, all) {
			t.Errorf("AllObjects, limit %d: %v, want %v", limit, got, all)
		}
		var ids []string
		for rec, err := range c.AllManifest(ctx, root, collID, taxii.Query{Limit: limit, Versions: []string{"all"}}) {
			must(t, err)
			ids = append(ids, rec.ID)
		}
		if len(ids) != len(all) {
			t.Errorf("AllManifest, limit %d: %v", limit, ids)
		}
	}

	// The server's page size caps the client's limit.
	env, _, err := c.Objects(ctx, root, collID, taxii.Query{Limit: 100, Versions: []string{"all"}})
	must(t, err)
	if len(env.Objects) != 3 || !env.More || env.Next == "" {
		t.Errorf("limit above the page size: %d objects, more %v, next %q", len(env.Objects), env.More, env.Next)
	}
	// Manifest and versions page with next, and with added_after.
	m, info, err := c.Manifest(ctx, root, collID, taxii.Query{Limit: 4, Versions: []string{"all"}})
	must(t, err)
	if len(m.Objects) != 3 || !m.More || m.Next == "" {
		t.Errorf("manifest page: %+v", m)
	}
	m2, _, err := c.Manifest(ctx, root, collID, taxii.Query{AddedAfter: info.DateAddedLast, Versions: []string{"all"}})
	must(t, err)
	if len(m2.Objects) != 3 || m2.More {
		t.Errorf("second manifest page, by added_after: %+v", m2)
	}
	m3, _, err := c.Manifest(ctx, root, collID, taxii.Query{Next: m.Next, Versions: []string{"all"}})
	must(t, err)
	if !slices.Equal(m2.Objects, m3.Objects) {
		t.Errorf("second manifest page, by next: %+v, want %+v", m3, m2)
	}
	v, info, err := c.Versions(ctx, root, collID, indicatorID, taxii.Query{Limit: 2})
	must(t, err)
	if want := []string{"2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z"}; !slices.Equal(v.Versions, want) || !v.More || v.Next == "" {
		t.Errorf("versions page: %+v", v)
	}
	for _, q := range []taxii.Query{{AddedAfter: info.DateAddedLast}, {Next: v.Next}} {
		v, _, err := c.Versions(ctx, root, collID, indicatorID, q)
		must(t, err)
		if want := []string{"2024-03-01T00:00:00.000Z"}; !slices.Equal(v.Versions, want) || v.More {
			t.Errorf("second versions page with %+v: %+v", q, v)
		}
	}

	// Object by id: next, then the last page.
	env, _, err = c.Object(ctx, root, collID, indicatorID, taxii.Query{Limit: 2, Versions: []string{"all"}})
	must(t, err)
	if len(env.Objects) != 2 || env.Next == "" {
		t.Fatalf("object page: %s", env.Objects)
	}
	env, _, err = c.Object(ctx, root, collID, indicatorID, taxii.Query{Limit: 2, Versions: []string{"all"}, Next: env.Next})
	must(t, err)
	if len(env.Objects) != 1 || idVersion(env.Objects[0]) != ind3 || env.More {
		t.Errorf("last object page: %s, more %v", env.Objects, env.More)
	}
}

// TestPagingRaw checks the wire form of a paged answer.
func TestPagingRaw(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	r := w.do(t, request{method: "GET", path: objectsPath(collID) + "?limit=1&match[type]=indicator,malware", auth: "basic rita:reader-token"})
	var env map[string]any
	must(t, json.Unmarshal(r.body, &env))
	if env["more"] != true || env["next"] == "" || len(env["objects"].([]any)) != 1 {
		t.Errorf("first page: %s", r.body)
	}
	if got := r.header.Get("X-TAXII-Date-Added-First"); got != "2025-01-01T00:00:01.000001Z" || got != r.header.Get("X-TAXII-Date-Added-Last") {
		t.Errorf("date_added headers %q, %q", got, r.header.Get("X-TAXII-Date-Added-Last"))
	}
	// The last page: more false, no next. Types in another order are the
	// same query.
	r = w.do(t, request{method: "GET", path: objectsPath(collID) + "?match[type]=malware,indicator&next=" + env["next"].(string), auth: "basic rita:reader-token"})
	if string(r.body) != `{"more":false,"objects":[`+string(mustObject(t, w, ind3))+`]}` {
		t.Errorf("last page: %s", r.body)
	}
	// An empty result is a 200 with an empty envelope and no headers.
	r = w.do(t, request{method: "GET", path: objectsPath(collID) + "?match[type]=grouping", auth: "basic rita:reader-token"})
	if r.status != 200 || string(r.body) != `{}` || r.header.Get("X-TAXII-Date-Added-First") != "" {
		t.Errorf("empty result: %d %s %v", r.status, r.body, r.header)
	}
}

// mustObject returns the stored JSON of the object version named as in
// idVersion.
func mustObject(t *testing.T, w *world, name string) json.RawMessage {
	t.Helper()
	c := w.client(t, "root", "admin-token")
	for o, err := range c.AllObjects(t.Context(), root, collID, taxii.Query{Versions: []string{"all"}}) {
		must(t, err)
		if idVersion(o) == name {
			return o
		}
	}
	t.Fatalf("no %s", name)
	return nil
}

func TestClientErrors(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	ctx := t.Context()
	_, err := w.client(t, "rita", "wrong").Collections(ctx, root)
	var re *taxii.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 401 || re.Title != "Unauthorized" || re.Description == "" || !errors.Is(err, taxii.ErrUnauthorized) {
		t.Errorf("wrong token: %#v", err)
	}
	c := w.client(t, "rita", "reader-token")
	if _, err := c.AddObjects(ctx, root, collID, []json.RawMessage{json.RawMessage(`{}`)}); !errors.Is(err, taxii.ErrForbidden) {
		t.Errorf("reader adding: %v, want ErrForbidden", err)
	}
	if _, err := c.Collection(ctx, root, unknownID); !errors.Is(err, taxii.ErrNotFound) {
		t.Errorf("unknown collection: %v, want ErrNotFound", err)
	}
	if _, err := c.Collection(ctx, root, "../../taxii2"); err == nil || errors.As(err, &re) {
		t.Errorf("an id that climbs out of its path was sent: %v", err)
	}
	w.fake.SetFail(func(string) error { return taxii.ErrUnavailable })
	_, err = c.Discovery(ctx)
	if !errors.As(err, &re) || re.RetryAfter != 5*time.Second || !errors.Is(err, taxii.ErrUnavailable) {
		t.Errorf("overload: %#v", err)
	}
	for o, err := range c.AllObjects(ctx, root, collID, taxii.Query{}) {
		if !errors.Is(err, taxii.ErrUnavailable) || o != nil {
			t.Errorf("AllObjects yielded %s, %v", o, err)
		}
	}
}

// TestClientStrictness points the Client at servers that break TAXII.
func TestClientStrictness(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"JSON Content-Type", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"title":"t"}`)
		}},
		{"no version", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/taxii+json")
			io.WriteString(w, `{"title":"t"}`)
		}},
		{"TAXII 2.0", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.oasis.taxii+json; version=2.0")
			io.WriteString(w, `{"title":"t"}`)
		}},
		{"bad JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", taxii.MediaType)
			io.WriteString(w, `{"title":`)
		}},
		{"trailing data", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", taxii.MediaType)
			io.WriteString(w, `{"title":"t"} {}`)
		}},
		{"wrong success status", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", taxii.MediaType)
			w.WriteHeader(http.StatusNoContent)
		}},
		{"too large", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", taxii.MediaType)
			io.WriteString(w, `{"title":"`+strings.Repeat("t", 2000)+`"}`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c, err := taxii.NewClient(srv.URL, taxii.ClientOptions{MaxResponseBytes: 1000})
			must(t, err)
			if _, err := c.Discovery(t.Context()); !errors.Is(err, taxii.ErrBadResponse) {
				t.Errorf("Discovery = %v, want ErrBadResponse", err)
			}
		})
	}
}

// TestClientRequests checks what the Client puts on the wire.
func TestClientRequests(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("Content-Type", taxii.MediaType)
		io.WriteString(w, `{"more":false}`)
	}))
	defer srv.Close()
	c, err := taxii.NewClient(srv.URL+"/prefix", taxii.ClientOptions{Token: "t0ken", UserAgent: "probe/1"})
	must(t, err)
	_, _, err = c.Objects(t.Context(), "https://elsewhere.invalid/api1/", collID, taxii.Query{})
	if err == nil {
		t.Errorf("an absolute API root on another host was not used")
	}
	q := taxii.Query{
		AddedAfter: time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC),
		Limit:      10, Next: "tok",
		IDs: []string{indicatorID, malwareID}, Types: []string{"indicator"},
		Versions: []string{"first", "last"}, SpecVersions: []string{"2.1"},
	}
	_, _, err = c.Objects(t.Context(), "api1", collID, q)
	must(t, err)
	if want := "/prefix/api1/collections/" + collID + "/objects/"; got.URL.Path != want {
		t.Errorf("path %q, want %q", got.URL.Path, want)
	}
	wantQuery := "added_after=2025-01-02T03%3A04%3A05.000006Z&limit=10" +
		"&match%5Bid%5D=" + indicatorID + "%2C" + malwareID +
		"&match%5Bspec_version%5D=2.1&match%5Btype%5D=indicator&match%5Bversion%5D=first%2Clast&next=tok"
	if got.URL.RawQuery != wantQuery {
		t.Errorf("query\n%s\nwant\n%s", got.URL.RawQuery, wantQuery)
	}
	for h, want := range map[string]string{"Accept": taxii.MediaType, "Authorization": "Bearer t0ken", "User-Agent": "probe/1"} {
		if got.Header.Get(h) != want {
			t.Errorf("%s: %q, want %q", h, got.Header.Get(h), want)
		}
	}
}

// TestClientTLS reaches a server whose certificate only an injected TLS
// configuration trusts, as a partner node's self-signed one is.
func TestClientTLS(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	tlsSrv := httptest.NewUnstartedServer(w.srv.Config.Handler)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	trusting := tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig

	c, err := taxii.NewClient(tlsSrv.URL, taxii.ClientOptions{Token: "reader-token"})
	must(t, err)
	if _, err := c.Discovery(t.Context()); err == nil {
		t.Fatal("an untrusted certificate was accepted")
	}
	c, err = taxii.NewClient(tlsSrv.URL, taxii.ClientOptions{Token: "reader-token", TLSConfig: trusting})
	must(t, err)
	d, err := c.Discovery(t.Context())
	must(t, err)
	if d.Default != "/api1/" {
		t.Errorf("discovery over TLS: %+v", d)
	}
}

func TestNewClientRejects(t *testing.T) {
	for _, u := range []string{"", "node.example:8443", "ftp://node.example/", "https://", "::"} {
		if _, err := taxii.NewClient(u, taxii.ClientOptions{}); err == nil {
			t.Errorf("NewClient(%q) succeeded", u)
		}
	}
}
