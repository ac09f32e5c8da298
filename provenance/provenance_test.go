package provenance_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
	"github.com/entente/entente/policy"
	"github.com/entente/entente/provenance"
	"github.com/entente/entente/stix"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// A party node as the agreement knows it: an id and a signed-note key.
type party struct {
	id  string
	key *node.Key
}

// newParty makes a node key the way entente keygen does.
func newParty(t testing.TB, id string) party {
	t.Helper()
	skey, err := node.GenerateKey("cti." + id + ".example")
	if err != nil {
		t.Fatal(err)
	}
	k, err := node.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return party{id: id, key: k}
}

// keyring resolves node ids through their pinned verifier keys, as a
// receiving node resolves the agreement's.
func keyring(t testing.TB, ps ...party) func(string) (ed25519.PublicKey, bool) {
	t.Helper()
	keys := make(map[string]ed25519.PublicKey)
	for _, p := range ps {
		name, pub, err := provenance.PublicKey(p.key.VerifierKey)
		if err != nil {
			t.Fatal(err)
		}
		if name != p.key.Name {
			t.Fatalf("PublicKey gave name %q, want %q", name, p.key.Name)
		}
		keys[p.id] = pub
	}
	return func(id string) (ed25519.PublicKey, bool) {
		k, ok := keys[id]
		return k, ok
	}
}

const indicator = `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` +
	`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"C2 address",` +
	`"description":"seen in case 42","labels":["c2"],"confidence":80,` +
	`"pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`

// reformatted is indicator with other whitespace and key order, and a
// number spelled differently: the same RFC 8785 form.
const reformatted = `{ "spec_version": "2.1", "type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
	"modified": "2024-01-01T00:00:00.000Z", "created": "2024-01-01T00:00:00.000Z", "name": "C2 address",
	"description": "seen in case 42", "labels": [ "c2" ], "confidence": 8.0e1,
	"pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z" }`

