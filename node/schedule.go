package node

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/entente/entente/casework"
	"github.com/entente/entente/store"
)

// An AlarmHook is told of each alarm the scheduler fires, after it is
// recorded as fired (the notifier sends it by SMTP).
type AlarmHook func(ctx context.Context, al casework.Alarm, c casework.Case)

// OnAlarm sets the hook told of each fired alarm.
func (n *Node) OnAlarm(h AlarmHook) { n.onAlarm.Store(&h) }

// alarmHooks holds the node's AlarmHook.
type alarmHooks = atomic.Pointer[AlarmHook]

// FireDue fires the alarms of the node's cases that are due at the node's
// clock and not fired yet (casework.Due over the fired keys stored), in
// order, each once: an escalation this node's party may take is taken
// (Step escalate) and stored with its ledger transition and its fired key
// in one transaction, then pushed to the partner; any other alarm's key
// is stored in a transaction of its own. The hook hears of each after its
// commit. It returns the alarms fired.
func (n *Node) FireDue(ctx context.Context) ([]casework.Alarm, error) {
	a, self, err := n.caseParty()
	if err != nil {
		return nil, err
	}
	n.scheduleMu.Lock()
	defer n.scheduleMu.Unlock()
	cases, err := n.Cases(ctx)
	if err != nil {
		return nil, err
	}
	recorded, err := n.store.FiredAlarms(ctx)
	if err != nil {
		return nil, fmt.Errorf("node: reading fired alarms: %w", err)
	}
	fired := make(casework.Fired, len(recorded))
	for _, r := range recorded {
		fired[r.Key] = true
	}
	now := n.now().UTC()
	due := casework.Due(cases, a, fired, now)
	var out []casework.Alarm
	for _, al := range due {
		rec := store.FiredAlarm{Key: al.Key, Case: al.Case, Due: al.At, Fired: now}
		stepped := false
		if al.Kind == casework.AlarmEscalate && al.Owed == self {
			var err error
			if stepped, err = n.escalate(ctx, al, rec); err != nil {
				return out, err
			}
		}
		if !stepped {
			err := n.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
				return tx.MarkFired(ctx, []store.FiredAlarm{rec})
			})
			if err != nil {
				return out, fmt.Errorf("node: recording alarm %s as fired: %w", al.Key, err)
			}
		}
		n.log.InfoContext(ctx, "casework: alarm", slog.String("kind", al.Kind.String()), slog.String("case", al.Case),
			slog.String("party", al.Party), slog.String("level", al.Level), slog.Time("due", al.At))
		if h := n.onAlarm.Load(); h != nil {
			var c casework.Case
			for _, x := range cases {
				if x.ID == al.Case {
					c = x
				}
			}
			(*h)(ctx, al, c)
		}
		out = append(out, al)
	}
	return out, nil
}

// escalate takes the escalation al names on its case, storing the new
// version, its transition and the fired key rec together. It reports
// false, having stored nothing, when Step refuses (the case moved on):
// the alarm is then only recorded.
func (n *Node) escalate(ctx context.Context, al casework.Alarm, rec store.FiredAlarm) (bool, error) {
	a, self, err := n.caseParty()
	if err != nil {
		return false, err
	}
	e := casework.Event{Kind: casework.EventEscalate, Actor: self}
	n.caseMu.Lock()
	prev, err := n.LatestCase(ctx, al.Case)
	if err != nil {
		n.caseMu.Unlock()
		return false, err
	}
	next, err := casework.Step(prev, e, a, n.now())
	if err != nil {
		n.caseMu.Unlock()
		n.log.WarnContext(ctx, "casework: an escalation alarm's step was refused", slog.String("case", al.Case), slog.Any("error", err))
		return false, nil
	}
	err = n.storeCaseWith(ctx, next, casework.Record(prev, next, e, a, self), nil, []store.FiredAlarm{rec})
	n.caseMu.Unlock()
	if err != nil {
		return false, err
	}
	n.caseEvent(ctx, prev, next)
	n.deliverCase(ctx, next, false)
	return true, nil
}

// RunScheduler fires due alarms (FireDue) every interval until ctx ends.
func (n *Node) RunScheduler(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := n.FireDue(ctx); err != nil && ctx.Err() == nil {
			n.log.WarnContext(ctx, "casework: firing alarms; trying again", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
