package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const exampleAgreementFile = "../../examples/arcadia-borealis.yaml"

// TestExplainGolden runs 'entente policy explain' on each object in
// testdata/explain with the flags in its .args file, and compares what it
// prints and its exit code with the .golden file.
func TestExplainGolden(t *testing.T) {
	cases, _ := filepath.Glob("testdata/explain/*.json")
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, object := range cases {
		name := strings.TrimSuffix(object, ".json")
		t.Run(filepath.Base(name), func(t *testing.T) {
			argv, err := os.ReadFile(name + ".args")
			if err != nil {
				t.Fatal(err)
			}
			args := append([]string{"policy", "explain"}, strings.Fields(string(argv))...)
			if !slices.Contains(args, "--agreement") {
				args = append(args, "--agreement", exampleAgreementFile)
			}
			stdout, stderr, code := execEntente(t, append(args, object)...)
			if code > 1 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			got := fmt.Sprintf("%sstderr:\n%sexit %d\n", stdout, stderr, code)
			golden := name + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("output:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestExplainUsage(t *testing.T) {
	for _, args := range [][]string{
		{"policy"},
		{"policy", "explain"},
		{"policy", "explain", "--agreement", exampleAgreementFile, "testdata/explain/green-indicator.json"},
		{"policy", "explain", "--agreement", exampleAgreementFile, "--to", "cascadia", "testdata/explain/green-indicator.json"},
		{"policy", "explain", "--agreement", exampleAgreementFile, "--to", "borealis", "testdata/explain/green-indicator.args"},
	} {
		if _, stderr, code := execEntente(t, args...); code != 2 || stderr == "" {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 with a message", args, code, stderr)
		}
	}
}
