package match

import (
	"slices"
	"sync/atomic"

	"github.com/entente/entente/stix/pattern"
)

// lazyPatterns holds the patterns that are evaluated after a table hit
// (compound comparisons, LIKE and MATCHES, multi-observation patterns) as
// source text, and parses each the first time it is needed. A parsed tree
// costs a kilobyte or more, much of it in compiled regular expressions,
// while its source costs its length; in a real feed few of these
// indicators ever hit, so most trees would be built and kept for nothing.
// Compile has already parsed every source once, so parsing it again
// succeeds.
type lazyPatterns struct {
	inds  []uint32 // indicator numbers, ascending
	ends  []uint32 // end of each source in text
	text  string   // the sources, one after another
	trees []atomic.Pointer[pattern.Pattern]
}

// lazyBuilder collects sources in indicator order.
type lazyBuilder struct {
	inds []uint32
	ends []uint32
	text []byte
}

func (b *lazyBuilder) add(n uint32, src string) {
	b.inds = append(b.inds, n)
	b.text = append(b.text, src...)
	b.ends = append(b.ends, uint32(len(b.text)))
}

// build returns the patterns of builders that hold ascending, disjoint
// ranges of indicators, given in order.
func buildLazy(parts []*lazyBuilder) *lazyPatterns {
	var n, size int
	for _, b := range parts {
		n += len(b.inds)
		size += len(b.text)
	}
	l := &lazyPatterns{inds: make([]uint32, 0, n), ends: make([]uint32, 0, n), trees: make([]atomic.Pointer[pattern.Pattern], n)}
	text := make([]byte, 0, size)
	for _, b := range parts {
		base := uint32(len(text))
		l.inds = append(l.inds, b.inds...)
		for _, e := range b.ends {
			l.ends = append(l.ends, base+e)
		}
		text = append(text, b.text...)
	}
	l.text = string(text)
	return l
}

// get returns the parsed pattern of indicator n, or nil when n is not one
// of the lazily parsed indicators.
func (l *lazyPatterns) get(n uint32) *pattern.Pattern {
	i, ok := slices.BinarySearch(l.inds, n)
	if !ok {
		return nil
	}
	if p := l.trees[i].Load(); p != nil {
		return p
	}
	start := uint32(0)
	if i > 0 {
		start = l.ends[i-1]
	}
	p, err := pattern.Parse(l.text[start:l.ends[i]])
	if err != nil {
		return nil
	}
	// Two scanners may parse the same source at once; either tree will do.
	l.trees[i].CompareAndSwap(nil, p)
	return l.trees[i].Load()
}
