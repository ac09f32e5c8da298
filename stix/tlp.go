package stix

import "encoding/json"

// TLP is a Traffic Light Protocol 2.0 level (FIRST TLP 2.0). The zero value,
// TLPNone, means that an object carries no TLP marking. Levels are ordered
// from least to most restrictive, so a ceiling check is a comparison.
type TLP uint8

// TLP 2.0 levels, least restrictive first.
const (
	TLPNone TLP = iota
	TLPClear
	TLPGreen
	TLPAmber
	TLPAmberStrict
	TLPRed
)

var tlpNames = [...]string{"", "TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"}

// String returns the label as FIRST writes it ("TLP:AMBER+STRICT"), or "" for TLPNone.
func (t TLP) String() string {
	if int(t) < len(tlpNames) {
		return tlpNames[t]
	}
	return ""
}

// ParseTLP reads a label such as "TLP:AMBER+STRICT", "amber+strict" or the
// TLP 1.0 "white" (which TLP 2.0 calls CLEAR).
func ParseTLP(s string) (TLP, bool) {
	switch normalizeTLP(s) {
	case "clear", "white":
		return TLPClear, true
	case "green":
		return TLPGreen, true
	case "amber":
		return TLPAmber, true
	case "amber+strict":
		return TLPAmberStrict, true
	case "red":
		return TLPRed, true
	}
	return TLPNone, false
}

func normalizeTLP(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	s = string(b)
	if len(s) > 4 && s[:4] == "tlp:" {
		s = s[4:]
	}
	return s
}

// Marking-definition ids of the TLP markings. The TLP 2.0 ids are those OASIS
// published as common objects (extension-definition--60a3c5c5-...); the TLP 1.0
// ids are fixed by STIX 2.1 §7.2.1.4.
const (
	TLP2Clear       = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	TLP2Green       = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	TLP2Amber       = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	TLP2AmberStrict = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	TLP2Red         = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

	TLP1White = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
	TLP1Green = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
	TLP1Amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	TLP1Red   = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"

	// OpenCTIAmberStrict is the id OpenCTI uses for TLP:AMBER+STRICT, which
	// predates the OASIS object; feeds from OpenCTI carry it.
	OpenCTIAmberStrict = "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37"
)

var tlpByID = map[string]TLP{
	TLP2Clear: TLPClear, TLP2Green: TLPGreen, TLP2Amber: TLPAmber,
	TLP2AmberStrict: TLPAmberStrict, TLP2Red: TLPRed,
	TLP1White: TLPClear, TLP1Green: TLPGreen, TLP1Amber: TLPAmber, TLP1Red: TLPRed,
	OpenCTIAmberStrict: TLPAmberStrict,
}

// TLPOf reports the TLP level that a marking-definition id stands for. It
// knows the TLP 2.0 and TLP 1.0 ids; TLP 1.0 levels map onto TLP 2.0 (WHITE
// becomes CLEAR).
func TLPOf(markingID string) (TLP, bool) {
	t, ok := tlpByID[markingID]
	return t, ok
}

// TLP2ID returns the OASIS TLP 2.0 marking-definition id for a level.
func TLP2ID(t TLP) string {
	switch t {
	case TLPClear:
		return TLP2Clear
	case TLPGreen:
		return TLP2Green
	case TLPAmber:
		return TLP2Amber
	case TLPAmberStrict:
		return TLP2AmberStrict
	case TLPRed:
		return TLP2Red
	}
	return ""
}

// TLP2ExtensionID is the id of the OASIS extension definition of TLP 2.0
// (cti-stix-common-objects, extension-definition-specifications/tlp-2.0).
const TLP2ExtensionID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

