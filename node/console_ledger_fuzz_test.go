package node

import (
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// FuzzSignatureLines: the console reads any stored note without failing,
// and finds every line a signer wrote.
func FuzzSignatureLines(f *testing.F) {
	skey, _, err := note.GenerateKey(nil, "node.example")
	if err != nil {
		f.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		f.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: "log.example/ledger\n3\nAAAA\n"}, signer)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add([]byte("a\n\n— w AAAA\n— \n—  x\nnot a line\n"))
	f.Add([]byte("no blank line"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, s := range signatureLines(msg) {
			if s.Name == "" || s.Base64 == "" || strings.ContainsAny(s.Name, " \n") || strings.ContainsAny(s.Base64, " \n") {
				t.Fatalf("signature line read as %+v", s)
			}
		}
		if n, err := note.Open(msg, note.VerifierList()); err != nil {
			if u, ok := err.(*note.UnverifiedNoteError); ok {
				n = u.Note
			} else {
				return
			}
			got := signatureLines(msg)
			if len(got) != len(n.UnverifiedSigs) {
				t.Fatalf("%d signature lines read, note.Open found %d", len(got), len(n.UnverifiedSigs))
			}
			for i, s := range n.UnverifiedSigs {
				if got[i].Name != s.Name || got[i].Base64 != s.Base64 {
					t.Fatalf("line %d read as %+v, note.Open read %+v", i, got[i], s)
				}
			}
		}
	})
}
