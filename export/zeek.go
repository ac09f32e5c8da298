package export

import (
	"net/netip"
	"strings"
)

// zeekTypes are the Intel:: types of the kinds Zeek's Intel framework
// sees (base/frameworks/intel/main.zeek).
var zeekTypes = map[kind]string{
	kAddr:     "Intel::ADDR",
	kDomain:   "Intel::DOMAIN",
	kURL:      "Intel::URL",
	kMD5:      "Intel::FILE_HASH",
	kSHA1:     "Intel::FILE_HASH",
	kSHA256:   "Intel::FILE_HASH",
	kEmail:    "Intel::EMAIL",
	kFileName: "Intel::FILE_NAME",
	kUserName: "Intel::USER_NAME",
}

// zeek writes one Intel line per atom. Zeek's input framework reads
// tab-separated fields, "-" for an empty one; Intel::URL values are
// written without their scheme, as Zeek builds the URLs it sees
// (HTTP::build_url: host and URI).
func (x *Writer) zeek(ind *indicator, atoms []atom) (int, string) {
	type line struct{ value, typ string }
	lines := make([]line, 0, len(atoms))
	for _, a := range atoms {
		typ, ok := zeekTypes[a.kind]
		value := a.value
		switch {
		case a.kind == kSrcAddr || a.kind == kDstAddr:
			return 0, "Zeek's Intel framework matches an address in either direction; the pattern names one"
		case !ok:
			return 0, "Zeek's Intel framework has no type for this value"
		case a.kind == kAddr && strings.Contains(value, "/"):
			if p, err := netip.ParsePrefix(value); err == nil && p.Bits() < p.Addr().BitLen() {
				typ = "Intel::SUBNET"
			}
		case a.kind == kURL:
			rest, ok := strings.CutPrefix(value, "http://")
			if !ok {
				return 0, "the URL " + value + " is not an http URL; Zeek sees the URLs of plain HTTP only"
			}
			value = rest
		}
		if value == "" || value == "-" || strings.ContainsAny(value, "\t\r\n") {
			return 0, "the value cannot be written in a Zeek input file: " + value
		}
		lines = append(lines, line{value, typ})
	}
	desc := zeekField(strings.TrimSpace(ind.ID + " " + ind.Name))
	src := zeekField(x.cfg.Source)
	ref := "-"
	for _, r := range ind.ExternalRef {
		if r.URL != "" {
			ref = zeekField(r.URL)
			break
		}
	}
	for _, l := range lines {
		x.line.Reset()
		x.line.WriteString(l.value)
		x.line.WriteByte('\t')
		x.line.WriteString(l.typ)
		x.line.WriteByte('\t')
		x.line.WriteString(src)
		x.line.WriteByte('\t')
		x.line.WriteString(desc)
		x.line.WriteByte('\t')
		x.line.WriteString(ref)
		x.line.WriteByte('\n')
		x.w.WriteString(x.line.String())
	}
	return len(lines), ""
}

// zeekField makes text a field of a Zeek input file: no tabs or line
// breaks, and "-" (the empty field) for nothing.
func zeekField(s string) string {
	s = oneLine(s)
	if s == "" {
		return "-"
	}
	return s
}
