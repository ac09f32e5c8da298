package node_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/casework"
	"github.com/entente/entente/federation"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
	"github.com/entente/entente/provenance"
	"github.com/entente/entente/store"
	"github.com/entente/entente/store/sqlite"
	"github.com/entente/entente/taxii"
)

// party is one side of a two-party federation test: a node on a real
// SQLite store, with the key the agreement pins for it.
type party struct {
	id, nodeID string
	key        *node.Key
	st         store.Store
	n          *node.Node
	ini        *node.Initialized
	ag         *agreement.Agreement
	mu         sync.Mutex
	alerts     []string
}

// twoParties returns Arcadia's and Borealis's nodes under the example
// agreement, re-keyed and signed with fresh keys. edit, when not nil,
// changes the agreement's text before it is signed.
func twoParties(t testing.TB, edit func(string) string) (a, b *party) {
	t.Helper()
	ps := parties(t, false, edit)
	return ps[0], ps[1]
}

// threeParties adds Caledonia to the example, a copy of Borealis to
// which Borealis may send indicators; Caledonia sends nothing.
func threeParties(t testing.TB) (a, b, c *party) {
	t.Helper()
	ps := parties(t, true, nil)
	return ps[0], ps[1], ps[2]
}

func parties(t testing.TB, caledonia bool, edit func(string) string) []*party {
	t.Helper()
	ps := []*party{{id: "arcadia", nodeID: "arcadia-node-1"}, {id: "borealis", nodeID: "borealis-node-1"}}
	doc, err := os.ReadFile("../examples/arcadia-borealis.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := agreement.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	text = text[:strings.Index(text, "\nsignatures:")+1]
	type keys struct{ party, node, witness string } // as the text has them
	old := map[string]keys{}
	for _, p := range ps {
		pt, n, _ := ex.Node(p.nodeID)
		old[p.id] = keys{pt.Key, n.Key, n.WitnessKey}
	}
	if caledonia {
		rename := strings.NewReplacer("borealis", "caledonia", "Borealis", "Caledonia", "203.0.113.0/", "192.0.2.0/",
			"2001:db8:b::", "2001:db8:c::", "64510, 64511", "64520, 64521", "+999 777", "+999 888")
		i := strings.Index(text, "  - id: borealis\n")
		j := strings.Index(text, "\n# One rule per direction")
		if i < 0 || j < i {
			t.Fatal("the example's layout changed: no borealis block before the rules")
		}
		text = text[:j+1] + rename.Replace(text[i:j+1]) + text[j+1:]
		text = strings.Replace(text, "\nrules:\n", `
rules:
  - id: borealis-to-caledonia
    from: borealis
    to: caledonia
    types: [indicator]
    tlp: amber
    unmarked: amber
    pap: amber
    organizations: [caledonia-cert]
    conditions:
      confidential: true
      purposes: [network-defence]
      third_parties: never
      retention_days: 365
`, 1)
		b := old["borealis"]
		old["caledonia"] = keys{rename.Replace(b.party), rename.Replace(b.node), rename.Replace(b.witness)}
		ps = append(ps, &party{id: "caledonia", nodeID: "caledonia-node-1"})
	}
	var signers []note.Signer
	for _, p := range ps {
		skey, err := node.GenerateKey(p.nodeID)
		if err != nil {
			t.Fatal(err)
		}
		if p.key, err = node.ParseKey(skey); err != nil {
			t.Fatal(err)
		}
		pskey, pvkey, err := note.GenerateKey(rand.Reader, p.id)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := note.NewSigner(pskey)
		signers = append(signers, s)
		k := old[p.id]
		text = strings.Replace(text, "key: "+k.party, "key: "+pvkey, 1)
		text = strings.Replace(text, "key: "+k.node, "key: "+p.key.VerifierKey, 1)
		text = strings.Replace(text, "witness_key: "+k.witness, "witness_key: "+p.key.WitnessVerifierKey(), 1)
	}
	if edit != nil {
		text = edit(text)
	}
	signed := []byte(text)
	for _, s := range signers {
		if signed, _, err = agreement.Sign(signed, s); err != nil {
			t.Fatal(err)
		}
	}
	ag, err := agreement.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	if err := ag.Verify(time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		p.ag = ag
		p.open(t)
	}
	return ps
}

// open gives p a new, empty store and a node on it.
func (p *party) open(t testing.TB) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "entente.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p.st = st
	if p.ini, err = node.Initialize(t.Context(), st, time.Now()); err != nil {
		t.Fatal(err)
	}
	p.n, err = node.New(t.Context(), node.Config{Store: st, Key: p.key, Agreement: p.ag, Self: p.nodeID,
		OnAlert: func(kind string) { p.mu.Lock(); p.alerts = append(p.alerts, kind); p.mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
}

func (p *party) peer() federation.Peer {
	_, n, _ := p.ag.Node(p.nodeID)
	return federation.Peer{Party: p.id, Node: p.nodeID, Log: n.Log}
}

// signed is what p's node would release: the object and its origin
// signature by signer (p's node key unless another is given).
func signed(t testing.TB, raw string, node string, key *node.Key) federation.Incoming {
	t.Helper()
	prov, err := provenance.Sign(key.Private, node, []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := prov.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return federation.Incoming{Object: json.RawMessage(raw), Provenance: enc}
}

func sdo(typ string, n int, extra string) string {
	return fmt.Sprintf(`{"type":%q,"spec_version":"2.1","id":"%s--00000000-0000-4000-8000-%012d","created":"2026-02-01T00:00:00.000Z","modified":"2026-02-01T00:00:00.000Z"%s}`,
		typ, typ, n, extra)
}

func indicatorRaw(n int) string {
	return sdo("indicator", n, fmt.Sprintf(`,"pattern":"[ipv4-addr:value = '203.0.113.%d']","pattern_type":"stix","valid_from":"2026-02-01T00:00:00Z","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]`, n))
}

// held lists what p's default collection holds, as id@version.
func (p *party) held(t testing.TB) map[string]store.Object {
	t.Helper()
	page, err := p.st.Objects(t.Context(), store.Query{Collection: p.ini.CollectionID, Versions: store.VersionFilter{All: true}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.Object{}
	for _, o := range page.Objects {
		out[o.ID+"@"+o.Version] = o
	}
	return out
}

// entries decodes p's ledger.
func (p *party) entries(t testing.TB) []ledger.Entry {
	t.Helper()
	size, err := p.st.LedgerSize(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	recs, err := p.st.LedgerRecords(t.Context(), 0, size)
	if err != nil {
		t.Fatal(err)
	}
	var out []ledger.Entry
	for _, r := range recs {
		e, err := ledger.DecodeEntry(r.Entry)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestReceiveStoresWhatTheSenderMaySend(t *testing.T) {
	a, b := twoParties(t, nil)
	ctx := t.Context()
	start := len(a.entries(t)) // the terms the node started under
	items := []federation.Incoming{signed(t, indicatorRaw(1), b.nodeID, b.key), signed(t, indicatorRaw(2), b.nodeID, b.key)}
	res, err := a.n.Receive(ctx, b.peer(), "default", items)
	if err != nil {
		t.Fatal(err)
	}
	if res != (federation.Result{Stored: 2}) {
		t.Errorf("Receive = %+v, want 2 stored", res)
	}
	held := a.held(t)
	o, ok := held["indicator--00000000-0000-4000-8000-000000000001@2026-02-01T00:00:00.000Z"]
	if len(held) != 2 || !ok {
		t.Fatalf("arcadia holds %v", held)
	}
	if o.FromParty != "borealis" || o.FromNode != b.nodeID || o.LedgerIndex < 0 || len(o.Provenance) == 0 {
		t.Errorf("stored version: from %q/%q, ledger %d, provenance %q", o.FromParty, o.FromNode, o.LedgerIndex, o.Provenance)
	}
	prov, err := provenance.Decode(o.Provenance)
	if err != nil || prov.Origin.Node != b.nodeID {
		t.Errorf("stored provenance %+v, %v", prov, err)
	}
	es := a.entries(t)
	if len(es) != start+2 {
		t.Fatalf("ledger holds %d entries, want %d and 2 receipts", len(es), start)
	}
	r, ok := es[o.LedgerIndex].Event.(ledger.Received)
	if !ok || r.From != "borealis" || r.Node != b.nodeID || r.Object.ID != "indicator--00000000-0000-4000-8000-000000000001" {
		t.Errorf("entry %d = %+v, want received from borealis", o.LedgerIndex, es[o.LedgerIndex].Event)
	}

	// The same page again, as after a crash between storing and saving
	// the cursor: nothing is stored twice, nothing ledgered twice.
	res, err = a.n.Receive(ctx, b.peer(), "default", items)
	if err != nil || res != (federation.Result{Duplicates: 2}) {
		t.Errorf("Receive again = %+v, %v; want 2 duplicates", res, err)
	}
	if n := len(a.entries(t)); n != start+2 {
		t.Errorf("ledger holds %d entries after duplicates, want %d", n, start+2)
	}
	if len(a.alerts) != 0 {
		t.Errorf("alerts %v for accepted objects", a.alerts)
	}
}

func TestReceiveRefuses(t *testing.T) {
	a, b := twoParties(t, nil)
	other, err := node.GenerateKey(b.nodeID)
	if err != nil {
		t.Fatal(err)
	}
	forger, _ := node.ParseKey(other)
	tampered := signed(t, indicatorRaw(4), b.nodeID, b.key)
	tampered.Object = json.RawMessage(strings.Replace(string(tampered.Object), "203.0.113.4", "203.0.113.99", 1))
	for _, tc := range []struct {
		name  string
		item  federation.Incoming
		kind  string
		check string
	}{
		{"forged signature", signed(t, indicatorRaw(1), b.nodeID, forger), node.AlertSignature, "signature"},
		{"re-signed by the sender as another node", signed(t, indicatorRaw(2), a.nodeID, b.key), node.AlertSignature, "signature"},
		{"unsigned", federation.Incoming{Object: json.RawMessage(indicatorRaw(3))}, node.AlertSignature, "signature"},
		{"changed after signing", tampered, node.AlertSignature, "signature"},
		// borealis-to-arcadia allows no attack-pattern.
		{"outside the sender's rule", signed(t, sdo("attack-pattern", 5, `,"name":"x"`), b.nodeID, b.key), node.AlertViolation, "type"},
		// TLP:RED goes only to named individuals, never to a node.
		{"TLP:RED", signed(t, sdo("malware", 6, `,"name":"x","is_family":false,"object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]`), b.nodeID, b.key), node.AlertViolation, "tlp-individual"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(a.entries(t))
			res, err := a.n.Receive(t.Context(), b.peer(), "default", []federation.Incoming{tc.item})
			if err != nil {
				t.Fatal(err)
			}
			if res != (federation.Result{Refused: 1}) {
				t.Errorf("Receive = %+v, want 1 refused", res)
			}
			if held := a.held(t); len(held) != 0 {
				t.Errorf("a refused object was stored: %v", held)
			}
			es := a.entries(t)
			if len(es) != before+1 {
				t.Fatalf("ledger grew by %d entries, want 1 violation", len(es)-before)
			}
			tr, ok := es[before].Event.(ledger.Transition)
			if !ok || tr.Workflow != node.ViolationWorkflow || tr.To != "refused" || tr.Party != "borealis" ||
				tr.Attrs["node"] != b.nodeID || tr.Attrs["check"] != tc.check || len(tr.Attrs["digest"]) != 64 {
				t.Errorf("violation entry = %+v", es[before].Event)
			}
			alerts, err := a.st.Alerts(t.Context(), 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			last := alerts[len(alerts)-1]
			if last.Kind != tc.kind || last.Party != "borealis" || last.Node != b.nodeID || last.Entry != int64(before) || last.Detail == "" {
				t.Errorf("alert = %+v, want %s for entry %d", last, tc.kind, before)
			}
			if a.alerts[len(a.alerts)-1] != tc.kind {
				t.Errorf("metric got %v", a.alerts)
			}
		})
	}
}

func TestReceiveFromAnUnknownNode(t *testing.T) {
	a, b := twoParties(t, nil)
	for _, from := range []federation.Peer{{Party: "borealis", Node: "borealis-node-9"}, {Party: "arcadia", Node: a.nodeID}, {Party: "arcadia", Node: b.nodeID}} {
		if _, err := a.n.Receive(t.Context(), from, "default", []federation.Incoming{signed(t, indicatorRaw(1), b.nodeID, b.key)}); err == nil {
			t.Errorf("Receive from %+v succeeded", from)
		}
	}
	if len(a.held(t)) != 0 {
		t.Error("stored from a node that is not a partner")
	}
}

// TestPushStatus: a partner's push is answered with a status that names
// every object by its id and version, stored, duplicate or refused, and a
// case version among them (received into the cases collection) as well.
func TestPushStatus(t *testing.T) {
	a, b := twoParties(t, nil)
	a.share(t, "borealis", store.RightWrite)
	ctx := t.Context()
	caller := &taxii.Caller{Name: b.nodeID, Role: taxii.RolePartner, Party: "borealis", Node: b.nodeID}
	push := func(items ...federation.Incoming) *taxii.Status {
		t.Helper()
		objs, provs := make([]json.RawMessage, len(items)), make([]json.RawMessage, len(items))
		for i, it := range items {
			objs[i], provs[i] = it.Object, it.Provenance
		}
		s, err := a.n.AddObjectsWithProvenance(ctx, caller, node.DefaultAPIRoot, a.ini.CollectionID, objs, provs)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	const version = "2026-02-01T00:00:00.000Z"
	id := func(n int) string { return fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", n) }
	push(signed(t, indicatorRaw(1), b.nodeID, b.key))

	s := push(
		signed(t, indicatorRaw(1), b.nodeID, b.key), // a duplicate
		signed(t, indicatorRaw(2), b.nodeID, b.key),
		federation.Incoming{Object: json.RawMessage(indicatorRaw(3))}, // unsigned
		federation.Incoming{Object: json.RawMessage(`{"type":"indicator","id":"indicator--x","modified":"then"}`)},
		caseVersion(t, b, a),
	)
	type detail struct{ id, version, message string }
	var successes, failures []detail
	for _, d := range s.Successes {
		successes = append(successes, detail{d.ID, d.Version, d.Message})
	}
	for _, d := range s.Failures {
		failures = append(failures, detail{d.ID, d.Version, d.Message[:min(len(d.Message), 20)]})
	}
	if s.TotalCount != 5 || s.SuccessCount != 3 || s.FailureCount != 2 {
		t.Errorf("status counts: total %d, succeeded %d, failed %d; want 5, 3, 2", s.TotalCount, s.SuccessCount, s.FailureCount)
	}
	want := []detail{{id(1), version, "already stored with the same content"}, {id(2), version, "stored"}}
	if len(successes) != 3 || !slices.Equal(successes[:2], want) || !strings.HasPrefix(successes[2].id, "entente-") || successes[2].message != "stored" {
		t.Errorf("successes %q, want %q and the case version stored", successes, want)
	}
	wantFailures := []detail{{id(3), version, "it carries no origin"}, {"indicator--x", "then", "not valid STIX 2.1: "}}
	if !slices.Equal(failures, wantFailures) {
		t.Errorf("failures %q, want %q", failures, wantFailures)
	}
}

// caseVersion is a case that p opens with q and sends, as p's node
// releases it: its latest version and provenance.
func caseVersion(t testing.TB, p, q *party) federation.Incoming {
	t.Helper()
	ctx := t.Context()
	c, err := p.n.OpenCase(ctx, casework.TypeAssistance, caseFields(casework.TypeAssistance), nil, q.id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.n.StepCase(ctx, c.ID, casework.Event{Kind: casework.EventSend}); err != nil {
		t.Fatal(err)
	}
	col, err := p.n.CasesCollection(ctx)
	if err != nil {
		t.Fatal(err)
	}
	page, err := p.st.Objects(ctx, store.Query{Collection: col.ID, IDs: []string{c.ID}, Limit: 1})
	if err != nil || len(page.Objects) != 1 {
		t.Fatalf("reading case %s: %v, %d versions", c.ID, err, len(page.Objects))
	}
	return federation.Incoming{Object: page.Objects[0].Raw, Provenance: page.Objects[0].Provenance}
}
