package stix

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestValidCorpus validates the examples under testdata/valid, written from
// the examples of the STIX 2.1 specification (one or more per type) and
// from the OASIS stix2 library's deterministic-id tests.
func TestValidCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/valid/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no files in testdata/valid")
	}
	seen := map[string]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			o, err := Parse(data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			seen[o.Type] = true
			if err := Validate(o); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
	for typ := range categoryOf {
		if !seen[typ] {
			t.Errorf("testdata/valid has no example of %s", typ)
		}
	}
}

// corpusCase is the form of the files under testdata/invalid and
// testdata/warn: an object, the violations Validate must report and the
// warnings Check must report, each as "path (rule)".
type corpusCase struct {
	Want     []string        `json:"want"`
	Warnings []string        `json:"warnings"`
	Object   json.RawMessage `json:"object"`
}

// TestInvalidCorpus checks that each object under testdata/invalid yields
// exactly the violations and warnings its file records.
func TestInvalidCorpus(t *testing.T) {
	runCorpus(t, "testdata/invalid", func(t *testing.T, c corpusCase) {
		if len(c.Want) == 0 {
			t.Fatal("the file records no expected violation")
		}
	})
}

// TestWarnCorpus checks that each object under testdata/warn is valid and
// yields exactly the warnings its file records: departures from STIX 2.1's
// recommendations that real producers make (MITRE ATT&CK, the OASIS
// incident core suite).
func TestWarnCorpus(t *testing.T) {
	runCorpus(t, "testdata/warn", func(t *testing.T, c corpusCase) {
		if len(c.Want) != 0 || len(c.Warnings) == 0 {
			t.Fatal("the file must record warnings and no violation")
		}
	})
}

func runCorpus(t *testing.T, dir string, checkCase func(*testing.T, corpusCase)) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no files in %s", dir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var c corpusCase
			if err := json.Unmarshal(data, &c); err != nil {
				t.Fatal(err)
			}
			checkCase(t, c)
			o, err := Parse(c.Object)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			ws, err := Check(o)
			slices.Sort(c.Want)
			if got := violations(err); !slices.Equal(got, c.Want) {
				t.Errorf("violations:\n got %q\nwant %q\nerror: %v", got, c.Want, err)
			}
			slices.Sort(c.Warnings)
			if got := violations(Errors(ws)); !slices.Equal(got, c.Warnings) {
				t.Errorf("warnings:\n got %q\nwant %q\n%s", got, c.Warnings, ws)
			}
		})
	}
}

// violations lists err's violations as sorted "path (rule)" strings.
func violations(err error) []string {
	if err == nil {
		return nil
	}
	if es, ok := err.(Errors); ok && len(es) == 0 {
		return nil
	}
	var es Errors
	if !errors.As(err, &es) {
		return []string{"not Errors: " + err.Error()}
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = strings.TrimSpace(e.Path + " (" + e.Rule + ")")
	}
	slices.Sort(out)
	return out
}
