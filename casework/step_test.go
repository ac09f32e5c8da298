package casework

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// step takes canonical steps on c and fails the test on a refusal.
func step(t *testing.T, c Case, k EventKind, actor string) Case {
	t.Helper()
	a := testAgreement(t)
	e, now := canonicalEvent(c, k, actor, a)
	next, err := Step(c, e, a, now)
	if err != nil {
		t.Fatalf("%s by %s in %s: %v", k, actor, c.State, err)
	}
	return next
}

func TestStepRules(t *testing.T) {
	a := testAgreement(t)
	inc := newCase(t, a, TypeIncident)
	sentInc := step(t, inc, EventSend, "arcadia")
	asst := step(t, newCase(t, a, TypeAssistance), EventSend, "arcadia")
	pres := step(t, newCase(t, a, TypePreservation), EventSend, "arcadia")
	preserved := step(t, pres, EventPreserve, "borealis")
	decl := step(t, newCase(t, a, TypeDeclaration), EventSend, "arcadia")
	cons := step(t, newCase(t, a, TypeConsultation), EventSend, "arcadia")
	scheduled := step(t, cons, EventAccept, "borealis")
	met := step(t, scheduled, EventHold, "arcadia")
	ping := step(t, newCase(t, a, TypeReachability), EventSend, "arcadia")
	noRequest := inc
	noRequest.Incident = &Incident{}
	*noRequest.Incident = *inc.Incident
	noRequest.Incident.RequestedActions = []string{"acknowledge-only"}
	noRequest = step(t, noRequest, EventSend, "arcadia")
	other := inc
	other.Agreement = "another-agreement"

	for _, tc := range []struct {
		name string
		c    Case
		e    Event
		at   time.Time
		rule string
	}{
		{"stranger", sentInc, Event{Kind: EventAcknowledge, Actor: "cascadia"}, sentInc.Modified.Add(time.Hour), "party"},
		{"other agreement", other, Event{Kind: EventSend, Actor: "arcadia"}, t0.Add(time.Hour), "agreement"},
		{"unknown event", sentInc, Event{Kind: 200, Actor: "borealis"}, sentInc.Modified.Add(time.Hour), "event"},
		{"event of another workflow", sentInc, Event{Kind: EventPreserve, Actor: "borealis"}, sentInc.Modified.Add(time.Hour), "event"},
		{"time runs back", sentInc, Event{Kind: EventAcknowledge, Actor: "borealis"}, sentInc.Modified.Add(-2 * time.Second), "time-order"},
		{"refusal without ground", asst, Event{Kind: EventDecline, Actor: "borealis"}, asst.Modified.Add(time.Hour), "refusal-ground"},
		{"ground the party does not list", asst, Event{Kind: EventDecline, Actor: "borealis", Ground: "double-jeopardy"}, asst.Modified.Add(time.Hour), "refusal-ground"},
		{"ground outside any list", pres, Event{Kind: EventRefuse, Actor: "borealis", Ground: "destabilizing-content"}, pres.Modified.Add(time.Hour), "refusal-ground"},
		{"acknowledge declaration without pledge", decl, Event{Kind: EventAcknowledge, Actor: "borealis"}, decl.Modified.Add(time.Hour), "pledge"},
		{"update before notification", sentInc, Event{Kind: EventUpdate, Actor: "arcadia"}, sentInc.Modified.Add(time.Hour), "stage"},
		{"reply to nothing", noRequest, Event{Kind: EventReply, Actor: "borealis"}, noRequest.Modified.Add(time.Hour), "reply"},
		{"expire early", preserved, Event{Kind: EventExpire, Actor: "borealis"}, preserved.Until.Add(-time.Hour), "preservation-period"},
		{"extend after expiry", preserved, Event{Kind: EventExtend, Actor: "borealis"}, preserved.Until, "preservation-expired"},
		{"link without reference", preserved, Event{Kind: EventLinkMLA, Actor: "arcadia"}, preserved.Modified.Add(time.Hour), "reference"},
		{"propose the past", cons, Event{Kind: EventPropose, Actor: "borealis", At: cons.Modified}, cons.Modified.Add(time.Hour), "meeting-time"},
		{"proposer accepts itself", cons, Event{Kind: EventAccept, Actor: "arcadia"}, cons.Modified.Add(time.Hour), "role"},
		{"hold before the time", scheduled, Event{Kind: EventHold, Actor: "arcadia", Ref: "m"}, scheduled.Until.Add(-time.Hour), "meeting-time"},
		{"approve twice", step(t, met, EventApprove, "arcadia"), Event{Kind: EventApprove, Actor: "arcadia"}, met.Modified.Add(2 * time.Hour), "minutes"},
		{"miss before the deadline", ping, Event{Kind: EventMiss, Actor: "arcadia"}, ping.Modified.Add(time.Hour), "deadline"},
		{"escalate before the deadline", sentInc, Event{Kind: EventEscalate, Actor: "arcadia"}, sentInc.Modified.Add(time.Hour), "escalation"},
		{"escalate by the late party", sentInc, Event{Kind: EventEscalate, Actor: "borealis"}, sentInc.Modified.Add(400 * 24 * time.Hour), "escalation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Step(tc.c, tc.e, a, tc.at)
			var re *RuleError
			if !errors.As(err, &re) || re.Rule != tc.rule {
				t.Fatalf("got %v, want a refusal by rule %s", err, tc.rule)
			}
			if got.State != tc.c.State || got.Modified != tc.c.Modified || got.Actor != tc.c.Actor {
				t.Errorf("the refused step changed the case")
			}
			if !strings.Contains(err.Error(), re.Rule) {
				t.Errorf("%q does not name the rule", err)
			}
		})
	}
}

