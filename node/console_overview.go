package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/entente/entente/casework"
	"github.com/entente/entente/federation"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// The console's overview: what a duty officer sees at a glance. Every read
// here is bounded whatever the store holds (see each one's limit), and
// authorized for the node's own accounts: the ledger's counts, the links'
// health and the alerts reveal no object, so every role may read them;
// sightings and cases come only from collections the caller may read.

// ActivityBudget is how many ledger entries PartnerActivity counts at
// most in one call (about 50 ms on SQLite); past it, the older days are
// left uncounted and say so, and a later call with the same ActivityCache
// goes on with them.
const ActivityBudget = 25_000

// Activity is what each partner party sent the node and was disclosed, per
// UTC day, as the node's ledger recorded it: received entries (object
// versions stored anew from the party) and disclosed entries (versions
// released to one of its nodes).
type Activity struct {
	// Days are the days counted, oldest first, each its UTC midnight.
	Days []time.Time
	// Parties are the partner parties: the agreement's, in its order, then
	// any other the ledger names, by id.
	Parties []string
	// Received and Disclosed hold, per party, one count per day.
	Received, Disclosed map[string][]int64
	// Counted says, per day, whether its counts are complete: false when
	// ActivityBudget stopped the count first (the counts are then lower
	// bounds, or zero for a day not reached).
	Counted []bool
}

// ActivityCache keeps the counts of days that have ended, which the
// ledger no longer changes, so that each is counted once (a day of more
// entries than the budget, in part, once). It is safe for
// concurrent use; the zero value is empty.
type ActivityCache struct {
	mu   sync.Mutex
	days map[time.Time]dayCounts
}

// activitySettle is how long after a day ends its entries may still
// commit: entries are stamped before their transaction, which the store
// bounds by its busy timeout.
const activitySettle = time.Minute

// dayCounts are a day's counts; complete is false for a day that held
// more than the budget, whose counts are lower bounds.
type dayCounts struct {
	received, disclosed map[string]int64
	complete            bool
}

