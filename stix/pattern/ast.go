package pattern

import (
	"net/netip"
	"regexp"
	"time"
)

// A Pattern is a parsed and checked STIX pattern. Build one with Parse; a
// Pattern is immutable afterwards and safe for concurrent use.
//
// The tree keeps no parentheses: grouping is implied by the shape of the tree
// and restored by String where precedence requires it.
type Pattern struct {
	// Expr is the root observation expression.
	Expr ObservationExpr
}

// An ObservationExpr is a node of the observation-expression layer: one of
// *ObservationSimple, *ObservationBinary or *ObservationQualified.
type ObservationExpr interface {
	// Pos is the byte offset in the source where the expression starts.
	Pos() int
	observationExpr()
}

// ObservationSimple is "[ comparison expression ]": it holds for one
// observation in which a single root object satisfies Comparison.
type ObservationSimple struct {
	Comparison ComparisonExpr
	Offset     int // byte offset of '['
}

// ObservationOp joins two observation expressions.
type ObservationOp uint8

// The observation operators, from the tightest binding to the loosest.
// All are left-associative.
const (
	ObsAnd        ObservationOp = iota + 1 // both sides hold, on different observations
	ObsOr                                  // either side holds
	ObsFollowedBy                          // both hold, different observations, the right side no earlier than the left
)

// ObservationBinary is "Left Op Right".
type ObservationBinary struct {
	Op          ObservationOp
	Left, Right ObservationExpr
	OpOffset    int // byte offset of the operator keyword
}

// ObservationQualified applies one qualifier to Expr. A chain such as
// "[a] REPEATS 5 TIMES WITHIN 10 SECONDS" nests: the WITHIN node wraps the
// REPEATS node, which wraps [a]. Parse guarantees at most one qualifier of each
// kind per chain.
type ObservationQualified struct {
	Expr      ObservationExpr
	Qualifier Qualifier
}

// A Qualifier is one of *Repeats, *Within or *StartStop.
type Qualifier interface {
	// Pos is the byte offset of the qualifier's first keyword.
	Pos() int
	qualifier()
}

// Repeats is "REPEATS n TIMES": n distinct observations each satisfying the
// qualified expression (the same as AND-ing n copies of it).
type Repeats struct {
	Times  int // at least 1
	Offset int
}

// Within is "WITHIN x SECONDS": every observation bound by the qualified
// expression lies within a window shorter than x seconds.
type Within struct {
	// Seconds is the literal as written: an integer or float Constant,
	// greater than zero.
	Seconds Constant
	Offset  int
}

// StartStop is "START t'…' STOP t'…'": every observation bound by the
// qualified expression falls in [Start, Stop). Start is before Stop.
type StartStop struct {
	Start, Stop time.Time
	Offset      int
}

// A ComparisonExpr is a node of the comparison-expression layer inside
// brackets: one of *ComparisonBinary or *Comparison.
type ComparisonExpr interface {
	// Pos is the byte offset in the source where the expression starts.
	Pos() int
	comparisonExpr()
}

// BoolOp joins two comparison expressions. AND binds tighter than OR; both
// are left-associative.
type BoolOp uint8

// The Boolean operators of comparison expressions.
const (
	BoolAnd BoolOp = iota + 1
	BoolOr
)

// ComparisonBinary is "Left Op Right" inside brackets. Both sides are
// evaluated against the same root object.
type ComparisonBinary struct {
	Op          BoolOp
	Left, Right ComparisonExpr
	OpOffset    int
}

// Operator is a comparison operator.
type Operator uint8

// The comparison operators. "==" parses as OpEqual and "<>" as OpNotEqual.
const (
	OpEqual        Operator = iota + 1 // =
	OpNotEqual                         // !=
	OpLess                             // <
	OpLessEqual                        // <=
	OpGreater                          // >
	OpGreaterEqual                     // >=
	OpIn                               // IN (set)
	OpLike                             // LIKE 'string'
	OpMatches                          // MATCHES 'regexp'
	OpIsSubset                         // ISSUBSET 'cidr'
	OpIsSuperset                       // ISSUPERSET 'cidr'
	OpExists                           // EXISTS path
)

// Comparison is one property test: "Path [NOT] Op Value", "Path [NOT] IN
// (Values…)" or "[NOT] EXISTS Path".
type Comparison struct {
	Path    ObjectPath
	Op      Operator
	Negated bool // NOT was written before the operator (or before EXISTS)

	// Value is the right-hand constant of every operator except OpIn, whose
	// constants are in Values, and OpExists, which has none.
	Value  Constant
	Values []Constant

	Offset int // byte offset where the comparison starts

	// Compiled forms, filled by Parse so that evaluation never compiles
	// anything. A Comparison built by hand lacks them, and its MATCHES,
	// LIKE, ISSUBSET and ISSUPERSET tests are false.
	re     *regexp.Regexp // OpMatches and OpLike, when RE2 runs them
	pcre   *pcreRegexp    // OpMatches needing a backtracking engine
	prefix netip.Prefix   // OpIsSubset and OpIsSuperset
	// canonLike holds the LIKE expression of the operand in the canonical
	// form of each of canonTypes, where that differs from the operand.
	canonLike *[len(canonTypes)]*regexp.Regexp
	hexProp   bool // the path ends in a *_hex property
	binProp   bool // the path ends in a *_bin property
}

