package misp

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/entente/entente/stix"
)

// FuzzDecode feeds arbitrary documents to the event decoder and maps what
// it accepts: neither may panic, every object mapped must parse as STIX,
// and the mapping must be the same twice (stable ids).
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"golden-event.json", "small-event.json"} {
		if data, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"response":[{"Event":{"uuid":"a","Attribute":[{"uuid":"b","type":"ip-dst|port","value":"1.2.3.4|80","to_ids":"1"}]}}]}`))
	f.Add([]byte(`[{"Event":{"uuid":"a","timestamp":12,"Object":[{"uuid":"o","Attribute":[{"uuid":"c","type":"AS","value":"AS1"}]}]}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := DecodeEvents(data)
		if err != nil {
			if _, ok := err.(*DecodeError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		for i := range events {
			a, err := ToSTIX(&events[i], Options{})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := ToSTIX(&events[i], Options{})
			if len(a.Objects) != len(b.Objects) {
				t.Fatal("two mappings of one event differ")
			}
			for j, raw := range a.Objects {
				if string(raw) != string(b.Objects[j]) {
					t.Fatalf("two mappings differ at %s", a.IDs[j])
				}
				if _, err := stix.Parse(raw); err != nil {
					t.Fatalf("mapped object does not parse: %v\n%s", err, raw)
				}
			}
		}
	})
}

// FuzzManifest checks that the manifest decoder accepts only file names
// that stay inside the feed.
func FuzzManifest(f *testing.F) {
	f.Add([]byte(`{"5e5f6a1b-3c4d-4e5f-8a9b-0c1d2e3f4a5b":{"info":"x","timestamp":"1700000000"}}`))
	f.Add([]byte(`{"../etc/passwd":{"info":"x"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		uuids, _, err := DecodeManifest(data)
		if err != nil {
			return
		}
		for _, u := range uuids {
			if !validFeedName(u) {
				t.Fatalf("accepted %q", u)
			}
		}
	})
}

// FuzzAppendString checks the hand-written JSON string encoder against
// encoding/json.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "\x00\x1f\n\t\r", "<tag>&", "\u2028\u2029é", "\xff\xfe", "C:\\Temp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		want := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}
