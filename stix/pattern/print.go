package pattern

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
)

// String returns the pattern in canonical form: single spaces, upper-case
// keywords, "=" and "!=" for equality, keys quoted only where needed,
// constants in one spelling each, and parentheses only where precedence
// requires them. Parsing the result yields the same tree.
func (p *Pattern) String() string {
	var b strings.Builder
	writeObservation(&b, p.Expr)
	return b.String()
}

// String returns the canonical form of the comparison, e.g.
// "file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'".
func (c *Comparison) String() string {
	var b strings.Builder
	writeComparison(&b, c)
	return b.String()
}

// String returns the canonical form of the path, e.g.
// "file:extensions.'windows-pebinary-ext'.sections[*].entropy".
func (p ObjectPath) String() string {
	var b strings.Builder
	writePath(&b, p)
	return b.String()
}

// String returns the constant as a pattern literal.
func (k Constant) String() string {
	var b strings.Builder
	writeConstant(&b, k)
	return b.String()
}

// String returns the operator's keyword.
func (op ObservationOp) String() string {
	switch op {
	case ObsAnd:
		return "AND"
	case ObsOr:
		return "OR"
	case ObsFollowedBy:
		return "FOLLOWEDBY"
	}
	return "?"
}

// String returns the operator's keyword.
func (op BoolOp) String() string {
	if op == BoolAnd {
		return "AND"
	}
	return "OR"
}

var operatorText = [...]string{
	OpEqual:        "=",
	OpNotEqual:     "!=",
	OpLess:         "<",
	OpLessEqual:    "<=",
	OpGreater:      ">",
	OpGreaterEqual: ">=",
	OpIn:           "IN",
	OpLike:         "LIKE",
	OpMatches:      "MATCHES",
	OpIsSubset:     "ISSUBSET",
	OpIsSuperset:   "ISSUPERSET",
	OpExists:       "EXISTS",
}

// String returns the operator as the canonical form writes it.
func (op Operator) String() string {
	if int(op) < len(operatorText) && operatorText[op] != "" {
		return operatorText[op]
	}
	return "?"
}

// Binding strength of observation nodes; higher binds tighter.
func observationPrec(e ObservationExpr) int {
	switch e := e.(type) {
	case *ObservationBinary:
		switch e.Op {
		case ObsFollowedBy:
			return 1
		case ObsOr:
			return 2
		}
		return 3
	case *ObservationQualified:
		return 4
	}
	return 5
}

func writeObservation(b *strings.Builder, e ObservationExpr) {
	switch e := e.(type) {
	case *ObservationSimple:
		b.WriteByte('[')
		writeComparisonExpr(b, e.Comparison, 0)
		b.WriteByte(']')
	case *ObservationBinary:
		prec := observationPrec(e)
		// Operators are left-associative, so a right operand of the same
		// strength needs parentheses to keep its grouping.
		writeObservationOperand(b, e.Left, observationPrec(e.Left) < prec)
		b.WriteByte(' ')
		b.WriteString(e.Op.String())
		b.WriteByte(' ')
		writeObservationOperand(b, e.Right, observationPrec(e.Right) <= prec)
	case *ObservationQualified:
		paren := observationPrec(e.Expr) < 4 || chainHas(e.Expr, e.Qualifier)
		writeObservationOperand(b, e.Expr, paren)
		b.WriteByte(' ')
		writeQualifier(b, e.Qualifier)
	}
}

// chainHas reports whether the qualifier chain directly on e already holds
// a qualifier of q's kind; printing q after it without parentheses would
// then read as a duplicate.
func chainHas(e ObservationExpr, q Qualifier) bool {
	for {
		qe, ok := e.(*ObservationQualified)
		if !ok {
			return false
		}
		if qualifierName(qe.Qualifier) == qualifierName(q) {
			return true
		}
		e = qe.Expr
	}
}

func writeObservationOperand(b *strings.Builder, e ObservationExpr, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	writeObservation(b, e)
	if paren {
		b.WriteByte(')')
	}
}

