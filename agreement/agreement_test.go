package agreement

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
)

var update = flag.Bool("update", false, "rewrite the golden .err files in testdata/invalid")

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t testing.TB, doc []byte) *Agreement {
	t.Helper()
	a, err := Parse(doc)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return a
}

var inForce = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func TestExampleVerifies(t *testing.T) {
	for _, name := range []string{"arcadia-borealis.yaml", "arcadia-borealis-v2.yaml"} {
		a := mustParse(t, readFile(t, filepath.Join("..", "examples", name)))
		if err := a.VerifySignatures(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	v1 := mustParse(t, readFile(t, "../examples/arcadia-borealis.yaml"))
	v2 := mustParse(t, readFile(t, "../examples/arcadia-borealis-v2.yaml"))
	if err := v1.Verify(inForce); err != nil {
		t.Errorf("version 1 on %s: %v", inForce.Format(time.DateOnly), err)
	}
	if err := CheckAmendment(v1, v2); err != nil {
		t.Errorf("CheckAmendment(v1, v2): %v", err)
	}
	if err := CheckAmendment(v2, v1); err == nil {
		t.Error("CheckAmendment(v2, v1) accepted a version that does not supersede the other")
	}
}

// TestTamperedContent changes one value after signing: verification must
// fail and name each party whose signature broke.
func TestTamperedContent(t *testing.T) {
	doc := readFile(t, "../examples/arcadia-borealis.yaml")
	tampered := bytes.Replace(doc, []byte("retention_days: 365"), []byte("retention_days: 3650"), 1)
	if bytes.Equal(doc, tampered) {
		t.Fatal("the example no longer contains the value this test changes")
	}
	err := mustParse(t, tampered).VerifySignatures()
	if !errors.Is(err, ErrBadSignature) {
		t.Fatalf("VerifySignatures = %v, want ErrBadSignature", err)
	}
	for _, party := range []string{"arcadia", "borealis"} {
		if !strings.Contains(err.Error(), `signature of party "`+party+`"`) {
			t.Errorf("error does not name party %s: %v", party, err)
		}
	}
}

// TestReformatKeepsSignatures rewrites the example's layout without changing
// a value: the signatures must still verify.
func TestReformatKeepsSignatures(t *testing.T) {
	doc := string(readFile(t, "../examples/arcadia-borealis.yaml"))
	var b strings.Builder
	for line := range strings.Lines(doc) {
		code, _, _ := strings.Cut(line, " # ")
		if strings.HasPrefix(strings.TrimSpace(code), "#") {
			continue // drop comments
		}
		b.WriteString(strings.TrimRight(code, " \n") + "\n")
	}
	reformatted := strings.NewReplacer(
		"version: 1", `version: 0x1`, // the same integer, written in hex
		"title: Agreement", `title: "Agreement`,
		"security of information systems", `security of information systems"`,
		"hours: 24/7", `hours: "24/7"`,
	).Replace(b.String())
	if reformatted == doc {
		t.Fatal("nothing was reformatted")
	}
	a := mustParse(t, []byte(reformatted))
	if err := a.VerifySignatures(); err != nil {
		t.Fatalf("signatures broke on reformatting: %v", err)
	}
}

func TestContentIsCanonical(t *testing.T) {
	a := mustParse(t, readFile(t, "../examples/arcadia-borealis.yaml"))
	c, err := a.Content()
	if err != nil {
		t.Fatal(err)
	}
	v := jsontext.Value(bytes.Clone(c))
	if err := v.Canonicalize(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v, c) {
		t.Errorf("Content is not in RFC 8785 form:\n%s\nwant\n%s", c, v)
	}
	for _, want := range []string{`"effective":"2026-01-01"`, `"version":1`, `"asns":[64500]`, `"retention_days":365`} {
		if !bytes.Contains(c, []byte(want)) {
			t.Errorf("Content lacks %s (dates are text, numbers are numbers)", want)
		}
	}
	if bytes.Contains(c, []byte("signature")) {
		t.Error("Content includes the signatures")
	}

	// RFC 8785 writes <, > and & as they are, unlike encoding/json.
	doc := bytes.Replace(readFile(t, "testdata/valid/minimal.yaml"), []byte("title: Minimal agreement"), []byte(`title: "A & B <C> \u00e9"`), 1)
	c, err = mustParse(t, doc).Content()
	if err != nil {
		t.Fatal(err)
	}
	if want := `"title":"A & B <C> é"`; !bytes.Contains(c, []byte(want)) {
		t.Errorf("Content = %s, want it to contain %s", c, want)
	}
}

func TestSign(t *testing.T) {
	doc := readFile(t, "testdata/valid/minimal.yaml")
	signers := map[string]string{"arcadia": "../examples/keys/arcadia.key", "borealis": "../examples/keys/borealis.key"}
	if err := mustParse(t, doc).VerifySignatures(); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("unsigned document: VerifySignatures = %v, want ErrUnsigned", err)
	}
	for _, party := range []string{"arcadia", "borealis", "arcadia"} { // signing twice replaces
		s, err := note.NewSigner(strings.TrimSpace(string(readFile(t, signers[party]))))
		if err != nil {
			t.Fatal(err)
		}
		var got string
		doc, got, err = Sign(doc, s)
		if err != nil {
			t.Fatalf("Sign as %s: %v", party, err)
		}
		if got != party {
			t.Errorf("Sign found party %q, want %q", got, party)
		}
	}
	a := mustParse(t, doc)
	if len(a.Signatures) != 2 {
		t.Errorf("%d signatures, want 2:\n%s", len(a.Signatures), doc)
	}
	if err := a.VerifySignatures(); err != nil {
		t.Errorf("VerifySignatures: %v", err)
	}
	if !bytes.HasPrefix(doc, readFile(t, "testdata/valid/minimal.yaml")) {
		t.Error("signing changed the text before the signatures block")
	}

	skey, _, err := note.GenerateKey(rand.Reader, "cascadia")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Sign(doc, stranger); err == nil {
		t.Error("Sign accepted a key that belongs to no party")
	}
}

// TestSignatureOfOtherKey replaces one party's signature by a valid
// signature of the same content made with another key: only that party's
// signature must fail.
func TestSignatureOfOtherKey(t *testing.T) {
	doc := readFile(t, "../examples/arcadia-borealis.yaml")
	a := mustParse(t, doc)
	content, err := a.Content()
	if err != nil {
		t.Fatal(err)
	}
	skey, _, err := note.GenerateKey(rand.Reader, "borealis")
	if err != nil {
		t.Fatal(err)
	}
	other, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := other.Sign(content)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range a.Signatures {
		if s.Party == "borealis" {
			doc = bytes.Replace(doc, []byte(s.Signature), []byte(base64.StdEncoding.EncodeToString(sig)), 1)
		}
	}
	err = mustParse(t, doc).VerifySignatures()
	var se *SignatureError
	if !errors.As(err, &se) || se.Party != "borealis" || strings.Contains(err.Error(), `"arcadia"`) {
		t.Errorf("VerifySignatures = %v, want a broken signature of borealis only", err)
	}
}

func TestInForce(t *testing.T) {
	a := mustParse(t, readFile(t, "testdata/valid/minimal.yaml")) // 2026-01-01 to 2027-01-01
	for _, tc := range []struct {
		at   string
		want bool
	}{
		{"2025-12-31T23:59:59Z", false},
		{"2026-01-01T00:00:00Z", true},
		{"2026-12-31T23:59:59Z", true},
		{"2027-01-01T00:00:00Z", false},
	} {
		at, _ := time.Parse(time.RFC3339, tc.at)
		err := a.InForce(at)
		if (err == nil) != tc.want {
			t.Errorf("InForce(%s) = %v, want in force %v", tc.at, err, tc.want)
		}
		if err != nil && !errors.Is(err, ErrNotInForce) {
			t.Errorf("InForce(%s) = %v, want ErrNotInForce", tc.at, err)
		}
	}
}

// TestInvalid checks each document in testdata/invalid against the error
// in its golden .err file.
func TestInvalid(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	if len(files) == 0 {
		t.Fatal("no test documents")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			_, err := Parse(readFile(t, file))
			if err == nil {
				t.Fatal("Parse accepted an invalid document")
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(err.Error()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := strings.TrimSuffix(string(readFile(t, golden)), "\n"); err.Error() != want {
				t.Errorf("error:\n%s\nwant:\n%s", err, want)
			}
		})
	}
}

// TestErrorsLocate checks the cases the format must catch, by position and
// by the fix offered, independently of the golden files. Among them is the
// content boundary: no key, workflow or purpose can express control over
// speech or content.
func TestErrorsLocate(t *testing.T) {
	for _, tc := range []struct {
		file       string
		line, col  int
		path, want string
	}{
		{"unknown-key", 40, 5, "rules[0].tlp_ceiling", "unknown key"},
		{"destabilizing-information", 41, 5, "rules[0].categories", "unknown key"},
		{"content-request-type", 43, 1, "content_removal", "unknown key"},
		{"content-workflow", 43, 15, "deadlines[0].workflow", "unknown workflow"},
		{"unknown-purpose", 41, 66, "rules[0].conditions.purposes[1]", "unknown purpose"},
		{"invalid-cidr", 19, 23, "parties[0].declarations.address_space[0]", "not a CIDR prefix"},
		{"overlapping-cidr", 19, 40, "parties[0].declarations.address_space[1]", "overlaps"},
		{"overlapping-jurisdictions", 32, 39, "parties[1].declarations.address_space[1]", "overlaps"},
		{"duplicate-party-id", 21, 9, "parties[1].id", "duplicate id"},
		{"rule-unknown-party", 37, 9, "rules[0].to", "unknown party"},
		{"no-24x7-contact", 26, 7, "parties[1].authorities", "no 24/7 contact point"},
		{"expiry-before-effective", 6, 12, "validity.expires", "not later than the effective date"},
	} {
		_, err := Parse(readFile(t, "testdata/invalid/"+tc.file+".yaml"))
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: Parse = %v, want an *Error", tc.file, err)
			continue
		}
		if e.Line != tc.line || e.Column != tc.col || e.Path != tc.path || !strings.Contains(e.Msg, tc.want) || e.Fix == "" {
			t.Errorf("%s: first error %d:%d %s %q (fix %q), want %d:%d %s %q with a fix",
				tc.file, e.Line, e.Column, e.Path, e.Msg, e.Fix, tc.line, tc.col, tc.path, tc.want)
		}
	}
}

