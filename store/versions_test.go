package store

import (
	"slices"
	"testing"
	"time"
)

func TestCompareSpecVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"2.0", "2.1", -1},
		{"2.1", "2.1", 0},
		{"2.10", "2.9", 1},
		{"2", "2.0", -1},
		{"2.1.10", "2.2", -1},
		{"2.1.10", "2.1.9", 1},
		{"x", "2.1", 1},
		{"2.x", "2.10", 1},
		{"2.1a", "2.1", 1},
		{"02.1", "2.1", -1}, // the same number: text order decides
		{"2.01", "2.1", -1},
		{"123456789012345678901234567890", "99", 1}, // beyond int64
		{"", "2.1", 1},
		{"1x", "10", 1},
		{"1x", "9", 1},
	} {
		if got := CompareSpecVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareSpecVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := CompareSpecVersions(tc.b, tc.a); got != -tc.want {
			t.Errorf("CompareSpecVersions(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

// specValues are spec_version values, odd ones included, for the order
// checks.
var specValues = []string{"", ".", "2", "2.", "2.0", "2.1", "02.1", "2.01", "2.1.9", "2.1.10", "2.2", "2.9", "2.10",
	"2.x", "2.1a", "x", "9", "10", "1x", "+1", "-1", "2..1", "99999999999999999999"}

// The order is total: a sort by it is the same whatever order the values
// come in, so the latest spec_version cannot depend on the order versions
// were stored in. An earlier comparison put "9" < "10" < "1x" < "9" and
// called "02.1" and "2.1" equal.
func TestCompareSpecVersionsTotalOrder(t *testing.T) {
	for _, a := range specValues {
		for _, b := range specValues {
			ab := CompareSpecVersions(a, b)
			if (ab == 0) != (a == b) {
				t.Errorf("CompareSpecVersions(%q, %q) = %d", a, b, ab)
			}
			for _, c := range specValues {
				if ab < 0 && CompareSpecVersions(b, c) < 0 && CompareSpecVersions(a, c) >= 0 {
					t.Errorf("%q < %q < %q, but not %q < %q", a, b, c, a, c)
				}
			}
		}
	}
}

func FuzzCompareSpecVersions(f *testing.F) {
	for _, v := range specValues {
		f.Add(v, "2.1", "2.10")
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		ab, bc, ac := CompareSpecVersions(a, b), CompareSpecVersions(b, c), CompareSpecVersions(a, c)
		if ab != -CompareSpecVersions(b, a) || (ab == 0) != (a == b) {
			t.Fatalf("CompareSpecVersions(%q, %q) = %d, reversed %d", a, b, ab, CompareSpecVersions(b, a))
		}
		if ab < 0 && bc < 0 && ac >= 0 {
			t.Fatalf("%q < %q < %q, but not %q < %q", a, b, c, a, c)
		}
	})
}

func TestVersionKey(t *testing.T) {
	a := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		a, b time.Time
		want int
	}{
		{a, a.In(time.FixedZone("x", 3600)), 0},
		{a, a.Add(time.Nanosecond), -1},
		{a, a.Add(-time.Millisecond), 1},
		{time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC), a, -1},
	} {
		ka, kb := VersionKey(tc.a), VersionKey(tc.b)
		if got := cmpString(ka, kb); got != tc.want {
			t.Errorf("VersionKey(%v) = %q, VersionKey(%v) = %q: order %d, want %d", tc.a, ka, tc.b, kb, got, tc.want)
		}
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestMarkVersions(t *testing.T) {
	for _, tc := range []struct {
		name string
		vs   []StoredVersion
		want []VersionMarks
	}{
		{"none", nil, []VersionMarks{}},
		{"one", []StoredVersion{{"2.1", "a"}}, []VersionMarks{{true, true, true}}},
		{"two", []StoredVersion{{"2.1", "b"}, {"2.1", "a"}}, []VersionMarks{{false, true, true}, {true, false, true}}},
		{"three", []StoredVersion{{"2.1", "a"}, {"2.1", "b"}, {"2.1", "c"}},
			[]VersionMarks{{true, false, true}, {false, false, true}, {false, true, true}}},
		{"per spec_version", []StoredVersion{{"2.0", "c"}, {"2.1", "a"}, {"2.0", "d"}, {"2.1", "b"}},
			[]VersionMarks{{true, false, false}, {true, false, true}, {false, true, false}, {false, true, true}}},
		{"numeric spec order", []StoredVersion{{"2.10", "a"}, {"2.9", "b"}},
			[]VersionMarks{{true, true, true}, {true, true, false}}},
		{"same number, other text", []StoredVersion{{"2.1", "a"}, {"02.1", "b"}},
			[]VersionMarks{{true, true, true}, {true, true, false}}},
		{"same number, other text, reversed", []StoredVersion{{"02.1", "b"}, {"2.1", "a"}},
			[]VersionMarks{{true, true, false}, {true, true, true}}},
	} {
		got := MarkVersions(tc.vs)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: MarkVersions(%v) = %v, want %v", tc.name, tc.vs, got, tc.want)
		}
	}
}

func TestVersionFilterSelects(t *testing.T) {
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	other := at.Add(time.Second)
	first, last, middle, only := VersionMarks{First: true}, VersionMarks{Last: true}, VersionMarks{}, VersionMarks{First: true, Last: true}
	for _, tc := range []struct {
		name string
		f    VersionFilter
		m    VersionMarks
		want bool
	}{
		{"zero selects last", VersionFilter{}, last, true},
		{"zero skips first", VersionFilter{}, first, false},
		{"zero selects the only one", VersionFilter{}, only, true},
		{"all", VersionFilter{All: true}, middle, true},
		{"first", VersionFilter{First: true}, first, true},
		{"first skips last", VersionFilter{First: true}, last, false},
		{"first and last", VersionFilter{First: true, Last: true}, last, true},
		{"first and last skip the middle", VersionFilter{First: true, Last: true}, middle, false},
		{"exact", VersionFilter{Exact: []time.Time{other, at}}, middle, true},
		{"exact in another zone", VersionFilter{Exact: []time.Time{at.In(time.FixedZone("x", -7200))}}, middle, true},
		{"exact skips others", VersionFilter{Exact: []time.Time{other}}, last, false},
		{"exact or first", VersionFilter{First: true, Exact: []time.Time{other}}, first, true},
	} {
		if got := tc.f.Selects(tc.m, at); got != tc.want {
			t.Errorf("%s: %+v.Selects(%+v) = %v, want %v", tc.name, tc.f, tc.m, got, tc.want)
		}
	}
}
