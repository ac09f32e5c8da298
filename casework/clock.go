package casework

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/entente/entente/agreement"
)

// Clock values the agreement format does not (yet) carry. Each is a
// choice recorded in doc/casework.md, with its source.
const (
	// DefaultPingHours is the acknowledgement deadline of a reachability
	// test when the agreement sets no acknowledgement deadline at all; with
	// deadlines, a ping must be answered within the shortest of them, since
	// a 24/7 contact point must meet every one.
	DefaultPingHours = 24
	// StaleDays: a contact point not successfully tested for this long is
	// stale (Budapest art. 27(2)(d), "keep correct at all times"; the UN
	// POC directory's periodic tests).
	StaleDays = 180
	// FirstTestDays: a contact point never tested becomes stale this long
	// after the agreement takes effect (RU–CN art. 5.1: 60 days to exchange
	// competent-authority details).
	FirstTestDays = 60
	// DeclarationAckDays is how long the recipient of a declaration has to
	// acknowledge it.
	DeclarationAckDays = 30
	// ReconfirmDays is how often a declaration is re-confirmed.
	ReconfirmDays = 365
	// CadenceDays is the interval of scheduled consultations: OSCE CBM 11
	// asks for at least three a year.
	CadenceDays = 122
)

const day = 24 * time.Hour

// DutyKind is what is owed.
type DutyKind uint8

const (
	DutyAcknowledge    DutyKind = iota + 1 // acknowledge receipt
	DutyAnswer                             // answer in substance (assess, execute, reply)
	DutyApproveMinutes                     // approve a consultation's minutes
	DutyActionItem                         // complete an action item
	DutyReconfirm                          // re-confirm a declaration
	DutyPreservation                       // preserved data: link the MLA request, or extend, before it expires
	DutyMeeting                            // attend the agreed meeting
)

var dutyNames = [...]string{DutyAcknowledge: "acknowledge", DutyAnswer: "answer", DutyApproveMinutes: "approve-minutes",
	DutyActionItem: "action-item", DutyReconfirm: "reconfirm", DutyPreservation: "preservation-expiry", DutyMeeting: "meeting"}

func (k DutyKind) String() string {
	if k > 0 && int(k) < len(dutyNames) {
		return dutyNames[k]
	}
	return "unknown-duty"
}

// escalates reports whether a breach of the duty climbs the escalation
// ladder: the treaty clocks of acknowledgement and answer do.
func (k DutyKind) escalates() bool {
	return k == DutyAcknowledge || k == DutyAnswer || k == DutyApproveMinutes
}

// Duty is something a party owes on a case, with its deadline.
type Duty struct {
	Kind DutyKind
	// Owner is the party that must act; empty when both must (a meeting).
	Owner string
	// Start is when the clock started, Due when it runs out.
	Start, Due time.Time
	// Item is the action item's index for DutyActionItem.
	Item int
}

// maxDuties bounds the duties of a case apart from its action items.
const maxDuties = 4

// Deadlines returns what is owed on the case now, each with its deadline
// from the agreement. A workflow the agreement sets no deadlines for has
// no acknowledge or answer duties.
func Deadlines(c Case, a *agreement.Agreement) []Duty {
	var buf [maxDuties]Duty
	ds := c.duties(a, &buf)
	out := slices.Clone(ds)
	if c.State == StateApproved {
		for i, it := range c.Actions {
			if it.Done.IsZero() {
				out = append(out, Duty{Kind: DutyActionItem, Owner: it.Owner, Start: c.Held, Due: it.Due, Item: i})
			}
		}
	}
	return out
}

// duties fills buf with the case's pending duties other than action items.
func (c *Case) duties(a *agreement.Agreement, buf *[maxDuties]Duty) []Duty {
	ds := buf[:0]
	ack, hasAck := ackDuration(c.Type, a)
	answer, hasAnswer := answerDuration(c.Type, a)
	add := func(k DutyKind, owner string, start time.Time, d time.Duration) {
		ds = append(ds, Duty{Kind: k, Owner: owner, Start: start, Due: start.Add(d)})
	}
	switch c.Type {
	case TypeIncident:
		if c.State == StateSent && hasAck {
			add(DutyAcknowledge, c.To, c.Sent, ack)
		}
		if (c.State == StateSent || c.State == StateAcknowledged || c.State == StateFinal) &&
			hasAnswer && requestsAction(c.Incident) && c.Answered.IsZero() {
			add(DutyAnswer, c.To, c.Sent, answer)
		}
	case TypeAssistance, TypePreservation:
		if c.State == StateSubmitted && hasAck {
			add(DutyAcknowledge, c.To, c.Sent, ack)
		}
		if (c.State == StateSubmitted || c.State == StateAcknowledged) && hasAnswer {
			add(DutyAnswer, c.To, c.Sent, answer)
		}
		if c.State == StatePreserved {
			ds = append(ds, Duty{Kind: DutyPreservation, Owner: c.From, Start: c.Answered, Due: c.Until})
		}
	case TypeConsultation:
		switch c.State {
		case StateRequested, StateProposed:
			if hasAnswer {
				add(DutyAnswer, c.other(c.ProposedBy), c.ProposedAt, answer)
			}
		case StateScheduled:
			ds = append(ds, Duty{Kind: DutyMeeting, Start: c.Answered, Due: c.Until})
		case StateMet:
			if hasAnswer {
				if c.Approvals&1 == 0 {
					add(DutyApproveMinutes, c.From, c.Held, answer)
				}
				if c.Approvals&2 == 0 {
					add(DutyApproveMinutes, c.To, c.Held, answer)
				}
			}
		}
	case TypeReachability:
		if c.State == StateSent {
			add(DutyAcknowledge, c.To, c.Sent, ack)
		}
	case TypeDeclaration:
		if c.State == StateDeclared {
			add(DutyAcknowledge, c.To, c.Reconfirmed, ack)
		}
		if c.State == StateDeclared || c.State == StateAcknowledged {
			add(DutyReconfirm, c.From, c.Reconfirmed, ReconfirmDays*day)
		}
	}
	return ds
}