func (c *ActivityCache) get(day time.Time) (dayCounts, bool) {
	if c == nil {
		return dayCounts{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.days[day]
	return d, ok
}

// put keeps a day's counts, and forgets days older than oldest.
func (c *ActivityCache) put(day, oldest time.Time, d dayCounts) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.days == nil {
		c.days = map[time.Time]dayCounts{}
	}
	c.days[day] = d
	for k := range c.days {
		if k.Before(oldest) {
			delete(c.days, k)
		}
	}
}

// PartnerActivity counts what came in from and went out to each partner
// on each of the days UTC days up to and including now's, newest day
// first, reading at most ActivityBudget ledger entries. Days that ended
// are taken from cache (nil: none) when it holds them, and kept there
// once counted.
func (n *Node) PartnerActivity(ctx context.Context, c *taxii.Caller, now time.Time, days int, cache *ActivityCache) (*Activity, error) {
	if err := consoleAccount(c); err != nil {
		return nil, err
	}
	days = max(days, 1)
	now = now.UTC()
	today := now.Truncate(24 * time.Hour)
	a := &Activity{Received: map[string][]int64{}, Disclosed: map[string][]int64{}, Counted: make([]bool, days)}
	for i := range days {
		a.Days = append(a.Days, today.AddDate(0, 0, i-days+1))
	}
	if agr, _ := n.Agreement(); agr != nil {
		self := n.Party()
		for _, p := range agr.Parties {
			if p.ID != self {
				a.Parties = append(a.Parties, p.ID)
			}
		}
	}
	var others []string
	add := func(into map[string][]int64, i int, counts map[string]int64) {
		for party, c := range counts {
			if !slices.Contains(a.Parties, party) && !slices.Contains(others, party) {
				others = append(others, party)
			}
			if into[party] == nil {
				into[party] = make([]int64, days)
			}
			into[party][i] = c
		}
	}
	budget := ActivityBudget
	for i := days - 1; i >= 0; i-- {
		from, to := a.Days[i], a.Days[i].Add(24*time.Hour)
		if d, ok := cache.get(from); ok {
			add(a.Received, i, d.received)
			add(a.Disclosed, i, d.disclosed)
			a.Counted[i] = d.complete
			continue
		}
		if budget <= 0 {
			continue
		}
		var d dayCounts
		complete := true
		for _, k := range []ledger.Kind{ledger.KindReceived, ledger.KindDisclosed} {
			counts, err := n.store.CountEntries(ctx, k, from, to, budget)
			if err != nil {
				return nil, fmt.Errorf("%w: counting the ledger's %s entries: %v", taxii.ErrUnavailable, k, err)
			}
			for _, c := range counts.ByParty {
				budget -= int(c)
			}
			if k == ledger.KindReceived {
				d.received = counts.ByParty
			} else {
				d.disclosed = counts.ByParty
			}
			complete = complete && counts.Complete
		}
		add(a.Received, i, d.received)
		add(a.Disclosed, i, d.disclosed)
		a.Counted[i] = complete
		d.complete = complete
		// An entry is stamped before its transaction commits, so a day is
		// kept only a while after it ended. A day that held more than the
		// budget is kept too, as lower bounds, so that it does not take
		// the budget of the days before it on every call.
		if !to.Add(activitySettle).After(now) {
			cache.put(from, a.Days[0], d)
		}
	}
	slices.Sort(others)
	a.Parties = append(a.Parties, others...)
	for _, p := range a.Parties {
		for _, m := range []map[string][]int64{a.Received, a.Disclosed} {
			if m[p] == nil {
				m[p] = make([]int64, days)
			}
		}
	}
	return a, nil
}

// consoleAccount refuses a caller that is not one of the node's accounts.
func consoleAccount(c *taxii.Caller) error {
	if c == nil || !ValidRole(store.Role(c.Role)) {
		return taxii.ErrForbidden
	}
	return nil
}

// LinkStatus is a partner node's link as the overview shows it.
type LinkStatus struct {
	federation.Health
	// Known says the link has reported its health (live, or saved in the
	// store); false for a partner node of the agreement never reached.
	Known bool
	// Updated is when the health was saved; zero for live health.
	Updated time.Time
	// Witnessed is the latest checkpoint of the partner's log that this
	// node cosigned as its witness; WitnessedSize is 0 without one.
	Witnessed     ledger.Checkpoint
	WitnessedSize int64
	// Suspension is set while the node's witness holds the partner's log
	// suspended.
	Suspension *store.Suspension
}

// Links returns the health of each partner node's link: live, from the
// running links when live is not nil and reports any, else as the links
// last saved it in the store; then any partner node of the agreement no
// link reported on. Each comes with the latest checkpoint of the partner's
// log this node cosigned and whether its witness suspended that log.
func (n *Node) Links(ctx context.Context, c *taxii.Caller, live func() []federation.Health) ([]LinkStatus, error) {
	if err := consoleAccount(c); err != nil {
		return nil, err
	}
	var out []LinkStatus
	if live != nil {
		for _, h := range live() {
			out = append(out, LinkStatus{Health: h, Known: true})
		}
	}
	if len(out) == 0 {
		saved, err := n.store.LinkHealth(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: reading the links' health: %v", taxii.ErrUnavailable, err)
		}
		for _, h := range saved {
			out = append(out, LinkStatus{Known: true, Updated: h.Updated, Health: federation.Health{
				Node: h.Node, Party: h.Party, Log: h.Log, State: h.State,
				LastAttempt: h.LastAttempt, LastSuccess: h.LastSuccess, CaughtUp: h.CaughtUp,
				Behind: h.Behind, Pending: h.Pending, Stored: h.Stored, Duplicates: h.Duplicates,
				Refused: h.Refused, Errors: h.Errors, LastError: h.LastError, Suspended: h.Suspended}})
		}
	}
	for _, p := range n.Peers() {
		if !slices.ContainsFunc(out, func(l LinkStatus) bool { return l.Node == p.Node }) {
			out = append(out, LinkStatus{Health: federation.Health{Node: p.Node, Party: p.Party, Log: p.Log}})
		}
	}
	sus, err := n.store.Suspensions(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the suspended logs: %v", taxii.ErrUnavailable, err)
	}
	for i := range out {
		l := &out[i]
		if l.Log == "" {
			continue
		}
		if j := slices.IndexFunc(sus, func(s store.Suspension) bool { return s.Origin == l.Log }); j >= 0 {
			l.Suspension = &sus[j]
		}
		w, err := n.store.WitnessedCheckpoint(ctx, l.Log)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return nil, fmt.Errorf("%w: reading the checkpoint of %q cosigned: %v", taxii.ErrUnavailable, l.Log, err)
		}
		// Verified when it was cosigned; here it is only read.
		if cp, err := CheckpointOf(w); err == nil {
			l.Witnessed, l.WitnessedSize = cp, cp.N
		}
	}
	return out, nil
}

