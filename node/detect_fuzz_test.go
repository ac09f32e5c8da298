package node_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/node"
	"github.com/entente/entente/stix"
)

// FuzzProtectedHits feeds ProtectedHits arbitrary objects (as a JSON
// array): it must never panic, and every hit it reports must name two
// different parties of the agreement and a sighting it was given.
func FuzzProtectedHits(f *testing.F) {
	doc, err := os.ReadFile("../examples/arcadia-borealis.yaml")
	if err != nil {
		f.Fatal(err)
	}
	a, err := agreement.Parse(doc)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`[{"type":"sighting","spec_version":"2.1","id":"sighting--1b6d7c8e-0000-4000-8000-000000000001","created":"2027-01-04T00:00:00Z","modified":"2027-01-04T00:00:00Z","sighting_of_ref":"indicator--1b6d7c8e-0000-4000-8000-000000000002","observed_data_refs":["observed-data--1b6d7c8e-0000-4000-8000-000000000003"]},
{"type":"observed-data","spec_version":"2.1","id":"observed-data--1b6d7c8e-0000-4000-8000-000000000003","created":"2027-01-04T00:00:00Z","modified":"2027-01-04T00:00:00Z","first_observed":"2027-01-04T00:00:00Z","last_observed":"2027-01-04T00:00:00Z","number_observed":1,"object_refs":["network-traffic--1b6d7c8e-0000-4000-8000-000000000004","ipv4-addr--1b6d7c8e-0000-4000-8000-000000000005","ipv4-addr--1b6d7c8e-0000-4000-8000-000000000006"]},
{"type":"network-traffic","id":"network-traffic--1b6d7c8e-0000-4000-8000-000000000004","src_ref":"ipv4-addr--1b6d7c8e-0000-4000-8000-000000000005","dst_ref":"ipv4-addr--1b6d7c8e-0000-4000-8000-000000000006","protocols":["tcp"]},
{"type":"ipv4-addr","id":"ipv4-addr--1b6d7c8e-0000-4000-8000-000000000005","value":"203.0.113.7"},
{"type":"ipv4-addr","id":"ipv4-addr--1b6d7c8e-0000-4000-8000-000000000006","value":"198.51.100.10"}]`))
	f.Add([]byte(`[{"type":"sighting","id":"sighting--x","observed_data_refs":"not a list"},{"type":"domain-name","id":"d","value":"GRID.arcadia.example."}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var raws []json.RawMessage
		if json.Unmarshal(data, &raws) != nil {
			return
		}
		var objs []*stix.Object
		sightings := map[string]bool{}
		for _, r := range raws {
			if o, err := stix.Parse(r); err == nil {
				objs = append(objs, o)
				if o.Type == "sighting" {
					sightings[o.ID] = true
				}
			}
		}
		for _, h := range node.ProtectedHits(a, objs) {
			_, okP := a.Party(h.Protected)
			_, okS := a.Party(h.Source)
			if !okP || !okS || h.Protected == h.Source || !sightings[h.Sighting] {
				t.Errorf("hit %+v", h)
			}
		}
	})
}
