package pattern

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dlclark/regexp2/v2"
	"golang.org/x/text/unicode/norm"
)

// STIX says MATCHES takes a PCRE (section 9.6.1). Go's regexp is RE2,
// which runs in time linear in its input, so no expression can stall the
// evaluator; it runs every expression it accepts. The PCRE features RE2
// lacks (backreferences, lookahead and lookbehind, atomic groups,
// possessive quantifiers, \G, named backreferences, …) run on regexp2, a
// backtracking engine, in its RE2-compatible mode so that what both
// engines share (\w, $, classes) means the same on either, with a hard
// budget per match: an expression that exceeds it on a value does not
// match that value. The few constructs not run here (recursion and
// subroutine calls, conditionals, branch reset groups, backtracking verbs,
// callouts, \K, \X, \C) are refused by Parse, which names them.

// PCREBudget bounds the time one backtracking match may take. A match that
// runs out of it is false.
const PCREBudget = 50 * time.Millisecond

// pcreClock makes regexp2 check its budget often enough for PCREBudget to
// hold within a few milliseconds (its default is a tenth of a second).
var pcreClock sync.Once

// pcreExpr is what scanPCRE learns of an expression.
type pcreExpr struct {
	pcre        string // the first PCRE-only feature, "" when there is none
	unsupported string // a construct no engine here runs
	badEscape   string // an escape neither engine reads as PCRE does
	translated  string // the expression in regexp2's RE2-mode syntax
	relaxed     string // an RE2 expression matching at least what it matches
}

// horizontalSpace is PCRE's \h, without brackets.
const horizontalSpace = `\t \x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}`

// newlineSeq is PCRE's \R.
const newlineSeq = `(?:\r\n|[\n\v\f\r\x{85}\x{2028}\x{2029}])`

// anything stands in the relaxed expression for a backreference: any text.
const anything = `(?s:.*)`

