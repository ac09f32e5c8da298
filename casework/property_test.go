package casework

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/stix"
	"pgregory.net/rapid"
)

// node is one party's view: its copy of every case, the versions it has
// seen, and its ledger.
type node struct {
	party    string
	cases    []Case
	versions [][][]byte
	ledger   Ledger
}

// TestPropertyTwoNodes drives random events, by either party, on a few
// cases held by two nodes. The acting node decides with Step; the other
// receives the new version as a STIX object, decodes it and verifies it
// (Verify). Throughout: a refused step changes nothing and is a
// *RuleError; every version passes stix.Check, decodes to the case, and
// follows from the one before. At the end both nodes hold the same cases
// and histories, and compute byte-identical compliance records from the
// two ledgers, which agree on every step.
func TestPropertyTwoNodes(t *testing.T) {
	a := testAgreement(t)
	grounds := []string{"", "political-offence", "essential-interests", "human-rights", "double-jeopardy", "destabilizing-information"}
	rapid.Check(t, func(rt *rapid.T) {
		nodes := map[string]*node{"arcadia": {party: "arcadia"}, "borealis": {party: "borealis"}}
		ncases := rapid.IntRange(1, 4).Draw(rt, "cases")
		for i := 0; i < ncases; i++ {
			typ := rapid.SampledFrom(Types).Draw(rt, "type")
			c, err := New(NewID(typ), sampleFields(typ), "arcadia", "borealis", a, t0)
			if err != nil {
				rt.Fatal(err)
			}
			for _, n := range nodes {
				n.cases = append(n.cases, c)
				n.versions = append(n.versions, nil)
			}
		}
		steps := rapid.IntRange(0, 60).Draw(rt, "steps")
		for s := 0; s < steps; s++ {
			i := rapid.IntRange(0, ncases-1).Draw(rt, "case")
			actor := rapid.SampledFrom([]string{"arcadia", "borealis"}).Draw(rt, "actor")
			me, other := nodes[actor], nodes[map[string]string{"arcadia": "borealis", "borealis": "arcadia"}[actor]]
			c := me.cases[i]
			m, _ := MachineOf(c.Type)
			kind := rapid.SampledFrom(append(m.Events, EventKind(rapid.IntRange(0, int(numEvents)).Draw(rt, "any")))).Draw(rt, "event")
			e, now := canonicalEvent(c, kind, actor, a)
			e.Ground = rapid.SampledFrom(grounds).Draw(rt, "ground")
			if rapid.Bool().Draw(rt, "jump") {
				now = now.Add(time.Duration(rapid.IntRange(-3, 2000).Draw(rt, "hours")) * time.Hour)
			}
			next, err := Step(c, e, a, now)
			if err != nil {
				var re *RuleError
				if !errors.As(err, &re) {
					rt.Fatalf("%v is not a *RuleError", err)
				}
				if !reflect.DeepEqual(next, c) {
					rt.Fatalf("refused %s changed the case", kind)
				}
				continue
			}
			arc := slices.IndexFunc(m.Arcs, func(x Arc) bool {
				return x.From == c.State && x.Event == kind && (x.To == next.State || x.Or == next.State)
			})
			if arc < 0 || next.Modified.Before(c.Modified) {
				rt.Fatalf("%s from %s gave %s at %s, which no arc of the machine allows", kind, c.State, next.State, next.Modified)
			}
			o, err := Encode(next)
			if err != nil {
				rt.Fatal(err)
			}
			if w, err := stix.Check(o); err != nil || len(w) > 0 {
				rt.Fatalf("%v %v\n%s", err, w, o.Raw)
			}
			// The other node receives the version.
			got, err := Decode(o)
			if err != nil {
				rt.Fatalf("decoding %s: %v\n%s", kind, err, o.Raw)
			}
			if !reflect.DeepEqual(got, next) {
				rt.Fatalf("decoded %+v\nwant %+v", got, next)
			}
			if err := Verify(other.cases[i], got, a); err != nil {
				rt.Fatalf("the receiver cannot verify %s: %v", kind, err)
			}
			canon, _ := stix.Canonical(o.Raw)
			for _, n := range []*node{me, other} {
				prev := n.cases[i]
				n.cases[i] = next
				if n == other {
					n.cases[i] = got
				}
				n.versions[i] = append(n.versions[i], canon)
				at := next.Modified
				if n == other {
					at = at.Add(time.Minute)
				}
				n.ledger.Party = n.party
				n.ledger.Entries = append(n.ledger.Entries, ledger.Entry{Time: at, Event: Record(prev, n.cases[i], e, a, n.party)})
			}
		}
		A, B := nodes["arcadia"], nodes["borealis"]
		if !reflect.DeepEqual(A.cases, B.cases) || !reflect.DeepEqual(A.versions, B.versions) {
			rt.Fatal("the nodes' cases or histories differ")
		}
		p, _ := ParsePeriod("2027")
		ra, rb := Compile(p, A.ledger, B.ledger), Compile(p, B.ledger, A.ledger)
		ja, _ := ra.JSON()
		jb, _ := rb.JSON()
		if !bytes.Equal(ja, jb) {
			rt.Fatalf("the compliance records differ:\n%s\n%s", ja, jb)
		}
		if ra.Conflicts != 0 {
			rt.Fatalf("%d conflicts", ra.Conflicts)
		}
		for _, l := range ra.Ledgers {
			if l.Only != 0 {
				rt.Fatalf("%d steps only in %s's ledger", l.Only, l.Ledger)
			}
		}
		for _, le := range A.ledger.Entries {
			if _, err := (ledger.Entry{Time: le.Time, Event: le.Event}).Encode(); err != nil {
				rt.Fatalf("ledger entry: %v", err)
			}
		}
	})
}
