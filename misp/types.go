package misp

import (
	"net/netip"
	"strings"
)

// An attrType says how one MISP attribute type maps to STIX 2.1. Most types
// are observables: each "|"-separated part of the value is the value of
// one object path, and the paths give both the indicator's pattern (the
// comparisons joined by AND) and the cyber-observables of observed data.
// The paths and hash names are misp-stix's, except where misp-stix writes
// what STIX 2.1 does not allow (noted at the type).
type attrType struct {
	name     string
	category string // the MISP category given to such attributes exported from other STIX
	paths    []path // observables: one per part of the value
	// patternOnly types have no cyber-observable that STIX 2.1 accepts
	// (a port alone, a size alone), so they map only when to_ids is set.
	patternOnly bool
	// rule types are detection rules in their own language: an indicator
	// whose pattern_type is the type name and pattern the rule.
	rule bool
	// sdo types map to a domain object of that type, named by the value.
	sdo string
}

// path is an object path of a pattern, such as network-traffic:dst_ref.value,
// with what each reference step points to.
type path struct {
	root  string
	steps []step
}

// step is one key of a path. A key ending in _ref or _refs holds
// references, to objects of type target ("ip": ipv4-addr or ipv6-addr, as
// the value says); a list step (values) holds a list of dictionaries.
type step struct {
	key    string
	target string
}

// parsePath reads the notation of the table below:
// "network-traffic:dst_ref(ip).value", "file:hashes.SHA-256".
func parsePath(s string) path {
	root, rest, _ := strings.Cut(s, ":")
	p := path{root: root}
	for _, k := range strings.Split(rest, ".") {
		st := step{key: k}
		if i := strings.IndexByte(k, '('); i >= 0 {
			st = step{key: k[:i], target: strings.TrimSuffix(k[i+1:], ")")}
		}
		p.steps = append(p.steps, st)
	}
	return p
}