// scanPCRE reads a PCRE, noting its PCRE-only features and writing the
// forms the two engines run. It does not validate: the engines do.
func scanPCRE(expr string) pcreExpr {
	var (
		out      pcreExpr
		tr, rel  strings.Builder
		groups   int    // capturing groups opened so far
		stack    []bool // per open group: is it dropped from the relaxed form
		dropping int    // open dropped groups
	)
	feature := func(name string) {
		if out.pcre == "" {
			out.pcre = name
		}
	}
	reject := func(name string) {
		if out.unsupported == "" {
			out.unsupported = name
		}
	}
	emit := func(t, r string) {
		tr.WriteString(t)
		if dropping == 0 {
			rel.WriteString(r)
		}
	}
	open := func(t, r string, drop bool) {
		emit(t, r)
		stack = append(stack, drop)
		if drop {
			dropping++
		}
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		rest := expr[i:]
		switch {
		case c == '\\' && i+1 < len(expr):
			n, t, r := escape(expr, i, groups, &out, feature, reject)
			emit(t, r)
			i += n
		case c == '[':
			n, t, r := class(expr, i, &out)
			emit(t, r)
			i += n
		case c == '(':
			switch {
			case strings.HasPrefix(rest, "(*"):
				reject("backtracking control verb (*…)")
				emit("(", "(")
				stack = append(stack, false)
				i++
			case strings.HasPrefix(rest, "(?#"):
				end := strings.IndexByte(rest, ')')
				if end < 0 {
					end = len(rest) - 1
				}
				feature("comment (?#…)")
				emit(rest[:end+1], "")
				i += end + 1
			case strings.HasPrefix(rest, "(?="), strings.HasPrefix(rest, "(?!"):
				// Lookaround only narrows what matches, so the relaxed
				// form leaves it out.
				feature("lookahead " + rest[:3] + "…)")
				open(rest[:3], "", true)
				i += 3
			case strings.HasPrefix(rest, "(?<="), strings.HasPrefix(rest, "(?<!"):
				feature("lookbehind " + rest[:4] + "…)")
				open(rest[:4], "", true)
				i += 4
			case strings.HasPrefix(rest, "(?>"):
				feature("atomic group (?>…)")
				open("(?>", "(?:", false)
				i += 3
			case strings.HasPrefix(rest, "(?|"):
				reject("branch reset group (?|…)")
				open("(?:", "(?:", false)
				i += 3
			case strings.HasPrefix(rest, "(?("):
				reject("conditional group (?(…)…)")
				open("(?:", "(?:", false)
				i += 3
			case strings.HasPrefix(rest, "(?C"):
				reject("callout (?C…)")
				open("(?:", "(?:", false)
				i += 3
			case strings.HasPrefix(rest, "(?R)"), recursionCall(rest):
				reject("recursion or subroutine call " + rest[:strings.IndexByte(rest, ')')+1])
				emit("(?:", "(?:")
				stack = append(stack, false)
				i += 2
			case strings.HasPrefix(rest, "(?&"), strings.HasPrefix(rest, "(?P>"):
				reject("named recursion or subroutine call (?&name)")
				emit("(?:", "(?:")
				stack = append(stack, false)
				i += 2
			case strings.HasPrefix(rest, "(?P="):
				end := strings.IndexByte(rest, ')')
				if end < 0 {
					emit(rest, rest)
					i = len(expr)
					continue
				}
				feature("named backreference (?P=name)")
				emit(`\k<`+rest[4:end]+`>`, anything)
				i += end + 1
			case strings.HasPrefix(rest, "(?P<"), strings.HasPrefix(rest, "(?<"), strings.HasPrefix(rest, "(?'"):
				groups++
				name, quote := 3, byte('>')
				if rest[2] == 'P' {
					name = 4
				} else if rest[2] == '\'' {
					quote = '\''
				}
				end := strings.IndexByte(rest[name:], quote)
				if end < 0 {
					open("(", "(", false)
					i++
					continue
				}
				n := rest[name : name+end]
				open("(?<"+n+">", "(?P<"+n+">", false)
				i += name + end + 1
			case strings.HasPrefix(rest, "(?"):
				// Flags, or a non-capturing group: both engines read these.
				open("(?", "(?", false)
				i += 2
			default:
				groups++
				open("(", "(", false)
				i++
			}
		case c == ')':
			if len(stack) > 0 {
				drop := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				emit(")", ")")
				if drop {
					dropping--
				}
			} else {
				emit(")", ")")
			}
			i++
		case c == '*' || c == '+' || c == '?':
			emit(string(c), string(c))
			i++
			if i < len(expr) && expr[i] == '+' {
				feature(fmt.Sprintf("possessive quantifier %c+", c))
				emit("+", "")
				i++
			}
		case c == '{':
			n := repetition(rest)
			if n == 0 {
				emit("{", "{")
				i++
				continue
			}
			emit(rest[:n], rest[:n])
			i += n
			if i < len(expr) && expr[i] == '+' {
				feature("possessive quantifier }+")
				emit("+", "")
				i++
			}
		default:
			emit(string(c), string(c))
			i++
		}
	}
	out.translated, out.relaxed = tr.String(), rel.String()
	return out
}

// recursionCall reports whether rest starts with (?N), (?+N) or (?-N).
func recursionCall(rest string) bool {
	if len(rest) < 4 || rest[1] != '?' {
		return false
	}
	j := 2
	if rest[j] == '+' || rest[j] == '-' {
		j++
	}
	k := j
	for k < len(rest) && isDigit(rest[k]) {
		k++
	}
	return k > j && k < len(rest) && rest[k] == ')'
}

// repetition returns the length of a {n}, {n,}, {n,m} or {,m} quantifier at
// the start of s, or 0.
func repetition(s string) int {
	j, digits := 1, 0
	for j < len(s) && isDigit(s[j]) {
		j, digits = j+1, digits+1
	}
	if j < len(s) && s[j] == ',' {
		j++
		for j < len(s) && isDigit(s[j]) {
			j, digits = j+1, digits+1
		}
	}
	if digits == 0 || j >= len(s) || s[j] != '}' {
		return 0
	}
	return j + 1
}

