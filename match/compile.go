package match

import (
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"math"
	"math/bits"
	"net/netip"
	"regexp/syntax"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gaissmai/bart"
	"github.com/google/uuid"

	"github.com/entente/entente/stix"
	"github.com/entente/entente/stix/pattern"
)

// Indicator is what matching needs of a STIX 2.1 indicator (section 4.7).
type Indicator struct {
	ID         string    // "indicator--<uuid>"
	Pattern    string    // a STIX pattern; pattern_type must be "stix"
	ValidFrom  time.Time // zero: valid from the beginning of time
	ValidUntil time.Time // zero: valid forever
	Revoked    bool
}

// IndicatorFromObject extracts an Indicator from a STIX object. It fails
// for objects that are not indicators or whose pattern is not a STIX
// pattern, saying which property is at fault.
func IndicatorFromObject(o *stix.Object) (Indicator, error) {
	if o.Type != "indicator" {
		return Indicator{}, fmt.Errorf("%s: type is %q, not indicator", o.ID, o.Type)
	}
	ind := Indicator{ID: o.ID}
	if pt, _ := o.Props["pattern_type"].(string); pt != "stix" {
		return Indicator{}, fmt.Errorf("%s: pattern_type: %q is not supported; only \"stix\" patterns can be matched", o.ID, pt)
	}
	p, ok := o.Props["pattern"].(string)
	if !ok {
		return Indicator{}, fmt.Errorf("%s: pattern: required string property is missing", o.ID)
	}
	ind.Pattern = p
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"valid_from", &ind.ValidFrom}, {"valid_until", &ind.ValidUntil}} {
		v, present := o.Props[f.name]
		if !present {
			continue
		}
		s, _ := v.(string)
		t, err := stix.ParseTime(s)
		if err != nil {
			return Indicator{}, fmt.Errorf("%s: %s: %w", o.ID, f.name, err)
		}
		*f.dst = t
	}
	if r, ok := o.Props["revoked"].(bool); ok {
		ind.Revoked = r
	}
	return ind, nil
}

// IndicatorError says why one indicator was left out of an Index.
type IndicatorError struct {
	ID  string
	Err error
}

// Error names the indicator and says what is wrong with it.
func (e *IndicatorError) Error() string { return e.ID + ": " + e.Err.Error() }

// Unwrap returns the underlying error, such as a *pattern.Error.
func (e *IndicatorError) Unwrap() error { return e.Err }

// How an indicator is decided once one of its anchors hits.
const (
	decideDirect = iota // the hit is the match: a lone = or IN, or ISSUBSET
	decideEval          // run the reference evaluator on the observation
	decideWindow        // feed the observation to the window engine
	decideNever         // revoked, or cannot match anything the readers produce
)

// Lookup kinds, the low bits of an exact-set tag.
const (
	kindEq = iota
	kindLike
	kindPrefix
	kindSuffix
)

// An Index is a compiled, immutable set of indicators. It is safe for
// concurrent use.
type Index struct {
	seed  maphash.Seed
	exact *exactSet

	paths     []pathInfo
	propPaths [numProperties][2][]uint16 // per property, for IPv4 and IPv6 values (or any other)
	propEq    [numProperties][2]bool     // some path of propPaths has = or IN entries

	ids    [][16]byte        // indicator number → UUID of its id
	oddIDs map[uint32]string // ids whose suffix is not a UUID
	from   []uint32          // valid_from, Unix seconds rounded up; fromFar: see far
	until  []uint32          // valid_until, Unix seconds rounded down; untilNone: none
	far    map[uint32]window // windows that do not fit from and until
	decide []uint8

	patterns   *lazyPatterns // decideEval and decideWindow indicators
	cidrLists  [][]uint32    // indicators of prefixes shared by several; see cidrList
	unanchored []uint32      // evaluated on every record

	stats IndexStats
}

// pathInfo describes what is indexed under one object path.
type pathInfo struct {
	key        string // canonical path key
	eq, like   bool
	prefixLens lengthSet
	suffixLens lengthSet
	// suffixDots says every suffix starts with a dot ('%.evil.example'),
	// so lookups need only try the value's label boundaries.
	suffixDots bool
	cidr       *bart.Table[uint32]
	cidr16     *[1 << 16 / 64]uint64 // IPv4 /16s that some prefix of cidr covers
	substr     *substrFilter
	always     []uint32 // indicators to evaluate whenever the path has a value
	normalize  bool     // LIKE and MATCHES lookups see NFC values

	// During compilation only:
	used        bool // something is filed under the path
	suffixOther bool // some suffix does not start with a dot
	substrLits  []substrLiteral
}