func (c *Case) other(party string) string {
	if party == c.From {
		return c.To
	}
	return c.From
}

// ackDuration is the acknowledgement deadline of a workflow.
func ackDuration(t Type, a *agreement.Agreement) (time.Duration, bool) {
	switch t {
	case TypeReachability:
		h := 0
		for _, d := range a.Deadlines {
			if h == 0 || d.AcknowledgeHours < h {
				h = d.AcknowledgeHours
			}
		}
		if h == 0 {
			h = DefaultPingHours
		}
		return time.Duration(h) * time.Hour, true
	case TypeDeclaration:
		return DeclarationAckDays * day, true
	case TypeConsultation:
		return 0, false
	}
	d, ok := a.Deadline(t.String())
	return time.Duration(d.AcknowledgeHours) * time.Hour, ok
}

// answerDuration is the substantive-answer deadline of a workflow.
func answerDuration(t Type, a *agreement.Agreement) (time.Duration, bool) {
	switch t {
	case TypeReachability, TypeDeclaration:
		return 0, false
	}
	d, ok := a.Deadline(t.String())
	return time.Duration(d.AnswerDays) * day, ok
}

// AlarmKind is what a scheduler does when an alarm is due.
type AlarmKind uint8

const (
	AlarmRemind   AlarmKind = iota + 1 // tell the owner a deadline approaches
	AlarmBreach                        // the deadline has passed: tell both parties
	AlarmEscalate                      // take the case to the next level: Step(escalate), and tell that level's contacts
	AlarmExpire                        // preserved data has reached its end: release, or record the expiry
	AlarmStale                         // a contact point has not been tested successfully for too long
	AlarmCadence                       // a scheduled consultation is due
)

var alarmNames = [...]string{AlarmRemind: "remind", AlarmBreach: "breach", AlarmEscalate: "escalate",
	AlarmExpire: "expire", AlarmStale: "stale", AlarmCadence: "consultation-due"}

func (k AlarmKind) String() string {
	if k > 0 && int(k) < len(alarmNames) {
		return alarmNames[k]
	}
	return "unknown-alarm"
}

// Alarm is one thing a scheduler must do at a time, once.
type Alarm struct {
	Kind AlarmKind
	At   time.Time
	// Case is the case's id; empty for stale and cadence alarms.
	Case string
	Duty Duty
	// Party is the party to tell or to act (the duty's owner, or for a
	// stale contact point the party that owns it); Owed is the other.
	Party, Owed string
	// Level is the escalation level of an escalate alarm.
	Level string
	// Authority is the contact point of a stale alarm.
	Authority string
	// Key names the alarm uniquely and stably: the same deadline always
	// gives the same key, a moved deadline a new one. A scheduler records
	// the keys it has fired (Fired).
	Key string
}

// Alarms returns every alarm of the case's pending duties, past and future,
// ordered by time: for each duty a reminder when three quarters of its time
// have gone and a breach at the deadline (for preserved data, an expiry);
// and, from the earliest breached acknowledgement or answer deadline, one
// alarm per escalation level the case has not reached, as Step allows them.
func Alarms(c Case, a *agreement.Agreement) []Alarm {
	var out []Alarm
	var first Duty
	for _, d := range Deadlines(c, a) {
		out = c.alarms(out, d)
		if d.Kind.escalates() && (first.Kind == 0 || d.Due.Before(first.Due)) {
			first = d
		}
	}
	if first.Kind != 0 {
		for i := c.Level; i < len(a.Escalation); i++ {
			s := a.Escalation[i]
			out = append(out, Alarm{Kind: AlarmEscalate, At: first.Due.Add(time.Duration(s.AfterHours) * time.Hour),
				Case: c.ID, Duty: first, Party: first.Owner, Owed: c.other(first.Owner), Level: s.Level,
				Key: c.ID + "|escalate|" + s.Level + "|" + first.Due.Format(time.RFC3339Nano)})
		}
	}
	sortAlarms(out)
	return out
}

