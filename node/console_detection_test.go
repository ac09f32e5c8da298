package node

import (
	"testing"
	"time"
)

func TestReadSighting(t *testing.T) {
	for raw, want := range map[string]sightingFacts{
		`{"type":"sighting","sighting_of_ref":"indicator--1","count":4,"first_seen":"2026-11-26T08:30:00Z","last_seen":"2026-11-26T09:00:00.5Z","created":"2026-11-27T00:00:00Z"}`: {
			Of: "indicator--1", Count: 4, First: time.Date(2026, 11, 26, 8, 30, 0, 0, time.UTC), Last: time.Date(2026, 11, 26, 9, 0, 0, 5e8, time.UTC)},
		// Without count, once; without first_seen and last_seen, when created.
		`{"type":"sighting","sighting_of_ref":"indicator--2","created":"2026-11-27T00:00:00Z"}`: {
			Of: "indicator--2", Count: 1, First: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), Last: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)},
		// A count outside STIX's bounds is brought within them.
		`{"type":"sighting","sighting_of_ref":"indicator--4","count":5000000000,"created":"2026-11-27T00:00:00Z"}`: {
			Of: "indicator--4", Count: 999_999_999, First: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), Last: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)},
		// A negative count counts nothing.
		`{"type":"sighting","sighting_of_ref":"indicator--3","count":-5,"created":"2026-11-27T00:00:00Z"}`: {
			Of: "indicator--3", Count: 0, First: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), Last: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)},
	} {
		got, ok := readSighting([]byte(raw))
		if !ok || got.Of != want.Of || got.Count != want.Count || !got.First.Equal(want.First) || !got.Last.Equal(want.Last) {
			t.Errorf("readSighting(%s) = %+v, %v; want %+v", raw, got, ok, want)
		}
	}
	for _, raw := range []string{``, `[]`, `{"type":"sighting"}`, `{"sighting_of_ref":7}`, `{"sighting_of_ref":"indicator--1","count":"many"}`} {
		if got, ok := readSighting([]byte(raw)); ok {
			t.Errorf("readSighting(%s) = %+v, want refused", raw, got)
		}
	}
}

// FuzzReadSighting: whatever is stored, reading a sighting never panics,
// and what it accepts names what it is of and counts nothing negative.
func FuzzReadSighting(f *testing.F) {
	f.Add([]byte(`{"type":"sighting","sighting_of_ref":"indicator--1","count":4,"first_seen":"2026-11-26T08:30:00Z","last_seen":"2026-11-26T09:00:00Z"}`))
	f.Add([]byte(`{"sighting_of_ref":"x","count":-1,"created":"bad"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, ok := readSighting(raw)
		if ok && (s.Of == "" || s.Count < 0 || s.Count > 999_999_999) {
			t.Fatalf("readSighting(%q) = %+v", raw, s)
		}
	})
}
