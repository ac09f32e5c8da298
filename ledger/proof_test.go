package ledger

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// proofFixture is a log of 300 entries, its checkpoint cosigned by two of
// three witnesses, and the policy "2 of 3".
type proofFixture struct {
	log        testLog
	verifier   note.Verifier
	checkpoint []byte
	policy     Policy
}

func newProofFixture(t testing.TB) *proofFixture {
	f := &proofFixture{}
	signer, verifier, _ := testKey(t, "node.a.example/1", 31)
	f.verifier = verifier
	f.log.appendBatch(t, 300, seeded(13))
	w1, w2, w3 := testCosigner(t, "w1.example", 32), testCosigner(t, "w2.example", 33), testCosigner(t, "w3.example", 34)
	c := Checkpoint{Origin: testOrigin, Tree: f.log.tree(t, 300)}
	msg, err := note.Sign(&note.Note{Text: c.String()}, signer, w1, w3)
	if err != nil {
		t.Fatal(err)
	}
	f.checkpoint = msg
	if f.policy, err = NewPolicy(2, w1.VerifierKey(), w2.VerifierKey(), w3.VerifierKey()); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *proofFixture) proof(t testing.TB, index int64) Proof {
	incl, err := ProveInclusion(300, index, f.log.hashes)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewProof(f.log.entries[index], index, incl, f.checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProofVerifies(t *testing.T) {
	f := newProofFixture(t)
	text := f.proof(t, 257).Marshal()
	if !bytes.HasPrefix(text, []byte("c2sp.org/tlog-proof@v1\nextra ")) || !bytes.Contains(text, []byte("\nindex 257\n")) {
		t.Fatalf("proof text:\n%s", text)
	}
	o, c, err := VerifyProof(text, testOrigin, f.verifier, f.policy)
	if err != nil {
		t.Fatal(err)
	}
	if c.N != 300 || o.Salt != f.log.entries[257].Salt || o.Entry.Event.Kind() != f.log.entries[257].Entry.Event.Kind() {
		t.Errorf("verified %+v at %+v", o, c)
	}

	// The opening of another entry, at the same index, does not verify.
	other := f.proof(t, 257)
	other.Extra, _ = f.log.entries[258].MarshalBinary()
	if _, _, err := VerifyProof(other.Marshal(), testOrigin, f.verifier, f.policy); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("another entry's opening: %v", err)
	}
	// Nor the right one at another index.
	moved := f.proof(t, 257)
	moved.Index = 256
	if _, _, err := VerifyProof(moved.Marshal(), testOrigin, f.verifier, f.policy); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("another index: %v", err)
	}
	// A stricter policy than the cosignatures meet.
	strict := f.policy
	strict.Threshold = 3
	if _, _, err := VerifyProof(text, testOrigin, f.verifier, strict); !errors.Is(err, ErrNotFinal) {
		t.Errorf("3 of 3: %v", err)
	}
	bare := f.proof(t, 1)
	bare.Extra = nil
	if _, _, err := VerifyProof(bare.Marshal(), testOrigin, f.verifier, f.policy); !errors.Is(err, ErrMalformedProof) {
		t.Errorf("no opening: %v", err)
	}
	// Every single-bit change of the proof hashes is caught.
	p := f.proof(t, 100)
	for k := range p.Inclusion {
		for _, bit := range []int{0, 77, 255} {
			q := p
			q.Inclusion = append(tlog.RecordProof(nil), p.Inclusion...)
			q.Inclusion[k] = flipBit(q.Inclusion[k], bit)
			if _, _, err := VerifyProof(q.Marshal(), testOrigin, f.verifier, f.policy); !errors.Is(err, ErrInvalidProof) {
				t.Errorf("hash %d bit %d flipped: %v", k, bit, err)
			}
		}
	}
}

func TestParseProof(t *testing.T) {
	h := tlog.Hash{1}.String()
	cp := "o\n1\n" + h + "\n\n— k AAAA\n"
	for _, good := range []string{
		"c2sp.org/tlog-proof@v1\nindex 0\n\n" + cp,
		"c2sp.org/tlog-proof@v1\nextra AQID\nindex 7\n" + h + "\n" + h + "\n\n" + cp,
	} {
		p, err := ParseProof([]byte(good))
		if err != nil {
			t.Errorf("ParseProof(%q): %v", good, err)
			continue
		}
		if string(p.Marshal()) != good {
			t.Errorf("round trip of %q gave %q", good, p.Marshal())
		}
	}
	for _, bad := range []string{
		"", "c2sp.org/tlog-proof@v2\nindex 0\n\n" + cp,
		"c2sp.org/tlog-proof@v1\nindex 01\n\n" + cp,
		"c2sp.org/tlog-proof@v1\nindex -1\n\n" + cp,
		"c2sp.org/tlog-proof@v1\nextra \nindex 0\n\n" + cp,
		"c2sp.org/tlog-proof@v1\nextra AQI\nindex 0\n\n" + cp,
		"c2sp.org/tlog-proof@v1\nindex 0\n" + h + "\n",
		"c2sp.org/tlog-proof@v1\nindex 0\n" + h[:43] + "\n\n" + cp,
		"c2sp.org/tlog-proof@v1\nindex 0\n\n",
		"c2sp.org/tlog-proof@v1\nindex 0\n" + strings.Repeat(h+"\n", 64) + "\n" + cp,
		"c2sp.org/tlog-proof@v1\nextra AQID\n",
	} {
		if p, err := ParseProof([]byte(bad)); !errors.Is(err, ErrMalformedProof) {
			t.Errorf("ParseProof(%q) = %+v, %v; want ErrMalformedProof", bad, p, err)
		}
	}
}

// FuzzParseProof checks that parsing never panics, that what it accepts
// marshals back to the same bytes, and that verifying never panics.
func FuzzParseProof(f *testing.F) {
	fx := newProofFixture(f)
	f.Add(fx.proof(f, 0).Marshal())
	f.Add(fx.proof(f, 299).Marshal())
	f.Add([]byte("c2sp.org/tlog-proof@v1\nindex 0\n\nx\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		p, err := ParseProof(text)
		if err == nil && !bytes.Equal(p.Marshal(), text) {
			t.Fatalf("parsed %q, printed %q", text, p.Marshal())
		}
		VerifyProof(text, testOrigin, fx.verifier, fx.policy)
	})
}
