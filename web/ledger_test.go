package web

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
)

// checkpoint stores one more object and has the node sign a checkpoint
// of its ledger; it returns the checkpoint's size.
func (e *env) checkpoint(t testing.TB, n int) int64 {
	t.Helper()
	e.add(greenIndicator(n))
	c, signed, err := e.n.Checkpoint(context.Background())
	if err != nil || !signed {
		t.Fatalf("Checkpoint: %+v, %v, %v", c, signed, err)
	}
	return c.Size
}

// cosign adds the cosignature of partner node nodeID's witness key to the
// node's checkpoint of size.
func (e *env) cosign(t testing.TB, nodeID string, size int64, at time.Time) {
	t.Helper()
	cs, err := e.st.Checkpoints(context.Background(), size-1, 1)
	if err != nil || len(cs) != 1 || cs[0].Size != size {
		t.Fatalf("Checkpoints(%d): %+v, %v", size-1, cs, err)
	}
	text := cs[0].Note[:bytes.Index(cs[0].Note, []byte("\n\n"))+1]
	signed, err := note.Sign(&note.Note{Text: string(text)}, partnerKey(t, nodeID).Cosigner(func() time.Time { return at }))
	if err != nil {
		t.Fatal(err)
	}
	line := signed[bytes.LastIndex(signed[:len(signed)-1], []byte("\n"))+1:]
	if err := e.st.AddCosignatures(context.Background(), size, line); err != nil {
		t.Fatal(err)
	}
}

// tamper runs SQL on the env's database behind the node's back. newEnv
// keeps its database in a directory of the test's own temporary root.
func (e *env) tamper(t *testing.T, stmts ...string) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(filepath.Dir(t.TempDir()), "*", "entente.db"))
	if err != nil || len(paths) != 1 {
		t.Fatalf("finding the env's database: %v, %v", paths, err)
	}
	db, err := sql.Open("sqlite", paths[0])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestLedgerPageCheckpointsAndWitnessedLogs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var sizes []int64
	for i := range ledgerPageSize + 2 {
		sizes = append(sizes, e.checkpoint(t, i+1))
	}
	cosigned := time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC)
	e.cosign(t, "borealis-node-1", sizes[0], cosigned)
	// A partner log cosigned, another suspended.
	_, bnode, _ := e.agreement.Node("borealis-node-1")
	cp, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: bnode.Log, Tree: tlogTree(17)}, partnerKey(t, "borealis-node-1").Signer)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SwapWitnessedCheckpoint(ctx, bnode.Log, nil, cp); err != nil {
		t.Fatal(err)
	}
	_, cnode, _ := e.agreement.Node("caledonia-node-1")
	if err := e.st.SuspendLog(ctx, store.Suspension{Origin: cnode.Log, Since: cosigned, Reason: "inconsistent", Evidence: []byte("x"), Witnessed: []byte("y")}); err != nil {
		t.Fatal(err)
	}

	c := e.login(t, "reader")
	status, body := c.get(t, "/ui/ledger")
	if status != http.StatusOK {
		t.Fatalf("GET /ui/ledger: %d\n%s", status, body)
	}
	last := sizes[len(sizes)-1]
	if !strings.Contains(body, fmt.Sprintf(`<dd id="ledger-size">%d</dd>`, last)) || !strings.Contains(body, fmt.Sprintf("size %d, signed", last)) {
		t.Errorf("the page does not give the log's size and latest checkpoint %d", last)
	}
	if !strings.Contains(body, fmt.Sprintf("\n%d\n", last)) || !strings.Contains(body, "— arcadia-node-1 ") {
		t.Error("the latest checkpoint's text is not shown")
	}
	// The first page: the first ledgerPageSize checkpoints by size, the
	// first with Borealis's cosignature.
	for i, size := range sizes {
		has := strings.Contains(body, fmt.Sprintf(`<tr data-size="%d">`, size))
		if has != (i < ledgerPageSize) {
			t.Errorf("checkpoint %d on the first page: %v", size, has)
		}
	}
	first := body[strings.Index(body, fmt.Sprintf(`<tr data-size="%d">`, sizes[0])):]
	first = first[:strings.Index(first, "</tr>")]
	if !strings.Contains(first, "this node (arcadia-node-1)") || !strings.Contains(first, "witness borealis-node-1 of borealis") ||
		!strings.Contains(first, "cosigned <time datetime=\"2026-11-29T09:30:00Z\"") {
		t.Errorf("the first checkpoint's signatures:\n%s", first)
	}
	next := fmt.Sprintf(`href="/ui/ledger?after=%d"`, sizes[ledgerPageSize-1])
	if !strings.Contains(body, next) {
		t.Fatalf("no link to the next page (%s)", next)
	}
	_, body2 := c.get(t, fmt.Sprintf("/ui/ledger?after=%d", sizes[ledgerPageSize-1]))
	for i, size := range sizes {
		if has := strings.Contains(body2, fmt.Sprintf(`<tr data-size="%d">`, size)); has != (i >= ledgerPageSize) {
			t.Errorf("checkpoint %d on the second page: %v", size, has)
		}
	}
	if strings.Contains(body2, `rel="next"`) {
		t.Error("the last page links to a next one")
	}
	// The partner logs.
	row := func(log string) string {
		i := strings.Index(body, `<tr data-log="`+log+`">`)
		if i < 0 {
			t.Fatalf("no row for log %s", log)
		}
		return body[i : i+strings.Index(body[i:], "</tr>")]
	}
	if r := row(bnode.Log); !strings.Contains(r, ">17<") || !strings.Contains(r, "Consistent") || !strings.Contains(r, "borealis-node-1") {
		t.Errorf("Borealis's log:\n%s", r)
	}
	if r := row(cnode.Log); !strings.Contains(r, "Suspended since 2026-11-29 09:30 UTC: inconsistent") || !strings.Contains(r, "entente witness resume") {
		t.Errorf("Caledonia's log:\n%s", r)
	}
	// A reader may not verify.
	if !strings.Contains(body, "Analysts and admins may run a verification.") || strings.Contains(body, `id="verify-now"`) {
		t.Error("the reader is offered the verify button")
	}
	if status, _ := c.post(t, "/ui/ledger/verify", nil); status != http.StatusForbidden {
		t.Errorf("a reader's POST /ui/ledger/verify: %d, want 403", status)
	}
}

