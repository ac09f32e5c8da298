package provenance_test

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"github.com/entente/entente/provenance"
)

// FuzzDecode checks that Decode never panics, that what it accepts
// encodes to bytes that decode to the same record and encode the same
// again (the encoding partners exchange is stable), and that verifying
// what it accepts fails cleanly rather than panics: the fuzzer cannot
// forge a signature.
func FuzzDecode(f *testing.F) {
	pub, _, _ := ed25519.GenerateKey(nil)
	keys := func(string) (ed25519.PublicKey, bool) { return pub, true }
	f.Add([]byte(`{"origin":{"node":"a","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","sig":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := provenance.Decode(data)
		if err != nil {
			return
		}
		enc, err := p.Encode()
		if err != nil {
			t.Fatalf("Decode accepted %q, but Encode fails: %v", data, err)
		}
		back, err := provenance.Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(p)) fails: %v\n%s", err, enc)
		}
		again, err := back.Encode()
		if err != nil || !bytes.Equal(again, enc) {
			t.Fatalf("encoding is not stable:\n%s\n%s (%v)", enc, again, err)
		}
		if err := provenance.Verify(p, []byte(indicator), keys); err == nil {
			t.Fatalf("a fuzzed record verified: %s", enc)
		}
	})
}
