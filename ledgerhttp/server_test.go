package ledgerhttp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/ledger"
)

const (
	testOrigin = "log.example/ledger"
	testToken  = "reader-token"
)

// memLog is an in-memory log: a Backend over ledger.Batch's hashes, with
// a real signed checkpoint and a real ledger.Witness.
type memLog struct {
	mu      sync.Mutex
	leaves  []ledger.Commitment
	hashes  []tlog.Hash
	note    []byte
	size    int64
	signer  note.Signer
	vkey    string
	witness *ledger.Witness
}

func newMemLog(t testing.TB, n int) *memLog {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "log.example")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l := &memLog{signer: signer, vkey: vkey}
	l.grow(t, n)
	return l
}

// grow appends n synthetic leaves and signs a checkpoint of the new size.
func (l *memLog) grow(t testing.TB, n int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := ledger.NewBatch(int64(len(l.leaves)), tlog.HashReaderFunc(l.readHashes))
	for range n {
		var c ledger.Commitment
		binary.BigEndian.PutUint64(c[:], uint64(len(l.leaves)))
		c = sha256.Sum256(c[:])
		if _, err := b.Append(c); err != nil {
			t.Fatal(err)
		}
		l.leaves = append(l.leaves, c)
	}
	l.hashes = append(l.hashes, b.Hashes()...)
	tree, err := b.Tree()
	if err != nil {
		t.Fatal(err)
	}
	l.note, err = ledger.SignCheckpoint(ledger.Checkpoint{Origin: testOrigin, Tree: tree}, l.signer)
	if err != nil {
		t.Fatal(err)
	}
	l.size = tree.N
}

func (l *memLog) readHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(l.hashes)) {
			return nil, fmt.Errorf("%w: hash %d", ErrNotFound, x)
		}
		out[i] = l.hashes[x]
	}
	return out, nil
}

func (l *memLog) Authorize(ctx context.Context, user, token string) (*Caller, error) {
	switch token {
	case testToken:
		return &Caller{Name: "reader", Role: "reader"}, nil
	case "admin-token":
		return &Caller{Name: "admin", Role: "admin"}, nil
	case "nobody-token":
		return nil, ErrForbidden
	}
	return nil, ErrUnauthorized
}

func (l *memLog) Checkpoint(ctx context.Context) ([]byte, int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.note == nil {
		return nil, 0, ErrNotFound
	}
	return l.note, l.size, nil
}

func (l *memLog) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.readHashes(indexes)
}

func (l *memLog) Commitments(ctx context.Context, from, to int64) ([]ledger.Commitment, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leaves[from:to], nil
}

// Openings gives an admin every entry whose index is even, to check that
// the server passes the range and the caller through.
func (l *memLog) Openings(ctx context.Context, c *Caller, from, to int64) ([]Opening, error) {
	var out []Opening
	for i := from; i < to; i++ {
		if c.Role == "admin" && i%2 == 0 {
			out = append(out, Opening{Index: i, Opening: []byte{byte(i)}})
		}
	}
	return out, nil
}

func (l *memLog) AddCheckpoint(ctx context.Context, body []byte) ([]byte, error) {
	if l.witness == nil {
		return nil, fmt.Errorf("%w: this test log witnesses nothing", ledger.ErrUnknownLog)
	}
	return l.witness.Add(ctx, body)
}

// httpTiles is a tlog.TileReader over HTTP: what any tlog-tiles client
// does, fetching <prefix>/tile/... with its credentials.
type httpTiles struct {
	t      testing.TB
	client *http.Client
	base   string
}

func (h httpTiles) Height() int { return ledger.TileHeight }

func (h httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		body, code := h.get(ledger.TilePath(tile))
		if code != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %d %s", ledger.TilePath(tile), code, body)
		}
		out[i] = body
	}
	return out, nil
}

func (h httpTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func (h httpTiles) get(path string) ([]byte, int) {
	return h.do("GET", path, testToken, nil)
}

func (h httpTiles) do(method, path, token string, body []byte) ([]byte, int) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return b, resp.StatusCode
}

func serveTLS(t testing.TB, b Backend) httpTiles {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(Prefix, NewServer(b, Config{MaxOpenings: 100}))
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return httpTiles{t: t, client: srv.Client(), base: srv.URL + Prefix}
}

// TestTileClientReadsWholeLog has tlog's own tile client read a 70,000-leaf
// log over HTTPS and check every hash tile against the signed checkpoint,
// then checks every entry bundle against the level-0 tiles, and the
// proof endpoints against the tree.
func TestTileClientReadsWholeLog(t *testing.T) {
	if testing.Short() {
		t.Skip("a 70,000-leaf log")
	}
	l := newMemLog(t, 70000)
	h := serveTLS(t, l)

	msg, code := h.get("checkpoint")
	if code != http.StatusOK {
		t.Fatalf("GET checkpoint: %d %s", code, msg)
	}
	verifier, err := note.NewVerifier(l.vkey)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := ledger.OpenCheckpoint(msg, testOrigin, verifier)
	if err != nil {
		t.Fatal(err)
	}
	client := tlog.TileHashReader(c.Tree, h)

	// Every leaf hash, through tiles checked up to the signed root.
	indexes := make([]int64, c.N)
	for i := range indexes {
		indexes[i] = tlog.StoredHashIndex(0, int64(i))
	}
	leafHashes, err := client.ReadHashes(indexes)
	if err != nil {
		t.Fatalf("the tile client does not accept the log: %v", err)
	}
	// Every entry bundle, against those hashes.
	for n := int64(0); n*256 < c.N; n++ {
		w := min(256, c.N-n*256)
		tile := tlog.Tile{H: 8, L: -1, N: n, W: int(w)}
		body, code := h.get(ledger.TilePath(tile))
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d", ledger.TilePath(tile), code)
		}
		cs, err := ledger.ParseCommitmentBundle(body, int(w))
		if err != nil {
			t.Fatal(err)
		}
		for i, cm := range cs {
			if cm.LeafHash() != leafHashes[n*256+int64(i)] {
				t.Fatalf("bundle %d entry %d does not hash to the verified leaf hash", n, i)
			}
		}
	}

	// The proof endpoints, checked against the signed tree.
	for _, index := range []int64{0, 255, 65536, c.N - 1} {
		p := hashesOf(t, h, fmt.Sprintf("proof/inclusion?index=%d", index))
		if err := ledger.CheckInclusion(p, c.Tree, index, l.leaves[index]); err != nil {
			t.Errorf("inclusion proof of %d: %v", index, err)
		}
	}
	oldHash, err := tlog.TreeHash(1000, tlog.HashReaderFunc(l.readHashes))
	if err != nil {
		t.Fatal(err)
	}
	p := hashesOf(t, h, "proof/consistency?old=1000")
	if err := ledger.CheckConsistency(p, c.Tree, tlog.Tree{N: 1000, Hash: oldHash}); err != nil {
		t.Errorf("consistency proof from 1000: %v", err)
	}
}

func hashesOf(t testing.TB, h httpTiles, path string) []tlog.Hash {
	t.Helper()
	body, code := h.get(path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	var out []tlog.Hash
	for _, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
		if line == "" {
			continue
		}
		hh, err := tlog.ParseHash(line)
		if err != nil {
			t.Fatalf("GET %s: line %q: %v", path, line, err)
		}
		out = append(out, hh)
	}
	return out
}
