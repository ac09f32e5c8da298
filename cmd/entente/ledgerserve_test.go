package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/ledgerhttp"
	"github.com/entente/entente/node"
)

// nodeTiles is a tlog.TileReader over a node's /ledger/ endpoint, with an
// account's token: what any tlog-tiles client does.
type nodeTiles struct {
	t     *testing.T
	n     *runningNode
	token string
}

func (r nodeTiles) Height() int { return ledger.TileHeight }

func (r nodeTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		code, body := r.get(ledger.TilePath(tile))
		if code != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %d %s", ledger.TilePath(tile), code, body)
		}
		out[i] = body
	}
	return out, nil
}

func (r nodeTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func (r nodeTiles) get(path string) (int, []byte) {
	r.t.Helper()
	req, _ := http.NewRequest("GET", r.n.base+ledgerhttp.Prefix+path, nil)
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := r.n.client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes()
}

// TestTileClientReadsNode has tlog's tile client read a serving node's
// whole ledger (on SQLite, over HTTPS) and check every tile against the
// signed checkpoint; the entry bundles hash to the verified leaves, and the
// admin's openings open them. A reader may read the log but gets no
// opening.
func TestTileClientReadsNode(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 600 objects")
	}
	p := newPartnerNode(t, "arcadia-node-1", "arcadia", "")
	p.run = startServe(t, p.dir, "--addr", p.addr, "--checkpoint-interval", "20ms")
	for i := 0; i < 600; i += 200 {
		p.add(t, i, 200)
	}
	code, stdout, stderr := runCmd(t, "user", "add", "--data", p.dir, "reader-user", "--role", "reader")
	if code != 0 {
		t.Fatal(stderr)
	}
	reader := nodeTiles{t, p.run, lastLine(stdout)}
	admin := nodeTiles{t, p.run, p.run.adminToken}

	logKey, _ := note.NewVerifier(p.key.VerifierKey)
	var c ledger.Checkpoint
	// The entry recording the node's key, then the 600 objects'.
	waitFor(t, "a checkpoint of 601 entries", func() bool {
		code, msg := reader.get("checkpoint")
		var err error
		if code == http.StatusOK {
			c, _, err = ledger.OpenCheckpoint(msg, node.DefaultLogName(p.key), logKey)
		}
		return code == http.StatusOK && err == nil && c.N == 601
	})
	client := tlog.TileHashReader(c.Tree, reader)
	indexes := make([]int64, c.N)
	for i := range indexes {
		indexes[i] = tlog.StoredHashIndex(0, int64(i))
	}
	leaves, err := client.ReadHashes(indexes)
	if err != nil {
		t.Fatalf("the tile client does not accept the node's log: %v", err)
	}
	var commitments []ledger.Commitment
	for n := int64(0); n*256 < c.N; n++ {
		w := int(min(256, c.N-n*256))
		code, body := reader.get(ledger.TilePath(tlog.Tile{H: 8, L: -1, N: n, W: w}))
		cs, err := ledger.ParseCommitmentBundle(body, w)
		if code != http.StatusOK || err != nil {
			t.Fatalf("entry bundle %d: %d %v", n, code, err)
		}
		commitments = append(commitments, cs...)
	}
	for i, cm := range commitments {
		if cm.LeafHash() != leaves[i] {
			t.Fatalf("entry %d of the bundles does not hash to the verified leaf", i)
		}
	}
	// The admin opens every entry; each opening opens its leaf.
	code, body := admin.get("openings?from=0&to=601")
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if code != http.StatusOK || len(lines) != 601 {
		t.Fatalf("admin openings: %d, %d lines", code, len(lines))
	}
	for _, line := range lines {
		idx, b64, _ := strings.Cut(line, " ")
		i, err1 := strconv.Atoi(idx)
		raw, err2 := base64.StdEncoding.DecodeString(b64)
		o, err3 := ledger.ParseOpening(raw)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("opening line %q: %v %v %v", line, err1, err2, err3)
		}
		if err := o.Verify(commitments[i]); err != nil {
			t.Fatalf("opening %d: %v", i, err)
		}
	}
	if code, body := reader.get("openings?from=0&to=600"); code != http.StatusOK || len(body) != 0 {
		t.Errorf("reader openings: %d %q, want none", code, body)
	}
	if code, _ := (nodeTiles{t, p.run, "entente_bad"}).get("checkpoint"); code != http.StatusUnauthorized {
		t.Errorf("checkpoint with a bad token: %d, want 401", code)
	}
}
