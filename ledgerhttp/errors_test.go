package ledgerhttp

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/ledger"
)

// TestAnswers checks what each request gets: tiles and proofs bounded by
// the checkpointed size, plain-text errors with the right status, and
// credentials required for reads.
func TestAnswers(t *testing.T) {
	l := newMemLog(t, 300) // one full bundle and a partial one of 44
	h := serveTLS(t, l)
	for _, tc := range []struct {
		method, path, token string
		code                int
		want                string // a substring of the body
	}{
		{"GET", "checkpoint", testToken, 200, testOrigin + "\n300\n"},
		{"GET", "checkpoint", "", 401, "authentication required"},
		{"GET", "checkpoint", "wrong", 401, ""},
		{"GET", "checkpoint", "nobody-token", 403, "not permitted"},
		{"GET", "tile/0/000", testToken, 200, ""},
		{"GET", "tile/0/001.p/44", testToken, 200, ""},
		{"GET", "tile/0/001.p/43", testToken, 200, ""}, // an older partial tile: still true
		{"GET", "tile/0/001.p/45", testToken, 404, "beyond the checkpointed size 300"},
		{"GET", "tile/0/001", testToken, 404, "beyond"},
		{"GET", "tile/0/002.p/1", testToken, 404, "beyond"},
		{"GET", "tile/1/000.p/1", testToken, 200, ""},
		{"GET", "tile/1/000.p/2", testToken, 404, "beyond"},
		{"GET", "tile/2/000.p/1", testToken, 404, "beyond"},
		{"GET", "tile/9/000.p/1", testToken, 404, ""},
		{"GET", "tile/entries/001.p/44", testToken, 200, ""},
		{"GET", "tile/entries/001", testToken, 404, "beyond"},
		{"GET", "tile/entries/x999/x999/x999/x999/x999/x999/999", testToken, 404, ""},
		{"GET", "tile/0/01", testToken, 404, "not a tile path"},
		{"GET", "tile/0/000.p/0", testToken, 404, ""},
		{"GET", "tile/0/000", "", 401, ""},
		{"GET", "proof/inclusion?index=299", testToken, 200, ""},
		{"GET", "proof/inclusion?index=300", testToken, 400, "want index < size"},
		{"GET", "proof/inclusion?index=3&size=301", testToken, 400, ""},
		{"GET", "proof/inclusion?index=-1", testToken, 400, "non-negative decimal"},
		{"GET", "proof/inclusion?index=01", testToken, 400, ""},
		{"GET", "proof/inclusion", testToken, 400, "missing parameter index"},
		{"GET", "proof/consistency?old=10&new=300", testToken, 200, ""},
		{"GET", "proof/consistency?old=10&new=301", testToken, 400, "old <= new"},
		{"GET", "proof/consistency?old=11&new=10", testToken, 400, ""},
		{"GET", "openings?from=0&to=100", "admin-token", 200, "98 "},
		{"GET", "openings?from=0&to=101", "admin-token", 400, "at most 100"},
		{"GET", "openings?from=250&to=301", "admin-token", 400, ""},
		{"GET", "openings?from=0&to=10", testToken, 200, ""},
		{"POST", "checkpoint", testToken, 404, ""},
		{"GET", "add-checkpoint", testToken, 404, ""},
		{"GET", "nothing", testToken, 404, ""},
		{"POST", "add-checkpoint", "", 404, "unknown log"}, // no credentials needed
	} {
		body, code := h.do(tc.method, tc.path, tc.token, nil)
		if code != tc.code || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.path, code, body, tc.code, tc.want)
		}
	}
	// An empty log has no checkpoint: a plain 404.
	empty := serveTLS(t, &memLog{})
	if body, code := empty.get("checkpoint"); code != 404 {
		t.Errorf("checkpoint of an empty log: %d %q", code, body)
	}
	if body, code := empty.get("tile/0/000.p/1"); code != 404 {
		t.Errorf("tile of an empty log: %d %q", code, body)
	}
}