// TestEscalationLadder climbs the agreement's ladder on an unanswered
// assistance request: technical at the deadline, competent-authority 72
// hours later, diplomatic after 336, and no further.
func TestEscalationLadder(t *testing.T) {
	a := testAgreement(t)
	c := step(t, newCase(t, a, TypeAssistance), EventSend, "arcadia")
	ackDue := c.Sent.Add(24 * time.Hour)
	for i, want := range []struct {
		at   time.Time
		rule string
	}{
		{ackDue.Add(-time.Minute), "escalation"},
		{ackDue, ""},
		{ackDue.Add(71 * time.Hour), "escalation"},
		{ackDue.Add(72 * time.Hour), ""},
		{ackDue.Add(336 * time.Hour), ""},
		{ackDue.Add(1000 * time.Hour), "escalation"},
	} {
		next, err := Step(c, Event{Kind: EventEscalate, Actor: "arcadia"}, a, want.at)
		if want.rule == "" {
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			c = next
			continue
		}
		var re *RuleError
		if !errors.As(err, &re) || re.Rule != want.rule {
			t.Fatalf("step %d: got %v, want refusal by %s", i, err, want.rule)
		}
	}
	if c.Level != 3 {
		t.Errorf("level %d, want 3", c.Level)
	}
	// Acknowledged, the acknowledgement deadline no longer stalls it, but
	// the answer deadline (10 days) does.
	acked, err := Step(c, Event{Kind: EventAcknowledge, Actor: "borealis"}, a, c.Modified.Add(time.Hour))
	if err != nil || len(Deadlines(acked, a)) != 1 || Deadlines(acked, a)[0].Kind != DutyAnswer {
		t.Fatalf("after the acknowledgement: %v, duties %v", err, Deadlines(acked, a))
	}
}

func TestRefusedStepDoesNotAllocate(t *testing.T) {
	a := testAgreement(t)
	sent := step(t, newCase(t, a, TypePreservation), EventSend, "arcadia")
	for _, e := range []Event{
		{Kind: EventAcknowledge, Actor: "arcadia"},                                  // wrong party
		{Kind: EventRefuse, Actor: "borealis", Ground: "destabilizing-information"}, // ground
		{Kind: EventExpire, Actor: "borealis"},                                      // state
		{Kind: EventEscalate, Actor: "arcadia"},                                     // not yet due
		{Kind: EventAcknowledge, Actor: "cascadia"},                                 // stranger
	} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := Step(sent, e, a, sent.Modified.Add(time.Hour)); err == nil {
				t.Fatalf("%v was accepted", e)
			}
		})
		if allocs != 0 {
			t.Errorf("refused %s by %s: %v allocations", e.Kind, e.Actor, allocs)
		}
	}
}

