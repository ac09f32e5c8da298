package pattern

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Error is a syntax or semantic error in a pattern. Pos is the byte offset
// in the pattern where the problem was found.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("position %d: %s", e.Pos, e.Msg) }

// maxDepth bounds the nesting of parentheses and brackets, so that a hostile
// pattern cannot exhaust the stack of the recursive-descent parser or of the
// evaluator.
const maxDepth = 100

// Parse parses a STIX 2.1 pattern and checks what the grammar cannot
// express: constants are valid (even-length hex, canonical base64, real
// timestamps, regular expressions that RE2 runs), comparisons AND-ed in one
// observation expression can hold on a single object type, each qualifier
// kind appears at most once per observation expression, START is before
// STOP, WITHIN is positive and REPEATS at least 1. Every error is an *Error.
func Parse(s string) (*Pattern, error) {
	if !utf8.ValidString(s) {
		// Patterns travel in JSON, which is UTF-8; anything else is
		// corrupt, and would defeat NFC normalization.
		i := 0
		for i < len(s) {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return nil, &Error{Pos: i, Msg: "invalid UTF-8: a pattern must be UTF-8 text"}
	}
	p := &parser{lx: lexer{src: s}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	expr, err := p.followedBy()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.unexpected("AND, OR, FOLLOWEDBY or a qualifier (REPEATS, WITHIN, START)")
	}
	return &Pattern{Expr: expr}, nil
}

type parser struct {
	lx           lexer
	tok          token
	depth        int
	backtracking int // MATCHES expressions on the backtracking engine
}

// MaxBacktracking bounds the MATCHES expressions of one pattern that run on
// the backtracking engine, so that, with PCREBudget, one evaluation of a
// comparison expression against an object costs at most MaxBacktracking
// budgets, whatever the pattern.
const MaxBacktracking = 8

func (p *parser) advance() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// unexpected reports the current token where something else was expected.
func (p *parser) unexpected(expected string) error {
	found := p.tok.kind.describe()
	if p.tok.kind != tokEOF {
		found = fmt.Sprintf("%q", p.tok.text)
	}
	return p.errorf(p.tok.pos, "expected %s, found %s", expected, found)
}

func (p *parser) expect(k tokenKind, what string) (token, error) {
	if p.tok.kind != k {
		return token{}, p.unexpected(what)
	}
	t := p.tok
	return t, p.advance()
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf(p.tok.pos, "expressions nested more than %d deep", maxDepth)
	}
	return nil
}

// The observation layer: FOLLOWEDBY < OR < AND < qualified < primary.

func (p *parser) followedBy() (ObservationExpr, error) {
	return p.observationLevel(tokFollowedBy, ObsFollowedBy, p.observationOr)
}

func (p *parser) observationOr() (ObservationExpr, error) {
	return p.observationLevel(tokOr, ObsOr, p.observationAnd)
}

func (p *parser) observationAnd() (ObservationExpr, error) {
	return p.observationLevel(tokAnd, ObsAnd, p.qualified)
}

func (p *parser) observationLevel(k tokenKind, op ObservationOp, operand func() (ObservationExpr, error)) (ObservationExpr, error) {
	left, err := operand()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == k {
		at := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := operand()
		if err != nil {
			return nil, err
		}
		left = &ObservationBinary{Op: op, Left: left, Right: right, OpOffset: at}
	}
	return left, nil
}

func (p *parser) qualified() (ObservationExpr, error) {
	expr, err := p.observationPrimary()
	if err != nil {
		return nil, err
	}
	var seen [3]bool
	for {
		var (
			q    Qualifier
			kind int
		)
		switch p.tok.kind {
		case tokRepeats:
			q, err = p.repeats()
			kind = 0
		case tokWithin:
			q, err = p.within()
			kind = 1
		case tokStart:
			q, err = p.startStop()
			kind = 2
		default:
			return expr, nil
		}
		if err != nil {
			return nil, err
		}
		if seen[kind] {
			return nil, p.errorf(q.Pos(), "a second %s qualifier on the same observation expression: use at most one of each kind, or parenthesize", qualifierName(q))
		}
		seen[kind] = true
		expr = &ObservationQualified{Expr: expr, Qualifier: q}
	}
}

func qualifierName(q Qualifier) string {
	switch q.(type) {
	case *Repeats:
		return "REPEATS"
	case *Within:
		return "WITHIN"
	default:
		return "START/STOP"
	}
}

