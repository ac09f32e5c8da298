package match

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/entente/entente/stix/pattern"
)

// A Hit is one indicator matching. Records are the log records behind it:
// one for single-observation patterns, those bound by the match for
// patterns that span several observations. Records are valid only during
// the callback that receives the Hit; Clone them to keep them.
type Hit struct {
	Indicator string
	Time      time.Time
	Records   []*Record
}

// A Scanner matches records against an index. It keeps per-record scratch
// space, so each goroutine needs its own; the index itself is shared.
type Scanner struct {
	ix *Index

	direct []uint32 // matched indicators of the current record
	cands  []uint32 // indicators to evaluate on it
	window []uint32 // multi-observation indicators it may take part in
	norm   []byte
	canon  []byte               // this Scan's values in canonical form
	probes []eqProbe            // the record's = and IN lookups
	keys   []byte               // backing store of the probes' packed keys
	sink   uint64               // keeps the touching loads of Scan alive
	obs    *pattern.Observation // built on demand for the current record
	obsErr error
	single [1]*Record
}

// NewScanner returns a Scanner over ix.
func NewScanner(ix *Index) *Scanner { return &Scanner{ix: ix} }

// Index returns the index the scanner uses.
func (s *Scanner) Index() *Index { return s.ix }

// Scan matches one record. It calls hit for every single-observation
// indicator that matches, and returns the multi-observation indicators the
// record may take part in, for a [Window]; the returned slice is reused by
// the next call. Records without a time are matched as of now.
func (s *Scanner) Scan(rec *Record, now time.Time, hit func(Hit)) (window []uint32) {
	ix := s.ix
	s.direct, s.cands, s.window = s.direct[:0], s.cands[:0], s.window[:0]
	s.probes, s.keys, s.canon = s.probes[:0], s.keys[:0], s.canon[:0]
	s.obs, s.obsErr = nil, nil
	t := rec.Time
	if t.IsZero() {
		t = now
	}
	sec := t.Unix()
	for i := range rec.Values {
		v := &rec.Values[i]
		fam := 0
		if ipFamily(v) == 6 {
			fam = 1
		}
		pids := ix.propPaths[v.Prop][fam]
		if len(pids) == 0 {
			continue
		}
		data := s.canonical(v)
		if ix.propEq[v.Prop][fam] {
			var tag uint16
			var key []byte
			tag, key, s.keys = probeKey(s.keys, data)
			s.probes = append(s.probes, eqProbe{tag: tag, key: key, pids: pids})
		}
		for _, pid := range pids {
			s.lookup(pid, data, sec)
		}
	}
	// Filter and touch every probe first, then look up the survivors: the
	// misses of the first loop overlap, and the second finds its slots in
	// cache.
	var sink uint64
	for i := range s.probes {
		p := &s.probes[i]
		p.h = keyHash(ix.seed, p.tag, p.key)
		if p.pass = ix.exact.mayHold(p.h); p.pass {
			sink += ix.exact.touch(p.h)
		}
	}
	s.sink += sink
	for i := range s.probes {
		p := &s.probes[i]
		if !p.pass {
			continue
		}
		ix.exact.lookupHash(p.h, p.tag, p.key, func(t uint16, n uint32) {
			if slices.Contains(p.pids, t>>3) {
				s.offer(n, sec)
			}
		})
	}
	for _, n := range ix.unanchored {
		s.offer(n, sec)
	}
	for _, n := range s.direct {
		s.single[0] = rec
		hit(Hit{Indicator: ix.id(n), Time: t, Records: s.single[:]})
	}
	if len(s.cands) > 0 {
		obs := s.observation(rec)
		for _, n := range s.cands {
			if p := ix.pattern(n); obs != nil && p != nil && p.MatchOne(obs) {
				s.single[0] = rec
				hit(Hit{Indicator: ix.id(n), Time: t, Records: s.single[:]})
			}
		}
	}
	return s.window
}

