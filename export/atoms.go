package export

import (
	"net/netip"
	"strings"

	"github.com/entente/entente/stix/pattern"
)

// kind is what an exported value is.
type kind uint8

const (
	kAddr    kind = iota + 1 // an address or network, in either direction
	kSrcAddr                 // network-traffic:src_ref.value
	kDstAddr                 // network-traffic:dst_ref.value
	kDomain
	kURL
	kMD5
	kSHA1
	kSHA256
	kEmail
	kFileName
	kUserName
)

// An atom is one value a pattern matches on its own: the pattern holds when
// any of its atoms is seen.
type atom struct {
	kind  kind
	value string // canonical: lower-case names, short addresses
}

// paths maps the object paths an export can express to their kind.
var paths = map[string]kind{
	"ipv4-addr:value":               kAddr,
	"ipv6-addr:value":               kAddr,
	"network-traffic:src_ref.value": kSrcAddr,
	"network-traffic:dst_ref.value": kDstAddr,
	"domain-name:value":             kDomain,
	"url:value":                     kURL,
	"file:hashes.MD5":               kMD5,
	"file:hashes.SHA-1":             kSHA1,
	"file:hashes.SHA-256":           kSHA256,
	"email-addr:value":              kEmail,
	"file:name":                     kFileName,
	"user-account:account_login":    kUserName,
}

// atomsOf reads a STIX pattern as a set of atoms, or says why it is not
// one: a pattern is a set of atoms when it ORs comparisons of an
// expressible property with = or IN, or of an address with ISSUBSET.
func atomsOf(src string) ([]atom, string) {
	if a, ok := fastAtom(src); ok {
		return []atom{a}, ""
	}
	p, err := pattern.Parse(src)
	if err != nil {
		return nil, "not a valid STIX pattern: " + err.Error()
	}
	var atoms []atom
	if reason := observationAtoms(p.Expr, &atoms); reason != "" {
		return nil, reason
	}
	return atoms, ""
}

func observationAtoms(e pattern.ObservationExpr, out *[]atom) string {
	switch e := e.(type) {
	case *pattern.ObservationSimple:
		return comparisonAtoms(e.Comparison, out)
	case *pattern.ObservationBinary:
		if e.Op != pattern.ObsOr {
			return "the pattern joins observations with AND or FOLLOWEDBY, which a list of values cannot say"
		}
		if r := observationAtoms(e.Left, out); r != "" {
			return r
		}
		return observationAtoms(e.Right, out)
	case *pattern.ObservationQualified:
		return "the pattern has a qualifier (REPEATS, WITHIN, START/STOP), which a list of values cannot say"
	}
	return "unknown pattern expression"
}

func comparisonAtoms(e pattern.ComparisonExpr, out *[]atom) string {
	switch e := e.(type) {
	case *pattern.ComparisonBinary:
		if e.Op != pattern.BoolOr {
			return "the pattern ANDs comparisons, which a list of values cannot say"
		}
		if r := comparisonAtoms(e.Left, out); r != "" {
			return r
		}
		return comparisonAtoms(e.Right, out)
	case *pattern.Comparison:
		return oneComparison(e, out)
	}
	return "unknown comparison expression"
}

func pathString(p pattern.ObjectPath) string {
	var b strings.Builder
	b.WriteString(p.Type)
	b.WriteByte(':')
	for i, s := range p.Steps {
		if s.Kind != pattern.StepKey {
			return ""
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.Key)
	}
	return b.String()
}

func oneComparison(c *pattern.Comparison, out *[]atom) string {
	path := pathString(c.Path)
	k, ok := paths[path]
	if !ok {
		if path == "" {
			path = c.Path.Type + ":…"
		}
		return "no export format has a place for " + path
	}
	if c.Negated {
		return "a negated comparison (NOT) is not a list of values"
	}
	var vals []pattern.Constant
	switch c.Op {
	case pattern.OpEqual:
		vals = []pattern.Constant{c.Value}
	case pattern.OpIn:
		vals = c.Values
	case pattern.OpIsSubset:
		if k != kAddr && k != kSrcAddr && k != kDstAddr {
			return "ISSUBSET on " + path
		}
		vals = []pattern.Constant{{Kind: pattern.KindString, Str: c.Prefix().String()}}
	default:
		return "the operator of " + path + " is not =, IN or ISSUBSET"
	}
	for _, v := range vals {
		if v.Kind != pattern.KindString {
			return "a value of " + path + " is not a string"
		}
		a, reason := newAtom(k, c.Path.Type, v.Str)
		if reason != "" {
			return reason
		}
		*out = append(*out, a)
	}
	return ""
}

// newAtom checks and canonicalizes one value.
func newAtom(k kind, objType, v string) (atom, string) {
	if v == "" {
		return atom{}, "an empty value matches nothing a sensor sees"
	}
	switch k {
	case kAddr, kSrcAddr, kDstAddr:
		if p, err := netip.ParsePrefix(v); err == nil {
			if p.Bits() == p.Addr().BitLen() {
				return atom{k, p.Addr().String()}, ""
			}
			return atom{k, p.Masked().String()}, ""
		}
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return atom{}, "not an IP address: " + v
		}
		return atom{k, a.Unmap().String()}, ""
	case kDomain:
		return atom{k, pattern.Canonical("domain-name", v)}, ""
	case kURL:
		return atom{k, pattern.Canonical("url", v)}, ""
	case kMD5, kSHA1, kSHA256:
		want := map[kind]int{kMD5: 32, kSHA1: 40, kSHA256: 64}[k]
		if len(v) != want || strings.Trim(strings.ToLower(v), "0123456789abcdef") != "" {
			return atom{}, "not a hash of its algorithm: " + v
		}
		return atom{k, strings.ToLower(v)}, ""
	case kEmail:
		return atom{k, strings.ToLower(v)}, ""
	}
	return atom{k, v}, ""
}

// fastAtom reads the shape nearly every indicator of a feed has,
// "[type:key = 'value']" or "[file:hashes.'SHA-256' = '…']", without the
// parser; anything else (escapes, other spacing, other operators) it
// leaves to atomsOf's parser. The stored pattern was parsed on ingest.
func fastAtom(src string) (atom, bool) {
	if len(src) < 8 || src[0] != '[' || src[len(src)-1] != ']' || strings.IndexByte(src, '\\') >= 0 {
		return atom{}, false
	}
	body := src[1 : len(src)-1]
	lhs, rhs, ok := strings.Cut(body, " = '")
	if !ok || !strings.HasSuffix(rhs, "'") {
		return atom{}, false
	}
	value := rhs[:len(rhs)-1]
	if strings.IndexByte(value, '\'') >= 0 {
		return atom{}, false
	}
	path := strings.Replace(lhs, "hashes.'", "hashes.", 1)
	if path != lhs {
		if !strings.HasSuffix(path, "'") {
			return atom{}, false
		}
		path = path[:len(path)-1]
	}
	k, ok := paths[path]
	if !ok {
		return atom{}, false
	}
	objType, _, _ := strings.Cut(path, ":")
	a, reason := newAtom(k, objType, value)
	return a, reason == ""
}