// memState is a ledger.WitnessState in memory.
type memState struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memState) Latest(ctx context.Context, origin string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[origin], nil
}

func (s *memState) Swap(ctx context.Context, origin string, old, next []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if string(s.m[origin]) != string(old) {
		return ledger.ErrStateChanged
	}
	s.m[origin] = next
	return nil
}

// witnessFor returns a memLog that witnesses log, with a fixed clock.
func witnessFor(t testing.TB, log *memLog) (*memLog, *ledger.Cosigner) {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	cs, err := ledger.NewCosigner("witness.example", key, func() time.Time { return time.Unix(1700000000, 0) })
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(log.vkey)
	if err != nil {
		t.Fatal(err)
	}
	w := &memLog{witness: &ledger.Witness{Cosigner: cs, Logs: map[string][]note.Verifier{testOrigin: {v}}, State: &memState{m: map[string][]byte{}}}}
	return w, cs
}

// TestSubmitToWitness runs the Submitter against a witness over HTTPS:
// the first submission from 0, then from the size the witness holds; a
// witness restarted at a later size (409) is caught up with a proof from
// that size; the stored cosignatures verify with x/mod's note.
func TestSubmitToWitness(t *testing.T) {
	log := newMemLog(t, 10)
	wlog, cs := witnessFor(t, log)
	wh := serveTLS(t, wlog)
	logKey, _ := note.NewVerifier(log.vkey)
	stored := &cosignedLog{memLog: log, lines: map[int64][]byte{}}
	s := &Submitter{Origin: testOrigin, LogKey: logKey, Log: stored,
		Witnesses: []Witness{{Name: "w", URL: wh.base, Key: cs.Verifier(), Client: wh.client}}}
	w := &s.Witnesses[0]
	for _, grow := range []int{0, 5, 300} {
		log.grow(t, grow)
		msg, size, _ := log.Checkpoint(t.Context())
		old := int64(0)
		if grow > 0 {
			old = size - int64(grow)
		}
		if err := s.submit(t.Context(), w, msg, size, old); err != nil {
			t.Fatalf("submitting %d from %d: %v", size, old, err)
		}
		n, err := note.Open(append(msg, stored.lines[size]...), note.VerifierList(logKey, cs.Verifier()))
		if err != nil || len(n.Sigs) != 2 {
			t.Fatalf("checkpoint %d with its stored cosignature: %v (%d signatures)", size, err, len(n.Sigs))
		}
	}
	// A submitter that believes the witness holds 0 learns its size.
	log.grow(t, 1)
	msg, size, _ := log.Checkpoint(t.Context())
	err := s.submit(t.Context(), w, msg, size, 0)
	var conflict *ledger.ConflictError
	if !asConflict(err, &conflict) || conflict.Latest != size-1 {
		t.Fatalf("submitting from a stale size: %v, want a 409 naming %d", err, size-1)
	}
	if err := s.submit(t.Context(), w, msg, size, conflict.Latest); err != nil {
		t.Fatal(err)
	}

	// Run does the same on its own: a new checkpoint gets cosigned.
	log.grow(t, 7)
	_, size, _ = log.Checkpoint(t.Context())
	ctx, cancel := context.WithCancel(t.Context())
	s.Interval = 10 * time.Millisecond
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	for deadline := time.Now().Add(10 * time.Second); stored.get(size) == nil; {
		if time.Now().After(deadline) {
			t.Fatal("Run did not get the new checkpoint cosigned")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}

func asConflict(err error, c **ledger.ConflictError) bool {
	e, ok := err.(*ledger.ConflictError)
	*c = e
	return ok
}

// cosignedLog is a memLog that keeps the cosignature lines a Submitter stores.
type cosignedLog struct {
	*memLog
	mu    sync.Mutex
	lines map[int64][]byte
}

func (c *cosignedLog) AddCosignatures(ctx context.Context, size int64, lines []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines[size] = append(c.lines[size], lines...)
	return nil
}

func (c *cosignedLog) get(size int64) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lines[size]
}

// TestWitnessAnswers checks the status of each add-checkpoint refusal, as
// tlog-witness names them, through HTTP.
func TestWitnessAnswers(t *testing.T) {
	log := newMemLog(t, 10)
	wlog, _ := witnessFor(t, log)
	wh := serveTLS(t, wlog)
	msg10, _, _ := log.Checkpoint(t.Context())
	req := func(old int64, proof tlog.TreeProof, cp []byte) []byte {
		return ledger.AddRequest{Old: old, Proof: proof, Checkpoint: cp}.Marshal()
	}
	post := func(body []byte) (string, int) {
		b, code := wh.do("POST", "add-checkpoint", "", body)
		return string(b), code
	}
	if b, code := post(req(0, nil, msg10)); code != 200 || !strings.HasPrefix(b, "— witness.example ") {
		t.Fatalf("first checkpoint: %d %q", code, b)
	}
	other := newMemLog(t, 10) // another key, same origin
	otherMsg, _, _ := other.Checkpoint(t.Context())
	for _, tc := range []struct {
		name string
		body []byte
		code int
		want string
	}{
		{"stale old size", req(0, nil, msg10), 409, "10\n"},
		{"untrusted key", req(10, nil, otherMsg), 403, ""},
		{"unknown log", req(0, nil, []byte("other.example/log\n1\n"+ledger.EmptyTreeHash.String()+"\n\n— x AAAA\n")), 404, ""},
		{"malformed", []byte("old 01\n\n" + string(msg10)), 400, ""},
		{"old beyond new", req(11, nil, msg10), 400, ""},
		{"too large", make([]byte, DefaultMaxBodyBytes+1), 413, ""},
	} {
		b, code := post(tc.body)
		if code != tc.code || !strings.Contains(b, tc.want) {
			t.Errorf("%s: %d %q, want %d with %q", tc.name, code, b, tc.code, tc.want)
		}
	}
	// A fork: the same size signed over another tree.
	log.grow(t, 1)
	msg11, _, _ := log.Checkpoint(t.Context())
	bad := forkedCheckpoint(t, log, 11)
	if b, code := post(req(10, proofFrom(t, log, 10), bad)); code != 422 {
		t.Errorf("inconsistent checkpoint: %d %q, want 422", code, b)
	}
	if b, code := post(req(10, proofFrom(t, log, 10), msg11)); code != 200 {
		t.Errorf("consistent checkpoint after a refused one: %d %q", code, b)
	}
	if b, code := post(req(11, nil, bad)); code != 422 || !strings.Contains(b, "fork") {
		t.Errorf("fork at the witnessed size: %d %q, want 422 naming a fork", code, b)
	}
}

func proofFrom(t testing.TB, l *memLog, old int64) tlog.TreeProof {
	t.Helper()
	p, err := ledger.ProveConsistency(l.size, old, tlog.HashReaderFunc(l.readHashes))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// forkedCheckpoint signs, with l's key, a checkpoint of size n over a root
// that is not l's.
func forkedCheckpoint(t testing.TB, l *memLog, n int64) []byte {
	t.Helper()
	msg, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: testOrigin, Tree: tlog.Tree{N: n, Hash: tlog.Hash{1}}}, l.signer)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// TestSubmitterSkipsCosigned checks that a Submitter started on a log
// whose latest checkpoint its witness cosigned already (a restart) does not
// ask again, and submits the next checkpoint.
func TestSubmitterSkipsCosigned(t *testing.T) {
	log := newMemLog(t, 10)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	cs, _ := ledger.NewCosigner("witness.example", key, nil)
	n, _ := note.Open(log.note, note.VerifierList(mustVerifier(t, log.vkey)))
	cosigned, err := note.Sign(n, cs)
	if err != nil {
		t.Fatal(err)
	}
	log.note = cosigned
	var (
		mu    sync.Mutex
		posts int
	)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		posts++
		mu.Unlock()
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	s := &Submitter{Origin: testOrigin, LogKey: mustVerifier(t, log.vkey), Log: &cosignedLog{memLog: log, lines: map[int64][]byte{}},
		Witnesses: []Witness{{Name: "w", URL: srv.URL + "/", Key: cs.Verifier(), Client: srv.Client()}},
		Interval:  5 * time.Millisecond}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	if posts != 0 {
		t.Errorf("%d requests for a checkpoint the witness cosigned already", posts)
	}
	mu.Unlock()
	log.grow(t, 1)
	waitUntil(t, func() bool { mu.Lock(); defer mu.Unlock(); return posts > 0 })
	cancel()
	<-done
}

func mustVerifier(t testing.TB, vkey string) note.Verifier {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func waitUntil(t testing.TB, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

// blockingLog holds every checkpoint read until released.
type blockingLog struct {
	*memLog
	entered chan struct{}
	release chan struct{}
}

func (b *blockingLog) Checkpoint(ctx context.Context) ([]byte, int64, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.memLog.Checkpoint(ctx)
}

// TestInFlightLimit checks that requests beyond the limit get 503 with
// Retry-After at once, add-checkpoint included, rather than queueing.
func TestInFlightLimit(t *testing.T) {
	b := &blockingLog{memLog: newMemLog(t, 3), entered: make(chan struct{}, 2), release: make(chan struct{})}
	srv := NewServer(b, Config{MaxInFlight: 2})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			req := httptest.NewRequest("GET", Prefix+"checkpoint", nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			srv.ServeHTTP(httptest.NewRecorder(), req)
		})
	}
	<-b.entered
	<-b.entered
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("POST", Prefix+"add-checkpoint", strings.NewReader("old 0\n\n")))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("add-checkpoint beyond the limit: %d %q, want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	close(b.release)
	wg.Wait()
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("POST", Prefix+"add-checkpoint", strings.NewReader("old 0\n\n")))
	if rec.Code == http.StatusServiceUnavailable {
		t.Error("503 after the requests in flight finished")
	}
}

