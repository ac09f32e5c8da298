package provenance_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/provenance"
)

// batchObject is a distinct indicator for each n.
func batchObject(n int) []byte {
	return fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-17d4-4cbf-938f-98ee46b3cd3f",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",`+
		`"pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`, n, n%250)
}

func signBatch(t testing.TB, priv ed25519.PrivateKey, node string, n int) ([][]byte, []provenance.Provenance) {
	t.Helper()
	raws := make([][]byte, n)
	sums := make([][sha256.Size]byte, n)
	for i := range n {
		raws[i] = batchObject(i)
		d, err := ledger.ObjectDigest(raws[i])
		if err != nil {
			t.Fatal(err)
		}
		sums[i] = d
	}
	ps, err := provenance.SignBatch(priv, node, sums)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != n {
		t.Fatalf("SignBatch returned %d records for %d versions", len(ps), n)
	}
	return raws, ps
}

func TestSignBatch(t *testing.T) {
	a := newParty(t, "arcadia-cert")
	keys := keyring(t, a)
	for _, n := range []int{1, 2, 3, 5, 32, 33} {
		raws, ps := signBatch(t, a.key.Private, a.id, n)
		v := provenance.NewVerifier(keys)
		for i, p := range ps {
			if (p.Origin.Batch == nil) != (n == 1) {
				t.Errorf("n=%d: record %d: batch %+v", n, i, p.Origin.Batch)
			}
			if err := provenance.Verify(p, raws[i], keys); err != nil {
				t.Errorf("n=%d: Verify %d: %v", n, i, err)
			}
			if err := v.Verify(p, raws[i]); err != nil {
				t.Errorf("n=%d: Verifier %d: %v", n, i, err)
			}
			sum, err := ledger.ObjectDigest(raws[i])
			if err != nil {
				t.Fatal(err)
			}
			if err := provenance.NewVerifier(keys).VerifyDigest(p, sum, raws[i]); err != nil {
				t.Errorf("n=%d: VerifyDigest %d: %v", n, i, err)
			}
			enc, err := p.Encode()
			if err != nil {
				t.Fatal(err)
			}
			back, err := provenance.Decode(enc)
			if err != nil {
				t.Fatalf("n=%d: Decode(%s): %v", n, enc, err)
			}
			if err := provenance.Verify(back, raws[i], keys); err != nil {
				t.Errorf("n=%d: Verify after decoding %d: %v", n, i, err)
			}
		}
	}
}

func TestBatchRefuses(t *testing.T) {
	a, b := newParty(t, "arcadia-cert"), newParty(t, "borealis-cert")
	keys := keyring(t, a, b)
	raws, ps := signBatch(t, a.key.Private, a.id, 5)
	_, other := signBatch(t, b.key.Private, b.id, 5)

	clone := func(p provenance.Provenance) provenance.Provenance {
		bt := *p.Origin.Batch
		bt.Root, bt.Proof = bytes.Clone(bt.Root), bytes.Clone(bt.Proof)
		p.Origin.Batch = &bt
		p.Origin.Sig = bytes.Clone(p.Origin.Sig)
		return p
	}
	swapped := clone(ps[1])
	swapped.Origin.Batch.Proof = ps[2].Origin.Batch.Proof // another member's path
	moved := clone(ps[1])
	moved.Origin.Batch.Index = 2
	rerooted := clone(ps[1])
	rerooted.Origin.Batch.Root[0] ^= 1
	resized := clone(ps[1])
	resized.Origin.Batch.Size = 6
	forged := clone(ps[1])
	forged.Origin.Sig[0] ^= 1
	claimed := clone(other[1]) // borealis's batch, claimed for arcadia
	claimed.Origin.Node = a.id
	stranger := clone(ps[1])
	stranger.Origin.Node = "mallory"
	for _, c := range []struct {
		name string
		p    provenance.Provenance
		raw  []byte
		want error
	}{
		{"another member's bytes", ps[1], raws[2], provenance.ErrDigestMismatch},
		{"another member's proof", swapped, raws[1], provenance.ErrBadSignature},
		{"another index", moved, raws[1], provenance.ErrBadSignature},
		{"another root", rerooted, raws[1], provenance.ErrBadSignature},
		{"another size", resized, raws[1], provenance.ErrBadSignature},
		{"a changed signature", forged, raws[1], provenance.ErrBadSignature},
		{"another node's batch", claimed, batchObject(1), provenance.ErrBadSignature},
		{"an unknown node", stranger, raws[1], provenance.ErrUnknownNode},
	} {
		if err := provenance.Verify(c.p, c.raw, keys); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
		// A Verifier that has verified the batch already refuses as well:
		// what it remembers is the signature, never a member.
		v := provenance.NewVerifier(keys)
		if err := v.Verify(ps[0], raws[0]); err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(c.p, c.raw); !errors.Is(err, c.want) {
			t.Errorf("%s: a warm Verifier says %v, want %v", c.name, err, c.want)
		}
		// Given the digest of the bytes received, VerifyDigest refuses
		// as Verify does.
		sum, err := ledger.ObjectDigest(c.raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.VerifyDigest(c.p, sum, c.raw); !errors.Is(err, c.want) {
			t.Errorf("%s: VerifyDigest says %v, want %v", c.name, err, c.want)
		}
	}
	for _, bad := range []provenance.Batch{
		{Size: 1, Index: 0, Root: make([]byte, 32)},
		{Size: 4, Index: 4, Root: make([]byte, 32)},
		{Size: 4, Index: -1, Root: make([]byte, 32)},
		{Size: 4, Index: 1, Root: make([]byte, 31)},
		{Size: 4, Index: 1, Root: make([]byte, 32), Proof: make([]byte, 33)},
	} {
		p := clone(ps[1])
		p.Origin.Batch = &bad
		if _, err := p.Encode(); !errors.Is(err, provenance.ErrMalformed) {
			t.Errorf("batch %+v: Encode = %v, want ErrMalformed", bad, err)
		}
	}
}

// BenchmarkVerifyBatch verifies every member of batches of 32, as a
// receiving node verifies a page: ratio is its time per version over
// Verify's for singly signed versions (lower is better).
func BenchmarkVerifyBatch(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	keys := func(string) (ed25519.PublicKey, bool) { return pub, true }
	raws, ps := signBatch(b, priv, "arcadia-cert", 32)
	singles := make([]provenance.Provenance, len(raws))
	for i, raw := range raws {
		singles[i], _ = provenance.Sign(priv, "arcadia-cert", raw)
	}
	b.ResetTimer()
	var batched, single float64
	for b.Loop() {
		v := provenance.NewVerifier(keys)
		start := testingNow()
		for i, p := range ps {
			if err := v.Verify(p, raws[i]); err != nil {
				b.Fatal(err)
			}
		}
		batched += since(start)
		start = testingNow()
		for i, p := range singles {
			if err := provenance.Verify(p, raws[i], keys); err != nil {
				b.Fatal(err)
			}
		}
		single += since(start)
	}
	b.ReportMetric(batched/single, "ratio")
}

// TestBatchEncodingGolden pins the JSON of a batch member.
func TestBatchEncodingGolden(t *testing.T) {
	seed := sha256.Sum256([]byte("arcadia"))
	_, ps := signBatch(t, ed25519.NewKeyFromSeed(seed[:]), "arcadia-cert", 3)
	enc, err := ps[2].Encode()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "batch.golden")
	if *update {
		if err := os.WriteFile(golden, append(enc, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if string(enc)+"\n" != string(want) {
		t.Errorf("encoding changed:\ngot  %s\nwant %s", enc, want)
	}
}
