package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
)

// FuzzAddObjects stores arbitrary objects, as a TAXII POST would hand them
// over before or without validation, and checks that the store neither
// panics nor loses its invariants: adding an object again repeats the first
// outcome (a duplicate of the same version, or the same failure), and a
// stored version is listed under its id.
func FuzzAddObjects(f *testing.F) {
	// The seed corpus is in testdata/fuzz/FuzzAddObjects.
	s, err := Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	setupCollection(f, s)

	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := stix.Parse(raw)
		if err != nil {
			return
		}
		ctx := context.Background()
		out, err := s.AddObjects(ctx, testCollection, []*stix.Object{o, o})
		if err != nil {
			t.Fatalf("AddObjects: %v", err)
		}
		first, again := out[0], out[1]
		if (first.Err == nil) != (again.Err == nil) {
			t.Fatalf("adding %s twice: %+v, then %+v", raw, first, again)
		}
		if first.Err != nil {
			return
		}
		if !again.Duplicate || again.Seq != first.Seq || again.Version != first.Version {
			t.Fatalf("adding %s twice: %+v, then %+v, want a duplicate", raw, first, again)
		}
		p, err := s.Objects(ctx, store.Query{Collection: testCollection, IDs: []string{o.ID}, SpecVersions: []string{"1", "2.0", "2.1", o.SpecVersion}, Versions: store.VersionFilter{All: true}, Limit: 10000})
		if err != nil {
			t.Fatalf("Objects: %v", err)
		}
		for _, v := range p.Objects {
			if v.Seq == first.Seq {
				return
			}
		}
		t.Fatalf("stored %s as %+v, but listing its id gives %+v", raw, first, p.Objects)
	})
}
