package match

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// substrFilter finds which of many literals occur in a text, for the LIKE
// and MATCHES comparisons no table lookup can answer. It is hash-anchored:
// every literal is filed under one of its 4-byte grams, the rarest one
// across the set, and a scan hashes each 4-byte window of the text, tests a
// bitmap sized to keep false hits rare, and only then compares literals.
// Aho-Corasick automata visit a state per byte over megabytes of states;
// this touches one small bitmap per byte and stays in cache.
//
// Literals shorter than a gram are kept aside and searched for directly.
type substrFilter struct {
	bitmap  []uint64
	bShift  uint32 // 32 - log2(bitmap bits)
	kShift  uint32 // 32 - log2(buckets)
	start   []uint32
	entries []substrEntry
	short   []substrEntry
}

type substrEntry struct {
	gram uint32
	off  uint32 // where the gram starts in lit
	ind  uint32
	lit  string
}

const gramHashMul = 0x9E3779B1

type substrLiteral struct {
	lit string
	ind uint32
}

func newSubstrFilter(lits []substrLiteral) *substrFilter {
	f := &substrFilter{}
	// Pick each literal's rarest gram by counting grams over the whole set.
	freq := make(map[uint32]int)
	for _, l := range lits {
		for i := 0; i+4 <= len(l.lit); i++ {
			freq[binary.LittleEndian.Uint32([]byte(l.lit[i:]))]++
		}
	}
	var long []substrEntry
	for _, l := range lits {
		if len(l.lit) < 4 {
			f.short = append(f.short, substrEntry{ind: l.ind, lit: l.lit})
			continue
		}
		best, bestN := 0, -1
		for i := 0; i+4 <= len(l.lit); i++ {
			n := freq[binary.LittleEndian.Uint32([]byte(l.lit[i:]))]
			if bestN < 0 || n < bestN {
				best, bestN = i, n
			}
		}
		long = append(long, substrEntry{
			gram: binary.LittleEndian.Uint32([]byte(l.lit[best:])),
			off:  uint32(best),
			ind:  l.ind,
			lit:  l.lit,
		})
	}
	// Sixteen bitmap bits per literal keep about one text window in
	// sixteen past the bitmap, which is what makes the scan cheap.
	bBits := max(12, bits.Len(uint(len(long)*16)))
	bBits = min(bBits, 30)
	kBits := max(bBits-3, 1)
	f.bShift, f.kShift = uint32(32-bBits), uint32(32-kBits)
	f.bitmap = make([]uint64, (1<<bBits)/64)
	bucket := func(g uint32) uint32 { return (g * gramHashMul) >> f.kShift }
	slices.SortFunc(long, func(a, b substrEntry) int { return int(bucket(a.gram)) - int(bucket(b.gram)) })
	f.start = make([]uint32, 1<<kBits+1)
	for _, e := range long {
		h := e.gram * gramHashMul
		b := h >> f.bShift
		f.bitmap[b>>6] |= 1 << (b & 63)
		f.start[bucket(e.gram)+1]++
	}
	for i := 1; i < len(f.start); i++ {
		f.start[i] += f.start[i-1]
	}
	f.entries = long
	return f
}

// find calls fn for the indicator of every literal that occurs in text, as
// often as it occurs.
func (f *substrFilter) find(text []byte, fn func(ind uint32)) {
	for i := range f.short {
		if e := &f.short[i]; containsString(text, e.lit) {
			fn(e.ind)
		}
	}
	if len(f.entries) == 0 {
		return
	}
	bitmap, bShift, kShift := f.bitmap, f.bShift, f.kShift
	for i := 0; i+4 <= len(text); i++ {
		g := binary.LittleEndian.Uint32(text[i:])
		h := g * gramHashMul
		b := h >> bShift
		if bitmap[b>>6]&(1<<(b&63)) == 0 {
			continue
		}
		k := h >> kShift
		for j := f.start[k]; j < f.start[k+1]; j++ {
			e := &f.entries[j]
			if e.gram != g || uint32(i) < e.off {
				continue
			}
			s := i - int(e.off)
			if s+len(e.lit) <= len(text) && string(text[s:s+len(e.lit)]) == e.lit {
				fn(e.ind)
			}
		}
	}
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

func (f *substrFilter) bytes() int {
	n := len(f.bitmap)*8 + len(f.start)*4
	for _, e := range f.entries {
		n += 32 + len(e.lit)
	}
	for _, e := range f.short {
		n += 32 + len(e.lit)
	}
	return n
}
