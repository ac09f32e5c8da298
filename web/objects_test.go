package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/entente/entente/examples"
	"github.com/entente/entente/federation"
	"github.com/entente/entente/node"
	"github.com/entente/entente/policy"
	"github.com/entente/entente/provenance"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// indicator returns an indicator's JSON: name, TLP (TLPNone: unmarked),
// labels, and extra properties (JSON members, without braces).
func indicator(id, name string, tlp stix.TLP, labels []string, extra string) string {
	m := map[string]any{
		"type": "indicator", "spec_version": "2.1", "id": id,
		"created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z",
		"name": name, "pattern": "[ipv4-addr:value = '203.0.113.66']", "pattern_type": "stix",
		"valid_from": "2026-03-01T00:00:00Z", "description": "Seen at the ministry",
	}
	if tlp != stix.TLPNone {
		m["object_marking_refs"] = []string{stix.TLP2ID(tlp)}
	}
	if len(labels) > 0 {
		m["labels"] = labels
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the JSON as a producer may write it, markup and all
	if err := enc.Encode(m); err != nil {
		panic(err)
	}
	b := bytes.TrimSpace(buf.Bytes())
	if extra != "" {
		b = append(b[:len(b)-1], []byte(","+extra+"}")...)
	}
	return string(b)
}

func newID(typ string) string { return typ + "--" + uuid.NewString() }

// objectsFixture is the test data of the objects pages.
type objectsFixture struct {
	green, clear, excluded, redacted, received, malware, rel string
}

// fillObjects stores indicators under different markings, a relationship, and
// an indicator received from Borealis's node through node.Receive with
// its origin signature.
func fillObjects(t *testing.T, e *env) objectsFixture {
	t.Helper()
	f := objectsFixture{
		green: newID("indicator"), clear: newID("indicator"), excluded: newID("indicator"),
		redacted: newID("indicator"), received: newID("indicator"), malware: newID("malware"), rel: newID("relationship"),
	}
	e.add(
		indicator(f.green, "Green beacon <script>alert(1)</script>", stix.TLPGreen, nil, ""),
		indicator(f.clear, "Clear scanner", stix.TLPClear, []string{"scanning"}, ""),
		indicator(f.excluded, "Excluded probe", stix.TLPClear, []string{"under-investigation"}, ""),
		indicator(f.redacted, "Redacted dropper", stix.TLPClear, nil,
			fmt.Sprintf(`"granular_markings":[{"marking_ref":%q,"selectors":["description"]}]`, stix.TLP2ID(stix.TLPRed))),
		fmt.Sprintf(`{"type":"malware","spec_version":"2.1","id":%q,"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","name":"Quietwave","is_family":true,"object_marking_refs":[%q]}`,
			f.malware, stix.TLP2ID(stix.TLPGreen)),
		fmt.Sprintf(`{"type":"relationship","spec_version":"2.1","id":%q,"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","relationship_type":"indicates","source_ref":%q,"target_ref":%q,"object_marking_refs":[%q]}`,
			f.rel, f.green, f.malware, stix.TLP2ID(stix.TLPGreen)),
	)
	// Borealis's node sends an indicator, signed by its node key.
	skey, err := examples.FS.ReadFile("keys/borealis-node-1.key")
	if err != nil {
		t.Fatal(err)
	}
	key, err := node.ParseKey(string(skey))
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte(indicator(f.received, "Borealis relay", stix.TLPClear, nil, ""))
	p, err := provenance.Sign(key.Private, "borealis-node-1", raw)
	if err != nil {
		t.Fatal(err)
	}
	prov, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	_, b, _ := e.agreement.Node("borealis-node-1")
	res, err := e.n.Receive(context.Background(), federation.Peer{Party: "borealis", Node: "borealis-node-1", Log: b.Log},
		e.collection, []federation.Incoming{{Object: raw, Provenance: prov}})
	if err != nil || res.Stored != 1 {
		t.Fatalf("receiving from Borealis: %+v, %v", res, err)
	}
	return f
}

var (
	rowRE      = regexp.MustCompile(`(?s)<tr><td>([^<]*)</td><td><a href="([^"]+)">(.*?)</a></td><td>([^<]*)</td><td>([^<]*)</td>`)
	nextRE     = regexp.MustCompile(`href="(/ui/objects\?[^"]+)" id="objects-(next|continue)"`)
	decisionRE = regexp.MustCompile(`(?s)<tr class="decision"><th scope="row">([^<]+)</th><td><span class="badge [a-z]+">([a-z]+)</span></td><td class="sentence">(.*?)</td><td>(.*?)</td></tr>`)
)

type listRow struct{ Type, Link, Excerpt, Markings, Origin string }

func listRows(body string) []listRow {
	var out []listRow
	for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
		out = append(out, listRow{m[1], html.UnescapeString(m[2]), html.UnescapeString(m[3]), m[4], m[5]})
	}
	return out
}

