package match

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// substrFilter finds which of many literals occur in a text, for the LIKE
// and MATCHES comparisons no table lookup can answer. It is hash-anchored:
// every literal is filed under some of its grams, chosen to be rare across
// the set, and a scan hashes windows of the text, tests a bitmap sized to
// keep false hits rare, and only then compares literals. Aho-Corasick
// automata visit a state per byte over megabytes of states; this touches
// one small bitmap per window and stays in cache.
//
// Literals of eleven bytes or more are filed under 8-byte grams, which are
// nearly unique even when the literals share their short pieces (digits,
// say, which also fill log text); shorter ones under 4-byte grams; and
// those shorter than four bytes are searched for directly. A literal of
// eleven bytes or more is filed under four consecutive grams, one of which
// starts at a multiple of four in any text holding it, so the scan reads
// only every fourth window; one of five to ten bytes under two, read at
// every second window. Four 4-byte grams would span most of a short
// literal, taking in the common pieces its rarest gram avoids (digits, a
// slash), and log text would reach the buckets far more often.
type substrFilter struct {
	grams []gramIndex // by width and stride, those holding literals
	short []substrEntry
}

// gramIndex files literals under grams of one width.
//
// Its bitmap is a blocked Bloom filter of the grams: each sets two bits of
// one 64-bit word, with 16 to 32 bits per gram. One word per text window
// is read either way, and a second bit cuts the windows that reach the
// buckets, each a cache miss or two, to about one in a hundred.
type gramIndex struct {
	width   int // 4 or 8
	stride  int // 1 or 4: the windows the scan reads
	bitmap  []uint64
	wShift  uint64 // 64 - log2(bitmap words)
	kShift  uint64 // 64 - log2(buckets)
	start   []uint32
	entries []substrEntry
}

type substrEntry struct {
	gram uint64
	off  uint32 // where the gram starts in lit
	// next holds up to four literal bytes after the gram, under mask, so
	// that literals sharing a gram are told apart with one comparison
	// rather than a string compare each.
	next, mask uint32
	ind        uint32
	lit        string
}

const gramHashMul = 0x9E3779B97F4A7C15

type substrLiteral struct {
	lit string
	ind uint32
}

// loadGram reads a gram of the given width at the start of b.
func loadGram(b []byte, width int) uint64 {
	if width == 8 {
		return binary.LittleEndian.Uint64(b)
	}
	return uint64(binary.LittleEndian.Uint32(b))
}

// gramTiers says which literals each gram index takes: those of at least
// minLen bytes not taken by an earlier tier.
var gramTiers = []struct{ minLen, width, stride int }{
	{11, 8, 4},
	{5, 4, 2},
	{4, 4, 1},
}

func newSubstrFilter(lits []substrLiteral) *substrFilter {
	f := &substrFilter{}
	tiers := make([][]substrLiteral, len(gramTiers))
next:
	for _, l := range lits {
		for t, tier := range gramTiers {
			if len(l.lit) >= tier.minLen {
				tiers[t] = append(tiers[t], l)
				continue next
			}
		}
		f.short = append(f.short, substrEntry{ind: l.ind, lit: l.lit})
	}
	for t, tier := range gramTiers {
		if len(tiers[t]) > 0 {
			f.grams = append(f.grams, newGramIndex(tiers[t], tier.width, tier.stride))
		}
	}
	return f
}

