package node_test

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/entente/entente/casework"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store/sqlite"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// scheduled is arcadia's node on a database file it can close and open
// again (a restart), on a fake clock.
type scheduled struct {
	p     *party
	path  string
	clock *fakeClock
	n     *node.Node
	close func()
}

func (s *scheduled) start(t *testing.T) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), s.path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := node.Initialize(t.Context(), st, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	s.n, err = node.New(t.Context(), node.Config{Store: st, Key: s.p.key, Agreement: s.p.ag, Self: s.p.nodeID, Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.close = func() { st.Close() }
}

func (s *scheduled) restart(t *testing.T) { s.close(); s.start(t) }

// firing is an alarm as the test compares it: its kind, level and time
// after the case was sent.
type firing struct {
	kind  string
	level string
	after time.Duration
}

// runSchedule sends an incident notification from arcadia at t0 that
// borealis never acknowledges, then fires alarms at each of ticks (after
// t0), restarting the node after the ticks in restartAfter. It returns
// what fired, the fired keys and the case's last version.
func runSchedule(t *testing.T, ticks []time.Duration, restartAfter map[int]bool) ([]firing, []string, casework.Case) {
	a, _ := twoParties(t, nil)
	t0 := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	s := &scheduled{p: a, path: filepath.Join(t.TempDir(), "sched.db"), clock: &fakeClock{t: t0}}
	s.start(t)
	t.Cleanup(func() { s.close() })
	ctx := t.Context()
	c, err := s.n.OpenCase(ctx, casework.TypeIncident, caseFields(casework.TypeIncident), nil, "borealis")
	if err != nil {
		t.Fatal(err)
	}
	if c, err = s.n.StepCase(ctx, c.ID, casework.Event{Kind: casework.EventSend}); err != nil {
		t.Fatal(err)
	}
	var (
		out  []firing
		keys []string
	)
	for i, d := range ticks {
		s.clock.Set(t0.Add(d))
		als, err := s.n.FireDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, al := range als {
			out = append(out, firing{al.Kind.String(), al.Level, al.At.Sub(t0)})
			keys = append(keys, al.Key)
		}
		if restartAfter[i] {
			s.restart(t)
		}
	}
	last, err := s.n.LatestCase(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Every escalation is a signed version with its ledger transition.
	st, err := sqlite.Open(ctx, s.path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	size, _ := st.LedgerSize(ctx)
	recs, _ := st.LedgerRecords(ctx, 0, size)
	escalations := 0
	for _, r := range recs {
		e, err := ledger.DecodeEntry(r.Entry)
		if err != nil {
			t.Fatal(err)
		}
		if tr, ok := e.Event.(ledger.Transition); ok && tr.Attrs["event"] == "escalate" {
			escalations++
		}
	}
	if escalations != last.Level {
		t.Errorf("%d escalation transitions in the ledger, case at level %d", escalations, last.Level)
	}
	return out, keys, last
}

// TestSchedulerFiresEachAlarmOnceAcrossRestarts: hourly for three weeks
// with restarts in between, and once after three weeks down then again
// after a restart, the scheduler fires the same alarms, each once, and
// takes the case up the whole escalation ladder.
func TestSchedulerFiresEachAlarmOnceAcrossRestarts(t *testing.T) {
	var hourly []time.Duration
	for h := 0; h <= 21*24; h++ {
		hourly = append(hourly, time.Duration(h)*time.Hour)
	}
	got1, keys1, last1 := runSchedule(t, hourly, map[int]bool{3: true, 4: true, 100: true})
	down := 21 * 24 * time.Hour
	got2, keys2, last2 := runSchedule(t, []time.Duration{down, down, down + time.Hour}, map[int]bool{0: true, 1: true})

	for _, keys := range [][]string{keys1, keys2} {
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				t.Errorf("alarm %s fired twice", k)
			}
			seen[k] = true
		}
	}
	if len(got1) == 0 || len(got1) != len(got2) {
		t.Fatalf("hourly fired %v; after a long stop %v", got1, got2)
	}
	cmp := func(x, y firing) int {
		if c := x.after - y.after; c != 0 {
			return int(c / time.Second)
		}
		if x.kind != y.kind {
			if x.kind < y.kind {
				return -1
			}
			return 1
		}
		if x.level < y.level {
			return -1
		}
		if x.level > y.level {
			return 1
		}
		return 0
	}
	slices.SortFunc(got1, cmp)
	slices.SortFunc(got2, cmp)
	if !slices.Equal(got1, got2) {
		t.Errorf("hourly fired %v; after a long stop %v", got1, got2)
	}
	var kinds []string
	for _, f := range got1 {
		kinds = append(kinds, f.kind+"/"+f.level)
	}
	for _, want := range []string{"remind/", "breach/", "escalate/technical", "escalate/competent-authority", "escalate/diplomatic"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("fired %v; no %s", kinds, want)
		}
	}
	if last1.Level != 3 || last2.Level != 3 {
		t.Errorf("escalation levels %d and %d, want the ladder's 3", last1.Level, last2.Level)
	}
}
