package pattern

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenKind classifies a token. The lexer follows the lexer rules of the
// OASIS STIXPattern.g4 grammar for STIX 2.1.
type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokLBrack
	tokRBrack
	tokLParen
	tokRParen
	tokColon
	tokDot
	tokComma
	tokAsterisk
	tokEQ
	tokNEQ
	tokLT
	tokLE
	tokGT
	tokGE
	tokIdent       // [a-zA-Z_][a-zA-Z0-9_]*
	tokIdentHyphen // an identifier with at least one '-', valid only as an object type
	tokString
	tokInt
	tokFloat
	tokBool
	tokBinary
	tokHex
	tokTimestamp
	// Keywords, upper-case and case-sensitive.
	tokAnd
	tokOr
	tokNot
	tokFollowedBy
	tokLike
	tokMatches
	tokIsSuperset
	tokIsSubset
	tokExists
	tokLast // reserved
	tokIn
	tokStart
	tokStop
	tokSeconds
	tokWithin
	tokRepeats
	tokTimes
	// Reserved symbols the grammar lexes but no rule accepts.
	tokPlus
	tokMinus
	tokPower
	tokDivide
)

var keywords = map[string]tokenKind{
	"AND":        tokAnd,
	"OR":         tokOr,
	"NOT":        tokNot,
	"FOLLOWEDBY": tokFollowedBy,
	"LIKE":       tokLike,
	"MATCHES":    tokMatches,
	"ISSUPERSET": tokIsSuperset,
	"ISSUBSET":   tokIsSubset,
	"EXISTS":     tokExists,
	"LAST":       tokLast,
	"IN":         tokIn,
	"START":      tokStart,
	"STOP":       tokStop,
	"SECONDS":    tokSeconds,
	"WITHIN":     tokWithin,
	"REPEATS":    tokRepeats,
	"TIMES":      tokTimes,
	"true":       tokBool,
	"false":      tokBool,
}

// describe names a token kind in error messages.
func (k tokenKind) describe() string {
	switch k {
	case tokEOF:
		return "end of pattern"
	case tokLBrack:
		return "'['"
	case tokRBrack:
		return "']'"
	case tokLParen:
		return "'('"
	case tokRParen:
		return "')'"
	case tokColon:
		return "':'"
	case tokDot:
		return "'.'"
	case tokComma:
		return "','"
	case tokAsterisk:
		return "'*'"
	case tokIdent, tokIdentHyphen:
		return "identifier"
	case tokString:
		return "string"
	case tokInt:
		return "integer"
	case tokFloat:
		return "float"
	case tokBool:
		return "boolean"
	case tokBinary:
		return "binary constant"
	case tokHex:
		return "hex constant"
	case tokTimestamp:
		return "timestamp"
	}
	for s, kw := range keywords {
		if kw == k && k != tokBool {
			return s
		}
	}
	return "operator"
}

// token is one lexeme. text is the source slice; val is the unescaped value
// of a string (equal to text's inside when there were no escapes).
type token struct {
	kind tokenKind
	pos  int
	text string
	val  string
}

// lexer turns a pattern into tokens on demand, so that parsing allocates no
// token slice.
type lexer struct {
	src string
	pos int
}

