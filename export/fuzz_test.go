package export

import (
	"bytes"
	"testing"

	"github.com/entente/entente/signature"
)

// FuzzSuricata feeds patterns to the Suricata export: every rule it
// generates must parse, and what it cannot express it must say so.
func FuzzSuricata(f *testing.F) {
	for _, o := range sample {
		f.Add(string(o))
	}
	f.Add(string(ind(1, "stix", "[domain-name:value = 'a|b\";\\\\c:d']")))
	f.Add(string(ind(1, "stix", "[url:value = 'http://h.example/\\'%00x|y?#z']")))
	f.Fuzz(func(t *testing.T, obj string) {
		var out bytes.Buffer
		x, err := NewWriter(&out, Config{Format: Suricata, Now: now, Source: "s"})
		if err != nil {
			t.Fatal(err)
		}
		if x.Add([]byte(obj)) != nil {
			return
		}
		r, err := x.Close()
		if err != nil {
			t.Fatal(err)
		}
		if r.Lines > 0 {
			if _, err := signature.ParseSuricata(out.String()); err != nil {
				t.Fatalf("the export does not parse: %v\n%s", err, out.String())
			}
		}
	})
}