func nextLink(body string) (string, string) {
	m := nextRE.FindStringSubmatch(body)
	if m == nil {
		return "", ""
	}
	return html.UnescapeString(m[1]), m[2]
}

func TestObjectsFilters(t *testing.T) {
	e := newEnv(t)
	f := fillObjects(t, e)
	c := e.login(t, "reader")
	for _, tc := range []struct {
		name, query string
		want        []string // excerpts, in order
	}{
		{"all", "", []string{"Green beacon <script>alert(1)</script>", "Clear scanner", "Excluded probe", "Redacted dropper", "Quietwave", f.green + " indicates " + f.malware, "Borealis relay"}},
		{"type", "type=malware", []string{"Quietwave"}},
		{"label", "label=UNDER-INVESTIGATION", []string{"Excluded probe"}},
		{"tlp green", "tlp=green", []string{"Green beacon <script>alert(1)</script>", "Quietwave", f.green + " indicates " + f.malware}},
		{"tlp clear and indicator", "tlp=clear&type=indicator", []string{"Clear scanner", "Excluded probe", "Redacted dropper", "Borealis relay"}},
		{"origin partner", "origin=borealis", []string{"Borealis relay"}},
		{"origin own, text", "origin=own&q=SCANNER", []string{"Clear scanner"}},
		{"text in JSON", "q=" + url.QueryEscape(`"is_family":true`), []string{"Quietwave"}},
		{"added before", "before=2000-01-01", nil},
		{"added after", "after=2000-01-01&type=malware", []string{"Quietwave"}},
		{"added after now", "after=" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := c.get(t, "/ui/objects?"+tc.query)
			if status != http.StatusOK {
				t.Fatalf("%d\n%s", status, body)
			}
			var got []string
			for _, r := range listRows(body) {
				got = append(got, r.Excerpt)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
			if strings.Contains(body, "<script>alert") {
				t.Error("the page holds the object's name unescaped")
			}
		})
	}
	// The last day's link lists what was just added; an hour on, nothing.
	_, body := c.get(t, "/ui/objects")
	m := regexp.MustCompile(`href="([^"]+)" id="objects-recent"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no link to the last 24 hours")
	}
	if _, recent := c.get(t, html.UnescapeString(m[1])); len(listRows(recent)) != 7 {
		t.Fatalf("the last 24 hours list %d objects, want 7", len(listRows(recent)))
	}
	// The columns: markings and origin.
	_, body = c.get(t, "/ui/objects?origin=borealis")
	rows := listRows(body)
	if len(rows) != 1 || rows[0].Type != "indicator" || rows[0].Markings != "TLP:CLEAR" || rows[0].Origin != "Federation of Borealis (borealis)" {
		t.Fatalf("the received row: %+v", rows)
	}
	status, body := c.get(t, "/ui/objects?tlp=purple")
	if status != http.StatusBadRequest || !strings.Contains(body, "is not a TLP level") {
		t.Fatalf("a bad TLP: %d", status)
	}
	status, body = c.get(t, "/ui/objects?after=yesterday")
	if status != http.StatusBadRequest || !strings.Contains(body, "is not valid") {
		t.Fatalf("a bad date: %d", status)
	}
}

// TestObjectsKeysetPaging walks the list page by page: every object
// appears exactly once.
func TestObjectsKeysetPaging(t *testing.T) {
	e := newEnv(t)
	want := map[string]bool{}
	var objs []string
	for i := range 2*objectsPageSize + 17 {
		id := newID("indicator")
		want[id] = true
		objs = append(objs, indicator(id, fmt.Sprintf("Beacon %d", i), stix.TLPGreen, nil, ""))
	}
	e.add(objs...)
	// A new version of one object: still listed once, as its latest.
	var first map[string]any
	json.Unmarshal([]byte(objs[0]), &first)
	first["modified"] = "2026-04-01T00:00:00.000Z"
	first["name"] = "Beacon 0, revised"
	b, _ := json.Marshal(first)
	e.add(string(b))

	for _, query := range []string{"", "tlp=green"} { // the store's paging, and the filtered scan's
		c := e.login(t, "reader")
		seen := map[string]int{}
		path, pages := "/ui/objects?"+query, 0
		for path != "" {
			pages++
			status, body := c.get(t, path)
			if status != http.StatusOK {
				t.Fatalf("%s: %d", path, status)
			}
			rows := listRows(body)
			if len(rows) > objectsPageSize {
				t.Fatalf("%s: %d rows", path, len(rows))
			}
			for _, r := range rows {
				u, _ := url.Parse(r.Link)
				seen[strings.TrimPrefix(u.Path, "/ui/objects/")]++
				if r.Excerpt == "Beacon 0" {
					t.Errorf("the list shows the first version of a revised object")
				}
			}
			path, _ = nextLink(body)
		}
		if pages != 3 {
			t.Errorf("%q: %d pages, want 3", query, pages)
		}
		if len(seen) != len(want) {
			t.Errorf("%q: %d objects listed, want %d", query, len(seen), len(want))
		}
		for id, n := range seen {
			if n != 1 || !want[id] {
				t.Errorf("%q: %s listed %d times (stored: %v)", query, id, n, want[id])
			}
		}
	}
}

// TestObjectsScanCap: a search that matches nothing in the first scanCap
// versions stops there, says so, and goes on from where it stopped.
func TestObjectsScanCap(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var batch []*stix.Object
	for i := range scanCap + 100 {
		o, err := stix.Parse([]byte(indicator(newID("indicator"), fmt.Sprintf("Noise %d", i), stix.TLPGreen, nil, "")))
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, o)
	}
	if _, err := e.st.AddObjects(ctx, e.collection, batch); err != nil {
		t.Fatal(err)
	}
	needle := newID("indicator")
	e.add(indicator(needle, "Needle in the haystack", stix.TLPRed, nil, ""))
	c := e.login(t, "reader")
	status, body := c.get(t, "/ui/objects?q=haystack")
	if status != http.StatusOK || len(listRows(body)) != 0 || !strings.Contains(body, `id="objects-capped"`) ||
		!strings.Contains(body, message.NewPrinter(language.English).Sprintf("reading %d versions", scanCap)) {
		t.Fatalf("the first request: %d, rows %d\n%s", status, len(listRows(body)), body)
	}
	next, kind := nextLink(body)
	if kind != "continue" || !strings.Contains(next, "q=haystack") {
		t.Fatalf("continue link %q (%s)", next, kind)
	}
	_, body = c.get(t, next)
	rows := listRows(body)
	if len(rows) != 1 || rows[0].Excerpt != "Needle in the haystack" || strings.Contains(body, `id="objects-capped"`) {
		t.Fatalf("after continuing: %+v", rows)
	}
	if n, _ := nextLink(body); n != "" {
		t.Fatalf("the last page links on to %q", n)
	}
}

// TestObjectsAuthorization: a reader sees only the collections it may
// read; an object in another answers 404, as a missing one does.
func TestObjectsAuthorization(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secret, err := node.CreateCollection(ctx, e.st, node.DefaultAPIRoot, "Secret", "secret")
	if err != nil {
		t.Fatal(err)
	}
	id := newID("indicator")
	o, _ := stix.Parse([]byte(indicator(id, "Secret beacon", stix.TLPRed, nil, "")))
	if _, err := e.st.AddObjects(ctx, secret, []*stix.Object{o}); err != nil {
		t.Fatal(err)
	}
	reader, admin := e.login(t, "reader"), e.login(t, "admin")
	_, body := reader.get(t, "/ui/objects")
	if strings.Contains(body, secret) || strings.Contains(body, "Secret") {
		t.Fatal("the reader's collection list names the secret collection")
	}
	_, body = admin.get(t, "/ui/objects")
	if !strings.Contains(body, `value="`+secret+`"`) {
		t.Fatal("the admin's collection list lacks the secret collection")
	}
	status, body := reader.get(t, "/ui/objects?collection="+secret)
	if status != http.StatusNotFound || strings.Contains(body, "Secret beacon") {
		t.Fatalf("the reader listing the secret collection: %d", status)
	}
	objPath := "/ui/objects/" + id + "?collection=" + secret
	statusHidden, hidden := reader.get(t, objPath)
	statusMissing, missing := reader.get(t, "/ui/objects/"+newID("indicator")+"?collection="+e.collection)
	if statusHidden != http.StatusNotFound || statusMissing != http.StatusNotFound || strings.Contains(hidden, "Secret beacon") {
		t.Fatalf("the reader opening a secret object: %d, a missing one: %d", statusHidden, statusMissing)
	}
	if errorText(hidden) != errorText(missing) {
		t.Fatalf("a hidden object answers %q, a missing one %q", errorText(hidden), errorText(missing))
	}
	if status, body := admin.get(t, objPath); status != http.StatusOK || !strings.Contains(body, "Secret beacon") {
		t.Fatalf("the admin opening the secret object: %d", status)
	}
	if status, _ := reader.get(t, "/ui/objects/not-an-id?collection="+e.collection); status != http.StatusNotFound {
		t.Fatalf("a malformed id: %d", status)
	}
	// The node's console reads refuse partner nodes, whatever is shared.
	partner := &taxii.Caller{Name: "borealis-node-1", Role: taxii.RolePartner, Party: "borealis", Node: "borealis-node-1"}
	if _, err := e.n.ConsoleObjects(ctx, partner, store.Query{Collection: e.collection, Limit: 1}); !errors.Is(err, taxii.ErrForbidden) {
		t.Fatalf("a partner node's console read: %v", err)
	}
	if _, err := e.n.ReadableCollections(ctx, partner); !errors.Is(err, taxii.ErrForbidden) {
		t.Fatalf("a partner node's collections: %v", err)
	}
}

var mainRE = regexp.MustCompile(`(?s)<main[^>]*>(.*)</main>`)

func errorText(body string) string {
	if m := mainRE.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return body
}

// TestObjectPageDecisions checks the page's decision for each partner
// against policy.Decide, computed here from the example agreement, and
// against what its rules say.
func TestObjectPageDecisions(t *testing.T) {
	e := newEnv(t)
	f := fillObjects(t, e)
	c := e.login(t, "reader")
	p, err := policy.Compile(e.agreement, envParty)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*stix.Object{}
	page, err := e.st.Objects(context.Background(), store.Query{Collection: e.collection, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	from := map[string]string{}
	for _, o := range page.Objects {
		byID[o.ID], _ = stix.Parse(o.Raw)
		from[o.ID] = o.FromParty
	}
	verdictWord := map[policy.Verdict]string{policy.Allow: "released", policy.Redact: "redacted", policy.Deny: "withheld"}
	// What the example's rules say, for the cases they single out.
	known := map[string]map[string]string{
		f.green:    {"Federation of Borealis (borealis)": "released", "Kingdom of Caledonia (caledonia)": "withheld"}, // Caledonia: TLP:CLEAR only
		f.clear:    {"Federation of Borealis (borealis)": "released", "Kingdom of Caledonia (caledonia)": "released"},
		f.excluded: {"Federation of Borealis (borealis)": "withheld", "Kingdom of Caledonia (caledonia)": "released"}, // label excluded for Borealis
		f.redacted: {"Federation of Borealis (borealis)": "redacted", "Kingdom of Caledonia (caledonia)": "redacted"},
		f.malware:  {"Federation of Borealis (borealis)": "released", "Kingdom of Caledonia (caledonia)": "withheld"}, // Caledonia: indicators only
		f.rel:      {"Federation of Borealis (borealis)": "released", "Kingdom of Caledonia (caledonia)": "withheld"},
		f.received: {"Federation of Borealis (borealis)": "withheld", "Kingdom of Caledonia (caledonia)": "released"}, // never back; onward allowed
	}
	sizeBefore, err := e.st.LedgerSize(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range known {
		status, body := c.get(t, "/ui/objects/"+id+"?collection="+e.collection)
		if status != http.StatusOK {
			t.Fatalf("%s: %d\n%s", id, status, body)
		}
		rows := decisionRE.FindAllStringSubmatch(body, -1)
		if len(rows) != 2 {
			t.Fatalf("%s: %d decision rows\n%s", id, len(rows), body)
		}
		for _, r := range rows {
			party, verdict, sentence, reason := r[1], r[2], html.UnescapeString(r[3]), html.UnescapeString(r[4])
			if want[party] != verdict {
				t.Errorf("%s to %s: %s (%s; %s), the example's rules say %s", id, party, verdict, sentence, reason, want[party])
			}
			pid := map[string]string{"Federation of Borealis (borealis)": "borealis", "Kingdom of Caledonia (caledonia)": "caledonia"}[party]
			if from[id] == pid {
				if !strings.Contains(sentence, "would not go back to "+party) {
					t.Errorf("%s to %s: %q", id, party, sentence)
				}
				continue
			}
			pt, _ := e.agreement.Party(pid)
			d, err := policy.Decide(p, policy.Recipient{Party: pid, Organization: pt.Nodes[0].Authority}, byID[id], policy.Context{
				ReceivedFrom: from[id],
				Lookup: func(ref string) (policy.Ref, bool, error) {
					o, ok := byID[ref]
					return policy.Ref{Object: o, ReceivedFrom: from[ref]}, ok, nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if verdictWord[d.Verdict] != verdict || !strings.Contains(sentence, "rule "+d.Rule) {
				t.Errorf("%s to %s: the page says %s (%q), policy.Decide %s by rule %s (%s)", id, party, verdict, sentence, d.Verdict, d.Rule, d.Reason())
			}
		}
	}
	// Explaining released nothing and recorded nothing.
	if size, _ := e.st.LedgerSize(context.Background()); size != sizeBefore {
		t.Errorf("the ledger grew from %d to %d entries while the pages explained decisions", sizeBefore, size)
	}
	if ds, err := e.st.Disclosures(context.Background(), "", slices.Collect(maps.Keys(known))); err != nil || len(ds) > 0 {
		t.Errorf("disclosures recorded by the pages: %v, %v", ds, err)
	}
	// The sentences, in plain words.
	_, body := c.get(t, "/ui/objects/"+f.redacted+"?collection="+e.collection)
	if !strings.Contains(body, "would go to Federation of Borealis (borealis) as redacted, rule arcadia-to-borealis, without description") {
		t.Errorf("the redacted sentence is missing:\n%s", body)
	}
	_, body = c.get(t, "/ui/objects/"+f.green+"?collection="+e.collection)
	for _, want := range []string{
		"would be withheld from Kingdom of Caledonia (caledonia), rule arcadia-to-caledonia",
		"TLP:GREEN is above the rule&#39;s TLP ceiling",
		"would go to Federation of Borealis (borealis) as it is, rule arcadia-to-borealis",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the green indicator's page lacks %q", want)
		}
	}
	_, body = c.get(t, "/ui/objects/"+f.excluded+"?collection="+e.collection)
	if !strings.Contains(body, "label under-investigation is excluded") {
		t.Error("the excluded indicator's page does not name the label")
	}
	// Nothing is shared with the partners in this test: the page says so.
	if !strings.Contains(body, "no collection holding it is shared with this party now") {
		t.Error("the page does not say the collection is not shared")
	}
}

// TestObjectPageContent: versions, escaped properties, the relationship
// graph and its list, provenance and disclosures.
func TestObjectPageContent(t *testing.T) {
	e := newEnv(t)
	f := fillObjects(t, e)
	ctx := context.Background()
	// Share the collection with Borealis and let its node read it, so
	// that the green indicator is disclosed.
	if _, _, err := node.Share(ctx, e.st, e.agreement, envNode, "borealis", e.collection, store.RightRead); err != nil {
		t.Fatal(err)
	}
	borealis := &taxii.Caller{Name: "borealis-node-1", Role: taxii.RolePartner, Party: "borealis", Node: "borealis-node-1"}
	if _, err := e.n.Objects(ctx, borealis, node.DefaultAPIRoot, e.collection, &taxii.Filter{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.n.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	c := e.login(t, "reader")
	status, body := c.get(t, "/ui/objects/"+f.green+"?collection="+e.collection)
	if status != http.StatusOK {
		t.Fatalf("%d\n%s", status, body)
	}
	for _, want := range []string{
		`&lt;script&gt;alert(1)&lt;/script&gt;`,           // escaped name and JSON
		`<svg class="graph"`,                              // the graph
		`<ul id="relationship-list">`,                     // and its list
		`href="/ui/objects/` + f.malware + `?collection=`, // a link to the other end
		`indicates`,
		`originated by this node&#39;s party`,
		`<span class="badge ok">verified</span> signed by node arcadia-node-1`,
		`inside the latest signed checkpoint`,
		`<table id="disclosure-table">`,
		`<td>Federation of Borealis (borealis)</td><td>borealis-node-1</td>`,
		`<td>arcadia-to-borealis</td>`,
		`2026-03-01T00:00:00.000Z`, // the version
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("unescaped")
	}
	// The received indicator's provenance: Borealis's node signed it.
	_, body = c.get(t, "/ui/objects/"+f.received+"?collection="+e.collection)
	for _, want := range []string{"Federation of Borealis (borealis), node borealis-node-1", `verified</span> signed by node borealis-node-1`, "entry "} {
		if !strings.Contains(body, want) {
			t.Errorf("the received object's page lacks %q", want)
		}
	}
	// The relationship's own page shows both ends.
	_, body = c.get(t, "/ui/objects/"+f.rel+"?collection="+e.collection)
	if !strings.Contains(body, "Green beacon") || !strings.Contains(body, "Quietwave") {
		t.Error("the relationship's page does not name its ends")
	}
}

