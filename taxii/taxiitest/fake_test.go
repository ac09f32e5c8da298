package taxiitest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/entente/entente/taxii"
)

const testCollection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"

func newFake(t *testing.T) (*Fake, *taxii.Caller) {
	t.Helper()
	f := New()
	f.AddAPIRoot("root", taxii.APIRoot{Title: "test"})
	if err := f.AddCollection("root", taxii.Collection{ID: testCollection}, map[string]Perm{"analyst": {Read: true, Write: true}}); err != nil {
		t.Fatal(err)
	}
	return f, &taxii.Caller{Name: "a", Role: "analyst"}
}

func indicator(spec, modified string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"indicator","spec_version":%q,"id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":%q}`, spec, modified))
}

// served returns the versions a query with flt serves.
func served(t *testing.T, f *Fake, c *taxii.Caller, flt taxii.Filter) []string {
	t.Helper()
	flt.Limit = 100
	p, err := f.Objects(t.Context(), c, "root", testCollection, &flt)
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, it := range p.Items {
		vs = append(vs, it.Version)
	}
	return vs
}

// The fake once compared the part after the first "." as padded text, so
// that "2.1.10" came after "2.2", unlike the stores.
func TestLatestSpecVersion(t *testing.T) {
	f, c := newFake(t)
	st, err := f.AddObjects(t.Context(), c, "root", testCollection, []json.RawMessage{
		indicator("2.2", "2024-01-02T00:00:00.000Z"),
		indicator("2.1.10", "2024-01-03T00:00:00.000Z"),
	})
	if err != nil || st.SuccessCount != 2 {
		t.Fatalf("AddObjects: %+v, %v", st, err)
	}
	if got, want := served(t, f, c, taxii.Filter{}), []string{"2024-01-02T00:00:00.000Z"}; !slices.Equal(got, want) {
		t.Errorf("without match[spec_version]: versions %q, want %q (of spec_version 2.2)", got, want)
	}
}

// First and last apply within each spec_version, as in the stores.
func TestFirstLastPerSpecVersion(t *testing.T) {
	f, c := newFake(t)
	st, err := f.AddObjects(t.Context(), c, "root", testCollection, []json.RawMessage{
		indicator("2.0", "2024-01-01T00:00:00.000Z"),
		indicator("2.0", "2024-01-02T00:00:00.000Z"),
		indicator("2.1", "2024-01-03T00:00:00.000Z"),
		indicator("2.1", "2024-01-04T00:00:00.000Z"),
	})
	if err != nil || st.SuccessCount != 4 {
		t.Fatalf("AddObjects: %+v, %v", st, err)
	}
	for _, tc := range []struct {
		name string
		flt  taxii.Filter
		want []string
	}{
		{"default", taxii.Filter{}, []string{"2024-01-04T00:00:00.000Z"}},
		{"first", taxii.Filter{Versions: taxii.VersionMatch{First: true}}, []string{"2024-01-03T00:00:00.000Z"}},
		{"first of both", taxii.Filter{Versions: taxii.VersionMatch{First: true}, SpecVersions: []string{"2.0", "2.1"}},
			[]string{"2024-01-01T00:00:00.000Z", "2024-01-03T00:00:00.000Z"}},
		{"last of 2.0", taxii.Filter{SpecVersions: []string{"2.0"}}, []string{"2024-01-02T00:00:00.000Z"}},
		{"all of 2.1", taxii.Filter{Versions: taxii.VersionMatch{All: true}},
			[]string{"2024-01-03T00:00:00.000Z", "2024-01-04T00:00:00.000Z"}},
	} {
		if got := served(t, f, c, tc.flt); !slices.Equal(got, tc.want) {
			t.Errorf("%s: versions %q, want %q", tc.name, got, tc.want)
		}
	}
}
