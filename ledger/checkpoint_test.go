package ledger

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	fmtnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func readVector(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/c2sp/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testKey returns a node-style (type 0x01) signed-note key pair.
func testKey(t testing.TB, name string, seed byte) (note.Signer, note.Verifier, ed25519.PrivateKey) {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	priv = ed25519.NewKeyFromSeed(append([]byte{seed}, priv.Seed()[1:]...))
	vkey, err := note.NewEd25519VerifierKey(name, priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skeyFor(vkey, priv))
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v, priv
}

func TestCheckpointVectors(t *testing.T) {
	// The signed-note example verifies with x/mod's verifier, which the
	// ledger uses for checkpoints.
	v, err := note.NewVerifier(strings.TrimSpace(readVector(t, "signed-note.vkey")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open([]byte(readVector(t, "signed-note.txt")), note.VerifierList(v)); err != nil {
		t.Fatalf("signed-note example: %v", err)
	}

	text, _ := noteBody([]byte(readVector(t, "checkpoint.txt")))
	c, err := ParseCheckpoint(string(text))
	if err != nil {
		t.Fatal(err)
	}
	if c.Origin != "example.com/behind-the-sofa" || c.N != 20852163 || c.Hash.String() != "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=" {
		t.Errorf("parsed %+v", c)
	}
	if c.String() != string(text) {
		t.Errorf("String() = %q, want %q", c.String(), text)
	}
}

func TestCheckpointSignOpen(t *testing.T) {
	signer, verifier, _ := testKey(t, "node.a.example/1", 1)
	var l testLog
	l.appendBatch(t, 3, seeded(6))
	c := Checkpoint{Origin: "a.example/ledger", Tree: l.tree(t, 3)}
	msg, err := SignCheckpoint(c, signer)
	if err != nil {
		t.Fatal(err)
	}
	want := "a.example/ledger\n3\n" + c.Hash.String() + "\n\n— node.a.example/1 "
	if !strings.HasPrefix(string(msg), want) {
		t.Errorf("signed checkpoint %q does not start with %q", msg, want)
	}
	// x/mod's verifier alone reads it.
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil || n.Text != c.String() {
		t.Fatalf("note.Open: %v, %q", err, n.Text)
	}
	got, _, err := OpenCheckpoint(msg, "a.example/ledger", verifier)
	if err != nil || got.Tree != c.Tree || got.Origin != c.Origin {
		t.Fatalf("OpenCheckpoint = %+v, %v", got, err)
	}
	if _, _, err := OpenCheckpoint(msg, "b.example/ledger", verifier); !errors.Is(err, ErrWrongOrigin) {
		t.Errorf("other origin: %v", err)
	}
	_, other, _ := testKey(t, "node.a.example/1", 2)
	if _, _, err := OpenCheckpoint(msg, "a.example/ledger", other); err == nil {
		t.Error("a checkpoint verified under another key")
	}
	tampered := strings.Replace(string(msg), "\n3\n", "\n4\n", 1)
	if _, _, err := OpenCheckpoint([]byte(tampered), "a.example/ledger", verifier); err == nil {
		t.Error("a tampered checkpoint verified")
	}
	// A witness's cosignature on it does not make a log signature.
	w := testCosigner(t, "node.a.example/1", 3)
	cosigned, err := note.Sign(&note.Note{Text: c.String()}, w)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenCheckpoint(cosigned, "a.example/ledger", verifier, w.Verifier()); err == nil {
		t.Error("a checkpoint with only a cosignature verified as signed by the log")
	}
}

func TestParseCheckpointRejects(t *testing.T) {
	h := tlog.Hash{1}.String()
	for _, text := range []string{
		"",
		"o\n1\n" + h,                           // no final newline
		"o\n1\n",                               // no hash
		"\n1\n" + h + "\n",                     // empty origin
		"o\n01\n" + h + "\n",                   // leading zero
		"o\n+1\n" + h + "\n",                   // sign
		"o\n-1\n" + h + "\n",                   // negative
		"o\n99999999999999999999\n" + h + "\n", // overflow
		"o\n1\n" + h[:len(h)-1] + "\n",         // short base64
		"o\n1\nAAAA\n",                         // short hash
		"o\n1\n" + h + "\n\n",                  // empty extension
		"o\n1\n" + h + "\next\n\n",             // empty extension after one
		"o\r\n1\n" + h + "\n",                  // control character
		"o\xff\n1\n" + h + "\n",                // invalid UTF-8
		"o\n0\n" + h + "\n",                    // empty tree, wrong root
		"o\n1\n" + strings.ReplaceAll(h, "=", "") + "\n",
	} {
		if c, err := ParseCheckpoint(text); !errors.Is(err, ErrMalformedCheckpoint) {
			t.Errorf("ParseCheckpoint(%q) = %+v, %v; want ErrMalformedCheckpoint", text, c, err)
		}
	}
	c, err := ParseCheckpoint("o\n1\n" + h + "\nfirst\nsecond\n")
	if err != nil || len(c.Extensions) != 2 {
		t.Errorf("extensions: %+v, %v", c, err)
	}
	if c, err := ParseCheckpoint("o\n0\n" + EmptyTreeHash.String() + "\n"); err != nil || c.N != 0 {
		t.Errorf("empty log: %+v, %v", c, err)
	}
}

// FuzzParseCheckpoint checks that parsing never panics and that whatever
// it accepts prints back to the same text.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")
	f.Add("o\n0\n" + EmptyTreeHash.String() + "\next\n")
	f.Add("o\n01\nAAAA\n\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseCheckpoint(text)
		if err != nil {
			if !errors.Is(err, ErrMalformedCheckpoint) {
				t.Fatalf("error %v does not wrap ErrMalformedCheckpoint", err)
			}
			return
		}
		if c.String() != text {
			t.Fatalf("parsed %q, printed %q", text, c.String())
		}
	})
}

func testCosigner(t testing.TB, name string, seed byte) *Cosigner {
	t.Helper()
	_, _, priv := testKey(t, name, seed)
	s, err := NewCosigner(name, priv, func() time.Time { return time.Unix(1679315147, 0) })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCosignatureVectors(t *testing.T) {
	v, err := NewCosignatureVerifier(strings.TrimSpace(readVector(t, "witness.vkey")))
	if err != nil {
		t.Fatalf("published 0x04 key: %v", err)
	}
	if v.KeyHash() != 0xda77ade7 {
		t.Errorf("key ID %08x, want da77ade7", v.KeyHash())
	}
	// The spec's cosigned checkpoint: its witness signature carries the
	// timestamp of the spec's signed-message example.
	msg := readVector(t, "cosigned-checkpoint.txt")
	line := msg[strings.LastIndex(msg, "— witness.example.com/w1 "):]
	sig := note.Signature{Name: "witness.example.com/w1", Base64: strings.TrimSpace(strings.Fields(line)[2])}
	ts, err := CosignatureTime(sig)
	if err != nil || ts.Unix() != 1679315147 {
		t.Errorf("CosignatureTime = %v, %v; want 1679315147", ts.Unix(), err)
	}
	// The log's own signature is not a cosignature.
	logSig := note.Signature{Name: "example.com/behind-the-sofa", Base64: "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8="}
	if _, err := CosignatureTime(logSig); err == nil {
		t.Error("an Ed25519 signature read as a cosignature")
	}
}

// TestCosignatureInterop checks cosignatures both ways against
// github.com/transparency-dev/formats, an independent implementation of
// tlog-cosignature.
func TestCosignatureInterop(t *testing.T) {
	text := "a.example/ledger\n7\n" + tlog.Hash{7}.String() + "\n"
	ours := testCosigner(t, "witness.b.example", 4)

	// Ours, verified by theirs, from our 0x04 verifier key.
	signed, err := note.Sign(&note.Note{Text: text}, ours)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ours.VerifierKey(), "witness.b.example+") {
		t.Fatalf("verifier key %q", ours.VerifierKey())
	}
	theirV, err := fmtnote.NewVerifierForCosignatureV1(ours.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(signed, note.VerifierList(theirV))
	if err != nil {
		t.Fatalf("formats does not verify our cosignature: %v", err)
	}
	if ts, err := fmtnote.CoSigV1Timestamp(n.Sigs[0]); err != nil || ts.Unix() != 1679315147 {
		t.Errorf("formats reads our timestamp as %v, %v", ts, err)
	}

	// Theirs, verified by ours, from a plain Ed25519 (0x01) node key.
	_, _, priv := testKey(t, "witness.c.example", 5)
	vkey, _ := note.NewEd25519VerifierKey("witness.c.example", priv.Public().(ed25519.PublicKey))
	theirS, err := fmtnote.NewSignerForCosignatureV1(skeyFor(vkey, priv))
	if err != nil {
		t.Fatal(err)
	}
	signed, err = note.Sign(&note.Note{Text: text}, theirS)
	if err != nil {
		t.Fatal(err)
	}
	ourV, err := NewCosignatureVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if ourV.KeyHash() != theirS.KeyHash() {
		t.Fatalf("key IDs differ: ours %08x, formats %08x", ourV.KeyHash(), theirS.KeyHash())
	}
	if _, err := note.Open(signed, note.VerifierList(ourV)); err != nil {
		t.Fatalf("we do not verify formats' cosignature: %v", err)
	}
	// A plain Ed25519 note signature by the same key is not a cosignature.
	plain, _, _ := testKey(t, "witness.c.example", 5)
	signed, _ = note.Sign(&note.Note{Text: text}, plain)
	if _, err := note.Open(signed, note.VerifierList(ourV)); err == nil {
		t.Error("a plain Ed25519 signature verified as a cosignature")
	}
}

func TestCosignature(t *testing.T) {
	s := testCosigner(t, "w.example", 6)
	text := []byte("o\n1\n" + tlog.Hash{1}.String() + "\n")
	sig, err := s.Sign(text)
	if err != nil {
		t.Fatal(err)
	}
	v := s.Verifier()
	if !v.Verify(text, sig) {
		t.Fatal("own cosignature does not verify")
	}
	// The signed message is exactly the spec's.
	msg := "cosignature/v1\ntime 1679315147\n" + string(text)
	if !ed25519.Verify(s.key.Public().(ed25519.PublicKey), []byte(msg), sig[8:]) {
		t.Error("the signature is not over the spec's message")
	}
	if v.Verify(append(text, 'x'), sig) {
		t.Error("cosignature verified over other text")
	}
	bad := append([]byte(nil), sig...)
	bad[0] = 0x80 // timestamp beyond 2^63-1
	if v.Verify(text, bad) {
		t.Error("cosignature with a timestamp beyond 2^63-1 verified")
	}
	if v.Verify(text, sig[:71]) {
		t.Error("short cosignature verified")
	}
	for _, vk := range []string{
		"", "w.example", "w.example+00000000+" + b64(append([]byte{4}, make([]byte, 32)...)),
		"w.example+zzzzzzzz+AAAA", "w example+00000000+AAAA",
		"w.example+" + s.VerifierKey()[len("w.example+"):len("w.example+")+8] + "+" + b64(append([]byte{2}, s.key.Public().(ed25519.PublicKey)...)),
	} {
		if _, err := NewCosignatureVerifier(vk); err == nil {
			t.Errorf("NewCosignatureVerifier(%q) succeeded", vk)
		}
	}
	if _, err := NewCosigner("a+b", s.key, nil); err == nil {
		t.Error("a key name with '+' was accepted")
	}
	if _, err := NewCosignatureVerifier(s.VerifierKey()); err != nil {
		t.Errorf("own verifier key: %v", err)
	}
}

func TestAddCosignatures(t *testing.T) {
	signer, verifier, _ := testKey(t, "node.a.example/1", 1)
	c := Checkpoint{Origin: "a.example/ledger", Tree: tlog.Tree{N: 1, Hash: tlog.Hash{1}}}
	msg, _ := SignCheckpoint(c, signer)
	w := testCosigner(t, "w.example", 7)
	cosigned, _ := note.Sign(&note.Note{Text: c.String()}, w)
	lines := cosigned[len(c.String())+1:]
	both, err := AddCosignatures(msg, lines)
	if err != nil {
		t.Fatal(err)
	}
	if _, n, err := OpenCheckpoint(both, c.Origin, verifier, w.Verifier()); err != nil || len(n.Sigs) != 2 {
		t.Fatalf("OpenCheckpoint: %v", err)
	}
	for _, bad := range []string{"", "— w.example AAAA", "w.example AAAA\n", "— w.example AA AA\n"} {
		if _, err := AddCosignatures(msg, []byte(bad)); err == nil {
			t.Errorf("AddCosignatures(%q) succeeded", bad)
		}
	}
}

func TestPolicy(t *testing.T) {
	signer, verifier, _ := testKey(t, "node.a.example/1", 1)
	c := Checkpoint{Origin: "a.example/ledger", Tree: tlog.Tree{N: 1, Hash: tlog.Hash{1}}}
	w1, w2, w3 := testCosigner(t, "w1.example", 11), testCosigner(t, "w2.example", 12), testCosigner(t, "w3.example", 13)
	p, err := NewPolicy(2, w1.VerifierKey(), w2.VerifierKey(), w3.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	cosign := func(s ...note.Signer) []byte {
		msg, err := note.Sign(&note.Note{Text: c.String()}, append([]note.Signer{signer}, s...)...)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	if _, err := p.Final(cosign(w1), c.Origin, verifier); !errors.Is(err, ErrNotFinal) {
		t.Errorf("1 of 3 with threshold 2: %v", err)
	}
	if got, err := p.Final(cosign(w1, w3), c.Origin, verifier); err != nil || got.Tree != c.Tree {
		t.Errorf("2 of 3: %+v, %v", got, err)
	}
	stranger := testCosigner(t, "w4.example", 14)
	if _, err := p.Final(cosign(w1, stranger), c.Origin, verifier); !errors.Is(err, ErrNotFinal) {
		t.Errorf("an unknown witness counted: %v", err)
	}
	// A witness's name under another key does not count.
	impostor := testCosigner(t, "w2.example", 15)
	if _, err := p.Final(cosign(w1, impostor), c.Origin, verifier); !errors.Is(err, ErrNotFinal) {
		t.Errorf("an impostor counted: %v", err)
	}
	if _, err := NewPolicy(3, w1.VerifierKey(), w1.VerifierKey(), w2.VerifierKey()); err == nil {
		t.Error("a policy listing one witness twice was accepted")
	}
	if _, err := NewPolicy(3, w1.VerifierKey()); err == nil {
		t.Error("a threshold above the witnesses was accepted")
	}
	none, err := NewPolicy(0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := none.Final(cosign(), c.Origin, verifier); err != nil {
		t.Errorf("threshold 0: %v", err)
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// skeyFor returns the signed-note private key of an Ed25519 vkey.
func skeyFor(vkey string, priv ed25519.PrivateKey) string {
	f := strings.SplitN(vkey, "+", 3)
	return "PRIVATE+KEY+" + f[0] + "+" + f[1] + "+" + b64(append([]byte{1}, priv.Seed()...))
}
