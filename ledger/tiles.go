package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// TileHeight is the height of C2SP tlog-tiles tiles: 256 hashes wide.
const TileHeight = 8

// Tiles returns the tiles (hash tiles and entry bundles, as tlog.Tile with
// L = -1 for bundles) that change when the log grows from oldSize to
// newSize: what a node writes or invalidates after a checkpoint.
func Tiles(oldSize, newSize int64) []tlog.Tile {
	hash := tlog.NewTiles(TileHeight, oldSize, newSize)
	tiles := make([]tlog.Tile, 0, 2*len(hash))
	for _, t := range hash {
		tiles = append(tiles, t)
		if t.L == 0 {
			d := t
			d.L = -1
			tiles = append(tiles, d)
		}
	}
	return tiles
}

// TilePath returns the C2SP tlog-tiles path of t, relative to the log's
// prefix: "tile/<L>/<N>[.p/<W>]" for hash tiles and
// "tile/entries/<N>[.p/<W>]" for entry bundles (t.L == -1), N written in
// 3-digit elements with an "x" on all but the last (1234067 is
// "x001/x234/067"). This is not tlog.Tile.Path, which is the Go checksum
// database's layout.
func TilePath(t tlog.Tile) string {
	var b strings.Builder
	b.WriteString("tile/")
	if t.L == -1 {
		b.WriteString("entries")
	} else {
		b.WriteString(strconv.Itoa(t.L))
	}
	n := t.N
	var parts []string
	for {
		parts = append(parts, fmt.Sprintf("%03d", n%1000))
		n /= 1000
		if n == 0 {
			break
		}
	}
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		if i > 0 {
			b.WriteByte('x')
		}
		b.WriteString(parts[i])
	}
	if t.W != 1<<TileHeight {
		b.WriteString(".p/")
		b.WriteString(strconv.Itoa(t.W))
	}
	return b.String()
}

// ParseTilePath is the inverse of TilePath. It accepts only the canonical
// spelling, so each tile has one path.
func ParseTilePath(path string) (tlog.Tile, error) {
	bad := func(why string) (tlog.Tile, error) {
		return tlog.Tile{}, fmt.Errorf("ledger: %q is not a tlog-tiles path: %s", path, why)
	}
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return bad(`it does not start with "tile/"`)
	}
	level, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return bad("no tile index")
	}
	t := tlog.Tile{H: TileHeight, W: 1 << TileHeight}
	if level == "entries" {
		t.L = -1
	} else {
		l, ok := decimal(level)
		if !ok || l > 63 {
			return bad("the level is not a decimal 0..63")
		}
		t.L = int(l)
	}
	if idx, w, ok := strings.Cut(rest, ".p/"); ok {
		width, ok := decimal(w)
		if !ok || width < 1 || width > 255 {
			return bad("the partial width is not a decimal 1..255")
		}
		t.W = int(width)
		rest = idx
	}
	parts := strings.Split(rest, "/")
	var n int64
	for i, p := range parts {
		if i < len(parts)-1 {
			if p, ok = strings.CutPrefix(p, "x"); !ok {
				return bad(`an index element other than the last lacks its "x"`)
			}
		}
		if len(p) != 3 || strings.Trim(p, "0123456789") != "" {
			return bad("an index element is not three digits")
		}
		if i == 0 && p == "000" && len(parts) > 1 {
			return bad("the index has a leading zero element")
		}
		d, _ := strconv.Atoi(p)
		if n > (math.MaxInt64-int64(d))/1000 {
			return bad("the index overflows")
		}
		n = n*1000 + int64(d)
	}
	t.N = n
	return t, nil
}

// decimal parses a non-negative decimal with no sign and no leading zeros.
func decimal(s string) (int64, bool) {
	if s == "" || len(s) > 1 && s[0] == '0' || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// AppendBundleEntry appends one entry of a C2SP entry bundle to b: the
// data's length as a big-endian uint16, then the data. The ledger's bundles
// hold commitments, so each entry is 34 bytes.
func AppendBundleEntry(b, data []byte) ([]byte, error) {
	if len(data) > math.MaxUint16 {
		return nil, fmt.Errorf("ledger: a bundle entry of %d bytes is longer than %d", len(data), math.MaxUint16)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...), nil
}

// EntryBundle returns the entry bundle of the commitments, which must be
// those of one bundle (tile/entries/N holds leaves N*256 to N*256+W-1).
func EntryBundle(cs []Commitment) []byte {
	b := make([]byte, 0, len(cs)*(2+len(Commitment{})))
	for _, c := range cs {
		b, _ = AppendBundleEntry(b, c[:])
	}
	return b
}

// ErrMalformedBundle is wrapped by the errors of ParseEntryBundle.
var ErrMalformedBundle = errors.New("ledger: malformed entry bundle")

// ParseEntryBundle splits an entry bundle into its entries.
func ParseEntryBundle(b []byte) ([][]byte, error) {
	var entries [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("%w: a truncated length after %d entries", ErrMalformedBundle, len(entries))
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b)-2 < n {
			return nil, fmt.Errorf("%w: entry %d is truncated", ErrMalformedBundle, len(entries))
		}
		entries = append(entries, b[2:2+n])
		b = b[2+n:]
	}
	return entries, nil
}

// ParseCommitmentBundle splits an entry bundle of this ledger into its
// commitments, checking that it holds want of them.
func ParseCommitmentBundle(b []byte, want int) ([]Commitment, error) {
	entries, err := ParseEntryBundle(b)
	if err != nil {
		return nil, err
	}
	if len(entries) != want {
		return nil, fmt.Errorf("%w: %d entries, want %d", ErrMalformedBundle, len(entries), want)
	}
	cs := make([]Commitment, len(entries))
	for i, e := range entries {
		if len(e) != len(cs[i]) {
			return nil, fmt.Errorf("%w: entry %d is %d bytes, not a 32-byte commitment", ErrMalformedBundle, i, len(e))
		}
		copy(cs[i][:], e)
	}
	return cs, nil
}
