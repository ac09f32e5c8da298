package signature

import (
	"fmt"
	"maps"
	"math"
	"path"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// A YARARule is what ParseYARA reads of one YARA rule.
type YARARule struct {
	Name      string
	Modifiers []string // private, global
	Tags      []string
	Meta      map[string]string
	Strings   []string // the string identifiers, $ for anonymous ones
}

// YARA is a parsed YARA source: its imports and rules.
type YARA struct {
	Imports  []string
	Includes []string
	Rules    []*YARARule
}

// ParseYARA parses YARA rules and checks what the YARA compiler checks
// without its modules: unique rule names and string identifiers, escapes in
// text strings, hex strings, regular expressions and their modifiers, that
// conditions name only defined strings, earlier rules, imported modules,
// loop variables and built-in functions, and that every string is used.
func ParseYARA(src string) (*YARA, error) {
	if err := tooLarge("yara", src); err != nil {
		return nil, err
	}
	p := &yaraParser{lx: yaraLexer{src: src}, rules: map[string]bool{}, modules: map[string]bool{}}
	p.advance()
	out, err := p.file()
	if err != nil {
		return nil, err
	}
	return out, nil
}

type yTok uint8

const (
	yEOF    yTok = iota
	yIdent       // name or keyword
	yStrID       // $name, $name*, $
	yStrCnt      // #name
	yStrOff      // @name
	yStrLen      // !name
	yNum
	yFloat
	yText  // "..."
	yRegex // /.../flags
	yPunct // operators and punctuation
)

type token struct {
	kind yTok
	text string
	pos  int
}

type yaraLexer struct {
	src string
	pos int
}

type yaraError struct {
	pos int
	msg string
}

func (l *yaraLexer) skip() *yaraError {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case isSpace(c):
			l.pos++
		case strings.HasPrefix(l.src[l.pos:], "//"):
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
		case strings.HasPrefix(l.src[l.pos:], "/*"):
			end := strings.Index(l.src[l.pos+2:], "*/")
			if end < 0 {
				return &yaraError{l.pos, "the comment is not closed with */"}
			}
			l.pos += end + 4
		default:
			return nil
		}
	}
	return nil
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

var yaraPuncts = []string{"..", "==", "!=", "<=", ">=", "<<", ">>", "<", ">", "+", "-", "*", "\\", "%", "&", "|", "^",
	"~", "(", ")", "[", "]", "{", "}", ",", ":", "=", "."}

