package stix

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// SCONamespace is the UUIDv5 namespace of deterministic SCO identifiers
// (STIX 2.1 §2.9).
var SCONamespace = uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7")

// ErrNotSCO is returned by SCOID for objects whose type is not one of the
// STIX 2.1 cyber-observable types, whose ID contributing properties the
// specification does not define; give such objects a UUIDv4.
var ErrNotSCO = errors.New("stix: not a STIX 2.1 cyber-observable type")

// SCOID returns the identifier that an SCO with the given properties should
// have (§2.9, §3.4): a UUIDv5 in SCONamespace over the RFC 8785 form of its
// ID contributing properties, or a new random UUIDv4 identifier when the
// type has none or none is present (process, for one, has none).
//
// Of a hashes property only one hash contributes: the first present of
// MD5, SHA-1, SHA-256 and SHA-512, else the least name in code-point order.
// §2.9 does not say which; this is the choice of the OASIS stix2 library,
// with which Errata 01 recomputed the ids of the specification's examples.
func SCOID(props map[string]any) (string, error) {
	id, deterministic, err := scoIDv5(props)
	if err != nil || deterministic {
		return id, err
	}
	u, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("stix: generating a UUIDv4: %w", err)
	}
	return props["type"].(string) + "--" + u.String(), nil
}

// scoIDv5 computes the deterministic identifier; deterministic is false when
// no ID contributing property is present.
func scoIDv5(props map[string]any) (id string, deterministic bool, err error) {
	typ, _ := props["type"].(string)
	contributing, ok := idContributing[typ]
	if !ok {
		return "", false, fmt.Errorf("%w: %q", ErrNotSCO, typ)
	}
	name := make(map[string]any, len(contributing))
	for _, p := range contributing {
		val, present := props[p]
		if !present {
			continue
		}
		if p == "hashes" {
			h, ok := val.(map[string]any)
			if !ok || len(h) == 0 {
				return "", false, fmt.Errorf("stix: %s hashes must be a non-empty dictionary", typ)
			}
			k := preferredHash(h)
			val = map[string]any{k: h[k]}
		}
		name[p] = val
	}
	if len(name) == 0 {
		return "", false, nil
	}
	raw, err := json.Marshal(name)
	if err != nil {
		return "", false, fmt.Errorf("stix: encoding the ID contributing properties: %w", err)
	}
	canon, err := Canonical(raw)
	if err != nil {
		return "", false, fmt.Errorf("stix: the ID contributing properties: %w", err)
	}
	return typ + "--" + uuid.NewSHA1(SCONamespace, canon).String(), true, nil
}

func preferredHash(h map[string]any) string {
	for _, k := range [...]string{"MD5", "SHA-1", "SHA-256", "SHA-512"} {
		if _, ok := h[k]; ok {
			return k
		}
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	return slices.Min(keys)
}

// idContributing lists the ID contributing properties of each SCO type
// (the "ID Contributing Properties" paragraph of each section of §6).
var idContributing = map[string][]string{
	"artifact":             {"hashes", "payload_bin"},
	"autonomous-system":    {"number"},
	"directory":            {"path"},
	"domain-name":          {"value"},
	"email-addr":           {"value"},
	"email-message":        {"from_ref", "subject", "body"},
	"file":                 {"hashes", "name", "extensions", "parent_directory_ref"},
	"ipv4-addr":            {"value"},
	"ipv6-addr":            {"value"},
	"mac-addr":             {"value"},
	"mutex":                {"name"},
	"network-traffic":      {"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"},
	"process":              nil,
	"software":             {"name", "cpe", "swid", "vendor", "version"},
	"url":                  {"value"},
	"user-account":         {"account_type", "user_id", "account_login"},
	"windows-registry-key": {"key", "values"},
	"x509-certificate":     {"hashes", "serial_number"},
}

// ValidID reports whether s is a STIX identifier: "<type>--<UUID>" with a
// valid type name and an RFC 4122 UUID (§2.9). It does not say whether the
// type is one STIX defines.
func ValidID(s string) bool {
	_, ok := splitIdentifier(s)
	return ok
}

// splitIdentifier splits "<type>--<UUID>" and reports whether s has that
// form (§2.9): a valid type name and an RFC 4122 UUID (versions 1 to 5,
// variant 10xx), in either letter case.
func splitIdentifier(s string) (typ string, ok bool) {
	const uuidLen = 36
	if len(s) < uuidLen+2+3 || s[len(s)-uuidLen-2:len(s)-uuidLen] != "--" {
		return "", false
	}
	typ, u := s[:len(s)-uuidLen-2], s[len(s)-uuidLen:]
	if !ValidTypeName(typ) || !isRFC4122(u) {
		return "", false
	}
	return typ, true
}

func isRFC4122(u string) bool {
	if len(u) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := u[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHexDigit(c) {
				return false
			}
		}
	}
	if u[14] < '1' || u[14] > '5' {
		return false
	}
	switch u[19] {
	case '8', '9', 'a', 'b', 'A', 'B':
		return true
	}
	return false
}

// ValidTypeName reports whether s is a valid STIX type name (§3.1, and the
// OASIS schema pattern ^([a-z][a-z0-9]*)+(-[a-z0-9]+)*\-?$): 3 to 250
// characters, lowercase letters, digits and single hyphens, starting with a
// letter.
func ValidTypeName(s string) bool {
	if len(s) < 3 || len(s) > 250 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-':
			if s[i-1] == '-' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// validPropertyName reports whether s is a valid property name (§3.1,
// §11.1): 3 to 250 characters of a-z, 0-9 and underscore.
func validPropertyName(s string) bool {
	if len(s) < 3 || len(s) > 250 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// validDictKey reports whether s is a valid dictionary key (§2.3) of at
// least min characters.
func validDictKey(s string, min int) bool {
	if len(s) < min || len(s) > 250 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validLangTag reports whether s is well-formed as an RFC 5646 language
// tag: subtags of 1 to 8 letters or digits separated by hyphens, the first
// all letters. It does not consult the IANA registry.
func validLangTag(s string) bool {
	if s == "" {
		return false
	}
	first := true
	for sub := range strings.SplitSeq(s, "-") {
		if len(sub) < 1 || len(sub) > 8 {
			return false
		}
		for i := 0; i < len(sub); i++ {
			c := sub[i]
			alpha := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
			digit := '0' <= c && c <= '9'
			if !alpha && (first || !digit) {
				return false
			}
		}
		first = false
	}
	return true
}

// hasMillis reports whether a valid timestamp has at least three
// fractional digits.
func hasMillis(s string) bool {
	const base = len("2006-01-02T15:04:05.")
	return len(s) >= base+4 && s[base-1] == '.'
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// isLowerHex reports whether s is a STIX hex value (§2.8).
func isLowerHex(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isPrefixedNumber(s, prefix string) bool {
	return len(s) > len(prefix) && s[:len(prefix)] == prefix && isDigits(s[len(prefix):])
}

// isCVE reports whether s is a CVE id, CVE-YYYY-NNNN with four or more
// digits in the sequence number.
func isCVE(s string) bool {
	const p = "CVE-"
	if len(s) < len("CVE-2000-0000") || s[:len(p)] != p || s[8] != '-' {
		return false
	}
	return isDigits(s[4:8]) && len(s[9:]) >= 4 && isDigits(s[9:])
}

func sortStrings(s []string) { slices.Sort(s) }
