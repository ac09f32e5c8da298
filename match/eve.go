package match

import (
	"bytes"
	"errors"
)

// A Format turns one log line into a Record. Parse fills rec, which the
// caller has reset and numbered; an error means the line is malformed.
// Implementations are safe for concurrent use.
type Format interface {
	Parse(line []byte, rec *Record) error
}

// errNotRecord is what Parse returns for a line that is well-formed but
// holds no record, such as a header or comment line; a [Stream] neither
// counts nor reports it.
var errNotRecord = errors.New("not a record")

// EVE reads Suricata EVE JSON (one event per line). It maps the flow,
// alert, dns, http, tls, fileinfo and smtp events, and the email object that
// accompanies smtp, to cyber-observable properties; other event types yield
// only their addresses and ports.
type EVE struct{}

// Parse implements [Format].
func (EVE) Parse(line []byte, rec *Record) error {
	s := scanner{b: line, buf: &rec.scratch}
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "timestamp":
			v, ok, err := s.str()
			if err == nil && ok {
				rec.setTime(v)
			}
			return err
		case "src_ip":
			return s.stringProp(rec, SrcIP)
		case "dest_ip":
			return s.stringProp(rec, DstIP)
		case "src_port":
			return s.intProp(rec, SrcPort)
		case "dest_port":
			return s.intProp(rec, DstPort)
		case "proto", "app_proto":
			v, ok, err := s.str()
			if err == nil && ok && len(v) > 0 && !bytes.Equal(v, []byte("failed")) && !bytes.Equal(v, []byte("unknown")) {
				rec.Add(Protocol, lower(rec, v))
			}
			return err
		case "dns":
			return s.eveDNS(rec)
		case "http":
			return s.eveHTTP(rec)
		case "tls":
			return s.eveTLS(rec)
		case "fileinfo":
			return s.eveFile(rec)
		case "smtp":
			return s.eveSMTP(rec)
		case "email":
			return s.eveEmail(rec)
		}
		return s.skip()
	})
	if err != nil {
		return err
	}
	return s.end()
}

// stringProp records a string member as p. A value of another JSON type is
// skipped: real logs put odd types in familiar names, and the rest of the
// line is still worth reading.
func (s *scanner) stringProp(rec *Record, p Property) error {
	v, err := s.optStr()
	if err == nil && len(v) > 0 {
		rec.Add(p, v)
	}
	return err
}

// optStr reads a string, or skips a value of any other type and returns
// nil.
func (s *scanner) optStr() ([]byte, error) {
	if !s.at('"') {
		return nil, s.skip()
	}
	v, _, err := s.str()
	return v, err
}

// at reports whether the next value starts with c.
func (s *scanner) at(c byte) bool { return s.i < len(s.b) && s.b[s.i] == c }

// objects calls elem for each element of an array that is an object, and
// skips the others.
func (s *scanner) objects(elem func() error) error {
	if !s.at('[') {
		return s.skip()
	}
	return s.array(func() error {
		if !s.at('{') {
			return s.skip()
		}
		return elem()
	})
}

func (s *scanner) intProp(rec *Record, p Property) error {
	v, ok, err := s.integer()
	if err == nil && ok && (!isPort(p) || len(v) < 5 || len(v) == 5 && string(v) <= "65535") {
		rec.Add(p, v)
	}
	return err
}

// isPort reports whether p holds a TCP or UDP port, which STIX limits to
// 0–65535.
func isPort(p Property) bool { return p == SrcPort || p == DstPort }

