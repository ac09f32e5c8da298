package export

import (
	"bytes"
	"testing"

	"github.com/entente/entente/signature"
	"github.com/entente/entente/stix/pattern"
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

// FuzzFastAtom holds the fast reading of the common pattern shape to the
// parser's: where fastAtom answers for a pattern the parser takes, the
// parser reads the same one atom.
func FuzzFastAtom(f *testing.F) {
	for _, p := range []string{
		"[ipv6-addr:value = '2001:DB8::1']",
		"[file:hashes.'SHA-256' = 'AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F']",
		"[network-traffic:src_ref.value = '10.0.0.0/8']",
		"[domain-name:value = 'EXAMPLE.com']",
		"[user-account:account_login = 'Root']",
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		fast, ok := fastAtom(p)
		if !ok {
			return
		}
		if _, err := pattern.Parse(p); err != nil {
			return // refused on ingest; never exported
		}
		slow, reason := atomsOf("(" + p + ")") // parentheses keep it off the fast path
		if reason != "" || len(slow) != 1 || slow[0] != fast {
			t.Fatalf("%q: fast %+v, parser %+v (%s)", p, fast, slow, reason)
		}
	})
}
