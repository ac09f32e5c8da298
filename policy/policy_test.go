package policy

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/stix"
)

func loadAgreement(t testing.TB, path string) *agreement.Agreement {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agreement.Parse(doc)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return a
}

func compile(t testing.TB, path, self string) *Policy {
	t.Helper()
	p, err := Compile(loadAgreement(t, path), self)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func object(t testing.TB, js string) *stix.Object {
	t.Helper()
	o, err := stix.Parse([]byte(js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return o
}

// indicator returns the JSON of an indicator with the given id suffix and
// extra properties (a JSON fragment starting with a comma, or "").
func indicator(n int, extra string) string {
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d",`+
		`"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z",`+
		`"pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z"%s}`, n, extra)
}

func marked(ids ...string) string {
	return `,"object_marking_refs":["` + strings.Join(ids, `","`) + `"]`
}

const (
	threeParties = "testdata/three-parties.yaml"

	green       = stix.TLP2Green
	amber       = stix.TLP2Amber
	amberStrict = stix.TLP2AmberStrict
	red         = stix.TLP2Red
)

var (
	toBorealisCERT   = Recipient{Party: "borealis", Organization: "borealis-cert"}
	toBorealisPolice = Recipient{Party: "borealis", Organization: "borealis-police"}
	toAnalyst        = Recipient{Party: "borealis", Organization: "borealis-cert", Individual: "borealis-analyst"}
	toCascadia       = Recipient{Party: "cascadia", Organization: "cascadia-cert"}
	toArcadia        = Recipient{Party: "arcadia", Organization: "arcadia-cert"}
)

// universe is a store for Context.Lookup: objects by id, with the party
// each was received from.
type universe map[string]Ref

func (u universe) lookup(id string) (Ref, bool, error) {
	r, ok := u[id]
	return r, ok, nil
}

// decide is Decide for cases whose Lookup cannot fail.
func decide(t testing.TB, p *Policy, to Recipient, o *stix.Object, ctx Context) Decision {
	t.Helper()
	d, err := Decide(p, to, o, ctx)
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	return d
}

func (u universe) add(t testing.TB, from, js string) string {
	o := object(t, js)
	u[o.ID] = Ref{Object: o, ReceivedFrom: from}
	return o.ID
}

type decideCase struct {
	name   string
	self   string
	to     Recipient
	object string
	from   string
	want   Verdict
	code   Code
	redact []string
}

func runDecideCases(t *testing.T, ctx Context, cases []decideCase) {
	t.Helper()
	policies := map[string]*Policy{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			self := cmpOr(tc.self, "arcadia")
			p := policies[self]
			if p == nil {
				p = compile(t, threeParties, self)
				policies[self] = p
			}
			c := ctx
			c.ReceivedFrom = tc.from
			d := decide(t, p, tc.to, object(t, tc.object), c)
			if d.Verdict != tc.want || d.Code != tc.code || !slices.Equal(d.Redact, tc.redact) {
				t.Errorf("Decide = %v/%v %v (%s), want %v/%v %v", d.Verdict, d.Code, d.Redact, d.Reason(), tc.want, tc.code, tc.redact)
			}
			if (d.Conditions != nil) != (d.Verdict != Deny) {
				t.Errorf("conditions %v with verdict %v: a release carries conditions, a denial none", d.Conditions, d.Verdict)
			}
			if d.Verdict != Deny || tc.code == CodeUnknownRecipient || tc.code == CodeNoRule {
				return
			}
			if d.Rule == "" || !strings.Contains(d.Reason(), "rule "+d.Rule) {
				t.Errorf("reason %q does not name the deciding rule %q", d.Reason(), d.Rule)
			}
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestTLP(t *testing.T) {
	runDecideCases(t, Context{}, []decideCase{
		{name: "clear", to: toCascadia, object: indicator(1, marked(stix.TLP2Clear)), want: Allow},
		{name: "TLP 1.0 white is clear", to: toCascadia, object: indicator(1, marked(stix.TLP1White)), want: Allow},
		{name: "green to the community", to: toCascadia, object: indicator(1, marked(green)), want: Allow},
		{name: "green, any organisation of the party", to: toBorealisPolice, object: indicator(1, marked(green)), want: Allow},
		{name: "TLP 1.0 green", to: toCascadia, object: indicator(1, marked(stix.TLP1Green)), want: Allow},
		{name: "amber above the ceiling", to: toCascadia, object: indicator(1, marked(amber)), code: CodeTLP},
		{name: "amber to a named organisation", to: toBorealisCERT, object: indicator(1, marked(amber)), want: Allow},
		{name: "amber to another organisation", to: toBorealisPolice, object: indicator(1, marked(amber)), code: CodeOrganization},
		{name: "amber to no organisation", to: Recipient{Party: "borealis"}, object: indicator(1, marked(amber)), code: CodeOrganization},
		{name: "TLP 1.0 amber", to: toBorealisPolice, object: indicator(1, marked(stix.TLP1Amber)), code: CodeOrganization},
		{name: "amber+strict to a named organisation", to: toBorealisCERT, object: indicator(1, marked(amberStrict)), want: Allow},
		{name: "OpenCTI amber+strict", to: toBorealisPolice, object: indicator(1, marked(stix.OpenCTIAmberStrict)), code: CodeOrganization},
		{name: "red to an organisation", to: toBorealisCERT, object: indicator(1, marked(red)), code: CodeIndividual},
		{name: "red to a named individual", to: toAnalyst, object: indicator(1, marked(red)), want: Allow},
		{name: "red to an unnamed individual", to: Recipient{Party: "borealis", Organization: "borealis-cert", Individual: "someone"},
			object: indicator(1, marked(red)), code: CodeIndividual},
		{name: "TLP 1.0 red", to: toBorealisCERT, object: indicator(1, marked(stix.TLP1Red)), code: CodeIndividual},
		{name: "most restrictive marking wins", to: toCascadia, object: indicator(1, marked(stix.TLP2Clear, amber)), code: CodeTLP},
		{name: "unmarked counts as the rule says", to: toBorealisCERT, object: indicator(1, ""), want: Allow},
		{name: "unmarked, amber, other organisation", to: toBorealisPolice, object: indicator(1, ""), code: CodeOrganization},
		{name: "unmarked counts as red by default", to: toCascadia, object: indicator(1, ""), code: CodeTLP},
		{name: "unknown markings are not TLP", to: toCascadia,
			object: indicator(1, marked(green, "marking-definition--11111111-1111-4111-8111-111111111111")), want: Allow},
		{name: "malformed markings", to: toCascadia, object: indicator(1, `,"object_marking_refs":"`+green+`"`), code: CodeMalformed},
		{name: "TLP marking definition is public", to: toCascadia, want: Allow,
			object: `{"type":"marking-definition","spec_version":"2.1","id":"` + red + `","created":"2022-10-01T00:00:00.000Z","name":"TLP:RED"}`},
		{name: "other marking definition", to: toCascadia, code: CodeType,
			object: `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--11111111-1111-4111-8111-111111111111","created":"2022-10-01T00:00:00.000Z","name":"Secret"}`},
	})
}

func TestRecipientAndRule(t *testing.T) {
	runDecideCases(t, Context{}, []decideCase{
		{name: "unknown party", to: Recipient{Party: "dystopia"}, object: indicator(1, marked(green)), code: CodeUnknownRecipient},
		{name: "self", to: Recipient{Party: "arcadia"}, object: indicator(1, marked(green)), code: CodeUnknownRecipient},
		{name: "no rule in that direction", self: "cascadia", to: toBorealisCERT, object: indicator(1, marked(green)), code: CodeNoRule},
		{name: "rule of the other direction does not apply", self: "borealis", to: toCascadia, object: indicator(1, marked(green)), code: CodeNoRule},
	})
}

func TestFilters(t *testing.T) {
	malware := func(extra string) string {
		return `{"type":"malware","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-000000000001",` +
			`"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","name":"Wiper","is_family":true` + extra + `}`
	}
	runDecideCases(t, Context{}, []decideCase{
		{name: "type allowed", to: toBorealisCERT, object: malware(marked(green)), want: Allow},
		{name: "type not allowed", to: toCascadia, object: malware(marked(green)), code: CodeType},
		{name: "excluded label", to: toBorealisCERT, object: indicator(1, marked(green)+`,"labels":["apt","under-investigation"]`), code: CodeLabel},
		{name: "other labels", to: toBorealisCERT, object: indicator(1, marked(green)+`,"labels":["apt"]`), want: Allow},
		{name: "label excluded only in its own rule", to: toCascadia, object: indicator(1, marked(green)+`,"labels":["under-investigation"]`), want: Allow},
		{name: "excluded capability", to: toBorealisCERT,
			object: malware(marked(green) + `,"capabilities":["persists-after-system-reboot","exploits-remote-services"]`), code: CodeCapability},
		{name: "other capabilities", to: toBorealisCERT, object: malware(marked(green) + `,"capabilities":["persists-after-system-reboot"]`), want: Allow},
		{name: "PAP within the ceiling", to: toBorealisCERT, object: indicator(1, marked(green, agreement.PAPGreenID)), want: Allow},
		{name: "PAP above the ceiling", to: toBorealisCERT, object: indicator(1, marked(green, agreement.PAPAmberID)), code: CodePAP},
		{name: "malformed labels", to: toBorealisCERT, object: indicator(1, marked(green)+`,"labels":"apt"`), code: CodeMalformed},
	})
}

func TestOnwardTransfer(t *testing.T) {
	runDecideCases(t, Context{}, []decideCase{
		{name: "originated here", to: toCascadia, object: indicator(1, marked(green)), want: Allow},
		{name: "onward allowed by the originator", from: "borealis", to: toCascadia, object: indicator(1, marked(green)), want: Allow},
		{name: "amber is never forwarded", from: "borealis", to: toCascadia, object: indicator(1, marked(amber)), code: CodeOnwardTLP},
		{name: "amber+strict is never forwarded", self: "borealis", from: "arcadia", to: toArcadia,
			object: indicator(1, marked(amberStrict)), code: CodeTLP}, // back to its originator: the ordinary rule decides
		{name: "originator forbids onward transfer", from: "cascadia", to: toBorealisCERT, object: indicator(1, marked(green)), code: CodeOnwardTransfer},
		{name: "back to the originator", from: "cascadia", to: toCascadia, object: indicator(1, marked(green)), want: Allow},
		{name: "from a stranger", from: "dystopia", to: toCascadia, object: indicator(1, marked(green)), code: CodeUnknownOrigin},
		{name: "from a party with no rule to us", self: "cascadia", from: "borealis", to: toArcadia,
			object: indicator(1, marked(green)), code: CodeUnknownOrigin},
	})
}

func TestClosedReferences(t *testing.T) {
	u := universe{}
	greenInd := u.add(t, "", indicator(1, marked(green)))
	redInd := u.add(t, "", indicator(2, marked(red)))
	fromCascadia := u.add(t, "cascadia", indicator(3, marked(green)))
	fromBorealis := u.add(t, "borealis", indicator(4, marked(amber)))
	malware := u.add(t, "", `{"type":"malware","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-000000000009",`+
		`"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","name":"Wiper","is_family":true`+marked(green)+`}`)
	rel := func(src, dst string) string {
		return `{"type":"relationship","spec_version":"2.1","id":"relationship--00000000-0000-4000-8000-000000000001",` +
			`"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","relationship_type":"indicates",` +
			`"source_ref":"` + src + `","target_ref":"` + dst + `"` + marked(green) + `}`
	}
	report := func(n int, refs ...string) string {
		return fmt.Sprintf(`{"type":"report","spec_version":"2.1","id":"report--00000000-0000-4000-8000-%012d",`+
			`"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","name":"R","published":"2026-03-01T00:00:00Z",`+
			`"object_refs":["%s"]%s}`, n, strings.Join(refs, `","`), marked(green))
	}
	sighting := func(of string) string {
		return `{"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-000000000001",` +
			`"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","sighting_of_ref":"` + of + `"` + marked(green) + `}`
	}
	// A report that contains itself, and one that references a report
	// nested too deep to follow.
	u.add(t, "", report(9, "report--00000000-0000-4000-8000-000000000009"))
	runDecideCases(t, Context{Lookup: u.lookup}, []decideCase{
		{name: "both ends releasable", to: toBorealisCERT, object: rel(greenInd, malware), want: Allow},
		{name: "TLP:RED end, TLP:GREEN relationship", to: toBorealisCERT, object: rel(greenInd, redInd), code: CodeReference},
		{name: "end of a type the rule does not allow", to: toCascadia, object: rel(greenInd, malware), code: CodeReference},
		{name: "missing end", to: toBorealisCERT, object: rel(greenInd, "malware--00000000-0000-4000-8000-00000000ffff"), code: CodeReferenceMissing},
		{name: "end received from a party that forbids onward transfer", to: toBorealisCERT, object: rel(greenInd, fromCascadia), code: CodeReference},
		{name: "end received from the recipient", to: toCascadia, object: rel(greenInd, fromCascadia), want: Allow},
		{name: "report of releasable objects", to: toBorealisCERT, object: report(1, greenInd, malware, stix.TLP2Green), want: Allow},
		{name: "report with one withheld object", to: toBorealisCERT, object: report(1, greenInd, redInd), code: CodeReference},
		{name: "report that contains itself", to: toBorealisCERT, object: report(9, "report--00000000-0000-4000-8000-000000000009"), code: CodeReference},
		// Arcadia's rule lets Borealis send sightings back; Borealis's does not.
		{name: "sighting back to an originator that wants them", self: "borealis", to: toArcadia,
			object: sighting(u.add(t, "arcadia", indicator(5, marked(green)))), want: Allow},
		{name: "sighting back to an originator that does not", to: toBorealisCERT, object: sighting(fromBorealis), code: CodeSightingsBack},
		{name: "sighting of another party's data", to: toBorealisCERT, object: sighting(fromCascadia), code: CodeReference},
	})
	runDecideCases(t, Context{}, []decideCase{
		{name: "no lookup", to: toBorealisCERT, object: rel(greenInd, malware), code: CodeReferenceMissing},
	})
}

func TestRevocation(t *testing.T) {
	revoked := indicator(1, marked(green)+`,"revoked":true`)
	never := Context{Released: func(string) bool { return false }}
	before := Context{Released: func(id string) bool { return id == "indicator--00000000-0000-4000-8000-000000000001" }}
	runDecideCases(t, never, []decideCase{
		{name: "never released", to: toBorealisCERT, object: revoked, code: CodeNotReleased},
		{name: "not revoked", to: toBorealisCERT, object: indicator(1, marked(green)), want: Allow},
	})
	runDecideCases(t, before, []decideCase{
		{name: "released before", to: toBorealisCERT, object: revoked, want: Allow},
		{name: "released before, but now over the ceiling", to: toCascadia, object: indicator(1, marked(amber)+`,"revoked":true`), code: CodeTLP},
	})
	runDecideCases(t, Context{}, []decideCase{
		{name: "no disclosure history", to: toBorealisCERT, object: revoked, want: Allow},
	})
}

func TestGranularMarkings(t *testing.T) {
	gm := func(ref string, sels ...string) string {
		return `{"marking_ref":"` + ref + `","selectors":["` + strings.Join(sels, `","`) + `"]}`
	}
	with := func(gms ...string) string {
		return indicator(1, marked(green)+`,"description":"d","name":"n","external_references":[{"source_name":"s","url":"https://x.example"}],`+
			`"granular_markings":[`+strings.Join(gms, ",")+`]`)
	}
	runDecideCases(t, Context{}, []decideCase{
		{name: "marked property within reach", to: toCascadia, object: with(gm(green, "description")), want: Allow},
		{name: "marked property over the ceiling", to: toCascadia, object: with(gm(amber, "description")), want: Redact, code: CodeRedacted, redact: []string{"description"}},
		{name: "nested selector removes the top-level property", to: toCascadia,
			object: with(gm(red, "external_references.[0].url", "description")), want: Redact, code: CodeRedacted,
			redact: []string{"external_references", "description"}},
		{name: "amber property, named organisation", to: toBorealisCERT, object: with(gm(amber, "description")), want: Allow},
		{name: "amber property, other organisation", to: toBorealisPolice, object: with(gm(amber, "description")), want: Redact,
			code: CodeRedacted, redact: []string{"description"}},
		{name: "PAP over the ceiling", to: toBorealisCERT, object: with(gm(agreement.PAPRedID, "name")), want: Redact,
			code: CodeRedacted, redact: []string{"name"}},
		{name: "required property", to: toCascadia, object: with(gm(red, "pattern")), code: CodeMarkedRequired},
		{name: "absent property", to: toCascadia, object: with(gm(red, "confidence")), want: Allow},
		{name: "no selectors", to: toCascadia, object: with(`{"marking_ref":"` + red + `","selectors":[]}`), code: CodeMalformed},
	})
}

func TestApply(t *testing.T) {
	p := compile(t, threeParties, "arcadia")
	o := object(t, indicator(1, marked(green)+`,"description":"secret","name":"n",`+
		`"granular_markings":[{"marking_ref":"`+red+`","selectors":["description"]},{"marking_ref":"`+green+`","selectors":["name"]}]`))
	d := decide(t, p, toCascadia, o, Context{})
	if d.Verdict != Redact {
		t.Fatalf("Decide = %v (%s), want redact", d.Verdict, d.Reason())
	}
	r, err := Apply(o, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Props["description"]; ok || strings.Contains(string(r.Raw), "secret") {
		t.Errorf("redacted object still has the description: %s", r.Raw)
	}
	if gms, _ := r.Props["granular_markings"].([]any); len(gms) != 1 {
		t.Errorf("granular_markings = %v, want only the marking of name", r.Props["granular_markings"])
	}
	if _, ok := o.Props["description"]; !ok {
		t.Error("Apply changed the original object")
	}
	if d := decide(t, p, toCascadia, r, Context{}); d.Verdict != Allow {
		t.Errorf("the redacted object: %v (%s), want allow", d.Verdict, d.Reason())
	}
	if _, err := Apply(o, Decision{}); err == nil {
		t.Error("Apply released an object on a denial")
	}
}

func TestConditions(t *testing.T) {
	p := compile(t, threeParties, "arcadia")
	d := decide(t, p, toBorealisCERT, object(t, indicator(1, marked(green))), Context{})
	if d.Conditions == nil || d.Rule != "arcadia-to-borealis" || !d.Conditions.Confidential ||
		d.Conditions.RetentionDays != 365 || d.Conditions.ThirdParties != agreement.ThirdPartiesWrittenConsent {
		t.Errorf("Decide = %+v, want the conditions of arcadia-to-borealis", d)
	}
}

func TestCompile(t *testing.T) {
	if _, err := Compile(loadAgreement(t, threeParties), "dystopia"); err == nil {
		t.Error("Compile accepted a party that is not in the agreement")
	}
}

func TestCodeNames(t *testing.T) {
	seen := map[string]Code{}
	for c := CodeAllowed; c <= CodeMarkedRequired; c++ {
		name := c.String()
		if name == "" || strings.HasPrefix(name, "code(") {
			t.Errorf("code %d has no name", c)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("codes %d and %d share the name %q", prev, c, name)
		}
		seen[name] = c
		if c.explain(Decision{}) == "denied" {
			t.Errorf("code %v has no explanation", c)
		}
	}
}

// TestDecideLookupError: a store that cannot answer Lookup decides
// nothing. Decide returns the error, never a deny or an allow, for an
// object whose decision needs the lookup, and decides as usual for one
// that does not.
func TestDecideLookupError(t *testing.T) {
	p := compile(t, threeParties, "arcadia")
	outage := errors.New("store outage")
	ctx := Context{Lookup: func(string) (Ref, bool, error) { return Ref{}, false, outage }}
	rel := object(t, `{"type":"relationship","spec_version":"2.1","id":"relationship--00000000-0000-4000-8000-000000000009",`+
		`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","relationship_type":"indicates",`+
		`"source_ref":"indicator--00000000-0000-4000-8000-000000000001","target_ref":"malware--00000000-0000-4000-8000-000000000002",`+
		`"object_marking_refs":["`+green+`"]}`)
	d, err := Decide(p, toBorealisCERT, rel, ctx)
	if !errors.Is(err, outage) || !reflect.DeepEqual(d, Decision{}) {
		t.Errorf("Decide with a failing lookup = %+v, %v; want the zero Decision and the outage", d, err)
	}
	if d, err := Decide(p, toBorealisCERT, object(t, indicator(1, marked(green))), ctx); err != nil || d.Verdict != Allow {
		t.Errorf("Decide of an indicator, which needs no lookup = %v, %v; want allow", d.Verdict, err)
	}
}