// eveDNS reads every layout Suricata 5 to 8 writes a DNS transaction in,
// for dns events and the dns object of alerts alike:
//
//   - version 1 (one event per query or answer record): rrname, rrtype and
//     rdata at the top;
//   - version 2 answers: rrname at the top, the records in answers[] and
//     grouped{};
//   - version 3 (Suricata 8): queries[], answers[] and grouped{};
//   - alerts of Suricata 6 and 7: the queries in query[] and the response
//     in answer{}, itself a version 2 answer.
//
// Query and answer names are domain names; A and AAAA data are what a name
// resolves to, and CNAME data another name. A member of an unexpected JSON
// type is skipped.
func (s *scanner) eveDNS(rec *Record) error {
	if !s.at('{') {
		return s.skip()
	}
	var rrtype, rdata []byte
	err := s.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "rrname":
			return s.onceProp(rec, DomainName)
		case "rrtype":
			rrtype, err = s.optStr()
		case "rdata":
			rdata, err = s.optStr()
		case "query", "queries", "answers":
			if s.at('{') {
				return s.eveDNS(rec)
			}
			return s.objects(func() error { return s.eveDNS(rec) })
		case "answer":
			if s.at('[') {
				return s.objects(func() error { return s.eveDNS(rec) })
			}
			return s.eveDNS(rec)
		case "grouped":
			if !s.at('{') {
				return s.skip()
			}
			return s.object(func(key []byte) error {
				switch string(key) {
				case "A", "AAAA":
					return s.onceList(rec, ResolvesTo)
				case "CNAME":
					return s.onceList(rec, DomainName)
				}
				return s.skip()
			})
		default:
			return s.skip()
		}
		return err
	})
	if err != nil || len(rdata) == 0 {
		return err
	}
	switch string(rrtype) {
	case "A", "AAAA":
		rec.addOnce(ResolvesTo, rdata)
	case "CNAME":
		rec.addOnce(DomainName, rdata)
	}
	return nil
}

// onceProp is stringProp for values that a DNS record repeats (names in
// the query and the answers, data in answers and grouped).
func (s *scanner) onceProp(rec *Record, p Property) error {
	v, err := s.optStr()
	if err == nil && len(v) > 0 {
		rec.addOnce(p, v)
	}
	return err
}

// onceList records a string, or each string of an array, as p, once per
// record: DNS names and addresses repeat between answers and grouped.
func (s *scanner) onceList(rec *Record, p Property) error {
	if !s.at('[') {
		return s.onceProp(rec, p)
	}
	return s.array(func() error { return s.onceProp(rec, p) })
}

func (s *scanner) eveHTTP(rec *Record) error {
	var host, uri []byte
	err := s.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "hostname":
			host, _, err = s.str()
		case "url":
			uri, _, err = s.str()
		case "http_user_agent":
			err = s.stringProp(rec, UserAgent)
		case "http_method":
			err = s.stringProp(rec, HTTPMethod)
		default:
			err = s.skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	addHTTP(rec, host, uri)
	return nil
}

// addHTTP records an HTTP request's host and target, and the URL they make.
// Suricata and Zeek log the request target as sent, which is usually a path
// and sometimes (through proxies) an absolute URL.
func addHTTP(rec *Record, host, uri []byte) {
	if len(host) > 0 {
		rec.Add(HTTPHost, host)
		if !isIP(host) {
			rec.Add(DomainName, host)
		}
	}
	if len(uri) == 0 {
		return
	}
	rec.Add(HTTPRequestValue, uri)
	switch {
	case bytes.HasPrefix(uri, []byte("http://")) || bytes.HasPrefix(uri, []byte("https://")):
		rec.Add(URL, uri)
	case len(host) > 0 && uri[0] == '/':
		rec.Add(URL, rec.hold([]byte("http://"), host, uri))
	}
}

func (s *scanner) eveTLS(rec *Record) error {
	return s.object(func(key []byte) error {
		switch string(key) {
		case "sni":
			return s.stringProp(rec, DomainName)
		case "subject":
			return s.stringProp(rec, X509Subject)
		case "issuerdn":
			return s.stringProp(rec, X509Issuer)
		case "serial":
			return s.stringProp(rec, X509Serial)
		case "fingerprint":
			v, ok, err := s.str()
			if err == nil && ok && len(v) > 0 {
				rec.Add(X509SHA1, hexDigits(rec, v))
			}
			return err
		case "ja3":
			return s.hashObject(rec, JA3)
		case "ja3s":
			return s.hashObject(rec, JA3S)
		case "ja4":
			return s.stringProp(rec, JA4)
		}
		return s.skip()
	})
}