func TestVerifyNow(t *testing.T) {
	e := newEnv(t)
	// Entries 0 and 1 record the terms the node started under (its key,
	// its agreement); the indicators are entries 2 to 4.
	for i := range 3 {
		e.checkpoint(t, i+1)
	}
	c := e.login(t, "analyst")
	if _, body := c.get(t, "/ui/ledger"); !strings.Contains(body, "Not verified since the console started.") {
		t.Fatal("the page claims a verification before any")
	}
	verify := func() string {
		t.Helper()
		status, body := c.post(t, "/ui/ledger/verify", url.Values{})
		if status != http.StatusOK || !strings.Contains(body, "<h1>Ledger</h1>") {
			t.Fatalf("POST /ui/ledger/verify: %d\n%s", status, body)
		}
		i := strings.Index(body, `id="verify-outcome"`)
		return body[i : i+strings.Index(body[i:], "</div>")]
	}
	out := verify()
	if !strings.Contains(out, "<strong>OK</strong>") || !strings.Contains(out, "checkpoint 5 is signed by the node key, and the 5 entries it covers give its root") ||
		!strings.Contains(out, "compared 3 object versions") || !strings.Contains(out, "Run by analyst") {
		t.Fatalf("verify on a good ledger:\n%s", out)
	}
	// The log grows: the next press verifies only what is new.
	e.checkpoint(t, 4)
	if out = verify(); !strings.Contains(out, "<strong>OK</strong>") || !strings.Contains(out, "read entries 5 to 6") ||
		!strings.Contains(out, "entries before 5 were verified since") {
		t.Fatalf("verify after growth:\n%s", out)
	}

	// An entry changed in the database: the stored hashes no longer
	// match it, and the page says which.
	e.tamper(t, `UPDATE ledger_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'indicator', 'indicatoR') AS BLOB) WHERE idx = 3`)
	e.checkpoint(t, 5)
	// Going on from the mark, the run reads only the entry of indicator 5, whose
	// stored hashes still give the signed root: it says what it read.
	if out = verify(); !strings.Contains(out, "<strong>OK</strong>") || !strings.Contains(out, "read entries 6 to 7") ||
		!strings.Contains(out, "entries before 6 were verified since") {
		t.Fatalf("verify after an entry before the mark was changed:\n%s", out)
	}
	// From the first entry, the run names the changed one; and the next
	// press starts over too.
	for _, form := range []url.Values{{"from": {"start"}}, {}} {
		status, body := c.post(t, "/ui/ledger/verify", form)
		i := strings.Index(body, `id="verify-outcome"`)
		if out = body[i : i+strings.Index(body[i:], "</div>")]; status != http.StatusOK || !strings.Contains(out, "<strong>FAILED</strong>") ||
			!strings.Contains(out, "entry 3: does not match the log&#39;s stored hashes: the entry, its salt or its place was changed") {
			t.Fatalf("verify %v of a tampered entry: %d\n%s", form, status, out)
		}
	}
}

func TestVerifyNowObjectChanged(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		e.checkpoint(t, i+1)
	}
	e.tamper(t, `UPDATE objects SET raw = CAST(replace(CAST(raw AS TEXT), '198.51.100.', '203.0.113.') AS BLOB)
		WHERE seq = (SELECT object FROM ledger_entries WHERE idx = 2)`)
	c := e.login(t, "admin")
	_, body := c.post(t, "/ui/ledger/verify", nil)
	if !strings.Contains(body, "<strong>FAILED</strong>") || !strings.Contains(body, "entry 2: records indicator--") ||
		!strings.Contains(body, "the object&#39;s bytes were changed") {
		t.Fatalf("verify after an object's bytes were changed:\n%s", body)
	}
}

// TestBrowserVerifyNow logs in, opens the ledger page, presses "Verify
// now" and reads the outcome, in a real Chromium.
func TestBrowserVerifyNow(t *testing.T) {
	e := newEnv(t)
	for i := range 2 {
		e.checkpoint(t, i+1)
	}
	ctx := e.browser(t)
	e.browserLogin(t, ctx, "analyst")
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/ui/ledger"]`)),
		chromedp.WaitVisible(chromedp.ID("verify-now")),
		chromedp.Click(chromedp.ID("verify-now")),
		chromedp.WaitVisible(chromedp.CSS("div.verify-outcome")),
	)
	if err != nil {
		t.Fatal(err)
	}
	h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatal(err)
	}
	outcome, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("verify-outcome")))
	if err != nil {
		t.Fatal(err)
	}
	if h1 != "Ledger" || !strings.Contains(outcome, "OK: checkpoint 4 is signed by the node key, and the 4 entries it covers give its root.") {
		t.Fatalf("after Verify now the browser shows %q:\n%s", h1, outcome)
	}
}
