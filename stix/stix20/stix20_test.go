package stix20

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entente/entente/stix"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestUpgrade upgrades a 2.0 bundle with every kind of change, compares
// the result with testdata/bundle20.golden.jsonl, and checks each object
// against STIX 2.1 (no violation, no warning) and the references closed.
func TestUpgrade(t *testing.T) {
	objs, problems, err := Upgrade(readFile(t, "bundle20.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("problem: %v", p)
	}
	var b bytes.Buffer
	ids := map[string]bool{}
	for _, raw := range objs {
		var c bytes.Buffer
		json.Compact(&c, raw)
		b.Write(c.Bytes())
		b.WriteByte('\n')
		o, err := stix.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		ws, err := stix.Check(o)
		if err != nil {
			t.Errorf("%s: %v", o.ID, err)
		}
		for _, w := range ws {
			t.Errorf("%s: warning %v", o.ID, w)
		}
		for _, r := range o.Refs() {
			if !ids[r] && !strings.HasPrefix(r, "identity--") && !strings.HasPrefix(r, "indicator--") && !strings.HasPrefix(r, "malware--") {
				t.Errorf("%s refers to %s, which comes later or not at all", o.ID, r)
			}
		}
		ids[o.ID] = true
	}
	path := filepath.Join("testdata", "bundle20.golden.jsonl")
	if *update {
		os.WriteFile(path, b.Bytes(), 0o644)
	}
	if want := readFile(t, "bundle20.golden.jsonl"); !bytes.Equal(b.Bytes(), want) {
		t.Errorf("the upgrade differs from %s; inspect with -update and git diff", path)
	}
	// Deterministic: the same ids on every run.
	again, _, _ := Upgrade(readFile(t, "bundle20.json"))
	for i := range objs {
		if !bytes.Equal(objs[i], again[i]) {
			t.Fatalf("a second upgrade differs at object %d", i)
		}
	}
}

func TestRefused(t *testing.T) {
	objs, problems, err := Upgrade(readFile(t, "refused20.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"objects[0] (observed-data--b67d30ff-02ac-498a-92f9-32f845f448d0): objects.0.is_encrypted: STIX 2.1 removed",
		"objects[1] (observed-data--b67d30ff-02ac-498a-92f9-32f845f448d1): objects.0.src_ref: refers to \"9\"",
		"objects[2] (observed-data--b67d30ff-02ac-498a-92f9-32f845f448d2): objects.0.type: \"x-acme-widget\" is not a STIX 2.1 cyber-observable type",
		"objects[3] (observed-data--b67d30ff-02ac-498a-92f9-32f845f448d3): objects.",
	}
	if len(problems) != len(want) {
		t.Fatalf("%d problems, want %d: %v", len(problems), len(want), problems)
	}
	for i, p := range problems {
		if !strings.HasPrefix(p.Error(), want[i]) {
			t.Errorf("problem %d: %v\nwant it to start with %s", i, p, want[i])
		}
	}
	if !strings.Contains(problems[3].Error(), "cycle") {
		t.Errorf("problem 3 should name the cycle: %v", problems[3])
	}
	if len(objs) != 1 {
		t.Errorf("%d objects upgraded, want the one indicator", len(objs))
	}
}

func TestNotBundle(t *testing.T) {
	for _, in := range []string{``, `[]`, `{"type":"indicator"}`, `{"type":"bundle","objects":{}}`} {
		if _, _, err := Upgrade([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// FuzzUpgrade checks that any input gives objects that parse, or
// problems, or an error, without panicking; and the same twice.
func FuzzUpgrade(f *testing.F) {
	f.Add(readFile(f, "bundle20.json"))
	f.Add(readFile(f, "refused20.json"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, problems, err := Upgrade(data)
		if err != nil {
			return
		}
		for _, p := range problems {
			if _, ok := p.(*Problem); !ok {
				t.Fatalf("problem of type %T", p)
			}
		}
		again, _, _ := Upgrade(data)
		if len(again) != len(objs) {
			t.Fatal("two upgrades differ")
		}
		for i, raw := range objs {
			if !bytes.Equal(raw, again[i]) {
				t.Fatalf("two upgrades differ at %d", i)
			}
			if _, err := stix.Parse(raw); err != nil {
				t.Fatalf("upgraded object does not parse: %v\n%s", err, raw)
			}
		}
	})
}
