package pattern

import (
	"strconv"
	"strings"
	"time"
)

// The search works bottom-up on sets of candidate bindings. A binding is a
// multiset of observations (an observed-data with number_observed N may be
// used up to N times, since its copies are interchangeable) with two
// aggregates that decide every temporal operator:
//
//   - WITHIN d holds when instants can be chosen in every window so that
//     they span less than d: max(First) - min(Last) < d.
//   - A FOLLOWEDBY B holds when instants can be chosen so that every A
//     instant is at or before every B instant: max(First of A) ≤ min(Last of B).
//   - START s STOP t holds when every window meets [s, t):
//     max(First) < t and min(Last) ≥ s.
//
// Bindings with the same multiset are interchangeable, so each set keeps
// one per multiset; this, MaxBindings and MaxSteps bound the work.

type use struct{ obs, n int }

type binding struct {
	uses              []use // sorted by obs
	maxFirst, minLast time.Time
	leaves            []Binding
}

type matcher struct {
	obs       []Observation
	steps     int
	truncated bool
}

// spend consumes one step of work and reports whether any is left.
func (m *matcher) spend() bool {
	if m.steps <= 0 {
		m.truncated = true
		return false
	}
	m.steps--
	return true
}

func (m *matcher) count(i int) int {
	return max(m.obs[i].Count, 1)
}

func (m *matcher) eval(e ObservationExpr) []binding {
	switch e := e.(type) {
	case *ObservationSimple:
		var out []binding
		for i := range m.obs {
			if !m.spend() {
				break
			}
			o := &m.obs[i]
			if root, ok := e.Matches(o); ok {
				out = append(out, binding{
					uses:     []use{{obs: i, n: 1}},
					maxFirst: o.First,
					minLast:  o.Last,
					leaves:   []Binding{{Expr: e, Observation: i, Root: root}},
				})
			}
		}
		return out
	case *ObservationBinary:
		left := m.eval(e.Left)
		if e.Op != ObsOr && len(left) == 0 {
			return nil
		}
		right := m.eval(e.Right)
		switch e.Op {
		case ObsOr:
			return m.union(left, right)
		case ObsAnd:
			return m.join(left, right, false)
		default:
			return m.join(left, right, true)
		}
	case *ObservationQualified:
		inner := m.eval(e.Expr)
		switch q := e.Qualifier.(type) {
		case *Repeats:
			return m.repeat(inner, q.Times)
		case *Within:
			d := q.Duration()
			return m.filter(inner, func(b *binding) bool { return b.maxFirst.Sub(b.minLast) < d })
		case *StartStop:
			return m.filter(inner, func(b *binding) bool {
				return b.maxFirst.Before(q.Stop) && !b.minLast.Before(q.Start)
			})
		}
	}
	return nil
}

func (m *matcher) filter(bs []binding, keep func(*binding) bool) []binding {
	out := bs[:0]
	for i := range bs {
		if !m.spend() {
			break
		}
		if keep(&bs[i]) {
			out = append(out, bs[i])
		}
	}
	return out
}

// union is OR: every binding of either side, one per multiset.
func (m *matcher) union(left, right []binding) []binding {
	seen := make(map[string]bool, len(left)+len(right))
	var out []binding
	for _, side := range [][]binding{left, right} {
		for _, b := range side {
			if !m.spend() || len(out) >= MaxBindings {
				m.truncated = true
				return out
			}
			k := key(b.uses)
			if !seen[k] {
				seen[k] = true
				out = append(out, b)
			}
		}
	}
	return out
}

// join is AND (ordered false) and FOLLOWEDBY (ordered true): one binding
// from each side, using no observation more often than it was observed.
func (m *matcher) join(left, right []binding, ordered bool) []binding {
	seen := make(map[string]bool)
	var out []binding
	for i := range left {
		for j := range right {
			if !m.spend() || len(out) >= MaxBindings {
				m.truncated = true
				return out
			}
			l, r := &left[i], &right[j]
			if ordered && l.maxFirst.After(r.minLast) {
				continue
			}
			uses, ok := m.merge(l.uses, r.uses)
			if !ok {
				continue
			}
			k := key(uses)
			if seen[k] {
				continue
			}
			seen[k] = true
			b := binding{uses: uses, maxFirst: l.maxFirst, minLast: l.minLast}
			if r.maxFirst.After(b.maxFirst) {
				b.maxFirst = r.maxFirst
			}
			if r.minLast.Before(b.minLast) {
				b.minLast = r.minLast
			}
			b.leaves = append(append(make([]Binding, 0, min(len(l.leaves)+len(r.leaves), MaxReported)), l.leaves...), r.leaves...)
			b.leaves = b.leaves[:min(len(b.leaves), MaxReported)]
			out = append(out, b)
		}
	}
	return out
}

// repeat is REPEATS n: n bindings of inner on distinct observations, built
// as inner AND inner AND … by doubling, so that n costs log n joins.
func (m *matcher) repeat(inner []binding, n int) []binding {
	total := 0
	for i := range m.obs {
		total += m.count(i)
		if total >= n {
			break
		}
	}
	if total < n || len(inner) == 0 {
		// Fewer observations than repetitions: no match is possible.
		return nil
	}
	var acc []binding
	have := false
	pow := inner
	for {
		if n&1 == 1 {
			if have {
				acc = m.join(acc, pow, false)
			} else {
				acc, have = pow, true
			}
			if len(acc) == 0 {
				return nil
			}
		}
		n >>= 1
		if n == 0 {
			return acc
		}
		pow = m.join(pow, pow, false)
		if len(pow) == 0 {
			return nil
		}
	}
}

// merge adds two multisets, failing when an observation would be used more
// often than it was observed.
func (m *matcher) merge(a, b []use) ([]use, bool) {
	out := make([]use, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].obs < b[j].obs:
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].obs < a[i].obs:
			out = append(out, b[j])
			j++
		default:
			n := a[i].n + b[j].n
			if n > m.count(a[i].obs) {
				return nil, false
			}
			out = append(out, use{obs: a[i].obs, n: n})
			i++
			j++
		}
	}
	return out, true
}

func key(uses []use) string {
	var b strings.Builder
	for _, u := range uses {
		b.WriteString(strconv.Itoa(u.obs))
		b.WriteByte('x')
		b.WriteString(strconv.Itoa(u.n))
		b.WriteByte(',')
	}
	return b.String()
}