// TestBrowserObjects: log in, search for an indicator by text, open it,
// and read each partner's decision.
func TestBrowserObjects(t *testing.T) {
	e := newEnv(t)
	f := fillObjects(t, e)
	ctx := e.browser(t)
	e.browserLogin(t, ctx, "analyst")
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/ui/objects"),
		chromedp.WaitVisible(chromedp.ID("f-q")),
		chromedp.SendKeys(chromedp.ID("f-q"), "excluded PROBE"),
		chromedp.Submit(chromedp.ID("f-q")),
	)
	if err != nil {
		t.Fatal(err)
	}
	// The search's own page, not the list of every object it was typed
	// on: that list's second row is gone.
	if err := chromedp.Do(ctx, chromedp.WaitNotPresent(chromedp.CSS("#objects tbody tr:nth-child(2)")),
		chromedp.WaitVisible(chromedp.CSS("#objects tbody a"))); err != nil {
		t.Fatal(err)
	}
	links, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#objects tbody a").length`))
	if err != nil || links != 1 {
		t.Fatalf("the search found %d objects (%v), want 1", links, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#objects tbody a")),
		chromedp.WaitVisible(chromedp.ID("decision-table")),
	)
	if err != nil {
		t.Fatal(err)
	}
	id, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("object-id")))
	if err != nil || id != f.excluded {
		t.Fatalf("opened %q (%v), want %s", id, err, f.excluded)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#decision-table tbody tr")).map(r => r.innerText.replace(/\s+/g, " ").trim())`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 ||
		!strings.Contains(rows[0], "Federation of Borealis (borealis) withheld would be withheld from Federation of Borealis (borealis), rule arcadia-to-borealis") ||
		!strings.Contains(rows[0], "label under-investigation is excluded") ||
		!strings.Contains(rows[1], "Kingdom of Caledonia (caledonia) released would go to Kingdom of Caledonia (caledonia) as it is, rule arcadia-to-caledonia") {
		t.Fatalf("the decisions the browser shows: %q", rows)
	}
}

