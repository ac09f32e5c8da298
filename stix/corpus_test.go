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

// invalidCase is the form of the files under testdata/invalid: an object
// and the violations Validate must report, each as "path (rule)".
type invalidCase struct {
	Want   []string        `json:"want"`
	Object json.RawMessage `json:"object"`
}

// TestInvalidCorpus checks that each object under testdata/invalid yields
// exactly the violations its file records.
func TestInvalidCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no files in testdata/invalid")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var c invalidCase
			if err := json.Unmarshal(data, &c); err != nil {
				t.Fatal(err)
			}
			if len(c.Want) == 0 {
				t.Fatal("the file records no expected violation")
			}
			o, err := Parse(c.Object)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := violations(Validate(o))
			slices.Sort(c.Want)
			if !slices.Equal(got, c.Want) {
				t.Errorf("violations:\n got %q\nwant %q\nerror: %v", got, c.Want, Validate(o))
			}
		})
	}
}

// violations lists err's violations as sorted "path (rule)" strings.
func violations(err error) []string {
	if err == nil {
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