func writeQualifier(b *strings.Builder, q Qualifier) {
	switch q := q.(type) {
	case *Repeats:
		b.WriteString("REPEATS ")
		b.WriteString(strconv.Itoa(q.Times))
		b.WriteString(" TIMES")
	case *Within:
		b.WriteString("WITHIN ")
		writeConstant(b, q.Seconds)
		b.WriteString(" SECONDS")
	case *StartStop:
		b.WriteString("START ")
		writeConstant(b, Constant{Kind: KindTimestamp, Time: q.Start})
		b.WriteString(" STOP ")
		writeConstant(b, Constant{Kind: KindTimestamp, Time: q.Stop})
	}
}

// writeComparisonExpr prints e; parentPrec is the strength of the enclosing
// operator (0 none, 1 OR, 2 AND).
func writeComparisonExpr(b *strings.Builder, e ComparisonExpr, parentPrec int) {
	switch e := e.(type) {
	case *Comparison:
		writeComparison(b, e)
	case *ComparisonBinary:
		prec := 1
		if e.Op == BoolAnd {
			prec = 2
		}
		paren := prec < parentPrec
		if paren {
			b.WriteByte('(')
		}
		writeComparisonExpr(b, e.Left, prec)
		b.WriteByte(' ')
		b.WriteString(e.Op.String())
		b.WriteByte(' ')
		// A right operand of equal strength is parenthesized, since the
		// operators associate to the left.
		if r, ok := e.Right.(*ComparisonBinary); ok && r.Op == e.Op {
			b.WriteByte('(')
			writeComparisonExpr(b, e.Right, 0)
			b.WriteByte(')')
		} else {
			writeComparisonExpr(b, e.Right, prec)
		}
		if paren {
			b.WriteByte(')')
		}
	}
}

func writeComparison(b *strings.Builder, c *Comparison) {
	if c.Op == OpExists {
		if c.Negated {
			b.WriteString("NOT ")
		}
		b.WriteString("EXISTS ")
		writePath(b, c.Path)
		return
	}
	writePath(b, c.Path)
	if c.Negated {
		b.WriteString(" NOT")
	}
	b.WriteByte(' ')
	b.WriteString(c.Op.String())
	b.WriteByte(' ')
	if c.Op == OpIn {
		b.WriteByte('(')
		for i, v := range c.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			writeConstant(b, v)
		}
		b.WriteByte(')')
		return
	}
	writeConstant(b, c.Value)
}

func writePath(b *strings.Builder, p ObjectPath) {
	b.WriteString(p.Type)
	for i, s := range p.Steps {
		switch s.Kind {
		case StepKey:
			if i == 0 {
				b.WriteByte(':')
			} else {
				b.WriteByte('.')
			}
			if plainKey(s.Key) {
				b.WriteString(s.Key)
			} else {
				writeString(b, s.Key)
			}
		case StepIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.Index))
			b.WriteByte(']')
		case StepAnyIndex:
			b.WriteString("[*]")
		}
	}
}

// plainKey reports whether a key may be written unquoted: an identifier
// without '-' that is not a keyword.
func plainKey(k string) bool {
	if k == "" || !isIdentStart(k[0]) {
		return false
	}
	for i := 1; i < len(k); i++ {
		if !isIdentChar(k[i]) {
			return false
		}
	}
	_, kw := keywords[k]
	return !kw
}

func writeString(b *strings.Builder, s string) {
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
}

func writeConstant(b *strings.Builder, k Constant) {
	switch k.Kind {
	case KindString:
		writeString(b, k.Str)
	case KindInt:
		b.WriteString(strconv.FormatInt(k.Int, 10))
	case KindFloat:
		s := strconv.FormatFloat(k.Float, 'f', -1, 64)
		b.WriteString(s)
		if !strings.Contains(s, ".") {
			// Without a point the literal would read back as an integer.
			b.WriteString(".0")
		}
	case KindBool:
		b.WriteString(strconv.FormatBool(k.Bool))
	case KindBinary:
		b.WriteString("b'")
		b.WriteString(base64.StdEncoding.EncodeToString(k.Bytes))
		b.WriteByte('\'')
	case KindHex:
		b.WriteString("h'")
		b.WriteString(hex.EncodeToString(k.Bytes))
		b.WriteByte('\'')
	case KindTimestamp:
		b.WriteString("t'")
		b.WriteString(k.Time.UTC().Format("2006-01-02T15:04:05.999999999Z"))
		b.WriteByte('\'')
	}
}
