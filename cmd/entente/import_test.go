package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/entente/entente/misp"
)

// writeFeed writes a MISP feed of the given event files into a new
// directory: the events as <uuid>.json, manifest.json and hashes.csv.
func writeFeed(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	var events []misp.Event
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		e, err := misp.DecodeEvent(data)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, *e)
		if err := os.WriteFile(filepath.Join(dir, e.UUID+".json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "manifest.json"), misp.Manifest(events), 0o644)
	os.WriteFile(filepath.Join(dir, "hashes.csv"), misp.Hashes(events), 0o644)
	return dir
}

var (
	storedLine     = regexp.MustCompile(`(?m)^stix objects: (\d+) stored, (\d+) already present, (\d+) refused$`)
	attributesLine = regexp.MustCompile(`(?m)^attributes: (\d+), (\d+) imported, (\d+) skipped$`)
)

func importCounts(t *testing.T, stdout string) (stored, present, refused, imported string) {
	t.Helper()
	m := storedLine.FindStringSubmatch(stdout)
	a := attributesLine.FindStringSubmatch(stdout)
	if m == nil || a == nil {
		t.Fatalf("no summary in the output:\n%s", stdout)
	}
	return m[1], m[2], m[3], a[2]
}

// TestImportMISPRoundTrip imports a MISP feed into a serving node, reads
// it back as the node's MISP feed over HTTPS, and imports that feed again:
// the second import finds every object stored already, so the export kept
// every value the import stored. The ledger verifies throughout.
func TestImportMISPRoundTrip(t *testing.T) {
	n := startServe(t, t.TempDir())
	feedDir := writeFeed(t, "misp-golden-event.json", "misp-small-event.json")

	code, stdout, stderr := runCmd(t, "import", "misp", "--data", n.dir, "--collection", "default", feedDir)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
	}
	stored, present, refused, imported := importCounts(t, stdout)
	// Objects shared by events (the TLP marking definitions) are stored
	// once and then found present.
	if stored == "0" || refused != "0" {
		t.Fatalf("first import: %s stored, %s present, %s refused:\n%s%s", stored, present, refused, stdout, stderr)
	}
	if !strings.Contains(stdout, "skipped 2\tunmapped-type\ttext") || !strings.Contains(stderr, `MISP attribute type "text" has no STIX 2.1 mapping`) {
		t.Errorf("the skipped text attributes are not counted and explained:\n%s%s", stdout, stderr)
	}
	if strings.Contains(stderr, "importing MISP events") {
		t.Errorf("progress shown on a stderr that is no terminal, without --progress:\n%s", stderr)
	}

	// Again: nothing new.
	code, stdout, stderr = runCmd(t, "import", "misp", "--data", n.dir, "--collection", "default", "--progress", feedDir)
	if code != 0 {
		t.Fatalf("re-import: exit %d\n%s%s", code, stdout, stderr)
	}
	total := atoi(t, stored) + atoi(t, present)
	if s, p, _, _ := importCounts(t, stdout); s != "0" || atoi(t, p) != total {
		t.Errorf("re-import stored %s and found %s present; want 0 and %d", s, p, total)
	}
	if !strings.Contains(stderr, "importing MISP events") {
		t.Errorf("--progress showed nothing on stderr:\n%s", stderr)
	}

	// The node's feed of the collection, as the admin reads it.
	base := "/misp/api1/default/"
	code, manifest := n.get(t, base+"manifest.json", n.adminToken)
	if code != http.StatusOK {
		t.Fatalf("GET manifest.json = %d %s", code, manifest)
	}
	uuids, _, err := misp.DecodeManifest([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	if len(uuids) != 2 {
		t.Fatalf("the feed lists %d events, want 2: %s", len(uuids), manifest)
	}
	mirror := t.TempDir()
	os.WriteFile(filepath.Join(mirror, "manifest.json"), []byte(manifest), 0o644)
	for _, u := range uuids {
		code, body := n.get(t, base+u+".json", n.adminToken)
		if code != http.StatusOK {
			t.Fatalf("GET %s.json = %d %s", u, code, body)
		}
		os.WriteFile(filepath.Join(mirror, u+".json"), []byte(body), 0o644)
	}
	if code, body := n.get(t, base+"hashes.csv", n.adminToken); code != http.StatusOK || !strings.Contains(body, ","+uuids[0]) {
		t.Errorf("GET hashes.csv = %d %.200s", code, body)
	}

	// Re-import the exported feed over HTTP (loopback): every object is
	// there already, unchanged.
	srv := httptest.NewServer(http.FileServer(http.Dir(mirror)))
	defer srv.Close()
	code, stdout, stderr = runCmd(t, "import", "misp", "--data", n.dir, "--collection", "default", srv.URL+"/")
	if code != 0 {
		t.Fatalf("import of the export: exit %d\n%s%s", code, stdout, stderr)
	}
	s, p, r, imp := importCounts(t, stdout)
	if s != "0" || atoi(t, p) != total || r != "0" || imp != imported {
		t.Errorf("import of the export: %s stored, %s present, %s refused, %s attributes; want 0, %d, 0, %s\n%s%s", s, p, r, imp, total, imported, stdout, stderr)
	}
	if code, out, errOut := runCmd(t, "ledger", "verify", "--data", n.dir); code != 0 {
		t.Errorf("ledger verify: exit %d\n%s%s", code, out, errOut)
	}
}

// TestMISPFeedAccess checks that the feed answers only authenticated
// callers who may read the collection, as TAXII does.
func TestMISPFeedAccess(t *testing.T) {
	n := startServe(t, t.TempDir())
	secret := lastLine(mustRun(t, "collection", "add", "--data", n.dir, "Secret", "--alias", "secret"))
	mustRun(t, "import", "misp", "--data", n.dir, "--collection", secret, filepath.Join("testdata", "misp-small-event.json"))
	rita := lastLine(mustRun(t, "user", "add", "--data", n.dir, "rita", "--role", "reader"))
	for _, c := range []struct {
		path, token string
		want        int
	}{
		{"/misp/api1/secret/manifest.json", "", http.StatusUnauthorized},
		{"/misp/api1/secret/manifest.json", "entente_bogus", http.StatusUnauthorized},
		{"/misp/api1/secret/manifest.json", rita, http.StatusNotFound},
		{"/misp/api1/secret/manifest.json", n.adminToken, http.StatusOK},
		{"/misp/api1/secret/7c1d0c5e-1b7a-4d8e-9f3a-2b4c6d8e0f1a.json", n.adminToken, http.StatusOK},
		{"/misp/api1/secret/events/7c1d0c5e-1b7a-4d8e-9f3a-2b4c6d8e0f1a.json", n.adminToken, http.StatusOK},
		{"/misp/api1/secret/00000000-0000-4000-8000-000000000000.json", n.adminToken, http.StatusNotFound},
		{"/misp/api1/nosuch/manifest.json", n.adminToken, http.StatusNotFound},
	} {
		code, body := n.get(t, c.path, c.token)
		if code != c.want {
			t.Errorf("GET %s with %q = %d %s; want %d", c.path, c.token, code, body, c.want)
		}
		if code != http.StatusOK && !json.Valid([]byte(body)) {
			t.Errorf("GET %s: error body is not JSON: %s", c.path, body)
		}
	}
	mustRun(t, "user", "grant", "--data", n.dir, "rita", "secret", "read")
	if code, body := n.get(t, "/misp/api1/secret/manifest.json", rita); code != http.StatusOK || !strings.Contains(body, "Small event") {
		t.Errorf("granted reader: %d %s", code, body)
	}
	// A feed is rebuilt as soon as the collection changes.
	_, before := n.get(t, "/misp/api1/secret/hashes.csv", rita)
	if code, body := n.send(t, "POST", "/api1/collections/secret/objects/", n.adminToken, exportEnvelope(
		exportIndicator(1, "stix", "[ipv4-addr:value = '198.51.100.77']"))); code != http.StatusAccepted {
		t.Fatalf("POST = %d %s", code, body)
	}
	if code, after := n.get(t, "/misp/api1/secret/hashes.csv", rita); code != http.StatusOK || after == before {
		t.Errorf("after a new indicator, hashes.csv = %d, unchanged:\n%s", code, after)
	}
}

// TestImportErrors checks that import errors name the file and the field.
func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	n := startServe(t, dir)
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"Event":{"uuid":"e1","Attribute":[{"uuid":"a1","type":"ip-dst","value":"192.0.2.1","timestamp":"yesterday"}]}}`), 0o644)
	feed := writeFeed(t, "misp-small-event.json")
	os.WriteFile(filepath.Join(feed, "manifest.json"), []byte(`{"7c1d0c5e-1b7a-4d8e-9f3a-2b4c6d8e0f1a":{"info":"x","timestamp":"1"},"0000aaaa-0000-4000-8000-000000000000":{"info":"missing","timestamp":"1"}}`), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{bad}, 1, []string{bad, "Event.Attribute[0].timestamp", "not a Unix time"}},
		{[]string{feed}, 1, []string{"0000aaaa-0000-4000-8000-000000000000.json", "1 event documents could not be read"}},
		{[]string{filepath.Join(t.TempDir(), "none.json")}, 2, []string{"SOURCE", "none.json"}},
		{[]string{"http://192.0.2.1/feed/"}, 2, []string{"plain HTTP is refused"}},
	} {
		args := append([]string{"import", "misp", "--data", n.dir, "--collection", "default"}, c.args...)
		code, stdout, stderr := runCmd(t, args...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", c.args, code, c.code, stdout, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr does not name %q:\n%s", c.args, w, stderr)
			}
		}
	}
	// A value the node refuses: the attribute is skipped with the node's
	// reason, the rest of the event is stored.
	refused := filepath.Join(t.TempDir(), "refused.json")
	os.WriteFile(refused, []byte(`{"Event":{"uuid":"e2","date":"2024-01-01","Attribute":[`+
		`{"uuid":"b1","type":"md5","value":"not-a-hash","to_ids":false,"timestamp":"1704067200"},`+
		`{"uuid":"b2","type":"domain","value":"fine.example","to_ids":true,"timestamp":"1704067200"}]}}`), 0o644)
	skips := filepath.Join(t.TempDir(), "s.jsonl")
	code, stdout, stderr := runCmd(t, "import", "misp", "--data", n.dir, "--collection", "default", "--skipped", skips, refused)
	if code != 0 || !strings.Contains(stdout, "attributes: 2, 1 imported, 1 skipped") || !strings.Contains(stdout, "skipped 1\trefused\tattribute") {
		t.Errorf("refused value: exit %d\n%s%s", code, stdout, stderr)
	}
	if data, _ := os.ReadFile(skips); !strings.Contains(string(data), `"uuid":"b1"`) || !strings.Contains(string(data), "MD5") {
		t.Errorf("--skipped does not explain the refusal of b1:\n%s", data)
	}
	code, _, stderr = runCmd(t, "import", "misp", "--data", n.dir, "--collection", "nosuch", bad)
	if code != 2 || !strings.Contains(stderr, "nosuch") {
		t.Errorf("unknown collection: exit %d %s", code, stderr)
	}
}

// TestImportSTIX20 upgrades and imports a STIX 2.0 bundle, twice, and
// refuses one that cannot be upgraded, naming file, object and field.
func TestImportSTIX20(t *testing.T) {
	n := startServe(t, t.TempDir())
	good := filepath.Join("..", "..", "stix", "stix20", "testdata", "bundle20.json")
	code, stdout, stderr := runCmd(t, "import", "stix20", "--data", n.dir, "--collection", "default", good)
	if code != 0 || !strings.Contains(stdout, "16 stored, 0 already present, 0 refused, 0 not upgradable") {
		t.Fatalf("import stix20: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runCmd(t, "import", "stix20", "--data", n.dir, "--collection", "default", good)
	if code != 0 || !strings.Contains(stdout, "0 stored, 16 already present") {
		t.Errorf("re-import stix20: exit %d\n%s", code, stdout)
	}
	bad := filepath.Join("..", "..", "stix", "stix20", "testdata", "refused20.json")
	code, stdout, stderr = runCmd(t, "import", "stix20", "--data", n.dir, "--collection", "default", bad)
	if code != 2 || !strings.Contains(stderr, "refused20.json: objects[0] (observed-data--b67d30ff-02ac-498a-92f9-32f845f448d0): objects.0.is_encrypted") ||
		!strings.Contains(stderr, "nothing was stored") {
		t.Errorf("refused bundle: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCmd(t, "import", "stix20", "--data", n.dir, "--collection", "default", "--skip-invalid", bad)
	if code != 0 || !strings.Contains(stdout, "1 stored") {
		t.Errorf("--skip-invalid: exit %d\n%s%s", code, stdout, stderr)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
