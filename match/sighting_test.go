package match

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/entente/entente/stix"
)

// TestSightingsGolden runs the EVE sample past a few indicators and checks
// the sightings: STIX-valid, and as recorded in the golden bundle.
func TestSightingsGolden(t *testing.T) {
	inds := []Indicator{
		{ID: "indicator--a0000000-0000-4000-8000-000000000001", Pattern: "[domain-name:value = 'evil.example']"},
		{ID: "indicator--a0000000-0000-4000-8000-000000000002", Pattern: "[ipv4-addr:value ISSUBSET '203.0.113.0/24']"},
		{ID: "indicator--a0000000-0000-4000-8000-000000000003", Pattern: "[file:hashes.'SHA-256' = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f']"},
		{ID: "indicator--a0000000-0000-4000-8000-000000000004", Pattern: "[email-message:from_ref.value LIKE '%@evil.example']"},
		{ID: "indicator--a0000000-0000-4000-8000-000000000005", Pattern: "[domain-name:value = 'c2.evil.example'] FOLLOWEDBY [url:value MATCHES '/gate\\\\.php']"},
		// Expired before the log starts, and revoked: neither may match.
		{ID: "indicator--a0000000-0000-4000-8000-000000000006", Pattern: "[domain-name:value = 'evil.example']", ValidUntil: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "indicator--a0000000-0000-4000-8000-000000000007", Pattern: "[domain-name:value = 'evil.example']", Revoked: true},
	}
	ix, errs := Compile(inds)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "readers", "eve.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	agg := NewAggregator(SightingConfig{
		Identity:    "identity--b0000000-0000-4000-8000-000000000001",
		MaxEvidence: 2,
		Now:         func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) },
		NewID: func(typ string) string {
			n++
			return fmt.Sprintf("%s--c0000000-0000-4000-8000-%012d", typ, n)
		},
	})
	s := &Stream{Format: EVE{}, Matcher: NewMatcher(ix), Window: NewWindow(), Workers: 2, OnHit: agg.Add}
	if _, err := s.Run(t.Context(), "eve.jsonl", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	objs, err := agg.Flush(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	sightings := map[string]int{}
	for _, o := range objs {
		if err := stix.Validate(o); err != nil {
			t.Errorf("%s is not valid STIX: %v", o.ID, err)
		}
		if o.Type == "sighting" {
			sightings[o.Props["sighting_of_ref"].(string)]++
		}
	}
	for i, want := range []int{1, 1, 1, 1, 1, 0, 0} {
		if got := sightings[inds[i].ID]; got != want {
			t.Errorf("%s: %d sightings, want %d", inds[i].Pattern, got, want)
		}
	}
	var out bytes.Buffer
	if err := WriteBundle(&out, objs, func(string) string { return "bundle--c0000000-0000-4000-8000-000000000000" }); err != nil {
		t.Fatal(err)
	}
	if _, err := stix.ParseBundle(out.Bytes()); err != nil {
		t.Fatalf("WriteBundle wrote an unreadable bundle: %v", err)
	}
	checkGolden(t, "sightings.json", out.Bytes())

	var lines bytes.Buffer
	if err := WriteJSONLines(&lines, objs); err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(lines.Bytes()) {
		if !json.Valid(line) {
			t.Errorf("WriteJSONLines wrote %q", line)
		}
	}
}

func TestAggregatorWindows(t *testing.T) {
	agg := NewAggregator(SightingConfig{Window: time.Hour})
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := &Record{Values: []Value{{Prop: DomainName, Data: []byte("evil.example")}}}
	for _, m := range []int{0, 10, 59, 61, 185} {
		rec.Time = base.Add(time.Duration(m) * time.Minute)
		agg.Add(Hit{Indicator: "indicator--a0000000-0000-4000-8000-000000000001", Time: rec.Time, Records: []*Record{rec}})
	}
	// Two hours in, the first two windows are closed; the third is not.
	objs, err := agg.Flush(base.Add(2 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var counts []any
	for _, o := range objs {
		if o.Type == "sighting" {
			counts = append(counts, fmt.Sprint(o.Props["count"], " ", o.Props["first_seen"], " ", o.Props["last_seen"]))
		}
	}
	want := []any{
		"3 2026-01-01T00:00:00.000Z 2026-01-01T00:59:00.000Z",
		"1 2026-01-01T01:01:00.000Z 2026-01-01T01:01:00.000Z",
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("closed windows: %v, want %v", counts, want)
	}
	if agg.Len() != 1 {
		t.Errorf("%d windows open, want 1", agg.Len())
	}
}
