package pattern

import (
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestRoundTripProperty prints random trees and parses them back: the
// canonical form must reproduce the tree, whatever its shape.
func TestRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := &Pattern{Expr: genObservation(t, 3)}
		src := p.String()
		q, err := Parse(src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		if got := q.String(); got != src {
			t.Fatalf("reprinted differently:\n want %s\n  got %s", src, got)
		}
		if !equalTrees(stripPositions(p), stripPositions(q)) {
			t.Fatalf("tree changed through %s", src)
		}
	})
}

// equalTrees compares through the canonical printer and the structure; the
// generator never sets compiled fields, so those are cleared on both sides.
func equalTrees(a, b *Pattern) bool {
	return a.String() == b.String() && sameShape(a.Expr, b.Expr)
}

func sameShape(a, b ObservationExpr) bool {
	switch a := a.(type) {
	case *ObservationSimple:
		b, ok := b.(*ObservationSimple)
		return ok && sameComparison(a.Comparison, b.Comparison)
	case *ObservationBinary:
		b, ok := b.(*ObservationBinary)
		return ok && a.Op == b.Op && sameShape(a.Left, b.Left) && sameShape(a.Right, b.Right)
	case *ObservationQualified:
		b, ok := b.(*ObservationQualified)
		return ok && qualifierName(a.Qualifier) == qualifierName(b.Qualifier) && sameShape(a.Expr, b.Expr)
	}
	return false
}

func sameComparison(a, b ComparisonExpr) bool {
	switch a := a.(type) {
	case *Comparison:
		b, ok := b.(*Comparison)
		return ok && a.Op == b.Op && a.Negated == b.Negated && a.Path.String() == b.Path.String()
	case *ComparisonBinary:
		b, ok := b.(*ComparisonBinary)
		return ok && a.Op == b.Op && sameComparison(a.Left, b.Left) && sameComparison(a.Right, b.Right)
	}
	return false
}

var (
	genType = rapid.StringMatching(`[a-z][a-z0-9]{0,5}(-[a-z0-9]{1,4}){0,2}`)
	genKey  = rapid.OneOf(
		rapid.StringMatching(`[a-zA-Z_][a-zA-Z0-9_]{0,8}`),
		rapid.String(),
		rapid.SampledFrom([]string{"AND", "true", "SHA-256", "x_ref", "a.b", "it's"}),
	)
	genTime = rapid.Custom(func(t *rapid.T) time.Time {
		sec := rapid.Int64Range(-62135596800, 253402300799).Draw(t, "sec")
		nsec := rapid.Int64Range(0, 999_999_999).Draw(t, "nsec")
		return time.Unix(sec, nsec).UTC()
	})
)

func genObservation(t *rapid.T, depth int) ObservationExpr {
	kind := rapid.IntRange(0, 2).Draw(t, "obsKind")
	if depth == 0 {
		kind = 0
	}
	switch kind {
	case 1:
		return &ObservationBinary{
			Op:    rapid.SampledFrom([]ObservationOp{ObsAnd, ObsOr, ObsFollowedBy}).Draw(t, "obsOp"),
			Left:  genObservation(t, depth-1),
			Right: genObservation(t, depth-1),
		}
	case 2:
		e := genObservation(t, depth-1)
		// A chain holds each qualifier kind at most once; a repeated kind
		// is legal only across parentheses, which the printer adds.
		for _, k := range rapid.Permutation([]int{0, 1, 2}).Draw(t, "quals")[:rapid.IntRange(1, 3).Draw(t, "nquals")] {
			e = &ObservationQualified{Expr: e, Qualifier: genQualifier(t, k)}
		}
		return e
	}
	typ := genType.Draw(t, "type")
	return &ObservationSimple{Comparison: genComparisonExpr(t, typ, depth)}
}

func genQualifier(t *rapid.T, kind int) Qualifier {
	switch kind {
	case 0:
		return &Repeats{Times: rapid.IntRange(1, math.MaxInt32).Draw(t, "times")}
	case 1:
		if rapid.Bool().Draw(t, "intWithin") {
			return &Within{Seconds: Constant{Kind: KindInt, Int: rapid.Int64Range(1, math.MaxInt64).Draw(t, "within")}}
		}
		return &Within{Seconds: Constant{Kind: KindFloat, Float: rapid.Float64Range(math.SmallestNonzeroFloat64, math.MaxFloat64).Draw(t, "within")}}
	}
	start := genTime.Draw(t, "start")
	stop := start.Add(time.Duration(rapid.Int64Range(1, math.MaxInt64).Draw(t, "span")))
	if stop.Year() > 9999 {
		stop = time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC)
	}
	if !start.Before(stop) {
		start = stop.Add(-time.Nanosecond)
	}
	return &StartStop{Start: start, Stop: stop}
}

