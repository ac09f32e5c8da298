package casework

import (
	"os"
	"testing"
	"time"

	"github.com/entente/entente/agreement"
)

// t0 is when the test cases open.
var t0 = time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)

func testAgreement(t testing.TB) *agreement.Agreement {
	t.Helper()
	data, err := os.ReadFile("testdata/agreement.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := agreement.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// sampleFields returns valid content for a case of type t from arcadia to
// borealis.
func sampleFields(t Type) Fields {
	switch t {
	case TypeIncident:
		return &Incident{Stage: "early-warning", Category: "intrusions", Severity: "high", Sectors: []string{"energy"},
			Detected: t0.Add(-2 * time.Hour), AffectsDeclaredCI: true, Summary: "Intrusion into a grid operator's control network from addresses in Borealis.",
			RequestedActions: []string{"investigate-source", "block-indicators"},
			Observables:      []string{"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"}}
	case TypeAssistance:
		return &Assistance{Kind: "mitigate-activity", Purpose: "incident-response", Description: "Please help stop the scanning of our grid from AS64510.", Urgent: true}
	case TypePreservation:
		return &Preservation{RequestingAuthority: "arcadia-police-cyber", Offence: "illegal access (art. 2)",
			Facts: "A grid operator's SCADA gateway was accessed on 2027-01-03.", Data: "subscriber and traffic data for the address",
			Identifiers: []string{"203.0.113.7 2027-01-03T02:14:00Z"}, Relationship: "the address logged into the gateway",
			Custodian: "Borealis hosting provider, AS64511", Necessity: "logs are kept 30 days", IntendsMLA: true,
			PeriodDays: 90, LegalBasis: "Budapest Convention art. 29", Purpose: "criminal-investigation"}
	case TypeConsultation:
		return &Consultation{Topic: "Review of the first quarter", Level: "technical", Scheduled: true,
			Proposed: t0.Add(10 * 24 * time.Hour), Venue: "video call"}
	case TypeReachability:
		return &Reachability{Authority: "borealis-cert", Channel: "node"}
	case TypeDeclaration:
		return &Declaration{Sectors: []string{"energy", "health"}, CIDRs: []string{"198.51.100.0/25"}, ASNs: []int64{64500}}
	}
	return nil
}

var caseIDs = map[Type]string{
	TypeIncident:     "entente-incident-notification--0f3c6e58-2b7a-4a0e-9d62-51b1f3e6a001",
	TypeAssistance:   "entente-assistance-request--0f3c6e58-2b7a-4a0e-9d62-51b1f3e6a002",
	TypePreservation: "entente-preservation-request--0f3c6e58-2b7a-4a0e-9d62-51b1f3e6a003",
	TypeConsultation: "entente-consultation--0f3c6e58-2b7a-4a0e-9d62-51b1f3e6a004",
	TypeReachability: "entente-reachability-test--0f3c6e58-2b7a-4a0e-9d62-51b1f3e6a005",
	TypeDeclaration:  "entente-ci-declaration--0f3c6e58-2b7a-4a0e-9d62-51b1f3e6a006",
}

func newCase(t testing.TB, a *agreement.Agreement, typ Type) Case {
	t.Helper()
	c, err := New(caseIDs[typ], sampleFields(typ), "arcadia", "borealis", a, t0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// canonicalEvent returns an event of kind k on c that satisfies every rule
// of the event it can, taken by actor, and the time to take it: an hour
// after the last step, or when the event's time rule first allows it.
func canonicalEvent(c Case, k EventKind, actor string, a *agreement.Agreement) (Event, time.Time) {
	now := c.Modified.Add(time.Hour)
	later := func(t time.Time) {
		if t.After(now) {
			now = t
		}
	}
	e := Event{Kind: k, Actor: actor}
	switch k {
	case EventDecline, EventRefuse:
		e.Ground = "essential-interests"
	case EventAcknowledge:
		e.Pledge = true
	case EventLinkMLA:
		e.Ref = "arcadia-justice/MLA/2027/17"
	case EventHold:
		e.Ref = "sha256:8d1f…minutes"
		later(c.Until)
	case EventExpire:
		later(c.Until)
	case EventPropose:
		e.At = now.Add(7 * 24 * time.Hour)
	case EventAddAction:
		e.Item = ActionItem{Owner: c.To, Due: now.Add(30 * 24 * time.Hour), Text: "Share the scanning sources' netflow summary"}
	case EventCompleteAction:
		e.Index = len(c.Actions) - 1
	case EventMiss:
		if d, ok := ackDuration(c.Type, a); ok {
			later(c.Sent.Add(d).Add(time.Hour))
		}
	case EventEscalate:
		var buf [maxDuties]Duty
		for _, d := range c.duties(a, &buf) {
			if d.Kind.escalates() && d.Owner != actor && c.Level < len(a.Escalation) {
				later(d.Due.Add(time.Duration(a.Escalation[c.Level].AfterHours) * time.Hour))
				break
			}
		}
	}
	return e, now
}

// reachAll drives a case of type typ, with canonical events, into every
// state it can reach, and returns the first case found in each.
func reachAll(t testing.TB, a *agreement.Agreement, typ Type) map[State]Case {
	t.Helper()
	start := newCase(t, a, typ)
	found := map[State]Case{start.State: start}
	type shape struct {
		st              State
		stage           Stage
		approvals       uint8
		actions, levels int
	}
	shapeOf := func(c Case) shape { return shape{c.State, c.Stage, c.Approvals, len(c.Actions), c.Level} }
	seen := map[shape]bool{shapeOf(start): true}
	queue := []Case{start}
	m, _ := MachineOf(typ)
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		for _, k := range m.Events {
			for _, actor := range []string{c.From, c.To} {
				e, now := canonicalEvent(c, k, actor, a)
				next, err := Step(c, e, a, now)
				if err != nil {
					continue
				}
				if prev, ok := found[next.State]; !ok || openActions(next) > openActions(prev) {
					found[next.State] = next // prefer a case with an open action item to complete
				}
				if sh := shapeOf(next); !seen[sh] && len(next.Actions) < 2 {
					seen[sh] = true
					queue = append(queue, next)
				}
			}
		}
	}
	return found
}

func openActions(c Case) int {
	n := 0
	for _, it := range c.Actions {
		if it.Done.IsZero() {
			n++
		}
	}
	return n
}
