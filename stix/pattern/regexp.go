package pattern

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// unwrapSyntax drops regexp's own "error parsing regexp: " prefix.
func unwrapSyntax(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// compileLike turns a LIKE operand into an anchored expression on
// NFC-normalized text: '%' matches any run of characters, '_' exactly one
// character, and everything else itself.
func compileLike(like string) *regexp.Regexp {
	like = norm.NFC.String(like)
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	lit := 0
	for i := 0; i < len(like); i++ {
		if like[i] != '%' && like[i] != '_' {
			continue
		}
		b.WriteString(regexp.QuoteMeta(like[lit:i]))
		if like[i] == '%' {
			b.WriteString(".*")
		} else {
			b.WriteString(".")
		}
		lit = i + 1
	}
	b.WriteString(regexp.QuoteMeta(like[lit:]))
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String()) // QuoteMeta output always compiles
}

// Normalize returns s in Unicode Normalization Form C, without allocating
// when s is already normalized (as nearly all indicator values are).
func Normalize(s string) string {
	if norm.NFC.IsNormalString(s) {
		return s
	}
	return norm.NFC.String(s)
}

// Latin1 maps each octet of b to the code point of the same value, which is
// how MATCHES reads binary values: the escape \xd4 in a STIX regular
// expression then matches the octet 0xd4, as the spec's example
// artifact:payload_bin MATCHES '\\xd4\\xc3\\xb2\\xa1' requires.
func Latin1(b []byte) string {
	buf := make([]byte, 0, len(b)*2)
	for _, c := range b {
		buf = utf8.AppendRune(buf, rune(c))
	}
	return string(buf)
}
