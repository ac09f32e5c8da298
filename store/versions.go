package store

import (
	"cmp"
	"strings"
	"time"
)

// The TAXII 2.1 versioning rules (§3.5: match[version], match[spec_version])
// as pure functions, so that every store and every test fake selects the
// same versions.

// DefaultSpecVersion is the spec_version of an object that states none.
// Only SCOs may omit it in STIX 2.1, and for them it means 2.1 (STIX 2.1
// §3.1).
const DefaultSpecVersion = "2.1"

// versionKeyLayout writes an instant as fixed-width text, so that text order
// is time order (for years 0000–9999) and "…:00Z" equals "…:00.000Z".
const versionKeyLayout = "2006-01-02T15:04:05.000000000Z"

// VersionKey returns t as text whose order is time order (for years
// 0000–9999): two versions are the same version exactly when their keys
// are equal. Stores index it; MarkVersions compares it.
func VersionKey(t time.Time) string { return t.UTC().Format(versionKeyLayout) }

// CompareSpecVersions orders spec_version values: part by part, split at
// ".", where a part of decimal digits compares by its value ("2.9" <
// "2.10"), sorts before any other part, and another part compares as text;
// a value that is a prefix of another sorts first ("2" < "2.0"). Values
// equal in that order ("2.1", "02.1") fall back to text order, so the
// result is 0 only for equal strings and the order is total.
func CompareSpecVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range min(len(as), len(bs)) {
		if c := compareSpecPart(as[i], bs[i]); c != 0 {
			return c
		}
	}
	return cmp.Or(cmp.Compare(len(as), len(bs)), strings.Compare(a, b))
}

func compareSpecPart(a, b string) int {
	da, db := isDigits(a), isDigits(b)
	switch {
	case da && db:
		// By value, for any length: without leading zeros, the longer
		// number is the larger.
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b))
	case da:
		return -1
	case db:
		return 1
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// StoredVersion is one stored version of an object as the version filters
// see it: its spec_version and its VersionKey.
type StoredVersion struct {
	Spec, Key string
}

// VersionMarks says which filters select a version without naming it:
// match[version]=first and =last pick the first and last version within
// each spec_version, and without match[spec_version] only the versions of
// the object's latest spec_version are served.
type VersionMarks struct {
	First, Last, LatestSpec bool
}

// MarkVersions returns the marks of each of vs, all the versions of one
// object, in the order of vs.
func MarkVersions(vs []StoredVersion) []VersionMarks {
	top, seen := "", false
	first, last := make(map[string]string), make(map[string]string)
	for _, v := range vs {
		if !seen || CompareSpecVersions(v.Spec, top) > 0 {
			top, seen = v.Spec, true
		}
		if f, ok := first[v.Spec]; !ok || v.Key < f {
			first[v.Spec] = v.Key
		}
		if l, ok := last[v.Spec]; !ok || v.Key > l {
			last[v.Spec] = v.Key
		}
	}
	marks := make([]VersionMarks, len(vs))
	for i, v := range vs {
		marks[i] = VersionMarks{First: v.Key == first[v.Spec], Last: v.Key == last[v.Spec], LatestSpec: v.Spec == top}
	}
	return marks
}

// Selects reports whether f selects a version with marks m and version
// time t, given that its spec_version passed the spec_version filter (with
// none given, that it is of the latest spec_version).
func (f VersionFilter) Selects(m VersionMarks, t time.Time) bool {
	if !f.All && !f.First && !f.Last && len(f.Exact) == 0 {
		f.Last = true
	}
	switch {
	case f.All, f.First && m.First, f.Last && m.Last:
		return true
	}
	for _, e := range f.Exact {
		if e.Equal(t) {
			return true
		}
	}
	return false
}