// genComparisonExpr builds comparisons on a single root type, which keeps
// every AND satisfiable.
func genComparisonExpr(t *rapid.T, typ string, depth int) ComparisonExpr {
	if depth > 0 && rapid.IntRange(0, 2).Draw(t, "cmpBinary") == 0 {
		return &ComparisonBinary{
			Op:    rapid.SampledFrom([]BoolOp{BoolAnd, BoolOr}).Draw(t, "boolOp"),
			Left:  genComparisonExpr(t, typ, depth-1),
			Right: genComparisonExpr(t, typ, depth-1),
		}
	}
	c := &Comparison{Path: genPath(t, typ), Negated: rapid.Bool().Draw(t, "not")}
	c.Op = rapid.SampledFrom([]Operator{
		OpEqual, OpNotEqual, OpLess, OpLessEqual, OpGreater, OpGreaterEqual,
		OpIn, OpLike, OpMatches, OpIsSubset, OpIsSuperset, OpExists,
	}).Draw(t, "op")
	switch c.Op {
	case OpIn:
		k := genConstant(t, false)
		c.Values = []Constant{k}
		for range rapid.IntRange(0, 3).Draw(t, "setLen") {
			v := genConstant(t, false)
			if kindClass(v.Kind) == kindClass(k.Kind) {
				c.Values = append(c.Values, v)
			}
		}
	case OpLike:
		c.Value = Constant{Kind: KindString, Str: rapid.String().Draw(t, "like")}
	case OpMatches:
		c.Value = Constant{Kind: KindString, Str: rapid.SampledFrom([]string{`^a.*b$`, `(?i)evil`, `\x00\xff`, `[0-9]{2,4}`, "é|e\u0301"}).Draw(t, "re")}
	case OpIsSubset, OpIsSuperset:
		c.Value = Constant{Kind: KindString, Str: rapid.SampledFrom([]string{"198.51.100.0/24", "2001:db8::/32", "203.0.113.7", "::1"}).Draw(t, "cidr")}
	case OpExists:
	default:
		c.Value = genConstant(t, c.Op != OpEqual && c.Op != OpNotEqual)
	}
	return c
}

func genPath(t *rapid.T, typ string) ObjectPath {
	first := genKey.Draw(t, "key")
	if first == "hashes" {
		// Keys under "hashes" are checked against digest lengths, which
		// random constants would fail.
		first = "h"
	}
	p := ObjectPath{Type: typ, Steps: []PathStep{{Kind: StepKey, Key: first}}}
	for range rapid.IntRange(0, 3).Draw(t, "steps") {
		switch rapid.IntRange(0, 2).Draw(t, "step") {
		case 0:
			if k := genKey.Draw(t, "key"); k != "hashes" {
				p.Steps = append(p.Steps, PathStep{Kind: StepKey, Key: k})
			}
		case 1:
			p.Steps = append(p.Steps, PathStep{Kind: StepIndex, Index: rapid.IntRange(0, 1<<20).Draw(t, "index")})
		default:
			p.Steps = append(p.Steps, PathStep{Kind: StepAnyIndex})
		}
	}
	return p
}

func genConstant(t *rapid.T, ordered bool) Constant {
	kinds := []Kind{KindString, KindInt, KindFloat, KindBinary, KindHex, KindTimestamp}
	if !ordered {
		kinds = append(kinds, KindBool)
	}
	switch k := rapid.SampledFrom(kinds).Draw(t, "kind"); k {
	case KindString:
		return Constant{Kind: k, Str: rapid.String().Draw(t, "str")}
	case KindInt:
		return Constant{Kind: k, Int: rapid.Int64().Draw(t, "int")}
	case KindFloat:
		f := rapid.Float64().Draw(t, "float")
		if math.IsInf(f, 0) || math.IsNaN(f) {
			f = 0.5
		}
		return Constant{Kind: k, Float: f}
	case KindBool:
		return Constant{Kind: k, Bool: rapid.Bool().Draw(t, "bool")}
	case KindBinary:
		return Constant{Kind: k, Bytes: rapid.SliceOfN(rapid.Byte(), 1, 16).Draw(t, "bin")}
	case KindHex:
		return Constant{Kind: k, Bytes: rapid.SliceOfN(rapid.Byte(), 0, 16).Draw(t, "hex")}
	default:
		return Constant{Kind: KindTimestamp, Time: genTime.Draw(t, "ts")}
	}
}