// The published marking definitions, exactly as their sources write them:
// TLP 1.0 from STIX 2.1 §7.2.1.4, TLP 2.0 and its extension definition from
// OASIS cti-stix-common-objects.
var (
	tlp1JSON = map[string]string{
		TLP1White: `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:WHITE","definition":{"tlp":"white"}}`,
		TLP1Green: `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:GREEN","definition":{"tlp":"green"}}`,
		TLP1Amber: `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:AMBER","definition":{"tlp":"amber"}}`,
		TLP1Red:   `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:RED","definition":{"tlp":"red"}}`,
	}
	tlp2JSON = map[string]string{
		TLP2Clear:       `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487","created":"2022-10-01T00:00:00.000Z","name":"TLP:CLEAR","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"clear"}}}`,
		TLP2Green:       `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb","created":"2022-10-01T00:00:00.000Z","name":"TLP:GREEN","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"green"}}}`,
		TLP2Amber:       `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421","created":"2022-10-01T00:00:00.000Z","name":"TLP:AMBER","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber"}}}`,
		TLP2AmberStrict: `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003","created":"2022-10-01T00:00:00.000Z","name":"TLP:AMBER+STRICT","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber+strict"}}}`,
		TLP2Red:         `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1","created":"2022-10-01T00:00:00.000Z","name":"TLP:RED","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"red"}}}`,
	}
	tlp2ExtensionJSON = `{"id":"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d","type":"extension-definition","spec_version":"2.1","name":"TLP 2.0","description":"This defines TLP 2.0 as a STIX extension","created":"2022-10-01T00:00:00.000Z","modified":"2022-10-01T00:00:00.000Z","created_by_ref":"identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01","schema":"https://github.com/oasis-open/cti-stix-common-objects/tree/master/extension-definition-specifications/tlp-2.0","version":"1.0.0","extension_types":["property-extension"]}`
)

// tlpOrder lists the published markings, TLP 1.0 then TLP 2.0, each from
// least to most restrictive.
var tlpOrder = []string{
	TLP1White, TLP1Green, TLP1Amber, TLP1Red,
	TLP2Clear, TLP2Green, TLP2Amber, TLP2AmberStrict, TLP2Red,
}

// TLPMarkingDefinitions returns the four TLP 1.0 marking definitions of
// STIX 2.1 §7.2.1.4 and the five TLP 2.0 marking definitions that OASIS
// publishes, in that order, each from least to most restrictive. The
// objects are new on every call.
func TLPMarkingDefinitions() []*Object {
	objs := make([]*Object, 0, len(tlpOrder))
	for _, id := range tlpOrder {
		objs = append(objs, mustParse(publishedTLP(id)))
	}
	return objs
}

// TLP2ExtensionDefinition returns the OASIS extension definition that the
// TLP 2.0 marking definitions use.
func TLP2ExtensionDefinition() *Object { return mustParse(tlp2ExtensionJSON) }

func publishedTLP(id string) string {
	if s, ok := tlp1JSON[id]; ok {
		return s
	}
	return tlp2JSON[id]
}

// mustParse parses the constant objects above; a failure is a defect in
// this package, which the tests catch.
func mustParse(s string) *Object {
	o, err := Parse([]byte(s))
	if err != nil {
		panic("stix: a published marking does not parse: " + err.Error())
	}
	return o
}

// tlpMarking checks that a marking definition claiming TLP is the published
// one (§7.2.1.4: "Other instances of tlp-marking MUST NOT be used or
// created"), compared in canonical form.
func (v *validator) tlpMarking(m map[string]any) {
	id, _ := m["id"].(string)
	want := publishedTLP(id)
	if want == "" && m["definition_type"] == "tlp" {
		v.failAt("id", "tlp", "a marking definition of definition_type tlp must be one of the four TLP 1.0 marking definitions of STIX 2.1 §7.2.1.4 (%s, %s, %s, %s)", TLP1White, TLP1Green, TLP1Amber, TLP1Red)
		return
	}
	if want == "" {
		return
	}
	got, err := canonicalMap(m)
	if err != nil {
		return // the value checks report why
	}
	wantCanon, _ := Canonical([]byte(want))
	if string(got) != string(wantCanon) {
		v.fail("tlp", "%s is the id of a published TLP marking definition, and this object differs from it; use the published object exactly: %s", id, want)
	}
}

func canonicalMap(m map[string]any) ([]byte, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return Canonical(raw)
}

// TLP returns the most restrictive TLP level among the object's
// object_marking_refs, or TLPNone. Marking definitions that TLPOf does not
// know (statements, PAP, ...) are ignored.
func (o *Object) TLP() TLP {
	level := TLPNone
	for _, id := range o.MarkingRefs() {
		if t, ok := TLPOf(id); ok && t > level {
			level = t
		}
	}
	return level
}
