package export

import (
	"bytes"
	"testing"
	"time"

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

// FuzzValidity holds Report.Until to what it promises: an export made at
// any instant before Until is the one made at Now.
func FuzzValidity(f *testing.F) {
	for _, o := range sample {
		f.Add(string(o), int64(0))
	}
	f.Add(`{"type":"indicator","id":"indicator--00000001-0000-4000-8000-000000000000","pattern_type":"stix",`+
		`"pattern":"[ipv4-addr:value = '198.51.100.1']","valid_from":"2026-07-01T00:00:00.5Z","valid_until":"2026-08-01T00:00:00Z"}`, int64(3600e9))
	f.Fuzz(func(t *testing.T, obj string, later int64) {
		export := func(at time.Time) (string, *Report) {
			var out bytes.Buffer
			x, err := NewWriter(&out, Config{Format: ZeekIntel, Now: at, Source: "s"})
			if err != nil {
				t.Fatal(err)
			}
			if x.Add([]byte(obj)) != nil {
				return "", nil
			}
			r, err := x.Close()
			if err != nil {
				t.Fatal(err)
			}
			return out.String(), r
		}
		out, r := export(now)
		if r == nil {
			return
		}
		if r.Until.IsZero() {
			r.Until = now.Add(1 << 62) // for ever, or as good as
		} else if !r.Until.After(now) {
			t.Fatalf("Until %v is not after Now %v", r.Until, now)
		}
		at := now.Add(time.Duration(uint64(later) % uint64(r.Until.Sub(now))))
		if again, _ := export(at); again != out {
			t.Fatalf("the export at %v, before Until %v, differs from the one at %v:\n%s\nwas\n%s", at, r.Until, now, again, out)
		}
	})
}
