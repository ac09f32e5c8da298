package pattern

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Observation is one observed-data object as the evaluator sees it: a time
// window, a count, and the cyber-observable objects it saw. Build them with
// ObservationsFromBundle, or directly from decoded JSON.
type Observation struct {
	// ID is the observed-data's id; Match reports it back in bindings.
	ID string
	// First and Last are first_observed and last_observed. The observation
	// may have happened at any instant in [First, Last]; the temporal
	// operators hold when some choice of instants satisfies them.
	First, Last time.Time
	// Count is number_observed: the observed-data stands for Count distinct
	// observations in the window. Values below 1 count as 1.
	Count int
	// Objects holds the SCOs the observed-data holds, as decoded JSON,
	// keyed by id (object_refs form) or by the dictionary key (deprecated
	// objects form). The *_ref and *_refs properties are looked up here, and
	// only here: a reference to an object that is not in Objects does not
	// resolve (STIX 2.1 section 9.7.4), so Objects must not hold objects the
	// observed-data does not list. The map is never modified.
	Objects map[string]map[string]any
	// Roots are the keys in Objects of the objects a pattern may start from:
	// object_refs in order, or every key of the objects dictionary.
	Roots []string
}

// Binding records that one simple observation expression ("[…]") of a
// match was satisfied by the root object Root of observation Observation.
type Binding struct {
	Expr        *ObservationSimple
	Observation int    // index into the slice given to Match
	Root        string // key in that observation's Objects
}

// Result is what Match found.
type Result struct {
	// Bindings has one entry per simple observation expression in the
	// match, REPEATS counted as many times as it repeats, in pattern order,
	// up to MaxReported entries.
	Bindings []Binding
	// Truncated reports that the search hit one of its work limits
	// (MaxBindings, MaxSteps) before finding a match, so a false result may
	// be a missed match. It never accompanies a true result.
	Truncated bool
}

// Work limits of Match. An observation expression keeps at most MaxBindings
// candidate bindings, and one Match call spends at most MaxSteps steps
// (each a candidate combined, filtered or tested), so no pattern or input
// can make Match run away; Result.Truncated reports when a limit was hit.
const (
	MaxBindings = 4096
	MaxSteps    = 1 << 16
	// MaxReported caps Result.Bindings, which REPEATS would otherwise grow
	// with its count.
	MaxReported = 1024
)

// Match reports whether the observations together satisfy the pattern, with
// the bindings of one match. It follows STIX 2.1 §9: an observed-data with
// number_observed N counts as N observations; AND and FOLLOWEDBY need
// distinct observations; FOLLOWEDBY, WITHIN and START/STOP use the
// observation windows.
func (p *Pattern) Match(obs []Observation) (Result, bool) {
	m := matcher{obs: obs, steps: MaxSteps}
	bs := m.eval(p.Expr)
	if len(bs) == 0 {
		return Result{Truncated: m.truncated}, false
	}
	return Result{Bindings: bs[0].leaves}, true
}

// MatchOne reports whether the single observation o satisfies the pattern
// on its own. For a pattern that is one "[…]" without qualifiers it
// evaluates the comparison expression directly and allocates nothing; other
// patterns go through Match.
func (p *Pattern) MatchOne(o *Observation) bool {
	if s, ok := p.Expr.(*ObservationSimple); ok {
		_, ok := s.Matches(o)
		return ok
	}
	_, ok := p.Match([]Observation{*o})
	return ok
}

// Matches reports whether some root object of o satisfies the comparison
// expression, and returns the first such root's key.
func (s *ObservationSimple) Matches(o *Observation) (root string, ok bool) {
	for _, id := range o.Roots {
		if obj := o.Objects[id]; obj != nil && EvalComparison(s.Comparison, o, obj) {
			return id, true
		}
	}
	return "", false
}

// EvalComparison evaluates a comparison expression against one root object
// of o. Object references in paths resolve through o.Objects.
func EvalComparison(e ComparisonExpr, o *Observation, root map[string]any) bool {
	switch e := e.(type) {
	case *Comparison:
		return e.eval(o, root)
	case *ComparisonBinary:
		if e.Op == BoolAnd {
			return EvalComparison(e.Left, o, root) && EvalComparison(e.Right, o, root)
		}
		return EvalComparison(e.Left, o, root) || EvalComparison(e.Right, o, root)
	}
	return false
}

func (c *Comparison) eval(o *Observation, root map[string]any) bool {
	if t, _ := root["type"].(string); t != c.Path.Type {
		return false
	}
	var resolved, hit bool
	if len(c.Path.Steps) == 1 {
		// The common indicator shape, type:property, skips the walk.
		key := c.Path.Steps[0].Key
		v, ok := root[key]
		resolved = ok && v != nil
		hit = resolved && (c.Op == OpExists || c.test(v, valueOf(root, key)))
	} else {
		resolved, hit = c.walk(o, root, 0, false, "")
	}
	if c.Op == OpExists {
		return resolved != c.Negated
	}
	// A path that does not resolve makes the comparison false whatever the
	// operator, NOT included.
	return resolved && hit != c.Negated
}

