package agreement

import (
	"bytes"
	"crypto/sha256"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDocumentRoundTrip: every example and valid test agreement encodes to
// a document that parses back to the same content, digest and signatures.
func TestDocumentRoundTrip(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	valid, _ := filepath.Glob("testdata/valid/*.yaml")
	for _, f := range append(files, valid...) {
		a := mustParse(t, readFile(t, f))
		doc, err := a.Document()
		if err != nil {
			t.Fatalf("%s: Document: %v", f, err)
		}
		back := mustParse(t, doc)
		d1, err := a.Digest()
		if err != nil {
			t.Fatal(err)
		}
		d2, _ := back.Digest()
		if d1 != d2 {
			t.Errorf("%s: the digest changed from %x to %x through Document", f, d1, d2)
		}
		if (a.VerifySignatures() == nil) != (back.VerifySignatures() == nil) {
			t.Errorf("%s: signatures verify %v before and %v after Document", f, a.VerifySignatures(), back.VerifySignatures())
		}
		if !slices.Equal(a.Signatures, back.Signatures) {
			t.Errorf("%s: signatures %v became %v", f, a.Signatures, back.Signatures)
		}
	}
}

// TestDigestIsOfContent: the digest is SHA-256 of Content, so a reformatted
// copy has the same one and a changed value another.
func TestDigestIsOfContent(t *testing.T) {
	doc := readFile(t, "../examples/arcadia-borealis.yaml")
	a := mustParse(t, doc)
	c, err := a.Content()
	if err != nil {
		t.Fatal(err)
	}
	d, err := a.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if d != sha256.Sum256(c) {
		t.Fatalf("Digest = %x, want SHA-256 of Content %x", d, sha256.Sum256(c))
	}
	var stripped strings.Builder
	for line := range strings.Lines(string(doc)) {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			stripped.WriteString(line)
		}
	}
	if d2, _ := mustParse(t, []byte(stripped.String())).Digest(); d2 != d {
		t.Errorf("removing comments changed the digest")
	}
	changed := bytes.Replace(doc, []byte("retention_days: 365"), []byte("retention_days: 366"), 1)
	if d3, _ := mustParse(t, changed).Digest(); d3 == d {
		t.Errorf("changing a value kept the digest")
	}
}