// newGramIndex files each literal under stride consecutive grams, those
// rarest in the set. Every literal must hold width+stride-1 bytes.
func newGramIndex(lits []substrLiteral, width, stride int) gramIndex {
	g := gramIndex{width: width, stride: stride}
	freq := make(map[uint64]int)
	for _, l := range lits {
		for i := 0; i+width <= len(l.lit); i++ {
			freq[loadGram([]byte(l.lit[i:]), width)]++
		}
	}
	for _, l := range lits {
		best, bestN := 0, -1
		for i := 0; i+width+stride-1 <= len(l.lit); i++ {
			n := 0
			for k := range stride {
				n += freq[loadGram([]byte(l.lit[i+k:]), width)]
				if allDigits(l.lit[i+k : i+k+width]) {
					// Rare among the literals, maybe, but logs are full
					// of numbers: take one only when there is nothing else.
					n += len(lits)
				}
			}
			if bestN < 0 || n < bestN {
				best, bestN = i, n
			}
		}
		for off := best; off < best+stride; off++ {
			e := substrEntry{gram: loadGram([]byte(l.lit[off:]), width), off: uint32(off), ind: l.ind, lit: l.lit}
			for k, c := range []byte(l.lit[off+width : min(off+width+4, len(l.lit))]) {
				e.next |= uint32(c) << (8 * k)
				e.mask |= 0xff << (8 * k)
			}
			g.entries = append(g.entries, e)
		}
	}
	n := len(g.entries)
	wBits := min(max(6, bits.Len(uint(n/4))), 26)
	kBits := min(max(4, bits.Len(uint(n))), 26)
	g.wShift, g.kShift = uint64(64-wBits), uint64(64-kBits)
	g.bitmap = make([]uint64, 1<<wBits)
	bucket := func(gram uint64) uint64 { return (gram * gramHashMul) >> g.kShift }
	slices.SortFunc(g.entries, func(a, b substrEntry) int { return int(bucket(a.gram)) - int(bucket(b.gram)) })
	g.start = make([]uint32, 1<<kBits+1)
	for _, e := range g.entries {
		w, m := g.filter(e.gram)
		g.bitmap[w] |= m
		g.start[bucket(e.gram)+1]++
	}
	for i := 1; i < len(g.start); i++ {
		g.start[i] += g.start[i-1]
	}
	return g
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// filter returns the bitmap word and bits of a gram: the word from the top
// bits of its hash, the bits from the twelve below them.
func (g *gramIndex) filter(gram uint64) (word uint64, bits uint64) {
	h := gram * gramHashMul
	b := h >> (g.wShift - 12)
	return h >> g.wShift, 1<<(b&63) | 1<<(b>>6&63)
}

// find calls fn for the indicator of every literal that occurs in text, as
// often as it occurs.
func (f *substrFilter) find(text []byte, fn func(ind uint32)) {
	for i := range f.short {
		if e := &f.short[i]; containsString(text, e.lit) {
			fn(e.ind)
		}
	}
	for i := range f.grams {
		f.grams[i].find(text, fn)
	}
}

func (g *gramIndex) find(text []byte, fn func(ind uint32)) {
	if len(g.entries) == 0 || len(text) < g.width {
		return
	}
	// One loop per width, so that the per-byte path has no branch on it.
	bitmap, wShift, bShift, stride := g.bitmap, g.wShift, g.wShift-12, g.stride
	if g.width == 8 {
		for i := 0; i <= len(text)-8; i += stride {
			gram := binary.LittleEndian.Uint64(text[i : i+8])
			h := gram * gramHashMul
			b := h >> bShift
			if m := uint64(1)<<(b&63) | 1<<(b>>6&63); bitmap[h>>wShift]&m == m {
				g.verify(text, i, gram, fn)
			}
		}
		return
	}
	for i := 0; i <= len(text)-4; i += stride {
		gram := uint64(binary.LittleEndian.Uint32(text[i : i+4]))
		h := gram * gramHashMul
		b := h >> bShift
		if m := uint64(1)<<(b&63) | 1<<(b>>6&63); bitmap[h>>wShift]&m == m {
			g.verify(text, i, gram, fn)
		}
	}
}

// verify compares the literals filed under gram, found at text[i:].
func (g *gramIndex) verify(text []byte, i int, gram uint64, fn func(ind uint32)) {
	k := (gram * gramHashMul) >> g.kShift
	next := loadUpTo4(text[i+g.width:])
	for j := g.start[k]; j < g.start[k+1]; j++ {
		e := &g.entries[j]
		if e.gram != gram || next&e.mask != e.next || uint32(i) < e.off {
			continue
		}
		s := i - int(e.off)
		if s+len(e.lit) <= len(text) && string(text[s:s+len(e.lit)]) == e.lit {
			fn(e.ind)
		}
	}
}

// loadUpTo4 reads the first four bytes of b, fewer at its end, little
// endian. Missing bytes read as zero; a window that short fails the length
// check that follows anyway.
func loadUpTo4(b []byte) uint32 {
	if len(b) >= 4 {
		return binary.LittleEndian.Uint32(b)
	}
	var v uint32
	for k, c := range b {
		v |= uint32(c) << (8 * k)
	}
	return v
}

func containsString(text []byte, lit string) bool {
	if lit == "" {
		return true
	}
	for i := 0; i+len(lit) <= len(text); i++ {
		if text[i] == lit[0] && string(text[i:i+len(lit)]) == lit {
			return true
		}
	}
	return false
}
