package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runPatternCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	stdout, stderr, code = execEntenteInput(t, stdin, append([]string{"pattern"}, args...)...)
	return code, stdout, stderr
}

func TestPatternCheck(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    string
		stderrHas []string
	}{
		{
			name:   "valid prints the canonical form",
			args:   []string{"check", "[file:size == 1280]  WITHIN 5 SECONDS"},
			code:   0,
			stdout: "[file:size = 1280] WITHIN 5 SECONDS\n",
		},
		{
			name:      "syntax error names and marks the position",
			args:      []string{"check", "[file:size = ]"},
			code:      2,
			stderrHas: []string{"position 13: expected a constant", "  [file:size = ]\n               ^"},
		},
		{
			name:      "semantic error",
			args:      []string{"check", "[a:b = 1 AND c:d = 2]"},
			code:      2,
			stderrHas: []string{"position 9: AND joins comparisons on a and on c"},
		},
		{
			name: "caret counts runes",
			args: []string{"check", "[a:b = 'ü'] WITHIN 0 SECONDS"},
			code: 2,
			// The 0 is byte 20 but rune 19; the caret line indents by 2.
			stderrHas: []string{"\n" + strings.Repeat(" ", 2+19) + "^\n"},
		},
		{name: "missing pattern", args: []string{"check"}, code: 2, stderrHas: []string{"usage: entente pattern check"}},
		{name: "unknown subcommand", args: []string{"lint", "[a:b = 1]"}, code: 2, stderrHas: []string{`unknown pattern subcommand "lint"`}},
		{name: "no subcommand", args: nil, code: 2, stderrHas: []string{"usage: entente pattern check"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runPatternCmd(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if stdout != tt.stdout {
				t.Errorf("stdout %q, want %q", stdout, tt.stdout)
			}
			for _, s := range tt.stderrHas {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr %q lacks %q", stderr, s)
				}
			}
		})
	}
}

const patternBundle = `{"type":"bundle","id":"bundle--0c8a2b9e-1f0e-4a71-9d5e-6a2e8b5c7d11","objects":[
{"type":"observed-data","spec_version":"2.1","id":"observed-data--00000000-0000-4000-8000-000000000001",
 "created":"2016-06-01T10:00:00.000Z","modified":"2016-06-01T10:00:00.000Z",
 "first_observed":"2016-06-01T10:00:00Z","last_observed":"2016-06-01T10:00:00Z","number_observed":1,
 "object_refs":["ipv4-addr--00000000-0000-4000-8000-00000000000a"]},
{"type":"observed-data","spec_version":"2.1","id":"observed-data--00000000-0000-4000-8000-000000000002",
 "created":"2016-06-01T10:02:00.000Z","modified":"2016-06-01T10:02:00.000Z",
 "first_observed":"2016-06-01T10:02:00Z","last_observed":"2016-06-01T10:02:00Z","number_observed":1,
 "object_refs":["domain-name--00000000-0000-4000-8000-00000000000b"]},
{"type":"ipv4-addr","id":"ipv4-addr--00000000-0000-4000-8000-00000000000a","value":"198.51.100.7"},
{"type":"domain-name","id":"domain-name--00000000-0000-4000-8000-00000000000b","value":"example.com"}]}`

func TestPatternMatch(t *testing.T) {
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle.json")
	if err := os.WriteFile(bundle, []byte(patternBundle), 0o644); err != nil {
		t.Fatal(err)
	}
	notBundle := filepath.Join(dir, "indicator.json")
	if err := os.WriteFile(notBundle, []byte(`{"type":"indicator"}`), 0o644); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runPatternCmd(t, "", "match", "[ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY [domain-name:value = 'example.com']", bundle)
	if code != 0 {
		t.Fatalf("match: exit %d, stderr %q", code, stderr)
	}
	if strings.Count(stdout, "\n") != 1 {
		t.Errorf("stdout %q is not one line", stdout)
	}
	var got matchResult
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	want := matchResult{
		Matched: true,
		ObservedData: []string{
			"observed-data--00000000-0000-4000-8000-000000000001",
			"observed-data--00000000-0000-4000-8000-000000000002",
		},
		Bindings: []matchBinding{
			{"[ipv4-addr:value = '198.51.100.7']", "observed-data--00000000-0000-4000-8000-000000000001", "ipv4-addr--00000000-0000-4000-8000-00000000000a"},
			{"[domain-name:value = 'example.com']", "observed-data--00000000-0000-4000-8000-000000000002", "domain-name--00000000-0000-4000-8000-00000000000b"},
		},
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("match result\n got %s\nwant %s", gotJSON, wantJSON)
	}

	tests := []struct {
		name      string
		stdin     string
		args      []string
		code      int
		stdout    string
		stderrHas string
	}{
		{"order matters", "", []string{"match", "[domain-name:value = 'example.com'] FOLLOWEDBY [ipv4-addr:value = '198.51.100.7']", bundle}, 1, `{"matched":false}` + "\n", ""},
		{"stdin", patternBundle, []string{"match", "[domain-name:value = 'example.com']", "-"}, 0, "", ""},
		{"invalid pattern", "", []string{"match", "[domain-name:value = ]", bundle}, 2, "", "position 21"},
		{"missing file", "", []string{"match", "[domain-name:value = 'x']", filepath.Join(dir, "none.json")}, 2, "", "none.json"},
		{"not a bundle", "", []string{"match", "[domain-name:value = 'x']", notBundle}, 2, "", `type is "indicator"`},
		{"bad stdin", "{", []string{"match", "[domain-name:value = 'x']", "-"}, 2, "", "invalid JSON"},
		{"missing file argument", "", []string{"match", "[domain-name:value = 'x']"}, 2, "", "usage: entente pattern match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runPatternCmd(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if tt.stdout != "" && stdout != tt.stdout {
				t.Errorf("stdout %q, want %q", stdout, tt.stdout)
			}
			if tt.code == 2 && stdout != "" {
				t.Errorf("stdout %q on exit 2, want nothing", stdout)
			}
			if !strings.Contains(stderr, tt.stderrHas) {
				t.Errorf("stderr %q lacks %q", stderr, tt.stderrHas)
			}
		})
	}
}
