package policy

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/stix"
	"pgregory.net/rapid"
)

// The property test generates agreements, objects and contexts, and checks
// every decision against oracle, a deliberately plain restatement of the
// rules in the package documentation that shares no code with Decide.
// Run it with more cases with -rapid.checks=10000.

var (
	// Level names in order; a level's rank is its index.
	oracleTLPs = []string{"clear", "green", "amber", "amber+strict", "red"}
	oraclePAPs = []string{"clear", "green", "amber", "red"}

	// The marking ids, written out from the TLP 2.0 and STIX 2.1 texts and
	// OpenCTI's convention, independently of the stix and agreement tables.
	oracleTLPByID = map[string]string{
		"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
		"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
		"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
		"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
		"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
		"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
		"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
		"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
		"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
		"marking-definition--826578e1-40ad-459f-bc73-ede076f81f37": "amber+strict",
	}
	oraclePAPByID = map[string]string{
		"marking-definition--4cdff7eb-acb8-543f-8573-829eb9fe8b34": "clear",
		"marking-definition--89484dde-e3d2-547f-a6c6-d14824429eb1": "green",
		"marking-definition--a6f20d4d-0360-59b6-ba22-3b48707828b1": "amber",
		"marking-definition--4e4e3b84-de45-53df-9d9b-b21207699fd8": "red",
	}
	otherMarking = "marking-definition--11111111-1111-4111-8111-111111111111"

	oracleRequired = map[string][]string{
		"indicator":    {"pattern", "pattern_type", "valid_from"},
		"malware":      {"is_family"},
		"relationship": {"relationship_type", "source_ref", "target_ref"},
		"report":       {"name", "published", "object_refs"},
		"sighting":     {"sighting_of_ref"},
	}
	oracleAlwaysKept = []string{"type", "id", "spec_version", "created", "modified", "object_marking_refs", "granular_markings"}
)

func rank(levels []string, l string) int { return slices.Index(levels, l) }

