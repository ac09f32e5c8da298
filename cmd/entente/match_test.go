package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entente/entente/internal/proctest"
	"github.com/entente/entente/node"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/taxii"
)

const matchIndicators = `{"type":"bundle","id":"bundle--d0000000-0000-4000-8000-000000000000","objects":[
{"type":"identity","spec_version":"2.1","id":"identity--d0000000-0000-4000-8000-000000000001","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"CERT"},
{"type":"indicator","spec_version":"2.1","id":"indicator--d0000000-0000-4000-8000-000000000002","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[domain-name:value = 'c2.evil.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"},
{"type":"indicator","spec_version":"2.1","id":"indicator--d0000000-0000-4000-8000-000000000003","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[url:value = ","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"},
{"type":"indicator","spec_version":"2.1","id":"indicator--d0000000-0000-4000-8000-000000000004","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"rule x {}","pattern_type":"yara","valid_from":"2026-01-01T00:00:00Z"}
]}`

const matchLog = `{"timestamp":"2026-11-26T08:30:02.500000+0000","event_type":"dns","src_ip":"10.20.30.42","src_port":53000,"dest_ip":"10.0.0.53","dest_port":53,"proto":"UDP","dns":{"type":"query","rrname":"c2.evil.example","rrtype":"A"}}
{"timestamp":"2026-11-26T08:30:03.000000+0000","event_type":"dns","src_ip":"10.20.30.42","src_port":53001,"dest_ip":"10.0.0.53","dest_port":53,"proto":"UDP","dns":{"type":"query","rrname":"good.example","rrtype":"A"}}
{"timestamp":"2026-11-26T08:30:04.000000+0000","event_type":"dns",
`

func writeMatchFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gzipMatch(t *testing.T, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func runMatchCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	stdout, stderr, code = execEntenteInput(t, stdin, args...)
	return code, stdout, stderr
}

