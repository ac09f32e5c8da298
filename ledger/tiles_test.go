package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

func TestTilePath(t *testing.T) {
	for _, tc := range []struct {
		tile tlog.Tile
		path string
	}{
		{tlog.Tile{H: 8, L: 0, N: 1234067, W: 256}, "tile/0/x001/x234/067"},
		{tlog.Tile{H: 8, L: 0, N: 0, W: 256}, "tile/0/000"},
		{tlog.Tile{H: 8, L: 2, N: 1000, W: 17}, "tile/2/x001/000.p/17"},
		{tlog.Tile{H: 8, L: -1, N: 5, W: 256}, "tile/entries/005"},
		{tlog.Tile{H: 8, L: -1, N: 273, W: 112}, "tile/entries/273.p/112"},
		{tlog.Tile{H: 8, L: 63, N: 999, W: 1}, "tile/63/999.p/1"},
	} {
		if got := TilePath(tc.tile); got != tc.path {
			t.Errorf("TilePath(%+v) = %q, want %q", tc.tile, got, tc.path)
		}
		got, err := ParseTilePath(tc.path)
		if err != nil || got != tc.tile {
			t.Errorf("ParseTilePath(%q) = %+v, %v; want %+v", tc.path, got, err, tc.tile)
		}
	}
	for _, bad := range []string{
		"", "tile/", "tile/0", "tile/0/", "tile/00/000", "tile/64/000", "tile/-1/000", "tile/0/67",
		"tile/0/0067", "tile/0/001/234", "tile/0/x000/001", "tile/0/x001/x234", "tile/0/000.p/0",
		"tile/0/000.p/256", "tile/0/000.p/07", "tile/0/000.p/", "tile/data/000", "tiles/0/000",
		"tile/0/x999/x999/x999/x999/x999/x999/x999/999", "tile/0/x1a2/000", "tile/entries/000.p/1/x",
	} {
		if tile, err := ParseTilePath(bad); err == nil {
			t.Errorf("ParseTilePath(%q) = %+v, want an error", bad, tile)
		}
	}
}

func TestTilesForGrowth(t *testing.T) {
	// The spec's example: a tree of 70,000 has 273 full level-0 tiles, a
	// partial one of width 112, one full level-1 tile, a partial one of
	// width 17, and a partial level-2 tile of width 1.
	tiles := Tiles(0, 70000)
	count := map[string]int{}
	for _, tile := range tiles {
		key := fmt.Sprintf("L%d", tile.L)
		if tile.W < 256 {
			key += fmt.Sprintf(".p/%d", tile.W)
		}
		count[key]++
	}
	want := map[string]int{"L0": 273, "L0.p/112": 1, "L-1": 273, "L-1.p/112": 1, "L1": 1, "L1.p/17": 1, "L2.p/1": 1}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Errorf("tiles of a 70,000-leaf tree: %v, want %v", count, want)
	}
}

// tileReader serves a log's hash tiles as a node would, for
// tlog.TileHashReader, which checks every tile against a trusted tree as a
// tlog-tiles client does.
type tileReader struct{ hashes memHashes }

func (r tileReader) Height() int { return TileHeight }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		// What the node would serve at TilePath(tile).
		back, err := ParseTilePath(TilePath(tile))
		if err != nil || back != tile {
			return nil, fmt.Errorf("tile %+v does not survive its path: %v", tile, err)
		}
		data, err := tlog.ReadTileData(tile, r.hashes)
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (r tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func TestServeTilesToAClient(t *testing.T) {
	var l testLog
	l.appendSynthetic(t, 70000)
	tree := l.tree(t, int64(len(l.leaves)))
	client := tlog.TileHashReader(tree, tileReader{l.hashes})
	for _, index := range []int64{0, 255, 256, 65535, 65536, 69999} {
		p, err := ProveInclusion(tree.N, index, client)
		if err != nil {
			t.Fatalf("proof of %d from tiles: %v", index, err)
		}
		if err := CheckInclusion(p, tree, index, l.leaves[index]); err != nil {
			t.Fatalf("proof of %d from tiles: %v", index, err)
		}
	}
	p, err := ProveConsistency(tree.N, 1000, client)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckConsistency(p, tree, l.tree(t, 1000)); err != nil {
		t.Fatal(err)
	}

	// The last, partial, entry bundle: its commitments hash to the level-0
	// tile's hashes.
	last := tlog.Tile{H: 8, L: -1, N: 273, W: 112}
	bundle := EntryBundle(l.leaves[273*256:])
	if len(bundle) != 112*34 {
		t.Fatalf("bundle of 112 commitments is %d bytes", len(bundle))
	}
	cs, err := ParseCommitmentBundle(bundle, last.W)
	if err != nil {
		t.Fatal(err)
	}
	level0 := last
	level0.L = 0
	data, err := tlog.ReadTileData(level0, l.hashes)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cs {
		if h, _ := tlog.HashFromTile(level0, data, tlog.StoredHashIndex(0, 273*256+int64(i))); h != c.LeafHash() {
			t.Fatalf("bundle entry %d does not hash to the tile's hash", i)
		}
	}
}

func TestEntryBundleRejects(t *testing.T) {
	good := EntryBundle([]Commitment{{1}, {2}})
	for name, b := range map[string][]byte{
		"truncated length": append(bytes.Clone(good), 0),
		"truncated entry":  good[:len(good)-1],
	} {
		if _, err := ParseEntryBundle(b); !errors.Is(err, ErrMalformedBundle) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseCommitmentBundle(good, 3); !errors.Is(err, ErrMalformedBundle) {
		t.Errorf("wrong count: %v", err)
	}
	short, _ := AppendBundleEntry(nil, []byte("abc"))
	if _, err := ParseCommitmentBundle(short, 1); !errors.Is(err, ErrMalformedBundle) {
		t.Errorf("short commitment: %v", err)
	}
	if _, err := AppendBundleEntry(nil, make([]byte, 1<<16)); err == nil {
		t.Error("an entry too long for its length prefix was accepted")
	}
	entries, err := ParseEntryBundle(nil)
	if err != nil || len(entries) != 0 {
		t.Errorf("empty bundle: %v, %v", entries, err)
	}
}
