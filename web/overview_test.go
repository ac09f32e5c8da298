package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/casework"
	"github.com/entente/entente/examples"
	"github.com/entente/entente/federation"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
	"github.com/entente/entente/provenance"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// partnerKey reads an example partner node's key.
func partnerKey(t testing.TB, nodeID string) *node.Key {
	t.Helper()
	b, err := examples.FS.ReadFile("keys/" + nodeID + ".key")
	if err != nil {
		t.Fatal(err)
	}
	k, err := node.ParseKey(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// receive hands the node what partner node nodeID of party sends, each
// object with its origin signature, through the node's receive path.
func (e *env) receive(t testing.TB, party, nodeID string, raws ...string) federation.Result {
	t.Helper()
	key := partnerKey(t, nodeID)
	_, nd, ok := e.agreement.Node(nodeID)
	if !ok {
		t.Fatalf("no node %s in the agreement", nodeID)
	}
	var items []federation.Incoming
	for _, raw := range raws {
		prov, err := provenance.Sign(key.Private, nodeID, []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		enc, err := prov.Encode()
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, federation.Incoming{Object: []byte(raw), Provenance: enc})
	}
	res, err := e.n.Receive(context.Background(), federation.Peer{Party: party, Node: nodeID, Log: nd.Log}, node.DefaultCollectionAlias, items)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// disclose shares the default collection with party and has its node
// read it, through the node's release path, which records a disclosure
// of each version released.
func (e *env) disclose(t testing.TB, party, nodeID string) int {
	t.Helper()
	ctx := context.Background()
	if _, _, err := node.Share(ctx, e.st, e.agreement, envParty, party, e.collection, store.RightRead); err != nil {
		t.Fatal(err)
	}
	p, err := e.n.Objects(ctx, &taxii.Caller{Name: nodeID, Role: taxii.RolePartner, Party: party, Node: nodeID},
		node.DefaultAPIRoot, e.collection, &taxii.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(p.Items)
}

// ledgerAt appends n entries of kind (received from, or disclosed to,
// party) recorded at the given time, as the node would have on that day.
func (e *env) ledgerAt(t testing.TB, k ledger.Kind, party string, at time.Time, n int) {
	t.Helper()
	var recs []store.LedgerRecord
	for i := range n {
		ref := ledger.ObjectRef{ID: fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", at.Unix()%1e6*100+int64(i)), Version: "2026-01-01T00:00:00.000Z"}
		var ev ledger.Event = ledger.Received{From: party, Node: party + "-node-1", Object: ref}
		if k == ledger.KindDisclosed {
			ev = ledger.Disclosed{To: party, Node: party + "-node-1", Object: ref, Agreement: "arcadia-borealis-caledonia-cti version 1", Rule: "arcadia-to-" + party}
		}
		enc, err := ledger.Entry{Time: at, Event: ev}.Encode()
		if err != nil {
			t.Fatal(err)
		}
		r := store.LedgerRecord{Entry: enc, Concerns: []string{party}}
		r.Salt[0], r.Salt[1] = byte(i), byte(i>>8)
		recs = append(recs, r)
	}
	err := e.st.Update(context.Background(), func(ctx context.Context, tx store.Tx) error {
		_, err := tx.AppendLedger(ctx, recs)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// nodeAt is a second node on the env's store whose clock says at: what
// it does is recorded as done then.
func (e *env) nodeAt(t testing.TB, at time.Time) *node.Node {
	t.Helper()
	key := partnerKey(t, envNode)
	_, self, _ := e.agreement.Node(envNode)
	n, err := node.New(context.Background(), node.Config{Store: e.st, Key: key, LogName: self.Log, Agreement: e.agreement, Self: envNode,
		Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func greenIndicator(n int) string {
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--10000000-0000-4000-8000-%012d","created":"2026-02-01T00:00:00.000Z","modified":"2026-02-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2026-02-01T00:00:00Z","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}`, n, n)
}

var (
	barRE  = regexp.MustCompile(`<rect class="bar p\d" [^>]*data-party="([^"]+)" data-day="([^"]+)" data-dir="([^"]+)" data-n="(\d+)"`)
	cellRE = regexp.MustCompile(`<td class="num" data-party="([^"]+)" data-day="([^"]+)" data-dir="([^"]+)" data-n="(\d+)">(\d+)</td>`)
)

// numbers reads the chart's bars and the table's cells, keyed
// party/day/direction.
func numbers(t *testing.T, body string) (bars, cells map[string]int64) {
	t.Helper()
	bars, cells = map[string]int64{}, map[string]int64{}
	for _, m := range barRE.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.ParseInt(m[4], 10, 64)
		bars[m[1]+"/"+m[2]+"/"+m[3]] = n
	}
	for _, m := range cellRE.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.ParseInt(m[4], 10, 64)
		if m[5] != m[4] {
			t.Errorf("table cell %s/%s/%s shows %s but says %s", m[1], m[2], m[3], m[5], m[4])
		}
		cells[m[1]+"/"+m[2]+"/"+m[3]] = n
	}
	return bars, cells
}

func TestOverviewActivity(t *testing.T) {
	// The node and the console read one clock, which stays at now: on
	// the running clock, a run across midnight UTC recorded today's
	// entries on a day after the one the test expects them on.
	now := time.Now().UTC()
	e := newEnv(t, atTime(now))
	today := now.Truncate(24 * time.Hour)
	// Through the node's paths, today: two indicators received from
	// Borealis, and what Borealis's node reads of the default collection.
	if res := e.receive(t, "borealis", "borealis-node-1", greenIndicator(1), greenIndicator(2)); res.Stored != 2 {
		t.Fatalf("receive: %+v", res)
	}
	e.add(greenIndicator(3))
	released := e.disclose(t, "borealis", "borealis-node-1")
	if released == 0 {
		t.Fatal("Borealis's node was released nothing")
	}
	// Earlier days, as the ledger recorded them.
	e.ledgerAt(t, ledger.KindReceived, "caledonia", today.AddDate(0, 0, -3).Add(5*time.Hour), 7)
	e.ledgerAt(t, ledger.KindDisclosed, "caledonia", today.AddDate(0, 0, -3).Add(23*time.Hour), 4)
	e.ledgerAt(t, ledger.KindDisclosed, "borealis", today.AddDate(0, 0, -13), 5)
	// Outside the fortnight: not shown.
	e.ledgerAt(t, ledger.KindReceived, "borealis", today.AddDate(0, 0, -14).Add(-time.Second), 9)

	want := map[string]int64{
		"borealis/" + today.Format(time.DateOnly) + "/received":                     2,
		"borealis/" + today.Format(time.DateOnly) + "/disclosed":                    int64(released),
		"caledonia/" + today.AddDate(0, 0, -3).Format(time.DateOnly) + "/received":  7,
		"caledonia/" + today.AddDate(0, 0, -3).Format(time.DateOnly) + "/disclosed": 4,
		"borealis/" + today.AddDate(0, 0, -13).Format(time.DateOnly) + "/disclosed": 5,
	}
	c := e.login(t, "reader")
	status, body := c.get(t, "/ui/")
	if status != http.StatusOK {
		t.Fatalf("GET /ui/: %d\n%s", status, body)
	}
	bars, cells := numbers(t, body)
	if len(bars) != 2*2*overviewDays || len(cells) != len(bars) {
		t.Fatalf("%d bars and %d table cells; want %d of each (2 partners, 2 directions, %d days)", len(bars), len(cells), 2*2*overviewDays, overviewDays)
	}
	for k, n := range bars {
		if cells[k] != n {
			t.Errorf("%s: the chart shows %d, the table %d", k, n, cells[k])
		}
		if n != want[k] {
			t.Errorf("%s: the chart shows %d, the ledger recorded %d", k, n, want[k])
		}
	}
	for k := range want {
		if _, ok := bars[k]; !ok {
			t.Errorf("%s is not in the chart", k)
		}
	}
	if !strings.Contains(body, `role="img"`) || !strings.Contains(body, "<title id=\"chart-received-title\">") {
		t.Error("the chart has no accessible name")
	}
	// Each bar's height is proportional to its number within its chart.
	heights := regexp.MustCompile(`height="(\d+)" data-party="caledonia" data-day="` + today.AddDate(0, 0, -3).Format(time.DateOnly) + `" data-dir="received" data-n="7"`)
	if m := heights.FindStringSubmatch(body); m == nil || m[1] == "0" {
		t.Errorf("the bar of 7 received from Caledonia has no height")
	}
}

func TestOverviewLinksCasesSightingsAlerts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Now().UTC()
	// Borealis's link failing, as it last saved its health; the
	// checkpoint of Borealis's log this node cosigned.
	_, bnode, _ := e.agreement.Node("borealis-node-1")
	if err := e.st.PutLinkHealth(ctx, store.LinkHealth{Node: "borealis-node-1", Party: "borealis", Log: bnode.Log, State: federation.StateBackoff,
		LastAttempt: now.Add(-time.Minute), LastSuccess: now.Add(-2 * time.Hour), CaughtUp: now.Add(-3 * time.Hour), Behind: 12, Pending: true,
		Errors: 4, LastError: "dial tcp: connection refused", Updated: now}); err != nil {
		t.Fatal(err)
	}
	cp, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: bnode.Log, Tree: tlogTree(41)}, partnerKey(t, "borealis-node-1").Signer)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SwapWitnessedCheckpoint(ctx, bnode.Log, nil, cp); err != nil {
		t.Fatal(err)
	}
	// Caledonia's log suspended by this node's witness.
	_, cnode, _ := e.agreement.Node("caledonia-node-1")
	if err := e.st.SuspendLog(ctx, store.Suspension{Origin: cnode.Log, Since: now.Add(-time.Hour), Reason: "fork", Evidence: []byte("x"), Witnessed: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	// An incident notification to Borealis sent two days ago: its
	// acknowledgement deadline (hours) has passed. And a draft, with no
	// clock running.
	arcadia, _ := e.agreement.Party(envParty)
	past := e.nodeAt(t, now.Add(-48*time.Hour))
	late, err := past.OpenCase(ctx, casework.TypeIncident, &casework.Incident{Stage: "early-warning", Category: "intrusion-attempts", Severity: "high",
		Sectors: arcadia.Declarations.CriticalInfrastructure.Sectors[:1], Detected: now.Add(-49 * time.Hour), AffectsDeclaredCI: true,
		Summary: "Scanning of the grid operator's control network."}, nil, "borealis")
	if err != nil {
		t.Fatal(err)
	}
	if late, err = past.StepCase(ctx, late.ID, casework.Event{Kind: casework.EventSend}); err != nil {
		t.Fatal(err)
	}
	draft, err := e.n.OpenCase(ctx, casework.TypeReachability, &casework.Reachability{Authority: "caledonia-ncsc", Channel: "email"}, nil, "caledonia")
	if err != nil {
		t.Fatal(err)
	}
	// A sighting, and an object Borealis's node sent with a signature
	// that is not its own: refused, and alerted about.
	e.add(greenIndicator(1), `{"type":"sighting","spec_version":"2.1","id":"sighting--20000000-0000-4000-8000-000000000001","created":"2026-02-02T00:00:00.000Z","modified":"2026-02-02T00:00:00.000Z","sighting_of_ref":"indicator--10000000-0000-4000-8000-000000000001","count":3}`)
	forged, err := provenance.Sign(partnerKey(t, "caledonia-node-1").Private, "borealis-node-1", []byte(greenIndicator(2)))
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := forged.Encode()
	if res, err := e.n.Receive(ctx, federation.Peer{Party: "borealis", Node: "borealis-node-1", Log: bnode.Log}, node.DefaultCollectionAlias,
		[]federation.Incoming{{Object: []byte(greenIndicator(2)), Provenance: enc}}); err != nil || res.Refused != 1 {
		t.Fatalf("Receive of a forged signature: %+v, %v", res, err)
	}

	admin := e.login(t, "admin")
	status, body := admin.get(t, "/ui/")
	if status != http.StatusOK {
		t.Fatalf("GET /ui/: %d\n%s", status, body)
	}
	row := func(attr, val string) string {
		t.Helper()
		i := strings.Index(body, attr+`="`+val+`"`)
		if i < 0 {
			t.Fatalf("no row %s=%s in\n%s", attr, val, body)
		}
		start := strings.LastIndex(body[:i], "<tr")
		return body[start : i+strings.Index(body[i:], "</tr>")]
	}
	for _, want := range []string{"Failing, retrying", "12 and more", "dial tcp: connection refused", "size 41", "Consistent"} {
		if b := row("data-node", "borealis-node-1"); !strings.Contains(b, want) {
			t.Errorf("Borealis's link does not say %q:\n%s", want, b)
		}
	}
	for _, want := range []string{"Never reported", "Suspended since", "fork"} {
		if b := row("data-node", "caledonia-node-1"); !strings.Contains(b, want) {
			t.Errorf("Caledonia's link does not say %q:\n%s", want, b)
		}
	}
	if b := row("data-case", late.ID); !strings.Contains(b, `class="overdue"`) || !strings.Contains(b, ">overdue<") ||
		!strings.Contains(b, "acknowledgement of receipt owed by Federation of Borealis (borealis)") || !strings.Contains(b, "to Federation of Borealis (borealis)") {
		t.Errorf("the late case's row:\n%s", b)
	}
	if b := row("data-case", draft.ID); strings.Contains(b, "overdue") || !strings.Contains(b, "no clock running") {
		t.Errorf("the draft's row:\n%s", b)
	}
	if strings.Index(body, late.ID) > strings.Index(body, draft.ID) {
		t.Error("the overdue case is not listed first")
	}
	if !strings.Contains(body, "protected infrastructure</span> <span class=\"mono\" title=\""+late.ID+"\"") {
		t.Error("the notification about declared critical infrastructure is not among the alerts")
	}
	if b := row("data-id", "sighting--20000000-0000-4000-8000-000000000001"); !strings.Contains(b, ">3<") || !strings.Contains(b, "this node") {
		t.Errorf("the sighting's row:\n%s", b)
	}
	if !strings.Contains(body, "Bad origin signature") || !strings.Contains(body, "indicator--10000000-0000-4000-8000-000000000002") {
		t.Error("the refused object's alert is not shown")
	}

	// A reader without a grant on the cases collection sees no case;
	// the running links' health replaces what the store saved.
	e.console.cfg.Links = func() []federation.Health {
		return []federation.Health{{Node: "borealis-node-1", Party: "borealis", Log: bnode.Log, State: federation.StateIdle, CaughtUp: now}}
	}
	reader := e.login(t, "reader")
	_, body = reader.get(t, "/ui/")
	if strings.Contains(body, late.ID) && strings.Contains(body, `data-case="`) {
		t.Error("the reader sees the cases")
	}
	if !strings.Contains(body, "Your account may not read the cases collection") {
		t.Error("the reader is not told why no case is shown")
	}
	if b := row("data-node", "borealis-node-1"); !strings.Contains(b, "Up to date") || strings.Contains(b, "connection refused") {
		t.Errorf("with live health, Borealis's link:\n%s", b)
	}
}

// tlogTree is a tree of size n with a root that stands for one.
func tlogTree(n int64) tlog.Tree {
	return tlog.Tree{N: n, Hash: tlog.Hash{byte(n), 1, 2, 3}}
}