func TestMatchCommand(t *testing.T) {
	inds := writeMatchFile(t, "indicators.json", []byte(matchIndicators))
	plain := writeMatchFile(t, "eve.json", []byte(matchLog))
	gz := writeMatchFile(t, "eve.json.gz", gzipMatch(t, matchLog))
	identity := "identity--d0000000-0000-4000-8000-000000000001"
	zeekTSV := writeMatchFile(t, "dns.log", []byte("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"+
		"#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers\n#types\ttime\taddr\tport\taddr\tport\tenum\tstring\tvector[string]\n"+
		"1795681802.500000\t10.20.30.42\t53000\t10.0.0.53\t53\tudp\tc2.evil.example\t198.51.100.23\n#close\t2025-11-26-09-00-00\n"))

	for _, tc := range []struct {
		name     string
		stdin    string
		args     []string
		code     int
		stderr   []string
		sighting bool
	}{
		{
			name:     "file",
			args:     []string{"--indicators", inds, "--format", "eve", "--identity", identity, plain},
			code:     0,
			stderr:   []string{"eve.json:3: ", "skipped indicator: indicator--d0000000-0000-4000-8000-000000000003: pattern:", `pattern_type: "yara" is not supported`, "3 lines", "1 matches", "1 bad lines"},
			sighting: true,
		},
		{
			name:     "gzip",
			args:     []string{"--indicators", inds, "--format", "eve", gz},
			code:     0,
			sighting: true,
		},
		{
			name:     "stdin",
			stdin:    matchLog,
			args:     []string{"--indicators", inds, "--format", "eve", "--output", "jsonl", "-"},
			code:     0,
			stderr:   []string{"stdin:3: "},
			sighting: true,
		},
		{
			name:  "no match",
			stdin: strings.SplitAfter(matchLog, "\n")[1],
			args:  []string{"--indicators", inds, "--format", "eve"},
			code:  1,
		},
		{name: "no indicators", args: []string{"--format", "eve"}, code: 2, stderr: []string{"--indicators FILE or --node URL"}},
		{name: "two ways to trust a node", args: []string{"--node", "https://127.0.0.1:1/", "--collection", "c", "--fingerprint", "AB", "--cacert", "ca.pem", "--format", "eve"},
			code: 2, stderr: []string{"--fingerprint and --cacert"}},
		{name: "malformed fingerprint", args: []string{"--node", "https://127.0.0.1:1/", "--collection", "c", "--fingerprint", "AB", "--format", "eve"},
			code: 2, stderr: []string{"--fingerprint", "64 hex digits"}},
		{name: "no format", args: []string{"--indicators", inds}, code: 2, stderr: []string{"--format is required"}},
		{name: "jsonl without mapping", args: []string{"--indicators", inds, "--format", "jsonl"}, code: 2, stderr: []string{"needs --mapping"}},
		{name: "bad identity", args: []string{"--indicators", inds, "--format", "eve", "--identity", "x"}, code: 2, stderr: []string{"identity--<UUID>"}},
		{name: "missing log", args: []string{"--indicators", inds, "--format", "eve", filepath.Join(t.TempDir(), "nope")}, code: 2, stderr: []string{"no such file"}},
		{name: "missing indicators", args: []string{"--indicators", filepath.Join(t.TempDir(), "nope"), "--format", "eve"}, code: 2},
		{name: "bad flag", args: []string{"--frobnicate"}, code: 2},
		{name: "zeek tab-separated", args: []string{"--indicators", inds, "--format", "zeek", zeekTSV}, code: 0, stderr: []string{"1 lines", "1 matches", "0 bad lines"}, sighting: true},
		{name: "zeek tab-separated as eve", args: []string{"--indicators", inds, "--format", "eve", zeekTSV}, code: 2, stderr: []string{"Zeek's tab-separated format"}},
		{name: "JSON array", stdin: `[{"timestamp":"2026-11-26T08:30:02Z","event_type":"dns","dns":{"rrname":"c2.evil.example"}}]` + "\n",
			args: []string{"--indicators", inds, "--format", "eve"}, code: 2, stderr: []string{"stdin: none of its 1 lines could be read", "JSON array"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runMatchCmd(t, tc.stdin, append([]string{"match"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if !tc.sighting {
				if stdout != "" {
					t.Errorf("unexpected output:\n%s", stdout)
				}
				return
			}
			var objs []*stix.Object
			if strings.HasPrefix(stdout, "{\n") {
				b, err := stix.ParseBundle([]byte(stdout))
				if err != nil {
					t.Fatalf("output is not a bundle: %v\n%s", err, stdout)
				}
				objs = b.Objects
			} else {
				for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
					o, err := stix.Parse([]byte(line))
					if err != nil {
						t.Fatalf("output line %q: %v", line, err)
					}
					objs = append(objs, o)
				}
			}
			var sightings int
			for _, o := range objs {
				if err := stix.Validate(o); err != nil {
					t.Errorf("%s: %v", o.ID, err)
				}
				if o.Type == "sighting" {
					sightings++
					if o.Props["sighting_of_ref"] != "indicator--d0000000-0000-4000-8000-000000000002" {
						t.Errorf("sighting of %v", o.Props["sighting_of_ref"])
					}
				}
			}
			if sightings != 1 {
				t.Errorf("%d sightings, want 1:\n%s", sightings, stdout)
			}
		})
	}
}

func TestMatchBenchCommand(t *testing.T) {
	code, stdout, stderr := runMatchCmd(t, "", "match", "bench", "--indicators", "20000", "--lines", "2000", "--substrings", "1000")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"load:", "memory:", "prefix:", "stream:  1 core(s)", "substr:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if code, _, _ := runMatchCmd(t, "", "match", "bench", "--lines", "0"); code != 2 {
		t.Errorf("--lines 0: exit %d, want 2", code)
	}
}

// TestMatchNode fetches indicators from a running node and posts the
// sightings back: the node validates what it stores, so this checks that
// the sightings are ones a node accepts. The node's certificate is pinned
// by the fingerprint serve prints.
func TestMatchNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	n := startServe(t, t.TempDir())
	admin, err := taxii.NewClient(n.base+"/", taxii.ClientOptions{Token: n.adminToken, HTTPClient: n.client})
	if err != nil {
		t.Fatal(err)
	}
	cols, err := admin.Collections(t.Context(), node.DefaultAPIRoot)
	if err != nil || len(cols) != 1 {
		t.Fatalf("Collections = %+v, %v", cols, err)
	}
	col := cols[0].ID
	b, err := stix.ParseBundle([]byte(matchIndicators))
	if err != nil {
		t.Fatal(err)
	}
	var raws []json.RawMessage
	for _, o := range b.Objects {
		if o.Type == "identity" || o.ID == "indicator--d0000000-0000-4000-8000-000000000002" {
			raws = append(raws, o.Raw)
		}
	}
	if st, err := admin.AddObjects(t.Context(), node.DefaultAPIRoot, col, raws); err != nil || st.FailureCount > 0 {
		t.Fatalf("AddObjects = %+v, %v", st, err)
	}

	log := writeMatchFile(t, "eve.json", []byte(matchLog))
	code, _, stderr := runMatchCmd(t, "", "match", "--node", n.base+"/", "--fingerprint", n.fingerprint, "--collection", col, "--token", n.adminToken,
		"--format", "eve", "--identity", "identity--d0000000-0000-4000-8000-000000000001", log)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	env, _, err := admin.Objects(t.Context(), node.DefaultAPIRoot, col, taxii.Query{Types: []string{"sighting", "observed-data"}})
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, raw := range env.Objects {
		o, err := stix.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		types[o.Type]++
	}
	if types["sighting"] != 1 || types["observed-data"] != 1 {
		t.Errorf("the node holds %v, want one sighting and one observed-data", types)
	}
}

