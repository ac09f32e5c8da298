package node

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/entente/entente/store"
)

// TestAddObjectsWarnings checks that objects that depart only from STIX
// 2.1's recommendations, as published MITRE ATT&CK and OASIS incident
// core suite objects do, are stored, and that their status message says
// what departs.
func TestAddObjectsWarnings(t *testing.T) {
	f := newFixture(t)
	envelope := []json.RawMessage{
		// ATT&CK for ICS: a custom _ref property holding "".
		json.RawMessage(`{"type":"x-mitre-data-component","spec_version":"2.1","id":"x-mitre-data-component--3d20385b-24ef-40e1-9f56-f39750379077",` +
			`"created":"2021-10-20T15:05:19.272Z","modified":"2022-04-25T14:00:00.188Z","name":"Process Creation","x_mitre_data_source_ref":""}`),
		// The incident core suite's Impact: an extension named for a category.
		json.RawMessage(`{"type":"impact","spec_version":"2.1","id":"impact--e0fcbd27-62f2-4b37-9a74-b1a5a0d1b6c1",` +
			`"created":"2023-03-01T12:00:00.000Z","modified":"2023-03-01T12:00:00.000Z","impact_category":"availability",` +
			`"extensions":{"extension-definition--7cc33dd6-f6a1-489b-98ea-522d351d71b9":{"extension_type":"new-sdo"},"availability":{"availability_impact":100}}}`),
		// An SCO whose UUIDv5 comes from another namespace.
		json.RawMessage(`{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--1a8a1a53-7c1c-5a34-9b14-2f1e6b1e9f01","value":"198.51.100.3"}`),
		indicator(1, "2024-01-01T00:00:00.000Z"),
	}
	s, err := f.node.AddObjects(t.Context(), f.callers[store.RoleAnalyst], DefaultAPIRoot, f.ini.CollectionID, envelope)
	if err != nil {
		t.Fatal(err)
	}
	if s.SuccessCount != 4 || s.FailureCount != 0 {
		t.Fatalf("status = %+v; want 4 successes", s)
	}
	for i, want := range []string{
		"x_mitre_data_source_ref: \"\" is not an identifier",
		"extensions.availability:",
		"id: the UUIDv5 id is not the one",
	} {
		if m := s.Successes[i].Message; !strings.HasPrefix(m, "stored; warning: ") || !strings.Contains(m, want) {
			t.Errorf("success %d message %q; want stored with a warning containing %q", i, m, want)
		}
	}
	if m := s.Successes[3].Message; m != "stored" {
		t.Errorf("message of an object without warnings = %q, want stored", m)
	}
}