// oracle says whether self may send o to to, and which top-level
// properties must be removed first.
func oracle(a *agreement.Agreement, self string, to Recipient, o *stix.Object, from string, c Context, depth int) (bool, map[string]bool) {
	if to.Party == self {
		return false, nil
	}
	if _, ok := a.Party(to.Party); !ok {
		return false, nil
	}
	r, ok := a.Rule(self, to.Party)
	if !ok {
		return false, nil
	}
	// The standard TLP and PAP marking definitions are public.
	if o.Type == "marking-definition" && (oracleTLPByID[o.ID] != "" || oraclePAPByID[o.ID] != "") {
		return true, map[string]bool{}
	}

	tlp, pap := "", ""
	refs, _ := o.Props["object_marking_refs"].([]any)
	for _, x := range refs {
		id := x.(string)
		if l, ok := oracleTLPByID[id]; ok && rank(oracleTLPs, l) > rank(oracleTLPs, tlp) {
			tlp = l
		}
		if l, ok := oraclePAPByID[id]; ok && rank(oraclePAPs, l) > rank(oraclePAPs, pap) {
			pap = l
		}
	}
	if tlp == "" {
		tlp = r.Unmarked
		if tlp == "" {
			tlp = "red"
		}
	}

	if o.Props["revoked"] == true && c.Released != nil && !c.Released(o.ID) {
		return false, nil
	}

	if from != "" && from != self && from != to.Party {
		in, ok := a.Rule(from, self)
		if !ok || !in.OnwardTransfer {
			return false, nil
		}
		if tlp != "clear" && tlp != "green" {
			return false, nil
		}
	}

	sightingBack := false
	if o.Type == "sighting" && c.Lookup != nil {
		if ref, ok, _ := c.Lookup(o.Props["sighting_of_ref"].(string)); ok && ref.ReceivedFrom == to.Party && ref.ReceivedFrom != "" {
			sightingBack = true
			back, ok := a.Rule(to.Party, self)
			if !ok || !back.SightingsToOriginator {
				return false, nil
			}
		}
	}
	if !sightingBack && !slices.Contains(r.Types, o.Type) {
		return false, nil
	}

	if !oracleMayReceive(r, to, tlp) {
		return false, nil
	}
	if pap != "" && rank(oraclePAPs, pap) > rank(oraclePAPs, r.PAP) {
		return false, nil
	}
	for _, prop := range []string{"labels", "capabilities"} {
		excluded := r.ExcludeLabels
		if prop == "capabilities" {
			excluded = r.ExcludeCapabilities
		}
		list, _ := o.Props[prop].([]any)
		for _, x := range list {
			if slices.Contains(excluded, x.(string)) {
				return false, nil
			}
		}
	}

	var refIDs []string
	for _, prop := range []string{"source_ref", "target_ref", "sighting_of_ref", "observed_data_refs", "where_sighted_refs", "object_refs"} {
		if prop == "object_refs" && !slices.Contains([]string{"report", "note", "opinion", "grouping"}, o.Type) {
			continue
		}
		if prop != "object_refs" && o.Type != "relationship" && o.Type != "sighting" {
			continue
		}
		switch v := o.Props[prop].(type) {
		case string:
			refIDs = append(refIDs, v)
		case []any:
			for _, x := range v {
				refIDs = append(refIDs, x.(string))
			}
		}
	}
	for _, id := range refIDs {
		if oracleTLPByID[id] != "" || oraclePAPByID[id] != "" {
			continue
		}
		if depth >= 8 || c.Lookup == nil {
			return false, nil
		}
		ref, ok, _ := c.Lookup(id)
		if !ok {
			return false, nil
		}
		if ref.ReceivedFrom == to.Party {
			continue
		}
		if ok, _ := oracle(a, self, to, ref.Object, ref.ReceivedFrom, c, depth+1); !ok {
			return false, nil
		}
	}

	redact := map[string]bool{}
	gms, _ := o.Props["granular_markings"].([]any)
	for _, x := range gms {
		gm := x.(map[string]any)
		ref := gm["marking_ref"].(string)
		hidden := false
		if l, ok := oracleTLPByID[ref]; ok {
			hidden = !oracleMayReceive(r, to, l)
		} else if l, ok := oraclePAPByID[ref]; ok {
			hidden = rank(oraclePAPs, l) > rank(oraclePAPs, r.PAP)
		}
		if !hidden {
			continue
		}
		for _, s := range gm["selectors"].([]any) {
			top := strings.Split(s.(string), ".")[0]
			if slices.Contains(oracleAlwaysKept, top) || slices.Contains(oracleRequired[o.Type], top) {
				return false, nil
			}
			if _, ok := o.Props[top]; ok {
				redact[top] = true
			}
		}
	}
	return true, redact
}

// oracleMayReceive restates TLP 2.0 for one rule.
func oracleMayReceive(r *agreement.Rule, to Recipient, tlp string) bool {
	if rank(oracleTLPs, tlp) > rank(oracleTLPs, r.TLP) {
		return false
	}
	switch tlp {
	case "clear", "green":
		return true
	case "amber", "amber+strict":
		return to.Organization != "" && slices.Contains(r.Organizations, to.Organization)
	}
	return to.Individual != "" && slices.Contains(r.Individuals, to.Individual)
}

var (
	genParties = []string{"p0", "p1", "p2"}
	genTypes   = []string{"indicator", "malware", "relationship", "report", "sighting"}
	genLabels  = []string{"l1", "l2", "l3"}
	genCaps    = []string{"c1", "c2"}
	genSels    = []string{"description", "name", "pattern", "labels", "external_references.[0].url", "confidence", "id"}
	allMarks   = slices.Concat(slices.Sorted(maps.Keys(oracleTLPByID)), slices.Sorted(maps.Keys(oraclePAPByID)), []string{otherMarking})
)

