package casework

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/entente/entente/agreement"
)

// Event is one step a party takes on a case. Only the members the event
// kind uses are read.
type Event struct {
	Kind EventKind
	// Actor is the party taking the step.
	Actor string
	// Ground is the refusal ground of refuse and decline: one the refusing
	// party lists in the agreement.
	Ground string
	// At is the meeting time a propose event proposes.
	At time.Time
	// Ref is the reference of the mutual legal assistance request
	// (link-mla) or of the minutes (hold).
	Ref string
	// Partial says assistance (accept) or preservation (preserve) is given
	// in part only.
	Partial bool
	// Pledge, on acknowledging a declaration, records the Pledge.
	Pledge bool
	// Item is the action item add-action adds.
	Item ActionItem
	// Index is the action item complete-action completes.
	Index int
	// Note is free text; it is screened like the case's fields.
	Note string
}

// RuleError is a refused step: Rule names the rule that forbids it (a short
// stable name, listed in doc/casework.md) and Msg says why.
type RuleError struct {
	Rule string
	Msg  string
}

func (e *RuleError) Error() string { return "casework: " + e.Msg + " [" + e.Rule + "]" }

// The refusals that are not a state machine's. Each is built once, so a
// refused step allocates nothing.
var (
	errUnknownType   = &RuleError{"type", "unknown case type: the case types are incident-notification, assistance-request, preservation-request, consultation, reachability-test and ci-declaration"}
	errUnknownEvent  = &RuleError{"event", "unknown event"}
	errNoAgreement   = &RuleError{"agreement", "no agreement: every case runs under one"}
	errAgreement     = &RuleError{"agreement", "the case runs under another agreement"}
	errNotParty      = &RuleError{"party", "the actor is not a party to the case"}
	errNoFields      = &RuleError{"fields", "the case has no content of its type"}
	errTimeOrder     = &RuleError{"time-order", "a step cannot come before the case's last step"}
	errGround        = &RuleError{"refusal-ground", "a refusal must give one of the grounds the refusing party lists in the agreement"}
	errPledge        = &RuleError{"pledge", "acknowledging a declaration records the pledge that the party does not conduct or support activity against it"}
	errStage         = &RuleError{"stage", "the notification follows an early warning only; an update follows a notification"}
	errNoRequest     = &RuleError{"reply", "the notification requested no action to reply to"}
	errAnswered      = &RuleError{"reply", "the requested actions have been answered already"}
	errExtendExpired = &RuleError{"preservation-expired", "the preservation has expired; it can no longer be extended"}
	errNotExpired    = &RuleError{"preservation-period", "the preservation period has not run out"}
	errNoRef         = &RuleError{"reference", "give the reference of the mutual legal assistance request or of the minutes"}
	errPast          = &RuleError{"meeting-time", "propose a meeting time in the future"}
	errTooEarly      = &RuleError{"meeting-time", "the meeting cannot be held before its agreed time"}
	errApproved      = &RuleError{"minutes", "this party has approved the minutes already"}
	errItem          = &RuleError{"action-item", "an action item needs an owner that is a party to the case, a text, and a deadline after now"}
	errNoItem        = &RuleError{"action-item", "no such open action item"}
	errOpenItems     = &RuleError{"action-item", "the consultation has open action items"}
	errNotMissed     = &RuleError{"deadline", "the ping's acknowledgement deadline has not passed"}
	errNotOverdue    = &RuleError{"escalation", "nothing the other party owes on this case is overdue"}
	errNotYet        = &RuleError{"escalation", "the next level of the escalation ladder is not due yet"}
	errLadderTop     = &RuleError{"escalation", "the case is at the top of the agreement's escalation ladder"}
	errNoLadder      = &RuleError{"escalation", "the agreement has no escalation ladder"}
)

// maxBatch is how far a step may come before the case's last one and
// still be taken, a millisecond after it, as part of one batch.
const maxBatch = time.Second