// valueOf returns the type of obj when key is its value property, which
// compares in that type's canonical form (see Canonical), or "".
func valueOf(obj map[string]any, key string) string {
	if key != "value" {
		return ""
	}
	t, _ := obj["type"].(string)
	return t
}

// endsInValue reports whether the path ends in a value property, which may
// compare in canonical form.
func endsInValue(p ObjectPath) bool {
	last := p.Steps[len(p.Steps)-1]
	return last.Kind == StepKey && last.Key == "value"
}

// walk follows the path from v at step i. It reports whether the path
// resolved to at least one value and whether any value passed the test.
// deref says v is an object reference, to be followed by a key step; typ
// is the type of the object whose value property v is, or "".
func (c *Comparison) walk(o *Observation, v any, i int, deref bool, typ string) (resolved, hit bool) {
	if i == len(c.Path.Steps) {
		if v == nil {
			return false, false
		}
		return true, c.Op == OpExists || c.test(v, typ)
	}
	st := &c.Path.Steps[i]
	switch st.Kind {
	case StepKey:
		m, ok := v.(map[string]any)
		if !ok && deref {
			id, _ := v.(string)
			m, ok = o.Objects[id]
		}
		if !ok {
			return false, false
		}
		next, ok := m[st.Key]
		if !ok {
			return false, false
		}
		typ := ""
		if i == len(c.Path.Steps)-1 {
			typ = valueOf(m, st.Key)
		}
		return c.walk(o, next, i+1, strings.HasSuffix(st.Key, "_ref"), typ)
	case StepIndex, StepAnyIndex:
		list, ok := v.([]any)
		if !ok {
			return false, false
		}
		refs := i > 0 && c.Path.Steps[i-1].Kind == StepKey && strings.HasSuffix(c.Path.Steps[i-1].Key, "_refs")
		if st.Kind == StepIndex {
			at := st.Index
			if at < 0 {
				at += len(list) // -1 is the last element
			}
			if at < 0 || at >= len(list) {
				return false, false
			}
			return c.walk(o, list[at], i+1, refs, "")
		}
		for _, e := range list {
			r, h := c.walk(o, e, i+1, refs, "")
			resolved = resolved || r
			if h {
				return true, true
			}
		}
		return resolved, false
	}
	return false, false
}

// octetProperty reports whether the path ends in a property that holds
// octets: *_hex (hex digits) or *_bin (base64), or a list of them.
func octetProperty(p ObjectPath) (hexProp, binProp bool) {
	for i := len(p.Steps) - 1; i >= 0; i-- {
		if p.Steps[i].Kind == StepKey {
			k := p.Steps[i].Key
			return strings.HasSuffix(k, "_hex"), strings.HasSuffix(k, "_bin")
		}
	}
	return false, false
}

// test applies the operator to one resolved value, before negation. typ
// is the type of the object whose value property v is, or "": such values
// and the constants they meet compare in canonical form (see Canonical).
func (c *Comparison) test(v any, typ string) bool {
	canon := canonIndex(typ) >= 0
	if s, ok := v.(string); ok && canon {
		v = Canonical(typ, s)
	}
	switch c.Op {
	case OpIn:
		for i := range c.Values {
			k := &c.Values[i]
			if canon {
				k = canonicalConstant(typ, k)
			}
			if ord, ok := c.compare(v, k); ok && ord == 0 {
				return true
			}
		}
		return false
	case OpLike, OpMatches:
		s, ok := v.(string)
		if !ok {
			return false
		}
		var re interface{ MatchString(string) bool }
		switch {
		case c.Op == OpLike && canon && c.canonLike != nil && c.canonLike[canonIndex(typ)] != nil:
			re = c.canonLike[canonIndex(typ)]
		case c.re != nil:
			re = c.re
		case c.pcre != nil:
			re = c.pcre
		default:
			return false
		}
		if c.hexProp || c.binProp {
			if c.Op == OpLike {
				return false
			}
			b, ok := decodeOctets(s, c.hexProp)
			return ok && re.MatchString(Latin1(b))
		}
		return re.MatchString(Normalize(s))
	case OpIsSubset, OpIsSuperset:
		s, ok := v.(string)
		if !ok || !c.prefix.IsValid() {
			return false
		}
		p, err := parsePrefix(s)
		if err != nil {
			return false
		}
		if c.Op == OpIsSubset {
			return prefixContains(c.prefix, p)
		}
		return prefixContains(p, c.prefix)
	}
	k := &c.Value
	if canon {
		k = canonicalConstant(typ, k)
	}
	ord, ok := c.compare(v, k)
	if !ok {
		// Incompatible types are unequal, and unordered.
		return c.Op == OpNotEqual
	}
	switch c.Op {
	case OpEqual:
		return ord == 0
	case OpNotEqual:
		return ord != 0
	case OpLess:
		return ord < 0
	case OpLessEqual:
		return ord <= 0
	case OpGreater:
		return ord > 0
	case OpGreaterEqual:
		return ord >= 0
	}
	return false
}