// subset draws each element of from with probability 1 - 1/n.
func subset[T any](t *rapid.T, from []T, n int, label string) []T {
	var out []T
	for i, x := range from {
		if often(t, n, fmt.Sprintf("%s%d", label, i)) {
			out = append(out, x)
		}
	}
	return out
}

// often is true with probability 1 - 1/n.
// (rapid leans towards small values, so the rare case is the largest.)
func often(t *rapid.T, n int, label string) bool { return rapid.IntRange(0, n-1).Draw(t, label) < n-1 }

// mostly draws the first element with probability 1 - 1/n, else any.
func mostly[T any](t *rapid.T, n int, first T, rest []T, label string) T {
	if often(t, n, label+"-usual") {
		return first
	}
	return rapid.SampledFrom(append([]T{first}, rest...)).Draw(t, label)
}

func genAgreement(t *rapid.T) *agreement.Agreement {
	a := &agreement.Agreement{ID: "gen", Version: 1}
	for _, p := range genParties {
		a.Parties = append(a.Parties, agreement.Party{ID: p, Authorities: []agreement.Authority{
			{ID: p + "-cert", People: []agreement.Person{{ID: p + "-head"}}},
			{ID: p + "-police"},
		}})
	}
	for _, from := range genParties {
		for _, to := range genParties {
			if from == to || !often(t, 5, "rule") {
				continue
			}
			r := agreement.Rule{
				ID: from + "-to-" + to, From: from, To: to,
				Types:                 subset(t, genTypes, 4, "type"),
				TLP:                   rapid.SampledFrom(oracleTLPs).Draw(t, "tlp"),
				Unmarked:              rapid.SampledFrom(append([]string{""}, oracleTLPs...)).Draw(t, "unmarked"),
				PAP:                   rapid.SampledFrom(oraclePAPs).Draw(t, "pap"),
				ExcludeLabels:         subset(t, genLabels, 2, "label"),
				ExcludeCapabilities:   subset(t, genCaps, 2, "cap"),
				SightingsToOriginator: rapid.Bool().Draw(t, "sightings"),
				OnwardTransfer:        rapid.Bool().Draw(t, "onward"),
				Conditions:            agreement.Conditions{Purposes: []string{"network-defence"}, ThirdParties: "written-consent", RetentionDays: 1},
			}
			if rank(oracleTLPs, r.TLP) >= rank(oracleTLPs, "amber") {
				r.Organizations = subset(t, []string{to + "-cert", to + "-police"}, 2, "org")
			}
			if r.TLP == "red" {
				r.Individuals = []string{to + "-head"}
			}
			a.Rules = append(a.Rules, r)
		}
	}
	return a
}