// Step decides one step of a case: whether event e may happen to c under
// agreement a at time now, and if so the case it leads to. It is the only
// function that changes a case. On error the case is returned unchanged
// and the error is a *RuleError naming the rule that forbids the step; a
// refused step allocates nothing.
//
// Step checks the case type and state against the state machine
// (Machines), that the actor is a party with the role the arc requires,
// that time does not run backwards, and the rules of the event: refusal
// grounds the agreement lists, the declaration pledge, preservation
// periods, meeting times, action items, and the escalation ladder.
// Whether the agreement is in force is the caller's to check.
func Step(c Case, e Event, a *agreement.Agreement, now time.Time) (Case, error) {
	if !c.Type.valid() || c.State == 0 || c.State >= numStates {
		return c, errUnknownType
	}
	if e.Kind == 0 || e.Kind >= numEvents {
		return c, errUnknownEvent
	}
	if a == nil {
		return c, errNoAgreement
	}
	if a.ID != c.Agreement {
		return c, errAgreement
	}
	cl := &table[c.Type][c.State][e.Kind]
	if !cl.ok {
		return c, cl.refused
	}
	var role Role
	switch e.Actor {
	case c.From:
		role = Initiator
	case c.To:
		role = Recipient
	default:
		return c, errNotParty
	}
	switch cl.by {
	case Initiator, Recipient:
		if role != cl.by {
			return c, cl.wrongParty
		}
	case Counter:
		if e.Actor == c.ProposedBy {
			return c, cl.wrongParty
		}
	}
	if !hasFields(&c) {
		return c, errNoFields
	}
	now = stamp(now)
	if !now.After(c.Modified) {
		// Versions are told apart by their modified time: steps taken in
		// one batch at one instant get consecutive milliseconds. A step
		// further back than that is time running backwards.
		if c.Modified.Sub(now) > maxBatch {
			return c, errTimeOrder
		}
		now = c.Modified.Add(time.Millisecond)
	}

	next := c
	next.State = cl.to
	switch e.Kind {
	case EventSend:
		next.Sent = now
		if c.Type == TypeDeclaration {
			next.Reconfirmed = now
		}
		if c.Type == TypeConsultation {
			next.ProposedAt = now
		}
	case EventAcknowledge:
		if c.Type == TypeDeclaration && !e.Pledge {
			return c, errPledge
		}
		next.acknowledge(now)
	case EventNotify:
		if c.Stage != StageEarlyWarning {
			return c, errStage
		}
		next.Stage = StageNotification
	case EventUpdate:
		if c.Stage != StageNotification && c.Stage != StageUpdate {
			return c, errStage
		}
		next.Stage = StageUpdate
	case EventReply:
		if !requestsAction(c.Incident) {
			return c, errNoRequest
		}
		if !c.Answered.IsZero() {
			return c, errAnswered
		}
		next.answer(now)
	case EventFinalize:
		next.Stage = StageFinal
	case EventAccept:
		next.answer(now)
		next.Partial = e.Partial
		if c.Type == TypeConsultation {
			next.ProposedBy, next.ProposedAt = "", time.Time{}
		}
	case EventDecline, EventRefuse:
		if !refusalGround(a, e.Actor, e.Ground) {
			return c, errGround
		}
		next.answer(now)
		next.Ground = e.Ground
	case EventNotice:
		next.answer(now)
	case EventPreserve:
		next.answer(now)
		next.Partial = e.Partial
		next.Until = now.Add(preservePeriod(c.Preservation, a))
	case EventExtend:
		if !now.Before(c.Until) {
			return c, errExtendExpired
		}
		next.Until = c.Until.Add(preservePeriod(c.Preservation, a))
		next.Extensions++
	case EventLinkMLA:
		if e.Ref == "" {
			return c, errNoRef
		}
		next.Link = e.Ref
	case EventExpire:
		if now.Before(c.Until) {
			return c, errNotExpired
		}
	case EventPropose:
		at := stamp(e.At)
		if !at.After(now) {
			return c, errPast
		}
		next.Until, next.ProposedBy, next.ProposedAt = at, e.Actor, now
		if role == Recipient && c.Answered.IsZero() {
			// A counter-proposal answers the request.
			next.answer(now)
		}
	case EventHold:
		if now.Before(c.Until) {
			return c, errTooEarly
		}
		if e.Ref == "" {
			return c, errNoRef
		}
		next.Link, next.Held, next.Approvals = e.Ref, now, 0
	case EventApprove:
		bit := uint8(1)
		if role == Recipient {
			bit = 2
		}
		if c.Approvals&bit != 0 {
			return c, errApproved
		}
		next.Approvals |= bit
		if next.Approvals == 3 {
			next.State = cl.or
		}
	case EventAddAction:
		it := e.Item
		it.Due = stamp(it.Due)
		if (it.Owner != c.From && it.Owner != c.To) || it.Text == "" || !it.Due.After(now) || !it.Done.IsZero() {
			return c, errItem
		}
		next.Actions = append(slices.Clip(c.Actions), it)
		next.base |= Screen(it.Text)
	case EventCompleteAction:
		if e.Index < 0 || e.Index >= len(c.Actions) || !c.Actions[e.Index].Done.IsZero() {
			return c, errNoItem
		}
		if c.Actions[e.Index].Owner != e.Actor {
			return c, cl.wrongParty
		}
		next.Actions = slices.Clone(c.Actions)
		next.Actions[e.Index].Done = now
	case EventClose:
		for i := range c.Actions {
			if c.Actions[i].Done.IsZero() {
				return c, errOpenItems
			}
		}
	case EventMiss:
		if d, ok := ackDuration(c.Type, a); !ok || now.Before(c.Sent.Add(d)) {
			return c, errNotMissed
		}
	case EventReconfirm:
		next.Reconfirmed = now
	case EventEscalate:
		if err := escalation(&c, e.Actor, a, now); err != nil {
			return c, err
		}
		next.Level++
	}
	next.Modified, next.Actor, next.Note, next.Event = now, e.Actor, e.Note, e.Kind
	next.Flags = next.base
	if e.Note != "" {
		next.Flags |= Screen(e.Note)
	}
	return next, nil
}

