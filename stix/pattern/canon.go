package pattern

import (
	"net/netip"
	"strings"
)

// Some values compare as the protocols they come from compare them, not
// byte for byte: the same address or name is written in several ways, and
// logs and feeds do not agree on one. The value property of these object
// types is compared in a canonical form, on both sides of every operator:
//
//   - ipv4-addr and ipv6-addr: an address or CIDR network as net/netip
//     prints it (RFC 5952 for IPv6: lower case, zeros compressed), so
//     ff02:0000:0000:0000:0000:0000:0001:0003 is ff02::1:3;
//   - domain-name: ASCII letters in lower case and without a final dot
//     (DNS names are case-insensitive, RFC 4343, and a trailing dot names
//     the same, fully qualified, name);
//   - url: the scheme and the host in lower case, the host without a final
//     dot and an IP literal host in canonical form; the rest as written.
//
// Text that does not parse as its type is compared as written.

// Canonical returns value, a value property of an object of type objType,
// in the form it compares in; for other types, value itself.
func Canonical(objType, value string) string {
	switch objType {
	case "ipv4-addr", "ipv6-addr":
		return canonicalIP(value)
	case "domain-name":
		return canonicalDomain(value)
	case "url":
		return canonicalURL(value)
	}
	return value
}

// canonTypes are the object types whose value property Canonical changes,
// one for each way of changing it.
var canonTypes = [...]string{"ipv4-addr", "domain-name", "url"}

func canonIndex(objType string) int {
	switch objType {
	case "ipv4-addr", "ipv6-addr":
		return 0
	case "domain-name":
		return 1
	case "url":
		return 2
	}
	return -1
}

func canonicalIP(s string) string {
	if strings.IndexByte(s, ':') < 0 {
		return s // IPv4 has one textual form; net/netip refuses the others
	}
	var buf [64]byte
	var b []byte
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return s
		}
		b = p.AppendTo(buf[:0])
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return s
		}
		b = a.AppendTo(buf[:0])
	}
	if string(b) == s {
		return s
	}
	return string(b)
}

func canonicalDomain(s string) string {
	// One final dot is the root; "a.." is not a name, and stays as it is.
	if n := len(s); n > 1 && s[n-1] == '.' && s[n-2] != '.' {
		s = s[:n-1]
	}
	return asciiLower(s)
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func canonicalURL(s string) string {
	i := strings.Index(s, "://")
	if i <= 0 || !isScheme(s[:i]) {
		return s
	}
	scheme := asciiLower(s[:i])
	rest := s[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo := ""
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		userinfo, authority = authority[:at+1], authority[at+1:]
	}
	host, port := authority, ""
	var orig string
	if strings.HasPrefix(host, "[") {
		if close := strings.IndexByte(host, ']'); close > 0 {
			host, port = host[:close+1], host[close+1:]
			orig = host
			if ip := canonicalIP(host[1 : len(host)-1]); ip != host[1:len(host)-1] {
				host = "[" + ip + "]"
			}
		}
	} else {
		if colon := strings.LastIndexByte(host, ':'); colon >= 0 {
			host, port = host[:colon], host[colon:]
		}
		orig = host
		host = canonicalDomain(host)
	}
	if scheme == s[:i] && host == orig {
		return s
	}
	return scheme + "://" + userinfo + host + port + tail
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}