func (p *parser) repeats() (Qualifier, error) {
	at := p.tok.pos
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tokInt || strings.HasPrefix(p.tok.text, "-") {
		return nil, p.unexpected("a positive integer after REPEATS")
	}
	n, err := strconv.Atoi(p.tok.text)
	if err != nil || n < 1 {
		return nil, p.errorf(p.tok.pos, "REPEATS %s: the count must be an integer from 1 to %d", p.tok.text, math.MaxInt)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if _, err := p.expect(tokTimes, "TIMES"); err != nil {
		return nil, err
	}
	return &Repeats{Times: n, Offset: at}, nil
}

func (p *parser) within() (Qualifier, error) {
	at := p.tok.pos
	if err := p.advance(); err != nil {
		return nil, err
	}
	if (p.tok.kind != tokInt && p.tok.kind != tokFloat) || strings.HasPrefix(p.tok.text, "-") {
		return nil, p.unexpected("a positive number of seconds after WITHIN")
	}
	c, err := p.number()
	if err != nil {
		return nil, err
	}
	if c.Kind == KindInt && c.Int <= 0 || c.Kind == KindFloat && !(c.Float > 0) {
		return nil, p.errorf(p.tok.pos, "WITHIN %s: the window must be greater than zero", p.tok.text)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if _, err := p.expect(tokSeconds, "SECONDS (the only unit STIX 2.1 allows)"); err != nil {
		return nil, err
	}
	return &Within{Seconds: c, Offset: at}, nil
}

func (p *parser) startStop() (Qualifier, error) {
	at := p.tok.pos
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tokTimestamp {
		return nil, p.unexpected("a timestamp t'…' after START")
	}
	start, err := p.timestamp()
	if err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if _, err := p.expect(tokStop, "STOP"); err != nil {
		return nil, err
	}
	if p.tok.kind != tokTimestamp {
		return nil, p.unexpected("a timestamp t'…' after STOP")
	}
	stopPos := p.tok.pos
	stop, err := p.timestamp()
	if err != nil {
		return nil, err
	}
	if !start.Before(stop) {
		return nil, p.errorf(stopPos, "STOP %s is not after START %s", stop.Format(time.RFC3339Nano), start.Format(time.RFC3339Nano))
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return &StartStop{Start: start, Stop: stop, Offset: at}, nil
}

func (p *parser) observationPrimary() (ObservationExpr, error) {
	switch p.tok.kind {
	case tokLBrack:
		at := p.tok.pos
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		c, err := p.comparisonOr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRBrack, "']', AND or OR"); err != nil {
			return nil, err
		}
		p.depth--
		if _, ok := c.(*Comparison); !ok {
			if _, err := rootTypes(c); err != nil {
				return nil, err
			}
		}
		return &ObservationSimple{Comparison: c, Offset: at}, nil
	case tokLParen:
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		e, err := p.followedBy()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen, "')', AND, OR, FOLLOWEDBY or a qualifier"); err != nil {
			return nil, err
		}
		p.depth--
		return e, nil
	}
	return nil, p.unexpected("'[' or '(' to begin an observation expression")
}

// rootTypes returns the object types a comparison expression can match, and
// an error where an AND joins sides that no single object could satisfy.
func rootTypes(e ComparisonExpr) ([]string, error) {
	switch e := e.(type) {
	case *Comparison:
		return []string{e.Path.Type}, nil
	case *ComparisonBinary:
		l, err := rootTypes(e.Left)
		if err != nil {
			return nil, err
		}
		r, err := rootTypes(e.Right)
		if err != nil {
			return nil, err
		}
		if e.Op == BoolOr {
			for _, t := range r {
				if !contains(l, t) {
					l = append(l, t)
				}
			}
			return l, nil
		}
		var both []string
		for _, t := range r {
			if contains(l, t) {
				both = append(both, t)
			}
		}
		if len(both) == 0 {
			return nil, &Error{Pos: e.OpOffset, Msg: fmt.Sprintf(
				"AND joins comparisons on %s and on %s, which no single object can satisfy: "+
					"comparisons in one observation expression must share a root type (use OR, or separate [ ] expressions)",
				strings.Join(l, ", "), strings.Join(r, ", "))}
		}
		return both, nil
	}
	return nil, nil
}

func contains(list []string, s string) bool {
	for _, t := range list {
		if t == s {
			return true
		}
	}
	return false
}

// The comparison layer: OR < AND < test.

func (p *parser) comparisonOr() (ComparisonExpr, error) {
	return p.comparisonLevel(tokOr, BoolOr, p.comparisonAnd)
}

func (p *parser) comparisonAnd() (ComparisonExpr, error) {
	return p.comparisonLevel(tokAnd, BoolAnd, p.comparisonTest)
}

func (p *parser) comparisonLevel(k tokenKind, op BoolOp, operand func() (ComparisonExpr, error)) (ComparisonExpr, error) {
	left, err := operand()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == k {
		at := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := operand()
		if err != nil {
			return nil, err
		}
		left = &ComparisonBinary{Op: op, Left: left, Right: right, OpOffset: at}
	}
	return left, nil
}

func (p *parser) comparisonTest() (ComparisonExpr, error) {
	at := p.tok.pos
	switch p.tok.kind {
	case tokLParen:
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		e, err := p.comparisonOr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen, "')', AND or OR"); err != nil {
			return nil, err
		}
		p.depth--
		return e, nil
	case tokNot, tokExists:
		negated := p.tok.kind == tokNot
		if negated {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind != tokExists {
				return nil, p.unexpected("EXISTS after a leading NOT (elsewhere NOT goes between the path and the operator)")
			}
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		path, err := p.objectPath()
		if err != nil {
			return nil, err
		}
		return &Comparison{Path: path, Op: OpExists, Negated: negated, Offset: at}, nil
	}
	path, err := p.objectPath()
	if err != nil {
		return nil, err
	}
	c := &Comparison{Path: path, Offset: at}
	c.hexProp, c.binProp = octetProperty(path)
	if p.tok.kind == tokNot {
		c.Negated = true
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	opTok := p.tok
	switch p.tok.kind {
	case tokEQ:
		c.Op = OpEqual
	case tokNEQ:
		c.Op = OpNotEqual
	case tokLT:
		c.Op = OpLess
	case tokLE:
		c.Op = OpLessEqual
	case tokGT:
		c.Op = OpGreater
	case tokGE:
		c.Op = OpGreaterEqual
	case tokIn:
		c.Op = OpIn
	case tokLike:
		c.Op = OpLike
	case tokMatches:
		c.Op = OpMatches
	case tokIsSubset:
		c.Op = OpIsSubset
	case tokIsSuperset:
		c.Op = OpIsSuperset
	default:
		return nil, p.unexpected("a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)")
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	switch c.Op {
	case OpIn:
		if err := p.set(c); err != nil {
			return nil, err
		}
	case OpLike, OpMatches, OpIsSubset, OpIsSuperset:
		if p.tok.kind != tokString {
			return nil, p.unexpected(fmt.Sprintf("a quoted string after %s", opTok.text))
		}
		c.Value = Constant{Kind: KindString, Str: p.tok.val}
		if err := compileOperand(c, p.tok.pos); err != nil {
			return nil, err
		}
		if c.pcre != nil {
			if p.backtracking++; p.backtracking > MaxBacktracking {
				return nil, p.errorf(p.tok.pos, "more than %d MATCHES expressions need the backtracking engine: keep at most %d, or rewrite them without PCRE-only features", MaxBacktracking, MaxBacktracking)
			}
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	default:
		v, err := p.constant()
		if err != nil {
			return nil, err
		}
		if v.Kind == KindBool && c.Op != OpEqual && c.Op != OpNotEqual {
			return nil, p.errorf(opTok.pos, "%s needs an ordered constant; booleans compare only with = and !=", opTok.text)
		}
		c.Value = v
	}
	if err := checkHash(c); err != nil {
		return nil, err
	}
	return c, nil
}

// set parses "( constant, … )": at least one constant, all of one kind
// (integers and floats count as one kind), since the spec requires a
// homogeneous set and an empty one could never match.
func (p *parser) set(c *Comparison) error {
	open, err := p.expect(tokLParen, "'(' to begin the IN set")
	if err != nil {
		return err
	}
	if p.tok.kind == tokRParen {
		return p.errorf(open.pos, "the IN set is empty, so the comparison could never match: list at least one constant")
	}
	for {
		at := p.tok.pos
		v, err := p.constant()
		if err != nil {
			return err
		}
		if len(c.Values) > 0 && kindClass(v.Kind) != kindClass(c.Values[0].Kind) {
			return p.errorf(at, "IN set mixes %s and %s constants: a set must hold one kind", kindName(c.Values[0].Kind), kindName(v.Kind))
		}
		c.Values = append(c.Values, v)
		if p.tok.kind == tokRParen {
			return p.advance()
		}
		if _, err := p.expect(tokComma, "',' or ')' in the IN set"); err != nil {
			return err
		}
	}
}

func kindClass(k Kind) Kind {
	if k == KindFloat {
		return KindInt
	}
	if k == KindHex {
		return KindBinary
	}
	return k
}

func kindName(k Kind) string {
	switch k {
	case KindString:
		return "string"
	case KindInt:
		return "integer"
	case KindFloat:
		return "float"
	case KindBool:
		return "boolean"
	case KindBinary:
		return "binary"
	case KindHex:
		return "hex"
	case KindTimestamp:
		return "timestamp"
	}
	return "unknown"
}

func (p *parser) objectPath() (ObjectPath, error) {
	path := ObjectPath{Offset: p.tok.pos}
	if p.tok.kind != tokIdent && p.tok.kind != tokIdentHyphen {
		return path, p.unexpected("an object path such as file:name")
	}
	path.Type = p.tok.text
	if err := p.advance(); err != nil {
		return path, err
	}
	if _, err := p.expect(tokColon, "':' between the object type and the property"); err != nil {
		return path, err
	}
	key, err := p.key("a property name after ':'")
	if err != nil {
		return path, err
	}
	path.Steps = append(make([]PathStep, 0, 2), PathStep{Kind: StepKey, Key: key})
	for {
		switch p.tok.kind {
		case tokDot:
			if err := p.advance(); err != nil {
				return path, err
			}
			key, err := p.key("a property name after '.'")
			if err != nil {
				return path, err
			}
			path.Steps = append(path.Steps, PathStep{Kind: StepKey, Key: key})
		case tokLBrack:
			if err := p.advance(); err != nil {
				return path, err
			}
			switch p.tok.kind {
			case tokAsterisk:
				path.Steps = append(path.Steps, PathStep{Kind: StepAnyIndex})
			case tokInt:
				// The grammar's index is a signed integer literal. A
				// negative index counts from the end of the list, as in
				// OASIS's matcher; one out of range does not resolve.
				n, err := strconv.Atoi(p.tok.text)
				if err != nil {
					return path, p.errorf(p.tok.pos, "list index %s must fit an int", p.tok.text)
				}
				path.Steps = append(path.Steps, PathStep{Kind: StepIndex, Index: n})
			default:
				return path, p.unexpected("a list index or '*'")
			}
			if err := p.advance(); err != nil {
				return path, err
			}
			if _, err := p.expect(tokRBrack, "']' after the list index"); err != nil {
				return path, err
			}
		default:
			return path, nil
		}
	}
}

func (p *parser) key(what string) (string, error) {
	switch p.tok.kind {
	case tokIdent:
		k := p.tok.text
		return k, p.advance()
	case tokString:
		k := p.tok.val
		return k, p.advance()
	case tokIdentHyphen:
		return "", p.errorf(p.tok.pos, "property name %s contains '-': quote it as '%s'", p.tok.text, p.tok.text)
	}
	if _, ok := keywords[p.tok.text]; ok && p.tok.kind != tokEOF {
		return "", p.errorf(p.tok.pos, "property name %s is a keyword: quote it as '%s'", p.tok.text, p.tok.text)
	}
	return "", p.unexpected(what)
}

// constant parses one literal and advances past it.
func (p *parser) constant() (Constant, error) {
	var (
		c   Constant
		err error
	)
	switch p.tok.kind {
	case tokString:
		c = Constant{Kind: KindString, Str: p.tok.val}
	case tokInt, tokFloat:
		c, err = p.number()
	case tokBool:
		c = Constant{Kind: KindBool, Bool: p.tok.text == "true"}
	case tokBinary:
		var b []byte
		b, err = base64.StdEncoding.Strict().DecodeString(p.tok.val)
		if err != nil || len(b) == 0 {
			return c, p.errorf(p.tok.pos, "b'%s' is not valid base64: use the standard alphabet with '=' padding to a multiple of 4 characters", p.tok.val)
		}
		c = Constant{Kind: KindBinary, Bytes: b}
	case tokHex:
		if len(p.tok.val)%2 != 0 {
			return c, p.errorf(p.tok.pos, "h'%s' has an odd number of hex digits: write two digits per octet", p.tok.val)
		}
		var b []byte
		b, err = hex.DecodeString(p.tok.val)
		if err != nil {
			return c, p.errorf(p.tok.pos, "h'%s' is not hexadecimal: use only 0-9 and a-f", p.tok.val)
		}
		c = Constant{Kind: KindHex, Bytes: b}
	case tokTimestamp:
		var t time.Time
		t, err = p.timestamp()
		c = Constant{Kind: KindTimestamp, Time: t}
	default:
		return c, p.unexpected("a constant (string, number, true/false, b'…', h'…' or t'…')")
	}
	if err != nil {
		return c, err
	}
	return c, p.advance()
}

// number converts the current integer or float token.
func (p *parser) number() (Constant, error) {
	if p.tok.kind == tokInt {
		n, err := strconv.ParseInt(p.tok.text, 10, 64)
		if err != nil {
			return Constant{}, p.errorf(p.tok.pos, "integer %s is out of the 64-bit range", p.tok.text)
		}
		return Constant{Kind: KindInt, Int: n}, nil
	}
	f, err := strconv.ParseFloat(p.tok.text, 64)
	if err != nil {
		return Constant{}, p.errorf(p.tok.pos, "float %s is out of the 64-bit range", p.tok.text)
	}
	return Constant{Kind: KindFloat, Float: f}, nil
}

// timestamp converts the current t'…' token. STIX timestamps are RFC 3339 in
// UTC with an optional fraction: YYYY-MM-DDTHH:MM:SS[.s+]Z.
func (p *parser) timestamp() (time.Time, error) {
	t, ok := parseTimestamp(p.tok.val)
	if !ok {
		return t, p.errorf(p.tok.pos, "t'%s' is not a STIX timestamp: write YYYY-MM-DDTHH:MM:SS[.fraction]Z with a real date and time in UTC", p.tok.val)
	}
	return t, nil
}

// parseTimestamp accepts exactly the grammar's TimestampLiteral body and
// then insists that the date and time exist.
func parseTimestamp(s string) (time.Time, bool) {
	const layout = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(layout)+1 || s[len(s)-1] != 'Z' {
		return time.Time{}, false
	}
	for i := 0; i < len(layout); i++ {
		if layout[i] == 'd' && !isDigit(s[i]) || layout[i] != 'd' && s[i] != layout[i] {
			return time.Time{}, false
		}
	}
	frac := s[len(layout) : len(s)-1]
	if frac != "" {
		if len(frac) < 2 || frac[0] != '.' {
			return time.Time{}, false
		}
		for i := 1; i < len(frac); i++ {
			if !isDigit(frac[i]) {
				return time.Time{}, false
			}
		}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// compileOperand validates and compiles the string operand of LIKE, MATCHES,
// ISSUBSET and ISSUPERSET.
func compileOperand(c *Comparison, pos int) error {
	var err error
	switch c.Op {
	case OpMatches:
		c.re, c.pcre, err = compileMatches(c.Value.Str)
	case OpLike:
		c.re = compileLike(c.Value.Str)
		if endsInValue(c.Path) {
			for i, t := range canonTypes {
				if co := Canonical(t, c.Value.Str); co != c.Value.Str {
					if c.canonLike == nil {
						c.canonLike = new([len(canonTypes)]*regexp.Regexp)
					}
					c.canonLike[i] = compileLike(co)
				}
			}
		}
	case OpIsSubset, OpIsSuperset:
		c.prefix, err = parsePrefix(c.Value.Str)
		if err != nil {
			err = fmt.Errorf("%q is not an IPv4 or IPv6 address or CIDR network such as '198.51.100.0/24'", c.Value.Str)
		}
	}
	if err != nil {
		return &Error{Pos: pos, Msg: err.Error()}
	}
	return nil
}

// parsePrefix reads an address or a CIDR network; a bare address is a
// full-length prefix. Host bits beyond the prefix length are cleared, as
// "198.51.100.1/24" names the network 198.51.100.0/24.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("address %s has a zone", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// hashLengths gives the hex length of the hash algorithms in the STIX 2.1
// hash-algorithm-ov vocabulary whose values are hex digests. A digest of the
// wrong length can never match a real object, so it is refused.
var hashLengths = map[string]int{
	"MD5":      32,
	"SHA-1":    40,
	"SHA-256":  64,
	"SHA-512":  128,
	"SHA3-256": 64,
	"SHA3-512": 128,
}

// checkHash validates a string compared for equality with a hashes entry.
func checkHash(c *Comparison) error {
	steps := c.Path.Steps
	if len(steps) < 2 || steps[len(steps)-1].Kind != StepKey || steps[len(steps)-2].Kind != StepKey || steps[len(steps)-2].Key != "hashes" {
		return nil
	}
	alg := steps[len(steps)-1].Key
	want, ok := hashLengths[alg]
	if !ok {
		return nil
	}
	var values []Constant
	switch c.Op {
	case OpEqual, OpNotEqual:
		values = []Constant{c.Value}
	case OpIn:
		values = c.Values
	}
	for _, v := range values {
		if v.Kind != KindString {
			continue
		}
		if len(v.Str) != want || !isHex(v.Str) {
			return &Error{Pos: c.Offset, Msg: fmt.Sprintf("%q is not a valid %s hash: write %d hex digits", v.Str, alg, want)}
		}
	}
	return nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && !('a' <= c && c <= 'f') && !('A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
