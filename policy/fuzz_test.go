package policy

import (
	"errors"
	"maps"
	"reflect"
	"testing"

	"github.com/entente/entente/stix"
)

var errLookup = errors.New("lookup failed")

// FuzzDecide decides arbitrary objects for arbitrary recipients. Decide
// must not panic, must be deterministic, must attach conditions exactly
// to releases, and a redacted object must then be released as it is.
func FuzzDecide(f *testing.F) {
	f.Add([]byte(indicator(1, marked(green))), "borealis", "borealis-cert", "", "")
	f.Add([]byte(indicator(1, marked(red)+`,"labels":["under-investigation"]`)), "borealis", "borealis-cert", "borealis-analyst", "cascadia")
	f.Add([]byte(indicator(1, marked(green)+`,"description":"d","granular_markings":[{"marking_ref":"`+amber+`","selectors":["description"]}]`)),
		"cascadia", "cascadia-cert", "", "borealis")
	f.Add([]byte(`{"type":"relationship","id":"relationship--1","source_ref":"indicator--00000000-0000-4000-8000-000000000001",`+
		`"target_ref":"relationship--1","object_marking_refs":["`+green+`"]}`), "borealis", "borealis-cert", "", "")
	f.Add([]byte(`{"type":"sighting","id":"sighting--1","sighting_of_ref":"indicator--00000000-0000-4000-8000-000000000002","revoked":true}`),
		"borealis", "", "", "borealis")

	p := compile(f, threeParties, "arcadia")
	u := universe{}
	u.add(f, "", indicator(1, marked(green)))
	u.add(f, "borealis", indicator(2, marked(amber)))
	u.add(f, "cascadia", indicator(3, marked(stix.TLP2Clear)))
	f.Fuzz(func(t *testing.T, data []byte, party, org, individual, from string) {
		o, err := stix.Parse(data)
		if err != nil {
			return
		}
		u := maps.Clone(u)
		u[o.ID] = Ref{Object: o, ReceivedFrom: from}
		ctx := Context{ReceivedFrom: from, Lookup: u.lookup, Released: func(id string) bool { return len(id)%2 == 0 }}
		to := Recipient{Party: party, Organization: org, Individual: individual}
		d := decide(t, p, to, o, ctx)
		if again := decide(t, p, to, o, ctx); !reflect.DeepEqual(d, again) {
			t.Fatalf("Decide is not deterministic: %+v then %+v", d, again)
		}
		_ = d.Reason()
		// A lookup that fails decides nothing: Decide returns the error,
		// or, when it never needed the failing objects, the same decision.
		failing := ctx
		failing.Lookup = func(id string) (Ref, bool, error) {
			if len(id)%3 == 0 {
				return Ref{}, false, errLookup
			}
			return u.lookup(id)
		}
		if df, err := Decide(p, to, o, failing); err != nil {
			if !errors.Is(err, errLookup) || !reflect.DeepEqual(df, Decision{}) {
				t.Fatalf("with a failing lookup: %+v, %v; want the zero Decision and the lookup's error", df, err)
			}
		} else if !reflect.DeepEqual(df, d) {
			t.Fatalf("a lookup failed unnoticed: %+v, want %+v", df, d)
		}
		if (d.Conditions != nil) != (d.Verdict != Deny) {
			t.Fatalf("verdict %v with conditions %v", d.Verdict, d.Conditions)
		}
		if d.Verdict != Redact {
			return
		}
		r, err := Apply(o, d)
		if err != nil {
			t.Fatalf("Apply(%v): %v", d.Redact, err)
		}
		u[r.ID] = Ref{Object: r, ReceivedFrom: from}
		if d2 := decide(t, p, to, r, ctx); d2.Verdict != Allow {
			t.Fatalf("the redacted object is not released: %v (%s)\n%s", d2.Verdict, d2.Reason(), r.Raw)
		}
	})
}
