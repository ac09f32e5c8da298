package pattern

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// STIX says MATCHES takes a PCRE. Go's regexp is RE2, which runs in time
// linear in its input, so no pattern can stall the evaluator; the price is
// that a few PCRE features do not exist. Rather than letting such a pattern
// fail to compile with a cryptic message, or worse reinterpreting it, Parse
// names the feature.

// pcreOnly lists PCRE constructs RE2 cannot run, by the text that
// introduces them outside a character class.
var pcreOnly = []struct{ prefix, name string }{
	{"(?=", "lookahead (?=…)"},
	{"(?!", "negative lookahead (?!…)"},
	{"(?<=", "lookbehind (?<=…)"},
	{"(?<!", "negative lookbehind (?<!…)"},
	{"(?>", "atomic group (?>…)"},
	{"(?|", "branch reset group (?|…)"},
	{"(?#", "comment group (?#…)"},
	{"(?(", "conditional group (?(…)…)"},
	{"(?R)", "recursion (?R)"},
	{"(?&", "named recursion (?&name)"},
	{"(?P>", "named recursion (?P>name)"},
	{"(?P=", "named backreference (?P=name)"},
	{"(*", "backtracking verb (*…)"},
	{`\G`, `anchor \G`},
	{`\Z`, `anchor \Z (use \z)`},
	{`\K`, `match reset \K`},
	{`\R`, `newline sequence \R`},
	{`\X`, `extended grapheme \X`},
	{`\h`, `horizontal space \h`},
	{`\H`, `non-horizontal space \H`},
	{`\g`, `backreference \g`},
	{`\k`, `named backreference \k`},
}

// unsupportedPCRE returns the name of the first PCRE-only feature in expr,
// or "".
func unsupportedPCRE(expr string) string {
	inClass := false
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		rest := expr[i:]
		switch {
		case c == '\\' && i+1 < len(expr):
			d := expr[i+1]
			if !inClass {
				if d >= '1' && d <= '9' {
					return fmt.Sprintf(`backreference \%c`, d)
				}
				if d == 'Q' { // \Q…\E is literal text in both dialects
					end := strings.Index(expr[i+2:], `\E`)
					if end < 0 {
						return ""
					}
					i += 2 + end + 1
					continue
				}
				for _, f := range pcreOnly {
					if f.prefix[0] == '\\' && strings.HasPrefix(rest, f.prefix) {
						return f.name
					}
				}
			}
			i++ // the escaped character is never special
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			// A ']' right after '[' or '[^' is a literal member.
			if strings.HasPrefix(rest, "[^]") {
				i += 2
			} else if strings.HasPrefix(rest, "[]") {
				i++
			}
		case c == '(':
			for _, f := range pcreOnly {
				if f.prefix[0] == '(' && strings.HasPrefix(rest, f.prefix) {
					return f.name
				}
			}
			if len(rest) > 2 && rest[1] == '?' && (isDigit(rest[2]) || rest[2] == '+' || rest[2] == '-' && len(rest) > 3 && isDigit(rest[3])) {
				return "numbered recursion (?N)"
			}
		case c == '*' || c == '+' || c == '?' || c == '}':
			if i+1 < len(expr) && expr[i+1] == '+' {
				return fmt.Sprintf("possessive quantifier %c+", c)
			}
		}
	}
	return ""
}

// compileMatches compiles a MATCHES operand: a search (unanchored) in DOTALL
// mode, on NFC-normalized text.
func compileMatches(expr string) (*regexp.Regexp, error) {
	if f := unsupportedPCRE(expr); f != "" {
		return nil, fmt.Errorf("regular expression %q uses the PCRE %s, which has no RE2 equivalent: rewrite it without that feature", expr, f)
	}
	re, err := regexp.Compile("(?s)" + norm.NFC.String(expr))
	if err != nil {
		return nil, fmt.Errorf("regular expression %q does not compile: %v", expr, unwrapSyntax(err))
	}
	return re, nil
}

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