// Regexp returns the compiled expression of a MATCHES or LIKE comparison, or
// nil (as for a MATCHES using PCRE features RE2 lacks, which runs on a
// backtracking engine). It implements the STIX semantics: for MATCHES an
// unanchored search in DOTALL mode on NFC text; for LIKE a whole-string
// match. Inputs must be NFC (see Normalize) or, for binary values, Latin-1
// (see Latin1).
func (c *Comparison) Regexp() *regexp.Regexp { return c.re }

// Prefilter returns, for a MATCHES comparison, an expression in Go's
// regexp syntax that matches at least every text the comparison's
// expression matches, so that an index can look for the literals every
// match needs; "" when there is none.
func (c *Comparison) Prefilter() string {
	switch {
	case c.Op != OpMatches:
		return ""
	case c.re != nil:
		return c.re.String()
	case c.pcre != nil:
		return c.pcre.prefilter
	}
	return ""
}

// Prefix returns the network of an ISSUBSET or ISSUPERSET comparison; a
// single address is a full-length prefix.
func (c *Comparison) Prefix() netip.Prefix { return c.prefix }

// ObjectPath is "type:step…", for example file:hashes.'SHA-256' or
// network-traffic:dst_ref.value or email-message:to_refs[*].value.
type ObjectPath struct {
	Type   string     // the root object's type, e.g. "ipv4-addr"
	Steps  []PathStep // at least one; Steps[0] is always a key
	Offset int
}

// StepKind says what a PathStep selects.
type StepKind uint8

// The kinds of path step.
const (
	StepKey      StepKind = iota + 1 // .key or .'quoted key'
	StepIndex                        // [n]; a negative n counts from the end, -1 being the last
	StepAnyIndex                     // [*]
)

// PathStep is one step of an ObjectPath. A key whose name ends in "_ref",
// or a list element under a key ending in "_refs", holds an object id; a
// following key step dereferences it to that object.
type PathStep struct {
	Kind  StepKind
	Key   string // StepKey
	Index int    // StepIndex
}

// Kind is the type of a Constant.
type Kind uint8

// The kinds of constant.
const (
	KindString    Kind = iota + 1 // 'text'
	KindInt                       // 42, -7, +3
	KindFloat                     // 7.0, -.5
	KindBool                      // true, false
	KindBinary                    // b'base64'
	KindHex                       // h'hex'
	KindTimestamp                 // t'2016-06-01T01:30:00Z'
)

// Constant is a literal value. Exactly the field for its Kind is meaningful.
type Constant struct {
	Kind  Kind
	Str   string    // KindString: the unescaped text
	Int   int64     // KindInt
	Float float64   // KindFloat
	Bool  bool      // KindBool
	Bytes []byte    // KindBinary and KindHex: the decoded octets
	Time  time.Time // KindTimestamp, in UTC
}

// Pos methods return the byte offset where a node starts in the source.

func (e *ObservationSimple) Pos() int    { return e.Offset }
func (e *ObservationBinary) Pos() int    { return e.Left.Pos() }
func (e *ObservationQualified) Pos() int { return e.Expr.Pos() }
func (e *ComparisonBinary) Pos() int     { return e.Left.Pos() }
func (e *Comparison) Pos() int           { return e.Offset }
func (q *Repeats) Pos() int              { return q.Offset }
func (q *Within) Pos() int               { return q.Offset }
func (q *StartStop) Pos() int            { return q.Offset }

// The unexported marker methods close the node interfaces to this package.

func (*ObservationSimple) observationExpr()    {}
func (*ObservationBinary) observationExpr()    {}
func (*ObservationQualified) observationExpr() {}
func (*ComparisonBinary) comparisonExpr()      {}
func (*Comparison) comparisonExpr()            {}
func (*Repeats) qualifier()                    {}
func (*Within) qualifier()                     {}
func (*StartStop) qualifier()                  {}

// Duration returns the WITHIN window. Windows too long for a time.Duration
// (about 292 years) saturate.
func (q *Within) Duration() time.Duration {
	var s float64
	if q.Seconds.Kind == KindInt {
		s = float64(q.Seconds.Int)
	} else {
		s = q.Seconds.Float
	}
	const maxSeconds = float64(1<<63-1) / float64(time.Second)
	if s >= maxSeconds {
		return time.Duration(1<<63 - 1)
	}
	return time.Duration(s * float64(time.Second))
}
