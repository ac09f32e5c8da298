package signature

import (
	"net/netip"
	"strconv"
	"strings"
)

// A Rule is one Suricata or Snort rule: the header and the options, in the
// order written. Option values are as written, without the surrounding
// whitespace and with their escapes kept.
type Rule struct {
	Action, Protocol   string
	Source, SourcePort string
	Direction          string // "->", "<>" or, in Suricata 8, "=>"
	Dest, DestPort     string
	Options            []Option
	// Text is the rule on one line, continuation lines joined.
	Text string
	// Line is the line of the source where the rule starts.
	Line int
}

// An Option is one "keyword;" or "keyword: value;" of a rule.
type Option struct {
	Keyword  string
	Value    string
	HasValue bool
}

// Value returns the value of the first option named keyword.
func (r *Rule) Value(keyword string) (string, bool) {
	for _, o := range r.Options {
		if o.Keyword == keyword {
			return o.Value, true
		}
	}
	return "", false
}

// SID returns the rule's signature id.
func (r *Rule) SID() uint32 {
	v, _ := r.Value("sid")
	n, _ := strconv.ParseUint(v, 10, 32)
	return uint32(n)
}

// dialect is what differs between the Suricata and Snort rule languages.
type dialect struct {
	lang       string
	actions    map[string]bool
	protocols  map[string]bool
	directions []string
	keywords   map[string]kwKind
	// stickyPrefixes are the prefixes of the dotted buffer names a dialect
	// accepts beyond its keyword list (Suricata adds buffers often).
	stickyPrefixes []string
	// lastSemicolonOptional lets the last option omit its semicolon.
	lastSemicolonOptional bool
	// name is the language's name in messages.
	name string
}

// ParseSuricata parses Suricata rules, one per line; blank lines and lines
// starting with # are skipped, and a line ending in a backslash continues on
// the next. There must be at least one rule. Each rule needs a sid, and
// every option must be one Suricata knows, with a value of the right form.
func ParseSuricata(src string) ([]*Rule, error) { return parseRules(&suricata, src) }

// ParseSnort parses Snort 2 rules, as ParseSuricata does Suricata's.
func ParseSnort(src string) ([]*Rule, error) { return parseRules(&snort, src) }

// joined is the source with its line continuations removed, and the source
// offset of each byte kept, so that errors point into the source.
type joined struct {
	text []byte
	at   []int
}

func join(src string) joined {
	j := joined{text: make([]byte, 0, len(src)), at: make([]int, 0, len(src))}
	for i := 0; i < len(src); i++ {
		if src[i] == '\\' {
			k := i + 1
			if k < len(src) && src[k] == '\r' {
				k++
			}
			if k < len(src) && src[k] == '\n' {
				i = k
				continue
			}
		}
		j.text = append(j.text, src[i])
		j.at = append(j.at, i)
	}
	return j
}

func parseRules(d *dialect, src string) ([]*Rule, error) {
	if err := tooLarge(d.lang, src); err != nil {
		return nil, err
	}
	j := join(src)
	var rules []*Rule
	for start := 0; start < len(j.text); {
		end := start
		for end < len(j.text) && j.text[end] != '\n' {
			end++
		}
		line := strings.TrimSpace(string(j.text[start:end]))
		if line != "" && line[0] != '#' {
			p := &ruleParser{d: d, src: src, j: j, base: start, text: string(j.text[start:end])}
			r, err := p.rule()
			if err != nil {
				return nil, err
			}
			r.Line = 1 + strings.Count(src[:j.at[start]], "\n")
			rules = append(rules, r)
		}
		start = end + 1
	}
	if len(rules) == 0 {
		return nil, errorAt(d.lang, src, len(src), "no rule: the pattern holds only blank lines and comments")
	}
	return rules, nil
}

type ruleParser struct {
	d    *dialect
	src  string
	j    joined
	base int // offset of text in j.text
	text string
	pos  int
}

func (p *ruleParser) fail(at int, format string, args ...any) error {
	off := len(p.src)
	if i := p.base + at; i < len(p.j.at) {
		off = p.j.at[i]
	}
	return errorAt(p.d.lang, p.src, off, format, args...)
}