// genObject draws an object of type typ whose references are drawn from refs.
func genObject(t *rapid.T, n int, typ string, refs []string) *stix.Object {
	props := map[string]any{
		"type": typ, "spec_version": "2.1", "id": fmt.Sprintf("%s--00000000-0000-4000-8000-%012d", typ, n),
		"created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
		"name": "n", "description": "d",
	}
	switch typ {
	case "indicator":
		props["pattern"], props["pattern_type"], props["valid_from"] = "[ipv4-addr:value = '192.0.2.1']", "stix", "2026-01-01T00:00:00Z"
	case "malware":
		props["is_family"] = true
		if caps := subset(t, genCaps, 2, "has-cap"); len(caps) > 0 {
			props["capabilities"] = caps
		}
	case "relationship":
		props["relationship_type"] = "indicates"
		props["source_ref"] = rapid.SampledFrom(refs).Draw(t, "source")
		props["target_ref"] = rapid.SampledFrom(refs).Draw(t, "target")
	case "report":
		props["published"] = "2026-01-01T00:00:00Z"
		props["object_refs"] = rapid.SliceOfN(rapid.SampledFrom(refs), 1, 3).Draw(t, "object_refs")
	case "sighting":
		props["sighting_of_ref"] = rapid.SampledFrom(refs).Draw(t, "sighting_of")
	}
	if m := rapid.SliceOfN(rapid.SampledFrom(allMarks), 0, 2).Draw(t, "marks"); len(m) > 0 {
		props["object_marking_refs"] = m
	}
	if l := rapid.SliceOfNDistinct(rapid.SampledFrom(genLabels), 0, 1, rapid.ID[string]).Draw(t, "labels"); len(l) > 0 {
		props["labels"] = l
	}
	if rapid.Bool().Draw(t, "external") {
		props["external_references"] = []any{map[string]any{"source_name": "s", "url": "https://x.example"}}
	}
	if rapid.IntRange(0, 3).Draw(t, "revoked") == 0 {
		props["revoked"] = true
	}
	var gms []any
	for range rapid.IntRange(0, 2).Draw(t, "granular") {
		gms = append(gms, map[string]any{
			"marking_ref": rapid.SampledFrom(allMarks).Draw(t, "gm-ref"),
			"selectors":   rapid.SliceOfNDistinct(rapid.SampledFrom(genSels), 1, 2, rapid.ID[string]).Draw(t, "gm-sel"),
		})
	}
	if len(gms) > 0 {
		props["granular_markings"] = gms
	}
	// Decide reads objects as stix.Parse decodes them.
	raw, err := json.Marshal(props)
	if err != nil {
		t.Fatal(err)
	}
	o, err := stix.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestDecideAgreesWithOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := genAgreement(t)
		self := rapid.SampledFrom(genParties).Draw(t, "self")
		p, err := Compile(a, self)
		if err != nil {
			t.Fatal(err)
		}
		origins := []string{"", "p0", "p1", "p2", "stranger"}

		u := universe{}
		var ids []string
		for i := range rapid.IntRange(1, 4).Draw(t, "leaves") {
			o := genObject(t, i, rapid.SampledFrom([]string{"indicator", "malware"}).Draw(t, "leaf-type"), nil)
			u[o.ID] = Ref{Object: o, ReceivedFrom: mostly(t, 2, "", origins[1:], "leaf-from")}
			ids = append(ids, o.ID)
		}
		mid := genObject(t, 10, rapid.SampledFrom([]string{"relationship", "report"}).Draw(t, "mid-type"), ids)
		u[mid.ID] = Ref{Object: mid, ReceivedFrom: mostly(t, 2, "", origins[1:], "mid-from")}
		refs := append(ids, mid.ID, "indicator--00000000-0000-4000-8000-00000000ffff", stix.TLP2Green)
		o := genObject(t, 20, rapid.SampledFrom(genTypes).Draw(t, "type"), refs)

		ctx := Context{ReceivedFrom: mostly(t, 2, "", origins[1:], "from")}
		if often(t, 6, "lookup") {
			ctx.Lookup = u.lookup
		}
		if rapid.Bool().Draw(t, "has-released") {
			released := rapid.Bool().Draw(t, "released")
			ctx.Released = func(string) bool { return released }
		}
		others := slices.DeleteFunc(slices.Clone(genParties), func(p string) bool { return p == self })
		party := mostly(t, 10, rapid.SampledFrom(others).Draw(t, "other"), []string{self, "stranger"}, "to")
		to := Recipient{
			Party:        party,
			Organization: mostly(t, 3, party+"-cert", []string{"", party + "-police", "p9-cert"}, "org"),
			Individual:   mostly(t, 3, "", []string{party + "-head", "p9-head"}, "individual"),
		}

		d, err := Decide(p, to, o, ctx)
		if err != nil {
			t.Fatalf("Decide: %v", err)
		}
		ok, redact := oracle(a, self, to, o, ctx.ReceivedFrom, ctx, 0)
		got := map[string]bool{}
		for _, r := range d.Redact {
			got[r] = true
		}
		if (d.Verdict != Deny) != ok || !maps.Equal(got, redact) || (d.Verdict == Redact) != (len(redact) > 0) {
			t.Fatalf("Decide = %v %v (%s); oracle: release %v, redact %v\nobject: %s", d.Verdict, d.Redact, d.Reason(), ok, redact, o.Raw)
		}
	})
}
