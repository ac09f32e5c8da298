package main

import (
	"bytes"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entente/entente/node"
)

func TestTLSVerify(t *testing.T) {
	dir := t.TempDir()
	key, err := createKey(filepath.Join(dir, "node.key"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := createKey(filepath.Join(dir, "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := key.BrowserCertificate([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	self, err := key.SelfSignedCertificate([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}))
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("browser.pem", certPEM)
	nodeCert := write("node.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: self.Certificate[0]})))
	keyFirst := write("with-key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"+certPEM)
	garbage := write("garbage.pem", "not a certificate\n")

	for _, tt := range []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "the node's browser certificate", args: []string{"--node-key", key.VerifierKey, good}, code: 0,
			stdout: []string{"the browser certificate of node key " + key.VerifierKey, "sha-256 fingerprint: " + node.Fingerprint(cert.Certificate[0]), "spki sha-256: " + node.SPKIFingerprint(cert.Leaf)}},
		{name: "from stdin, after another PEM block", stdin: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" + certPEM, args: []string{"-", "--node-key", key.VerifierKey}, code: 0},
		{name: "after a key in the file", args: []string{"--node-key", key.VerifierKey, keyFirst}, code: 0},
		{name: "another node's key", args: []string{"--node-key", other.VerifierKey, good}, code: 1, stderr: []string{"not signed by node key"}},
		{name: "the node's Ed25519 certificate", args: []string{"--node-key", key.VerifierKey, nodeCert}, code: 1, stderr: []string{"not a browser certificate"}},
		{name: "no certificate in the file", args: []string{"--node-key", key.VerifierKey, garbage}, code: 2, stderr: []string{garbage, "no PEM certificate"}},
		{name: "a missing file", args: []string{"--node-key", key.VerifierKey, filepath.Join(dir, "none.pem")}, code: 2, stderr: []string{"none.pem"}},
		{name: "no node key", args: []string{good}, code: 2, stderr: []string{"--node-key is missing"}},
		{name: "a malformed node key", args: []string{"--node-key", "n+00000000+AAAA", good}, code: 2, stderr: []string{"--node-key", "not an Ed25519 node key"}},
		{name: "no file", args: []string{"--node-key", key.VerifierKey}, code: 2, stderr: []string{"missing FILE"}},
	} {
		stdout, stderr, code := execEntenteInput(t, tt.stdin, append([]string{"tls", "verify"}, tt.args...)...)
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", tt.name, code, tt.code, stdout, stderr)
			continue
		}
		for _, w := range tt.stdout {
			if !strings.Contains(stdout, w) {
				t.Errorf("%s: stdout %q lacks %q", tt.name, stdout, w)
			}
		}
		for _, w := range tt.stderr {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr %q lacks %q", tt.name, stderr, w)
			}
		}
	}
}

// FuzzParsePEMCertificate checks that no file makes tls verify's reader
// panic, and that what it returns is the file's first certificate.
func FuzzParsePEMCertificate(f *testing.F) {
	key, err := node.ParseKey("PRIVATE+KEY+node.example+93e38ca0+AeDZnsLDHYu2lwoZDADBMiXuoyyHSbppduOTQu9vwrTs")
	if err != nil {
		f.Fatal(err)
	}
	cert, err := key.BrowserCertificate(nil)
	if err != nil {
		f.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	f.Add(certPEM)
	f.Add(append([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), certPEM...))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parsePEMCertificate(data)
		if err != nil {
			return
		}
		// It is the file's first certificate block.
		rest := data
		for {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				t.Fatal("returned a certificate from a file without a certificate block")
			}
			if b.Type == "CERTIFICATE" {
				if !bytes.Equal(b.Bytes, c.Raw) {
					t.Error("returned another certificate than the file's first")
				}
				return
			}
		}
	})
}
