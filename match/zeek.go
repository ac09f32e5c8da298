package match

import "bytes"

// Zeek reads Zeek logs written as JSON lines (LogAscii::use_json=T, or the
// JSON streaming writers): conn, dns, http, ssl, files and x509. Zeek writes
// nested record fields with dotted names ("id.orig_h"), which is what this
// reader expects; timestamps may be epoch seconds or ISO 8601.
type Zeek struct{}

// Parse implements [Format].
func (Zeek) Parse(line []byte, rec *Record) error {
	s := scanner{b: line, buf: &rec.scratch}
	var host, uri []byte
	err := s.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "ts":
			if s.i < len(s.b) && s.b[s.i] == '"' {
				var v []byte
				if v, _, err = s.str(); err == nil {
					rec.setTime(v)
				}
				return err
			}
			var v []byte
			if v, err = s.number(); err == nil {
				rec.Time = parseEpoch(v)
			}
			return err
		case "id.orig_h", "tx_hosts":
			return s.stringList(rec, SrcIP)
		case "id.resp_h", "rx_hosts":
			return s.stringList(rec, DstIP)
		case "id.orig_p":
			return s.intProp(rec, SrcPort)
		case "id.resp_p":
			return s.intProp(rec, DstPort)
		case "proto", "service":
			return s.zeekProtocols(rec)
		case "query", "server_name":
			return s.stringProp(rec, DomainName)
		case "answers":
			return s.array(func() error {
				v, ok, err := s.str()
				if err == nil && ok && len(v) > 0 && isIP(v) {
					rec.Add(ResolvesTo, v)
				}
				return err
			})
		case "host":
			host, _, err = s.str()
		case "uri":
			uri, _, err = s.str()
		case "method":
			return s.stringProp(rec, HTTPMethod)
		case "user_agent":
			return s.stringProp(rec, UserAgent)
		case "ja3":
			return s.stringProp(rec, JA3)
		case "ja3s":
			return s.stringProp(rec, JA3S)
		case "ja4":
			return s.stringProp(rec, JA4)
		case "subject", "certificate.subject":
			return s.stringProp(rec, X509Subject)
		case "issuer", "certificate.issuer":
			return s.stringProp(rec, X509Issuer)
		case "certificate.serial":
			return s.stringProp(rec, X509Serial)
		case "fingerprint", "cert_chain_fps":
			// Zeek fingerprints certificates with SHA-256 by default.
			return s.stringList(rec, X509SHA256)
		case "san.dns":
			return s.stringList(rec, DomainName)
		case "san.ip":
			return s.stringList(rec, IPAddr)
		case "san.email":
			return s.stringList(rec, EmailAddr)
		case "filename", "md5", "sha1", "sha256":
			_, err := s.fileNameOrHash(rec, key)
			return err
		case "total_bytes":
			return s.intProp(rec, FileSize)
		default:
			return s.skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	addHTTP(rec, host, uri)
	return s.end()
}

// zeekProtocols reads conn.log's proto ("tcp") and service, which may list
// several protocols separated by commas ("ssl,http").
func (s *scanner) zeekProtocols(rec *Record) error {
	v, ok, err := s.str()
	if err != nil || !ok {
		return err
	}
	for part := range bytes.SplitSeq(v, []byte(",")) {
		if part = bytes.TrimSpace(part); len(part) > 0 {
			rec.Add(Protocol, lower(rec, part))
		}
	}
	return nil
}