func TestSignVerify(t *testing.T) {
	a := newParty(t, "arcadia-cert")
	p, err := provenance.Sign(a.key.Private, a.id, []byte(indicator))
	if err != nil {
		t.Fatal(err)
	}
	keys := keyring(t, a)
	for name, raw := range map[string]string{"as signed": indicator, "reformatted": reformatted} {
		if err := provenance.Verify(p, []byte(raw), keys); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestDigestAgrees checks that a signature names the digest the ledger
// records and the store hashes, for the same object.
func TestDigestAgrees(t *testing.T) {
	for _, raw := range []string{indicator, reformatted} {
		d, err := provenance.Digest([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		ld, err := ledger.ObjectDigest([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		if want := provenance.FormatDigest(ld); d != want {
			t.Errorf("Digest = %s, ledger.ObjectDigest = %s", d, want)
		}
		a := newParty(t, "arcadia-cert")
		p1, err := provenance.Sign(a.key.Private, a.id, []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		p2, err := provenance.SignDigest(a.key.Private, a.id, ld)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p1.Origin.Sig, p2.Origin.Sig) || p1.Origin.Digest != p2.Origin.Digest {
			t.Errorf("Sign and SignDigest differ: %+v, %+v", p1, p2)
		}
	}
}

func TestVerifyRefuses(t *testing.T) {
	a, b, mallory := newParty(t, "arcadia-cert"), newParty(t, "borealis-cert"), newParty(t, "mallory")
	keys := keyring(t, a, b)
	signed, err := provenance.Sign(a.key.Private, a.id, []byte(indicator))
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(indicator, "198.51.100.7", "198.51.100.8", 1)
	changedDigest, err := provenance.Digest([]byte(changed))
	if err != nil {
		t.Fatal(err)
	}
	forged, err := provenance.Sign(mallory.key.Private, a.id, []byte(indicator)) // mallory claims to be arcadia
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := provenance.Sign(mallory.key.Private, mallory.id, []byte(indicator))
	if err != nil {
		t.Fatal(err)
	}
	bForA, err := provenance.Sign(b.key.Private, a.id, []byte(indicator)) // a pinned key, but another node's
	if err != nil {
		t.Fatal(err)
	}
	retargeted := signed
	retargeted.Origin.Digest = changedDigest // the digest of the changed bytes, arcadia's signature
	renamed := signed
	renamed.Origin.Node = b.id // arcadia's signature, claimed for borealis

	for _, c := range []struct {
		name string
		p    provenance.Provenance
		raw  string
		want error
	}{
		{"changed bytes", signed, changed, provenance.ErrDigestMismatch},
		{"digest of the changed bytes", retargeted, changed, provenance.ErrBadSignature},
		{"forged with another key", forged, indicator, provenance.ErrBadSignature},
		{"re-signed with another pinned key", bForA, indicator, provenance.ErrBadSignature},
		{"signature moved to another node", renamed, indicator, provenance.ErrBadSignature},
		{"unpinned node", unknown, indicator, provenance.ErrUnknownNode},
		{"not canonicalizable", signed, `{"n": 1e400}`, provenance.ErrDigestMismatch},
		{"no signature", provenance.Provenance{Origin: provenance.Signature{Node: a.id, Digest: signed.Origin.Digest}}, indicator, provenance.ErrMalformed},
	} {
		err := provenance.Verify(c.p, []byte(c.raw), keys)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
		c14n, err := stix.Canonical([]byte(c.raw))
		if err != nil {
			continue // no digest to give VerifyDigest
		}
		err = provenance.NewVerifier(keys).VerifyDigest(c.p, sha256.Sum256(c14n), []byte(c.raw))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: VerifyDigest = %v, want %v", c.name, err, c.want)
		}
	}
}

// redact is what a releasing node does: policy.Apply builds the copy, and
// the node adds its redaction to the provenance.
func redact(t *testing.T, p provenance.Provenance, by party, raw string, props ...string) (provenance.Provenance, []byte) {
	t.Helper()
	o, err := stix.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	copy, err := policy.Apply(o, policy.Decision{Verdict: policy.Redact, Redact: props})
	if err != nil {
		t.Fatal(err)
	}
	rp, err := provenance.Redact(p, by.key.Private, by.id, props, copy.Raw)
	if err != nil {
		t.Fatal(err)
	}
	return rp, copy.Raw
}

func TestRedaction(t *testing.T) {
	a, b, c := newParty(t, "arcadia-cert"), newParty(t, "borealis-cert"), newParty(t, "caledonia-cert")
	origin, err := provenance.Sign(a.key.Private, a.id, []byte(indicator))
	if err != nil {
		t.Fatal(err)
	}
	// Arcadia releases to Borealis without the description.
	p, copyRaw := redact(t, origin, a, indicator, "description")
	if p.Origin.Node != a.id || p.Redaction.By != a.id || !slices.Equal(p.Redaction.Removed, []string{"description"}) {
		t.Fatalf("redacted provenance %+v", p)
	}
	if err := provenance.Verify(p, copyRaw, keyring(t, a)); err != nil {
		t.Fatalf("the redacted copy: %v", err)
	}
	// The originator's signature, alone, still verifies the original.
	if err := provenance.Verify(provenance.Provenance{Origin: p.Origin}, []byte(indicator), keyring(t, a)); err != nil {
		t.Fatalf("the origin signature of a redacted copy, over the original: %v", err)
	}

	// Borealis passes it on to Caledonia without the labels: Caledonia
	// knows both nodes' keys and verifies the originator and the redactor.
	p2, copy2 := redact(t, p, b, string(copyRaw), "labels")
	if p2.Redaction.By != b.id || !slices.Equal(p2.Redaction.Removed, []string{"description", "labels"}) {
		t.Fatalf("re-redacted provenance %+v", p2.Redaction)
	}
	third := keyring(t, a, b)
	if err := provenance.Verify(p2, copy2, third); err != nil {
		t.Fatalf("the onward copy: %v", err)
	}
	if sum, err := ledger.ObjectDigest(copy2); err != nil {
		t.Fatal(err)
	} else if err := provenance.NewVerifier(third).VerifyDigest(p2, sum, copy2); err != nil {
		t.Fatalf("the onward copy, by its digest: %v", err)
	}
	if err := provenance.Verify(p2, copy2, keyring(t, b, c)); !errors.Is(err, provenance.ErrUnknownNode) {
		t.Errorf("without the originator's key: %v, want ErrUnknownNode", err)
	}
	if err := provenance.Verify(p2, copy2, keyring(t, a, c)); !errors.Is(err, provenance.ErrUnknownNode) {
		t.Errorf("without the redactor's key: %v, want ErrUnknownNode", err)
	}

	lessRemoved := *p2.Redaction
	lessRemoved.Removed = []string{"labels"} // hides that the description was removed
	moreRemoved := *p2.Redaction
	moreRemoved.Removed = []string{"description", "external_references", "labels"}
	otherBy := *p2.Redaction
	otherBy.By = c.id
	originSig := *p2.Redaction
	originSig.Sig = p2.Origin.Sig // a signature made for another purpose
	sameDigest := *p2.Redaction
	sameDigest.Digest = p2.Origin.Digest
	var withLabels map[string]any
	if err := json.Unmarshal(copy2, &withLabels); err != nil {
		t.Fatal(err)
	}
	withLabels["labels"] = []string{"c2"}
	stillThere, _ := json.Marshal(withLabels)
	stillThereDigest, err := provenance.Digest(stillThere)
	if err != nil {
		t.Fatal(err)
	}
	claimsStillThere := *p2.Redaction
	claimsStillThere.Digest = stillThereDigest

	for _, tc := range []struct {
		name string
		r    provenance.Redaction
		raw  []byte
		keys func(string) (ed25519.PublicKey, bool)
		want error
	}{
		{"fewer removed", lessRemoved, copy2, third, provenance.ErrBadSignature},
		{"more removed", moreRemoved, copy2, third, provenance.ErrBadSignature},
		{"another redactor", otherBy, copy2, keyring(t, a, b, c), provenance.ErrBadSignature},
		{"the origin signature as the redaction's", originSig, copy2, third, provenance.ErrBadSignature},
		{"nothing removed", sameDigest, []byte(indicator), third, provenance.ErrRedactionMismatch},
		{"a removed property is there", claimsStillThere, stillThere, third, provenance.ErrRedactionMismatch},
		{"changed after redaction", *p2.Redaction, []byte(indicator), third, provenance.ErrDigestMismatch},
	} {
		r := tc.r
		err := provenance.Verify(provenance.Provenance{Origin: p2.Origin, Redaction: &r}, tc.raw, tc.keys)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
		}
		sum, err := ledger.ObjectDigest(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		err = provenance.NewVerifier(tc.keys).VerifyDigest(provenance.Provenance{Origin: p2.Origin, Redaction: &r}, sum, tc.raw)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: VerifyDigest = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestRedactRefuses(t *testing.T) {
	a := newParty(t, "arcadia-cert")
	p, err := provenance.Sign(a.key.Private, a.id, []byte(indicator))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		removed []string
		raw     string
	}{
		{"nothing removed", nil, indicator},
		{"removed but present", []string{"description"}, indicator},
		{"the id", []string{"id"}, indicator},
		{"not JSON", []string{"description"}, `not json`},
	} {
		if _, err := provenance.Redact(p, a.key.Private, a.id, c.removed, []byte(c.raw)); err == nil {
			t.Errorf("%s: Redact succeeded", c.name)
		}
	}
}

func TestSignRefuses(t *testing.T) {
	a := newParty(t, "arcadia-cert")
	for _, id := range []string{"", "two words", "line\nbreak", strings.Repeat("x", 300)} {
		if _, err := provenance.Sign(a.key.Private, id, []byte(indicator)); !errors.Is(err, provenance.ErrMalformed) {
			t.Errorf("Sign as %q: %v, want ErrMalformed", id, err)
		}
	}
	if _, err := provenance.Sign(nil, a.id, []byte(indicator)); err == nil {
		t.Error("Sign without a signer succeeded")
	}
	if _, err := provenance.Sign(a.key.Private, a.id, []byte(`{"n": 1e400}`)); err == nil {
		t.Error("Sign of an object without a canonical form succeeded")
	}
}

func TestPublicKey(t *testing.T) {
	a := newParty(t, "arcadia-cert")
	_, pub, err := provenance.PublicKey(a.key.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(a.key.Private.Public()) {
		t.Error("PublicKey returned another key")
	}
	// A witness key (type 0x04) is a valid verifier key, but not an
	// Ed25519 signing key.
	if _, _, err := provenance.PublicKey(a.key.WitnessVerifierKey()); err == nil {
		t.Error("PublicKey accepted a cosignature key")
	}
	if _, _, err := provenance.PublicKey("not a key"); err == nil {
		t.Error("PublicKey accepted garbage")
	}
	_, vkey, err := note.GenerateKey(nil, "x")
	if err == nil {
		if _, _, err := provenance.PublicKey(vkey); err != nil {
			t.Errorf("a note key: %v", err)
		}
	}
}

// TestEncodingGolden pins the JSON encoding: partners decode what others
// encode, so the bytes must not drift. Ed25519 signatures are
// deterministic, so a fixed key gives fixed bytes.
func TestEncodingGolden(t *testing.T) {
	seedA, seedB := sha256.Sum256([]byte("arcadia")), sha256.Sum256([]byte("borealis"))
	a, b := ed25519.NewKeyFromSeed(seedA[:]), ed25519.NewKeyFromSeed(seedB[:])
	p, err := provenance.Sign(a, "arcadia-cert", []byte(indicator))
	if err != nil {
		t.Fatal(err)
	}
	o, err := stix.Parse([]byte(indicator))
	if err != nil {
		t.Fatal(err)
	}
	c, err := policy.Apply(o, policy.Decision{Verdict: policy.Redact, Redact: []string{"labels", "description"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := provenance.Redact(p, b, "borealis-cert", []string{"labels", "description"}, c.Raw)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for _, x := range []provenance.Provenance{p, r} {
		enc, err := x.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got.Write(enc)
		got.WriteByte('\n')
		back, err := provenance.Decode(enc)
		if err != nil {
			t.Fatal(err)
		}
		again, err := back.Encode()
		if err != nil || !bytes.Equal(again, enc) {
			t.Errorf("Encode(Decode(e)) = %s, %v; want %s", again, err, enc)
		}
	}
	golden := filepath.Join("testdata", "encoding.golden")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("encoding changed:\ngot  %s\nwant %s", got.Bytes(), want)
	}
}

func TestDecodeRefuses(t *testing.T) {
	a := newParty(t, "arcadia-cert")
	p, err := provenance.Sign(a.key.Private, a.id, []byte(indicator))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	good := string(enc)
	sig := `"` + strings.Split(strings.Split(good, `"sig":"`)[1], `"`)[0] + `"`
	digest := `"` + p.Origin.Digest + `"`
	for name, in := range map[string]string{
		"empty":            ``,
		"null":             `null`,
		"a list":           `[]`,
		"unknown name":     strings.Replace(good, `{"origin"`, `{"x":1,"origin"`, 1),
		"name twice":       strings.Replace(good, `{"origin":`, `{"origin":{},"origin":`, 1),
		"upper-case hex":   strings.Replace(good, digest, strings.ToUpper(digest), 1),
		"short digest":     strings.Replace(good, digest, `"sha256:00"`, 1),
		"other algorithm":  strings.Replace(good, `sha256:`, `sha512:`, 1),
		"short sig":        strings.Replace(good, sig, `"AAAA"`, 1),
		"no node":          strings.Replace(good, `"node":"arcadia-cert"`, `"node":""`, 1),
		"unsorted removed": strings.Replace(good, `}}`, `},"redaction":{"by":"b","removed":["z","a"],"digest":`+digest+`,"sig":`+sig+`}}`, 1),
		"empty removed":    strings.Replace(good, `}}`, `},"redaction":{"by":"b","removed":[],"digest":`+digest+`,"sig":`+sig+`}}`, 1),
		"trailing data":    good + `{}`,
	} {
		if _, err := provenance.Decode([]byte(in)); !errors.Is(err, provenance.ErrMalformed) && !errors.Is(err, provenance.ErrRedactionMismatch) {
			t.Errorf("%s: Decode(%s) = %v, want ErrMalformed", name, in, err)
		}
	}
	withRedaction := strings.Replace(good, `}}`, `},"redaction":{"by":"b","removed":["a","z"],"digest":`+digest+`,"sig":`+sig+`}}`, 1)
	if _, err := provenance.Decode([]byte(withRedaction)); err != nil {
		t.Errorf("a well-formed redaction: %v", err)
	}
}

func BenchmarkSignDigest(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(nil)
	sum := sha256.Sum256([]byte(indicator))
	for b.Loop() {
		if _, err := provenance.SignDigest(priv, "arcadia-cert", sum); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	p, _ := provenance.Sign(priv, "arcadia-cert", []byte(indicator))
	keys := func(string) (ed25519.PublicKey, bool) { return pub, true }
	for b.Loop() {
		if err := provenance.Verify(p, []byte(indicator), keys); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(nil)
	p, _ := provenance.SignDigest(priv, "arcadia-cert", sha256.Sum256([]byte(indicator)))
	for b.Loop() {
		if _, err := p.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

func testingNow() time.Time     { return time.Now() }
func since(t time.Time) float64 { return time.Since(t).Seconds() }