// key is the path without reference targets and list indexes, the form in
// which the export compares paths: network-traffic:dst_ref.value.
func (p path) key() string {
	var b strings.Builder
	b.WriteString(p.root)
	for i, s := range p.steps {
		if i == 0 {
			b.WriteByte(':')
		} else {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// isList reports whether a step holds a list: references (_refs) or the
// dictionaries of windows-registry-key values.
func (s step) isList() bool { return strings.HasSuffix(s.key, "_refs") || s.key == "values" }

func (s step) isRef() bool {
	return strings.HasSuffix(s.key, "_ref") || strings.HasSuffix(s.key, "_refs")
}

// refType is the type of the object a reference step points to, for the
// value the path ends with.
func (s step) refType(value string) string {
	if s.target != "ip" {
		return s.target
	}
	if a, err := netip.ParseAddr(value); err == nil && a.Is6() && !a.Is4In6() {
		return "ipv6-addr"
	}
	return "ipv4-addr"
}

// intProps are the properties whose values are integers.
var intProps = map[string]bool{"dst_port": true, "src_port": true, "number": true, "size": true}

// hashNames maps MISP's hash attribute types to the names STIX 2.1 gives
// the algorithms (hash-algorithm-ov, and misp-stix's names beyond it).
var hashNames = []struct{ misp, stix string }{
	{"md5", "MD5"}, {"sha1", "SHA-1"}, {"sha224", "SHA-224"}, {"sha256", "SHA-256"},
	{"sha384", "SHA-384"}, {"sha512", "SHA-512"}, {"sha3-224", "SHA3-224"},
	{"sha3-256", "SHA3-256"}, {"sha3-384", "SHA3-384"}, {"sha3-512", "SHA3-512"},
	{"ssdeep", "SSDEEP"}, {"tlsh", "TLSH"}, {"imphash", "IMPHASH"}, {"pehash", "PEHASH"},
	{"authentihash", "AUTHENTIHASH"}, {"vhash", "VHASH"}, {"telfhash", "TELFHASH"},
}

// attrTypes lists the mapped types. Order matters for the export of
// objects from other sources: where several types have the same paths
// (domain and hostname; url, uri and link), the first is chosen.
var attrTypes = buildTypes()

func buildTypes() []attrType {
	obs := func(name, category string, paths ...string) attrType {
		t := attrType{name: name, category: category}
		for _, p := range paths {
			t.paths = append(t.paths, parsePath(p))
		}
		return t
	}
	ts := []attrType{
		obs("ip-src", "Network activity", "network-traffic:src_ref(ip).value"),
		obs("ip-dst", "Network activity", "network-traffic:dst_ref(ip).value"),
		obs("ip-src|port", "Network activity", "network-traffic:src_ref(ip).value", "network-traffic:src_port"),
		obs("ip-dst|port", "Network activity", "network-traffic:dst_ref(ip).value", "network-traffic:dst_port"),
		obs("domain", "Network activity", "domain-name:value"),
		obs("hostname", "Network activity", "domain-name:value"),
		obs("domain|ip", "Network activity", "domain-name:value", "domain-name:resolves_to_refs(ip).value"),
		// misp-stix joins domain-name and network-traffic in one
		// observation, which STIX 2.1 does not allow (§9.5: one root
		// object per observation expression); the host is the
		// destination of the traffic here.
		obs("hostname|port", "Network activity", "network-traffic:dst_ref(domain-name).value", "network-traffic:dst_port"),
		obs("url", "Network activity", "url:value"),
		obs("uri", "Network activity", "url:value"),
		obs("link", "External analysis", "url:value"),
		obs("AS", "Network activity", "autonomous-system:number"),
		obs("mac-address", "Network activity", "mac-addr:value"),
		obs("email", "Payload delivery", "email-addr:value"),
		obs("email-src", "Payload delivery", "email-message:from_ref(email-addr).value"),
		obs("email-dst", "Payload delivery", "email-message:to_refs(email-addr).value"),
		obs("email-subject", "Payload delivery", "email-message:subject"),
		obs("email-body", "Payload delivery", "email-message:body"),
		obs("email-message-id", "Payload delivery", "email-message:message_id"),
		obs("email-reply-to", "Payload delivery", "email-message:additional_header_fields.Reply-To"),
		obs("email-x-mailer", "Payload delivery", "email-message:additional_header_fields.X-Mailer"),
		obs("filename", "Payload delivery", "file:name"),
		obs("mutex", "Artifacts dropped", "mutex:name"),
		obs("regkey", "Persistence mechanism", "windows-registry-key:key"),
		obs("regkey|value", "Persistence mechanism", "windows-registry-key:key", "windows-registry-key:values.data"),
		obs("x509-fingerprint-md5", "Network activity", "x509-certificate:hashes.MD5"),
		obs("x509-fingerprint-sha1", "Network activity", "x509-certificate:hashes.SHA-1"),
		obs("x509-fingerprint-sha256", "Network activity", "x509-certificate:hashes.SHA-256"),
	}
	for _, h := range hashNames {
		ts = append(ts, obs(h.misp, "Payload delivery", "file:hashes."+h.stix))
	}
	for _, h := range hashNames {
		ts = append(ts, obs("filename|"+h.misp, "Payload delivery", "file:name", "file:hashes."+h.stix))
	}
	port := obs("port", "Network activity", "network-traffic:dst_port")
	port.patternOnly = true
	size := obs("size-in-bytes", "Other", "file:size")
	size.patternOnly = true
	ua := obs("user-agent", "Network activity", "network-traffic:extensions.http-request-ext.request_header.User-Agent")
	ua.patternOnly = true
	method := obs("http-method", "Network activity", "network-traffic:extensions.http-request-ext.request_method")
	method.patternOnly = true
	ts = append(ts, port, size, ua, method,
		attrType{name: "snort", category: "Network activity", rule: true},
		attrType{name: "suricata", category: "Network activity", rule: true},
		attrType{name: "yara", category: "Payload installation", rule: true},
		attrType{name: "sigma", category: "Payload installation", rule: true},
		attrType{name: "vulnerability", category: "External analysis", sdo: "vulnerability"},
		attrType{name: "campaign-name", category: "Attribution", sdo: "campaign"},
	)
	return ts
}

// typeByName indexes attrTypes.
var typeByName = func() map[string]*attrType {
	m := make(map[string]*attrType, len(attrTypes))
	for i := range attrTypes {
		m[attrTypes[i].name] = &attrTypes[i]
	}
	return m
}()

// MappedTypes returns the MISP attribute types that ToSTIX maps, in the
// order of the table.
func MappedTypes() []string {
	out := make([]string, len(attrTypes))
	for i, t := range attrTypes {
		out[i] = t.name
	}
	return out
}
