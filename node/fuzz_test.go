package node

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/ledger"
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

// fuzzKey signs the proofs of FuzzCheckProof's seeds; it protects nothing.
const fuzzKey = "PRIVATE+KEY+fuzz.example+8268fcc7+AdvsHQH0gRmUCr91y0AFci+ZkEpmkI/Sl8O/Z8F2WPYZ"

// fuzzProof returns a valid proof of entry 1 of a three-entry log signed
// with fuzzKey.
func fuzzProof(tb testing.TB) (*Key, []byte) {
	k, err := ParseKey(fuzzKey)
	if err != nil {
		tb.Fatal(err)
	}
	b := ledger.NewBatch(0, nil)
	var op ledger.Opening
	for i := range 3 {
		e := ledger.Entry{Time: time.Unix(int64(1e9+i), 0).UTC(), Event: ledger.Originated{Object: ledger.ObjectRef{ID: "indicator--" + strconv.Itoa(i), Version: "2024-01-01T00:00:00.000Z"}}}
		o, c, err := ledger.Commit(e, strings.NewReader(strings.Repeat("salt", 8)))
		if err != nil {
			tb.Fatal(err)
		}
		if i == 1 {
			op = o
		}
		if _, err := b.Append(c); err != nil {
			tb.Fatal(err)
		}
	}
	tree, err := b.Tree()
	if err != nil {
		tb.Fatal(err)
	}
	signed, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: DefaultLogName(k), Tree: tree}, k.Signer)
	if err != nil {
		tb.Fatal(err)
	}
	incl, err := ledger.ProveInclusion(3, 1, b)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := ledger.NewProof(op, 1, incl, signed)
	if err != nil {
		tb.Fatal(err)
	}
	return k, p.Marshal()
}

// FuzzCheckProof feeds arbitrary proofs to what `entente ledger check`
// runs: it must never panic, and what it accepts must be signed by the
// key for the log the key names and open an entry of it.
func FuzzCheckProof(f *testing.F) {
	k, valid := fuzzProof(f)
	f.Add(valid)
	f.Add([]byte("c2sp.org/tlog-proof@v1\nindex 0\n\nx\n"))
	v, err := note.NewVerifier(k.VerifierKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		CheckpointOf(text)
		op, cp, err := CheckProof(text, v, "", ledger.Policy{}, nil)
		if err != nil {
			return
		}
		if cp.Origin != DefaultLogName(k) {
			t.Errorf("accepted a checkpoint of %q", cp.Origin)
		}
		if _, err := op.Commitment(); err != nil {
			t.Errorf("accepted an opening that does not commit: %v", err)
		}
	})
}

func TestCheckProofSeed(t *testing.T) {
	k, valid := fuzzProof(t)
	v, _ := note.NewVerifier(k.VerifierKey)
	if _, _, err := CheckProof(valid, v, "", ledger.Policy{}, nil); err != nil {
		t.Fatalf("the seed proof does not verify: %v", err)
	}
	if _, _, err := CheckProof(valid, v, "other/ledger", ledger.Policy{}, nil); err == nil {
		t.Errorf("the seed proof verified for another log")
	}
}

// FuzzNodePublicKey reads arbitrary text as a node key the agreement pins:
// it must never panic, must accept only Ed25519 keys, and must give back
// the key that the verifier encoding holds.
func FuzzNodePublicKey(f *testing.F) {
	f.Add("arcadia-node-1+1daf95b7+AZ8Mdt1CEf2JlEWHRUVAqsLS1+GGnI8P1Kg3GZm44Vpt")
	f.Add("arcadia-node-1+3c7c2612+BHSb29AGTTPGhaY5XCG6m1CVOJ71hPAryxoa7N6XI3AU") // a witness key, type 0x04
	f.Add("name+00000000+")
	f.Add("+++")
	f.Fuzz(func(t *testing.T, vkey string) {
		pub, err := nodePublicKey(vkey)
		if err != nil {
			return
		}
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return // a name note refuses; the key's bytes still read
		}
		got, err := note.NewEd25519VerifierKey(v.Name(), pub)
		if err != nil || got != vkey {
			t.Fatalf("nodePublicKey(%q) = %x, which encodes as %q (%v)", vkey, pub, got, err)
		}
	})
}

// FuzzIsCaseRaw holds isCaseRaw, which skips decoding bytes that cannot
// hold a case id, to the answer of decoding them: the id's type is a case
// type.
func FuzzIsCaseRaw(f *testing.F) {
	f.Add([]byte(indicator(1, "2024-01-01T00:00:00.000Z")))
	f.Add([]byte(`{"type":"entente-incident","id":"entente-incident--5d0092c5-5f74-4287-9642-33f4c354e56d"}`))
	f.Add([]byte(`{"id":"\u0065ntente-incident--5d0092c5-5f74-4287-9642-33f4c354e56d"}`))
	f.Add([]byte(`{"ID":"entente-assistance--5d0092c5-5f74-4287-9642-33f4c354e56d"}`))
	f.Add([]byte(`{"id":"indicator--5d0092c5-5f74-4287-9642-33f4c354e56d","name":"entente-"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		id, _ := identify(raw)
		typ, _, _ := strings.Cut(id, "--")
		if got, want := isCaseRaw(raw), isCaseType(typ); got != want {
			t.Errorf("isCaseRaw(%q) = %v, want %v", raw, got, want)
		}
	})
}

// TestCaseTypePrefix: isCaseRaw relies on every case type beginning with
// caseTypePrefix.
func TestCaseTypePrefix(t *testing.T) {
	for _, typ := range caseTypes() {
		if !strings.HasPrefix(typ, string(caseTypePrefix)) {
			t.Errorf("case type %q does not begin with %q", typ, caseTypePrefix)
		}
	}
}