func (p *ruleParser) skipSpace() {
	for p.pos < len(p.text) && isSpace(p.text[p.pos]) {
		p.pos++
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

// token reads one header field: a word, or a bracketed list that may hold
// spaces.
func (p *ruleParser) token(what string) (string, int, error) {
	p.skipSpace()
	start := p.pos
	depth := 0
	for p.pos < len(p.text) {
		c := p.text[p.pos]
		if c == '[' {
			depth++
		} else if c == ']' {
			depth--
		} else if depth == 0 && (isSpace(c) || c == '(') {
			break
		}
		p.pos++
	}
	if p.pos == start {
		return "", start, p.fail(start, "missing %s", what)
	}
	return p.text[start:p.pos], start, nil
}

func (p *ruleParser) rule() (*Rule, error) {
	r := &Rule{Text: strings.TrimSpace(p.text)}
	fields := []struct {
		dst   *string
		what  string
		check func(string) string
	}{
		{&r.Action, "action", p.d.checkAction},
		{&r.Protocol, "protocol", p.d.checkProtocol},
		{&r.Source, "source address", checkAddress},
		{&r.SourcePort, "source port", checkPort},
		{&r.Direction, "direction", p.d.checkDirection},
		{&r.Dest, "destination address", checkAddress},
		{&r.DestPort, "destination port", checkPort},
	}
	for _, f := range fields {
		tok, at, err := p.token(f.what)
		if err != nil {
			return nil, err
		}
		if msg := f.check(tok); msg != "" {
			return nil, p.fail(at, "%s %q: %s", f.what, tok, msg)
		}
		*f.dst = tok
	}
	p.skipSpace()
	if p.pos >= len(p.text) || p.text[p.pos] != '(' {
		return nil, p.fail(p.pos, "missing the option list: want ( after the destination port")
	}
	open := p.pos
	closing := strings.LastIndexByte(p.text, ')')
	if closing < open || strings.TrimSpace(p.text[closing+1:]) != "" {
		return nil, p.fail(len(strings.TrimRight(p.text, " \t\r")), "the option list does not end with ): every rule is on one line, or continued with a backslash")
	}
	if err := p.options(r, open+1, closing); err != nil {
		return nil, err
	}
	return r, p.checkRule(r, open)
}

// options reads "keyword;" and "keyword: value;" up to end. A value ends
// at the first semicolon not escaped by a backslash (quotes do not protect
// one). Suricata wants a semicolon after the last option too (its parser
// says "no terminating ';' found"); Snort 2 does not.
func (p *ruleParser) options(r *Rule, start, end int) error {
	i := start
	for {
		for i < end && isSpace(p.text[i]) {
			i++
		}
		if i >= end {
			return nil
		}
		kwStart := i
		for i < end && isKeywordByte(p.text[i]) {
			i++
		}
		kw := p.text[kwStart:i]
		if kw == "" {
			return p.fail(kwStart, "want an option keyword, found %q", p.text[kwStart:kwStart+1])
		}
		for i < end && isSpace(p.text[i]) {
			i++
		}
		opt := Option{Keyword: kw}
		valStart := i
		if i < end && p.text[i] == ':' {
			i++
			valStart = i
			for i < end && p.text[i] != ';' {
				if p.text[i] == '\\' {
					i++
				}
				i++
			}
			i = min(i, end)
			opt.Value, opt.HasValue = strings.TrimSpace(p.text[valStart:i]), true
			if opt.Value == "" {
				return p.fail(valStart, "option %s: empty value", kw)
			}
		} else if i < end && p.text[i] != ';' {
			return p.fail(i, "option %s: want ; or : after the keyword, found %q", kw, p.text[i:i+1])
		}
		kind, ok := p.d.keyword(kw)
		if !ok {
			return p.fail(kwStart, "unknown rule option %q", kw)
		}
		at := valStart
		for at < end && isSpace(p.text[at]) {
			at++
		}
		if msg := kind.check(kw, opt); msg != "" {
			return p.fail(at, "option %s: %s", kw, msg)
		}
		r.Options = append(r.Options, opt)
		if i >= end && !p.d.lastSemicolonOptional {
			return p.fail(end, "option %s: no ; after it; %s ends every option with ;, the last one too", kw, p.d.name)
		}
		if i < end { // the ;
			i++
		}
	}
}

func (p *ruleParser) checkRule(r *Rule, at int) error {
	n := 0
	for _, o := range r.Options {
		if o.Keyword == "sid" {
			n++
		}
	}
	switch {
	case n == 0:
		return p.fail(at, "the rule has no sid; every rule needs sid:<number>;")
	case n > 1:
		return p.fail(at, "the rule has %d sid options; give exactly one", n)
	}
	return nil
}

func isKeywordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

func (d *dialect) checkAction(s string) string {
	if d.actions[s] {
		return ""
	}
	return "not an action of " + d.lang + " rules"
}

func (d *dialect) checkProtocol(s string) string {
	if d.protocols[strings.ToLower(s)] {
		return ""
	}
	return "not a protocol " + d.lang + " knows"
}

func (d *dialect) checkDirection(s string) string {
	for _, dir := range d.directions {
		if s == dir {
			return ""
		}
	}
	return "want one of " + strings.Join(d.directions, " ")
}

func (d *dialect) keyword(kw string) (kwKind, bool) {
	if k, ok := d.keywords[kw]; ok {
		return k, true
	}
	if strings.Contains(kw, ".") {
		for _, p := range d.stickyPrefixes {
			if strings.HasPrefix(kw, p) && len(kw) > len(p) {
				return kwBuffer, true
			}
		}
	}
	return 0, false
}

// checkAddress checks a header address: any, a $VARIABLE, an IPv4 or IPv6
// address, network or range, a bracketed list of these, each optionally
// negated with !.
func checkAddress(s string) string {
	return checkList(s, func(v string) string {
		switch {
		case v == "any":
			return ""
		case isVariable(v):
			return ""
		}
		if a, b, ok := strings.Cut(v, "-"); ok {
			x, err1 := netip.ParseAddr(a)
			y, err2 := netip.ParseAddr(b)
			if err1 != nil || err2 != nil || x.Is4() != y.Is4() || y.Less(x) {
				return "not an address range"
			}
			return ""
		}
		if strings.Contains(v, "/") {
			if _, err := netip.ParsePrefix(v); err == nil {
				return ""
			}
			// IPv4 netmask notation, 10.0.0.0/255.0.0.0.
			a, m, _ := strings.Cut(v, "/")
			x, err1 := netip.ParseAddr(a)
			y, err2 := netip.ParseAddr(m)
			if err1 == nil && err2 == nil && x.Is4() && y.Is4() {
				return ""
			}
			return "not a network (want address/prefix-length)"
		}
		if _, err := netip.ParseAddr(v); err != nil {
			return "not an address, network, range, variable or any"
		}
		return ""
	})
}

// checkPort checks a header port: any, a $VARIABLE, a port, a range a:b,
// a: or :b, or a bracketed list of these, each optionally negated.
func checkPort(s string) string {
	return checkList(s, func(v string) string {
		if v == "any" || isVariable(v) {
			return ""
		}
		a, b, isRange := strings.Cut(v, ":")
		if !isRange {
			if !isPort(a) {
				return "not a port number (0 to 65535)"
			}
			return ""
		}
		if a == "" && b == "" || a != "" && !isPort(a) || b != "" && !isPort(b) {
			return "not a port range (want low:high, low: or :high)"
		}
		if a != "" && b != "" {
			x, _ := strconv.Atoi(a)
			y, _ := strconv.Atoi(b)
			if x > y {
				return "the range's low port is above its high port"
			}
		}
		return ""
	})
}

func isPort(s string) bool {
	n, err := strconv.ParseUint(s, 10, 16)
	return err == nil && n <= 65535 && s[0] != '+'
}

func isVariable(s string) bool {
	if len(s) < 2 || s[0] != '$' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkList checks an element, or a bracketed, comma-separated list of
// them (lists nest), each optionally preceded by !.
func checkList(s string, elem func(string) string) string {
	return checkListDepth(s, elem, 0)
}

// maxListDepth bounds the nesting of address and port lists.
const maxListDepth = 16

func checkListDepth(s string, elem func(string) string, depth int) string {
	if depth > maxListDepth {
		return "lists nest too deeply"
	}
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "!")
	if s == "" {
		return "empty"
	}
	if s[0] != '[' {
		if strings.ContainsAny(s, "[],! \t") {
			return "unexpected bracket, comma or ! (lists go in [ ])"
		}
		return elem(s)
	}
	if s[len(s)-1] != ']' {
		return "the list has no closing ]"
	}
	inner := s[1 : len(s)-1]
	depth, start := 0, 0
	for i := 0; i <= len(inner); i++ {
		if i < len(inner) {
			switch inner[i] {
			case '[':
				depth++
				continue
			case ']':
				if depth--; depth < 0 {
					return "unbalanced ]"
				}
				continue
			case ',':
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		if depth != 0 {
			return "unbalanced ["
		}
		if msg := checkListDepth(inner[start:i], elem, depth+1); msg != "" {
			return strings.TrimSpace(inner[start:i]) + ": " + msg
		}
		start = i + 1
	}
	return ""
}

// kwKind says what value an option takes.
type kwKind uint8

const (
	kwAny      kwKind = iota // any value, or none
	kwNone                   // no value
	kwBuffer                 // a sticky buffer: no value
	kwQuoted                 // a quoted string: msg
	kwContent                // content: [!]"text with |hex| blocks"
	kwPCRE                   // pcre: [!]"/re/flags"
	kwUint                   // sid, rev, gid
	kwPriority               // 1 to 255
	kwFlow                   // flow: a list of flow words
	kwDataset                // dataset: cmd,name[,options]
	kwWord                   // classtype: one word
	kwRequired               // a value of any form
	kwHash                   // filemd5 etc.: a file name
)

func (k kwKind) check(kw string, o Option) string {
	switch k {
	case kwNone, kwBuffer:
		if o.HasValue {
			return "takes no value"
		}
		return ""
	case kwAny:
		return ""
	}
	if !o.HasValue {
		return "needs a value (keyword: value;)"
	}
	v := o.Value
	switch k {
	case kwQuoted:
		return checkQuoted(v)
	case kwContent:
		s, msg := unquote(strings.TrimSpace(strings.TrimPrefix(v, "!")))
		if msg != "" {
			return msg
		}
		return checkContent(s)
	case kwPCRE:
		s := strings.TrimSpace(strings.TrimPrefix(v, "!"))
		if msg := checkQuoted(s); msg != "" {
			return msg
		}
		return checkPCRE(s[1 : len(s)-1])
	case kwUint:
		if n, err := strconv.ParseUint(v, 10, 32); err != nil || n == 0 && kw == "sid" {
			return "want a number from 1 to 4294967295"
		}
	case kwPriority:
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 255 {
			return "want a number from 1 to 255"
		}
	case kwFlow:
		for w := range strings.SplitSeq(v, ",") {
			if !flowWords[strings.TrimSpace(w)] {
				return "unknown flow option " + strconv.Quote(strings.TrimSpace(w))
			}
		}
	case kwDataset:
		parts := strings.Split(v, ",")
		switch strings.TrimSpace(parts[0]) {
		case "set", "isset", "isnotset", "unset":
		default:
			return "want set, isset, isnotset or unset, then the dataset's name"
		}
		if len(parts) < 2 || strings.TrimSpace(parts[1]) == "" {
			return "missing the dataset's name"
		}
	case kwWord:
		for i := 0; i < len(v); i++ {
			if !isKeywordByte(v[i]) {
				return "want one word"
			}
		}
	case kwHash:
		if strings.ContainsAny(v, " \t") && !strings.HasPrefix(v, "\"") {
			return "want a file name"
		}
	}
	return ""
}

// unquote checks a "…" value: the quotes, and the escapes the rule
// language allows inside (\" \; \\ and \:).
func unquote(v string) (string, string) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", "want a value in double quotes"
	}
	in := v[1 : len(v)-1]
	var b strings.Builder
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch c {
		case '\\':
			if i+1 == len(in) {
				return "", "a backslash ends the quoted value; write \\\\ for a backslash"
			}
			i++
			switch in[i] {
			case '"', ';', '\\', ':':
			default:
				return "", "\\" + string(in[i]) + " is not an escape the rule language knows (only \\\" \\; \\\\ \\:)"
			}
			b.WriteByte(in[i])
			continue
		case '"':
			return "", "an unescaped \" inside the quoted value; write \\\""
		}
		b.WriteByte(c)
	}
	return b.String(), ""
}

// checkQuoted checks a "…" value whose backslash escapes the engine
// passes on (msg, and pcre's expression, where \/ and \d are PCRE's): the
// quotes, no unescaped quote inside, and no backslash at the end.
func checkQuoted(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "want a value in double quotes"
	}
	in := v[1 : len(v)-1]
	for i := 0; i < len(in); i++ {
		switch in[i] {
		case '\\':
			if i+1 == len(in) {
				return "a backslash ends the quoted value; write \\\\ for a backslash"
			}
			i++
		case '"':
			return "an unescaped \" inside the quoted value; write \\\""
		}
	}
	return ""
}

