package provenance_test

import (
	"bytes"
	"testing"

	"github.com/entente/entente/provenance"
)

// FuzzDecode checks that Decode never panics, and that what it accepts
// encodes to bytes that decode to the same record and encode the same
// again: the encoding partners exchange is stable.
func FuzzDecode(f *testing.F) {
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
	})
}