// TestMatchReload rewrites the indicator file while matching standard
// input, and checks that lines read after a reload see the new indicators.
func TestMatchReload(t *testing.T) {
	ind := func(domain string) string {
		return `{"type":"indicator","spec_version":"2.1","id":"indicator--d0000000-0000-4000-8000-000000000009","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[domain-name:value = '` + domain + `']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}` + "\n"
	}
	path := writeMatchFile(t, "indicators.jsonl", []byte(ind("old.example")))
	pr, pw := io.Pipe()
	var out bytes.Buffer
	errOut := &proctest.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(t.Context(), &Env{Stdin: pr, Stdout: &out, Stderr: errOut},
			[]string{"match", "--indicators", path, "--format", "eve", "--output", "jsonl", "--reload", "10ms"})
	}()
	// Rewrite the file once the first load is done, then wait for two
	// more: the second of them started after the rewrite.
	compiled := func() int { return strings.Count(errOut.String(), "indicators compiled") }
	waitFor := func(n int) {
		for deadline := time.Now().Add(30 * time.Second); compiled() < n; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("fewer than %d loads in 30s; stderr:\n%s", n, errOut.String())
			}
		}
	}
	waitFor(1)
	if err := os.WriteFile(path, []byte(ind("new.example")), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(compiled() + 2)
	if _, err := io.WriteString(pw, `{"timestamp":"2026-11-26T08:30:00Z","dns":{"rrname":"new.example"}}`+"\n"); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d, want 0 (the reloaded indicator matches); stdout:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), `"type":"sighting"`) {
		t.Errorf("no sighting in:\n%s", out.String())
	}
}

// TestMatchTimezone checks that timestamps without an offset date the
// sightings as UTC, or in the zone --timezone names.
func TestMatchTimezone(t *testing.T) {
	inds := writeMatchFile(t, "indicators.json", []byte(matchIndicators))
	line := `{"timestamp":"2026-11-28T21:49:11.017869","event_type":"dns","dns":{"rrname":"c2.evil.example"}}` + "\n"
	for _, tc := range []struct {
		zone, want string
	}{
		{"", `"first_seen":"2026-11-28T21:49:11.017Z"`},
		{"Europe/Paris", `"first_seen":"2026-11-28T20:49:11.017Z"`},
	} {
		args := []string{"match", "--indicators", inds, "--format", "eve", "--output", "jsonl"}
		if tc.zone != "" {
			args = append(args, "--timezone", tc.zone)
		}
		code, stdout, stderr := runMatchCmd(t, line, args...)
		if code != 0 {
			t.Fatalf("--timezone %q: exit %d; stderr:\n%s", tc.zone, code, stderr)
		}
		if !strings.Contains(stdout, tc.want) {
			t.Errorf("--timezone %q: output lacks %s:\n%s", tc.zone, tc.want, stdout)
		}
	}
	code, _, stderr := runMatchCmd(t, line, "match", "--indicators", inds, "--format", "eve", "--timezone", "Mars/Olympus")
	if code != 2 || !strings.Contains(stderr, "--timezone") {
		t.Errorf("unknown zone: exit %d, want 2 naming --timezone; stderr:\n%s", code, stderr)
	}
}

// TestMatchNodeRepeatedNext runs against a server that answers every page
// with more: true and the same next: entente match must stop with an
// error after a page or two rather than ask for the same page forever.
func TestMatchNodeRepeatedNext(t *testing.T) {
	b, err := stix.ParseBundle([]byte(matchIndicators))
	if err != nil {
		t.Fatal(err)
	}
	var indicator json.RawMessage
	for _, o := range b.Objects {
		if o.ID == "indicator--d0000000-0000-4000-8000-000000000002" {
			indicator = o.Raw
		}
	}
	var requests atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", taxii.MediaType)
		json.NewEncoder(w).Encode(map[string]any{"more": true, "next": "same", "objects": []json.RawMessage{indicator}})
	}))
	defer srv.Close()
	ca := writeMatchFile(t, "ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	log := writeMatchFile(t, "eve.json", []byte(matchLog))

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut},
		[]string{"match", "--node", srv.URL + "/", "--api-root", "api1", "--collection", "c", "--cacert", ca, "--format", "eve", log})
	if n := requests.Load(); n > 3 {
		t.Fatalf("%d requests for indicators; the client must stop when next repeats", n)
	}
	if code != 2 || !strings.Contains(errOut.String(), "next") {
		t.Errorf("exit %d, want 2 with an error about next; stderr:\n%s", code, errOut.String())
	}
}