func (l *yaraLexer) next() (token, *yaraError) {
	if err := l.skip(); err != nil {
		return token{}, err
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: yEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	ident := func() string {
		for l.pos < len(l.src) && isIdentByte(l.src[l.pos]) {
			l.pos++
		}
		return l.src[start:l.pos]
	}
	switch {
	case c == '$' || c == '#' || c == '@' || c == '!' && l.pos+1 < len(l.src) && isIdentByte(l.src[l.pos+1]):
		l.pos++
		ident()
		if c == '$' && l.pos < len(l.src) && l.src[l.pos] == '*' {
			l.pos++
		}
		kind := map[byte]yTok{'$': yStrID, '#': yStrCnt, '@': yStrOff, '!': yStrLen}[c]
		return token{kind: kind, text: l.src[start:l.pos], pos: start}, nil
	case c >= '0' && c <= '9':
		return l.number()
	case isIdentByte(c):
		return token{kind: yIdent, text: ident(), pos: start}, nil
	case c == '"':
		return l.text()
	case c == '/':
		return l.regex()
	}
	for _, p := range yaraPuncts {
		if strings.HasPrefix(l.src[l.pos:], p) {
			l.pos += len(p)
			return token{kind: yPunct, text: p, pos: start}, nil
		}
	}
	return token{}, &yaraError{start, fmt.Sprintf("unexpected character %q", l.src[l.pos:l.pos+1])}
}

func (l *yaraLexer) number() (token, *yaraError) {
	start := l.pos
	s := l.src[l.pos:]
	var n int
	switch {
	case strings.HasPrefix(s, "0x"):
		n = 2
		for n < len(s) && isHexRune(rune(s[n])) {
			n++
		}
		if n == 2 {
			return token{}, &yaraError{start, "0x with no hex digits"}
		}
	case strings.HasPrefix(s, "0o"):
		n = 2
		for n < len(s) && s[n] >= '0' && s[n] <= '7' {
			n++
		}
		if n == 2 {
			return token{}, &yaraError{start, "0o with no octal digits"}
		}
	default:
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n+1 < len(s) && s[n] == '.' && s[n+1] >= '0' && s[n+1] <= '9' {
			n++
			for n < len(s) && s[n] >= '0' && s[n] <= '9' {
				n++
			}
			l.pos += n
			return token{kind: yFloat, text: s[:n], pos: start}, nil
		}
		if strings.HasPrefix(s[n:], "KB") || strings.HasPrefix(s[n:], "MB") {
			n += 2
		}
	}
	if n < len(s) && isIdentByte(s[n]) {
		return token{}, &yaraError{start + n, "a number runs into a name"}
	}
	if !yaraInt64(s[:n]) {
		return token{}, &yaraError{start, fmt.Sprintf("%s is beyond YARA's 64-bit signed integers", s[:n])}
	}
	l.pos += n
	return token{kind: yNum, text: s[:n], pos: start}, nil
}

// yaraInt64 reports whether a number token (decimal with an optional KB or
// MB, 0x hex or 0o octal) is a 64-bit signed integer, as YARA's lexer
// requires.
func yaraInt64(s string) bool {
	mul := int64(1)
	switch {
	case strings.HasPrefix(s, "0x"):
		_, err := strconv.ParseInt(s[2:], 16, 64)
		return err == nil
	case strings.HasPrefix(s, "0o"):
		_, err := strconv.ParseInt(s[2:], 8, 64)
		return err == nil
	case strings.HasSuffix(s, "KB"):
		s, mul = s[:len(s)-2], 1<<10
	case strings.HasSuffix(s, "MB"):
		s, mul = s[:len(s)-2], 1<<20
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n <= math.MaxInt64/mul
}

func (l *yaraLexer) text() (token, *yaraError) {
	start := l.pos
	for i := l.pos + 1; i < len(l.src); i++ {
		switch l.src[i] {
		case '\n':
			return token{}, &yaraError{start, "the string is not closed before the end of the line"}
		case '"':
			l.pos = i + 1
			return token{kind: yText, text: l.src[start:l.pos], pos: start}, nil
		case '\\':
			i++
			if i >= len(l.src) {
				break
			}
			switch l.src[i] {
			case '"', '\\', 't', 'n', 'r':
			case 'x':
				if i+2 >= len(l.src) || !isHexRune(rune(l.src[i+1])) || !isHexRune(rune(l.src[i+2])) {
					return token{}, &yaraError{i - 1, `\x needs two hex digits`}
				}
				i += 2
			default:
				return token{}, &yaraError{i - 1, fmt.Sprintf("unknown escape \\%c (YARA knows \\\" \\\\ \\t \\n \\r \\xHH)", l.src[i])}
			}
		}
	}
	return token{}, &yaraError{start, "the string is not closed"}
}

func (l *yaraLexer) regex() (token, *yaraError) {
	start := l.pos
	i := l.pos + 1
	for ; i < len(l.src); i++ {
		if l.src[i] == '\\' {
			i++
			continue
		}
		if l.src[i] == '\n' {
			return token{}, &yaraError{start, "the regular expression is not closed before the end of the line"}
		}
		if l.src[i] == '/' {
			break
		}
	}
	if i >= len(l.src) {
		return token{}, &yaraError{start, "the regular expression is not closed with /"}
	}
	body := l.src[start+1 : i]
	i++
	for i < len(l.src) && (l.src[i] == 'i' || l.src[i] == 's') {
		i++
	}
	if body == "" {
		return token{}, &yaraError{start, "empty regular expression"}
	}
	if _, err := syntax.Parse(body, syntax.Perl); err != nil {
		return token{}, &yaraError{start + 1, "not a valid regular expression: " + err.Error()}
	}
	l.pos = i
	return token{kind: yRegex, text: l.src[start:i], pos: start}, nil
}

type yaraParser struct {
	lx      yaraLexer
	tok     token
	err     *yaraError
	rules   map[string]bool
	modules map[string]bool

	// per rule
	strs    map[string]bool
	used    map[string]bool
	anyUsed bool
	vars    []string
	anon    int // depth of for … of bodies, where $ # @ ! stand alone
	depth   int
	// constZero reports that the last primary expression read was the
	// integer 0 (for YARA's division by zero check).
	constZero bool
}

func (p *yaraParser) advance() {
	if p.err != nil {
		return
	}
	t, err := p.lx.next()
	if err != nil {
		p.err = err
		t = token{kind: yEOF, pos: err.pos}
	}
	p.tok = t
}

func (p *yaraParser) failf(pos int, format string, args ...any) *yaraError {
	if p.err == nil {
		p.err = &yaraError{pos, fmt.Sprintf(format, args...)}
	}
	return p.err
}

func (p *yaraParser) is(text string) bool {
	return (p.tok.kind == yPunct || p.tok.kind == yIdent) && p.tok.text == text
}

func (p *yaraParser) expect(text string) bool {
	if p.err != nil {
		return false
	}
	if !p.is(text) {
		p.failf(p.tok.pos, "want %q, found %s", text, p.describe())
		return false
	}
	p.advance()
	return true
}

func (p *yaraParser) describe() string {
	if p.tok.kind == yEOF {
		return "the end of the rules"
	}
	return strconv.Quote(p.tok.text)
}

func (p *yaraParser) wrap(out *YARA) (*YARA, error) {
	if p.err != nil {
		return nil, errorAt("yara", p.lx.src, p.err.pos, "%s", p.err.msg)
	}
	return out, nil
}

func (p *yaraParser) file() (*YARA, error) {
	out := &YARA{}
	for p.err == nil && p.tok.kind != yEOF {
		switch {
		case p.is("import") || p.is("include"):
			kw := p.tok.text
			p.advance()
			if p.tok.kind != yText {
				p.failf(p.tok.pos, "%s needs a quoted name", kw)
				break
			}
			name := p.tok.text[1 : len(p.tok.text)-1]
			if kw == "import" && !yaraModules[name] {
				p.failf(p.tok.pos, "YARA has no module %q; its modules are %s", name, strings.Join(slices.Sorted(maps.Keys(yaraModules)), ", "))
				break
			}
			if kw == "import" {
				out.Imports = append(out.Imports, name)
				p.modules[name] = true
			} else {
				out.Includes = append(out.Includes, name)
			}
			p.advance()
		default:
			r := p.rule()
			if r != nil {
				out.Rules = append(out.Rules, r)
			}
		}
	}
	if p.err == nil && len(out.Rules) == 0 {
		p.failf(len(p.lx.src), "no rule: want rule NAME { … condition: … }")
	}
	return p.wrap(out)
}

// yaraModules are the modules YARA 4 is built with (cuckoo and magic only
// where their libraries are; tests only for YARA's own tests).
var yaraModules = set("console", "cuckoo", "dex", "dotnet", "elf", "hash", "lnk", "macho", "magic", "math", "pe",
	"string", "tests", "time")

var yaraKeywords = set("all", "and", "any", "ascii", "at", "base64", "base64wide", "condition", "contains", "defined",
	"endswith", "entrypoint", "false", "filesize", "for", "fullword", "global", "import", "icontains", "iendswith",
	"iequals", "in", "include", "int16", "int16be", "int32", "int32be", "int8", "int8be", "istartswith", "matches",
	"meta", "nocase", "none", "not", "of", "or", "private", "rule", "startswith", "strings", "them", "true",
	"uint16", "uint16be", "uint32", "uint32be", "uint8", "uint8be", "wide", "xor")

func (p *yaraParser) rule() *YARARule {
	r := &YARARule{Meta: map[string]string{}}
	for p.is("private") || p.is("global") {
		r.Modifiers = append(r.Modifiers, p.tok.text)
		p.advance()
	}
	if !p.expect("rule") {
		return nil
	}
	if p.tok.kind != yIdent || yaraKeywords[p.tok.text] {
		p.failf(p.tok.pos, "want the rule's name, found %s", p.describe())
		return nil
	}
	if len(p.tok.text) > 128 {
		p.failf(p.tok.pos, "the rule name is longer than 128 characters")
		return nil
	}
	if p.rules[p.tok.text] {
		p.failf(p.tok.pos, "a rule named %s is defined already", p.tok.text)
		return nil
	}
	r.Name = p.tok.text
	namePos := p.tok.pos
	p.advance()
	if p.is(":") {
		p.advance()
		for p.tok.kind == yIdent && !p.is("{") {
			if slices.Contains(r.Tags, p.tok.text) {
				p.failf(p.tok.pos, "the tag %s is given twice", p.tok.text)
				return nil
			}
			r.Tags = append(r.Tags, p.tok.text)
			p.advance()
		}
		if len(r.Tags) == 0 {
			p.failf(p.tok.pos, "want tags after :")
			return nil
		}
	}
	if !p.expect("{") {
		return nil
	}
	if p.is("meta") {
		p.advance()
		p.expect(":")
		if p.err == nil && (p.tok.kind != yIdent || p.is("strings") || p.is("condition")) {
			p.failf(p.tok.pos, "meta: holds nothing; remove the section or add name = value")
			return nil
		}
		for p.err == nil && p.tok.kind == yIdent && !p.is("strings") && !p.is("condition") {
			key := p.tok.text
			p.advance()
			p.expect("=")
			neg := p.is("-")
			if neg {
				p.advance()
			}
			switch {
			case p.tok.kind == yText && !neg, p.tok.kind == yNum, (p.is("true") || p.is("false")) && !neg:
				r.Meta[key] = p.tok.text
				p.advance()
			default:
				p.failf(p.tok.pos, "meta %s: want a string, an integer, true or false", key)
			}
		}
	}
	p.strs, p.used, p.anyUsed, p.vars = map[string]bool{}, map[string]bool{}, false, nil
	type def struct {
		id  string
		pos int
	}
	var defs []def
	if p.is("strings") {
		p.advance()
		p.expect(":")
		for p.err == nil && p.tok.kind == yStrID {
			id := p.tok.text
			if strings.HasSuffix(id, "*") {
				p.failf(p.tok.pos, "a string identifier cannot end in *")
				return nil
			}
			if id != "$" && p.strs[id] {
				p.failf(p.tok.pos, "%s is defined twice in rule %s", id, r.Name)
				return nil
			}
			p.strs[id] = true
			defs = append(defs, def{id, p.tok.pos})
			r.Strings = append(r.Strings, id)
			p.stringDef(id)
		}
		if len(defs) == 0 && p.err == nil {
			p.failf(p.tok.pos, "strings: holds no string; remove the section or define $name = …")
		}
	}
	if p.err != nil {
		return nil
	}
	if !p.is("condition") {
		p.failf(p.tok.pos, "want condition:, found %s", p.describe())
		return nil
	}
	p.advance()
	p.expect(":")
	// YARA declares the rule before it reads the condition, which may
	// therefore name the rule itself.
	p.rules[r.Name] = true
	p.expr()
	p.expect("}")
	if p.err != nil {
		return nil
	}
	for _, d := range defs {
		if !p.anyUsed && !p.used[d.id] && !p.usedByWildcard(d.id) {
			p.failf(d.pos, "string %s is not used in the condition of rule %s", d.id, r.Name)
			return nil
		}
	}
	_ = namePos
	p.rules[r.Name] = true
	return r
}

func (p *yaraParser) usedByWildcard(id string) bool {
	for u := range p.used {
		if strings.HasSuffix(u, "*") && strings.HasPrefix(id, strings.TrimSuffix(u, "*")) {
			return true
		}
	}
	return false
}

// stringDef reads "= value modifiers" after a string identifier.
func (p *yaraParser) stringDef(id string) {
	p.advance()
	if !p.is("=") {
		p.failf(p.tok.pos, "want = after %s", id)
		return
	}
	// A hex string is lexed here: { is also the rule body's brace.
	if err := p.lx.skip(); err != nil {
		p.err = err
		return
	}
	var allowed map[string]bool
	switch {
	case p.lx.pos < len(p.lx.src) && p.lx.src[p.lx.pos] == '{':
		if err := p.hexString(); err != nil {
			p.err = err
			return
		}
		p.advance()
		allowed = set("private")
	default:
		p.advance()
		switch p.tok.kind {
		case yText:
			if p.tok.text == `""` {
				p.failf(p.tok.pos, "%s is an empty string", id)
				return
			}
			allowed = set("nocase", "wide", "ascii", "fullword", "private", "xor", "base64", "base64wide")
		case yRegex:
			allowed = set("nocase", "wide", "ascii", "fullword", "private")
		default:
			p.failf(p.tok.pos, "%s: want a \"text\", a { hex } string or a /regular expression/", id)
			return
		}
		p.advance()
	}
	seen := map[string]bool{}
	for p.err == nil && p.tok.kind == yIdent && !p.is("condition") {
		mod := p.tok.text
		if !allowed[mod] {
			p.failf(p.tok.pos, "%s: %q is not a modifier of this kind of string", id, mod)
			return
		}
		if seen[mod] {
			p.failf(p.tok.pos, "%s: modifier %s given twice", id, mod)
			return
		}
		seen[mod] = true
		p.advance()
		if (mod == "xor" || mod == "base64" || mod == "base64wide") && p.is("(") {
			p.advance()
			if mod == "xor" {
				lo := p.byteNum()
				if p.is("-") {
					p.advance()
					if hi := p.byteNum(); hi < lo && p.err == nil {
						p.failf(p.tok.pos, "xor range: the upper bound is below the lower")
					}
				}
			} else if p.tok.kind != yText || len(p.tok.text) != 66 {
				p.failf(p.tok.pos, "%s alphabet: want a string of 64 characters", mod)
			} else {
				p.advance()
			}
			p.expect(")")
		}
	}
	switch {
	case seen["nocase"] && (seen["xor"] || seen["base64"] || seen["base64wide"]):
		p.failf(p.tok.pos, "%s: nocase cannot be combined with xor or base64", id)
	case seen["xor"] && (seen["base64"] || seen["base64wide"]):
		p.failf(p.tok.pos, "%s: xor cannot be combined with base64", id)
	case seen["fullword"] && (seen["base64"] || seen["base64wide"]):
		p.failf(p.tok.pos, "%s: fullword cannot be combined with base64", id)
	}
}

func (p *yaraParser) byteNum() int {
	if p.tok.kind != yNum {
		p.failf(p.tok.pos, "want a number from 0 to 255")
		return 0
	}
	n, err := strconv.ParseInt(p.tok.text, 0, 64)
	if err != nil || n > 255 {
		p.failf(p.tok.pos, "want a number from 0 to 255")
	}
	p.advance()
	return int(n)
}

// yaraMaxAltJump is YARA's longest jump inside an alternative
// (YR_STRING_CHAINING_THRESHOLD).
const yaraMaxAltJump = 200

// hexString reads { … } at the lexer's position: bytes (AB, A?, ?B, ??,
// ~AB), jumps [n], [n-m], [n-], [-] and alternatives ( … | … ).
func (p *yaraParser) hexString() *yaraError {
	l := &p.lx
	start := l.pos
	l.pos++
	type frame struct{ items, alts int }
	stack := []frame{{}}
	lastJump := false
	bytes := 0
	for {
		if err := l.skip(); err != nil {
			return err
		}
		if l.pos >= len(l.src) {
			return &yaraError{start, "the hex string is not closed with }"}
		}
		c := l.src[l.pos]
		top := &stack[len(stack)-1]
		switch {
		case c == '}':
			if len(stack) > 1 {
				return &yaraError{l.pos, "an alternative ( … ) is not closed"}
			}
			if bytes == 0 {
				return &yaraError{start, "empty hex string"}
			}
			if lastJump {
				return &yaraError{l.pos, "a hex string cannot end with a jump"}
			}
			l.pos++
			return nil
		case c == '~' || isHexRune(rune(c)) || c == '?':
			if c == '~' {
				l.pos++
			}
			if l.pos+1 >= len(l.src) || !(isHexRune(rune(l.src[l.pos])) || l.src[l.pos] == '?') || !(isHexRune(rune(l.src[l.pos+1])) || l.src[l.pos+1] == '?') {
				return &yaraError{l.pos, "a hex byte is two hex digits, or ? for a nibble"}
			}
			if c == '~' && l.src[l.pos] == '?' && l.src[l.pos+1] == '?' {
				return &yaraError{l.pos, "~?? matches nothing"}
			}
			l.pos += 2
			top.items++
			bytes++
			lastJump = false
		case c == '[':
			if top.items == 0 {
				return &yaraError{l.pos, "a hex string or alternative cannot start with a jump"}
			}
			end := strings.IndexByte(l.src[l.pos:], ']')
			if end < 0 {
				return &yaraError{l.pos, "the jump is not closed with ]"}
			}
			body := strings.ReplaceAll(l.src[l.pos+1:l.pos+end], " ", "")
			lo, hi, isRange := strings.Cut(body, "-")
			okNum := func(s string) bool { _, err := strconv.ParseUint(s, 10, 32); return err == nil }
			switch {
			case !isRange && okNum(lo):
			case isRange && (lo == "" || okNum(lo)) && (hi == "" || okNum(hi)):
				if lo != "" && hi != "" {
					a, _ := strconv.Atoi(lo)
					b, _ := strconv.Atoi(hi)
					if a > b {
						return &yaraError{l.pos, "the jump's lower bound is above its upper"}
					}
				}
			default:
				return &yaraError{l.pos, "a jump is [n], [n-m], [n-] or [-]"}
			}
			if len(stack) > 1 {
				// YARA's hex grammar bounds the jumps inside alternatives.
				if isRange && hi == "" {
					return &yaraError{l.pos, "a jump inside an alternative ( … | … ) needs an upper bound"}
				}
				for _, n := range []string{lo, hi} {
					if v, err := strconv.Atoi(n); err == nil && v > yaraMaxAltJump {
						return &yaraError{l.pos, fmt.Sprintf("a jump inside an alternative ( … | … ) is at most %d bytes", yaraMaxAltJump)}
					}
				}
			}
			l.pos += end + 1
			lastJump = true
		case c == '(':
			stack = append(stack, frame{})
			l.pos++
			lastJump = false
		case c == '|':
			if len(stack) == 1 || top.items == 0 {
				return &yaraError{l.pos, "| separates alternatives inside ( … ), each not empty"}
			}
			top.alts++
			top.items = 0
			l.pos++
		case c == ')':
			if len(stack) == 1 || top.items == 0 || top.alts == 0 {
				return &yaraError{l.pos, "an alternative is ( A | B ), each side not empty"}
			}
			stack = stack[:len(stack)-1]
			stack[len(stack)-1].items++
			l.pos++
		default:
			return &yaraError{l.pos, fmt.Sprintf("%q has no place in a hex string", c)}
		}
	}
}

const maxYaraDepth = 128

// Binary operators by precedence, loosest first (YARA's grammar.y).
var yaraLevels = [][]string{
	{"or"},
	{"and"},
	nil, // not, defined: unary, handled in unary
	{"==", "!=", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith", "iequals", "matches"},
	{"<", "<=", ">", ">="},
	{"|"},
	{"^"},
	{"&"},
	{"<<", ">>"},
	{"+", "-"},
	{"*", "\\", "%"},
}

// yType is the type of an expression, as far as the parser knows it:
// YARA's compiler refuses operands of the wrong type. Module fields and
// loop variables are of a type the parser does not know (tyAny).
type yType uint8

const (
	tyAny yType = iota
	tyInt
	tyFloat
	tyString
	tyBool
)

func (t yType) String() string {
	return [...]string{"unknown", "integer", "float", "string", "boolean"}[t]
}

func (t yType) numeric() bool { return t == tyAny || t == tyInt || t == tyFloat }

func (t yType) known() bool { return t != tyAny }

func (p *yaraParser) expr() yType { return p.binary(0) }

func (p *yaraParser) binary(level int) yType {
	if p.err != nil {
		return tyAny
	}
	if level >= len(yaraLevels) {
		return p.unary()
	}
	if yaraLevels[level] == nil {
		if p.is("not") || p.is("defined") {
			p.advance()
			p.enter()
			p.binary(level)
			p.depth--
			return tyBool
		}
		return p.binary(level + 1)
	}
	left := p.binary(level + 1)
	for p.err == nil && p.isAnyOf(yaraLevels[level]) {
		op, opPos := p.tok.text, p.tok.pos
		p.advance()
		if op == "matches" {
			if p.tok.kind != yRegex {
				p.failf(p.tok.pos, "matches needs a /regular expression/")
				return tyAny
			}
			p.operand(opPos, op, left, tyString)
			p.advance()
			left = tyBool
			continue
		}
		p.constZero = false
		right := p.binary(level + 1)
		left = p.combine(opPos, op, left, right)
		p.constZero = false
	}
	return left
}

// operand checks that an operand of op is of type want (or of a type the
// parser does not know).
func (p *yaraParser) operand(pos int, op string, got, want yType) {
	if got != tyAny && got != want && !(want == tyInt && got == tyFloat && op != "~" && op != "at") {
		p.failf(pos, "wrong type %s for the %s operator: want %s", got, op, want)
	}
}

// combine checks the operands of a binary operator and returns the type
// of the result.
func (p *yaraParser) combine(pos int, op string, left, right yType) yType {
	switch op {
	case "or", "and":
		return tyBool
	case "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith", "iequals":
		p.operand(pos, op, left, tyString)
		p.operand(pos, op, right, tyString)
		return tyBool
	}
	if left == tyBool || right == tyBool {
		p.failf(pos, "a boolean (a string match, a comparison, a rule, of or for) cannot be an operand of %s", op)
		return tyAny
	}
	switch op {
	case "==", "!=", "<", "<=", ">", ">=":
		if left.known() && right.known() && left.numeric() != right.numeric() {
			p.failf(pos, "type mismatch: %s %s %s", left, op, right)
		}
		return tyBool
	case "|", "^", "&", "<<", ">>":
		for _, t := range []yType{left, right} {
			if t != tyAny && t != tyInt {
				p.failf(pos, "wrong type %s for the %s operator: want integer", t, op)
			}
		}
		return tyInt
	}
	// + - * \ %
	for _, t := range []yType{left, right} {
		if !t.numeric() {
			p.failf(pos, "wrong type %s for the %s operator: want integer or float", t, op)
		}
	}
	if (op == "\\" || op == "%") && p.constZero && left == tyInt {
		p.failf(pos, "division by zero")
	}
	switch {
	case left == tyFloat || right == tyFloat:
		return tyFloat
	case left == tyInt && right == tyInt:
		return tyInt
	}
	return tyAny
}

func (p *yaraParser) isAnyOf(ops []string) bool {
	if p.tok.kind != yPunct && p.tok.kind != yIdent {
		return false
	}
	for _, o := range ops {
		if p.tok.text == o {
			return true
		}
	}
	return false
}

func (p *yaraParser) enter() {
	if p.depth++; p.depth > maxYaraDepth {
		p.failf(p.tok.pos, "the condition nests too deeply")
	}
}

func (p *yaraParser) unary() yType {
	if p.is("-") || p.is("~") {
		op, pos := p.tok.text, p.tok.pos
		p.advance()
		p.enter()
		t := p.unary()
		p.depth--
		if t == tyBool || t == tyString || op == "~" && t == tyFloat {
			p.failf(pos, "wrong type %s for the %s operator", t, op)
		}
		p.constZero = false
		return t
	}
	return p.primary()
}

func (p *yaraParser) primary() yType {
	p.constZero = false
	if p.err != nil {
		return tyAny
	}
	t := p.tok
	switch t.kind {
	case yNum:
		p.advance()
		if p.is("of") || p.percentOf() {
			p.quantified(t)
			return tyBool
		}
		p.constZero = yaraZero(t.text)
		return tyInt
	case yFloat:
		p.advance()
		return tyFloat
	case yText:
		p.advance()
		return tyString
	case yRegex:
		p.failf(t.pos, "a regular expression goes only after matches")
		return tyAny
	case yStrID:
		p.useString(t)
		p.advance()
		if p.is("at") {
			pos := p.tok.pos
			p.advance()
			p.operand(pos, "at", p.binary(9), tyInt)
		} else if p.is("in") {
			p.advance()
			p.rangeExpr()
		}
		return tyBool
	case yStrCnt:
		p.useString(t)
		p.advance()
		if p.is("in") {
			p.advance()
			p.rangeExpr()
		}
		return tyInt
	case yStrOff, yStrLen:
		p.useString(t)
		p.advance()
		if p.is("[") {
			p.advance()
			p.expr()
			p.expect("]")
		}
		return tyInt
	}
	switch {
	case p.is("("):
		p.advance()
		p.enter()
		typ := p.expr()
		p.depth--
		p.expect(")")
		if p.is("of") || p.percentOf() {
			p.quantified(t)
			return tyBool
		}
		return typ
	case p.is("true"), p.is("false"):
		p.advance()
		return tyBool
	case p.is("filesize"), p.is("entrypoint"):
		p.advance()
		return tyInt
	case p.is("all"), p.is("any"), p.is("none"):
		p.advance()
		if p.is("in") { // for any i in …: handled by for
			p.failf(p.tok.pos, "%s in … needs for before it", t.text)
			return tyAny
		}
		p.quantified(t)
		return tyBool
	case p.is("for"):
		p.forExpr()
		return tyBool
	case t.kind == yIdent && !yaraKeywords[t.text] || yaraIntFunc(t.text):
		return p.identifier()
	default:
		p.failf(t.pos, "want an expression, found %s", p.describe())
		return tyAny
	}
}

// yaraZero reports whether a number token is zero.
func yaraZero(s string) bool {
	return strings.Trim(strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0o"), "KB"), "MB"), "0") == ""
}

// percentOf reports whether the parser is at "% of", a percentage of a
// set, rather than at the remainder operator.
func (p *yaraParser) percentOf() bool {
	if !p.is("%") {
		return false
	}
	lx := p.lx
	t, err := lx.next()
	return err == nil && t.kind == yIdent && t.text == "of"
}

func yaraIntFunc(s string) bool {
	switch strings.TrimSuffix(s, "be") {
	case "int8", "int16", "int32", "uint8", "uint16", "uint32":
		return true
	}
	return false
}

// quantified reads "[%] of (set|them) [in range | at expr]" after a
// quantifier.
func (p *yaraParser) quantified(q token) {
	if p.is("%") {
		p.advance()
	}
	if !p.expect("of") {
		return
	}
	p.stringOrRuleSet()
	if p.is("in") {
		p.advance()
		p.rangeExpr()
	} else if p.is("at") {
		pos := p.tok.pos
		p.advance()
		p.operand(pos, "at", p.binary(9), tyInt)
	}
}

// stringOrRuleSet reads them, ($a, $b*, …) or (rule_a, rule_b*, …).
func (p *yaraParser) stringOrRuleSet() {
	if p.is("them") {
		p.anyUsed = true
		if len(p.strs) == 0 {
			p.failf(p.tok.pos, "them: the rule defines no strings")
		}
		p.advance()
		return
	}
	if !p.expect("(") {
		return
	}
	for p.err == nil {
		switch {
		case p.tok.kind == yStrID:
			p.useString(p.tok)
		case p.tok.kind == yIdent:
			name := p.tok.text
			wild := false
			p.advance()
			if p.is("*") {
				wild = true
				p.advance()
			}
			if !p.ruleMatches(name, wild) {
				p.failf(p.tok.pos, "%s matches no rule defined before this one", name)
				return
			}
			goto sep
		default:
			p.failf(p.tok.pos, "want a string identifier or a rule name in the set")
			return
		}
		p.advance()
	sep:
		if p.is(",") {
			p.advance()
			continue
		}
		p.expect(")")
		return
	}
}

func (p *yaraParser) ruleMatches(name string, wild bool) bool {
	if !wild {
		return p.rules[name]
	}
	for r := range p.rules {
		if strings.HasPrefix(r, name) {
			return true
		}
	}
	return false
}

func (p *yaraParser) useString(t token) {
	name := "$" + t.text[1:]
	if name == "$" {
		if p.anon == 0 && t.kind != yStrID {
			p.failf(t.pos, "%s alone is allowed only inside for … of", t.text)
		} else if t.kind == yStrID && p.anon == 0 {
			p.failf(t.pos, "$ alone is allowed only inside for … of")
		}
		return
	}
	if strings.HasSuffix(name, "*") {
		prefix := strings.TrimSuffix(name, "*")
		for s := range p.strs {
			if ok, _ := path.Match(prefix+"*", s); ok || strings.HasPrefix(s, prefix) {
				p.used[name] = true
				return
			}
		}
		p.failf(t.pos, "%s matches no string of this rule", t.text)
		return
	}
	if !p.strs[name] {
		p.failf(t.pos, "%s is not defined in this rule's strings", name)
		return
	}
	p.used[name] = true
}

// rangeExpr reads "( expr .. expr )".
func (p *yaraParser) rangeExpr() {
	if !p.expect("(") {
		return
	}
	pos := p.tok.pos
	p.operand(pos, "..", p.binary(3), tyInt)
	p.expect("..")
	pos = p.tok.pos
	p.operand(pos, "..", p.binary(3), tyInt)
	p.expect(")")
}

// forExpr reads "for quantifier of set : ( expr )" or
// "for quantifier ident[, ident] in iterable : ( expr )".
func (p *yaraParser) forExpr() {
	p.advance()
	switch {
	case p.is("all"), p.is("any"), p.is("none"):
		p.advance()
	case p.tok.kind == yNum:
		p.advance()
		if p.is("%") {
			p.advance()
		}
	default:
		p.binary(4)
		if p.is("%") {
			p.advance()
		}
	}
	if p.is("of") {
		p.advance()
		p.stringOrRuleSet()
		p.expect(":")
		p.expect("(")
		p.anon++
		p.enter()
		p.expr()
		p.depth--
		p.anon--
		p.expect(")")
		return
	}
	var vars []string
	for p.err == nil && p.tok.kind == yIdent && !yaraKeywords[p.tok.text] {
		vars = append(vars, p.tok.text)
		p.advance()
		if !p.is(",") {
			break
		}
		p.advance()
	}
	if len(vars) == 0 || len(vars) > 2 {
		p.failf(p.tok.pos, "for: want of, or one or two loop variables and in")
		return
	}
	if !p.expect("in") {
		return
	}
	// The iterable: a range, an enumeration, or a module's array or dictionary.
	if p.is("(") {
		p.advance()
		p.binary(3)
		if p.is("..") {
			p.advance()
			p.binary(3)
		} else {
			for p.err == nil && p.is(",") {
				p.advance()
				p.binary(3)
			}
		}
		p.expect(")")
	} else {
		p.identifier()
	}
	p.expect(":")
	p.expect("(")
	saved := p.vars
	p.vars = append(append([]string(nil), p.vars...), vars...)
	p.enter()
	p.expr()
	p.depth--
	p.vars = saved
	p.expect(")")
}

// identifier reads name(.field | [index] | (args))*, where name is a loop
// variable, an imported module, a rule defined before, or a built-in
// integer function.
func (p *yaraParser) identifier() yType {
	t := p.tok
	name := t.text
	isVar := false
	for _, v := range p.vars {
		isVar = isVar || v == name
	}
	if !(isVar || p.modules[name] || p.rules[name] || yaraIntFunc(name)) {
		p.failf(t.pos, "%s is not defined: not a rule defined before, an imported module or a loop variable", name)
		return tyAny
	}
	typ := tyAny
	switch {
	case isVar || p.modules[name]:
	case yaraIntFunc(name):
		typ = tyInt
	case p.rules[name]:
		typ = tyBool
	}
	p.advance()
	for p.err == nil {
		switch {
		case p.is("."):
			p.advance()
			if p.tok.kind != yIdent {
				p.failf(p.tok.pos, "want a field name after .")
				return tyAny
			}
			p.advance()
		case p.is("["):
			p.advance()
			p.expr()
			p.expect("]")
		case p.is("("):
			p.advance()
			for p.err == nil && !p.is(")") {
				if p.tok.kind == yRegex {
					p.advance()
				} else if pos, arg := p.tok.pos, p.expr(); yaraIntFunc(name) {
					p.operand(pos, name, arg, tyInt)
				}
				if !p.is(",") {
					break
				}
				p.advance()
			}
			p.expect(")")
		default:
			return typ
		}
	}
	return tyAny
}
