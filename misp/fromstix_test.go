package misp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/entente/entente/stix"
)

// TestExportNative maps STIX that did not come from MISP to MISP events
// and compares them, and what was left out, with
// testdata/native-misp.golden.json.
func TestExportNative(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "native-stix.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var objs []*stix.Object
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		o, err := stix.Parse(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if err := stix.Validate(o); err != nil {
			t.Fatalf("%s: %v", o.ID, err)
		}
		objs = append(objs, o)
	}
	events, skipped := FromSTIX(objs, ExportOptions{Loose: Event{UUID: "0f0f0f0f-0000-4000-8000-000000000000", Info: "loose"}})
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	enc.Encode(map[string]any{"events": events, "skipped": skipped})
	golden(t, "native-misp.golden.json", b.Bytes())

	// Every event decodes as MISP, and maps back to STIX.
	for i := range events {
		data := EventFile(&events[i])
		e, err := DecodeEvent(data)
		if err != nil {
			t.Fatalf("event %s does not decode: %v", events[i].UUID, err)
		}
		if _, err := ToSTIX(e, Options{}); err != nil {
			t.Fatal(err)
		}
	}
}