func (c *Case) alarms(out []Alarm, d Duty) []Alarm {
	owed := c.other(d.Owner)
	if d.Owner == "" {
		owed = ""
	}
	mk := func(k AlarmKind, at time.Time) Alarm {
		key := c.ID + "|" + d.Kind.String() + "|" + d.Owner + "|" + strconv.Itoa(d.Item) + "|" + k.String() + "|" + d.Due.Format(time.RFC3339Nano)
		return Alarm{Kind: k, At: at, Case: c.ID, Duty: d, Party: d.Owner, Owed: owed, Key: key}
	}
	if window := d.Due.Sub(d.Start); window > 0 {
		out = append(out, mk(AlarmRemind, d.Start.Add(window*3/4)))
	}
	switch d.Kind {
	case DutyPreservation:
		return append(out, mk(AlarmExpire, d.Due))
	case DutyMeeting:
		return out
	}
	return append(out, mk(AlarmBreach, d.Due))
}

// Fired is the set of alarm keys a scheduler has fired. It is plain data
// so that a scheduler stores it with what the alarm did, in one
// transaction, and Due never returns an alarm twice, across restarts.
type Fired map[string]bool

// Mark records that the alarm has fired.
func (f Fired) Mark(a Alarm) { f[a.Key] = true }

// Keys returns the fired keys in order, for storage.
func (f Fired) Keys() []string {
	ks := make([]string, 0, len(f))
	for k := range f {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Due returns the alarms due at now that have not fired: those of each
// case (Alarms), stale contact points (Stale) and a missing scheduled
// consultation (Cadence), ordered by time and key. An alarm missed while
// the scheduler was down is due as soon as it runs again, once.
func Due(cases []Case, a *agreement.Agreement, fired Fired, now time.Time) []Alarm {
	var out []Alarm
	keep := func(al Alarm) {
		if !al.At.After(now) && !fired[al.Key] {
			out = append(out, al)
		}
	}
	for i := range cases {
		for _, al := range Alarms(cases[i], a) {
			keep(al)
		}
	}
	for _, al := range Stale(cases, a) {
		keep(al)
	}
	for _, al := range Cadence(cases, a) {
		keep(al)
	}
	sortAlarms(out)
	return out
}

func sortAlarms(as []Alarm) {
	slices.SortFunc(as, func(x, y Alarm) int {
		if c := x.At.Compare(y.At); c != 0 {
			return c
		}
		return cmp.Compare(x.Key, y.Key)
	})
}

// effective is when the agreement took effect, or the zero time.
func effective(a *agreement.Agreement) time.Time {
	t, _ := a.Validity.Effective.Time()
	return t
}

// Stale returns, for every authority of every party, the time its contact
// point becomes stale: StaleDays after its last acknowledged reachability
// test, or FirstTestDays after the agreement took effect if it was never
// tested.
func Stale(cases []Case, a *agreement.Agreement) []Alarm {
	last := map[[2]string]time.Time{}
	for i := range cases {
		c := &cases[i]
		if c.Type == TypeReachability && c.Reachability != nil && !c.Acknowledged.IsZero() && c.Agreement == a.ID {
			k := [2]string{c.To, c.Reachability.Authority}
			if c.Acknowledged.After(last[k]) {
				last[k] = c.Acknowledged
			}
		}
	}
	var out []Alarm
	for _, p := range a.Parties {
		for _, au := range p.Authorities {
			at := effective(a).Add(FirstTestDays * day)
			since := "never"
			if t, ok := last[[2]string{p.ID, au.ID}]; ok {
				at, since = t.Add(StaleDays*day), t.Format(time.RFC3339Nano)
			}
			out = append(out, Alarm{Kind: AlarmStale, At: at, Party: p.ID, Authority: au.ID,
				Key: "stale|" + p.ID + "|" + au.ID + "|" + since})
		}
	}
	return out
}

// Cadence returns, for each pair of parties, when their next scheduled
// consultation is due: CadenceDays after the last scheduled consultation
// that met, or after the agreement took effect.
func Cadence(cases []Case, a *agreement.Agreement) []Alarm {
	last := map[[2]string]time.Time{}
	for i := range cases {
		c := &cases[i]
		if c.Type == TypeConsultation && c.Consultation != nil && c.Consultation.Scheduled && !c.Held.IsZero() && c.Agreement == a.ID {
			k := pair(c.From, c.To)
			if c.Held.After(last[k]) {
				last[k] = c.Held
			}
		}
	}
	var out []Alarm
	for i := range a.Parties {
		for j := i + 1; j < len(a.Parties); j++ {
			k := pair(a.Parties[i].ID, a.Parties[j].ID)
			from, since := effective(a), "effective"
			if t, ok := last[k]; ok {
				from, since = t, t.Format(time.RFC3339Nano)
			}
			out = append(out, Alarm{Kind: AlarmCadence, At: from.Add(CadenceDays * day), Party: k[0], Owed: k[1],
				Key: "cadence|" + k[0] + "|" + k[1] + "|" + since})
		}
	}
	return out
}

func pair(x, y string) [2]string {
	if y < x {
		x, y = y, x
	}
	return [2]string{x, y}
}