func (lx *lexer) errorf(pos int, format string, args ...any) error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// skip passes over whitespace (the Unicode White_Space set, as the grammar's
// WS rule lists it) and comments.
func (lx *lexer) skip() error {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			lx.pos++
		case c == '/' && strings.HasPrefix(lx.src[lx.pos:], "/*"):
			end := strings.Index(lx.src[lx.pos+2:], "*/")
			if end < 0 {
				return lx.errorf(lx.pos, "comment is not closed: expected '*/'")
			}
			lx.pos += 2 + end + 2
		case c == '/' && strings.HasPrefix(lx.src[lx.pos:], "//"):
			end := strings.IndexAny(lx.src[lx.pos:], "\r\n")
			if end < 0 {
				lx.pos = len(lx.src)
			} else {
				lx.pos += end
			}
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(lx.src[lx.pos:])
			if !unicode.Is(unicode.White_Space, r) {
				return nil
			}
			lx.pos += n
		default:
			return nil
		}
	}
	return nil
}

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// next returns the next token.
func (lx *lexer) next() (token, error) {
	if err := lx.skip(); err != nil {
		return token{}, err
	}
	start := lx.pos
	if start >= len(lx.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	tok := func(k tokenKind, n int) (token, error) {
		lx.pos += n
		return token{kind: k, pos: start, text: lx.src[start:lx.pos]}, nil
	}
	rest := lx.src[start:]
	c := rest[0]
	switch c {
	case '[':
		return tok(tokLBrack, 1)
	case ']':
		return tok(tokRBrack, 1)
	case '(':
		return tok(tokLParen, 1)
	case ')':
		return tok(tokRParen, 1)
	case ':':
		return tok(tokColon, 1)
	case ',':
		return tok(tokComma, 1)
	case '*':
		return tok(tokAsterisk, 1)
	case '^':
		return tok(tokPower, 1)
	case '/':
		return tok(tokDivide, 1)
	case '=':
		if strings.HasPrefix(rest, "==") {
			return tok(tokEQ, 2)
		}
		return tok(tokEQ, 1)
	case '!':
		if strings.HasPrefix(rest, "!=") {
			return tok(tokNEQ, 2)
		}
		return token{}, lx.errorf(start, "unexpected '!': expected '!='")
	case '<':
		switch {
		case strings.HasPrefix(rest, "<="):
			return tok(tokLE, 2)
		case strings.HasPrefix(rest, "<>"):
			return tok(tokNEQ, 2)
		}
		return tok(tokLT, 1)
	case '>':
		if strings.HasPrefix(rest, ">=") {
			return tok(tokGE, 2)
		}
		return tok(tokGT, 1)
	case '\'':
		return lx.string(start, start, tokString)
	case '.':
		if len(rest) > 1 && isDigit(rest[1]) {
			return lx.number(start)
		}
		return tok(tokDot, 1)
	case '+', '-':
		if len(rest) > 1 && (isDigit(rest[1]) || rest[1] == '.' && len(rest) > 2 && isDigit(rest[2])) {
			return lx.number(start)
		}
		if c == '+' {
			return tok(tokPlus, 1)
		}
		return tok(tokMinus, 1)
	}
	if isDigit(c) {
		return lx.number(start)
	}
	if isIdentStart(c) {
		if len(rest) > 1 && rest[1] == '\'' {
			switch c {
			case 'b':
				return lx.string(start, start+1, tokBinary)
			case 'h':
				return lx.string(start, start+1, tokHex)
			case 't':
				return lx.string(start, start+1, tokTimestamp)
			}
		}
		n, hyphen := 1, false
		for n < len(rest) && (isIdentChar(rest[n]) || rest[n] == '-') {
			hyphen = hyphen || rest[n] == '-'
			n++
		}
		if hyphen {
			return tok(tokIdentHyphen, n)
		}
		if kw, ok := keywords[rest[:n]]; ok {
			return tok(kw, n)
		}
		return tok(tokIdent, n)
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return token{}, lx.errorf(start, "unexpected character %q", r)
}

// number lexes IntPosLiteral, IntNegLiteral, FloatPosLiteral and
// FloatNegLiteral: an optional sign, then either an integer without leading
// zeros or digits, '.', and at least one digit.
func (lx *lexer) number(start int) (token, error) {
	i := start
	if lx.src[i] == '+' || lx.src[i] == '-' {
		i++
	}
	digits := i
	for i < len(lx.src) && isDigit(lx.src[i]) {
		i++
	}
	kind := tokInt
	if i+1 < len(lx.src) && lx.src[i] == '.' && isDigit(lx.src[i+1]) {
		kind = tokFloat
		i++
		for i < len(lx.src) && isDigit(lx.src[i]) {
			i++
		}
	} else if i-digits > 1 && lx.src[digits] == '0' {
		return token{}, lx.errorf(digits, "integer %s has a leading zero: write it without one", lx.src[start:i])
	}
	lx.pos = i
	return token{kind: kind, pos: start, text: lx.src[start:i]}, nil
}

// string lexes a quoted literal whose opening quote is at quote. In plain
// strings \' and \\ are the only escapes; the bodies of b'…', h'…' and
// t'…' cannot legally contain either character, so one scan serves all.
func (lx *lexer) string(start, quote int, kind tokenKind) (token, error) {
	i := quote + 1
	var b *strings.Builder
	seg := i
	for {
		if i >= len(lx.src) {
			return token{}, lx.errorf(start, "string is not closed: expected a closing '")
		}
		switch lx.src[i] {
		case '\'':
			val := lx.src[seg:i]
			if b != nil {
				b.WriteString(val)
				val = b.String()
			}
			lx.pos = i + 1
			return token{kind: kind, pos: start, text: lx.src[start:lx.pos], val: val}, nil
		case '\\':
			if i+1 >= len(lx.src) || (lx.src[i+1] != '\'' && lx.src[i+1] != '\\') {
				return token{}, lx.errorf(i, `invalid escape in string: only \' and \\ may follow a backslash (write \\ for a literal backslash)`)
			}
			if b == nil {
				b = new(strings.Builder)
			}
			b.WriteString(lx.src[seg:i])
			b.WriteByte(lx.src[i+1])
			i += 2
			seg = i
		default:
			i++
		}
	}
}
