package casework

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/ledger"
)

// twoLedgers records cases' steps as both parties' nodes do: each step in
// the actor's ledger when taken, and in the other's when received, some
// minutes later.
type twoLedgers struct {
	a     *agreement.Agreement
	books map[string]*Ledger
}

func newTwoLedgers(a *agreement.Agreement) *twoLedgers {
	return &twoLedgers{a: a, books: map[string]*Ledger{"arcadia": {Party: "arcadia"}, "borealis": {Party: "borealis"}}}
}

func (l *twoLedgers) step(t *testing.T, c Case, e Event, now time.Time) Case {
	t.Helper()
	next, err := Step(c, e, l.a, now)
	if err != nil {
		t.Fatalf("%s by %s: %v", e.Kind, e.Actor, err)
	}
	for party, b := range l.books {
		at := next.Modified
		if party != e.Actor {
			at = at.Add(7 * time.Minute)
		}
		b.Entries = append(b.Entries, ledger.Entry{Time: at, Event: Record(c, next, e, l.a, party)})
	}
	return next
}

func (l *twoLedgers) ledgers() []Ledger { return []Ledger{*l.books["arcadia"], *l.books["borealis"]} }

func caseWithID(t *testing.T, a *agreement.Agreement, typ Type, id, from, to string, at time.Time) Case {
	t.Helper()
	f := sampleFields(typ)
	if p, ok := f.(*Preservation); ok && from == "borealis" {
		p.RequestingAuthority = "borealis-prosecutor"
	}
	c, err := New(id, f, from, to, a, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// q1 builds the first quarter of 2027 between Arcadia and Borealis.
func q1(t *testing.T) *twoLedgers {
	a := testAgreement(t)
	l := newTwoLedgers(a)
	h := time.Hour
	d := 24 * h
	jan := time.Date(2027, 1, 10, 8, 0, 0, 0, time.UTC)

	// An incident on Arcadia's declared grid: acknowledged in time, the
	// requested actions answered a day late.
	inc := caseWithID(t, a, TypeIncident, "entente-incident-notification--6f1c0e0a-1111-4c1a-9a1a-000000000001", "arcadia", "borealis", jan)
	inc = l.step(t, inc, Event{Kind: EventSend, Actor: "arcadia"}, jan)
	inc = l.step(t, inc, Event{Kind: EventAcknowledge, Actor: "borealis"}, jan.Add(3*h))
	l.step(t, inc, Event{Kind: EventReply, Actor: "borealis"}, jan.Add(4*d))

	// A request for assistance Borealis declines, on time, on human rights.
	as := caseWithID(t, a, TypeAssistance, "entente-assistance-request--6f1c0e0a-1111-4c1a-9a1a-000000000002", "arcadia", "borealis", jan)
	as = l.step(t, as, Event{Kind: EventSend, Actor: "arcadia"}, jan.Add(h))
	l.step(t, as, Event{Kind: EventDecline, Actor: "borealis", Ground: "human-rights"}, jan.Add(20*h))

	// Borealis's preservation request that Arcadia leaves unanswered, and
	// escalation.
	pr := caseWithID(t, a, TypePreservation, "entente-preservation-request--6f1c0e0a-1111-4c1a-9a1a-000000000003", "borealis", "arcadia", jan.Add(30*d))
	pr = l.step(t, pr, Event{Kind: EventSend, Actor: "borealis"}, jan.Add(30*d))
	l.step(t, pr, Event{Kind: EventEscalate, Actor: "borealis"}, jan.Add(31*d+h))

	// Arcadia's preservation request, withdrawn before anything fell due.
	pw := caseWithID(t, a, TypePreservation, "entente-preservation-request--6f1c0e0a-1111-4c1a-9a1a-000000000004", "arcadia", "borealis", jan.Add(40*d))
	pw = l.step(t, pw, Event{Kind: EventSend, Actor: "arcadia"}, jan.Add(40*d))
	l.step(t, pw, Event{Kind: EventWithdraw, Actor: "arcadia"}, jan.Add(40*d+2*h))

	// A ping at the end of March, acknowledged in April: overdue in Q1.
	pg := caseWithID(t, a, TypeReachability, "entente-reachability-test--6f1c0e0a-1111-4c1a-9a1a-000000000005", "arcadia", "borealis", time.Date(2027, 3, 31, 19, 0, 0, 0, time.UTC))
	pg = l.step(t, pg, Event{Kind: EventSend, Actor: "arcadia"}, time.Date(2027, 3, 31, 19, 0, 0, 0, time.UTC))
	l.step(t, pg, Event{Kind: EventAcknowledge, Actor: "borealis"}, time.Date(2027, 4, 1, 1, 0, 0, 0, time.UTC))

	// A violation federation detected.
	l.books["arcadia"].Entries = append(l.books["arcadia"].Entries, ledger.Entry{Time: jan.Add(50 * d), Event: ledger.Transition{
		Workflow: ViolationWorkflow, Case: "indicator--6f1c0e0a-1111-4c1a-9a1a-000000000006", To: "detected", Party: "borealis",
		Attrs: map[string]string{"party": "borealis", "rule": "onward-transfer", "at": "2027-03-01T10:00:00.000Z"}}})
	return l
}

func TestComplianceQ1(t *testing.T) {
	l := q1(t)
	p, err := ParsePeriod("2027-Q1")
	if err != nil {
		t.Fatal(err)
	}
	r := Compile(p, l.ledgers()...)
	row := func(party, typ string) Row {
		for _, r := range r.Rows {
			if r.Party == party && r.Type == typ {
				return r
			}
		}
		t.Fatalf("no row for %s %s", party, typ)
		return Row{}
	}
	if got := row("borealis", "incident-notification"); got.Received != 1 || got.CIReceived != 1 ||
		got.Acknowledgements != (Timeliness{Due: 1, OnTime: 1}) || got.Answers != (Timeliness{Due: 1, Late: 1}) {
		t.Errorf("borealis incidents: %+v", got)
	}
	if got := row("arcadia", "incident-notification"); got.Opened != 1 || got.CINotified != 1 {
		t.Errorf("arcadia incidents: %+v", got)
	}
	if got := row("borealis", "assistance-request"); got.Answers != (Timeliness{Due: 1, OnTime: 1}) ||
		!slices.Equal(got.Refused, []Count{{"human-rights", 1}}) {
		t.Errorf("borealis assistance: %+v", got)
	}
	if got := row("arcadia", "preservation-request"); got.Acknowledgements != (Timeliness{Due: 1, Overdue: 1}) ||
		got.Answers != (Timeliness{Due: 1, Overdue: 1}) || got.Escalated != 1 || got.Received != 1 || got.Opened != 1 {
		t.Errorf("arcadia preservation: %+v", got)
	}
	if got := row("borealis", "preservation-request"); got.Acknowledgements.Due != 0 {
		t.Errorf("a withdrawn request still owed: %+v", got)
	}
	if got := row("borealis", "reachability-test"); got.Acknowledgements != (Timeliness{Due: 1, Overdue: 1}) {
		t.Errorf("borealis ping: %+v", got)
	}
	if !slices.Equal(r.Violations, []Violation{{"borealis", "onward-transfer", 1}}) {
		t.Errorf("violations %+v", r.Violations)
	}
	if r.Conflicts != 0 || !slices.Equal(r.Ledgers, []LedgerCount{{"arcadia", 1}, {"borealis", 0}}) {
		t.Errorf("ledgers %+v, conflicts %d", r.Ledgers, r.Conflicts)
	}

	js, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/compliance-2027-Q1.json", append(js, '\n'))
	golden(t, "testdata/compliance-2027-Q1.txt", text.Bytes())
}

// TestComplianceSameBytes: the same entries, in any order and from
// either side, give the same bytes.
func TestComplianceSameBytes(t *testing.T) {
	l := q1(t)
	p, _ := ParsePeriod("2027-Q1")
	want, _ := Compile(p, l.ledgers()...).JSON()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		ls := l.ledgers()
		for j := range ls {
			ls[j].Entries = slices.Clone(ls[j].Entries)
			rng.Shuffle(len(ls[j].Entries), func(x, y int) { ls[j].Entries[x], ls[j].Entries[y] = ls[j].Entries[y], ls[j].Entries[x] })
		}
		if i%2 == 1 {
			ls[0], ls[1] = ls[1], ls[0]
		}
		got, _ := Compile(p, ls...).JSON()
		if !bytes.Equal(got, want) {
			t.Fatalf("order %d gives\n%s\nwant\n%s", i, got, want)
		}
	}
}

// TestComplianceDisagreement: a step one ledger lacks, and a step the
// ledgers record differently, are reported.
func TestComplianceDisagreement(t *testing.T) {
	l := q1(t)
	p, _ := ParsePeriod("2027-Q1")
	b := l.books["borealis"]
	b.Entries = slices.Clone(b.Entries[1:]) // borealis lacks the incident's sending
	tr := b.Entries[0].Event.(ledger.Transition)
	attrs := map[string]string{}
	for k, v := range tr.Attrs {
		attrs[k] = v
	}
	attrs["ack"] = ""
	tr.Attrs = attrs
	b.Entries[0].Event = tr // and records its acknowledgement differently
	r := Compile(p, l.ledgers()...)
	if r.Conflicts != 1 || !slices.Equal(r.Ledgers, []LedgerCount{{"arcadia", 2}, {"borealis", 0}}) {
		t.Errorf("ledgers %+v, conflicts %d", r.Ledgers, r.Conflicts)
	}
}

func TestParsePeriod(t *testing.T) {
	for s, want := range map[string][2]string{
		"2027":    {"2027-01-01", "2028-01-01"},
		"2027-Q1": {"2027-01-01", "2027-04-01"},
		"2027-Q4": {"2027-10-01", "2028-01-01"},
		"2027-02": {"2027-02-01", "2027-03-01"},
		"2027-12": {"2027-12-01", "2028-01-01"},
	} {
		p, err := ParsePeriod(s)
		if err != nil || p.Start.Format(time.DateOnly) != want[0] || p.End.Format(time.DateOnly) != want[1] {
			t.Errorf("%s: %v %v", s, p, err)
		}
	}
	for _, s := range []string{"", "27", "2027-Q5", "2027-13", "2027-00", "2027-1", "2027Q1", "2027-+1", "year"} {
		if _, err := ParsePeriod(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
