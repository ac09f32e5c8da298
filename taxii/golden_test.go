package taxii_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/entente/entente/taxii"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// exchange is one request and its answer as a golden file records it.
type exchange struct {
	Request string            `json:"request"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// goldenHeaders are the answer headers a golden file records.
var goldenHeaders = []string{"Content-Type", "X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last", "WWW-Authenticate", "Retry-After", "Allow"}

// TestGolden records one exchange per TAXII resource, and the error
// resource for each error status, in testdata/golden. The exchanges run in
// order against one server: the status read is the one the add created.
// Run with -update to rewrite the files after a deliberate change.
func TestGolden(t *testing.T) {
	w := newWorld(t, taxii.Config{Title: "Entente test node", Description: "Golden files", Contact: "cti@example.org"})
	objects := objectsPath(collID)
	newMalware := `{"objects":[` +
		`{"type":"malware","spec_version":"2.1","id":"malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061","created":"2024-05-01T00:00:00.000Z","modified":"2024-05-01T00:00:00.000Z","name":"Loader","is_family":true},` +
		`{"type":"malware","id":"no-type-prefix"}]}`
	tests := []struct {
		name string
		req  request
	}{
		{"discovery", request{method: "GET", path: "/taxii2/"}},
		{"api-root", request{method: "GET", path: "/api1/"}},
		{"collections", request{method: "GET", path: "/api1/collections/"}},
		{"collection", request{method: "GET", path: "/api1/collections/" + collID + "/"}},
		{"manifest", request{method: "GET", path: "/api1/collections/" + collID + "/manifest/?match[type]=indicator&match[version]=all"}},
		{"objects", request{method: "GET", path: objects}},
		{"objects-page", request{method: "GET", path: objects + "?limit=2&match[version]=all"}},
		{"objects-empty", request{method: "GET", path: objects + "?match[type]=grouping"}},
		{"manifest-empty", request{method: "GET", path: "/api1/collections/" + collID + "/manifest/?match[type]=grouping"}},
		{"object", request{method: "GET", path: objects + indicatorID + "/?match[version]=first,last"}},
		// The object exists; the filter excludes every version of it.
		{"object-filtered-out", request{method: "GET", path: objects + indicatorID + "/?match[version]=2020-01-01T00:00:00.000Z"}},
		{"versions", request{method: "GET", path: objects + indicatorID + "/versions/"}},
		{"versions-filtered-out", request{method: "GET", path: objects + indicatorID + "/versions/?match[spec_version]=2.0"}},
		{"versions-added-after", request{method: "GET", path: objects + indicatorID + "/versions/?added_after=2030-01-01T00:00:00Z"}},
		{"add-objects", request{method: "POST", path: objects, body: newMalware}},
		{"status", request{method: "GET", path: "/api1/status/00000000-0000-4000-8000-000000000003/"}},
		{"delete", request{method: "DELETE", path: objects + ipv4ID + "/"}},
		{"error-400", request{method: "GET", path: objects + "?match[version]=all,first"}},
		{"error-401", request{method: "GET", path: "/api1/collections/", auth: "none"}},
		{"error-403", request{method: "POST", path: objects, body: newMalware, auth: "bearer reader-token"}},
		{"error-404", request{method: "GET", path: objects + missingID + "/"}},
		{"error-405", request{method: "PUT", path: objects}},
		{"error-406", request{method: "GET", path: "/taxii2/", header: map[string]string{"Accept": "application/json"}}},
		{"error-413", request{method: "POST", path: objects, body: `{"objects":[{"x":"` + string(bytes.Repeat([]byte("x"), 1<<16)) + `"}]}`}},
		{"error-415", request{method: "POST", path: objects, body: newMalware, header: map[string]string{"Content-Type": "application/json"}}},
		{"error-422", request{method: "POST", path: objects, body: `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"malware","id":"malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061"}]}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := w.do(t, tt.req)
			ex := exchange{Request: tt.req.method + " " + tt.req.path, Status: r.status, Headers: make(map[string]string)}
			for _, h := range goldenHeaders {
				if v := r.header.Get(h); v != "" {
					ex.Headers[h] = v
				}
			}
			if len(r.body) > 0 {
				if !json.Valid(r.body) {
					t.Fatalf("body is not JSON: %q", r.body)
				}
				ex.Body = r.body
			}
			var got bytes.Buffer
			enc := json.NewEncoder(&got)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			must(t, enc.Encode(ex))

			file := filepath.Join("testdata", "golden", tt.name+".json")
			if *update {
				must(t, os.WriteFile(file, got.Bytes(), 0o644))
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s differs from the answer (run with -update if the change is meant):\ngot:\n%s\nwant:\n%s", file, got.Bytes(), want)
			}
		})
	}
}
