package match

import (
	"strings"
	"time"
)

// A Property is one STIX cyber-observable property that a log reader can
// fill in. Each has a canonical object path in STIX patterning syntax; see
// [Property.Path].
type Property uint8

// The properties the readers know. Paths through a _ref or _refs property
// (SrcIP, EmailFrom, ...) also create the referenced object, so a value of
// SrcIP is visible both to [network-traffic:src_ref.value = ...] and to
// [ipv4-addr:value = ...].
const (
	PropInvalid      Property = iota
	SrcIP                     // network-traffic:src_ref.value
	DstIP                     // network-traffic:dst_ref.value
	SrcPort                   // network-traffic:src_port
	DstPort                   // network-traffic:dst_port
	Protocol                  // network-traffic:protocols[*]
	IPAddr                    // ipv4-addr:value or ipv6-addr:value, by the value's form
	DomainName                // domain-name:value
	ResolvesTo                // domain-name:resolves_to_refs[*].value
	URL                       // url:value
	HTTPMethod                // network-traffic:extensions.'http-request-ext'.request_method
	HTTPRequestValue          // network-traffic:extensions.'http-request-ext'.request_value
	HTTPHost                  // network-traffic:extensions.'http-request-ext'.request_header.'Host'
	UserAgent                 // network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'
	JA3                       // network-traffic:x_ja3 (custom property; STIX 2.1 has none)
	JA3S                      // network-traffic:x_ja3s
	JA4                       // network-traffic:x_ja4
	FileName                  // file:name
	FileSize                  // file:size
	FileMD5                   // file:hashes.'MD5'
	FileSHA1                  // file:hashes.'SHA-1'
	FileSHA256                // file:hashes.'SHA-256'
	FileSHA512                // file:hashes.'SHA-512'
	FileSHA3256               // file:hashes.'SHA3-256'
	FileSHA3512               // file:hashes.'SHA3-512'
	FileSSDEEP                // file:hashes.'SSDEEP'
	FileTLSH                  // file:hashes.'TLSH'
	EmailFrom                 // email-message:from_ref.value
	EmailTo                   // email-message:to_refs[*].value
	EmailSubject              // email-message:subject
	EmailAddr                 // email-addr:value
	X509SHA1                  // x509-certificate:hashes.'SHA-1'
	X509SHA256                // x509-certificate:hashes.'SHA-256'
	X509Subject               // x509-certificate:subject
	X509Issuer                // x509-certificate:issuer
	X509Serial                // x509-certificate:serial_number
	numProperties
)

// propInfo describes a Property. Its steps are the path after the type,
// split at the dots; a list index is written "[*]".
type propInfo struct {
	path    string // canonical pattern path, as users write it
	objType string // root object type
	steps   []string
	refType string // type of the referenced object for _ref(s) paths; "ip" picks v4 or v6
	integer bool   // the value is a JSON number, not a string
	list    bool   // the value is an element of a list property
}

// props describes every Property; the object type and steps are derived
// from the path.
var props = withSteps([numProperties]propInfo{
	SrcIP:            {path: "network-traffic:src_ref.value", refType: "ip"},
	DstIP:            {path: "network-traffic:dst_ref.value", refType: "ip"},
	SrcPort:          {path: "network-traffic:src_port", integer: true},
	DstPort:          {path: "network-traffic:dst_port", integer: true},
	Protocol:         {path: "network-traffic:protocols[*]", list: true},
	IPAddr:           {path: "ip:value"},
	DomainName:       {path: "domain-name:value"},
	ResolvesTo:       {path: "domain-name:resolves_to_refs[*].value", refType: "ip", list: true},
	URL:              {path: "url:value"},
	HTTPMethod:       {path: "network-traffic:extensions.'http-request-ext'.request_method"},
	HTTPRequestValue: {path: "network-traffic:extensions.'http-request-ext'.request_value"},
	HTTPHost:         {path: "network-traffic:extensions.'http-request-ext'.request_header.'Host'"},
	UserAgent:        {path: "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"},
	JA3:              {path: "network-traffic:x_ja3"},
	JA3S:             {path: "network-traffic:x_ja3s"},
	JA4:              {path: "network-traffic:x_ja4"},
	FileName:         {path: "file:name"},
	FileSize:         {path: "file:size", integer: true},
	FileMD5:          {path: "file:hashes.'MD5'"},
	FileSHA1:         {path: "file:hashes.'SHA-1'"},
	FileSHA256:       {path: "file:hashes.'SHA-256'"},
	FileSHA512:       {path: "file:hashes.'SHA-512'"},
	FileSHA3256:      {path: "file:hashes.'SHA3-256'"},
	FileSHA3512:      {path: "file:hashes.'SHA3-512'"},
	FileSSDEEP:       {path: "file:hashes.'SSDEEP'"},
	FileTLSH:         {path: "file:hashes.'TLSH'"},
	EmailFrom:        {path: "email-message:from_ref.value", refType: "email-addr"},
	EmailTo:          {path: "email-message:to_refs[*].value", refType: "email-addr", list: true},
	EmailSubject:     {path: "email-message:subject"},
	EmailAddr:        {path: "email-addr:value"},
	X509SHA1:         {path: "x509-certificate:hashes.'SHA-1'"},
	X509SHA256:       {path: "x509-certificate:hashes.'SHA-256'"},
	X509Subject:      {path: "x509-certificate:subject"},
	X509Issuer:       {path: "x509-certificate:issuer"},
	X509Serial:       {path: "x509-certificate:serial_number"},
})