// escape reads the escape at expr[i] outside a class. It returns its
// length and its translated and relaxed forms.
func escape(expr string, i, groups int, out *pcreExpr, feature, reject func(string)) (int, string, string) {
	d := expr[i+1]
	rest := expr[i:]
	switch {
	case d == 'Q':
		end := strings.Index(expr[i+2:], `\E`)
		if end < 0 {
			return len(rest), rest + `\E`, rest + `\E`
		}
		return end + 4, rest[:end+4], rest[:end+4]
	case '1' <= d && d <= '9':
		j := i + 1
		for j < len(expr) && isDigit(expr[j]) {
			j++
		}
		feature(`backreference \` + expr[i+1:j])
		return j - i, `(?:` + expr[i:j] + `)`, anything
	case d == 'g':
		n, ref := backrefG(rest, groups)
		switch {
		case n == 0:
			reject(`subroutine call \g<…>`)
			return 2, "", ""
		case ref == "":
			out.badEscape = `\g`
			return 2, "", ""
		}
		feature(`backreference \g`)
		return n, ref, anything
	case d == 'k':
		if len(rest) > 3 && (rest[2] == '<' || rest[2] == '\'' || rest[2] == '{') {
			close := map[byte]byte{'<': '>', '\'': '\'', '{': '}'}[rest[2]]
			if end := strings.IndexByte(rest[3:], close); end >= 0 {
				feature(`named backreference \k<name>`)
				return end + 4, `\k<` + rest[3:3+end] + `>`, anything
			}
		}
		out.badEscape = `\k`
		return 2, "", ""
	case d == 'G':
		feature(`anchor \G`)
		return 2, `\G`, ""
	case d == 'Z':
		feature(`anchor \Z`)
		return 2, `(?=\n?\z)`, ""
	case d == 'R':
		feature(`newline sequence \R`)
		return 2, newlineSeq, newlineSeq
	case d == 'h':
		feature(`horizontal space \h`)
		return 2, "[" + horizontalSpace + "]", "[" + horizontalSpace + "]"
	case d == 'H':
		feature(`non-horizontal space \H`)
		return 2, "[^" + horizontalSpace + "]", "[^" + horizontalSpace + "]"
	case d == 'N' && !strings.HasPrefix(rest, `\N{`):
		feature(`non-newline \N`)
		return 2, `[^\n]`, `[^\n]`
	case d == 'K':
		reject(`match reset \K`)
	case d == 'X':
		reject(`extended grapheme cluster \X`)
	case d == 'C':
		reject(`single code unit \C`)
	case d == 'o' && strings.HasPrefix(rest, `\o{`):
		if end := strings.IndexByte(rest, '}'); end > 3 {
			if v, err := strconv.ParseUint(rest[3:end], 8, 21); err == nil {
				feature(`octal \o{…}`)
				x := fmt.Sprintf(`\x{%x}`, v)
				return end + 1, x, x
			}
		}
		out.badEscape = `\o`
	case strings.IndexByte("aefnrtvdDsSwWbBAzpPxc0", d) >= 0:
		// Read alike by PCRE, RE2 and regexp2 (those RE2 lacks, such as
		// \e, leave the relaxed form unparsable, which only costs the
		// prefilter).
		if d == 'c' && i+2 < len(expr) {
			return 3, rest[:3], rest[:3]
		}
		return 2, rest[:2], rest[:2]
	case 'a' <= d && d <= 'z' || 'A' <= d && d <= 'Z':
		if out.badEscape == "" {
			out.badEscape = `\` + string(d)
		}
	default:
		return 2, rest[:2], rest[:2]
	}
	return 2, rest[:2], rest[:2]
}

// backrefG reads a \g backreference: \gN, \g{N}, \g{-N}, \g-N or
// \g{name}. n is 0 for a subroutine call (\g<…>, \g'…'), and ref is "" for
// anything unreadable.
func backrefG(s string, groups int) (n int, ref string) {
	if len(s) < 3 {
		return 2, ""
	}
	if s[2] == '<' || s[2] == '\'' {
		return 0, ""
	}
	body, n := "", 0
	if s[2] == '{' {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return 2, ""
		}
		body, n = s[3:end], end+1
	} else {
		j := 2
		if s[j] == '-' || s[j] == '+' {
			j++
		}
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		body, n = s[2:j], j
	}
	if v, err := strconv.Atoi(body); err == nil {
		if v < 0 {
			v += groups + 1 // \g{-1} is the last group opened
		}
		if v <= 0 {
			return 2, ""
		}
		return n, `(?:\` + strconv.Itoa(v) + `)`
	}
	if body == "" {
		return 2, ""
	}
	return n, `\k<` + body + `>`
}

// class reads the character class at expr[i], returning its length and
// its translated and relaxed forms.
func class(expr string, i int, out *pcreExpr) (int, string, string) {
	var b strings.Builder
	j := i + 1
	b.WriteByte('[')
	if j < len(expr) && expr[j] == '^' {
		b.WriteByte('^')
		j++
	}
	if j < len(expr) && expr[j] == ']' { // a ']' first is a member
		b.WriteByte(']')
		j++
	}
	for j < len(expr) {
		c := expr[j]
		switch {
		case c == ']':
			b.WriteByte(']')
			s := b.String()
			return j + 1 - i, s, s
		case c == '[' && j+1 < len(expr) && expr[j+1] == ':':
			if end := strings.Index(expr[j:], ":]"); end >= 0 {
				b.WriteString(expr[j : j+end+2])
				j += end + 2
				continue
			}
			b.WriteByte(c)
			j++
		case c == '\\' && j+1 < len(expr):
			d := expr[j+1]
			switch {
			case d == 'Q':
				end := strings.Index(expr[j+2:], `\E`)
				if end < 0 {
					b.WriteString(expr[j:])
					j = len(expr)
					continue
				}
				b.WriteString(expr[j : j+2+end+2])
				j += 2 + end + 2
				continue
			case d == 'h':
				b.WriteString(horizontalSpace)
			case 'a' <= d && d <= 'z' || 'A' <= d && d <= 'Z':
				if strings.IndexByte("aefnrtvdDsSwWpPxc", d) < 0 && out.badEscape == "" {
					out.badEscape = `\` + string(d)
				}
				b.WriteString(expr[j : j+2])
			default:
				b.WriteString(expr[j : j+2])
			}
			j += 2
		default:
			b.WriteByte(c)
			j++
		}
	}
	s := b.String()
	return len(expr) - i, s, s // unterminated: the engines say so
}

// A pcreRegexp is a MATCHES expression that needs the backtracking engine.
type pcreRegexp struct {
	re *regexp2.Regexp
	// prefilter is an RE2 expression that matches every text re matches,
	// or "" (see Comparison.Prefilter).
	prefilter string
}

// MatchString runs the expression within PCREBudget; running out, or out
// of backtracking stack, is no match.
func (p *pcreRegexp) MatchString(s string) bool {
	start := time.Now()
	for {
		ok, err := p.re.MatchString(s)
		if err == nil {
			return ok
		}
		// regexp2 reads a clock that a goroutine advances in the
		// background; when that goroutine lags, as on a loaded machine,
		// a match can be stopped before its budget is spent. Only a match
		// that really used up the budget is given up.
		if errors.Is(err, regexp2.ErrBacktrackingStackLimit) || time.Since(start) >= PCREBudget {
			return false
		}
	}
}

// compileMatches compiles a MATCHES operand: a search (unanchored) in DOTALL
// mode, on NFC-normalized text. It returns an RE2 expression when RE2 runs
// it, and otherwise a backtracking one.
func compileMatches(expr string) (*regexp.Regexp, *pcreRegexp, error) {
	sc := scanPCRE(expr)
	if sc.unsupported != "" {
		return nil, nil, fmt.Errorf("regular expression %q uses the PCRE %s, which is not supported here: rewrite it without that feature", expr, sc.unsupported)
	}
	var reErr error
	if sc.pcre == "" {
		re, err := regexp.Compile("(?s)" + norm.NFC.String(expr))
		if err == nil {
			return re, nil, nil
		}
		reErr = fmt.Errorf("regular expression %q does not compile: %v", expr, unwrapSyntax(err))
	}
	if sc.badEscape != "" {
		if reErr != nil {
			return nil, nil, reErr
		}
		return nil, nil, fmt.Errorf("regular expression %q uses the escape %s, which is not PCRE or not supported here", expr, sc.badEscape)
	}
	pcreClock.Do(func() { regexp2.SetTimeoutCheckPeriod(5 * time.Millisecond) })
	re, err := regexp2.Compile(norm.NFC.String(sc.translated), regexp2.RE2|regexp2.Singleline, regexp2.OptionMaintainCaptureOrder())
	if err != nil {
		if reErr != nil {
			return nil, nil, reErr
		}
		return nil, nil, fmt.Errorf("regular expression %q does not compile: %v", expr, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	re.MatchTimeout = PCREBudget
	p := &pcreRegexp{re: re}
	relaxed := "(?s)" + norm.NFC.String(sc.relaxed)
	if _, err := syntax.Parse(relaxed, syntax.Perl); err == nil {
		p.prefilter = relaxed
	}
	return nil, p, nil
}