// hashObject reads Suricata's {"hash": ..., "string": ...} JA3 objects.
func (s *scanner) hashObject(rec *Record, p Property) error {
	if s.i < len(s.b) && s.b[s.i] != '{' {
		return s.skip()
	}
	return s.object(func(key []byte) error {
		if string(key) == "hash" {
			return s.stringProp(rec, p)
		}
		return s.skip()
	})
}

func (s *scanner) eveFile(rec *Record) error {
	return s.object(func(key []byte) error {
		if ok, err := s.fileNameOrHash(rec, key); ok {
			return err
		}
		if string(key) == "size" {
			return s.intProp(rec, FileSize)
		}
		return s.skip()
	})
}

func (s *scanner) eveSMTP(rec *Record) error {
	return s.object(func(key []byte) error {
		switch string(key) {
		case "mail_from":
			return s.mailbox(rec, EmailFrom)
		case "rcpt_to":
			return s.array(func() error { return s.mailbox(rec, EmailTo) })
		}
		return s.skip()
	})
}

func (s *scanner) eveEmail(rec *Record) error {
	return s.object(func(key []byte) error {
		switch string(key) {
		case "from":
			return s.mailbox(rec, EmailFrom)
		case "to", "cc":
			if s.i < len(s.b) && s.b[s.i] == '[' {
				return s.array(func() error { return s.mailbox(rec, EmailTo) })
			}
			return s.mailbox(rec, EmailTo)
		case "subject":
			return s.stringProp(rec, EmailSubject)
		case "attachment":
			if s.i < len(s.b) && s.b[s.i] == '[' {
				return s.array(func() error { return s.stringProp(rec, FileName) })
			}
		}
		return s.skip()
	})
}

// mailbox reads an address as SMTP and mail headers write it ("<a@b.example>",
// "Name <a@b.example>") and records the bare address.
func (s *scanner) mailbox(rec *Record, p Property) error {
	v, ok, err := s.str()
	if err != nil || !ok {
		return err
	}
	if i := bytes.LastIndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := bytes.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	}
	v = bytes.TrimSpace(v)
	if len(v) > 0 {
		rec.Add(p, v)
	}
	return nil
}

func baseName(path []byte) []byte {
	if i := bytes.LastIndexAny(path, `/\`); i >= 0 {
		return path[i+1:]
	}
	return path
}

// isIP reports whether a host name is an address literal. It errs towards
// "yes" for odd names, which are then not recorded as domain names.
func isIP(b []byte) bool {
	if bytes.IndexByte(b, ':') >= 0 || bytes.IndexByte(b, '[') >= 0 {
		return true
	}
	for _, c := range b {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// lower returns b in ASCII lower case, copying only when it must.
func lower(rec *Record, b []byte) []byte {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			out := rec.hold(b)
			for j := i; j < len(out); j++ {
				if c := out[j]; 'A' <= c && c <= 'Z' {
					out[j] = c + 'a' - 'A'
				}
			}
			return out
		}
	}
	return b
}

// hexDigits strips the colons of a printed fingerprint ("ab:cd:...") and
// lower-cases it, the form STIX hashes are written in.
func hexDigits(rec *Record, b []byte) []byte {
	if bytes.IndexByte(b, ':') < 0 {
		return lower(rec, b)
	}
	start := len(rec.scratch)
	for _, c := range b {
		if c == ':' {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		rec.scratch = append(rec.scratch, c)
	}
	return rec.scratch[start:len(rec.scratch):len(rec.scratch)]
}

// fileNameOrHash reads the file name and hash fields, which Suricata's
// fileinfo and Zeek's files log spell alike, and reports whether key was one
// of them.
func (s *scanner) fileNameOrHash(rec *Record, key []byte) (bool, error) {
	switch string(key) {
	case "filename":
		v, ok, err := s.str()
		if err == nil && ok {
			if name := baseName(v); len(name) > 0 {
				rec.Add(FileName, name)
			}
		}
		return true, err
	case "md5":
		return true, s.stringProp(rec, FileMD5)
	case "sha1":
		return true, s.stringProp(rec, FileSHA1)
	case "sha256":
		return true, s.stringProp(rec, FileSHA256)
	}
	return false, nil
}
