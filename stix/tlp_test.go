package stix

import (
	"strings"
	"testing"
)

func TestTLPMarkingDefinitions(t *testing.T) {
	objs := TLPMarkingDefinitions()
	wantLevels := []TLP{TLPClear, TLPGreen, TLPAmber, TLPRed, TLPClear, TLPGreen, TLPAmber, TLPAmberStrict, TLPRed}
	if len(objs) != len(wantLevels) {
		t.Fatalf("got %d marking definitions, want %d", len(objs), len(wantLevels))
	}
	for i, o := range objs {
		if err := Validate(o); err != nil {
			t.Errorf("%s: %v", o.ID, err)
		}
		level, ok := TLPOf(o.ID)
		if !ok || level != wantLevels[i] {
			t.Errorf("TLPOf(%s) = %v, %v; want %v", o.ID, level, ok, wantLevels[i])
		}
		name, _ := o.Props["name"].(string)
		tlp1 := i < 4
		switch {
		case tlp1 && (o.Created != "2017-01-20T00:00:00.000Z" || o.Props["definition_type"] != "tlp"):
			t.Errorf("%s is not a TLP 1.0 marking of STIX 2.1 §7.2.1.4: %s", o.ID, o.Raw)
		case !tlp1 && (o.Created != "2022-10-01T00:00:00.000Z" || name != level.String() || TLP2ID(level) != o.ID):
			t.Errorf("%s is not the OASIS TLP 2.0 marking for %v: %s", o.ID, level, o.Raw)
		}
		if !tlp1 {
			ext, _ := o.Props["extensions"].(map[string]any)[TLP2ExtensionID].(map[string]any)
			if want := strings.ToLower(strings.TrimPrefix(name, "TLP:")); ext["tlp_2_0"] != want {
				t.Errorf("%s: tlp_2_0 = %v, want %q", o.ID, ext["tlp_2_0"], want)
			}
		}
	}
	objs[0].Props["name"] = "changed"
	if TLPMarkingDefinitions()[0].Props["name"] != "TLP:WHITE" {
		t.Error("TLPMarkingDefinitions returns shared objects")
	}
	ext := TLP2ExtensionDefinition()
	if err := Validate(ext); err != nil || ext.ID != TLP2ExtensionID {
		t.Errorf("TLP2ExtensionDefinition: %s, %v", ext.ID, err)
	}
}

func TestTLPLevels(t *testing.T) {
	tests := []struct {
		refs string
		want TLP
	}{
		{``, TLPNone},
		{`"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41d5"`, TLPNone}, // a statement
		{`"` + TLP1White + `"`, TLPClear},
		{`"` + TLP2Green + `","` + TLP1Amber + `"`, TLPAmber},
		{`"` + OpenCTIAmberStrict + `","` + TLP2Amber + `"`, TLPAmberStrict},
		{`"` + TLP2Clear + `","` + TLP1Red + `","` + TLP2Green + `"`, TLPRed},
	}
	for _, tt := range tests {
		js := `{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"`
		if tt.refs != "" {
			js += `,"object_marking_refs":[` + tt.refs + `]`
		}
		o, err := Parse([]byte(js + "}"))
		if err != nil {
			t.Fatal(err)
		}
		if got := o.TLP(); got != tt.want {
			t.Errorf("TLP of [%s] = %v, want %v", tt.refs, got, tt.want)
		}
	}
}
