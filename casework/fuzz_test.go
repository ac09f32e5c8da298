package casework

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/entente/entente/stix"
)

// FuzzDecode: Decode never panics, and what it accepts encodes to an
// object that passes stix.Check and decodes to the same case.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"type":"entente-consultation","id":"entente-consultation--0f3c6e58-2b7a-4a0e-9d62-51b1f3e6a004"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := stix.Parse(data)
		if err != nil {
			return
		}
		c, err := Decode(o)
		if err != nil {
			return
		}
		o2, err := Encode(c)
		if err != nil {
			t.Fatalf("decoded case does not encode: %v", err)
		}
		if w, err := stix.Check(o2); err != nil || len(w) > 0 {
			t.Fatalf("re-encoded case fails stix.Check: %v %v\n%s", err, w, o2.Raw)
		}
		c2, err := Decode(o2)
		if err != nil {
			t.Fatalf("re-encoded case does not decode: %v\n%s", err, o2.Raw)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip changed the case:\n%+v\n%+v", c, c2)
		}
	})
}

// FuzzParseFields: ParseFields never panics, and New either accepts what
// it returns or names the field it refuses.
func FuzzParseFields(f *testing.F) {
	f.Add(uint8(TypeAssistance), []byte(`{"assistance_type":"sinkhole","purpose":"incident-response","description":"C2 domains"}`))
	f.Add(uint8(TypePreservation), []byte(`{"requesting_authority":"arcadia-police-cyber","period_days":60}`))
	a := testAgreement(f)
	f.Fuzz(func(t *testing.T, typ uint8, data []byte) {
		fs, _, err := ParseFields(Type(typ), data)
		if err != nil {
			return
		}
		_, err = New(NewID(Type(typ)), fs, "arcadia", "borealis", a, t0)
		var fe *FieldError
		var re *RuleError
		if err != nil && !errors.As(err, &fe) && !errors.As(err, &re) {
			t.Fatalf("New: %v is neither a *FieldError nor a *RuleError", err)
		}
	})
}

// FuzzStep reads a program from the input: a case type, then steps of
// (event, actor, hours later, ground). Step never panics; a refused step
// is a *RuleError and changes nothing; an accepted one encodes, decodes to
// itself and verifies.
func FuzzStep(f *testing.F) {
	f.Add([]byte{1, 1, 0, 1, 0, 2, 1, 1, 0})
	f.Add([]byte{3, 1, 0, 1, 0, 15, 1, 1, 0, 18, 1, 1, 0, 17, 0, 200, 0})
	a := testAgreement(f)
	grounds := []string{"", "political-offence", "essential-interests", "human-rights", "double-jeopardy", "public-order"}
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) == 0 {
			return
		}
		typ := Types[int(prog[0])%len(Types)]
		c, err := New(NewID(typ), sampleFields(typ), "arcadia", "borealis", a, t0)
		if err != nil {
			t.Fatal(err)
		}
		for p := prog[1:]; len(p) >= 4; p = p[4:] {
			actor := [2]string{"arcadia", "borealis"}[p[1]&1]
			e, now := canonicalEvent(c, EventKind(p[0]%(uint8(numEvents)+1)), actor, a)
			e.Ground = grounds[int(p[3])%len(grounds)]
			if p[1]&2 != 0 {
				now = now.Add(time.Duration(p[2]) * 7 * time.Hour)
			}
			next, err := Step(c, e, a, now)
			if err != nil {
				var re *RuleError
				if !errors.As(err, &re) || !reflect.DeepEqual(next, c) {
					t.Fatalf("refused %s: %v, changed %v", e.Kind, err, !reflect.DeepEqual(next, c))
				}
				continue
			}
			o, err := Encode(next)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(o)
			if err != nil || !reflect.DeepEqual(back, next) {
				t.Fatalf("%s: round trip: %v\n%s", e.Kind, err, o.Raw)
			}
			if err := Verify(c, back, a); err != nil {
				t.Fatalf("%s: %v", e.Kind, err)
			}
			c = next
		}
	})
}