// TestEveryCodeHasAReason: the page explains every check policy.Decide
// names in the catalog's words, none by the fallback.
func TestEveryCodeHasAReason(t *testing.T) {
	e := newEnv(t)
	u := &Session{p: e.console.printer()}
	for c := policy.CodeAllowed; c <= policy.CodeMarkedRequired; c++ {
		got := e.console.reason(u, e.agreement, policy.Decision{Code: c, Subject: "x", Rule: "r"})
		if strings.HasPrefix(got, "denied (") || got == "" {
			t.Errorf("code %s: %q", c, got)
		}
	}
}

// TestObjectPageRelationshipScan: the search for an object's
// relationships reads at most relScanCap of them from the object's first
// version on, links on from where it stopped, and can start from the
// collection's beginning.
func TestObjectPageRelationshipScan(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	x, early, late := newID("malware"), newID("relationship"), newID("relationship")
	rel := func(id, src, dst string) *stix.Object {
		o, err := stix.Parse(fmt.Appendf(nil, `{"type":"relationship","spec_version":"2.1","id":%q,"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","relationship_type":"uses","source_ref":%q,"target_ref":%q}`, id, src, dst))
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	other := newID("indicator")
	objs := []*stix.Object{rel(early, other, x)} // stored before x
	mal, _ := stix.Parse(fmt.Appendf(nil, `{"type":"malware","spec_version":"2.1","id":%q,"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","name":"Target","is_family":true}`, x))
	objs = append(objs, mal)
	for range relScanCap + 10 {
		objs = append(objs, rel(newID("relationship"), other, newID("malware")))
	}
	objs = append(objs, rel(late, x, other))
	if _, err := e.st.AddObjects(ctx, e.collection, objs); err != nil {
		t.Fatal(err)
	}
	c := e.login(t, "reader")
	contRE := regexp.MustCompile(`href="([^"]+)" id="relationships-(continue|from-start)"`)
	links := func(body string) map[string]string {
		m := map[string]string{}
		for _, l := range contRE.FindAllStringSubmatch(body, -1) {
			m[l[2]] = html.UnescapeString(l[1])
		}
		return m
	}
	_, body := c.get(t, "/ui/objects/"+x+"?collection="+e.collection)
	if strings.Contains(body, early) || strings.Contains(body, late) {
		t.Fatal("the first search found a relationship outside its bound")
	}
	l := links(body)
	if l["continue"] == "" || l["from-start"] == "" {
		t.Fatalf("links %v", l)
	}
	_, body = c.get(t, l["continue"])
	if !strings.Contains(body, late) || strings.Contains(body, early) {
		t.Fatal("continuing did not find the late relationship alone")
	}
	if links(body)["continue"] != "" {
		t.Fatal("the search links on past the end")
	}
	_, body = c.get(t, l["from-start"])
	if !strings.Contains(body, early) {
		t.Fatal("searching from the start did not find the early relationship")
	}
}

// FuzzContainsFold checks the list's text search against lower-casing
// the whole object.
func FuzzContainsFold(f *testing.F) {
	f.Add([]byte(`{"name":"Green BEACON"}`), "beacon")
	f.Add([]byte(`{"name":"Ünïcode"}`), "ünï")
	f.Add([]byte("ab"), "abc")
	f.Fuzz(func(t *testing.T, b []byte, needle string) {
		lower := []byte(strings.ToLower(needle))
		if len(lower) == 0 {
			return
		}
		want := bytes.Contains(bytes.ToLower(b), lower)
		if got := containsFoldBytes(b, lower); got != want && utf8.Valid(b) && isASCII(b) {
			t.Fatalf("containsFoldBytes(%q, %q) = %v, want %v", b, lower, got, want)
		}
	})
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// FuzzObjectsQuery: no query string makes the list fail other than with
// a 400 that says what is wrong.
func FuzzObjectsQuery(f *testing.F) {
	f.Add("tlp=amber%2Bstrict&after=2026-11-29&before=2026-11-30T10:00:00Z&q=x&label=y&origin=own&type=indicator&cursor=5")
	f.Add("cursor=-1")
	f.Add("after=2026-13-40")
	f.Add("tlp=%00")
	s := &Server{}
	u := &Session{p: message.NewPrinter(language.English, message.Catalog(messages))}
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest(http.MethodGet, "/ui/objects", nil)
		r.URL.RawQuery = query
		fl, msg := s.parseFilter(r, u)
		if msg == "" && (fl.Cursor < 0 || fl.TLP != "" && fl.TLP != "none" && fl.tlp == stix.TLPNone) {
			t.Fatalf("%q: accepted %+v", query, fl)
		}
	})
}
