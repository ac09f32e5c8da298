package misp

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/entente/entente/stix"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

func loadEvent(t testing.TB, name string) *Event {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	e, err := DecodeEvent(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return e
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the mapping gives now; inspect with go test -update and git diff", path)
	}
}

// TestGoldenMapping maps an event holding every mapped attribute type, each
// with to_ids set and unset, and compares the STIX objects, one per line,
// and the skips with testdata/golden-stix.jsonl.
func TestGoldenMapping(t *testing.T) {
	e := loadEvent(t, "golden-event.json")
	res, err := ToSTIX(e, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, raw := range res.Objects {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			t.Fatal(err)
		}
		b.Write(buf.Bytes())
		b.WriteByte('\n')
	}
	for _, s := range res.Skipped {
		b.WriteString("skipped: " + s.String() + "\n")
	}
	golden(t, "golden-stix.jsonl", b.Bytes())

	// Every type of the table appears in the event, so each is covered.
	seen := map[string]bool{}
	for _, a := range e.Attributes {
		seen[a.Type] = true
	}
	for _, typ := range MappedTypes() {
		if !seen[typ] {
			t.Errorf("type %s is mapped but not in golden-event.json", typ)
		}
	}
}

// TestMappingValid checks every object of the golden mapping against
// STIX 2.1, patterns included, and that references resolve in the result.
func TestMappingValid(t *testing.T) {
	res, err := ToSTIX(loadEvent(t, "golden-event.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, raw := range res.Objects {
		o, err := stix.Parse(raw)
		if err != nil {
			t.Fatalf("object %d: %v", i, err)
		}
		if ids[o.ID] {
			t.Errorf("%s appears twice", o.ID)
		}
		ids[o.ID] = true
		ws, err := stix.Check(o)
		if err != nil {
			if o.Type == "indicator" && o.Props["pattern_type"] != "stix" {
				t.Logf("%s (%s): %v", o.ID, o.Props["pattern_type"], err)
			} else {
				t.Errorf("%s: %v\n%s", o.ID, err, raw)
			}
		}
		for _, w := range ws {
			t.Errorf("%s: warning %v", o.ID, w)
		}
		for _, ref := range refsOf(o.Props) {
			// The OASIS extension definition of TLP 2.0 names OASIS.
			if !ids[ref] && o.ID != stix.TLP2ExtensionID {
				t.Errorf("%s references %s, which is not before it", o.ID, ref)
			}
		}
	}
}

func refsOf(props map[string]any) []string {
	var out []string
	for k, v := range props {
		switch {
		case strings.HasSuffix(k, "_ref"):
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		case strings.HasSuffix(k, "_refs"):
			l, _ := v.([]any)
			for _, x := range l {
				if s, ok := x.(string); ok {
					out = append(out, s)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestDuplicateAttributeUUID(t *testing.T) {
	e := &Event{UUID: "11111111-2222-4333-8444-555555555555", Date: "2024-01-02", Attributes: []Attribute{
		{UUID: "aaaaaaaa-2222-4333-8444-555555555555", Type: "domain", Value: "a.example", ToIDs: true},
		{UUID: "AAAAAAAA-2222-4333-8444-555555555555", Type: "domain", Value: "b.example", ToIDs: true},
	}}
	res, err := ToSTIX(e, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mapped != 1 || len(res.Skipped) != 1 || res.Skipped[0].Rule != "duplicate" {
		t.Errorf("mapped %d, skipped %v; want the second attribute skipped as a duplicate", res.Mapped, res.Skipped)
	}
}

// TestChangedAttributeIsNewVersion checks that an attribute changed in
// MISP (a later timestamp) maps to a new version of the same objects: the
// same id and created, a later modified.
func TestChangedAttributeIsNewVersion(t *testing.T) {
	e := loadEvent(t, "small-event.json")
	first, err := ToSTIX(e, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.Attributes[0].Timestamp = "1709400000"
	e.Attributes[0].Comment = "seen again"
	e.Timestamp = "1709400000"
	second, err := ToSTIX(e, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := parseAll(t, first), parseAll(t, second)
	if len(a) != len(b) {
		t.Fatalf("%d objects, then %d", len(a), len(b))
	}
	changed := 0
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Created != b[i].Created {
			t.Errorf("%s (created %s) became %s (created %s)", a[i].ID, a[i].Created, b[i].ID, b[i].Created)
		}
		if string(a[i].Raw) != string(b[i].Raw) {
			changed++
			if b[i].Modified <= a[i].Modified {
				t.Errorf("%s changed without a later modified", a[i].ID)
			}
		}
	}
	if changed != 2 { // the indicator and the report
		t.Errorf("%d objects changed, want 2", changed)
	}
}
