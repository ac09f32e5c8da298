package match

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Zeek reads Zeek logs, in Zeek's default tab-separated format or as JSON
// lines (LogAscii::use_json=T, or the JSON streaming writers). Zeek writes
// nested record fields with dotted names ("id.orig_h"), which is what this
// reader expects; timestamps may be epoch seconds or ISO 8601.
//
// The same field name means different things in different logs (sip.log's
// uri is no HTTP request; kerberos.log's service is a principal, not a
// protocol), so each record is mapped by its log type: the record's _path,
// else the header's #path, else Path, else what its fields show. The logs
// mapped are conn, dns, http, ssl, x509, files, smtp, notice, intel,
// known_services, known_hosts, known_certs, software, smb_files and
// dhcp; the others (sip, kerberos, ssh, weird, ...) yield their
// connection's addresses and ports only. A field of an unexpected JSON
// type is skipped.
//
// Used as an [InputFormat], Zeek reads the tab-separated header of each
// input, and takes Path from the file's name ("dns.log",
// "conn.00:00:00-01:00:00.log.gz").
type Zeek struct {
	// Path is the log type of records that name none; empty means that
	// their fields decide.
	Path string
}

// ForInput implements [InputFormat].
func (z Zeek) ForInput(name string, r *bufio.Reader) (Format, error) {
	if z.Path == "" {
		z.Path = zeekPathOf(name)
	}
	if start, _ := r.Peek(len("#separator")); string(start) != "#separator" {
		return z, nil
	}
	return readZeekHeader(r, z.Path)
}

// zeekPathOf returns the log type a file's name gives, if it is one this
// reader maps.
func zeekPathOf(name string) string {
	base, _, _ := strings.Cut(filepath.Base(name), ".")
	if _, ok := zeekRules[base]; ok {
		return base
	}
	return ""
}

