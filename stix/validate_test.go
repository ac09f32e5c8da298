package stix

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

const baseIndicator = `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
	"created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z",
	"pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"`

// TestValidateRules covers rules of the common properties one at a time,
// each as a property added to a valid indicator.
func TestValidateRules(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		want  []string
	}{
		{"valid", ``, nil},
		{"more precision is fine", `,"created":"2016-04-06T20:03:48.000123Z","modified":"2016-04-06T20:03:48.000123Z"`, nil},
		{"confidence bounds", `,"confidence":0`, nil},
		{"confidence negative", `,"confidence":-1`, []string{"confidence (range)"}},
		{"confidence string", `,"confidence":"high"`, []string{"confidence (type)"}},
		{"lang ok", `,"lang":"de-CH"`, nil},
		{"labels not strings", `,"labels":["a",1]`, []string{"labels[1] (type)"}},
		{"external reference hashes", `,"external_references":[{"source_name":"x","url":"https://x","hashes":{"SHA-256":"00"}}]`, []string{"external_references[0].hashes.SHA-256 (hash)"}},
		{"marking refs itself", `,"object_marking_refs":"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"`, []string{"object_marking_refs (type)"}},
		{"granular selector index", `,"labels":["a"],"granular_markings":[{"lang":"fr","selectors":["labels.[0]","labels.[01]","labels.0","pattern.x"]}]`,
			[]string{"granular_markings[0].selectors[1] (selector)", "granular_markings[0].selectors[2] (selector)", "granular_markings[0].selectors[3] (selector)"}},
		{"granular unknown key", `,"granular_markings":[{"lang":"fr","selectors":["pattern"],"note":"x"}]`, []string{"granular_markings[0].note (unknown-property)"}},
		{"extensions empty", `,"extensions":{}`, []string{"extensions (empty-dict)"}},
		{"extension id malformed", `,"extensions":{"extension-definition--1234":{"extension_type":"property-extension"}}`, []string{"extensions.extension-definition--1234 (extension-name)"}},
		{"extension property names", `,"extensions":{"extension-definition--fb9c968a-745b-4ade-9b25-c324172197f4":{"extension_type":"property-extension","Rank":1,"a_ref":"x"}}`,
			[]string{"extensions.extension-definition--fb9c968a-745b-4ade-9b25-c324172197f4.Rank (property-name)"}},
		{"deprecated custom extension", `,"extensions":{"x-acme-ext":{"a":1}}`, nil},
		{"custom refs are only warned about", `,"x_acme_refs":["identity--f431f809-377b-45e0-aa1c-6a4751cae5ff","nope"]`, nil},
		{"custom refs list empty", `,"x_acme_refs":[]`, []string{"x_acme_refs (empty-list)"}},
		{"custom empty list", `,"x_acme_list":[]`, []string{"x_acme_list (empty-list)"}},
		{"kill chain phase", `,"kill_chain_phases":[{"kill_chain_name":"lockheed-martin-cyber-kill-chain"}]`, []string{"kill_chain_phases[0].phase_name (required)"}},
		{"not a STIX 2.1 pattern", `,"pattern":"[ipv4-addr:value = ]"`, []string{"pattern (pattern)"}},
		{"other pattern languages are not parsed", `,"pattern_type":"yara","pattern":"rule x {"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := merged(t, baseIndicator+"}", "{"+strings.TrimPrefix(tt.extra, ",")+"}")
			if got := violations(Validate(o)); !slices.Equal(got, tt.want) {
				t.Errorf("violations = %q, want %q\n%v", got, tt.want, Validate(o))
			}
		})
	}
}

// TestCheckWarnings covers what Check reports as warnings on an object
// that is valid, each as properties added to a valid indicator.
func TestCheckWarnings(t *testing.T) {
	const ext = "extension-definition--fb9c968a-745b-4ade-9b25-c324172197f4"
	tests := []struct {
		name  string
		extra string
		want  []string
	}{
		{"none", ``, nil},
		{"custom ref empty", `,"x_mitre_data_source_ref":""`, []string{"x_mitre_data_source_ref (identifier)"}},
		{"custom ref not a string", `,"x_acme_ref":7`, []string{"x_acme_ref (type)"}},
		{"custom refs", `,"x_acme_refs":["identity--f431f809-377b-45e0-aa1c-6a4751cae5ff","nope"]`, []string{"x_acme_refs[1] (identifier)"}},
		{"custom refs not a list", `,"x_acme_refs":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"`, []string{"x_acme_refs (type)"}},
		{"nested custom ref", `,"x_acme":{"owner_ref":"me"}`, []string{"x_acme.owner_ref (identifier)"}},
		{"custom ref valid", `,"x_acme_ref":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"`, nil},
		{"extension property ref", `,"extensions":{"` + ext + `":{"extension_type":"property-extension","a_ref":"x"}}`, []string{"extensions." + ext + ".a_ref (identifier)"}},
		{"extension key not an id", `,"extensions":{"availability":{"availability_impact":100,"b_ref":"y"}}`,
			[]string{"extensions.availability (extension-name)", "extensions.availability.b_ref (identifier)"}},
		// Spec-defined references are still checked as errors.
		{"spec-defined ref", `,"created_by_ref":"nobody","x_acme_ref":"x"`, []string{"x_acme_ref (identifier)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := merged(t, baseIndicator+"}", "{"+strings.TrimPrefix(tt.extra, ",")+"}")
			ws, err := Check(o)
			if tt.name == "spec-defined ref" {
				if got := violations(err); !slices.Equal(got, []string{"created_by_ref (identifier)"}) {
					t.Errorf("violations = %q, want created_by_ref (identifier)", got)
				}
			} else if err != nil {
				t.Errorf("Check: %v, want a valid object", err)
			}
			if got := violations(Errors(ws)); !slices.Equal(got, tt.want) {
				t.Errorf("warnings = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWarningsString(t *testing.T) {
	w := &Error{Path: "x_a_ref", Rule: "identifier", Msg: `"" is not an identifier`}
	for _, tc := range []struct {
		ws   Warnings
		want string
	}{
		{nil, ""},
		{Warnings{w}, `warning: x_a_ref: "" is not an identifier (identifier)`},
		{Warnings{w, w}, `2 warnings: x_a_ref: "" is not an identifier (identifier); x_a_ref: "" is not an identifier (identifier)`},
	} {
		if got := tc.ws.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// merged returns the object base with the properties of extra set on it.
func merged(t *testing.T, base, extra string) *Object {
	t.Helper()
	o, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(extra))
	dec.UseNumber()
	var props map[string]any
	if err := dec.Decode(&props); err != nil {
		t.Fatal(err)
	}
	maps.Copy(o.Props, props)
	o, err = New(o.Props)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestValidateErrors(t *testing.T) {
	o, err := Parse([]byte(`{"type":"indicator","spec_version":"2.0","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		"created":"2016-04-06T20:03:48Z","confidence":200,"labels":[],"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	err = Validate(o)
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Validate error %T does not unwrap to Errors", err)
	}
	var first *Error
	if !errors.As(err, &first) || first != es[0] {
		t.Errorf("errors.As did not find the first *Error")
	}
	// Violations come sorted by path, so a report is stable.
	for range 20 {
		if again := Validate(o); again.Error() != err.Error() {
			t.Fatalf("Validate is not deterministic:\n%v\n%v", err, again)
		}
	}
	for _, want := range []string{"spec_version", "this node stores STIX 2.1", "modified: property is required", "confidence", "(timestamp-precision)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if err := Validate(nil); err == nil {
		t.Error("Validate(nil) = nil")
	}
	b, err := Parse([]byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := violations(Validate(b)); !slices.Equal(got, []string{"type (bundle)"}) {
		t.Errorf("Validate(bundle) = %q, want type (bundle)", got)
	}
}

// TestCustomCategories checks that a custom object takes the common
// properties of the category its extension definition gives it.
func TestCustomCategories(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"new-sco needs no created", `{"type":"x-acme-sco","id":"x-acme-sco--4f0a0e46-4f8c-4b6a-9a67-2b2f8c1f0e11","defanged":true,
			"extensions":{"extension-definition--150c1738-28c9-44d0-802d-70523218240b":{"extension_type":"new-sco"}}}`, nil},
		{"new-sdo needs created and modified", `{"type":"x-acme-sdo","spec_version":"2.1","id":"x-acme-sdo--4f0a0e46-4f8c-4b6a-9a67-2b2f8c1f0e11",
			"extensions":{"extension-definition--150c1738-28c9-44d0-802d-70523218240b":{"extension_type":"new-sdo"}}}`,
			[]string{"created (required)", "modified (required)"}},
		{"new-sro may not be defanged", `{"type":"x-acme-sro","spec_version":"2.1","id":"x-acme-sro--4f0a0e46-4f8c-4b6a-9a67-2b2f8c1f0e11",
			"created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","defanged":false,
			"extensions":{"extension-definition--150c1738-28c9-44d0-802d-70523218240b":{"extension_type":"new-sro"}}}`,
			[]string{"defanged (not-applicable)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := violations(Validate(o)); !slices.Equal(got, tt.want) {
				t.Errorf("violations = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestEveryTypeHasRules guards the two tables of types against drifting
// apart.
func TestEveryTypeHasRules(t *testing.T) {
	for typ, cat := range categoryOf {
		if types[typ] == nil {
			t.Errorf("%s has a category but no property rules", typ)
		}
		if _, ok := idContributing[typ]; ok != (cat == catSCO) {
			t.Errorf("%s: ID contributing properties listed = %v, but category is %v", typ, ok, cat)
		}
	}
	for typ := range types {
		if _, ok := categoryOf[typ]; !ok {
			t.Errorf("%s has property rules but no category", typ)
		}
	}
}