// valueTypes gives, for the properties whose values compare in canonical
// form, the type of the object holding the value (see pattern.Canonical):
// addresses, domain names and URLs.
var valueTypes = func() [numProperties]string {
	var t [numProperties]string
	for p := Property(1); p < numProperties; p++ {
		info := &props[p]
		switch {
		case p == IPAddr || info.refType == "ip":
			t[p] = "ipv4-addr" // IPv4 and IPv6 share one canonical form
		case info.refType == "" && len(info.steps) == 1 && info.steps[0] == "value":
			if info.objType == "domain-name" || info.objType == "url" {
				t[p] = info.objType
			}
		}
	}
	return t
}()

// canonical returns the value as its lookups see it: in canonical form
// for addresses, domain names and URLs, so that a log's
// ff02:0000:0000:0000:0000:0000:0001:0003 or EXAMPLE.COM. meets an
// indicator's ff02::1:3 or example.com. The result is valid until the end
// of the Scan: the = probes keep it until then.
func (s *Scanner) canonical(v *Value) []byte {
	t := valueTypes[v.Prop]
	if t == "" {
		return v.Data
	}
	raw := unsafeString(v.Data)
	c := pattern.Canonical(t, raw)
	if c == raw {
		return v.Data
	}
	start := len(s.canon)
	s.canon = append(s.canon, c...)
	return s.canon[start:len(s.canon):len(s.canon)]
}

// probeKey returns the key of an = lookup of value, as packKey makes it:
// the value itself, or its octets packed into buf for a hex digest.
func probeKey(buf, value []byte) (tag uint16, key, newBuf []byte) {
	if len(value) >= 32 && len(value)%2 == 0 {
		start := len(buf)
		if packed, ok := appendUnhex(buf, unsafeString(value)); ok {
			return kindEq<<1 | 1, packed[start:len(packed):len(packed)], packed
		}
	}
	return kindEq << 1, value, buf
}

// ipFamily tells IPv6 address values from the rest by their colon.
func ipFamily(v *Value) int {
	switch v.Prop {
	case SrcIP, DstIP, IPAddr, ResolvesTo:
		if bytes.IndexByte(v.Data, ':') >= 0 {
			return 6
		}
		return 4
	}
	return 0
}

// eqProbe is one = and IN lookup of a value, made once for all the paths
// the value is visible under.
type eqProbe struct {
	h    uint64
	tag  uint16
	pass bool // the filter let it through
	key  []byte
	pids []uint16
}

// lookup runs the other lookups of one path: CIDR tables, LIKE and MATCHES.
func (s *Scanner) lookup(pid uint16, value []byte, sec int64) {
	ix := s.ix
	pi := &ix.paths[pid]
	offer := func(n uint32) { s.offer(n, sec) }
	match := func(t uint16, n uint32) {
		if t>>3 == pid {
			s.offer(n, sec)
		}
	}
	if pi.cidr != nil {
		if pfx, ok := parsePrefix(value); ok && pi.mayCover(pfx) {
			if _, ok := pi.cidr.Lookup(pfx.Addr()); ok {
				for _, v := range pi.cidr.Supernets(pfx) {
					if v&cidrList == 0 {
						offer(v)
						continue
					}
					for _, n := range ix.cidrLists[v&^cidrList] {
						offer(n)
					}
				}
			}
		}
	}
	if !pi.normalize {
		for _, n := range pi.always {
			offer(n)
		}
		return
	}
	nv := s.normalized(value)
	tag := pid << 3
	if pi.like {
		ix.exact.lookup(tag|kindLike<<1, nv, match)
	}
	if !pi.prefixLens.empty() {
		pi.prefixLens.each(func(l int) {
			if l <= len(nv) {
				ix.exact.lookup(tag|kindPrefix<<1, nv[:l], match)
			}
		})
	}
	switch {
	case pi.suffixDots:
		for i, c := range nv {
			if l := len(nv) - i; c == '.' && l < 256 && pi.suffixLens.has(l) {
				ix.exact.lookup(tag|kindSuffix<<1, nv[i:], match)
			}
		}
	case !pi.suffixLens.empty():
		pi.suffixLens.each(func(l int) {
			if l <= len(nv) {
				ix.exact.lookup(tag|kindSuffix<<1, nv[len(nv)-l:], match)
			}
		})
	}
	if pi.substr != nil {
		pi.substr.find(nv, offer)
	}
	for _, n := range pi.always {
		offer(n)
	}
}