// Parse implements [Format] for JSON lines.
func (z Zeek) Parse(line []byte, rec *Record) error {
	zl := zeekLine{b: line}
	s := scanner{b: line, buf: &rec.scratch}
	err := s.object(func(key []byte) error {
		if string(key) == "_path" {
			v, err := s.optStr()
			zl.path = v
			return err
		}
		f := zeekFieldOf(key)
		if f == zfNone {
			return s.skip()
		}
		start := s.i
		if s.at('"') {
			// Most values are plain strings: keep them without a second scan.
			raw, err := s.rawString()
			if err != nil {
				return err
			}
			if bytes.IndexByte(raw, '\\') < 0 {
				zl.at[f], zl.end[f] = int32(start)+2, int32(s.i)-1
				zl.plain |= 1 << f
				return nil
			}
		} else if err := s.skip(); err != nil {
			return err
		}
		zl.at[f], zl.end[f] = int32(start)+1, int32(s.i)
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.end(); err != nil {
		return err
	}
	zl.mapTo(rec, z.Path)
	return nil
}

// zeekLine holds where each field of interest sits in a line, for mapping
// once the log type is known.
type zeekLine struct {
	b     []byte
	tsv   *ZeekTSV // nil for JSON
	path  []byte   // the record's _path
	at    [numZeekFields]int32
	end   [numZeekFields]int32
	plain uint64 // by field: the value is a JSON string without escapes, at..end its content
}

func (zl *zeekLine) has(f zeekField) bool { return zl.at[f] != 0 }

// each calls fn for each value of field f: the string, each string of an
// array or set, or a number's text. Values of other types are skipped.
func (zl *zeekLine) each(rec *Record, f zeekField, fn func(v []byte)) {
	if zl.at[f] == 0 {
		return
	}
	raw := zl.b[zl.at[f]-1 : zl.end[f]]
	if zl.plain&(1<<f) != 0 {
		if len(raw) > 0 {
			fn(raw)
		}
		return
	}
	if zl.tsv != nil {
		zl.tsv.each(rec, f, raw, fn)
		return
	}
	s := scanner{b: raw, buf: &rec.scratch}
	value := func() error {
		switch {
		case s.at('"'):
			v, _, err := s.str()
			if err == nil && len(v) > 0 {
				fn(v)
			}
			return err
		case s.i < len(s.b) && (s.b[s.i] == '-' || '0' <= s.b[s.i] && s.b[s.i] <= '9'):
			v, err := s.number()
			if err == nil {
				fn(v)
			}
			return err
		}
		return s.skip()
	}
	if s.at('[') {
		_ = s.array(value) // the line was checked when it was scanned
		return
	}
	_ = value()
}

// first returns the first value of f.
func (zl *zeekLine) first(rec *Record, f zeekField) []byte {
	var out []byte
	zl.each(rec, f, func(v []byte) {
		if out == nil {
			out = v
		}
	})
	return out
}

// mapTo adds the record's values to rec, by its log type.
func (zl *zeekLine) mapTo(rec *Record, path string) {
	var rules []zeekRule
	switch {
	case len(zl.path) > 0:
		rules = zeekRules[string(zl.path)]
		path = zeekPathName(zl.path)
	case path == "":
		path = zl.inferPath()
		fallthrough
	default:
		rules = zeekRules[path]
	}
	zl.each(rec, zfTS, func(v []byte) {
		if v[0] >= '0' && v[0] <= '9' && bytes.IndexByte(v, '-') < 0 {
			rec.Time = parseEpoch(v)
		} else {
			rec.setTime(v)
		}
	})
	for _, r := range zeekCommon {
		r.apply(zl, rec)
	}
	for _, r := range rules {
		r.apply(zl, rec)
	}
	switch path {
	case "http":
		addHTTP(rec, zl.first(rec, zfHost), zl.first(rec, zfURI))
	case "intel":
		zl.intel(rec)
	}
}

// zeekPathName returns the log types mapTo reads beyond their rules, and
// "" for the others, without allocating.
func zeekPathName(b []byte) string {
	switch string(b) {
	case "http":
		return "http"
	case "intel":
		return "intel"
	}
	return ""
}

// inferPath tells the log type of a record that does not name it from the
// fields it has.
func (zl *zeekLine) inferPath() string {
	switch {
	case zl.has(zfSeenIndicator):
		return "intel"
	case zl.has(zfCertificateSubject) || zl.has(zfCertificateSerial):
		return "x509"
	case zl.has(zfCallID), zl.has(zfRequestType) && zl.has(zfService):
		return "" // sip, kerberos: nothing beyond the connection
	case zl.has(zfTransDepth) || zl.has(zfURI) && zl.has(zfHost):
		return "http"
	case zl.has(zfQuery) && (zl.has(zfQtype) || zl.has(zfTransID)):
		return "dns"
	case zl.has(zfServerName) || zl.has(zfJA3) || zl.has(zfCertChainFps):
		return "ssl"
	case zl.has(zfFuid) && (zl.has(zfMD5) || zl.has(zfSHA1) || zl.has(zfSHA256) || zl.has(zfTotalBytes)):
		return "files"
	case zl.has(zfMailfrom) || zl.has(zfRcptto):
		return "smtp"
	case zl.has(zfNote):
		return "notice"
	case zl.has(zfPortNum):
		return "known_services"
	case zl.has(zfConnState):
		return "conn"
	}
	return ""
}

// intel reads intel.log's seen.indicator by its seen.indicator_type.
func (zl *zeekLine) intel(rec *Record) {
	v := zl.first(rec, zfSeenIndicator)
	if len(v) == 0 {
		return
	}
	switch string(zl.first(rec, zfSeenIndicatorType)) {
	case "Intel::ADDR":
		rec.addOnce(IPAddr, v)
	case "Intel::DOMAIN":
		rec.addOnce(DomainName, v)
	case "Intel::URL":
		// Zeek's intel URLs carry no scheme.
		if !bytes.Contains(v, []byte("://")) {
			v = rec.hold([]byte("http://"), v)
		}
		rec.addOnce(URL, v)
	case "Intel::EMAIL":
		rec.addOnce(EmailAddr, v)
	case "Intel::FILE_NAME":
		rec.addOnce(FileName, v)
	case "Intel::FILE_HASH":
		switch len(v) {
		case 32:
			rec.addOnce(FileMD5, lower(rec, v))
		case 40:
			rec.addOnce(FileSHA1, lower(rec, v))
		case 64:
			rec.addOnce(FileSHA256, lower(rec, v))
		}
	case "Intel::CERT_HASH":
		rec.addOnce(X509SHA1, lower(rec, v))
	}
}

// A zeekField is a Zeek field name some log maps.
type zeekField uint8

const (
	zfNone zeekField = iota
	zfTS
	zfOrigH
	zfOrigP
	zfRespH
	zfRespP
	zfProto
	zfService
	zfQuery
	zfAnswers
	zfQtype
	zfTransID
	zfHost
	zfURI
	zfMethod
	zfUserAgent
	zfTransDepth
	zfServerName
	zfJA3
	zfJA3S
	zfJA4
	zfSubject
	zfIssuer
	zfIssuerSubject
	zfSerial
	zfCertChainFps
	zfFingerprint
	zfCertificateSubject
	zfCertificateIssuer
	zfCertificateSerial
	zfSanDNS
	zfSanIP
	zfSanEmail
	zfFuid
	zfTxHosts
	zfRxHosts
	zfFilename
	zfName
	zfMD5
	zfSHA1
	zfSHA256
	zfTotalBytes
	zfMailfrom
	zfRcptto
	zfFrom
	zfTo
	zfCC
	zfNote
	zfSrc
	zfDst
	zfSeenIndicator
	zfSeenIndicatorType
	zfPortNum
	zfPortProto
	zfConnState
	zfCallID
	zfRequestType
	zfAssignedAddr
	zfHostName
	numZeekFields // at most 64, the bits of zeekLine.plain
)

// zeekFieldNames spells each field as Zeek does.
var zeekFieldNames = [numZeekFields]string{
	zfTS: "ts", zfOrigH: "id.orig_h", zfOrigP: "id.orig_p", zfRespH: "id.resp_h", zfRespP: "id.resp_p",
	zfProto: "proto", zfService: "service", zfQuery: "query", zfAnswers: "answers", zfQtype: "qtype",
	zfTransID: "trans_id", zfHost: "host", zfURI: "uri", zfMethod: "method", zfUserAgent: "user_agent",
	zfTransDepth: "trans_depth", zfServerName: "server_name", zfJA3: "ja3", zfJA3S: "ja3s", zfJA4: "ja4",
	zfSubject: "subject", zfIssuer: "issuer", zfIssuerSubject: "issuer_subject", zfSerial: "serial",
	zfCertChainFps: "cert_chain_fps", zfFingerprint: "fingerprint",
	zfCertificateSubject: "certificate.subject", zfCertificateIssuer: "certificate.issuer",
	zfCertificateSerial: "certificate.serial", zfSanDNS: "san.dns", zfSanIP: "san.ip", zfSanEmail: "san.email",
	zfFuid: "fuid", zfTxHosts: "tx_hosts", zfRxHosts: "rx_hosts", zfFilename: "filename", zfName: "name",
	zfMD5: "md5", zfSHA1: "sha1", zfSHA256: "sha256", zfTotalBytes: "total_bytes",
	zfMailfrom: "mailfrom", zfRcptto: "rcptto", zfFrom: "from", zfTo: "to", zfCC: "cc",
	zfNote: "note", zfSrc: "src", zfDst: "dst", zfSeenIndicator: "seen.indicator",
	zfSeenIndicatorType: "seen.indicator_type", zfPortNum: "port_num", zfPortProto: "port_proto",
	zfConnState: "conn_state", zfCallID: "call_id", zfRequestType: "request_type",
	zfAssignedAddr: "assigned_addr", zfHostName: "host_name",
}

// zeekFieldOf returns the field of a name. A switch, which the compiler
// turns into a search by length and bytes, costs a fraction of a map
// lookup, and every member of every line goes through it.
func zeekFieldOf(name []byte) zeekField {
	switch string(name) {
	case "ts":
		return zfTS
	case "id.orig_h":
		return zfOrigH
	case "id.orig_p":
		return zfOrigP
	case "id.resp_h":
		return zfRespH
	case "id.resp_p":
		return zfRespP
	case "proto":
		return zfProto
	case "service":
		return zfService
	case "query":
		return zfQuery
	case "answers":
		return zfAnswers
	case "qtype":
		return zfQtype
	case "trans_id":
		return zfTransID
	case "host":
		return zfHost
	case "uri":
		return zfURI
	case "method":
		return zfMethod
	case "user_agent":
		return zfUserAgent
	case "trans_depth":
		return zfTransDepth
	case "server_name":
		return zfServerName
	case "ja3":
		return zfJA3
	case "ja3s":
		return zfJA3S
	case "ja4":
		return zfJA4
	case "subject":
		return zfSubject
	case "issuer":
		return zfIssuer
	case "issuer_subject":
		return zfIssuerSubject
	case "serial":
		return zfSerial
	case "cert_chain_fps":
		return zfCertChainFps
	case "fingerprint":
		return zfFingerprint
	case "certificate.subject":
		return zfCertificateSubject
	case "certificate.issuer":
		return zfCertificateIssuer
	case "certificate.serial":
		return zfCertificateSerial
	case "san.dns":
		return zfSanDNS
	case "san.ip":
		return zfSanIP
	case "san.email":
		return zfSanEmail
	case "fuid":
		return zfFuid
	case "tx_hosts":
		return zfTxHosts
	case "rx_hosts":
		return zfRxHosts
	case "filename":
		return zfFilename
	case "name":
		return zfName
	case "md5":
		return zfMD5
	case "sha1":
		return zfSHA1
	case "sha256":
		return zfSHA256
	case "total_bytes":
		return zfTotalBytes
	case "mailfrom":
		return zfMailfrom
	case "rcptto":
		return zfRcptto
	case "from":
		return zfFrom
	case "to":
		return zfTo
	case "cc":
		return zfCC
	case "note":
		return zfNote
	case "src":
		return zfSrc
	case "dst":
		return zfDst
	case "seen.indicator":
		return zfSeenIndicator
	case "seen.indicator_type":
		return zfSeenIndicatorType
	case "port_num":
		return zfPortNum
	case "port_proto":
		return zfPortProto
	case "conn_state":
		return zfConnState
	case "call_id":
		return zfCallID
	case "request_type":
		return zfRequestType
	case "assigned_addr":
		return zfAssignedAddr
	case "host_name":
		return zfHostName
	}
	return zfNone
}

// How a zeekRule reads a field's values.
const (
	asString   = iota // each value as is
	asInt             // a count or port
	asProtos          // protocol names, also comma-separated ("ssl,http"), lower-cased
	asIP              // only values that are addresses
	asMailbox         // the address of "Name <a@b.example>"
	asBaseName        // the last element of a path
	asHex             // a lower-case hex digest
)

// A zeekRule maps one field of a log type to a property.
type zeekRule struct {
	f    zeekField
	prop Property
	how  int
}

func (r zeekRule) apply(zl *zeekLine, rec *Record) {
	zl.each(rec, r.f, func(v []byte) {
		switch r.how {
		case asInt:
			if v, ok := canonicalInt(v); ok && (!isPort(r.prop) || len(v) < 5 || len(v) == 5 && string(v) <= "65535") {
				rec.addOnce(r.prop, v)
			}
		case asProtos:
			for len(v) > 0 {
				part, rest, _ := bytes.Cut(v, []byte(","))
				if part = bytes.TrimSpace(part); len(part) > 0 && string(part) != "-" {
					rec.addOnce(r.prop, lower(rec, part))
				}
				v = rest
			}
		case asIP:
			if isIP(v) {
				rec.addOnce(r.prop, v)
			}
		case asMailbox:
			if v = mailboxAddr(v); len(v) > 0 {
				rec.addOnce(r.prop, v)
			}
		case asBaseName:
			if v = baseName(v); len(v) > 0 {
				rec.addOnce(r.prop, v)
			}
		case asHex:
			rec.addOnce(r.prop, lower(rec, v))
		default:
			rec.addOnce(r.prop, v)
		}
	})
}

// zeekCommon applies to every log: the connection.
var zeekCommon = []zeekRule{
	{zfOrigH, SrcIP, asIP}, {zfOrigP, SrcPort, asInt},
	{zfRespH, DstIP, asIP}, {zfRespP, DstPort, asInt},
}

// zeekRules maps each log type's fields; HTTP's host and uri, and intel's
// indicator, are read in mapTo.
var zeekRules = map[string][]zeekRule{
	"conn": {{zfProto, Protocol, asProtos}, {zfService, Protocol, asProtos}},
	"dns":  {{zfProto, Protocol, asProtos}, {zfQuery, DomainName, asString}, {zfAnswers, ResolvesTo, asIP}},
	"http": {{zfMethod, HTTPMethod, asString}, {zfUserAgent, UserAgent, asString}},
	"ssl": {
		{zfServerName, DomainName, asString}, {zfJA3, JA3, asHex}, {zfJA3S, JA3S, asHex}, {zfJA4, JA4, asString},
		{zfSubject, X509Subject, asString}, {zfIssuer, X509Issuer, asString},
		// Zeek fingerprints certificates with SHA-256 by default.
		{zfCertChainFps, X509SHA256, asHex},
	},
	"x509": {
		{zfFingerprint, X509SHA256, asHex}, {zfCertificateSubject, X509Subject, asString},
		{zfCertificateIssuer, X509Issuer, asString}, {zfCertificateSerial, X509Serial, asString},
		{zfSanDNS, DomainName, asString}, {zfSanIP, IPAddr, asIP}, {zfSanEmail, EmailAddr, asString},
	},
	"files": {
		{zfTxHosts, SrcIP, asIP}, {zfRxHosts, DstIP, asIP}, {zfFilename, FileName, asBaseName},
		{zfMD5, FileMD5, asHex}, {zfSHA1, FileSHA1, asHex}, {zfSHA256, FileSHA256, asHex}, {zfTotalBytes, FileSize, asInt},
	},
	"smtp": {
		{zfMailfrom, EmailFrom, asMailbox}, {zfRcptto, EmailTo, asMailbox},
		{zfFrom, EmailFrom, asMailbox}, {zfTo, EmailTo, asMailbox}, {zfCC, EmailTo, asMailbox},
		{zfSubject, EmailSubject, asString},
	},
	"notice":         {{zfProto, Protocol, asProtos}, {zfSrc, SrcIP, asIP}, {zfDst, DstIP, asIP}},
	"intel":          nil,
	"known_services": {{zfHost, IPAddr, asIP}, {zfPortProto, Protocol, asProtos}, {zfService, Protocol, asProtos}},
	"known_hosts":    {{zfHost, IPAddr, asIP}},
	"known_certs": {
		{zfHost, IPAddr, asIP}, {zfSubject, X509Subject, asString},
		{zfIssuerSubject, X509Issuer, asString}, {zfSerial, X509Serial, asString},
	},
	"software":  {{zfHost, IPAddr, asIP}},
	"smb_files": {{zfName, FileName, asBaseName}},
	"dhcp":      {{zfAssignedAddr, IPAddr, asIP}},
}

// mailboxAddr returns the bare address of "<a@b.example>" or
// "Name <a@b.example>".
func mailboxAddr(v []byte) []byte {
	if i := bytes.LastIndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := bytes.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	}
	return bytes.TrimSpace(v)
}

// ZeekTSV reads Zeek's default tab-separated logs, whose header
// (#separator, #set_separator, #empty_field, #unset_field, #path, #fields,
// #types) says how to split each line. Build it with [Zeek.ForInput].
type ZeekTSV struct {
	path      string
	sep       []byte
	setSep    []byte
	empty     []byte
	unset     []byte
	fields    []byte // the #fields line, to recognize a repeated header
	columns   []zeekField
	container []bool // by field: a set or vector
}

// ErrZeekHeader is the error of a tab-separated Zeek log whose header is
// incomplete or malformed.
var ErrZeekHeader = errors.New("malformed Zeek log header; a tab-separated Zeek log starts with #separator and names its columns in #fields")

// readZeekHeader reads the header lines at the start of r without
// consuming them: they go on to Parse, which passes over them, so that
// line numbers stay those of the file.
func readZeekHeader(r *bufio.Reader, path string) (*ZeekTSV, error) {
	t := &ZeekTSV{path: path, sep: []byte{'\t'}, setSep: []byte{','}, empty: []byte("(empty)"), unset: []byte("-")}
	var types [][]byte
	b, err := peekHeader(r)
	if err != nil {
		return nil, err
	}
	for n := 1; len(b) > 0 && b[0] == '#'; n++ {
		line, rest, _ := bytes.Cut(b, []byte("\n"))
		b = rest
		line = bytes.TrimRight(line, "\r")
		if v, ok := bytes.CutPrefix(line, []byte("#separator ")); ok {
			if t.sep = zeekUnescape(nil, v); len(t.sep) == 0 {
				return nil, fmt.Errorf("header line %d: %w: empty #separator", n, ErrZeekHeader)
			}
			continue
		}
		name, value, _ := bytes.Cut(line, t.sep)
		switch string(name) {
		case "#set_separator":
			t.setSep = zeekUnescape(nil, value)
		case "#empty_field":
			t.empty = zeekUnescape(nil, value)
		case "#unset_field":
			t.unset = zeekUnescape(nil, value)
		case "#path":
			if p := string(zeekUnescape(nil, value)); p != "" {
				t.path = p
			}
		case "#fields":
			t.fields = bytes.Clone(line)
			for f := range bytes.SplitSeq(value, t.sep) {
				t.columns = append(t.columns, zeekFieldOf(f))
			}
		case "#types":
			types = bytes.Split(value, t.sep)
		}
	}
	if len(t.columns) == 0 || len(t.setSep) == 0 {
		return nil, ErrZeekHeader
	}
	t.container = make([]bool, numZeekFields)
	for i, typ := range types {
		if i < len(t.columns) && (bytes.HasPrefix(typ, []byte("set[")) || bytes.HasPrefix(typ, []byte("vector["))) {
			t.container[t.columns[i]] = true
		}
	}
	t.container[zfNone] = false
	return t, nil
}

// peekHeader returns the header lines at the start of r, without
// consuming them. It waits for no more input than it needs, so that a
// live stream's first records are not held back.
func peekHeader(r *bufio.Reader) ([]byte, error) {
	for n := 1; ; {
		b, err := r.Peek(n)
		end := 0
		for end < len(b) && b[end] == '#' {
			i := bytes.IndexByte(b[end:], '\n')
			if i < 0 {
				break
			}
			end += i + 1
		}
		switch {
		case end < len(b) && b[end] != '#':
			return b[:end], nil // the first record starts here
		case err != nil:
			return b, nil // the input ends within the header
		case n == r.Size():
			return nil, fmt.Errorf("%w: the header is longer than %d bytes", ErrZeekHeader, r.Size())
		}
		n = min(max(r.Buffered(), n+1), r.Size())
	}
}

// Parse implements [Format]. Comment lines (#close) are not records; a
// second header that names other columns is an error, since this reader
// keeps the first.
func (t *ZeekTSV) Parse(line []byte, rec *Record) error {
	if line[0] == '#' {
		if bytes.HasPrefix(line, []byte("#fields")) && !bytes.Equal(line, t.fields) {
			return errors.New("a header with other #fields starts here; give each log file on its own")
		}
		return errNotRecord
	}
	zl := zeekLine{b: line, tsv: t}
	col, start := 0, 0
	for {
		i := bytes.Index(line[start:], t.sep)
		end := len(line)
		if i >= 0 {
			end = start + i
		}
		if col >= len(t.columns) {
			return fmt.Errorf("more fields than the %d #fields names", len(t.columns))
		}
		if f := t.columns[col]; f != zfNone {
			zl.at[f], zl.end[f] = int32(start)+1, int32(end)
		}
		col++
		if i < 0 {
			break
		}
		start = end + len(t.sep)
	}
	if col != len(t.columns) {
		return fmt.Errorf("%d fields; #fields names %d", col, len(t.columns))
	}
	zl.mapTo(rec, t.path)
	return nil
}

// each calls fn for each value of a column: none when it is unset or
// empty, each element of a set or vector.
func (t *ZeekTSV) each(rec *Record, f zeekField, raw []byte, fn func(v []byte)) {
	if len(raw) == 0 || bytes.Equal(raw, t.unset) || bytes.Equal(raw, t.empty) {
		return
	}
	one := func(v []byte) {
		if bytes.IndexByte(v, '\\') >= 0 {
			start := len(rec.scratch)
			rec.scratch = zeekUnescape(rec.scratch, v)
			v = rec.scratch[start:len(rec.scratch):len(rec.scratch)]
		}
		if len(v) > 0 {
			fn(v)
		}
	}
	if !t.container[f] {
		one(raw)
		return
	}
	for {
		v, rest, more := bytes.Cut(raw, t.setSep)
		one(v)
		if !more {
			return
		}
		raw = rest
	}
}

// zeekUnescape appends b to dst with Zeek's \xHH escapes decoded.
func zeekUnescape(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) && b[i+1] == 'x' && isHex(b[i+2]) && isHex(b[i+3]) {
			dst = append(dst, unhexByte(b[i+2])<<4|unhexByte(b[i+3]))
			i += 3
			continue
		}
		dst = append(dst, b[i])
	}
	return dst
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhexByte(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
