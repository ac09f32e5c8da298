package node

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzCheck feeds arbitrary envelope items to the ingest checks: they must
// never panic, and an object they accept must be reported under its own id.
func FuzzCheck(f *testing.F) {
	f.Add([]byte(indicator(1, "2024-01-01T00:00:00.000Z")))
	f.Add([]byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}`))
	f.Add([]byte(`{"id":1,"created":[],"modified":{}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, warnings, err := check(json.RawMessage(raw))
		id, version := identify(raw)
		if err != nil {
			if m := message(err); len(m) > maxMessage+len("…") {
				t.Errorf("message of %d bytes exceeds the cap", len(m))
			}
			return
		}
		if m := withWarnings("stored", warnings); len(m) > maxMessage+len("…") {
			t.Errorf("message of %d bytes exceeds the cap", len(m))
		}
		if o := p.Object; o.ID != id || o.Version() != version {
			t.Errorf("identify = %q, %q; the object is %q, %q", id, version, o.ID, o.Version())
		}
	})
}

// FuzzParseKey checks that no key file content makes ParseKey panic, and
// that a key it accepts signs what its verifier key verifies.
func FuzzParseKey(f *testing.F) {
	skey, err := GenerateKey("node.example")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(skey)
	f.Add("PRIVATE+KEY+n+00000000+AQ==")
	f.Add("PRIVATE+KEY+++")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(k.VerifierKey, k.Name+"+") || len(k.Private) == 0 {
			t.Errorf("accepted key %q gives verifier key %q", s, k.VerifierKey)
		}
	})
}

// FuzzAuthenticate checks that no credentials make Authenticate panic or
// let anyone in without a token the store knows.
func FuzzAuthenticate(f *testing.F) {
	f.Add("", "entente_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("admin", "")
	f.Add("admin", "entente_")
	st := newFakeStore()
	if _, err := Initialize(f.Context(), st, testNow); err != nil {
		f.Fatal(err)
	}
	n, err := New(f.Context(), Config{Store: st})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, user, token string) {
		if c, err := n.Authenticate(t.Context(), user, token); err == nil {
			t.Errorf("Authenticate(%q, %q) let in %+v", user, token, c)
		}
	})
}
