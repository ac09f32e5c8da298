package match

import (
	"slices"
	"time"

	"github.com/entente/entente/stix/pattern"
)

// A Window decides the patterns that span several observations (AND, OR
// and FOLLOWEDBY between observation expressions, REPEATS, WITHIN and
// START/STOP) over a stream of records. For each such indicator it keeps the
// recent records that satisfy one of the pattern's observation expressions
// and runs the reference evaluator over them whenever one arrives. A match
// consumes the records it used.
//
// State is bounded: an indicator keeps at most MaxRecords records, none
// older than its WITHIN window or, without one, than Horizon before the
// newest, and at most MaxIndicators indicators hold state at once. Matches
// that need more history than that are missed; the STIX text puts no bound
// on patterns without WITHIN, and a stream must.
//
// A Window is not safe for concurrent use: it sees records in stream order.
type Window struct {
	MaxRecords    int
	MaxIndicators int
	Horizon       time.Duration

	states map[string]*windowState
}

type windowState struct {
	pat     *pattern.Pattern
	leaves  []*pattern.ObservationSimple
	horizon time.Duration
	recs    []*Record
	obs     []pattern.Observation
	newest  time.Time
}

// Defaults of NewWindow.
const (
	DefaultWindowRecords    = 256
	DefaultWindowIndicators = 1 << 16
	DefaultWindowHorizon    = 24 * time.Hour
)

// NewWindow returns a Window with the default bounds.
func NewWindow() *Window {
	return &Window{
		MaxRecords:    DefaultWindowRecords,
		MaxIndicators: DefaultWindowIndicators,
		Horizon:       DefaultWindowHorizon,
		states:        make(map[string]*windowState),
	}
}

// Offer gives the window a record that may take part in a match of
// indicator n of ix (as [Scanner.Scan] reported), and calls hit if the
// indicator now matches. A reload is handled by keying the state on the
// indicator id: it survives a reload that keeps the pattern.
func (w *Window) Offer(ix *Index, n uint32, rec *Record, now time.Time, hit func(Hit)) error {
	p := ix.pattern(n)
	if p == nil {
		return nil
	}
	id := ix.id(n)
	st := w.states[id]
	if st == nil || st.pat != p {
		st = newWindowState(p, w.Horizon)
		if len(w.states) >= w.MaxIndicators {
			w.evict(rec.Time)
		}
		w.states[id] = st
	}
	obs, err := Observation(rec)
	if err != nil {
		return err
	}
	if obs.First.IsZero() {
		obs.First, obs.Last = now, now
	}
	if !slices.ContainsFunc(st.leaves, func(l *pattern.ObservationSimple) bool {
		_, ok := l.Matches(obs)
		return ok
	}) {
		return nil
	}
	st.add(rec.Clone(), *obs, w.MaxRecords)
	res, ok := p.Match(st.obs)
	if !ok {
		return nil
	}
	used := make([]int, 0, len(res.Bindings))
	for _, b := range res.Bindings {
		if !slices.Contains(used, b.Observation) {
			used = append(used, b.Observation)
		}
	}
	slices.Sort(used)
	recs := make([]*Record, len(used))
	for i, u := range used {
		recs[i] = st.recs[u]
	}
	hit(Hit{Indicator: id, Time: obs.Last, Records: recs})
	st.recs, st.obs = st.recs[:0], st.obs[:0]
	return nil
}

func newWindowState(p *pattern.Pattern, horizon time.Duration) *windowState {
	st := &windowState{pat: p, horizon: horizon}
	if q, ok := p.Expr.(*pattern.ObservationQualified); ok {
		if within, ok := q.Qualifier.(*pattern.Within); ok {
			st.horizon = min(st.horizon, within.Duration())
		}
	}
	var walk func(pattern.ObservationExpr)
	walk = func(e pattern.ObservationExpr) {
		switch e := e.(type) {
		case *pattern.ObservationSimple:
			st.leaves = append(st.leaves, e)
		case *pattern.ObservationBinary:
			walk(e.Left)
			walk(e.Right)
		case *pattern.ObservationQualified:
			walk(e.Expr)
		}
	}
	walk(p.Expr)
	return st
}

// add appends an observation and drops what the bounds exclude.
func (st *windowState) add(rec *Record, o pattern.Observation, maxRecords int) {
	if o.Last.After(st.newest) {
		st.newest = o.Last
	}
	st.recs = append(st.recs, rec)
	st.obs = append(st.obs, o)
	// The window of a match spans less than the horizon, so records that
	// ended before newest - horizon can no longer take part in one.
	cut := 0
	for cut < len(st.obs) && (st.newest.Sub(st.obs[cut].Last) >= st.horizon || len(st.obs)-cut > maxRecords) {
		cut++
	}
	if cut > 0 {
		st.recs = slices.Delete(st.recs, 0, cut)
		st.obs = slices.Delete(st.obs, 0, cut)
	}
}

// evict makes room for one more indicator: first those whose records all
// fell out of their horizon, then any.
func (w *Window) evict(now time.Time) {
	for id, st := range w.states {
		if now.Sub(st.newest) >= st.horizon {
			delete(w.states, id)
		}
	}
	for id := range w.states {
		if len(w.states) < w.MaxIndicators {
			break
		}
		delete(w.states, id)
	}
}