// merge adds what another share of the indicators filed under the path.
func (pi *pathInfo) merge(o *pathInfo) {
	pi.used = pi.used || o.used
	pi.eq = pi.eq || o.eq
	pi.like = pi.like || o.like
	pi.normalize = pi.normalize || o.normalize
	pi.suffixOther = pi.suffixOther || o.suffixOther
	for i := range pi.prefixLens {
		pi.prefixLens[i] |= o.prefixLens[i]
		pi.suffixLens[i] |= o.suffixLens[i]
	}
	pi.always = append(pi.always, o.always...)
	pi.substrLits = append(pi.substrLits, o.substrLits...)
}

// lengthSet is a set of lengths below 256.
type lengthSet [4]uint64

func (s *lengthSet) add(n int)      { s[n>>6] |= 1 << (n & 63) }
func (s *lengthSet) empty() bool    { return s[0]|s[1]|s[2]|s[3] == 0 }
func (s *lengthSet) has(n int) bool { return s[n>>6]&(1<<(n&63)) != 0 }
func (s *lengthSet) each(fn func(int)) {
	for i, x := range s {
		for x != 0 {
			fn(i*64 + bits.TrailingZeros64(x))
			x &= x - 1
		}
	}
}

// IndexStats describes a compiled Index.
type IndexStats struct {
	Indicators int // indicators given to Compile
	Skipped    int // left out: invalid, not STIX, or revoked
	Direct     int // decided by a table hit alone
	Evaluated  int // checked by the reference evaluator after a hit
	Windowed   int // spanning several observations
	Unanchored int // evaluated against every record
	ExactKeys  int
	Prefixes   int
	Substrings int
	// ExactBytes is the memory of the exact-value table with the per
	// indicator records; PrefixBytes that of the CIDR value lists (bart's
	// own tables are not counted).
	ExactBytes  int
	PrefixBytes int
}

// Stats describes the index.
func (ix *Index) Stats() IndexStats { return ix.stats }

// Len returns the number of indicators the index can match.
func (ix *Index) Len() int {
	return ix.stats.Indicators - ix.stats.Skipped
}

// mayCover reports whether some prefix of the path's CIDR table may hold
// pfx, from the IPv4 /16s its prefixes cover; false is certain. Most
// addresses in a log are outside every shared network, and this answers
// them from 8 KiB instead of a walk through the table.
func (pi *pathInfo) mayCover(pfx netip.Prefix) bool {
	if !pfx.Addr().Is4() || pfx.Bits() < 16 {
		return true
	}
	a := pfx.Addr().As4()
	i := uint32(a[0])<<8 | uint32(a[1])
	return pi.cidr16[i>>6]&(1<<(i&63)) != 0
}

// cidrList marks a CIDR table value as an index into Index.cidrLists. Most
// prefixes belong to one indicator, whose number is then the value itself,
// which keeps the tables within a few bytes of bart's own size.
const cidrList = 1 << 31

// anchor is one necessary condition of a comparison expression: if the
// expression holds, some anchor hits.
type anchor struct {
	kind  int // kindEq, kindLike, kindPrefix, kindSuffix; or anchorCIDR, anchorSubstr, anchorAlways
	path  string
	value string
	cidr  netip.Prefix
}

const (
	anchorCIDR = iota + 16
	anchorSubstr
	anchorAlways
)

// compiled is the per-indicator outcome of the parallel phase.
type compiled struct {
	anchors []anchor
	decide  uint8
	pat     *pattern.Pattern
	err     error
}