func TestNewRefusesBadFields(t *testing.T) {
	a := testAgreement(t)
	mut := func(typ Type, f func(Fields)) Fields {
		x := sampleFields(typ)
		f(x)
		return x
	}
	for _, tc := range []struct {
		name  string
		f     Fields
		field string
	}{
		{"preservation without facts", mut(TypePreservation, func(f Fields) { f.(*Preservation).Facts = "" }), "facts_summary"},
		{"preservation without custodian", mut(TypePreservation, func(f Fields) { f.(*Preservation).Custodian = "" }), "custodian_or_location"},
		{"preservation without MLA intention", mut(TypePreservation, func(f Fields) { f.(*Preservation).IntendsMLA = false }), "intends_mla_request"},
		{"preservation of 59 days", mut(TypePreservation, func(f Fields) { f.(*Preservation).PeriodDays = 59 }), "period_days"},
		{"preservation for network defence", mut(TypePreservation, func(f Fields) { f.(*Preservation).Purpose = "network-defence" }), "purpose"},
		{"preservation by a foreign authority", mut(TypePreservation, func(f Fields) { f.(*Preservation).RequestingAuthority = "borealis-cert" }), "requesting_authority"},
		{"purpose outside the closed list", mut(TypeAssistance, func(f Fields) { f.(*Assistance).Purpose = "public-order" }), "purpose"},
		{"content takedown assistance", mut(TypeAssistance, func(f Fields) { f.(*Assistance).Kind = "content-takedown" }), "assistance_type"},
		{"abusive content incident", mut(TypeIncident, func(f Fields) { f.(*Incident).Category = "abusive-content" }), "category"},
		{"content removal action", mut(TypeIncident, func(f Fields) { f.(*Incident).RequestedActions = []string{"remove-content"} }), "requested_actions[0]"},
		{"CI below the severity floor", mut(TypeIncident, func(f Fields) { f.(*Incident).Severity = "medium" }), "severity"},
		{"declaration beyond the agreement", mut(TypeDeclaration, func(f Fields) { f.(*Declaration).CIDRs = []string{"198.51.100.128/25"} }), "cidrs[0]"},
		{"ping of an unknown authority", mut(TypeReachability, func(f Fields) { f.(*Reachability).Authority = "arcadia-cert" }), "authority"},
		{"meeting in the past", mut(TypeConsultation, func(f Fields) { f.(*Consultation).Proposed = t0.Add(-time.Hour) }), "proposed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(NewID(tc.f.caseType()), tc.f, "arcadia", "borealis", a, t0)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("got %v, want an error on field %s", err, tc.field)
			}
		})
	}
	if _, _, err := ParseFields(Type(99), []byte(`{}`)); err == nil {
		t.Error("an unknown case type was accepted")
	}
	if _, ok := ParseType("content-blocking-request"); ok {
		t.Error("ParseType accepted a content-blocking request")
	}
}

func TestParseFieldsStrict(t *testing.T) {
	_, _, err := ParseFields(TypeAssistance, []byte(`{"assistance_type":"technical-analysis","purpose":"incident-response","description":"x","content_removal":true}`))
	if err == nil || !strings.Contains(err.Error(), "content_removal") {
		t.Errorf("an unknown member was accepted or not named: %v", err)
	}
	_, _, err = ParseFields(TypeAssistance, []byte(`{"purpose":"incident-response","purpose":"network-defence"}`))
	if err == nil {
		t.Error("a duplicate member was accepted")
	}
	f, objs, err := ParseFields(TypeIncident, []byte(`{"stage":"notification","category":"malicious-code","severity":"medium",
		"sectors":["finance"],"detected":"2027-01-03T10:00:00Z","summary":"Banking trojan C2 in Borealis",
		"observables":{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
		{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"203.0.113.7"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if in := f.(*Incident); len(objs) != 1 || len(in.Observables) != 1 || in.Observables[0] != objs[0].ID {
		t.Errorf("observables: %v, %v", in.Observables, objs)
	}
}
