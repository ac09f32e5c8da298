package misp

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/entente/entente/stix"
)

func parseAll(t testing.TB, res *Result) []*stix.Object {
	t.Helper()
	out := make([]*stix.Object, len(res.Objects))
	for i, raw := range res.Objects {
		o, err := stix.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = o
	}
	return out
}

// TestRoundTrip maps the golden event to STIX, back to MISP and to STIX
// again: every mapped attribute keeps its values, and the second STIX is
// the first, object for object.
func TestRoundTrip(t *testing.T) {
	orig := loadEvent(t, "golden-event.json")
	first, err := ToSTIX(orig, Options{})
	if err != nil {
		t.Fatal(err)
	}
	events, skipped := FromSTIX(parseAll(t, first), ExportOptions{})
	for _, s := range skipped {
		t.Errorf("export skipped %v", s)
	}
	if len(events) != 1 {
		t.Fatalf("%d events back, want 1", len(events))
	}
	back := &events[0]

	// The event's own values.
	if back.UUID != orig.UUID || back.Info != orig.Info || back.Date != orig.Date || back.Timestamp != orig.Timestamp ||
		back.PublishTimestamp != orig.PublishTimestamp || back.Published != orig.Published ||
		back.ThreatLevelID != orig.ThreatLevelID || back.Analysis != orig.Analysis || back.Distribution != orig.Distribution {
		t.Errorf("event header changed:\n got %+v\nwant %+v", header(back), header(orig))
	}
	if *back.Orgc != *orig.Orgc {
		t.Errorf("Orgc %+v, want %+v", back.Orgc, orig.Orgc)
	}
	if got, want := tagNames(back.Tags), tagNames(orig.Tags); !slices.Equal(got, want) {
		t.Errorf("event tags %q, want %q", got, want)
	}

	// Every attribute that was mapped comes back with its values.
	skip := map[string]bool{}
	for _, s := range first.Skipped {
		skip[s.Attribute] = true
	}
	got := attributesByUUID(back)
	n := 0
	for _, want := range allAttributes(orig) {
		if skip[want.UUID] {
			continue
		}
		n++
		g, ok := got[want.UUID]
		if !ok {
			t.Errorf("attribute %s (%s %q) did not come back", want.UUID, want.Type, want.Value)
			continue
		}
		if g.Type != want.Type || g.Value != want.Value || g.Category != want.Category || g.ToIDs != want.ToIDs ||
			g.Comment != want.Comment || g.Timestamp != want.Timestamp || g.ObjectRelation != want.ObjectRelation ||
			!sameInstant(g.FirstSeen, want.FirstSeen) || !sameInstant(g.LastSeen, want.LastSeen) {
			t.Errorf("attribute %s changed:\n got %s\nwant %s", want.UUID, js(g), js(want))
		}
		if gt, wt := tagNames(g.Tags), tagNames(want.Tags); !slices.Equal(gt, wt) {
			t.Errorf("attribute %s tags %q, want %q", want.UUID, gt, wt)
		}
		if len(g.Galaxies) != len(want.Galaxies) {
			t.Errorf("attribute %s has %d galaxies, want %d", want.UUID, len(g.Galaxies), len(want.Galaxies))
		}
	}
	if n != first.Mapped {
		t.Errorf("compared %d attributes, the import mapped %d", n, first.Mapped)
	}
	if len(back.Objects) != len(orig.Objects) {
		t.Errorf("%d MISP objects back, want %d", len(back.Objects), len(orig.Objects))
	}
	backObjects := map[string]Object{}
	for _, o := range back.Objects {
		backObjects[o.UUID] = o
	}
	for _, o := range orig.Objects {
		b := backObjects[o.UUID]
		if b.UUID != o.UUID || b.Name != o.Name || b.MetaCategory != o.MetaCategory || b.Comment != o.Comment ||
			b.TemplateUUID != o.TemplateUUID || b.Timestamp != o.Timestamp || b.Distribution != o.Distribution {
			t.Errorf("object %s changed:\n got %s\nwant %s", o.UUID, js(b), js(o))
		}
	}
	if gc, wc := clusterValues(back.Galaxies), clusterValues(orig.Galaxies); !slices.Equal(gc, wc) {
		t.Errorf("event galaxy clusters %q, want %q", gc, wc)
	}

	// Re-import: the same objects, byte for byte.
	again, err := ToSTIX(back, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for i, id := range first.IDs {
		want[id] = string(first.Objects[i])
	}
	for i, id := range again.IDs {
		if w, ok := want[id]; !ok {
			t.Errorf("re-import made %s, which the import did not", id)
		} else if w != string(again.Objects[i]) {
			t.Errorf("re-import changed %s:\n got %s\nwant %s", id, again.Objects[i], w)
		}
		delete(want, id)
	}
	for id := range want {
		t.Errorf("re-import lost %s", id)
	}
}

func header(e *Event) Event {
	h := *e
	h.Attributes, h.Objects, h.Galaxies, h.Tags = nil, nil, nil, nil
	return h
}

// tagNames lists the tags other than TLP's, whose levels the markings
// carry (TestMarkingNeverMorePermissive).
func tagNames(tags []Tag) []string {
	var out []string
	for _, t := range tags {
		if _, ok := tagTLP(t.Name); ok {
			continue
		}
		out = append(out, strings.ToLower(t.Name))
	}
	slices.Sort(out)
	return out
}

func clusterValues(gs []Galaxy) []string {
	var out []string
	for _, g := range gs {
		if galaxyTypes[g.Type] == "" {
			continue
		}
		for _, c := range g.Clusters {
			out = append(out, g.Type+"/"+c.UUID+"/"+c.Value+"/"+c.TagName)
		}
	}
	slices.Sort(out)
	return out
}

func allAttributes(e *Event) []Attribute {
	out := slices.Clone(e.Attributes)
	for _, o := range e.Objects {
		out = append(out, o.Attributes...)
	}
	return out
}

func attributesByUUID(e *Event) map[string]Attribute {
	m := map[string]Attribute{}
	for _, a := range allAttributes(e) {
		m[a.UUID] = a
	}
	return m
}

func sameInstant(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	ta, err1 := parseSeen(a)
	tb, err2 := parseSeen(b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