// Compile builds an index from indicators. Indicators that are revoked are
// left out silently; those that cannot be compiled (bad id, invalid pattern)
// are left out with an *IndicatorError each, so that one bad indicator in a
// feed does not stop detection.
//
// Each CPU compiles a contiguous share of the indicators into tables of its
// own (see part), and the shares are then joined in order, so that the
// index does not depend on how the work was split.
func Compile(inds []Indicator) (*Index, []error) {
	ix := &Index{
		seed:   maphash.MakeSeed(),
		ids:    make([][16]byte, len(inds)),
		from:   make([]uint32, len(inds)),
		until:  make([]uint32, len(inds)),
		decide: make([]uint8, len(inds)),
	}
	ix.stats.Indicators = len(inds)
	if len(inds) >= cidrList {
		return ix, []error{fmt.Errorf("match: %d indicators are more than an index holds (%d); split them", len(inds), cidrList-1)}
	}
	reg := newPathRegistry()
	parts := compileAll(ix, inds, reg)

	ix.paths = make([]pathInfo, len(reg.keys))
	for pid, key := range reg.keys {
		ix.paths[pid].key = key
	}
	var errs []error
	exacts := make([]*exactBuilder, len(parts))
	lazies := make([]*lazyBuilder, len(parts))
	for i, p := range parts {
		errs = append(errs, p.errs...)
		ix.stats.add(&p.stats)
		for pid := range p.paths {
			ix.paths[pid].merge(&p.paths[pid])
		}
		for n, w := range p.far {
			if ix.far == nil {
				ix.far = make(map[uint32]window)
			}
			ix.far[n] = w
		}
		for n, id := range p.oddIDs {
			if ix.oddIDs == nil {
				ix.oddIDs = make(map[uint32]string)
			}
			ix.oddIDs[n] = id
		}
		ix.unanchored = append(ix.unanchored, p.unanchored...)
		for _, c := range p.cidrs {
			ix.addCIDR(c.pid, c.prefix, c.n)
		}
		exacts[i], lazies[i] = &p.exact, &p.lazy
	}
	ix.exact = buildExact(ix.seed, exacts)
	ix.patterns = buildLazy(lazies)
	for i := range ix.paths {
		pi := &ix.paths[i]
		pi.suffixDots = !pi.suffixLens.empty() && !pi.suffixOther
		if len(pi.substrLits) > 0 {
			pi.substr = newSubstrFilter(pi.substrLits)
			pi.substrLits = nil
		}
	}
	ix.linkProperties(reg.ids)
	ix.stats.ExactBytes = ix.exact.bytes() + len(ix.ids)*16 + len(ix.from)*4 + len(ix.until)*4 + len(ix.decide)
	for _, l := range ix.cidrLists {
		ix.stats.PrefixBytes += 24 + 4*cap(l)
	}
	return ix, errs
}

func (s *IndexStats) add(o *IndexStats) {
	s.Skipped += o.Skipped
	s.Direct += o.Direct
	s.Evaluated += o.Evaluated
	s.Windowed += o.Windowed
	s.Unanchored += o.Unanchored
	s.ExactKeys += o.ExactKeys
	s.Prefixes += o.Prefixes
	s.Substrings += o.Substrings
}

// addCIDR files indicator n under a prefix of path pid.
func (ix *Index) addCIDR(pid uint16, pfx netip.Prefix, n uint32) {
	pi := &ix.paths[pid]
	if pi.cidr == nil {
		pi.cidr = new(bart.Table[uint32])
		pi.cidr16 = new([1 << 16 / 64]uint64)
	}
	if pfx.Addr().Is4() {
		// IPv6 values always go to the table.
		a := pfx.Masked().Addr().As4()
		first := uint32(a[0])<<8 | uint32(a[1])
		for n := range uint32(1) << max(0, 16-pfx.Bits()) {
			pi.cidr16[(first+n)>>6] |= 1 << ((first + n) & 63)
		}
	}
	pi.cidr.Modify(pfx, func(v uint32, ok bool) (uint32, bool) {
		switch {
		case !ok:
			return n, false
		case v&cidrList == 0:
			// A second indicator on the prefix: move to a list.
			ix.cidrLists = append(ix.cidrLists, []uint32{v, n})
			return uint32(len(ix.cidrLists)-1) | cidrList, false
		}
		l := v &^ cidrList
		ix.cidrLists[l] = append(ix.cidrLists[l], n)
		return v, false
	})
}

// pathRegistry numbers the object paths anchors are filed under. It starts
// with every path a reader can fill, in a fixed order, so that the numbers
// do not depend on which CPU met a path first.
type pathRegistry struct {
	mu   sync.Mutex
	ids  map[string]uint16
	keys []string
}

func newPathRegistry() *pathRegistry {
	r := &pathRegistry{ids: make(map[string]uint16, len(producible))}
	for _, k := range producibleKeys {
		r.ids[k] = uint16(len(r.keys))
		r.keys = append(r.keys, k)
	}
	return r
}

func (r *pathRegistry) id(key string) uint16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, ok := r.ids[key]
	if !ok {
		pid = uint16(len(r.keys))
		r.ids[key] = pid
		r.keys = append(r.keys, key)
	}
	return pid
}

// producibleKeys holds the keys of producible in order.
var producibleKeys = slices.Sorted(maps.Keys(producible))