// checkContent checks the |hex| blocks of an unescaped content string.
func checkContent(s string) string {
	if s == "" {
		return "empty content"
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '|' {
			continue
		}
		end := strings.IndexByte(s[i+1:], '|')
		if end < 0 {
			return "a | block is not closed"
		}
		digits := 0
		for _, c := range s[i+1 : i+1+end] {
			switch {
			case c == ' ':
				if digits%2 != 0 {
					return "a hex byte is cut by a space in a | block"
				}
			case isHexRune(c):
				digits++
			default:
				return "a | block holds " + strconv.QuoteRune(c) + "; only hex digits and spaces go between | |"
			}
		}
		if digits == 0 || digits%2 != 0 {
			return "a | block must hold whole hex bytes"
		}
		i += end + 1
	}
	return ""
}

func isHexRune(c rune) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// checkPCRE checks /expression/flags: the delimiters and the flags (PCRE's
// i s m x and the rule language's upper-case buffer flags).
func checkPCRE(s string) string {
	if len(s) < 2 || s[0] != '/' {
		return "want /expression/flags"
	}
	end := strings.LastIndexByte(s, '/')
	if end == 0 {
		return "the expression has no closing /"
	}
	if end == 1 {
		return "empty expression"
	}
	for _, c := range s[end+1:] {
		if !strings.ContainsRune("ismxAEGRUIPHDMCKSYBOVWQ", c) {
			return "unknown pcre flag " + strconv.QuoteRune(c)
		}
	}
	return ""
}

