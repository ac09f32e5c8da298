package match

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
)

// exactSet is an immutable multimap from keys to indicator numbers, built
// for size: a flat open-addressing table of 8-byte slots over one byte
// arena. A Go map[string][]uint32 would spend about 16 bytes on the string
// header, 24 on the slice and its own bucket overhead per key; here a key
// costs its bytes plus about 16.
//
// Each slot holds the entry's arena offset and a 24-bit fingerprint of its
// hash, so that a probe touches the arena only when the fingerprints agree.
// An entry is [tag uint16][indicator uint32][len uvarint][key bytes]. The
// tag says which path and lookup kind the key belongs to. A key given to
// several indicators is stored once per indicator; lookups walk the probe
// sequence to the first empty slot and report each.
//
// The hash covers the lookup kind and the key but not the path, so one
// probe sequence finds a value under every path it is indexed under: an
// address seen as a connection's destination is looked up once for
// ipv4-addr:value and network-traffic:dst_ref.value together. Each probe
// into a table of millions of keys is a cache miss, and misses are what a
// lookup costs.
type exactSet struct {
	seed  maphash.Seed
	slots []uint64
	arena []byte
	n     int
	// filter is a blocked Bloom filter of the keys: each key sets four
	// bits within one 64-bit word, and there is one word per eight keys
	// (8 bits per key, about 2% false positives). Nearly every lookup of a
	// log value misses, and the filter, a tenth of the table's size,
	// answers most of them from cache.
	filter []uint64
}

const (
	fpBits = 24
	fpMask = 1<<fpBits - 1
	// The load factor keeps probe sequences short: at 0.6, linear probing
	// averages under four slots, one cache line, for a miss.
	loadNum, loadDen = 3, 5
)

// exactBuilder collects entries before the table is sized.
type exactBuilder struct {
	seed   maphash.Seed
	arena  []byte
	hashes []uint64
	offs   []uint64
}

// newExactBuilder returns a builder for about n entries of about size
// bytes in all.
func newExactBuilder(seed maphash.Seed, n, size int) exactBuilder {
	return exactBuilder{
		seed:   seed,
		arena:  make([]byte, 0, size),
		hashes: make([]uint64, 0, n),
		offs:   make([]uint64, 0, n),
	}
}

// kindMask selects the lookup kind and packing bits of a tag, which the
// hash covers; the rest of the tag is the path, which it does not.
const kindMask = 7

func keyHash(seed maphash.Seed, tag uint16, key []byte) uint64 {
	h := maphash.Bytes(seed, key)
	return (h ^ uint64(tag&kindMask)*0x9E3779B97F4A7C15) * 0xBF58476D1CE4E5B9
}

func (b *exactBuilder) add(tag uint16, key []byte, ind uint32) {
	off := uint64(len(b.arena))
	b.arena = binary.LittleEndian.AppendUint16(b.arena, tag)
	b.arena = binary.LittleEndian.AppendUint32(b.arena, ind)
	b.arena = binary.AppendUvarint(b.arena, uint64(len(key)))
	b.arena = append(b.arena, key...)
	b.hashes = append(b.hashes, keyHash(b.seed, tag, key))
	b.offs = append(b.offs, off)
}

// buildExact builds the set of the entries of several builders, taken in
// order.
func buildExact(seed maphash.Seed, parts []*exactBuilder) *exactSet {
	n, size := 0, 0
	for _, b := range parts {
		n += len(b.hashes)
		size += len(b.arena)
	}
	s := &exactSet{seed: seed, slots: make([]uint64, n*loadDen/loadNum+1), n: n}
	s.filter = make([]uint64, max(1, n/8))
	s.arena = make([]byte, 0, size)
	for _, b := range parts {
		base := uint64(len(s.arena))
		s.arena = append(s.arena, b.arena...)
		for i, h := range b.hashes {
			s.filter[s.filterWord(h)] |= filterBits(h)
			slot := (base+b.offs[i]+1)<<fpBits | h&fpMask
			j := s.home(h)
			for s.slots[j] != 0 {
				if j++; j == len(s.slots) {
					j = 0
				}
			}
			s.slots[j] = slot
		}
	}
	return s
}

// home maps a hash onto the table without a division: the high half of
// hash × size is uniform in [0, size). It depends mostly on the high bits
// of the hash, the fingerprint on the low ones.
func (s *exactSet) home(h uint64) int {
	hi, _ := bits.Mul64(h, uint64(len(s.slots)))
	return int(hi)
}

// lookup calls fn for every indicator stored under key with the kind of
// tag, under any path; fn gets the entry's full tag.
func (s *exactSet) lookup(tag uint16, key []byte, fn func(tag uint16, ind uint32)) {
	if h := keyHash(s.seed, tag, key); s.mayHold(h) {
		s.lookupHash(h, tag, key, fn)
	}
}

// The filter remixes the hash so that its word and bits do not follow the
// table's home slot and fingerprint.
const filterMix = 0x9E3779B97F4A7C15

// filterWord picks the filter word of hash h from the high bits of the
// remixed hash.
func (s *exactSet) filterWord(h uint64) int {
	hi, _ := bits.Mul64(h*filterMix, uint64(len(s.filter)))
	return int(hi)
}

// filterBits picks four bits of a filter word from the low bits of the
// remixed hash.
func filterBits(h uint64) uint64 {
	h *= filterMix
	return 1<<(h&63) | 1<<(h>>6&63) | 1<<(h>>12&63) | 1<<(h>>18&63)
}

// mayHold reports whether a key of hash h may be in the set; false is
// certain.
func (s *exactSet) mayHold(h uint64) bool {
	if s.n == 0 {
		return false
	}
	b := filterBits(h)
	return s.filter[s.filterWord(h)]&b == b
}

// touch loads the first slot a lookup of hash h reads. Touching the slots
// of several lookups before making them lets their cache misses overlap
// instead of queueing one after the other.
func (s *exactSet) touch(h uint64) uint64 {
	if s.n == 0 {
		return 0
	}
	return s.slots[s.home(h)]
}

// lookupHash is lookup with the hash already computed.
func (s *exactSet) lookupHash(h uint64, tag uint16, key []byte, fn func(tag uint16, ind uint32)) {
	if s.n == 0 {
		return
	}
	fp := h & fpMask
	j := s.home(h)
	for {
		slot := s.slots[j]
		if slot == 0 {
			return
		}
		if slot&fpMask == fp {
			off := slot>>fpBits - 1
			e := s.arena[off:]
			if t := binary.LittleEndian.Uint16(e); t&kindMask == tag&kindMask {
				n, w := binary.Uvarint(e[6:])
				if int(n) == len(key) && string(e[6+w:6+w+int(n)]) == string(key) {
					fn(t, binary.LittleEndian.Uint32(e[2:]))
				}
			}
		}
		if j++; j == len(s.slots) {
			j = 0
		}
	}
}

// bytes reports the memory the set holds.
func (s *exactSet) bytes() int { return len(s.slots)*8 + len(s.arena) + len(s.filter)*8 }