// acknowledge records the first acknowledgement: any substantive step of
// the recipient acknowledges receipt too.
func (c *Case) acknowledge(now time.Time) {
	if c.Acknowledged.IsZero() {
		c.Acknowledged = now
	}
}

// answer records the recipient's answer, which acknowledges receipt too.
func (c *Case) answer(now time.Time) {
	c.acknowledge(now)
	c.Answered = now
}

func hasFields(c *Case) bool {
	switch c.Type {
	case TypeIncident:
		return c.Incident != nil
	case TypeAssistance:
		return c.Assistance != nil
	case TypePreservation:
		return c.Preservation != nil
	case TypeConsultation:
		return c.Consultation != nil
	case TypeReachability:
		return c.Reachability != nil
	case TypeDeclaration:
		return c.Declaration != nil
	}
	return false
}

// requestsAction reports whether a notification asks the recipient to do
// something, and so needs a reply.
func requestsAction(in *Incident) bool {
	if in == nil {
		return false
	}
	for _, a := range in.RequestedActions {
		if a != "acknowledge-only" {
			return true
		}
	}
	return false
}

// refusalGround reports whether ground is one the party lists. The grounds
// the agreement requires of every party (political offence, essential
// interests, human rights) are always there, since the agreement cannot
// be valid without them.
func refusalGround(a *agreement.Agreement, party, ground string) bool {
	if ground == "" {
		return false
	}
	p, ok := a.Party(party)
	return ok && slices.Contains(p.RefusalGrounds, ground)
}

// preservePeriod is how long data is preserved at each preserve or extend:
// the longer of the period asked for and the agreement's preserve_days,
// and never less than the 60 days of art. 29(7).
func preservePeriod(p *Preservation, a *agreement.Agreement) time.Duration {
	days := agreement.MinPreserveDays
	if p != nil && p.PeriodDays > days {
		days = p.PeriodDays
	}
	if d, ok := a.Deadline(TypePreservation.String()); ok && d.PreserveDays > days {
		days = d.PreserveDays
	}
	return time.Duration(days) * 24 * time.Hour
}

// escalation checks that actor may take the case one level up the ladder
// at now: something the other party owes is overdue, and the next level's
// after_hours have passed since it fell due.
func escalation(c *Case, actor string, a *agreement.Agreement, now time.Time) error {
	if len(a.Escalation) == 0 {
		return errNoLadder
	}
	if c.Level >= len(a.Escalation) {
		return errLadderTop
	}
	var buf [maxDuties]Duty
	var breach time.Time
	for _, d := range c.duties(a, &buf) {
		if d.Kind.escalates() && d.Owner != actor && !d.Due.After(now) && (breach.IsZero() || d.Due.Before(breach)) {
			breach = d.Due
		}
	}
	if breach.IsZero() {
		return errNotOverdue
	}
	if now.Before(breach.Add(time.Duration(a.Escalation[c.Level].AfterHours) * time.Hour)) {
		return errNotYet
	}
	return nil
}

// ErrNotAStep is wrapped by Verify's errors: the received version does not
// follow from the previous one by any step the agreement allows.
var ErrNotAStep = errors.New("casework: the version does not follow from the previous one")

// Verify checks that next, a version received from the other party (or
// read back from storage), follows from prev by the step it names: it
// rebuilds the event from next, takes it with Step at next's time, and
// compares the result with next. Both parties thereby decide every step
// with the same function.
func Verify(prev, next Case, a *agreement.Agreement) error {
	if next.ID != prev.ID || next.Type != prev.Type {
		return fmt.Errorf("%w: it is another case", ErrNotAStep)
	}
	e := Event{Kind: next.Event, Actor: next.Actor, Note: next.Note, Ground: next.Ground, Ref: next.Link,
		At: next.Until, Partial: next.Partial, Pledge: next.Type == TypeDeclaration && next.Event == EventAcknowledge}
	switch next.Event {
	case EventAddAction:
		if len(next.Actions) > 0 {
			e.Item = next.Actions[len(next.Actions)-1]
		}
	case EventCompleteAction:
		for i := range prev.Actions {
			if i < len(next.Actions) && prev.Actions[i].Done.IsZero() && !next.Actions[i].Done.IsZero() {
				e.Index = i
			}
		}
	}
	if !next.Modified.After(prev.Modified) {
		return fmt.Errorf("%w: modified %s does not follow %s", ErrNotAStep, next.Modified, prev.Modified)
	}
	got, err := Step(prev, e, a, next.Modified)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotAStep, err)
	}
	g, err := Canonical(got)
	if err != nil {
		return err
	}
	n, err := Canonical(next)
	if err != nil {
		return err
	}
	if !bytes.Equal(g, n) {
		return fmt.Errorf("%w: %s by %s gives another version", ErrNotAStep, next.Event, next.Actor)
	}
	return nil
}
