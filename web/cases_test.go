package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/entente/entente/casework"
	"github.com/entente/entente/examples"
	"github.com/entente/entente/federation"
	"github.com/entente/entente/node"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/store/sqlite"
	"github.com/entente/entente/taxii"
)

// grantCases gives the reader the right to read the cases collection,
// and the analyst the rights to read and write it.
func (e *env) grantCases(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.n.CasesCollection(ctx); err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct {
		account string
		right   store.Right
	}{{"reader", store.RightRead}, {"analyst", store.RightRead}, {"analyst", store.RightWrite}} {
		if _, _, err := node.Grant(ctx, e.st, g.account, node.CasesAlias, g.right); err != nil {
			t.Fatal(err)
		}
	}
}

// openCase opens and, with send, sends a case from this node's party.
func (e *env) openCase(t testing.TB, f casework.Fields, to string, send bool) casework.Case {
	t.Helper()
	ctx := context.Background()
	c, err := e.n.OpenCase(ctx, typeOf(f), f, nil, to)
	if err != nil {
		t.Fatal(err)
	}
	if send {
		if c, err = e.n.StepCase(ctx, c.ID, casework.Event{Kind: casework.EventSend}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func typeOf(f casework.Fields) casework.Type {
	switch f.(type) {
	case *casework.Incident:
		return casework.TypeIncident
	case *casework.Assistance:
		return casework.TypeAssistance
	case *casework.Reachability:
		return casework.TypeReachability
	}
	panic("typeOf: add the type")
}

// partnerCase opens and sends a request for assistance from Borealis to
// Arcadia on a real Borealis node, and hands its versions to this node
// as the federation would: through Receive, which checks Borealis's
// origin signature and the step with casework.Verify.
func (e *env) partnerCase(t testing.TB) casework.Case {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "borealis.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := node.Initialize(ctx, st, time.Now()); err != nil {
		t.Fatal(err)
	}
	skey, err := examples.FS.ReadFile("keys/borealis-node-1.key")
	if err != nil {
		t.Fatal(err)
	}
	key, err := node.ParseKey(string(skey))
	if err != nil {
		t.Fatal(err)
	}
	_, self, _ := e.agreement.Node("borealis-node-1")
	b, err := node.New(ctx, node.Config{Store: st, Key: key, LogName: self.Log, Agreement: e.agreement, Self: "borealis-node-1"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.OpenCase(ctx, casework.TypeAssistance, assistance(), nil, envParty)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = b.StepCase(ctx, c.ID, casework.Event{Kind: casework.EventSend}); err != nil {
		t.Fatal(err)
	}
	col, err := b.CasesCollection(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.Objects(ctx, store.Query{Collection: col.ID, IDs: []string{c.ID}, Versions: store.VersionFilter{All: true}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	// Drafts never leave their author: only the sent version travels.
	last := p.Objects[len(p.Objects)-1]
	items := []federation.Incoming{{Object: last.Raw, Provenance: last.Provenance}}
	res, err := e.n.Receive(ctx, federation.Peer{Party: "borealis", Node: "borealis-node-1", Log: self.Log}, node.CasesAlias, items)
	if err != nil || res.Stored != 1 {
		t.Fatalf("receiving Borealis's case: %+v, %v", res, err)
	}
	return c
}

func assistance() *casework.Assistance {
	return &casework.Assistance{Kind: "technical-analysis", Purpose: "incident-response",
		Description: "Analysis of a loader seen on a water utility's network."}
}

func reachability() *casework.Reachability {
	return &casework.Reachability{Authority: "borealis-cert", Channel: "email"}
}

var caseLink = regexp.MustCompile(`href="/ui/cases/((entente-[a-z-]+)--[0-9a-f-]{36})"`)

// section returns the part of a page's text between two headings.
func section(page, from, to string) string {
	_, rest, ok := strings.Cut(page, from)
	if !ok {
		return ""
	}
	before, _, _ := strings.Cut(rest, to)
	return before
}

func TestCasesInboxOutbox(t *testing.T) {
	e := newEnv(t)
	e.grantCases(t)
	in := e.partnerCase(t)
	out := e.openCase(t, reachability(), "borealis", true)
	draft := e.openCase(t, assistance(), "caledonia", false)
	status, body := e.login(t, "reader").get(t, "/ui/cases")
	if status != http.StatusOK {
		t.Fatalf("GET /ui/cases: %d\n%s", status, body)
	}
	page := text(body)
	inbox := section(page, "Inbox: opened by partners", "Outbox: opened by this party")
	outbox := section(page, "Outbox: opened by this party", "Times are shown")
	short := func(id string) string { return id[:strings.Index(id, "--")+10] }
	if !strings.Contains(inbox, short(in.ID)) || !strings.Contains(inbox, "Request for assistance Federation of Borealis (borealis) submitted due in") {
		t.Errorf("the inbox does not show Borealis's request with its clock:\n%s", inbox)
	}
	if strings.Contains(inbox, short(out.ID)) || strings.Contains(inbox, short(draft.ID)) {
		t.Errorf("the inbox shows this party's cases:\n%s", inbox)
	}
	for _, c := range []casework.Case{out, draft} {
		if !strings.Contains(outbox, short(c.ID)) {
			t.Errorf("the outbox does not show %s:\n%s", c.ID, outbox)
		}
	}
	if !strings.Contains(outbox, "Contact-point reachability test Federation of Borealis (borealis) sent due in") {
		t.Errorf("the outbox does not show the ping's clock:\n%s", outbox)
	}
	if strings.Contains(body, "overdue") {
		t.Error("a case on time is marked overdue")
	}
	if strings.Contains(body, "Open a case") {
		t.Error("the reader is offered to open a case")
	}
}

func TestCasesOverdueMarked(t *testing.T) {
	e := newEnv(t)
	e.grantCases(t)
	e.partnerCase(t)
	d, _ := e.agreement.Deadline("assistance-request")
	later := time.Now().Add(time.Duration(d.AcknowledgeHours+2) * time.Hour)
	e.console.now = func() time.Time { return later }
	_, body := e.login(t, "reader").get(t, "/ui/cases")
	m := regexp.MustCompile(`<span class="clock overdue">overdue by (\d+) h</span> <span class="muted">acknowledgement of receipt owed by us</span>`).FindStringSubmatch(body)
	if m == nil || (m[1] != "1" && m[1] != "2") {
		t.Fatalf("the overdue acknowledgement is not marked overdue in red:\n%s", body)
	}
	if !strings.Contains(body, `<tr class="overdue-row">`) {
		t.Error("the overdue case's row is not marked")
	}
}

func TestCaseOpenFormAndStep(t *testing.T) {
	e := newEnv(t)
	e.grantCases(t)
	c := e.login(t, "analyst")
	status, body := c.get(t, "/ui/cases/new?type=reachability-test")
	if status != http.StatusOK {
		t.Fatalf("the form: %d\n%s", status, body)
	}
	for _, want := range []string{
		`<label for="field-authority">Authority whose contact point is tested <span class="req">(required)</span></label>`,
		`<select id="field-channel" name="channel" required>`,
		`<select id="field-to" name="to" required>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the form lacks %s", want)
		}
	}
	// Every case type's form has exactly the fields its type reads, with
	// labels.
	for _, typ := range casework.Types {
		_, body := c.get(t, "/ui/cases/new?type="+typ.String())
		for _, m := range regexp.MustCompile(`<(?:input|select|textarea) id="([^"]+)"`).FindAllStringSubmatch(body, -1) {
			if !strings.Contains(body, `<label for="`+m[1]+`"`) {
				t.Errorf("%s: input %s has no label", typ, m[1])
			}
		}
	}
	_, body = c.get(t, "/ui/cases/new?type=reachability-test")
	status, body = c.post(t, "/ui/cases", url.Values{"type": {"reachability-test"}, "to": {"borealis"}, "tlp": {"green"},
		"authority": {"borealis-cert"}, "channel": {"phone"}})
	if status != http.StatusOK || !strings.Contains(body, "Done: open. The case is now draft.") {
		t.Fatalf("opening through the form: %d\n%s", status, text(body))
	}
	m := regexp.MustCompile(`<code>(entente-reachability-test--[0-9a-f-]{36})</code>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the case page does not name the case:\n%s", body)
	}
	id := m[1]
	got, err := e.n.LatestCase(context.Background(), id)
	if err != nil || got.State != casework.StateDraft || got.Reachability.Channel != "phone" || got.TLP != stix.TLPGreen || got.To != "borealis" {
		t.Fatalf("the stored case: %+v, %v", got, err)
	}
	if !strings.Contains(body, `id="step-send"`) || strings.Contains(body, `id="step-acknowledge"`) {
		t.Errorf("the draft's steps are not send (and withdraw) only:\n%s", body)
	}
	status, body = c.post(t, "/ui/cases/"+id+"/step", url.Values{"event": {"send"}, "note": {"Quarterly test."}})
	if status != http.StatusOK || !strings.Contains(body, "Done: send. The case is now sent.") {
		t.Fatalf("sending: %d\n%s", status, text(body))
	}
	page := text(body)
	timeline := section(page, "Timeline", "Next steps")
	for _, want := range []string{"Republic of Arcadia (arcadia) open draft", "Republic of Arcadia (arcadia) send sent", "Quarterly test."} {
		if !strings.Contains(timeline, want) {
			t.Errorf("the timeline does not show %q:\n%s", want, timeline)
		}
	}
	// Each step's ledger entry is shown, as the ledger holds it.
	steps, err := e.n.CaseTimeline(context.Background(), &taxii.Caller{Name: "admin", Role: string(store.RoleAdmin)}, id)
	if err != nil || len(steps) != 2 {
		t.Fatalf("the timeline: %d steps, %v", len(steps), err)
	}
	for _, st := range steps {
		if st.LedgerIndex < 0 || !strings.Contains(body, fmt.Sprintf(`<td class="event">%s</td><td>%s</td><td class="num">%d</td>`, stepName(st.Case), st.State, st.LedgerIndex)) {
			t.Errorf("the timeline does not show the ledger entry %d of the %s step", st.LedgerIndex, stepName(st.Case))
		}
	}
}

func stepName(c casework.Case) string {
	if c.Event == 0 {
		return "open"
	}
	return c.Event.String()
}

func TestCaseStepRefusedChangesNothing(t *testing.T) {
	e := newEnv(t)
	e.grantCases(t)
	in := e.partnerCase(t)
	c := e.login(t, "analyst")
	status, body := c.get(t, "/ui/cases/"+in.ID)
	if status != http.StatusOK || !strings.Contains(body, `id="step-acknowledge"`) || !strings.Contains(body, `id="step-decline"`) {
		t.Fatalf("the inbox case does not offer acknowledge and decline: %d\n%s", status, body)
	}
	size, err := e.st.LedgerSize(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	status, body = c.post(t, "/ui/cases/"+in.ID+"/step", url.Values{"event": {"decline"}, "ground": {"public-order"}, "note": {"We cannot help with this one."}})
	if status != http.StatusBadRequest {
		t.Fatalf("a decline on a ground the agreement does not list: %d\n%s", status, text(body))
	}
	if !strings.Contains(text(body), "Casework refused the step: a refusal must give one of the grounds the refusing party lists in the agreement (rule refusal-ground).") {
		t.Errorf("the page does not show casework's refusal:\n%s", text(body))
	}
	if !strings.Contains(body, `>We cannot help with this one.</textarea>`) {
		t.Error("the note entered is lost")
	}
	got, err := e.n.LatestCase(context.Background(), in.ID)
	if err != nil || got.State != in.State || !got.Modified.Equal(in.Modified) {
		t.Fatalf("the refused step changed the case: %s at %s, %v", got.State, got.Modified, err)
	}
	if after, _ := e.st.LedgerSize(context.Background()); after != size {
		t.Fatalf("the refused step wrote %d ledger entries", after-size)
	}
	// The same form with a ground Arcadia lists is taken.
	status, body = c.post(t, "/ui/cases/"+in.ID+"/step", url.Values{"event": {"acknowledge"}})
	if status != http.StatusOK || !strings.Contains(body, "Done: acknowledge. The case is now acknowledged.") {
		t.Fatalf("acknowledging: %d\n%s", status, text(body))
	}
	compliance := section(text(body), "Compliance", "Timeline")
	if !strings.Contains(compliance, "Acknowledgement by Republic of Arcadia (arcadia)") || !strings.Contains(compliance, "on time") ||
		!strings.Contains(compliance, "Substantive answer by Republic of Arcadia (arcadia)") || !strings.Contains(compliance, "pending, due in") {
		t.Errorf("the compliance view:\n%s", compliance)
	}
}

func TestCaseOpenRefusedKeepsTheForm(t *testing.T) {
	e := newEnv(t)
	e.grantCases(t)
	c := e.login(t, "analyst")
	c.get(t, "/ui/cases/new?type=incident-notification")
	form := url.Values{"type": {"incident-notification"}, "to": {"borealis"}, "tlp": {"amber"}, "stage": {"early-warning"},
		"category": {"intrusions"}, "severity": {"low"}, "sectors": {"energy, water"}, "detected": {"2026-11-28T09:30"},
		"affects_declared_ci": {"1"}, "summary": {"Intrusion into a grid operator's network."}, "requested_actions": {"investigate-source"}}
	status, body := c.post(t, "/ui/cases", form)
	if status != http.StatusBadRequest {
		t.Fatalf("an incident on declared infrastructure of low severity: %d\n%s", status, text(body))
	}
	for _, want := range []string{
		`The case was not opened: field severity: an incident that affects declared critical infrastructure is at least &#34;high&#34;`,
		`<select id="field-severity" name="severity" required aria-describedby="field-severity-help" aria-invalid="true">`,
		`<option value="low" selected>low</option>`,
		`>Intrusion into a grid operator&#39;s network.</textarea>`,
		`value="energy, water"`,
		`value="2026-11-28T09:30"`,
		`name="affects_declared_ci" value="1" checked`,
		`name="requested_actions" value="investigate-source" checked`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the form shown again lacks %s", want)
		}
	}
	p, err := e.n.CasesPage(context.Background(), &taxii.Caller{Name: "admin", Role: string(store.RoleAdmin)}, 0, 10)
	if err != nil || len(p.Cases) != 0 {
		t.Fatalf("a refused form stored %d cases (%v)", len(p.Cases), err)
	}
	form.Set("severity", "high")
	status, body = c.post(t, "/ui/cases", form)
	if status != http.StatusOK || !strings.Contains(body, "Done: open. The case is now draft.") {
		t.Fatalf("the corrected form: %d\n%s", status, text(body))
	}
}

func TestCasesReaderCannotOpenOrStep(t *testing.T) {
	e := newEnv(t)
	e.grantCases(t)
	in := e.partnerCase(t)
	r := e.login(t, "reader")
	if status, body := r.get(t, "/ui/cases/"+in.ID); status != http.StatusOK || !strings.Contains(body, "Timeline") || strings.Contains(body, `action="/ui/cases/`) {
		t.Fatalf("the reader's case page: %d, with step forms: %v", status, strings.Contains(body, `action="/ui/cases/`))
	}
	if status, _ := r.get(t, "/ui/cases/new"); status != http.StatusForbidden {
		t.Errorf("the reader opened the new-case form: %d", status)
	}
	if status, _ := r.post(t, "/ui/cases", url.Values{"type": {"reachability-test"}, "to": {"borealis"}, "authority": {"borealis-cert"}, "channel": {"email"}}); status != http.StatusForbidden {
		t.Errorf("the reader opened a case: %d", status)
	}
	if status, _ := r.post(t, "/ui/cases/"+in.ID+"/step", url.Values{"event": {"acknowledge"}}); status != http.StatusForbidden {
		t.Errorf("the reader stepped a case: %d", status)
	}
	if got, _ := e.n.LatestCase(context.Background(), in.ID); got.State != in.State {
		t.Fatalf("the reader's step changed the case to %s", got.State)
	}
}

// TestCasesNeedTheCollectionRights: the console decides the cases
// collection with node.Can, as TAXII does; an analyst without the right
// to write it cannot open a case, one without the right to read it sees
// none.
func TestCasesNeedTheCollectionRights(t *testing.T) {
	e := newEnv(t)
	e.openCase(t, reachability(), "borealis", true)
	c := e.login(t, "analyst")
	_, body := c.get(t, "/ui/cases")
	if !strings.Contains(body, "your account may not read the cases collection") || strings.Contains(body, "entente-reachability-test--") {
		t.Fatalf("an analyst without rights on the cases sees:\n%s", text(body))
	}
	c.get(t, "/ui/cases/new?type=reachability-test")
	status, _ := c.post(t, "/ui/cases", url.Values{"type": {"reachability-test"}, "to": {"borealis"}, "tlp": {"amber"}, "authority": {"borealis-cert"}, "channel": {"email"}})
	if status != http.StatusForbidden {
		t.Fatalf("an analyst without the right to write the cases opened one: %d", status)
	}
}

// TestBrowserCase opens a case through the form in Chromium, sends it,
// and reads its timeline on the page.
func TestBrowserCase(t *testing.T) {
	e := newEnv(t)
	e.grantCases(t)
	ctx := e.browser(t)
	e.browserLogin(t, ctx, "analyst")
	for i, step := range [][]chromedp.Action[chromedp.Void]{
		{chromedp.Navigate(e.srv.URL + "/ui/cases"), chromedp.WaitVisible(chromedp.CSS("a.button")), chromedp.Click(chromedp.CSS("a.button"))},
		{chromedp.WaitVisible(chromedp.CSS(`a[href="/ui/cases/new?type=reachability-test"]`)),
			chromedp.Click(chromedp.CSS(`a[href="/ui/cases/new?type=reachability-test"]`))},
		{chromedp.WaitVisible(chromedp.ID("field-authority")),
			chromedp.SetValue(chromedp.ID("field-to"), "borealis"),
			chromedp.SetValue(chromedp.ID("field-authority"), "borealis-cert"),
			chromedp.SetValue(chromedp.ID("field-channel"), "phone"),
			chromedp.Click(chromedp.CSS("form.casenew button[type=submit]"))},
		{chromedp.WaitVisible(chromedp.ID("step-send-note")),
			chromedp.SendKeys(chromedp.ID("step-send-note"), "Quarterly test of the 24/7 line."),
			chromedp.Click(chromedp.CSS("#step-send button[type=submit]"))},
		{chromedp.WaitVisible(chromedp.CSS("table.timeline td.event + td"))},
	} {
		if err := chromedp.Do(ctx, step...); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	done, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("p.notice.ok")))
	if err != nil {
		t.Fatal(err)
	}
	timeline, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("table.timeline tbody")))
	if err != nil {
		t.Fatal(err)
	}
	if done != "Done: send. The case is now sent." {
		t.Errorf("the page says %q after the step", done)
	}
	for _, want := range []string{"open", "draft", "send", "sent", "Quarterly test of the 24/7 line."} {
		if !strings.Contains(timeline, want) {
			t.Errorf("the timeline in the browser does not show %q:\n%s", want, timeline)
		}
	}
}

