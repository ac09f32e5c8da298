package match

import (
	"unicode/utf8"

	"github.com/entente/entente/stix/pattern"
)

// compileFast compiles the shape nearly every indicator of a feed has, one
// comparison of a property with a string,
//
//	[domain-name:value = 'evil.example']
//	[file:hashes.'SHA-256' = '…']
//	[domain-name:value LIKE '%.evil.example']
//
// without building the parser's tree: it reads the few tokens in place and
// hands a comparison made of pieces of src to analyse, as compileOne hands
// it the parser's. It reports false for anything else, and for anything it
// cannot show valid the way pattern.Parse checks it (escapes, comments,
// other white space, keywords, hash digests it does not know), leaving
// those to compileOne. When it answers, its answer is compileOne's;
// TestCompileFast and FuzzCompileFast hold it to that.
func (c *compiler) compileFast(src string) (compiled, bool) {
	if len(src) < 2 || src[0] != '[' || src[len(src)-1] != ']' || !utf8.ValidString(src) {
		return compiled{}, false
	}
	r := fastReader{s: src[:len(src)-1], i: 1}
	r.spaces()
	typ, ok := r.word(true)
	if !ok || !r.next(':') {
		return compiled{}, false
	}
	steps := c.fast.steps[:0]
	for {
		var key string
		if r.peek('\'') {
			key, ok = r.quoted()
		} else {
			key, ok = r.word(false)
		}
		if !ok {
			return compiled{}, false
		}
		steps = append(steps, pattern.PathStep{Kind: pattern.StepKey, Key: key})
		if !r.next('.') {
			break
		}
	}
	c.fast.steps = steps
	if !r.spaces() {
		return compiled{}, false
	}
	var op pattern.Operator
	switch {
	case r.next('='):
		op = pattern.OpEqual
	case r.keyword("LIKE"):
		op = pattern.OpLike
	default:
		return compiled{}, false
	}
	r.spaces()
	value, ok := r.quoted()
	if !ok {
		return compiled{}, false
	}
	r.spaces()
	if r.i != len(r.s) {
		return compiled{}, false
	}
	if op == pattern.OpEqual && !plausibleHash(steps, value) {
		return compiled{}, false
	}
	c.fast.cmp = pattern.Comparison{
		Path:   pattern.ObjectPath{Type: typ, Steps: steps, Offset: 1},
		Op:     op,
		Value:  pattern.Constant{Kind: pattern.KindString, Str: value},
		Offset: 1,
	}
	c.fast.simple = pattern.ObservationSimple{Comparison: &c.fast.cmp}
	c.fast.pat = pattern.Pattern{Expr: &c.fast.simple}
	out := c.analyse(&c.fast.pat)
	out.pat = nil // the tree is scratch space, reused by the next call
	return out, true
}

// fastTree is compileFast's scratch tree.
type fastTree struct {
	steps  []pattern.PathStep
	cmp    pattern.Comparison
	simple pattern.ObservationSimple
	pat    pattern.Pattern
}

// hashDigits gives the hex length pattern.Parse requires of a digest of
// alg compared with =; 0 for an algorithm it leaves to the parser.
func hashDigits(alg string) int {
	switch alg {
	case "MD5":
		return 32
	case "SHA-1":
		return 40
	case "SHA-256", "SHA3-256":
		return 64
	case "SHA-512", "SHA3-512":
		return 128
	}
	return 0
}

// plausibleHash reports whether a comparison of path with value passes the
// parser's digest check, without the parser: either the path is not a
// hashes entry, or the value is a digest of the algorithm's length.
func plausibleHash(steps []pattern.PathStep, value string) bool {
	if len(steps) < 2 || steps[len(steps)-2].Key != "hashes" {
		return true
	}
	if want := hashDigits(steps[len(steps)-1].Key); want == 0 || len(value) != want {
		return false
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; !isLowerHexByte(c) && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// fastReader reads the tokens compileFast accepts.
type fastReader struct {
	s string
	i int
}

// spaces skips blanks and reports whether there were any.
func (r *fastReader) spaces() bool {
	start := r.i
	for r.i < len(r.s) && r.s[r.i] == ' ' {
		r.i++
	}
	return r.i > start
}

func (r *fastReader) peek(c byte) bool { return r.i < len(r.s) && r.s[r.i] == c }

func (r *fastReader) next(c byte) bool {
	if r.peek(c) {
		r.i++
		return true
	}
	return false
}

// keyword reads an operator keyword followed by a blank.
func (r *fastReader) keyword(kw string) bool {
	if len(r.s)-r.i > len(kw) && r.s[r.i:r.i+len(kw)] == kw && r.s[r.i+len(kw)] == ' ' {
		r.i += len(kw)
		return true
	}
	return false
}

// word reads an identifier: letters, digits and underscores, starting with
// a letter, and for an object type lower-case letters, digits and hyphens.
// Words of capitals alone are left to the parser, as every operator
// keyword is one; so are true and false, and the letter opening a binary,
// hex or timestamp constant (b'…', h'…', t'…').
func (r *fastReader) word(objectType bool) (string, bool) {
	start := r.i
	upper := true
	for ; r.i < len(r.s); r.i++ {
		c := r.s[r.i]
		if 'a' <= c && c <= 'z' {
			upper = false
			continue
		}
		capital := 'A' <= c && c <= 'Z'
		if !(capital && !objectType || r.i > start && ('0' <= c && c <= '9' || !objectType && c == '_' || objectType && c == '-')) {
			break
		}
		upper = upper && capital
	}
	w := r.s[start:r.i]
	if w == "" || upper || w == "true" || w == "false" || r.peek('\'') {
		return "", false
	}
	return w, true
}

// quoted reads a string without escapes.
func (r *fastReader) quoted() (string, bool) {
	if !r.next('\'') {
		return "", false
	}
	start := r.i
	for r.i < len(r.s) {
		switch r.s[r.i] {
		case '\'':
			r.i++
			return r.s[start : r.i-1], true
		case '\\':
			return "", false
		}
		r.i++
	}
	return "", false
}
