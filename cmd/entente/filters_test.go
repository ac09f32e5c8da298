package main

// Filters at and beyond their limits, through a real node: every one is
// either served or refused with a TAXII 400, never a 500.

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/entente/entente/node"
	"github.com/entente/entente/taxii"
)

func TestFilterLimits(t *testing.T) {
	n := startServe(t, t.TempDir())
	e := &e2e{runningNode: n, tokens: map[string]string{"admin": n.adminToken}}
	c, err := taxii.NewClient(n.base+"/", taxii.ClientOptions{Token: n.adminToken, HTTPClient: n.client})
	if err != nil {
		t.Fatal(err)
	}
	cols, err := c.Collections(t.Context(), node.DefaultAPIRoot)
	if err != nil || len(cols) != 1 {
		t.Fatalf("Collections = %+v, %v", cols, err)
	}
	e.col = cols[0].ID

	// One page and one object more, so that limit's clamp shows.
	objs := make([]json.RawMessage, pageSize+1)
	for i := range objs {
		objs[i] = stixIndicator(i, "2024-01-01T00:00:00.000Z")
	}
	objs = append(objs, malware)
	st, err := c.AddObjects(t.Context(), node.DefaultAPIRoot, e.col, objs)
	if err != nil || st.SuccessCount != len(objs) {
		t.Fatalf("AddObjects = %+v, %v", st, err)
	}

	// pad returns n-1 values that match nothing, then last.
	pad := func(n int, f func(i int) string, last string) string {
		vs := make([]string, 0, n)
		for i := range n - 1 {
			vs = append(vs, f(i))
		}
		return strings.Join(append(vs, last), ",")
	}
	const most = taxii.MaxMatchValues
	types := func(n int) string {
		return pad(n, func(i int) string { return fmt.Sprintf("x-type-%d", i) }, "malware")
	}
	ids := func(n int) string { return pad(n, func(i int) string { return indicatorID(1_000_000 + i) }, malwareID) }
	versions := func(n int) string {
		return pad(n, func(i int) string { return fmt.Sprintf("2000-01-01T00:00:%02d.%03dZ", i/1000, i%1000) }, "2024-01-01T00:00:00.000Z")
	}
	specs := func(n int) string { return pad(n, func(i int) string { return fmt.Sprintf("3.%d", i) }, "2.1") }

	coll := "/" + node.DefaultAPIRoot + "/collections/" + e.col + "/"
	first := get(t, e, coll+"objects/?limit=1", http.StatusOK)
	var env taxii.Envelope
	if err := json.Unmarshal(first, &env); err != nil || env.Next == "" {
		t.Fatalf("first page %s: want a next token (%v)", first, err)
	}

	for _, tc := range []struct {
		name   string
		path   string
		query  url.Values
		status int
		count  int // objects (or versions) in a 200 answer
		more   bool
	}{
		{"types at the limit", "objects/", url.Values{"match[type]": {types(most)}}, 200, 1, false},
		{"types beyond the limit", "objects/", url.Values{"match[type]": {types(most + 1)}}, 400, 0, false},
		{"types beyond SQLite's compound limit", "objects/", url.Values{"match[type]": {types(501)}}, 400, 0, false},
		{"manifest types at the limit", "manifest/", url.Values{"match[type]": {types(most)}}, 200, 1, false},
		{"manifest types beyond the limit", "manifest/", url.Values{"match[type]": {types(501)}}, 400, 0, false},
		{"ids at the limit", "objects/", url.Values{"match[id]": {ids(most)}}, 200, 1, false},
		{"ids beyond the limit", "objects/", url.Values{"match[id]": {ids(most + 1)}}, 400, 0, false},
		{"manifest ids beyond the limit", "manifest/", url.Values{"match[id]": {ids(most + 1)}}, 400, 0, false},
		{"versions at the limit", "objects/", url.Values{"match[version]": {versions(most)}, "match[type]": {"malware"}}, 200, 1, false},
		{"versions beyond the limit", "objects/", url.Values{"match[version]": {versions(most + 1)}}, 400, 0, false},
		{"object versions at the limit", "objects/" + malwareID + "/", url.Values{"match[version]": {versions(most)}}, 200, 1, false},
		{"object versions beyond the limit", "objects/" + malwareID + "/", url.Values{"match[version]": {versions(most + 1)}}, 400, 0, false},
		{"spec versions at the limit", "objects/", url.Values{"match[spec_version]": {specs(most)}, "match[id]": {malwareID}}, 200, 1, false},
		{"spec versions beyond the limit", "objects/", url.Values{"match[spec_version]": {specs(most + 1)}}, 400, 0, false},
		{"versions resource spec versions at the limit", "objects/" + malwareID + "/versions/", url.Values{"match[spec_version]": {specs(most)}}, 200, 1, false},
		{"versions resource spec versions beyond the limit", "objects/" + malwareID + "/versions/", url.Values{"match[spec_version]": {specs(most + 1)}}, 400, 0, false},
		{"limit at the page size", "objects/", url.Values{"limit": {fmt.Sprint(pageSize)}}, 200, pageSize, true},
		{"limit beyond the page size", "objects/", url.Values{"limit": {fmt.Sprint(pageSize + 1)}}, 200, pageSize, true},
		{"limit beyond any integer", "manifest/", url.Values{"limit": {strings.Repeat("9", 100)}}, 200, pageSize, true},
		{"added_after with six fractional digits", "objects/", url.Values{"added_after": {"2000-01-01T00:00:00.000000Z"}, "match[type]": {"malware"}}, 200, 1, false},
		{"added_after with seven", "objects/", url.Values{"added_after": {"2000-01-01T00:00:00.0000000Z"}}, 400, 0, false},
		{"next as issued", "objects/", url.Values{"limit": {"1"}, "next": {env.Next}}, 200, 1, true},
		{"next one character longer", "objects/", url.Values{"limit": {"1"}, "next": {env.Next + "A"}}, 400, 0, false},
		{"next of 32 KiB", "objects/", url.Values{"limit": {"1"}, "next": {strings.Repeat(env.Next, 32<<10/len(env.Next))}}, 400, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := get(t, e, coll+tc.path+"?"+tc.query.Encode(), tc.status)
			if tc.status != http.StatusOK {
				return
			}
			var page struct {
				More     bool              `json:"more"`
				Objects  []json.RawMessage `json:"objects"`
				Versions []string          `json:"versions"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatalf("answer %.200s: %v", body, err)
			}
			if got := len(page.Objects) + len(page.Versions); got != tc.count || page.More != tc.more {
				t.Errorf("%d items, more %v; want %d, %v", got, page.More, tc.count, tc.more)
			}
		})
	}
}

// get sends a TAXII GET as the admin and checks the status; an error
// answer must be a TAXII error resource.
func get(t *testing.T, e *e2e, path string, status int) []byte {
	t.Helper()
	resp, body := e.do(t, http.MethodGet, path, taxiiHeaders(e.tokens["admin"]), nil)
	if resp.StatusCode != status {
		t.Fatalf("GET %.120s… = %d %.300s; want %d", path, resp.StatusCode, body, status)
	}
	if status >= 400 {
		checkTAXIIError(t, resp, body)
	}
	return body
}

// TestUncleanPaths checks that a path with "." or ".." segments, or
// doubled slashes, gets the TAXII 404 that the taxii package promises,
// whatever the method, rather than a redirect (which a client would
// follow with its body and credentials).
func TestUncleanPaths(t *testing.T) {
	n := startServe(t, t.TempDir())
	e := &e2e{runningNode: n, tokens: map[string]string{"admin": n.adminToken}}
	root := "/" + node.DefaultAPIRoot
	for _, path := range []string{
		root + "/collections/../../taxii2/",
		root + "/./collections/",
		root + "/collections/./",
		"//taxii2/",
		root + "/collections/x/../",
		"/taxii2/../healthz",
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodPut} {
			t.Run(method+" "+path, func(t *testing.T) {
				h := taxiiHeaders(n.adminToken)
				var body []byte
				if method == http.MethodPost {
					h.Set("Content-Type", taxii.MediaType)
					body = []byte(`{"objects":[` + string(malware) + `]}`)
				}
				resp, got := e.do(t, method, path, h, body)
				if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
					t.Fatalf("%d (Location %q) %.200s; want 404 without a redirect", resp.StatusCode, resp.Header.Get("Location"), got)
				}
				checkTAXIIError(t, resp, got)
			})
		}
	}
}

// TestHeaderLimit pins the documented header limit: 64 KiB of headers
// are served, and beyond it net/http answers 431 itself. It speaks
// HTTP/1.1 on a connection of its own: Go's HTTP/2 client would refuse to
// send headers beyond the limit the server advertises.
func TestHeaderLimit(t *testing.T) {
	n := startServe(t, t.TempDir())
	cfg := n.client.Transport.(*http.Transport).TLSClientConfig.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	host := strings.TrimPrefix(n.base, "https://")
	for _, tc := range []struct {
		size   int
		status int
	}{
		{60 << 10, http.StatusOK},
		{70 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		conn, err := tls.Dial("tcp", host, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		req := "GET /taxii2/ HTTP/1.1\r\nHost: " + host + "\r\nAccept: " + taxii.MediaType +
			"\r\nAuthorization: Bearer " + n.adminToken + "\r\nX-Padding: " + strings.Repeat("x", tc.size) + "\r\n\r\n"
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%d bytes of headers: %d, want %d", tc.size, resp.StatusCode, tc.status)
		}
	}
}