// TestCaseWordedAlike: the overview and the cases page name a case's
// type, its other party and its next duty in the same words, and the
// object page names parties as they do.
func TestCaseWordedAlike(t *testing.T) {
	e := newEnv(t)
	e.grantCases(t)
	in := e.partnerCase(t) // Borealis asks; this party owes the acknowledgement
	c := e.login(t, "reader")
	_, overview := c.get(t, "/ui/")
	_, cases := c.get(t, "/ui/cases")
	cell := func(body, marker string, n int) []string {
		t.Helper()
		i := strings.Index(body, marker)
		if i < 0 {
			t.Fatalf("no %s in\n%s", marker, body)
		}
		row := body[strings.LastIndex(body[:i], "<tr"):]
		row = row[:strings.Index(row, "</tr>")]
		var cells []string
		for _, m := range regexp.MustCompile(`(?s)<t[dh][^>]*>(.*?)</t[dh]>`).FindAllStringSubmatch(row, -1) {
			cells = append(cells, text(m[1]))
		}
		if len(cells) < n {
			t.Fatalf("the row of %s has %d cells: %q", marker, len(cells), cells)
		}
		return cells
	}
	ov := cell(overview, `data-case="`+in.ID+`"`, 5)   // case, type, partner, state, owed
	cs := cell(cases, `href="/ui/cases/`+in.ID+`"`, 5) // case, type, counterpart, state, deadline
	if ov[1] != cs[1] {
		t.Errorf("the case's type: %q on the overview, %q on the cases page", ov[1], cs[1])
	}
	const borealis = "Federation of Borealis (borealis)"
	if ov[2] != "from "+borealis || cs[2] != borealis {
		t.Errorf("the other party: %q on the overview, %q on the cases page; want %q on both", ov[2], cs[2], borealis)
	}
	const owed = "acknowledgement of receipt owed by us"
	if ov[4] != owed || !strings.HasSuffix(cs[4], " "+owed) {
		t.Errorf("the duty: %q on the overview, %q on the cases page; want %q on both", ov[4], cs[4], owed)
	}

	_, object := e.login(t, "admin").get(t, "/ui/objects/"+e.addFixture().Indicator)
	if !strings.Contains(text(object), "would go to "+borealis+" as it is") {
		t.Errorf("the object page names Borealis otherwise than the cases pages:\n%s", text(object))
	}
}