func withSteps(t [numProperties]propInfo) [numProperties]propInfo {
	for p := Property(1); p < numProperties; p++ {
		info := &t[p]
		typ, rest, _ := strings.Cut(info.path, ":")
		info.objType = typ
		info.steps = splitPath(rest)
	}
	return t
}

// splitPath splits a canonical property path ("hashes.'SHA-256'",
// "to_refs[*].value") into steps; list indexes become "[*]".
func splitPath(s string) []string {
	var steps []string
	for s != "" {
		switch s[0] {
		case '.':
			s = s[1:]
		case '\'':
			end := strings.IndexByte(s[1:], '\'')
			steps = append(steps, s[1:1+end])
			s = s[2+end:]
		case '[':
			end := strings.IndexByte(s, ']')
			steps = append(steps, "[*]")
			s = s[end+1:]
		default:
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			steps = append(steps, s[:end])
			s = s[end:]
		}
	}
	return steps
}

// Path returns the property's object path in STIX patterning syntax. IPAddr
// answers "ip:value", standing for ipv4-addr:value or ipv6-addr:value.
func (p Property) Path() string {
	if p >= numProperties {
		return ""
	}
	return props[p].path
}

// String returns the property's path.
func (p Property) String() string { return p.Path() }

// PropertyByPath returns the property with the given canonical path
// ("domain-name:value", "file:hashes.'SHA-256'"), as [Property.Path] spells it.
func PropertyByPath(path string) (Property, bool) {
	for p := Property(1); p < numProperties; p++ {
		if props[p].path == path {
			return p, true
		}
	}
	return PropInvalid, false
}

// A Value is one observed property value. Data may point into the reader's
// line buffer: it is valid only until the reader's next record.
type Value struct {
	Prop Property
	Data []byte
}

// A Record is what a reader makes of one log line: the cyber-observable
// property values it holds and when they were observed.
type Record struct {
	Line   int64     // 1-based line number in the input
	Time   time.Time // observation time; zero when the line has none
	Values []Value

	scratch  []byte // backing store for unescaped and assembled values
	zoneless bool   // Time was written without an offset and read as UTC
}

// Add appends a value for p.
func (r *Record) Add(p Property, data []byte) {
	r.Values = append(r.Values, Value{Prop: p, Data: data})
}

// addOnce appends a value for p unless r holds it already.
func (r *Record) addOnce(p Property, data []byte) {
	for _, v := range r.Values {
		if v.Prop == p && string(v.Data) == string(data) {
			return
		}
	}
	r.Add(p, data)
}

// reset clears r for reuse, keeping its buffers.
func (r *Record) reset() {
	r.Line = 0
	r.Time = time.Time{}
	r.zoneless = false
	r.Values = r.Values[:0]
	r.scratch = r.scratch[:0]
}

// hold copies the concatenation of b into the record's scratch space and
// returns it. Earlier copies stay valid when scratch grows: growing
// allocates a new array, and the old one lives on while referenced.
func (r *Record) hold(b ...[]byte) []byte {
	start := len(r.scratch)
	for _, part := range b {
		r.scratch = append(r.scratch, part...)
	}
	return r.scratch[start:len(r.scratch):len(r.scratch)]
}

// Clone returns a deep copy of r that stays valid after the reader moves on.
func (r *Record) Clone() *Record {
	c := &Record{Line: r.Line, Time: r.Time, Values: make([]Value, len(r.Values))}
	n := 0
	for _, v := range r.Values {
		n += len(v.Data)
	}
	buf := make([]byte, 0, n)
	for i, v := range r.Values {
		start := len(buf)
		buf = append(buf, v.Data...)
		c.Values[i] = Value{Prop: v.Prop, Data: buf[start:len(buf):len(buf)]}
	}
	return c
}
