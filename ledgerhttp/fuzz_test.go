package ledgerhttp

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/ledger"
)

// FuzzAddCheckpoint posts arbitrary bodies to the add-checkpoint handler
// of a witness of one log. Whatever the body, the answer is one of the
// statuses tlog-witness names (never a 500 for the client's own mistake),
// and a 200 is a cosignature that verifies over the checkpoint sent.
func FuzzAddCheckpoint(f *testing.F) {
	log := newMemLog(f, 5)
	msg5, _, _ := log.Checkpoint(f.Context())
	f.Add(ledger.AddRequest{Old: 0, Checkpoint: msg5}.Marshal())
	log.grow(f, 3)
	msg8, _, _ := log.Checkpoint(f.Context())
	f.Add(ledger.AddRequest{Old: 5, Proof: proofFrom(f, log, 5), Checkpoint: msg8}.Marshal())
	f.Add(ledger.AddRequest{Old: 8, Checkpoint: msg8}.Marshal())
	f.Add([]byte("old 0\n\n"))
	f.Add([]byte("old 18446744073709551616\n\n" + string(msg8)))
	f.Add(bytes.Repeat([]byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), 70))

	logKey, err := note.NewVerifier(log.vkey)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		wlog, cs := witnessFor(t, log)
		srv := NewServer(wlog, Config{MaxBodyBytes: 8 << 10})
		// The witness holds size 5 already, so that every path of the
		// decision is reachable from one body.
		if _, err := wlog.witness.Add(t.Context(), ledger.AddRequest{Old: 0, Checkpoint: msg5}.Marshal()); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("POST", Prefix+"add-checkpoint", bytes.NewReader(body)))
		switch rec.Code {
		case http.StatusOK:
			req, err := ledger.ParseAddRequest(body)
			if err != nil {
				t.Fatalf("200 for a body the parser rejects: %v", err)
			}
			if _, err := note.Open(append(bytes.Clone(req.Checkpoint), rec.Body.Bytes()...), note.VerifierList(logKey, cs.Verifier())); err != nil {
				t.Fatalf("200 with an answer that does not verify: %v\n%q", err, rec.Body.Bytes())
			}
		case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusConflict,
			http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.Bytes())
		}
	})
}