// normalized returns value in NFC, as LIKE and MATCHES see it.
func (s *Scanner) normalized(value []byte) []byte {
	if isASCII(value) {
		return value
	}
	s.norm = append(s.norm[:0], pattern.Normalize(string(value))...)
	return s.norm
}

// isASCII reports whether b is ASCII, eight bytes at a time.
func isASCII(b []byte) bool {
	const high = 0x8080808080808080
	var acc uint64
	for len(b) >= 8 {
		acc |= binary.LittleEndian.Uint64(b)
		b = b[8:]
	}
	for _, c := range b {
		acc |= uint64(c)
	}
	return acc&high == 0
}

// offer files indicator n, whose anchor hit, by how it is decided.
func (s *Scanner) offer(n uint32, sec int64) {
	ix := s.ix
	if !ix.valid(n, sec) {
		return
	}
	var list *[]uint32
	switch ix.decide[n] {
	case decideDirect:
		list = &s.direct
	case decideEval:
		list = &s.cands
	case decideWindow:
		list = &s.window
	default:
		return
	}
	// Hits per record are few: a linear check beats a set.
	if !slices.Contains(*list, n) {
		*list = append(*list, n)
	}
}

// observation returns the record as the reference evaluator sees it,
// building it once per record.
func (s *Scanner) observation(rec *Record) *pattern.Observation {
	if s.obs == nil && s.obsErr == nil {
		s.obs, s.obsErr = Observation(rec)
	}
	return s.obs
}

// Observation converts a record to the evaluator's form: one observed-data
// seen once at the record's time, holding the record's objects, all of them
// roots. Every object a reference of the record names is among them, as the
// evidence observed-data lists it, so the evaluator may follow it (STIX 2.1
// section 9.7.4).
func Observation(rec *Record) (*pattern.Observation, error) {
	objs, err := rec.Objects()
	if err != nil {
		return nil, err
	}
	o := &pattern.Observation{
		First:   rec.Time,
		Last:    rec.Time,
		Count:   1,
		Objects: make(map[string]map[string]any, len(objs)),
		Roots:   make([]string, len(objs)),
	}
	for i, obj := range objs {
		// Two objects of a record can share a deterministic id (two
		// e-mail messages from one sender with different recipients) and
		// must both stay visible; only the address-like objects, which are
		// never duplicated, are the target of references.
		key := obj["id"].(string)
		for n := 2; o.Objects[key] != nil; n++ {
			key = fmt.Sprintf("%s#%d", obj["id"], n)
		}
		o.Objects[key] = obj
		o.Roots[i] = key
	}
	return o, nil
}

// parsePrefix reads an address or a network the way ISSUBSET does.
func parsePrefix(b []byte) (netip.Prefix, bool) {
	if a, ok := parseIPv4(b); ok {
		return netip.PrefixFrom(a, 32), true
	}
	s := unsafeString(b)
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

// parseIPv4 reads a dotted-quad IPv4 address in the canonical form log
// writers use, four decimal octets without leading zeros, faster than
// netip.ParseAddr, which gives the same answer for these and is left
// everything else.
func parseIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	field, digits, v := 0, 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || field == 3 && i != len(b) {
				return netip.Addr{}, false
			}
			ip[field] = byte(v)
			field++
			digits, v = 0, 0
			continue
		}
		c := b[i] - '0'
		if c > 9 || digits > 0 && v == 0 {
			return netip.Addr{}, false // not a digit, or a leading zero
		}
		v = v*10 + int(c)
		if digits++; v > 255 {
			return netip.Addr{}, false
		}
	}
	if field != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}
