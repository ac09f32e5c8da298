package misp

import (
	"testing"

	"github.com/entente/entente/stix"
)

// TestMarkingNeverMorePermissive maps one attribute under every
// combination of event and attribute distribution and TLP tags, and checks
// that its marking is at least as restrictive as each of them says.
func TestMarkingNeverMorePermissive(t *testing.T) {
	levels := []Text{"", "0", "1", "2", "3", "4", "5"}
	tags := []string{"", "tlp:clear", "tlp:white", "tlp:green", "tlp:amber", "tlp:amber+strict", "tlp:red", "TLP:RED"}
	for _, ed := range levels {
		for _, et := range tags {
			for _, ad := range levels {
				for _, at := range tags {
					e := &Event{UUID: "11111111-2222-4333-8444-555555555555", Date: "2024-01-02", Timestamp: "1704200000", Distribution: ed,
						Attributes: []Attribute{{UUID: "aaaaaaaa-2222-4333-8444-555555555555", Type: "domain", Value: "x.example", ToIDs: true, Distribution: ad}}}
					if et != "" {
						e.Tags = []Tag{{Name: et}}
					}
					if at != "" {
						e.Attributes[0].Tags = []Tag{{Name: at}}
					}
					res, err := ToSTIX(e, Options{})
					if err != nil {
						t.Fatal(err)
					}
					got := tlpOf(t, res, ID("indicator", e.Attributes[0].UUID))
					floor := distributionTLP(ed)
					if l, ok := tagTLP(et); ok {
						floor = max(floor, l)
					}
					if floor == stix.TLPNone {
						floor = stix.TLPAmber // an event that says nothing gets the default
					}
					floor = max(floor, distributionTLP(ad))
					if l, ok := tagTLP(at); ok {
						floor = max(floor, l)
					}
					if got < floor {
						t.Errorf("event %q %q, attribute %q %q: marked %v, below %v", ed, et, ad, at, got, floor)
					}
					if got != floor {
						t.Errorf("event %q %q, attribute %q %q: marked %v, want %v (the most restrictive)", ed, et, ad, at, got, floor)
					}
				}
			}
		}
	}
}

func tlpOf(t *testing.T, res *Result, id string) stix.TLP {
	t.Helper()
	for i, raw := range res.Objects {
		if res.IDs[i] != id {
			continue
		}
		o, err := stix.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return o.TLP()
	}
	t.Fatalf("%s not in the result", id)
	return 0
}

func TestDistributionRoundTrip(t *testing.T) {
	// Export never loosens what import set.
	for _, l := range []Text{"0", "1", "2", "3", "4"} {
		back := tlpDistribution(distributionTLP(l))
		if distributionTLP(back) != distributionTLP(l) {
			t.Errorf("distribution %s → %v → %s → %v", l, distributionTLP(l), back, distributionTLP(back))
		}
	}
}

// TestReportsReferToTheirLevel checks that no report refers to an object
// more restrictive than itself: policy releases a report only with
// everything it refers to, so such a report would keep the whole event
// from every partner.
func TestReportsReferToTheirLevel(t *testing.T) {
	res, err := ToSTIX(loadEvent(t, "golden-event.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	objs := parseAll(t, res)
	level := map[string]stix.TLP{}
	for _, o := range objs {
		level[o.ID] = o.TLP()
	}
	reports := 0
	for _, o := range objs {
		if o.Type != "report" {
			continue
		}
		reports++
		for _, r := range stringList(o.Props["object_refs"]) {
			if level[r] > o.TLP() {
				t.Errorf("%s (%v) refers to %s (%v)", o.ID, o.TLP(), r, level[r])
			}
		}
	}
	if reports != 2 {
		t.Errorf("%d reports, want 2: one for the AMBER event, one for its RED attributes", reports)
	}
}
