package export

import (
	"fmt"
	"hash/fnv"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/entente/entente/signature"
)

// Generated rules take sids from sidBase up: each indicator a block of
// sidBlock sids, at a place its id decides. The range lies above the ones
// rule publishers use (local rules 1000000-1999999, Emerging Threats
// 2000000-2999999 and 2800000000 up for its feeds), so generated rules
// do not collide with them.
const (
	sidBase   = 3_000_000_000
	sidBlock  = 16
	sidBlocks = (1<<32 - 1 - sidBase) / sidBlock
	// hashSID is the sid of the list rule of each hash, below the blocks.
	hashSID = sidBase - 16
)

// sidOf returns the first sid of the block of the indicator id: a hash of
// the id, then the next free block, so that an indicator keeps its sids as
// long as no indicator stored before it takes its block.
func (x *Writer) sidOf(id string) uint32 {
	h := fnv.New64a()
	io.WriteString(h, id)
	b := uint32(h.Sum64() % sidBlocks)
	for x.sids[b] {
		b = (b + 1) % sidBlocks
	}
	x.sids[b] = true
	return sidBase + b*sidBlock
}

func (x *Writer) suricata(ind *indicator, atoms []atom) (int, string) {
	var addrs [3][]string // kAddr, kSrcAddr, kDstAddr
	// The rules go to x.rules, one a line, and out once all are made.
	rules := x.rules[:0]
	n := 0
	var hashes [3]bool // md5, sha1, sha256, as in Hashes
	sid := x.sidOf(ind.ID)
	next := func() uint32 { sid++; return sid - 1 }
	meta := x.metadata(ind)
	msg := ruleMessage(ind)
	for _, a := range atoms {
		switch a.kind {
		case kAddr, kSrcAddr, kDstAddr:
			addrs[a.kind-kAddr] = append(addrs[a.kind-kAddr], a.value)
		case kMD5, kSHA1, kSHA256:
			hashes[a.kind-kMD5] = true
		case kDomain:
			c := content(a.value)
			for _, buf := range []string{"dns.query", "tls.sni", "http.host"} {
				proto, _, _ := strings.Cut(buf, ".")
				rules = appendRule(rules, next(), meta, "alert ", proto, " any any -> any any (msg:", msg, "; ", buf, "; content:", c, ";", nocase(buf), " startswith; endswith;")
				n++
			}
		case kURL:
			u, err := url.Parse(a.value)
			if err != nil || u.Scheme != "http" || u.Host == "" {
				return 0, "the URL " + a.value + " is not an http URL; Suricata sees only the host of an https one, which says less than the URL"
			}
			port := "any"
			if p := u.Port(); p != "" && p != "80" {
				port = p
			}
			// The URI as the URL writes it: what the client sends.
			uri := a.value[strings.Index(a.value, "//")+2:]
			if i := strings.IndexAny(uri, "/?"); i >= 0 {
				uri = uri[i:]
			} else {
				uri = "/"
			}
			if strings.HasPrefix(uri, "?") {
				uri = "/" + uri
			}
			if i := strings.IndexByte(uri, '#'); i >= 0 {
				uri = uri[:i] // the fragment is not sent
			}
			rules = appendRule(rules, next(), meta, "alert http any any -> any ", port, " (msg:", msg, "; http.host; content:", content(strings.ToLower(u.Hostname())),
				"; startswith; endswith; http.uri.raw; content:", content(uri), "; startswith; endswith;")
			n++
		default:
			return 0, "Suricata rules have no place for a " + kindName(a.kind)
		}
	}
	for i, list := range addrs {
		if len(list) == 0 {
			continue
		}
		l := "[" + strings.Join(list, ",") + "]"
		header := [...]string{l + " any <> any any", l + " any -> any any", "any any -> " + l + " any"}[i]
		rules = appendRule(rules, next(), meta, "alert ip ", header, " (msg:", msg, "; threshold:type limit, track by_both, count 1, seconds 3600;")
		n++
	}
	x.rules = rules
	if n > sidBlock {
		return 0, fmt.Sprintf("it needs %d rules, more than its block of %d sids", n, sidBlock)
	}
	// The rules are built from templates whose values are escaped by
	// content and metaValue; the tests and FuzzSuricata parse every one with
	// signature.ParseSuricata, so that the export need not parse them again.
	x.w.Write(rules)
	for i, h := range Hashes {
		if hashes[i] {
			x.hashes[h] = true
			x.listed = true
		}
	}
	return n, ""
}

