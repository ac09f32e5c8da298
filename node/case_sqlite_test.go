package node_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/entente/entente/casework"
	"github.com/entente/entente/federation"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// caseNet is two real nodes (SQLite, mutual TLS) that share their cases
// collections with each other for reading and writing, each with a
// running link to the other that pulls and pushes.
type caseNet struct {
	a, b *party
}

func newCaseNet(t testing.TB, interval time.Duration, edit func(string) string) *caseNet {
	t.Helper()
	a, b := twoParties(t, edit)
	ctx := t.Context()
	for _, p := range []*party{a, b} {
		if _, err := p.n.CasesCollection(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, sh := range []struct {
		p     *party
		other string
	}{{a, b.id}, {b, a.id}} {
		for _, r := range []store.Right{store.RightRead, store.RightWrite} {
			if _, _, err := node.Share(ctx, sh.p.st, sh.p.ag, sh.p.nodeID, sh.other, node.CasesAlias, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	aURL, bURL := a.serve(t, nil), b.serve(t, nil)
	for _, l := range []struct {
		from, to *party
		url      string
	}{{a, b, bURL}, {b, a, aURL}} {
		link := caseLink(t, l.from, l.to, l.url, interval)
		to := l.to.nodeID
		l.from.n.SetPusher(func(partner string, items ...federation.Incoming) bool {
			if partner != to {
				return false
			}
			link.Enqueue(items...)
			return true
		})
		runCtx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- link.Run(runCtx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	return &caseNet{a: a, b: b}
}

// caseLink is p's link to q serving at url, polling every interval.
func caseLink(t testing.TB, p, q *party, url string, interval time.Duration) *federation.Link {
	t.Helper()
	tlsConfig, err := p.n.PeerTLSConfig(q.nodeID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := taxii.NewClient(url, taxii.ClientOptions{TLSConfig: tlsConfig})
	if err != nil {
		t.Fatal(err)
	}
	l, err := federation.New(federation.Config{Peer: q.peer(), Client: c, Sink: p.n, PageSize: 100,
		Interval: interval, MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// step takes e on case id at p, and waits until q holds the version.
func (cn *caseNet) step(t testing.TB, p, q *party, id string, e casework.Event) casework.Case {
	t.Helper()
	c, err := p.n.StepCase(t.Context(), id, e)
	if err != nil {
		t.Fatalf("%s: %s on %s: %v", p.id, e.Kind, id, err)
	}
	waitCase(t, q, c)
	return c
}

// waitCase waits until p holds version c of its case.
func waitCase(t testing.TB, p *party, c casework.Case) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := p.n.LatestCase(t.Context(), c.ID)
		if err == nil && got.Modified.Equal(c.Modified) {
			return
		}
		if err != nil && !errors.Is(err, node.ErrNoCase) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not receive %s's %s version %s: latest %s, %v", p.id, c.ID, c.Event, c.Modified, got.Modified, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func caseFields(typ casework.Type) casework.Fields {
	now := time.Now().UTC()
	switch typ {
	case casework.TypeIncident:
		return &casework.Incident{Stage: "early-warning", Category: "intrusions", Severity: "high", Sectors: []string{"energy"},
			Detected: now.Add(-2 * time.Hour), AffectsDeclaredCI: true, Summary: "Intrusion into a grid operator's control network from addresses in Borealis.",
			RequestedActions: []string{"investigate-source", "block-indicators"}}
	case casework.TypeAssistance:
		return &casework.Assistance{Kind: "mitigate-activity", Purpose: "incident-response", Description: "Please help stop the scanning of our grid from AS64510.", Urgent: true}
	case casework.TypePreservation:
		return &casework.Preservation{RequestingAuthority: "arcadia-police-cyber", Offence: "illegal access (art. 2)",
			Facts: "A grid operator's SCADA gateway was accessed.", Data: "subscriber and traffic data for the address",
			Identifiers: []string{"203.0.113.7 2027-01-03T02:14:00Z"}, Relationship: "the address logged into the gateway",
			Custodian: "Borealis hosting provider, AS64511", Necessity: "logs are kept 30 days", IntendsMLA: true,
			PeriodDays: 90, LegalBasis: "Budapest Convention art. 29", Purpose: "criminal-investigation"}
	case casework.TypeConsultation:
		return &casework.Consultation{Topic: "Review of the first quarter", Level: "technical", Scheduled: true,
			Proposed: now.Add(10 * 24 * time.Hour), Venue: "video call"}
	case casework.TypeReachability:
		return &casework.Reachability{Authority: "borealis-cert", Channel: "node"}
	case casework.TypeDeclaration:
		return &casework.Declaration{Sectors: []string{"energy", "health"}, CIDRs: []string{"198.51.100.0/25"}, ASNs: []int64{64500}}
	}
	return nil
}

// TestCasesBetweenTwoNodes runs every case type end to end between two
// nodes: each step taken on one node reaches the other, which verifies it
// against the version it holds; both end with the same history, and both
// ledgers hold every step's transition.
func TestCasesBetweenTwoNodes(t *testing.T) {
	cn := newCaseNet(t, 20*time.Millisecond, nil)
	a, b := cn.a, cn.b
	ev := func(k casework.EventKind) casework.Event { return casework.Event{Kind: k} }
	type move struct {
		by *party
		e  casework.Event
	}
	runs := map[casework.Type][]move{
		casework.TypeIncident: {{a, ev(casework.EventSend)}, {b, ev(casework.EventAcknowledge)}, {b, ev(casework.EventReply)},
			{a, ev(casework.EventFinalize)}, {b, ev(casework.EventClose)}},
		casework.TypeAssistance: {{a, ev(casework.EventSend)}, {b, ev(casework.EventAcknowledge)}, {b, ev(casework.EventAccept)},
			{b, ev(casework.EventComplete)}, {a, ev(casework.EventFeedback)}},
		casework.TypePreservation: {{a, ev(casework.EventSend)}, {b, ev(casework.EventAcknowledge)}, {b, ev(casework.EventPreserve)},
			{a, casework.Event{Kind: casework.EventLinkMLA, Ref: "arcadia-justice/MLA/2027/17"}}},
		casework.TypeConsultation: {{a, ev(casework.EventSend)}, {b, casework.Event{Kind: casework.EventPropose, At: time.Now().Add(20 * 24 * time.Hour)}},
			{a, ev(casework.EventAccept)}},
		casework.TypeReachability: {{a, ev(casework.EventSend)}, {b, ev(casework.EventAcknowledge)}},
		casework.TypeDeclaration:  {{a, ev(casework.EventSend)}, {b, casework.Event{Kind: casework.EventAcknowledge, Pledge: true}}},
	}
	for _, typ := range casework.Types {
		t.Run(typ.String(), func(t *testing.T) {
			c, err := a.n.OpenCase(t.Context(), typ, caseFields(typ), nil, b.id)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range runs[typ] {
				q := b
				if m.by == b {
					q = a
				}
				c = cn.step(t, m.by, q, c.ID, m.e)
			}
			ha, err := a.n.CaseHistory(t.Context(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			hb, err := b.n.CaseHistory(t.Context(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			// Arcadia also holds its draft, which never left it.
			if len(ha) != len(runs[typ])+1 || len(hb) != len(runs[typ]) || ha[0].State != casework.StateDraft {
				t.Fatalf("histories: arcadia %d versions, borealis %d; want %d and %d", len(ha), len(hb), len(runs[typ])+1, len(runs[typ]))
			}
			for i := range hb {
				x, _ := casework.Canonical(ha[i+1])
				y, _ := casework.Canonical(hb[i])
				if string(x) != string(y) {
					t.Errorf("version %d differs:\narcadia  %s\nborealis %s", i, x, y)
				}
			}
			for _, p := range []*party{a, b} {
				steps := 0
				for _, e := range p.entries(t) {
					if tr, ok := e.Event.(ledger.Transition); ok && tr.Case == c.ID && tr.From != "" {
						steps++
					}
				}
				if steps != len(runs[typ]) {
					t.Errorf("%s's ledger holds %d transitions of %s, want %d", p.id, steps, c.ID, len(runs[typ]))
				}
			}
		})
	}
	if len(a.alerts) != 0 || len(b.alerts) != 0 {
		t.Errorf("alerts: arcadia %v, borealis %v", a.alerts, b.alerts)
	}
}

// TestReceiveRefusesACaseVersionThatDoesNotFollow: a received case version
// that casework.Verify does not accept against the version stored before
// it is refused as an agreement violation, ledgered and alerted, never
// stored.
func TestReceiveRefusesACaseVersionThatDoesNotFollow(t *testing.T) {
	a, b := twoParties(t, nil)
	ctx := t.Context()
	for _, p := range []*party{a, b} {
		if _, err := p.n.CasesCollection(ctx); err != nil {
			t.Fatal(err)
		}
	}
	draft, err := a.n.OpenCase(ctx, casework.TypeAssistance, caseFields(casework.TypeAssistance), nil, b.id)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := a.n.StepCase(ctx, draft.ID, casework.Event{Kind: casework.EventSend})
	if err != nil {
		t.Fatal(err)
	}
	encode := func(c casework.Case) federation.Incoming {
		o, err := casework.Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		return signed(t, string(o.Raw), a.nodeID, a.key)
	}
	// Arcadia "accepts" its own request: the recipient's step.
	forged := sent
	forged.State, forged.Event, forged.Modified = casework.StateInProgress, casework.EventAccept, sent.Modified.Add(time.Second)
	// A first version that is not the send.
	late := sent
	late.Event = casework.EventAcknowledge

	for _, tc := range []struct {
		name  string
		items []federation.Incoming
		want  federation.Result
	}{
		{"not a send first", []federation.Incoming{encode(late)}, federation.Result{Refused: 1}},
		{"a step the sender may not take", []federation.Incoming{encode(sent), encode(forged)}, federation.Result{Stored: 1, Refused: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(b.entries(t))
			res, err := b.n.Receive(ctx, a.peer(), node.CasesAlias, tc.items)
			if err != nil {
				t.Fatal(err)
			}
			if res != tc.want {
				t.Fatalf("Receive = %+v, want %+v", res, tc.want)
			}
			var violations int
			for _, e := range b.entries(t)[before:] {
				if tr, ok := e.Event.(ledger.Transition); ok && tr.Workflow == node.ViolationWorkflow && tr.Attrs["check"] == "casework" && tr.Party == a.id {
					violations++
				}
			}
			if violations != 1 {
				t.Errorf("%d casework violations ledgered, want 1", violations)
			}
		})
	}
	got, err := b.n.LatestCase(ctx, sent.ID)
	if err != nil || got.State != casework.StateSubmitted {
		t.Errorf("borealis holds %v in state %s, %v; want the send only", got.ID, got.State, err)
	}
}

// TestCasePushedIntoAnotherInbox: a partner whose inbox is another
// collection than its cases still files a pushed case version among its
// cases, verified.
func TestCasePushedIntoAnotherInbox(t *testing.T) {
	a, b := twoParties(t, nil)
	ctx := t.Context()
	for _, p := range []*party{a, b} {
		if _, err := p.n.CasesCollection(ctx); err != nil {
			t.Fatal(err)
		}
	}
	b.share(t, a.id, store.RightWrite) // borealis's inbox: its default collection
	bURL := b.serve(t, nil)
	link := caseLink(t, a, b, bURL, time.Hour)
	a.n.SetPusher(func(partner string, items ...federation.Incoming) bool { link.Enqueue(items...); return true })
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- link.Run(runCtx) }()
	defer func() { cancel(); <-done }()

	c, err := a.n.OpenCase(ctx, casework.TypeReachability, caseFields(casework.TypeReachability), nil, b.id)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := a.n.StepCase(ctx, c.ID, casework.Event{Kind: casework.EventSend})
	if err != nil {
		t.Fatal(err)
	}
	waitCase(t, b, sent)
	if held := b.held(t); len(held) != 0 {
		t.Errorf("the inbox holds %v; the case belongs among the cases", held)
	}
}
