package stix

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// addCorpusSeeds adds the objects of testdata/valid and testdata/invalid
// to the seeds that testdata/fuzz already holds.
func addCorpusSeeds(f *testing.F) {
	f.Helper()
	valid, _ := filepath.Glob("testdata/valid/*.json")
	for _, name := range valid {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	invalid, _ := filepath.Glob("testdata/invalid/*.json")
	warn, _ := filepath.Glob("testdata/warn/*.json")
	for _, name := range append(invalid, warn...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		var c corpusCase
		if err := json.Unmarshal(data, &c); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(c.Object))
	}
}

// FuzzParse checks that Parse never panics and that what it accepts
// re-parses from its own output to the same properties.
func FuzzParse(f *testing.F) {
	addCorpusSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := Parse(data)
		if err != nil {
			return
		}
		out, err := o.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(MarshalJSON()) failed: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(o.Props, again.Props) || o.ID != again.ID || o.Type != again.Type {
			t.Fatalf("round trip changed the object:\n%v\n%v", o.Props, again.Props)
		}
	})
}

// FuzzValidate checks that Check never panics, is deterministic, and
// that an object it accepts still passes after a round trip; the accessors
// must not panic on anything Parse accepts.
func FuzzValidate(f *testing.F) {
	addCorpusSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := Parse(data)
		if err != nil {
			return
		}
		_, _, _, _, _, _ = o.Refs(), o.TLP(), o.Labels(), o.MarkingRefs(), o.CreatedByRef(), o.Revoked()
		ws1, err1 := Check(o)
		ws2, err2 := Check(o)
		if (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() || ws1.String() != ws2.String() {
			t.Fatalf("Check is not deterministic:\n%v %s\n%v %s", err1, ws1, err2, ws2)
		}
		if err1 != nil {
			return
		}
		again, err := Parse(o.Raw)
		if err != nil {
			t.Fatalf("an accepted object does not re-parse: %v", err)
		}
		if err := Validate(again); err != nil {
			t.Fatalf("an accepted object fails after a round trip: %v", err)
		}
		if _, ok := idContributing[o.Type]; ok {
			if _, err := SCOID(o.Props); err != nil {
				t.Fatalf("SCOID of an accepted SCO: %v", err)
			}
		}
	})
}

// FuzzParseBundle checks that bundles never make ParseBundle or
// Bundle.Validate panic.
func FuzzParseBundle(f *testing.F) {
	f.Add([]byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"ipv4-addr","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.3"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle(data)
		if err != nil {
			return
		}
		err1, err2 := b.Validate(), b.Validate()
		if (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() {
			t.Fatalf("Bundle.Validate is not deterministic:\n%v\n%v", err1, err2)
		}
	})
}

// FuzzCanonical checks that the canonical form is valid JSON with the same
// meaning as the input, that it is a fixed point, and that Canonical never
// panics.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1.0,"\u00e9",null]}`, `[1e21,-0,0.1]`, `"\ud83d\ude00"`, `{"a":{"b":{}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Canonical(data)
		if err != nil {
			return
		}
		if !json.Valid(c) {
			t.Fatalf("Canonical produced invalid JSON: %q", c)
		}
		again, err := Canonical(c)
		if err != nil || !bytes.Equal(again, c) {
			t.Fatalf("Canonical is not a fixed point: %q -> %q (%v)", c, again, err)
		}
		// The canonical form means the same as the input.
		var in, out any
		if json.Unmarshal(data, &in) != nil || json.Unmarshal(c, &out) != nil || !reflect.DeepEqual(in, out) {
			t.Fatalf("Canonical changed the value: %q -> %q", data, c)
		}
	})
}