// TestSubmitterReportsRefusal: a witness that answers 403 (here, one that
// does not trust the log's key, as tlog-witness says; an Entente witness
// answers so too while it suspends the log) is reported as a refusal of
// the log, not as a passing submission error.
func TestSubmitterReportsRefusal(t *testing.T) {
	trusted := newMemLog(t, 10)
	wlog, cs := witnessFor(t, trusted)
	wh := serveTLS(t, wlog)
	other := newMemLog(t, 10) // same origin, a key the witness does not trust
	otherKey := mustVerifier(t, other.vkey)
	w := Witness{Name: "w", URL: wh.base, Key: cs.Verifier(), Client: wh.client}
	msg, _, _ := other.Checkpoint(t.Context())
	_, err := AddCheckpoint(t.Context(), &w, ledger.AddRequest{Checkpoint: msg}.Marshal())
	if !errors.Is(err, ErrWitnessRefused) {
		t.Fatalf("AddCheckpoint with an untrusted key: %v, want ErrWitnessRefused", err)
	}
	var (
		mu      sync.Mutex
		reasons []string
	)
	var logs bytes.Buffer
	s := &Submitter{Origin: testOrigin, LogKey: otherKey, Log: &cosignedLog{memLog: other, lines: map[int64][]byte{}},
		Witnesses: []Witness{w}, Interval: 5 * time.Millisecond,
		Logger:  slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil)),
		OnAlert: func(r string) { mu.Lock(); defer mu.Unlock(); reasons = append(reasons, r) }}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	waitUntil(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(reasons) > 0 })
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if reasons[0] != "own-forbidden" || !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "refuses this log's checkpoints") {
		t.Errorf("alerts %q, log:\n%s\nwant own-forbidden and an error naming the refusal", reasons, logs.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