var flowWords = set("to_client", "to_server", "from_client", "from_server", "established", "not_established",
	"stateless", "only_stream", "no_stream", "only_frag", "no_frag")

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

func kinds(k kwKind, words string, into map[string]kwKind) {
	for w := range strings.FieldsSeq(words) {
		into[w] = k
	}
}

// Keywords common to Snort 2 and Suricata.
const (
	commonNone = `nocase rawbytes fast_pattern_only ftpbounce sameip dce_stub_data file_data pkt_data base64_data noalert`
	commonAny  = `reference metadata depth offset distance within isdataat urilen byte_test byte_jump byte_extract byte_math
	fast_pattern threshold detection_filter flowbits ttl tos id ipopts fragbits fragoffset dsize flags seq ack window
	itype icode icmp_id icmp_seq rpc ip_proto stream_size tag asn1 base64_decode dce_iface dce_opnum ssl_version
	ssl_state replace http_encode`
	snortBuffers = `http_client_body http_cookie http_raw_cookie http_header http_raw_header http_method http_uri
	http_raw_uri http_stat_code http_stat_msg`
)

var suricata = dialect{
	lang:       "suricata",
	name:       "Suricata",
	actions:    set("alert", "pass", "drop", "reject", "rejectsrc", "rejectdst", "rejectboth", "config", "accept"),
	directions: []string{"->", "<>", "=>"},
	protocols: set("ip", "ipv4", "ipv6", "tcp", "udp", "icmp", "icmpv4", "icmpv6", "sctp", "pkthdr", "tcp-pkt", "tcp-stream",
		"http", "http1", "http2", "ftp", "ftp-data", "tls", "ssl", "smb", "dns", "dcerpc", "ssh", "smtp", "imap", "pop3",
		"modbus", "dnp3", "enip", "cip", "nfs", "ike", "ikev2", "krb5", "ntp", "dhcp", "rfb", "rdp", "snmp", "tftp", "sip",
		"mqtt", "pgsql", "telnet", "websocket", "quic", "ldap", "doh2", "bittorrent-dht", "mdns", "template", "arp",
		"ethernet", "irc", "nfs3", "dnp3-tcp"),
	keywords: func() map[string]kwKind {
		m := map[string]kwKind{
			"msg": kwQuoted, "sid": kwUint, "rev": kwUint, "gid": kwUint, "priority": kwPriority, "classtype": kwWord,
			"content": kwContent, "uricontent": kwContent, "pcre": kwPCRE, "flow": kwFlow, "dataset": kwDataset,
			"filemd5": kwHash, "filesha1": kwHash, "filesha256": kwHash, "target": kwWord,
		}
		kinds(kwNone, commonNone+` startswith endswith prefilter bypass nopcap`, m)
		kinds(kwBuffer, snortBuffers+` http_request_line http_response_line http_user_agent http_host http_raw_host
			http_accept http_accept_enc http_accept_lang http_connection http_content_len http_content_type http_protocol
			http_referer http_start http_header_names http_server_body http_response_body dns_query tls_sni tls_cert_issuer
			tls_cert_subject tls_cert_serial tls_cert_fingerprint ja3_hash ja3_string ja3s_hash ja3s_string file_name
			filename_data`, m)
		kinds(kwAny, commonAny+` flowint xbits hostbits datarep iprep bsize dotprefix to_md5 to_sha1 to_sha256
			to_lowercase to_uppercase strip_whitespace compress_whitespace url_decode xor pcrexform header_lowercase
			strip_pseudo_headers from_base64 luajit lua app-layer-protocol app-layer-event app-layer-state decode-event
			stream-event engine-event tcp.mss tcp.flags tcp.hdr ipv4.hdr ipv6.hdr icmpv4.hdr icmpv6.hdr udp.hdr
			flow.age flow.pkts flow.bytes flowvar pktvar filestore filemagic filename fileext filesize filestore
			file.name file.magic tls.version tls.subject tls.issuerdn tls.fingerprint tls.store tls.cert_expired
			tls.cert_valid ssh.proto ssh.softwareversion ssh.hassh ssh.hassh.server dns.opcode dns.rrtype dns.rcode
			http.response_line http.stat_code http.connection http2.frametype http2.errorcode http2.priority
			http2.window http2.settings http2.size_update iprep transforms requires config rule_id threshold
			entropy byte_test id icmpv6.mtu ipv6.flowlabel app-layer-state tcp.ack tcp.seq tcp.window tcp.wscale
			ttl geoip ja4.hash ja3.hash ja3.string ja3s.hash ja3s.string smb.ntlmssp_user smb.ntlmssp_domain smb.share
			smb.named_pipe smb.version krb5_msg_type krb5_err_code krb5.cname krb5.sname modbus dnp3_func dnp3_ind
			dnp3_obj dnp3_data enip_command cip_service mqtt.type mqtt.flags mqtt.qos mqtt.protocol_version
			mqtt.reason_code mqtt.connack.session_present mqtt.connect.flags ike.exchtype ike.chosen_sa_attribute
			ike.key_exchange_payload_length ike.nonce_payload_length rfb.secresult rfb.sectype snmp.version snmp.pdu_type
			sip.method sip.stat_code stream_size ftpdata_command tls_cert_notbefore tls_cert_notafter tls_cert_expired
			tls_cert_valid ssh_proto ssh_software ssh_softwareversion dns_opcode`, m)
		return m
	}(),
	stickyPrefixes: []string{"http.", "http2.", "dns.", "tls.", "ssh.", "smb.", "krb5.", "ja3.", "ja3s.", "ja4.", "file.",
		"ftp.", "smtp.", "sip.", "mqtt.", "rfb.", "snmp.", "ike.", "quic.", "dhcp.", "dcerpc.", "modbus.", "enip.",
		"cip.", "dnp3.", "nfs.", "tftp.", "email.", "ldap.", "websocket.", "pgsql.", "rdp.", "sdp.", "mdns.", "pop3.",
		"imap.", "frame.", "bittorrent_dht.", "x509.", "tcp.", "udp.", "ip.", "ipv4.", "ipv6.", "icmpv4.", "icmpv6.",
		"pkt.", "stream.", "flow.", "app-layer.", "base64.", "to_", "vlan.", "ether."},
}

var snort = dialect{
	lang:                  "snort",
	name:                  "Snort",
	lastSemicolonOptional: true,
	actions:               set("alert", "log", "pass", "activate", "dynamic", "drop", "reject", "sdrop"),
	directions:            []string{"->", "<>"},
	protocols:             set("ip", "tcp", "udp", "icmp"),
	keywords: func() map[string]kwKind {
		m := map[string]kwKind{
			"msg": kwQuoted, "sid": kwUint, "rev": kwUint, "gid": kwUint, "priority": kwPriority, "classtype": kwWord,
			"content": kwContent, "uricontent": kwContent, "protected_content": kwContent, "pcre": kwPCRE, "flow": kwFlow,
		}
		kinds(kwNone, commonNone, m)
		kinds(kwBuffer, snortBuffers, m)
		kinds(kwAny, commonAny+` cvs sip_method sip_stat_code sip_header sip_body gtp_type gtp_info gtp_version
			stream_reassemble logto session resp react activates activated_by count hash length sd_pattern
			byte_math modbus_func modbus_unit modbus_data dnp3_func dnp3_obj dnp3_ind dnp3_data ssl_state`, m)
		return m
	}(),
}