// OpenCase is a case that has not reached a final state, with what is owed
// on it.
type OpenCase struct {
	Case casework.Case
	// Duties are what is owed now, soonest due first.
	Duties []casework.Duty
	// Next is the soonest deadline (zero: none runs), Overdue whether it
	// has passed.
	Next    time.Time
	Overdue bool
}

// MaxOpenCases bounds the open cases OpenCases returns.
const MaxOpenCases = 50

// OpenCases returns the cases not in a final state, overdue ones first,
// then by their next deadline, then those without one by last change; at
// most MaxOpenCases, and whether there were more. A caller that may not
// read the cases collection gets taxii.ErrForbidden; a node without an
// agreement, or that holds no case yet, none.
func (n *Node) OpenCases(ctx context.Context, c *taxii.Caller, now time.Time) ([]OpenCase, bool, error) {
	if err := consoleAccount(c); err != nil {
		return nil, false, err
	}
	a, _ := n.Agreement()
	if a == nil {
		return nil, false, nil
	}
	col, err := n.casesCollection(ctx)
	if errors.Is(err, taxii.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	p, err := n.principal(ctx, c)
	if err != nil {
		return nil, false, err
	}
	if !Can(p, col.ID, ActionRead) {
		return nil, false, taxii.ErrForbidden
	}
	// Treaty cases are few (a handful a week between parties), so all
	// are read; the page shows a bounded number.
	cs, err := n.Cases(ctx)
	if err != nil {
		return nil, false, err
	}
	var out []OpenCase
	for _, cs := range cs {
		if m, ok := casework.MachineOf(cs.Type); ok && m.Terminal(cs.State) {
			continue
		}
		oc := OpenCase{Case: cs, Duties: casework.Deadlines(cs, a)}
		slices.SortStableFunc(oc.Duties, func(x, y casework.Duty) int { return x.Due.Compare(y.Due) })
		if len(oc.Duties) > 0 {
			oc.Next = oc.Duties[0].Due
			oc.Overdue = oc.Next.Before(now)
		}
		out = append(out, oc)
	}
	slices.SortStableFunc(out, func(x, y OpenCase) int {
		if x.Next.IsZero() != y.Next.IsZero() {
			if x.Next.IsZero() {
				return 1
			}
			return -1
		}
		if x.Next.IsZero() {
			return y.Case.Modified.Compare(x.Case.Modified)
		}
		return x.Next.Compare(y.Next)
	})
	more := len(out) > MaxOpenCases
	return out[:min(len(out), MaxOpenCases)], more, nil
}

// Recent is an object version the overview lists, and where it is stored.
type Recent struct {
	store.Object
	APIRoot string
}

// NewestOfType returns at most limit of the newest stored versions of
// type typ (newest first) in the collections the caller may read: limit
// from each collection, merged. The cost is one index read per collection.
func (n *Node) NewestOfType(ctx context.Context, c *taxii.Caller, typ string, limit int) ([]Recent, error) {
	if err := consoleAccount(c); err != nil {
		return nil, err
	}
	cols, err := n.ReadableCollections(ctx, c)
	if err != nil {
		return nil, err
	}
	var out []Recent
	for _, col := range cols {
		objs, err := n.store.NewestObjects(ctx, col.ID, typ, limit)
		if err != nil {
			return nil, fmt.Errorf("%w: reading the newest %s of %s: %v", taxii.ErrUnavailable, typ, col.ID, err)
		}
		for _, o := range objs {
			out = append(out, Recent{Object: o, APIRoot: col.APIRoot})
		}
	}
	slices.SortFunc(out, func(x, y Recent) int { return cmp.Or(y.DateAdded.Compare(x.DateAdded), cmp.Compare(y.Seq, x.Seq)) })
	return out[:min(len(out), limit)], nil
}

// NewestAlerts returns the newest limit alerts raised about partners
// (agreement violations, bad signatures, replayed pages, suspended links),
// newest first.
func (n *Node) NewestAlerts(ctx context.Context, c *taxii.Caller, limit int) ([]store.Alert, error) {
	if err := consoleAccount(c); err != nil {
		return nil, err
	}
	as, err := n.store.NewestAlerts(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("%w: reading alerts: %v", taxii.ErrUnavailable, err)
	}
	return as, nil
}

// Party is the id of the party the node belongs to, "" when it works
// under no agreement.
func (n *Node) Party() string {
	if f := n.fed.Load(); f != nil {
		return f.party
	}
	return ""
}
