package node

import (
	"crypto/ed25519"
	"crypto/tls"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/ledger"
)

func TestKeyRoundTrip(t *testing.T) {
	skey, err := GenerateKey("node.example/one")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(skey + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "node.example/one" {
		t.Errorf("Name = %q", k.Name)
	}
	// The derived private key and the note signer are the same key: a note
	// signed by Signer verifies with VerifierKey, and so does a raw
	// signature by Private.
	msg, err := note.Sign(&note.Note{Text: "checkpoint\n"}, k.Signer)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(k.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Errorf("the note does not verify with VerifierKey: %v", err)
	}
	if !ed25519.Verify(k.Private.Public().(ed25519.PublicKey), []byte("x"), ed25519.Sign(k.Private, []byte("x"))) {
		t.Error("Private does not sign")
	}
}

func TestParseKeyRejects(t *testing.T) {
	skey, err := GenerateKey("n")
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"empty":        "",
		"verifier key": strings.TrimPrefix(skey, "PRIVATE+KEY+"),
		"wrong hash":   strings.Replace(skey, "+n+", "+m+", 1),
		"truncated":    skey[:len(skey)-4],
	} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("%s: ParseKey accepted %q", name, s)
		}
	}
	if _, err := GenerateKey("has space"); err == nil {
		t.Error("GenerateKey accepted a name with a space")
	}
}

func TestSelfSignedCertificate(t *testing.T) {
	skey, _ := GenerateKey("n")
	k, _ := ParseKey(skey)
	c1, err := k.SelfSignedCertificate([]string{"127.0.0.1", "localhost", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := k.SelfSignedCertificate([]string{"localhost", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	fp := Fingerprint(c1.Certificate[0])
	if fp != Fingerprint(c2.Certificate[0]) {
		t.Error("the same key and hosts gave two certificates")
	}
	if !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(fp) {
		t.Errorf("fingerprint %q is not 32 colon-separated hex pairs", fp)
	}
	if err := c1.Leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	if !c1.Leaf.PublicKey.(ed25519.PublicKey).Equal(k.Private.Public()) {
		t.Error("the certificate is not for the node key")
	}
}

func TestPinnedTLSConfig(t *testing.T) {
	skey, _ := GenerateKey("n")
	k, _ := ParseKey(skey)
	cert, err := k.SelfSignedCertificate([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()

	fp := Fingerprint(cert.Certificate[0])
	other, _ := GenerateKey("m")
	ok, _ := ParseKey(other)
	otherCert, _ := ok.SelfSignedCertificate(nil)

	for _, tt := range []struct {
		name, pin string
		ok        bool
	}{
		{"colon form", fp, true},
		{"plain lowercase hex", strings.ToLower(strings.ReplaceAll(fp, ":", "")), true},
		{"another certificate", Fingerprint(otherCert.Certificate[0]), false},
	} {
		cfg, err := PinnedTLSConfig(tt.pin)
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		resp, err := client.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		if (err == nil) != tt.ok {
			t.Errorf("%s: GET = %v; want success %v", tt.name, err, tt.ok)
		}
	}
	for _, bad := range []string{"", "AB:CD", strings.Repeat("zz", 32)} {
		if _, err := PinnedTLSConfig(bad); err == nil {
			t.Errorf("PinnedTLSConfig(%q) succeeded", bad)
		}
	}
}

// TestWitnessKey checks that the witness key is derived, stable, distinct
// from the node key and of the cosignature/v1 type, and that what it signs
// verifies under the verifier key the agreement pins.
func TestWitnessKey(t *testing.T) {
	skey, err := GenerateKey("node.example/one")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := ParseKey(skey)
	vkey := k.WitnessVerifierKey()
	if vkey != k2.WitnessVerifierKey() {
		t.Error("the witness key is not a function of the node key")
	}
	if vkey == k.VerifierKey || strings.HasSuffix(vkey, k.VerifierKey[strings.LastIndexByte(k.VerifierKey, '+'):]) {
		t.Errorf("witness key %s reuses the node key %s", vkey, k.VerifierKey)
	}
	v, err := ledger.NewCosignatureVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := base64.StdEncoding.DecodeString(strings.SplitN(vkey, "+", 3)[2]); err != nil || raw[0] != 0x04 {
		t.Errorf("witness key %s is not of type 0x04", vkey)
	}
	msg, err := note.Sign(&note.Note{Text: "o\n1\n" + ledger.EmptyTreeHash.String() + "\n"}, k.Cosigner(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Errorf("a cosignature does not verify under the witness verifier key: %v", err)
	}
}