// part is one CPU's share of Compile: indicators lo to hi, compiled into
// tables that are joined once every share is done. Per-indicator arrays of
// the Index are written in place, each part to its own range.
type part struct {
	lo, hi int
	c      compiler
	reg    *pathRegistry
	pids   map[string]uint16 // this part's copy of reg
	paths  []pathInfo        // by path number: what this part files there
	exact  exactBuilder
	lazy   lazyBuilder
	cidrs  []cidrAnchor
	oddIDs map[uint32]string
	far    map[uint32]window // windows that do not fit the compact form

	unanchored []uint32
	errs       []error
	stats      IndexStats
	keyBuf     []byte
}

type cidrAnchor struct {
	pid    uint16
	n      uint32
	prefix netip.Prefix
}

// compileAll compiles the indicators on every CPU, a contiguous share each.
func compileAll(ix *Index, inds []Indicator, reg *pathRegistry) []*part {
	workers := min(runtime.GOMAXPROCS(0), max(1, len(inds)/4096))
	chunk := (len(inds) + workers - 1) / workers
	var parts []*part
	for lo := 0; lo < len(inds) || lo == 0; lo += chunk {
		hi := min(lo+chunk, len(inds))
		// An entry of the exact set is seldom longer than the pattern it
		// comes from; sizing the arena so spares copying it as it grows.
		size := 0
		for i := lo; i < hi; i++ {
			size += len(inds[i].Pattern)
		}
		parts = append(parts, &part{
			lo: lo, hi: hi,
			c:     compiler{intern: make(map[string]string)},
			reg:   reg,
			pids:  make(map[string]uint16),
			exact: newExactBuilder(ix.seed, hi-lo, size),
		})
		if hi == len(inds) {
			break
		}
	}
	if len(parts) == 1 {
		parts[0].run(ix, inds)
		return parts
	}
	var wg sync.WaitGroup
	for _, p := range parts {
		wg.Go(func() { p.run(ix, inds) })
	}
	wg.Wait()
	return parts
}

func (p *part) run(ix *Index, inds []Indicator) {
	for i := p.lo; i < p.hi; i++ {
		ind := &inds[i]
		n := uint32(i)
		if id, ok := ix.setID(n, ind.ID); !ok {
			if p.oddIDs == nil {
				p.oddIDs = make(map[uint32]string)
			}
			p.oddIDs[n] = id
		}
		if w := validity(ind.ValidFrom, ind.ValidUntil); !ix.setValidity(n, w) {
			if p.far == nil {
				p.far = make(map[uint32]window)
			}
			p.far[n] = w
		}
		c, ok := p.c.compileFast(ind.Pattern)
		if !ok {
			c = p.c.compileOne(ind.Pattern)
		}
		if c.err == nil && ind.Revoked {
			c.decide = decideNever
		}
		if c.err != nil {
			p.errs = append(p.errs, &IndicatorError{ID: ind.ID, Err: c.err})
			c.decide = decideNever
		}
		ix.decide[n] = c.decide
		switch c.decide {
		case decideNever:
			p.stats.Skipped++
			continue
		case decideDirect:
			p.stats.Direct++
		case decideEval:
			p.stats.Evaluated++
		case decideWindow:
			p.stats.Windowed++
		}
		if c.decide != decideDirect {
			p.lazy.add(n, ind.Pattern)
		}
		if c.anchors == nil {
			p.unanchored = append(p.unanchored, n)
			p.stats.Unanchored++
			continue
		}
		for i := range c.anchors {
			p.file(n, &c.anchors[i])
		}
	}
}

// pathID returns the number of a path key.
func (p *part) pathID(key string) uint16 {
	pid, ok := p.pids[key]
	if !ok {
		pid = p.reg.id(key)
		p.pids[key] = pid
	}
	for int(pid) >= len(p.paths) {
		p.paths = append(p.paths, pathInfo{})
	}
	return pid
}

// file records one anchor of indicator n.
func (p *part) file(n uint32, a *anchor) {
	pid := p.pathID(a.path)
	pi := &p.paths[pid]
	pi.used = true
	switch a.kind {
	case kindEq, kindLike, kindPrefix, kindSuffix:
		switch a.kind {
		case kindEq:
			pi.eq = true
		case kindLike:
			pi.like = true
		case kindPrefix:
			pi.prefixLens.add(len(a.value))
		case kindSuffix:
			pi.suffixLens.add(len(a.value))
			pi.suffixOther = pi.suffixOther || a.value[0] != '.'
		}
		if a.kind != kindEq {
			pi.normalize = true
		}
		var tag uint16
		tag, p.keyBuf = packKey(p.keyBuf[:0], pid, a.kind, a.value)
		p.exact.add(tag, p.keyBuf, n)
		p.stats.ExactKeys++
	case anchorCIDR:
		p.cidrs = append(p.cidrs, cidrAnchor{pid: pid, n: n, prefix: a.cidr})
		p.stats.Prefixes++
	case anchorSubstr:
		pi.normalize = true
		pi.substrLits = append(pi.substrLits, substrLiteral{lit: a.value, ind: n})
		p.stats.Substrings++
	case anchorAlways:
		pi.always = append(pi.always, n)
	}
}

