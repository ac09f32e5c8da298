package store

import (
	"context"
	"time"
)

// Scheduling is what the node's case scheduler keeps: the alarms it has
// fired (casework.Fired), so that after a restart each is fired once and
// never again. Store includes it.
type Scheduling interface {
	// FiredAlarms lists every alarm recorded as fired, in the order
	// recorded.
	FiredAlarms(ctx context.Context) ([]FiredAlarm, error)
}

// AlarmTx is the part of Tx that records fired alarms, in the
// transaction that stores what the alarm did (an escalation step and its
// ledger entry).
type AlarmTx interface {
	// MarkFired records alarms as fired, or fails with ErrExists, and
	// records none, if one of their keys is recorded already.
	MarkFired(ctx context.Context, alarms []FiredAlarm) error
}

// FiredAlarm is an alarm of a case's clock that the scheduler fired.
type FiredAlarm struct {
	Key   string    // casework.Alarm.Key: stable per deadline
	Case  string    // the case's id; "" for stale and cadence alarms
	Due   time.Time // when the alarm fell due
	Fired time.Time // when it was fired
}
