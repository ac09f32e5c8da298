package ledgerhttp

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/ledger"
)

// bearer adds a token to every request, as a tile client configured with
// credentials does.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// TestTorchwoodClientReadsLog has filippo.io/torchwood's tlog-tiles client,
// an independent implementation used unchanged with its default entry
// format, read every entry of a log over HTTPS: it checks each entry bundle
// against the hash tiles and those against the checkpoint, which its own
// parser reads.
func TestTorchwoodClientReadsLog(t *testing.T) {
	l := newMemLog(t, 1000)
	h := serveTLS(t, l)
	hc := h.client
	hc.Transport = bearer{testToken, hc.Transport}

	fetcher, err := torchwood.NewTileFetcher(h.base, torchwood.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := fetcher.ReadEndpoint(t.Context(), "checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	v, _ := note.NewVerifier(l.vkey)
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	c, err := torchwood.ParseCheckpoint(n.Text)
	if err != nil || c.Origin != testOrigin {
		t.Fatalf("torchwood.ParseCheckpoint: %+v, %v", c, err)
	}
	client, err := torchwood.NewClient(fetcher)
	if err != nil {
		t.Fatal(err)
	}
	var next int64
	for i, entry := range client.Entries(t.Context(), c.Tree, 0) {
		if i != next || ledger.Commitment(entry) != l.leaves[i] {
			t.Fatalf("entry %d (want %d) is not the log's commitment", i, next)
		}
		next++
	}
	if err := client.Err(); err != nil {
		t.Fatal(err)
	}
	// The client stops before the last, partial bundle of a growing log.
	if next < 768 || next > c.N {
		t.Errorf("torchwood read %d of %d entries", next, c.N)
	}
	// One entry with its inclusion proof, by index.
	entry, proof, err := client.Entry(t.Context(), c.Tree, c.N-1)
	if err != nil {
		t.Fatal(err)
	}
	if err := ledger.CheckInclusion(proof, c.Tree, c.N-1, ledger.Commitment(entry)); err != nil {
		t.Errorf("the last entry as torchwood read it: %v", err)
	}
}

// TestSubmitToTorchwoodCosigner submits to a witness whose cosignatures
// torchwood's cosignature/v1 implementation makes: the Submitter verifies
// them with the verifier key torchwood prints, through the ledger, and
// stores what torchwood's own verifier accepts.
func TestSubmitToTorchwoodCosigner(t *testing.T) {
	log := newMemLog(t, 20)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := torchwood.NewCosignatureSigner("witness.third-party.example", key)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tlog/add-checkpoint", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := ledger.ParseAddRequest(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		text, _, _ := bytes.Cut(req.Checkpoint, []byte("\n\n"))
		signed, err := note.Sign(&note.Note{Text: string(text) + "\n"}, signer)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, sigs, _ := bytes.Cut(signed, []byte("\n\n"))
		w.Write(sigs)
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()

	wkey, err := ledger.NewCosignatureVerifier(signer.Verifier().String())
	if err != nil {
		t.Fatalf("torchwood's verifier key: %v", err)
	}
	logKey, _ := note.NewVerifier(log.vkey)
	stored := &cosignedLog{memLog: log, lines: map[int64][]byte{}}
	s := &Submitter{Origin: testOrigin, LogKey: logKey, Log: stored,
		Witnesses: []Witness{{Name: "third party", URL: srv.URL + "/tlog/", Key: wkey, Client: srv.Client()}}}
	msg, size, _ := log.Checkpoint(t.Context())
	if err := s.submit(t.Context(), &s.Witnesses[0], msg, size, 0); err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(append(msg, stored.get(size)...), note.VerifierList(logKey, signer.Verifier()))
	if err != nil || len(n.Sigs) != 2 {
		t.Fatalf("the stored cosignature under torchwood's verifier: %v", err)
	}
}