// packKey builds the exact-set key for a value: lower-case hex digests of
// 32 digits and more (MD5 and up) are stored as their octets, halving the
// largest share of a typical feed.
func packKey(dst []byte, pid uint16, kind int, value string) (uint16, []byte) {
	tag := pid<<3 | uint16(kind)<<1
	if kind == kindEq && len(value) >= 32 && len(value)%2 == 0 {
		if packed, ok := appendUnhex(dst, value); ok {
			return tag | 1, packed
		}
	}
	return tag, append(dst, value...)
}

// appendUnhex appends the octets of a lower-case hex string to dst, or
// reports that s is not one.
func appendUnhex(dst []byte, s string) ([]byte, bool) {
	start := len(dst)
	for i := 0; i+1 < len(s); i += 2 {
		hi, lo := hexValue[s[i]], hexValue[s[i+1]]
		if hi|lo > 15 {
			return dst[:start], false
		}
		dst = append(dst, hi<<4|lo)
	}
	return dst, true
}

// hexValue maps lower-case hex digits to their value and every other byte
// to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
	}
	return t
}()

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

// setID packs the id of indicator n, or reports that it has to be kept as
// it is.
func (ix *Index) setID(n uint32, id string) (string, bool) {
	// Only the canonical lower-case form is packed, so that id gives back
	// exactly the string it was given.
	const prefix = "indicator--"
	if u, ok := canonicalUUID(strings.TrimPrefix(id, prefix)); ok && len(id) == len(prefix)+36 && id[:len(prefix)] == prefix {
		ix.ids[n] = u
		return "", true
	}
	return id, false
}

// canonicalUUID decodes a UUID written as uuid.UUID.String writes it.
func canonicalUUID(s string) (u uuid.UUID, ok bool) {
	if len(s) != 36 {
		return u, false
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return u, false
			}
			i++
		}
		hi, lo := s[i], s[i+1]
		if !isLowerHexByte(hi) || !isLowerHexByte(lo) {
			return u, false
		}
		u[j] = unhex(hi)<<4 | unhex(lo)
		j++
	}
	return u, true
}

