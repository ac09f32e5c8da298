package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/entente/entente/stix"
)

func mustParse(t *testing.T, s string) *stix.Object {
	t.Helper()
	o, err := stix.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestPrepareAll(t *testing.T) {
	versioned := mustParse(t, `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-02T00:00:00.000Z"}`)
	unversioned := mustParse(t, `{"type":"marking-definition","id":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"}`)
	badVersion := &stix.Object{Type: "indicator", ID: "indicator--1", Modified: "yesterday", Raw: []byte(`{}`)}
	noID := &stix.Object{Type: "indicator", Raw: []byte(`{}`)}
	unhashable := &stix.Object{Type: "indicator", ID: "indicator--2", Raw: []byte(`{"x":1e400}`)}

	ins := PrepareAll([]*stix.Object{versioned, unversioned, nil, badVersion, noID, unhashable}, nil)
	if len(ins) != 6 {
		t.Fatalf("got %d prepared objects, want 6", len(ins))
	}
	if in := ins[0]; in.Err != nil || !in.Versioned || in.Version != "2026-01-02T00:00:00.000Z" || in.Key == "" || in.SpecVersion != "2.1" || len(in.Hash) != 32 {
		t.Errorf("versioned object: %+v", in)
	}
	if in := ins[1]; in.Err != nil || in.Versioned || in.Version != "" || in.SpecVersion != DefaultSpecVersion {
		t.Errorf("object without a version: %+v", in)
	}
	for i, want := range map[int]string{2: "nil object", 3: "version", 4: "needs a type and an id", 5: "indicator--2"} {
		if err := ins[i].Err; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("object %d: error %v, want one saying %q", i, err, want)
		}
	}
}

func TestPrepare(t *testing.T) {
	o := mustParse(t, `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","modified":"2026-01-02T00:00:00.000Z"}`)
	p, err := NewPut(o)
	if err != nil {
		t.Fatal(err)
	}
	p.Provenance, p.FromParty, p.FromNode = []byte{}, "party-a", "node-1"
	in := Prepare(p, nil)
	if in.Err != nil || in.Provenance != nil || in.FromParty != "party-a" || in.FromNode != "node-1" {
		t.Errorf("Prepare = %+v, want no error, nil provenance and the party and node", in)
	}
	refused := errors.New("refused")
	if in := Prepare(p, func(Put) error { return refused }); !errors.Is(in.Err, refused) {
		t.Errorf("Prepare with a failing check: error %v, want %v", in.Err, refused)
	}
}