// canonicalConstant returns k in the canonical form of typ's value
// property: a string, or the text of binary and hex octets.
func canonicalConstant(typ string, k *Constant) *Constant {
	switch k.Kind {
	case KindString:
		if s := Canonical(typ, k.Str); s != k.Str {
			return &Constant{Kind: KindString, Str: s}
		}
	case KindBinary, KindHex:
		if s := Canonical(typ, string(k.Bytes)); s != string(k.Bytes) {
			return &Constant{Kind: k.Kind, Bytes: []byte(s)}
		}
	}
	return k
}

// prefixContains reports whether network outer contains network inner
// (equal networks included).
func prefixContains(outer, inner netip.Prefix) bool {
	return outer.Addr().Is4() == inner.Addr().Is4() &&
		outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}

// compare orders the property value v against the constant k. ok is false
// when the two have incompatible types; booleans compare only for
// equality, as 0 or 1.
func (c *Comparison) compare(v any, k *Constant) (ord int, ok bool) {
	switch v := v.(type) {
	case string:
		return c.compareString(v, k)
	case bool:
		if k.Kind != KindBool {
			return 0, false
		}
		if v == k.Bool {
			return 0, true
		}
		return 1, true
	case float64:
		return compareFloat(v, k)
	case json.Number:
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return compareInt(n, k)
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return 0, false
		}
		return compareFloat(f, k)
	case int:
		return compareInt(int64(v), k)
	case int64:
		return compareInt(v, k)
	}
	return 0, false
}

func (c *Comparison) compareString(s string, k *Constant) (int, bool) {
	hexProp, binProp := c.hexProp, c.binProp
	switch k.Kind {
	case KindString:
		if hexProp || binProp {
			b, ok := decodeOctets(s, hexProp)
			if !ok {
				return 0, false
			}
			kb, ok := latin1Bytes(k.Str)
			if !ok {
				return 0, false
			}
			return bytes.Compare(b, kb), true
		}
		// Go compares strings bytewise, and UTF-8 preserves code-point
		// order, so this is the spec's code-point comparison.
		return strings.Compare(s, k.Str), true
	case KindBinary, KindHex:
		if !hexProp && !binProp {
			// Text compared with octets compares as its UTF-8 encoding,
			// which is what the text is on the wire (section 9.2).
			return bytes.Compare([]byte(s), k.Bytes), true
		}
		b, ok := decodeOctets(s, hexProp)
		if !ok {
			return 0, false
		}
		return bytes.Compare(b, k.Bytes), true
	case KindTimestamp:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, false
		}
		return t.Compare(k.Time), true
	}
	return 0, false
}

// decodeOctets reads a *_hex or *_bin property value.
func decodeOctets(s string, hexProp bool) ([]byte, bool) {
	var (
		b   []byte
		err error
	)
	if hexProp {
		b, err = hex.DecodeString(s)
	} else {
		b, err = base64.StdEncoding.DecodeString(s)
	}
	return b, err == nil
}

// latin1Bytes converts a string constant compared with octets: each code
// point becomes one octet, which needs every code point below U+0100.
func latin1Bytes(s string) ([]byte, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r >= 0x100 || r == utf8.RuneError {
			return nil, false
		}
		b = append(b, byte(r))
	}
	return b, true
}

func compareInt(n int64, k *Constant) (int, bool) {
	switch k.Kind {
	case KindInt:
		switch {
		case n < k.Int:
			return -1, true
		case n > k.Int:
			return 1, true
		}
		return 0, true
	case KindFloat:
		ord, ok := compareIntFloat(n, k.Float)
		return ord, ok
	}
	return 0, false
}

func compareFloat(f float64, k *Constant) (int, bool) {
	switch k.Kind {
	case KindInt:
		ord, ok := compareIntFloat(k.Int, f)
		return -ord, ok
	case KindFloat:
		if math.IsNaN(f) || math.IsNaN(k.Float) {
			return 0, false
		}
		switch {
		case f < k.Float:
			return -1, true
		case f > k.Float:
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// compareIntFloat compares exactly, without rounding n to a float64 (which
// would make 2^53+1 equal 2^53).
func compareIntFloat(n int64, f float64) (int, bool) {
	switch {
	case math.IsNaN(f):
		return 0, false
	case f >= 1<<63:
		return -1, true
	case f < -(1 << 63):
		return 1, true
	}
	t := math.Trunc(f)
	ti := int64(t)
	switch {
	case n < ti:
		return -1, true
	case n > ti:
		return 1, true
	case f > t:
		return -1, true
	case f < t:
		return 1, true
	}
	return 0, true
}