func isLowerHexByte(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

// pattern returns the parsed pattern of indicator n, for those decided by
// evaluation; nil for the others.
func (ix *Index) pattern(n uint32) *pattern.Pattern { return ix.patterns.get(n) }

// id returns the id of indicator number n.
func (ix *Index) id(n uint32) string {
	if id, ok := ix.oddIDs[n]; ok {
		return id
	}
	return "indicator--" + uuid.UUID(ix.ids[n]).String()
}

// A window is a validity window in Unix seconds: from ≤ t < until.
type window struct{ from, until int64 }

// The compact window holds seconds from 1970 to 2106 in 32 bits. An
// indicator without valid_until is valid forever, whatever the time, and
// a window with an end outside that range is kept whole in Index.far.
const (
	untilNone = math.MaxUint32 // no valid_until
	fromFar   = math.MaxUint32 // the window is in Index.far
)

// setValidity records indicator n's validity window w in the compact
// form, and reports whether it fits there; one that does not must be kept
// in Index.far, which setValidity leaves to its caller so that parts of the
// index can be compiled at once.
func (ix *Index) setValidity(n uint32, w window) bool {
	compactUntil := w.until == math.MaxInt64 || 0 <= w.until && w.until < untilNone
	if 0 <= w.from && w.from < fromFar && compactUntil {
		ix.from[n], ix.until[n] = uint32(w.from), untilNone
		if w.until != math.MaxInt64 {
			ix.until[n] = uint32(w.until)
		}
		return true
	}
	ix.from[n] = fromFar
	return false
}

// validity converts a validity window to whole seconds, rounding inwards;
// a missing end is unbounded.
func validity(from, until time.Time) window {
	w := window{math.MinInt64, math.MaxInt64}
	if !from.IsZero() {
		w.from = from.Unix()
		if from.Nanosecond() > 0 {
			w.from++
		}
	}
	if !until.IsZero() {
		w.until = until.Unix()
	}
	return w
}

// valid reports whether indicator n is valid at t. The window is
// valid_from ≤ t < valid_until (section 4.7).
func (ix *Index) valid(n uint32, t int64) bool {
	f := ix.from[n]
	if f == fromFar {
		w := ix.far[n]
		return w.from <= t && t < w.until
	}
	u := ix.until[n]
	return int64(f) <= t && (u == untilNone || t < int64(u))
}

// linkProperties lists, for every reader property, the indexed paths its
// values must be looked up under.
func (ix *Index) linkProperties(pathIDs map[string]uint16) {
	for p := Property(1); p < numProperties; p++ {
		for v6 := range 2 {
			for _, key := range lookupKeys(p, v6 == 1) {
				if pid, ok := pathIDs[key]; ok && ix.paths[pid].used {
					ix.propPaths[p][v6] = append(ix.propPaths[p][v6], pid)
					ix.propEq[p][v6] = ix.propEq[p][v6] || ix.paths[pid].eq
				}
			}
		}
	}
}

// lookupKeys returns the path keys under which a value of p is visible to
// patterns: its own path, and for references the referenced object's value.
func lookupKeys(p Property, v6 bool) []string {
	info := &props[p]
	ipType := "ipv4-addr"
	if v6 {
		ipType = "ipv6-addr"
	}
	if p == IPAddr {
		return []string{ipType + ":value"}
	}
	keys := []string{info.objType + ":" + strings.Join(info.steps, "\x00")}
	switch info.refType {
	case "ip":
		keys = append(keys, ipType+":value")
	case "":
	default:
		keys = append(keys, info.refType+":value")
	}
	return keys
}

// compiler holds one goroutine's scratch space for compiling patterns.
// Millions of patterns name a handful of paths, so their keys are interned
// rather than allocated once per pattern.
type compiler struct {
	intern map[string]string
	buf    []byte
	fast   fastTree
}

// pathKey is the canonical form of an object path, as lookupKeys spells it.
// Indexes become [*]: anchors are necessary conditions, and to_refs[0]
// holding a value implies to_refs[*] does.
func (c *compiler) pathKey(p *pattern.ObjectPath) (key string, indexed bool) {
	b := append(c.buf[:0], p.Type...)
	b = append(b, ':')
	for i, st := range p.Steps {
		if i > 0 {
			b = append(b, 0)
		}
		switch st.Kind {
		case pattern.StepKey:
			b = append(b, st.Key...)
		default:
			indexed = indexed || st.Kind == pattern.StepIndex
			b = append(b, "[*]"...)
		}
	}
	c.buf = b
	key, ok := c.intern[string(b)]
	if !ok {
		key = string(b)
		c.intern[key] = key
	}
	return key, indexed
}

// producible holds the path keys some reader property can fill.
var producible = func() map[string]bool {
	m := make(map[string]bool)
	for p := Property(1); p < numProperties; p++ {
		for v6 := range 2 {
			for _, k := range lookupKeys(p, v6 == 1) {
				m[k] = true
			}
		}
	}
	return m
}()

// compileOne parses a pattern and finds its anchors.
func (c *compiler) compileOne(src string) compiled {
	if !utf8.ValidString(src) {
		// STIX is JSON, whose strings are Unicode; refusing here also keeps
		// malformed bytes away from the regular-expression compiler.
		return compiled{err: errors.New("pattern: not valid UTF-8")}
	}
	p, err := pattern.Parse(src)
	if err != nil {
		return compiled{err: fmt.Errorf("pattern: %w", err)}
	}
	return c.analyse(p)
}

// analyse finds the anchors of a parsed pattern and how it is decided.
func (c *compiler) analyse(p *pattern.Pattern) compiled {
	out := compiled{pat: p}
	if simple, ok := p.Expr.(*pattern.ObservationSimple); ok {
		anchors, direct := c.comparisonAnchors(simple.Comparison)
		out.anchors = anchors
		out.decide = decideEval
		if direct {
			// The tree is not needed again; let it go now rather than
			// hold millions of them until the index is built.
			out.decide, out.pat = decideDirect, nil
		}
		if anchors != nil && len(anchors) == 0 {
			out.decide = decideNever
		}
		return out
	}
	out.decide = decideWindow
	out.anchors = c.windowAnchors(p.Expr)
	return out
}

// windowAnchors collects the anchors of every simple observation expression
// in a multi-observation pattern: any observation that can take part in a
// match hits one of them. A leaf without anchors makes the whole pattern
// unanchored (nil).
func (c *compiler) windowAnchors(e pattern.ObservationExpr) []anchor {
	var all []anchor
	ok := true
	var walk func(pattern.ObservationExpr)
	walk = func(e pattern.ObservationExpr) {
		switch e := e.(type) {
		case *pattern.ObservationSimple:
			a, _ := c.comparisonAnchors(e.Comparison)
			if a == nil {
				ok = false
			}
			all = append(all, a...)
		case *pattern.ObservationBinary:
			walk(e.Left)
			walk(e.Right)
		case *pattern.ObservationQualified:
			walk(e.Expr)
		}
	}
	walk(e)
	if !ok {
		return nil
	}
	if all == nil {
		all = []anchor{} // every leaf is unsatisfiable: never matches
	}
	return all
}

// comparisonAnchors returns a set of anchors of which at least one hits
// whenever e holds, or nil when there is no such set short of evaluating e
// on every record. An empty, non-nil set means e can never hold on a
// record. direct reports that a hit on any anchor means e holds.
func (c *compiler) comparisonAnchors(e pattern.ComparisonExpr) (anchors []anchor, direct bool) {
	switch e := e.(type) {
	case *pattern.ComparisonBinary:
		l, ld := c.comparisonAnchors(e.Left)
		r, rd := c.comparisonAnchors(e.Right)
		if e.Op == pattern.BoolOr {
			if l == nil || r == nil {
				return nil, false
			}
			return append(l, r...), ld && rd
		}
		// AND: either side's anchors are necessary; take the cheaper. An
		// unsatisfiable side makes the whole unsatisfiable.
		switch {
		case l != nil && len(l) == 0, r != nil && len(r) == 0:
			return []anchor{}, false
		case l == nil:
			return r, false
		case r == nil:
			return l, false
		case cost(r) < cost(l):
			return r, false
		}
		return l, false
	case *pattern.Comparison:
		return c.comparisonAnchor(e)
	}
	return nil, false
}

// cost ranks anchor sets: exact lookups are cheapest, substrings dearest.
func cost(as []anchor) int {
	n := 0
	for _, a := range as {
		switch a.kind {
		case kindEq, kindLike:
			n++
		case anchorCIDR:
			n += 2
		case kindPrefix, kindSuffix:
			n += 4
		case anchorSubstr:
			n += 16
		default:
			n += 64
		}
	}
	return n
}

func (c *compiler) comparisonAnchor(cmp *pattern.Comparison) ([]anchor, bool) {
	key, indexed := c.pathKey(&cmp.Path)
	if !producible[key] {
		// A path no record holds never resolves, and an unresolved path
		// makes the comparison false whatever the operator (section 9.5).
		return []anchor{}, false
	}
	if cmp.Negated {
		return nil, false
	}
	// A direct decision needs the lookup to mean exactly what the
	// comparison means: resolves_to_refs exists only when the record also
	// names a domain, and a concrete list index is not checked by lookups.
	direct := !indexed && !strings.HasPrefix(key, "domain-name:resolves_to_refs")
	if numeric[key] {
		// Readers give these paths JSON numbers, which no string, octet
		// string, LIKE, MATCHES or ISSUBSET operand ever matches.
		switch cmp.Op {
		case pattern.OpEqual, pattern.OpIn:
			if _, ok := textConstant(first(cmp)); !ok {
				return nil, false
			}
			return []anchor{}, false
		case pattern.OpLike, pattern.OpMatches, pattern.OpIsSubset:
			return []anchor{}, false
		}
		return nil, false
	}
	// Values under the key are looked up in canonical form (see
	// Scanner.Scan), so the operands are filed in it too.
	typ := keyTypes[key]
	switch cmp.Op {
	case pattern.OpEqual:
		v, ok := textConstant(cmp.Value)
		if !ok {
			return nil, false
		}
		return []anchor{{kind: kindEq, path: key, value: pattern.Canonical(typ, v)}}, direct
	case pattern.OpIn:
		as := make([]anchor, 0, len(cmp.Values))
		for _, k := range cmp.Values {
			v, ok := textConstant(k)
			if !ok {
				return nil, false
			}
			as = append(as, anchor{kind: kindEq, path: key, value: pattern.Canonical(typ, v)})
		}
		return as, direct
	case pattern.OpIsSubset:
		return []anchor{{kind: anchorCIDR, path: key, cidr: cmp.Prefix()}}, direct
	case pattern.OpLike:
		if cmp.Value.Kind != pattern.KindString {
			return nil, false
		}
		if strings.ContainsRune(cmp.Value.Str, utf8.RuneError) {
			// The expression's U+FFFD also matches a malformed byte of
			// the value, which no lookup of the operand's bytes finds.
			return []anchor{{kind: anchorAlways, path: key}}, false
		}
		as := likeAnchors(key, pattern.Normalize(pattern.Canonical(typ, cmp.Value.Str)))
		return as, direct && likeDecides(as)
	case pattern.OpMatches:
		// Prefilter covers both engines: the expression itself for RE2,
		// and for a backtracking one an RE2 expression matching at least
		// what it matches. Either way the evaluator runs only on values
		// holding the literal every match needs.
		lit := requiredLiteral(cmp.Prefilter())
		if lit == "" || strings.ContainsRune(lit, utf8.RuneError) {
			return []anchor{{kind: anchorAlways, path: key}}, false
		}
		return []anchor{{kind: anchorSubstr, path: key, value: lit}}, false
	}
	return nil, false
}

// likeDecides reports whether a hit on the LIKE anchors as means the LIKE
// holds. Exact, prefix and suffix lookups compare the NFC value's bytes
// with the NFC operand's, which is what the LIKE expression tests, given an
// operand without U+FFFD: a malformed byte of the value then matches no
// literal of the expression, as it matches none of the operand's bytes.
func likeDecides(as []anchor) bool {
	if len(as) != 1 {
		return false
	}
	switch as[0].kind {
	case kindLike, kindPrefix, kindSuffix:
		return true
	}
	return false
}

// textConstant returns the text a string value equals exactly when it
// equals k: a string constant itself, or the octets of a binary or hex
// constant, which a string compares with as its UTF-8 encoding.
func textConstant(k pattern.Constant) (string, bool) {
	switch k.Kind {
	case pattern.KindString:
		return k.Str, true
	case pattern.KindBinary, pattern.KindHex:
		return string(k.Bytes), true
	}
	return "", false
}

// first returns the constant an = or IN comparison tests first; an IN
// set holds constants of one kind.
func first(cmp *pattern.Comparison) pattern.Constant {
	if cmp.Op == pattern.OpIn {
		return cmp.Values[0]
	}
	return cmp.Value
}

// keyTypes maps the path keys whose values compare in canonical form to
// the type of the object holding the value (see pattern.Canonical).
var keyTypes = func() map[string]string {
	m := make(map[string]string)
	for p := Property(1); p < numProperties; p++ {
		if t := valueTypes[p]; t != "" {
			for v6 := range 2 {
				for _, k := range lookupKeys(p, v6 == 1) {
					m[k] = t
				}
			}
		}
	}
	return m
}()

// numeric holds the path keys whose reader values are JSON numbers.
var numeric = func() map[string]bool {
	m := make(map[string]bool)
	for p := Property(1); p < numProperties; p++ {
		if props[p].integer {
			for _, k := range lookupKeys(p, false) {
				m[k] = true
			}
		}
	}
	return m
}()

// likeAnchors rewrites a LIKE operand: no wildcard is an exact lookup,
// 'abc%' a prefix, '%abc' a suffix, and anything else the longest literal
// run as a substring.
func likeAnchors(key, like string) []anchor {
	wild := strings.IndexAny(like, "%_")
	switch {
	case wild < 0:
		return []anchor{{kind: kindLike, path: key, value: like}}
	case strings.Trim(like, "%") == like[:wild] && wild > 0 && wild < 256 && strings.IndexByte(like[wild:], '_') < 0:
		return []anchor{{kind: kindPrefix, path: key, value: like[:wild]}}
	}
	if rest := strings.TrimLeft(like, "%"); len(rest) < len(like) && !strings.ContainsAny(rest, "%_") && len(rest) > 0 && len(rest) < 256 {
		return []anchor{{kind: kindSuffix, path: key, value: rest}}
	}
	var best string
	for part := range strings.FieldsFuncSeq(like, func(r rune) bool { return r == '%' || r == '_' }) {
		if len(part) > len(best) {
			best = part
		}
	}
	if best == "" {
		return []anchor{{kind: anchorAlways, path: key}}
	}
	return []anchor{{kind: anchorSubstr, path: key, value: best}}
}

// requiredLiteral returns the longest literal every match of the regular
// expression must contain, or "".
func requiredLiteral(expr string) string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return ""
	}
	return required(re.Simplify())
}

func required(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return ""
		}
		return string(re.Rune)
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		// Adjacent literals join into one longer literal.
		var best, run string
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpLiteral && sub.Flags&syntax.FoldCase == 0 {
				run += string(sub.Rune)
				if len(run) > len(best) {
					best = run
				}
				continue
			}
			run = ""
			if r := required(sub); len(r) > len(best) {
				best = r
			}
		}
		return best
	}
	return ""
}
