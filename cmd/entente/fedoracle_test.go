package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/examples"
)

// The oracle of the federation tests says, from the agreement's rules
// alone, which party's node may hold which object once the federation has
// converged. It is written from doc/agreement.md, not from package policy,
// and deliberately calls nothing of it: a test that compared policy with
// itself could not fail.

// The TLP 2.0 marking definitions (FIRST TLP 2.0, OASIS's extension
// definition extension-definition--60a3c5c5-...), written out here rather
// than taken from package stix.
var tlp20 = map[string]string{
	"clear":        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	"green":        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	"amber":        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
	"amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	"red":          "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

// tlpRank orders TLP 2.0 labels from least to most restrictive.
var tlpRank = map[string]int{"clear": 0, "green": 1, "amber": 2, "amber+strict": 3, "red": 4}

// fedObject is one object a test creates on a node: what the oracle needs
// to know of it, and its JSON.
type fedObject struct {
	ID     string
	Origin string // the party whose node created it
	Type   string
	TLP    string // a TLP 2.0 label, or "" for an unmarked object
	Labels []string
	Raw    json.RawMessage
}

// oracle returns, for each party of a, the ids of the objects its node
// holds after convergence: those it created, those a rule lets their
// originator send it, and those a third party that received them may pass
// on. A rule, read from doc/agreement.md:
//   - covers one direction; without a rule nothing goes;
//   - lets through only its types;
//   - an unmarked object counts as the rule's unmarked label, red when absent;
//   - the label must be at most the rule's tlp; amber and amber+strict go only
//     to an organisation the rule names, and a node receives as its
//     authority; red goes only to named individuals, which a node never is;
//   - an object with an excluded label stays home;
//   - an object received from a party goes to a third party only if that
//     party's rule to the relayer sets onward_transfer, and only at
//     TLP:CLEAR or GREEN; sending it back where it came from is no transfer.
//
// A node that may receive an object from several parties keeps it once; the
// oracle follows every possible path, which is exact as long as the
// agreement does not let the path decide what goes further (true of three
// parties, where a relayed object can only go back).
func oracle(a *agreement.Agreement, objs []fedObject) map[string]map[string]bool {
	holds := map[string]map[string]bool{}
	for _, p := range a.Parties {
		holds[p.ID] = map[string]bool{}
	}
	for _, o := range objs {
		// from[party] is the set of parties it may have received o from
		// ("" for the originator).
		from := map[string]map[string]bool{o.Origin: {"": true}}
		for changed := true; changed; {
			changed = false
			for _, h := range sortedKeys(from) {
				for _, f := range sortedKeys(from[h]) {
					for _, p := range a.Parties {
						if p.ID == h || from[p.ID][h] || !oracleSends(a, h, p.ID, f, o) {
							continue
						}
						if from[p.ID] == nil {
							from[p.ID] = map[string]bool{}
						}
						from[p.ID][h] = true
						changed = true
					}
				}
			}
		}
		for p := range from {
			holds[p][o.ID] = true
		}
	}
	return holds
}

// oracleSends says whether the node of party h, holding o received from
// party f ("" when h created it), may send it to party to.
func oracleSends(a *agreement.Agreement, h, to, f string, o fedObject) bool {
	var r *agreement.Rule
	for i := range a.Rules {
		if a.Rules[i].From == h && a.Rules[i].To == to {
			r = &a.Rules[i]
		}
	}
	if r == nil || !slices.Contains(r.Types, o.Type) {
		return false
	}
	level := o.TLP
	if level == "" {
		level = r.Unmarked
	}
	if level == "" {
		level = "red"
	}
	if f != "" && f != to {
		var in *agreement.Rule
		for i := range a.Rules {
			if a.Rules[i].From == f && a.Rules[i].To == h {
				in = &a.Rules[i]
			}
		}
		if in == nil || !in.OnwardTransfer || tlpRank[level] > tlpRank["green"] {
			return false
		}
	}
	if tlpRank[level] > tlpRank[r.TLP] {
		return false
	}
	switch level {
	case "red":
		return false
	case "amber", "amber+strict":
		if !slices.Contains(r.Organizations, nodeAuthority(a, to)) {
			return false
		}
	}
	for _, l := range o.Labels {
		if slices.Contains(r.ExcludeLabels, l) {
			return false
		}
	}
	return true
}

// nodeAuthority is the authority that operates party p's node (the
// federation tests run one node per party).
func nodeAuthority(a *agreement.Agreement, p string) string {
	for _, party := range a.Parties {
		if party.ID == p && len(party.Nodes) > 0 {
			return party.Nodes[0].Authority
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// The random objects of the property test: types some rules allow and
// some none does, every TLP 2.0 label and none, and labels some rules
// exclude.
var (
	fedTypes  = []string{"indicator", "malware", "attack-pattern", "vulnerability", "infrastructure", "identity", "tool", "campaign"}
	fedTLPs   = []string{"", "clear", "green", "amber", "amber+strict", "red"}
	fedLabels = []string{"under-investigation", "internal", "unverified", "phishing"}
)

// randomObject returns a valid STIX 2.1 object of a random type, marking
// and labels, created by party origin; n makes its id unique.
func randomObject(r *rand.Rand, origin string, n int) fedObject {
	o := fedObject{Origin: origin, Type: fedTypes[r.IntN(len(fedTypes))], TLP: fedTLPs[r.IntN(len(fedTLPs))]}
	o.ID = fmt.Sprintf("%s--%08x-%04x-4%03x-8%03x-%012x", o.Type, n, r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Int64N(1<<48))
	for _, l := range fedLabels {
		if r.IntN(4) == 0 {
			o.Labels = append(o.Labels, l)
		}
	}
	props := map[string]any{
		"type": o.Type, "spec_version": "2.1", "id": o.ID,
		"created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z",
		"x_fedtest": map[string]any{"origin": origin, "n": n},
	}
	name := fmt.Sprintf("%s %s %d", origin, o.Type, n)
	switch o.Type {
	case "indicator":
		props["pattern"] = fmt.Sprintf("[ipv4-addr:value = '198.51.%d.%d']", n/250%250, n%250)
		props["pattern_type"] = "stix"
		props["valid_from"] = "2026-03-01T00:00:00Z"
	case "malware":
		props["name"] = name
		props["is_family"] = r.IntN(2) == 0
	case "identity":
		props["name"] = name
		props["identity_class"] = "organization"
	default:
		props["name"] = name
	}
	if o.TLP != "" {
		props["object_marking_refs"] = []string{tlp20[o.TLP]}
	}
	if len(o.Labels) > 0 {
		props["labels"] = o.Labels
	}
	raw, err := json.Marshal(props)
	if err != nil {
		panic(err)
	}
	o.Raw = raw
	return o
}

// TestOracle pins the oracle to decisions read by hand from the
// trilateral example's rules, so that the property test's reference is
// itself checked.
func TestOracle(t *testing.T) {
	a := exampleAgreement(t)
	obj := func(origin, typ, tlp string, labels ...string) fedObject {
		return fedObject{ID: fmt.Sprintf("%s-%s-%s-%v", origin, typ, tlp, labels), Origin: origin, Type: typ, TLP: tlp, Labels: labels}
	}
	for _, c := range []struct {
		o    fedObject
		want []string // the parties holding it, sorted
	}{
		// Arcadia sends Borealis up to AMBER; Caledonia only CLEAR indicators.
		{obj("arcadia", "indicator", "clear"), []string{"arcadia", "borealis", "caledonia"}},
		{obj("arcadia", "indicator", "green"), []string{"arcadia", "borealis"}},
		{obj("arcadia", "indicator", ""), []string{"arcadia", "borealis"}}, // unmarked is amber to Borealis, red to Caledonia
		{obj("arcadia", "malware", "clear"), []string{"arcadia", "borealis"}},
		{obj("arcadia", "indicator", "amber"), []string{"arcadia", "borealis"}},
		{obj("arcadia", "indicator", "red"), []string{"arcadia"}},
		// Excluded from Borealis, but Caledonia may relay Arcadia's
		// CLEAR data, and its rule to Borealis does not exclude the label.
		{obj("arcadia", "indicator", "clear", "under-investigation"), []string{"arcadia", "borealis", "caledonia"}},
		{obj("arcadia", "malware", "clear", "under-investigation"), []string{"arcadia"}},
		// Borealis's GREEN malware reaches Caledonia directly; not its
		// attack patterns, which Arcadia may relay, but only as indicators
		// go to Caledonia.
		{obj("borealis", "malware", "green"), []string{"arcadia", "borealis", "caledonia"}},
		{obj("borealis", "attack-pattern", "green"), []string{"arcadia", "borealis"}},
		{obj("borealis", "attack-pattern", "amber"), []string{"arcadia", "borealis"}}, // never onward at AMBER
		{obj("borealis", "attack-pattern", ""), []string{"arcadia", "borealis"}},      // unmarked is green to Arcadia, red to Caledonia (arcadia-to-caledonia)
		{obj("borealis", "indicator", "amber", "internal"), []string{"arcadia", "borealis"}},
		{obj("borealis", "indicator", "green", "internal"), []string{"arcadia", "borealis"}}, // Arcadia relays indicators to Caledonia only at CLEAR
		{obj("borealis", "indicator", "clear", "internal"), []string{"arcadia", "borealis", "caledonia"}},
		{obj("borealis", "identity", "clear"), []string{"arcadia", "borealis"}},
		// Caledonia sends GREEN at most; Borealis excludes unverified and
		// may not get it through Arcadia at AMBER either.
		{obj("caledonia", "infrastructure", "green"), []string{"borealis", "caledonia"}},
		{obj("caledonia", "indicator", "amber"), []string{"caledonia"}},
		{obj("caledonia", "malware", "green", "unverified"), []string{"arcadia", "borealis", "caledonia"}}, // through Arcadia
		{obj("caledonia", "vulnerability", ""), []string{"arcadia", "borealis", "caledonia"}},
		{obj("caledonia", "tool", "clear"), []string{"caledonia"}},
	} {
		holds := oracle(a, []fedObject{c.o})
		var got []string
		for _, p := range sortedKeys(holds) {
			if holds[p][c.o.ID] {
				got = append(got, p)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: held by %v, want %v", c.o.ID, got, c.want)
		}
	}
}

// exampleAgreement parses the embedded trilateral example.
func exampleAgreement(t testing.TB) *agreement.Agreement {
	t.Helper()
	doc, err := examples.FS.ReadFile(examples.Trilateral)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agreement.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
