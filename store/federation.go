package store

import (
	"context"
	"time"
)

// Federating is what a node keeps about its links to partner nodes: where
// each pull resumes, each link's health, and the alerts raised about
// partners. Store includes it.
type Federating interface {
	// Cursor returns the added_after to resume pulling a partner node's
	// collection from: the zero time (and no error) if none was saved.
	Cursor(ctx context.Context, node, collection string) (time.Time, error)
	// SaveCursor records where to resume pulling a partner node's
	// collection. A cursor never moves back: saving an earlier time than
	// the stored one keeps the stored one.
	SaveCursor(ctx context.Context, node, collection string, addedAfter time.Time) error
	// Cursors lists every saved cursor, by node and collection.
	Cursors(ctx context.Context) ([]Cursor, error)

	// PutLinkHealth records a link's health, replacing what was recorded
	// for its node.
	PutLinkHealth(ctx context.Context, h LinkHealth) error
	// LinkHealth lists the recorded health of every link, by node.
	LinkHealth(ctx context.Context) ([]LinkHealth, error)

	// AddAlert records an alert and returns its id, which increases with
	// each alert.
	AddAlert(ctx context.Context, a Alert) (int64, error)
	// Alerts lists the alerts with ID > after, oldest first, at most
	// limit of them.
	Alerts(ctx context.Context, after int64, limit int) ([]Alert, error)
}

// Cursor is where pulling a partner node's collection resumes.
type Cursor struct {
	Node       string // the partner node's id in the agreement
	Collection string // the partner's collection id
	AddedAfter time.Time
	Updated    time.Time // when it was saved
}

// LinkHealth is the state of a link to a partner node, as the link last
// reported it (federation.Health).
type LinkHealth struct {
	Node  string // the partner node's id in the agreement
	Party string
	Log   string // the partner node's log name (its checkpoints' origin)
	State string
	// LastAttempt, LastSuccess and CaughtUp: when the link last asked for
	// a page, last stored one, and last reached the end of every
	// collection. Zero: never.
	LastAttempt, LastSuccess, CaughtUp time.Time
	// Behind counts versions pulled since the link last caught up;
	// Pending says the partner had more.
	Behind  int64
	Pending bool
	// Totals since the link started.
	Stored, Duplicates, Refused, Errors int64
	LastError                           string
	// Suspended says why the link stopped, "" while it runs.
	Suspended string
	Updated   time.Time
}

// Alert is something about a partner that an operator must look at: an
// agreement violation, a replayed page, a suspended link.
type Alert struct {
	ID    int64 // given by AddAlert
	Time  time.Time
	Party string // the partner party concerned
	Node  string // the partner node, "" if not known
	// Kind is a short bounded name ("violation", "bad-signature",
	// "replay", "suspended").
	Kind string
	// Object names the object version concerned ("id@version"), "" if none.
	Object string
	// Detail says what happened and what to do.
	Detail string
	// Entry is the index of the ledger entry that records it, -1 if none.
	Entry int64
}
