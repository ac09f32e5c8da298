package node_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entente/entente/casework"
	"github.com/entente/entente/match"
	"github.com/entente/entente/node"
	"github.com/entente/entente/notify"
	"github.com/entente/entente/notify/smtptest"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
)

// detect runs a Suricata EVE log through the real match pipeline with an
// indicator for the source address, and returns what its sink got.
func detect(t *testing.T, log string) []*stix.Object {
	t.Helper()
	ind, err := stix.Parse([]byte(`{"type":"indicator","spec_version":"2.1","id":"indicator--6b1c3f4e-2a8d-4f5e-9c3b-0d1e2f3a4b5c","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.7']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	inds, errs := match.IndicatorsOf([]*stix.Object{ind})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	ix, errs := match.Compile(inds)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var (
		mu  sync.Mutex
		got []*stix.Object
	)
	p := match.NewPipeline(match.PipelineConfig{Format: match.EVE{}, Matcher: match.NewMatcher(ix),
		Sink: func(_ context.Context, objs []*stix.Object) error {
			mu.Lock()
			got = append(got, objs...)
			mu.Unlock()
			return nil
		}})
	if _, err := p.Run(t.Context(), "eve.json", strings.NewReader(log)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Finish(t.Context()); err != nil {
		t.Fatal(err)
	}
	return append(got, ind)
}

const eveAttack = `{"timestamp":"2027-01-04T02:14:00.000000+0000","event_type":"flow","src_ip":"203.0.113.7","src_port":40000,"dest_ip":"198.51.100.10","dest_port":502,"proto":"TCP"}
{"timestamp":"2027-01-04T02:15:00.000000+0000","event_type":"flow","src_ip":"203.0.113.7","src_port":40001,"dest_ip":"198.51.100.11","dest_port":502,"proto":"TCP"}
`

// TestDetectionToComplianceEndToEnd: a detection hit on infrastructure
// Arcadia declared protected, from Borealis's address space, drafts an
// incident notification (and an assistance request and a consultation)
// that nothing sends until the operator does; once sent it reaches
// Borealis's node and its 24/7 contact point by SMTP, Borealis
// acknowledges, and both parties' compliance records, computed from their
// own ledgers, count the notification as acknowledged on time.
func TestDetectionToComplianceEndToEnd(t *testing.T) {
	// Arcadia's rule lets it send the evidence of a detection.
	cn := newCaseNet(t, 20*time.Millisecond, func(doc string) string {
		return strings.Replace(doc, "types: [indicator, malware, attack-pattern, infrastructure, vulnerability, relationship, sighting, report, identity]",
			"types: [indicator, malware, attack-pattern, infrastructure, vulnerability, relationship, sighting, report, identity, observed-data, ipv4-addr, network-traffic]", 1)
	})
	a, b := cn.a, cn.b
	ctx := t.Context()
	srv := smtptest.Start(t)
	mailer := &notify.Mailer{Addr: srv.Addr, From: "entente@taxii.cyber.borealis.example", Agreement: b.ag, Party: b.id}
	b.n.OnCase(mailer.CaseEvent)

	objs := detect(t, eveAttack)
	hits := node.ProtectedHits(a.ag, objs)
	if len(hits) == 0 || hits[0].Protected != a.id || hits[0].Source != b.id || hits[0].Address != "203.0.113.7" {
		t.Fatalf("hits %+v from %d objects", hits, len(objs))
	}
	// Borealis's node sees the same hits, but the infrastructure is not
	// Borealis's to notify about.
	if ds, err := b.n.DraftDetections(ctx, objs); err != nil || len(ds) != 0 {
		t.Fatalf("borealis drafted %+v, %v", ds, err)
	}
	ds, err := a.n.DraftDetections(ctx, objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].To != b.id {
		t.Fatalf("drafts %+v", ds)
	}
	d := ds[0]
	inc := d.Notification
	if inc.State != casework.StateDraft || !inc.Incident.AffectsDeclaredCI || inc.Incident.Severity != "high" || len(inc.Incident.Observables) == 0 {
		t.Fatalf("notification draft %+v %+v", inc, inc.Incident)
	}
	for _, c := range []casework.Case{d.Assistance, d.Consultation} {
		if c.State != casework.StateDraft || c.To != b.id {
			t.Errorf("offered %s: %s to %s", c.Type, c.State, c.To)
		}
	}
	// Drafts never leave without the operator: nothing reached Borealis.
	time.Sleep(200 * time.Millisecond)
	for _, c := range []casework.Case{inc, d.Assistance, d.Consultation} {
		if _, err := b.n.LatestCase(ctx, c.ID); err == nil {
			t.Fatalf("borealis holds the draft %s", c.ID)
		}
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages before approval", n)
	}

	// The operator approves: send.
	sent := cn.step(t, a, b, inc.ID, casework.Event{Kind: casework.EventSend})
	msg, ok := srv.Wait(10*time.Second, func(m smtptest.Message) bool {
		return slices.Contains(m.To, "soc@cyber.borealis.example") && strings.Contains(string(m.Data), inc.ID)
	})
	if !ok {
		t.Fatalf("no mail reached Borealis's 24/7 point: %+v", srv.Messages())
	}
	if !strings.Contains(string(msg.Data), "X-Priority: 1") {
		t.Errorf("the notification was not sent as urgent:\n%s", msg.Data)
	}
	// The sightings travelled with it.
	for _, id := range sent.Incident.Observables {
		if !b.heldIn(t, node.CasesAlias)[id] {
			t.Errorf("borealis lacks observable %s", id)
		}
	}
	cn.step(t, b, a, inc.ID, casework.Event{Kind: casework.EventAcknowledge})

	period, err := casework.ParsePeriod(sent.Sent.Format("2006-01"))
	if err != nil {
		t.Fatal(err)
	}
	// Each party's own ledger says borealis acknowledged on time.
	for _, p := range []*party{a, b} {
		r := casework.Compile(period, casework.Ledger{Party: p.id, Entries: p.entries(t)})
		var row *casework.Row
		for i := range r.Rows {
			if r.Rows[i].Party == b.id && r.Rows[i].Type == "incident-notification" {
				row = &r.Rows[i]
			}
		}
		if row == nil || row.Acknowledgements.OnTime != 1 || row.Acknowledgements.Late != 0 || row.Acknowledgements.Overdue != 0 || row.CIReceived != 1 {
			t.Errorf("%s's record of borealis's incident notifications: %+v", p.id, row)
		}
	}
	// From both ledgers, in either order, the same bytes, with no step
	// recorded differently.
	la, lb := casework.Ledger{Party: a.id, Entries: a.entries(t)}, casework.Ledger{Party: b.id, Entries: b.entries(t)}
	ra, rb := casework.Compile(period, la, lb), casework.Compile(period, lb, la)
	ja, _ := ra.JSON()
	jb, _ := rb.JSON()
	if string(ja) != string(jb) || ra.Conflicts != 0 {
		t.Errorf("the two records differ or conflict (%d):\n%s\n%s", ra.Conflicts, ja, jb)
	}
}

// heldIn lists what p's collection (id or alias) holds, as id.
func (p *party) heldIn(t testing.TB, alias string) map[string]bool {
	t.Helper()
	col, err := p.n.CasesCollection(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	page, err := p.st.Objects(t.Context(), store.Query{Collection: col.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, o := range page.Objects {
		out[o.ID] = true
	}
	return out
}
