package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/node"
)

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "borealis-node-2.key")
	stdout, stderr, code := execEntente(t, "keygen", "-o", path, "borealis-node-2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	v, err := note.NewVerifier(strings.TrimSpace(stdout))
	if err != nil || v.Name() != "borealis-node-2" {
		t.Fatalf("stdout %q is not the public key of borealis-node-2: %v", stdout, err)
	}
	skey, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		t.Fatal(err)
	}
	if sig, err := s.Sign([]byte("msg")); err != nil || !v.Verify([]byte("msg"), sig) {
		t.Error("the private key does not match the printed public key")
	}
	// The node's witness key, derived from the key, for its witness_key.
	k, err := node.ParseKey(string(skey))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "witness key (a node's witness_key in the agreement): "+k.WitnessVerifierKey()+"\n") {
		t.Errorf("keygen does not print the witness key: %q", stderr)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	if _, stderr, code := execEntente(t, "keygen", "-o", path, "borealis-node-2"); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Errorf("overwriting a key: exit %d, %q; want exit 1 refusing", code, stderr)
	}
	if _, _, code := execEntente(t, "keygen", "-o", filepath.Join(dir, "x"), "bad+name"); code != 2 {
		t.Errorf("invalid name: exit %d, want 2", code)
	}
}

func TestAgreementVerifyExample(t *testing.T) {
	stdout, stderr, code := execEntente(t, "agreement", "verify", "--at", "2026-06-01", exampleAgreementFile)
	if code != 0 || !strings.Contains(stdout, "signed by arcadia, borealis; in force") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	// Both versions verify; the amendment supersedes the first from its effective date.
	stdout, stderr, code = execEntente(t, "agreement", "verify", "--at", "2027-06-01",
		"../../examples/arcadia-borealis-v2.yaml", exampleAgreementFile)
	if code != 0 || !strings.Contains(stdout, "version 1: signed by arcadia, borealis; superseded by version 2") ||
		!strings.Contains(stdout, "version 2: signed by arcadia, borealis; in force") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if _, stderr, code := execEntente(t, "agreement", "verify", "--at", "2031-01-01", exampleAgreementFile); code != 1 || !strings.Contains(stderr, "expired") {
		t.Errorf("after expiry: exit %d, %q; want exit 1, expired", code, stderr)
	}
}

func TestAgreementSignAndVerify(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "agreement.yaml")
	doc, err := os.ReadFile("../../agreement/testdata/valid/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := execEntente(t, "agreement", "verify", "--at", "2026-06-01", path); code != 1 || !strings.Contains(stderr, `party "arcadia" has not signed`) {
		t.Errorf("unsigned: exit %d, %q", code, stderr)
	}
	for _, party := range []string{"arcadia", "borealis"} {
		stdout, stderr, code := execEntente(t, "agreement", "sign", "--key", "../../examples/keys/"+party+".key", path)
		if code != 0 || !strings.Contains(stdout, "signed by "+party) {
			t.Fatalf("sign as %s: exit %d\n%s%s", party, code, stdout, stderr)
		}
	}
	if _, stderr, code := execEntente(t, "agreement", "verify", "--at", "2026-06-01", path); code != 0 {
		t.Fatalf("signed: exit %d: %s", code, stderr)
	}

	signed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(signed, []byte("retention_days: 30"), []byte("retention_days: 31"), 1)
	if err := os.WriteFile(path, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := execEntente(t, "agreement", "verify", "--at", "2026-06-01", path)
	if code != 1 || !strings.Contains(stderr, `signature of party "arcadia" does not match the content`) ||
		!strings.Contains(stderr, `signature of party "borealis" does not match the content`) {
		t.Errorf("tampered: exit %d, %q; want both parties' signatures named", code, stderr)
	}
}

func TestAgreementErrorsNameFileAndPosition(t *testing.T) {
	file := "../../agreement/testdata/invalid/rule-unknown-party.yaml"
	_, stderr, code := execEntente(t, "agreement", "verify", file)
	if want := file + `:37:9: rules[0].to: unknown party "cascadia"; fix: `; code != 1 || !strings.HasPrefix(stderr, want) {
		t.Errorf("exit %d, stderr %q; want it to start with %q", code, stderr, want)
	}
	for _, args := range [][]string{{"agreement"}, {"agreement", "amend"}, {"agreement", "sign", exampleAgreementFile}, {"agreement", "verify"}} {
		if _, _, code := execEntente(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
