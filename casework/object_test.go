package casework

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/stix"
)

func TestExtensionDefinitionsValid(t *testing.T) {
	defs := ExtensionDefinitions()
	if len(defs) != len(Types) {
		t.Fatalf("%d definitions for %d types", len(defs), len(Types))
	}
	for _, o := range append(defs, ExtensionCreatorIdentity()) {
		if w, err := stix.Check(o); err != nil || len(w) > 0 {
			t.Errorf("%s: %v %v", o.ID, err, w)
		}
	}
	// The ids are part of the format: a change is a new format.
	if defs[0].ID != "extension-definition--26e47bee-44ff-4636-9d45-700f966afd9d" {
		t.Errorf("the incident-notification extension definition's id changed to %s", defs[0].ID)
	}
}

// TestEncodeDecode encodes every reachable state of every case type, checks
// the object against STIX 2.1, and decodes it back to the same case.
func TestEncodeDecode(t *testing.T) {
	a := testAgreement(t)
	for _, typ := range Types {
		for st, c := range reachAll(t, a, typ) {
			o, err := Encode(c)
			if err != nil {
				t.Fatalf("%s %s: %v", typ, st, err)
			}
			if w, err := stix.Check(o); err != nil || len(w) > 0 {
				t.Errorf("%s %s: %v %v\n%s", typ, st, err, w, o.Raw)
			}
			back, err := Decode(o)
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", typ, st, err, o.Raw)
			}
			if !reflect.DeepEqual(back, c) {
				t.Errorf("%s %s: decoded\n %+v\nwant\n %+v", typ, st, back, c)
			}
			if typ == TypeIncident {
				inc, err := IncidentObject(c)
				if err != nil {
					t.Fatal(err)
				}
				if w, err := stix.Check(inc); err != nil || len(w) > 0 {
					t.Errorf("incident object: %v %v", err, w)
				}
				if o.Props["incident_ref"] != inc.ID {
					t.Errorf("incident_ref %v, incident %s", o.Props["incident_ref"], inc.ID)
				}
			}
		}
	}
}

// TestEachStepANewVersion: every step is a new version of one object,
// with a later modified time and the acting party named.
func TestEachStepANewVersion(t *testing.T) {
	a := testAgreement(t)
	c := newCase(t, a, TypeAssistance)
	var versions []*stix.Object
	for _, s := range []struct {
		k     EventKind
		actor string
	}{{EventSend, "arcadia"}, {EventAcknowledge, "borealis"}, {EventAccept, "borealis"}, {EventComplete, "borealis"}, {EventFeedback, "arcadia"}} {
		c = step(t, c, s.k, s.actor)
		o, err := Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		if o.Props["actor"] != s.actor {
			t.Errorf("%s: actor %v", s.k, o.Props["actor"])
		}
		versions = append(versions, o)
	}
	for i := 1; i < len(versions); i++ {
		if versions[i].ID != versions[0].ID || versions[i].Created != versions[0].Created || versions[i].Modified <= versions[i-1].Modified {
			t.Errorf("version %d: id %s created %s modified %s after %s", i, versions[i].ID, versions[i].Created, versions[i].Modified, versions[i-1].Modified)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	a := testAgreement(t)
	acked := step(t, step(t, newCase(t, a, TypeDeclaration), EventSend, "arcadia"), EventAcknowledge, "borealis")
	o, err := Encode(acked)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) *stix.Object {
		var m map[string]any
		if err := json.Unmarshal(o.Raw, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		x, err := stix.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, tc := range []struct {
		name, want string
		o          *stix.Object
	}{
		{"unknown case type", "not a case type", edit(func(m map[string]any) {
			m["type"] = "entente-content-blocking-request"
			m["id"] = "entente-content-blocking-request--0f3c6e58-2b7a-4a0e-9d62-51b1f3e6a006"
		})},
		{"a property the format lacks", "content_removal", edit(func(m map[string]any) { m["content_removal"] = true })},
		{"pledge reworded", "pledge", edit(func(m map[string]any) { m["pledge"] = "We will consider it." })},
		{"pledge missing", "pledge", edit(func(m map[string]any) { delete(m, "pledge") })},
		{"another extension", "extensions", edit(func(m map[string]any) {
			m["extensions"] = map[string]any{"extension-definition--25ae734e-ae30-447e-b512-6580c7b5bf54": map[string]any{"extension_type": "new-sdo"}}
		})},
		{"state of another workflow", "state", edit(func(m map[string]any) { m["state"] = "preserved" })},
		{"tlp property", "tlp", edit(func(m map[string]any) { m["tlp"] = "clear" })},
		{"actor not a party", "actor", edit(func(m map[string]any) { m["actor"] = "cascadia" })},
		{"declaration outside", "sectors", edit(func(m map[string]any) { delete(m, "sectors"); delete(m, "cidrs"); delete(m, "asns") })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

// TestDecodeScreens: flags are computed by the receiver from the text,
// whatever the sender says.
func TestDecodeScreens(t *testing.T) {
	a := testAgreement(t)
	c := newCase(t, a, TypeAssistance)
	c, err := Step(c, Event{Kind: EventSend, Actor: "arcadia", Note: "Also please identify the author of the blog post."}, a, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if c.Flags&FlagAuthors == 0 {
		t.Fatalf("flags %v", c.Flags)
	}
	o, _ := Encode(c)
	back, err := Decode(o)
	if err != nil || back.Flags != c.Flags {
		t.Errorf("decoded flags %v (%v), want %v", back.Flags, err, c.Flags)
	}
}