// appendRule appends a rule and its line end: the parts, then the sid, the
// rev and the metadata option, then the closing parenthesis. (Appending
// parts spares the allocations of formatting, one per value.)
func appendRule(dst []byte, sid uint32, meta string, parts ...string) []byte {
	for _, p := range parts {
		dst = append(dst, p...)
	}
	dst = append(dst, " sid:"...)
	dst = strconv.AppendUint(dst, uint64(sid), 10)
	dst = append(dst, "; rev:1; "...)
	dst = append(dst, meta...)
	return append(dst, ")\n"...)
}

func nocase(buf string) string {
	if buf == "http.host" { // Suricata normalizes the host to lower case
		return ""
	}
	return " nocase;"
}

func kindName(k kind) string {
	return map[kind]string{kEmail: "e-mail address", kFileName: "file name", kUserName: "user name"}[k]
}

// nativeSuricata passes a partner's rule through, as it came; a Snort rule
// goes through if Suricata reads it too.
func (x *Writer) nativeSuricata(ind *indicator) (int, string) {
	rules, err := signature.ParseSuricata(ind.Pattern)
	if err != nil {
		if ind.PatternType == "snort" {
			return 0, "a Snort rule that Suricata does not read: " + err.Error()
		}
		return 0, err.Error()
	}
	fmt.Fprintf(x.w, "# %s %s\n", ind.ID, oneLine(ind.Name))
	for _, r := range rules {
		x.w.WriteString(r.Text)
		x.w.WriteByte('\n')
	}
	return len(rules), ""
}

// metadata is the rule's metadata option: the STIX id, and the source.
func (x *Writer) metadata(ind *indicator) string {
	return "metadata:stix_id " + metaValue(ind.ID) + ", entente_source " + metaValue(x.cfg.Source) + ";"
}

// metaValue keeps a metadata value to what Suricata's metadata parser
// reads: no commas, semicolons, quotes or backslashes.
func metaValue(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ',' || r == ';' || r == '"' || r == '\\' || r == ' ' || r < 0x20 || r > 0x7e:
			return '_'
		}
		return r
	}, s)
}

// ruleMessage is the quoted msg: the indicator's name, or its id.
func ruleMessage(ind *indicator) string {
	name := ind.Name
	if name == "" {
		name = ind.ID
	}
	if len(name) > 200 {
		name = name[:200]
	}
	var b strings.Builder
	b.WriteString(`"entente `)
	for _, r := range name {
		switch {
		case r == '"' || r == ';' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// content quotes s for a content option: printable ASCII as itself, and
// the bytes the rule language reserves, or that are not printable, as
// |hex|.
func content(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	inHex := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		plain := c >= 0x20 && c <= 0x7e && c != '"' && c != ';' && c != '\\' && c != '|' && c != ':'
		if plain {
			if inHex {
				b.WriteByte('|')
				inHex = false
			}
			b.WriteByte(c)
			continue
		}
		if !inHex {
			b.WriteByte('|')
			inHex = true
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(strings.ToUpper(strconv.FormatUint(uint64(c)|0x100, 16)[1:]))
	}
	if inHex {
		b.WriteByte('|')
	}
	b.WriteByte('"')
	return b.String()
}

// hashRule is the rule that reads the list of one hash.
func hashRule(h, source string) string {
	kw := "file" + h
	n := map[string]uint32{"md5": 0, "sha1": 1, "sha256": 2}[h]
	return fmt.Sprintf(`alert http any any -> any any (msg:"entente file %s in the shared indicators"; %s:%s; sid:%d; rev:1; metadata:entente_source %s, entente_list %s;)`,
		strings.ToUpper(h), kw, ListFile(h), hashSID+n, metaValue(source), h)
}

// hashList writes an indicator's hashes of the configured algorithm, one
// per line, as Suricata's hash lists and datasets read them.
func (x *Writer) hashList(atoms []atom) int {
	want := map[string]kind{"md5": kMD5, "sha1": kSHA1, "sha256": kSHA256}[x.cfg.Hash]
	n := 0
	for _, a := range atoms {
		if a.kind == want {
			x.w.WriteString(a.value)
			x.w.WriteByte('\n')
			n++
		}
	}
	return n
}
