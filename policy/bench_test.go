package policy

import (
	"testing"
)

// typical is an indicator as partners exchange them: TLP:GREEN, one other
// marking, labels.
func typical(t testing.TB, tlp string) string {
	return indicator(1, marked(tlp, "marking-definition--11111111-1111-4111-8111-111111111111")+`,"labels":["malicious-activity"]`)
}

// BenchmarkDecide measures decisions on a typical indicator. The parse
// case is the baseline: decoding the same object from JSON, which a node
// does once per object it receives.
func BenchmarkDecide(b *testing.B) {
	p := compile(b, threeParties, "arcadia")
	for _, bc := range []struct {
		name string
		to   Recipient
		tlp  string
		want Verdict
	}{
		{"allow", toBorealisCERT, green, Allow},
		{"deny-tlp", toCascadia, amber, Deny},
		{"deny-no-rule", Recipient{Party: "dystopia"}, green, Deny},
	} {
		o := object(b, typical(b, bc.tlp))
		if d, _ := Decide(p, bc.to, o, Context{}); d.Verdict != bc.want {
			b.Fatalf("%s: Decide = %v (%s)", bc.name, d.Verdict, d.Reason())
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Decide(p, bc.to, o, Context{})
			}
		})
	}
	b.Run("parse", func(b *testing.B) {
		js := []byte(typical(b, green))
		b.ReportAllocs()
		for b.Loop() {
			object(b, string(js))
		}
	})
}

// TestDecideDoesNotAllocate holds Decide to its promise on a plain allow
// or deny.
func TestDecideDoesNotAllocate(t *testing.T) {
	p := compile(t, threeParties, "arcadia")
	for _, tc := range []struct {
		to  Recipient
		tlp string
	}{{toBorealisCERT, green}, {toCascadia, amber}, {toCascadia, red}} {
		o := object(t, typical(t, tc.tlp))
		if n := testing.AllocsPerRun(100, func() { Decide(p, tc.to, o, Context{}) }); n != 0 {
			t.Errorf("Decide to %s of %s: %v allocations, want 0", tc.to.Party, tc.tlp, n)
		}
	}
}