// TestPAPIDs recomputes OpenCTI's PAP marking ids from their definition.
func TestPAPIDs(t *testing.T) {
	ns := uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7")
	for _, tc := range []struct {
		pap PAP
		id  string
	}{{PAPClear, PAPClearID}, {PAPGreen, PAPGreenID}, {PAPAmber, PAPAmberID}, {PAPRed, PAPRedID}} {
		name := jsontext.Value(`{"definition_type":"PAP","definition":"` + tc.pap.String() + `"}`)
		if err := name.Canonicalize(); err != nil {
			t.Fatal(err)
		}
		if want := "marking-definition--" + uuid.NewSHA1(ns, name).String(); tc.id != want {
			t.Errorf("%s id = %s, want %s", tc.pap, tc.id, want)
		}
		if got, ok := PAPOf(tc.id); !ok || got != tc.pap {
			t.Errorf("PAPOf(%s) = %v, %v", tc.id, got, ok)
		}
		if got, ok := ParsePAP(strings.ToLower(tc.pap.String())); !ok || got != tc.pap {
			t.Errorf("ParsePAP(%q) = %v, %v", tc.pap, got, ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/valid/*.yaml", "testdata/invalid/*.yaml", "../examples/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			f.Add(readFile(f, file))
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		a, err := Parse(doc)
		if err != nil {
			return
		}
		// Whatever Parse accepts has a content that canonicalizes and a
		// validity that can be checked.
		c, err := a.Content()
		if err != nil {
			t.Fatalf("Content of an accepted document: %v", err)
		}
		if !jsontext.Value(c).IsValid() {
			t.Fatalf("Content is not valid JSON: %s", c)
		}
		_ = a.VerifySignatures()
		_ = a.InForce(inForce)
		// And it can be kept as a document that reads back to the same
		// signed content (a node stores it so).
		kept, err := a.Document()
		if err != nil {
			t.Fatalf("Document of an accepted document: %v", err)
		}
		back, err := Parse(kept)
		if err != nil {
			t.Fatalf("Parse of Document: %v", err)
		}
		d1, _ := a.Digest()
		d2, _ := back.Digest()
		if d1 != d2 {
			t.Fatal("Document changed the digest")
		}
	})
}

func BenchmarkParse(b *testing.B) {
	doc := readFile(b, "../examples/arcadia-borealis.yaml")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc); err != nil {
			b.Fatal(err)
		}
	}
}
