package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/entente/entente/signature"
	"github.com/entente/entente/signature/sigtest"
)

// exportIndicator returns an indicator's JSON for the export tests.
func exportIndicator(n int, patternType, pattern string, extra ...string) string {
	p, _ := json.Marshal(pattern)
	more := ""
	for _, e := range extra {
		more += "," + e
	}
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-0000000000e0",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"export %d","pattern_type":%q,"pattern":%s,`+
		`"valid_from":"2024-01-01T00:00:00Z"%s}`, n, n, patternType, p, more)
}

func exportEnvelope(objs ...string) string { return `{"objects":[` + strings.Join(objs, ",") + `]}` }

// TestExport exports a collection through the command line and over HTTPS
// while the node serves: the same rules both ways, each of them parsing;
// ETag and If-None-Match; the caller's rights deciding what it may fetch;
// and the report of what was left out.
func TestExport(t *testing.T) {
	n := startServe(t, t.TempDir())
	admin := n.adminToken
	const objects = "/api1/collections/default/objects/"
	env := exportEnvelope(
		exportIndicator(1, "stix", "[ipv4-addr:value = '198.51.100.1']"),
		exportIndicator(2, "stix", "[domain-name:value = 'evil.example']"),
		exportIndicator(3, "stix", "[ipv4-addr:value = '198.51.100.3'] AND [domain-name:value = 'x.example']"),
		exportIndicator(4, "stix", "[ipv4-addr:value = '198.51.100.4']", `"revoked":true`),
		exportIndicator(5, "stix", "[ipv4-addr:value = '198.51.100.5']", `"valid_until":"2025-01-01T00:00:00Z"`),
		exportIndicator(6, "suricata", `alert tls any any -> any any (msg:"partner"; tls.sni; content:"p.example"; sid:2100001; rev:1;)`),
		exportIndicator(7, "stix", "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"),
	)
	if code, body := n.send(t, "POST", objects, admin, env); code != http.StatusAccepted || !strings.Contains(body, `"success_count":7`) {
		t.Fatalf("POST = %d %s", code, body)
	}

	stdout, stderr, code := execEntente(t, "export", "--data", n.dir, "--collection", "default", "--format", "suricata")
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	rules, err := signature.ParseSuricata(stdout)
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, stdout)
	}
	t.Run("suricata-update", func(t *testing.T) { sigtest.SuricataUpdate(t).CheckSuricata(t, stdout) })
	if len(rules) != 6 { // 1 + 3 + the partner's + the sha256 list rule
		t.Errorf("%d rules, want 6:\n%s", len(rules), stdout)
	}
	for _, want := range []string{
		"suricata: 4 indicators exported as 6 lines; left out: 1 expired, 0 not valid yet, 1 revoked, 1 not expressible",
		"not exported: indicator--00000003-0000-4000-8000-0000000000e0: the pattern joins observations with AND",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("report %q lacks %q", stderr, want)
		}
	}

	get := func(path, token, etag string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, n.base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := n.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	code, h, body := get("/export/api1/default/suricata", admin, "")
	if code != http.StatusOK || body != stdout {
		t.Fatalf("GET suricata = %d; the body differs from the command line's:\n%s", code, body)
	}
	etag := h.Get("ETag")
	if code, _, body := get("/export/api1/default/suricata", admin, etag); code != http.StatusNotModified || body != "" {
		t.Errorf("GET with If-None-Match = %d %q; want 304 and no body", code, body)
	}
	if code, _, body := get("/export/api1/default/suricata-datasets/sha256", admin, ""); code != http.StatusOK ||
		body != "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f\n" {
		t.Errorf("GET sha256 list = %d %q", code, body)
	}
	if code, _, body := get("/export/api1/default/zeek-intel/report", admin, ""); code != http.StatusOK || !strings.Contains(body, "indicator--00000003") {
		t.Errorf("GET report = %d %q", code, body)
	}

	// A new indicator changes the ETag.
	if code, body := n.send(t, "POST", objects, admin, exportEnvelope(exportIndicator(8, "stix", "[ipv4-addr:value = '198.51.100.8']"))); code != http.StatusAccepted {
		t.Fatalf("POST = %d %s", code, body)
	}
	if code, h, body := get("/export/api1/default/suricata", admin, etag); code != http.StatusOK || h.Get("ETag") == etag || !strings.Contains(body, "198.51.100.8") {
		t.Errorf("after a new indicator: %d, ETag %s (was %s)", code, h.Get("ETag"), etag)
	}

	// Rights: none without credentials; a reader without a grant sees no
	// collection; with one, it reads.
	rita := lastLine(mustRun(t, "user", "add", "--data", n.dir, "rita", "--role", "reader"))
	for _, tt := range []struct {
		path, token string
		want        int
	}{
		{"/export/api1/default/suricata", "", http.StatusUnauthorized},
		{"/export/api1/default/suricata", "wrong", http.StatusUnauthorized},
		{"/export/api1/default/suricata", rita, http.StatusNotFound},
		{"/export/api1/default/snort", admin, http.StatusNotFound},
		{"/export/api1/default/suricata-datasets", admin, http.StatusNotFound},
		{"/export/api1/nope/yara", admin, http.StatusNotFound},
	} {
		if code, _, body := get(tt.path, tt.token, ""); code != tt.want {
			t.Errorf("GET %s: %d %q; want %d", tt.path, code, body, tt.want)
		}
	}
	mustRun(t, "user", "grant", "--data", n.dir, "rita", "default", "read")
	if code, _, _ := get("/export/api1/default/yara", rita, ""); code != http.StatusOK {
		t.Errorf("GET as a reader with a grant: %d", code)
	}

	// The YARA export, from partners' rule sets, compiles with YARA's
	// compiler.
	if code, body := n.send(t, "POST", objects, admin, exportEnvelope(
		exportIndicator(20, "yara", "import \"pe\"\nrule pe_small { condition: pe.number_of_sections == 1 and filesize < 10KB }"),
		exportIndicator(21, "yara", "rule strings_of_a_dropper : dropper {\n meta:\n  score = 50\n strings:\n  $a = \"cmd.exe /c\" nocase\n  $b = { 4D 5A [2-8] 50 45 }\n condition:\n  all of them\n}"),
		exportIndicator(22, "yara", "rule pe_small { condition: true }"),
	)); code != http.StatusAccepted || !strings.Contains(body, `"success_count":3`) {
		t.Fatalf("POST = %d %s", code, body)
	}
	yara, stderr, code := execEntente(t, "export", "--data", n.dir, "--collection", "default", "--format", "yara")
	if code != 0 || !strings.Contains(yara, "strings_of_a_dropper") || !strings.Contains(stderr, "indicator--00000022") {
		t.Fatalf("export --format yara: exit %d: %s\n%s", code, stderr, yara)
	}
	t.Run("yarac", func(t *testing.T) {
		yarac := sigtest.Yarac(t)
		if err := yarac.Compile(yara); err != nil {
			t.Errorf("yarac %s refuses the YARA export: %v\n%s", yarac.Version, err, yara)
		}
	})
}

func TestExportUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "--collection", "x"}, "--format is required"},
		{[]string{"export", "--format", "zeek-intel"}, "--collection is required"},
		{[]string{"export", "--format", "snort", "--collection", "x"}, `unknown export format "snort"`},
		{[]string{"export", "--format", "suricata-datasets", "--collection", "x"}, "needs --hash"},
		{[]string{"export", "--format", "suricata", "--hash", "md5", "--collection", "x"}, "--hash applies"},
		{[]string{"export", "--format", "suricata", "--collection", "x", "--data", t.TempDir()}, "holds no node"},
	} {
		_, stderr, code := execEntente(t, tt.args...)
		if code == 0 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want %q", tt.args, code, stderr, tt.want)
		}
	}
}
