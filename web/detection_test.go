package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/entente/entente/casework"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// The indicator the detection tests match: a C2 address, as partners
// share it.
const c2Indicator = `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
"created":"2026-01-05T10:00:00.000Z","modified":"2026-01-05T10:00:00.000Z","name":"Example C2 server",
"indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '203.0.113.200']","pattern_type":"stix",
"valid_from":"2026-01-05T10:00:00Z"}`

const c2ID = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"

// eveSnippet is Suricata EVE JSON as Suricata writes it (a flow, an
// alert, a DNS query and an HTTP request, two hours before now) and one
// line cut short by a crash.
func eveSnippet(now time.Time) string {
	ts := func(d time.Duration) string {
		return now.Add(-2*time.Hour + d).UTC().Format("2006-01-02T15:04:05.000000-0700")
	}
	return strings.Join([]string{
		`{"timestamp":"` + ts(0) + `","flow_id":1361212431337722,"in_iface":"eth0","event_type":"flow","src_ip":"10.20.30.40","src_port":51234,"dest_ip":"203.0.113.200","dest_port":443,"proto":"TCP","app_proto":"tls","flow":{"pkts_toserver":12,"pkts_toclient":10,"bytes_toserver":1820,"bytes_toclient":5342,"start":"` + ts(-2*time.Second) + `","end":"` + ts(0) + `","age":2,"state":"closed","reason":"timeout","alerted":false}}`,
		`{"timestamp":"` + ts(time.Second) + `","flow_id":1361212431337723,"event_type":"alert","src_ip":"203.0.113.200","src_port":80,"dest_ip":"10.20.30.41","dest_port":49822,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2024897,"rev":3,"signature":"ET MALWARE Example C2 Beacon","category":"A Network Trojan was detected","severity":1}}`,
		`{"timestamp":"` + ts(2*time.Second) + `","flow_id":99,"event_type":"dns","src_ip":"10.20.30.42","src_port":53000,"dest_ip":"10.0.0.53","dest_port":53,"proto":"UDP","dns":{"type":"query","id":17767,"rrname":"c2.evil.example","rrtype":"A","tx_id":0,"opcode":0}}`,
		`{"timestamp":"` + ts(3*time.Second) + `","flow_id":101,"event_type":"http","src_ip":"10.20.30.43","src_port":50111,"dest_ip":"203.0.113.200","dest_port":80,"proto":"TCP","tx_id":0,"http":{"hostname":"evil.example","url":"/gate.php?id=7","http_method":"POST","protocol":"HTTP/1.1","status":200,"length":512}}`,
		`{"timestamp":"` + ts(4*time.Second) + `","flow_id":102,"event_type":"fl`,
	}, "\n") + "\n"
}

// upload posts a log file to the match form, with the CSRF token of the
// last page read, and follows the redirect.
func (c *client) upload(t testing.TB, name, log string, fields map[string]string) (int, string) {
	t.Helper()
	return c.read(t, c.uploadResponse(t, name, log, fields))
}

// uploadResponse posts a log file to the match form as upload does, and
// returns the response, whose body the caller closes.
func (c *client) uploadResponse(t testing.TB, name, log string, fields map[string]string) *http.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if _, ok := fields["csrf"]; !ok {
		mw.WriteField("csrf", c.csrf)
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile("log", name)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(fw, log)
	mw.Close()
	resp, err := c.http.Post(c.e.srv.URL+"/ui/detection/match", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (e *env) defaultTarget() string { return node.DefaultAPIRoot + "/" + e.collection }

// sightingsStored counts the sighting objects in the default collection.
func (e *env) sightingsStored(t testing.TB) int {
	t.Helper()
	page, err := e.st.Objects(context.Background(), store.Query{Collection: e.collection, Types: []string{"sighting"}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Objects)
}

// cell returns the text of the table cell with the given id.
func cell(t testing.TB, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `">([^<]*)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no cell %s on the page:\n%s", id, body)
	}
	return m[1]
}

// indicatorRow returns the numbers of an indicator's row on the
// detection page: sightings and times seen.
func indicatorRow(t testing.TB, body, id string) (sightings, seen int) {
	t.Helper()
	short := id[:strings.Index(id, "--")+10]
	re := regexp.MustCompile(`(?s)title="` + regexp.QuoteMeta(id) + `">` + regexp.QuoteMeta(short) + `…</span></td>\s*<td>.*?</td>\s*<td class="num">(\d+)</td><td class="num">(\d+)</td>`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return 0, 0
	}
	sightings, _ = strconv.Atoi(m[1])
	seen, _ = strconv.Atoi(m[2])
	return sightings, seen
}

// TestDetectionMatchThenSightings uploads a Suricata EVE log as the
// analyst, reads the result page, and finds the sightings it recorded
// counted on the detection page by indicator and by time.
func TestDetectionMatchThenSightings(t *testing.T) {
	e := newEnv(t)
	e.add(c2Indicator)
	log := eveSnippet(time.Now())
	// What should match, counted independently of the engine: the lines
	// that name the C2 address.
	want := strings.Count(log, "203.0.113.200")

	analyst := e.login(t, "analyst")
	if status, body := analyst.get(t, "/ui/detection"); status != http.StatusOK || !strings.Contains(body, `action="/ui/detection/match"`) {
		t.Fatalf("the analyst's detection page has no upload form: %d\n%s", status, body)
	}
	status, body := analyst.upload(t, "eve.json", log, map[string]string{"format": "auto", "collection": e.defaultTarget()})
	if status != http.StatusOK || !strings.Contains(body, "<h1>Match result</h1>") {
		t.Fatalf("upload: %d\n%s", status, body)
	}
	for id, v := range map[string]string{"lines": "5", "bad-lines": "1", "matches": strconv.Itoa(want), "recorded": "1"} {
		if got := cell(t, body, id); got != v {
			t.Errorf("result page: %s = %s, want %s", id, got, v)
		}
	}
	if !strings.Contains(body, "Example C2 server") || !strings.Contains(body, "eve.json:5:") {
		t.Errorf("the result page does not name the indicator or the malformed line:\n%s", body)
	}
	if got := e.sightingsStored(t); got != 1 {
		t.Fatalf("%d sightings stored, want 1", got)
	}
	for _, who := range []string{"analyst", "reader", "admin"} {
		c := e.login(t, who)
		status, body := c.get(t, "/ui/detection?window=24h")
		if status != http.StatusOK {
			t.Fatalf("%s: detection page %d", who, status)
		}
		sightings, seen := indicatorRow(t, body, c2ID)
		if sightings != 1 || seen != want {
			t.Errorf("%s: the C2 indicator's row says %d sightings, %d times seen; want 1, %d\n%s", who, sightings, seen, want, body)
		}
		if !strings.Contains(body, "[ipv4-addr:value = &#39;203.0.113.200&#39;]") {
			t.Errorf("%s: the indicator's pattern is not shown", who)
		}
		// One bar of the chart, and the table's same bucket, holds them.
		byTime, _, _ := strings.Cut(body, `id="by-indicator"`)
		if n := strings.Count(byTime, fmt.Sprintf(`<td class="num">1</td><td class="num">%d</td>`, want)); n != 1 {
			t.Errorf("%s: %d rows of the time table hold the sighting, want 1", who, n)
		}
		if n := strings.Count(body, `<rect class="bar"`); n != 24 {
			t.Errorf("%s: %d bars for the last 24 hours", who, n)
		}
	}
}

// TestDetectionResultIsPostRedirectGet: the upload answers with a
// redirect to the result, which the same account can reload without
// matching again, and which no other account can open.
func TestDetectionResultIsPostRedirectGet(t *testing.T) {
	e := newEnv(t)
	e.add(c2Indicator)
	analyst := e.login(t, "analyst")
	analyst.get(t, "/ui/detection")
	analyst.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp := analyst.uploadResponse(t, "eve.json", eveSnippet(time.Now()), map[string]string{"format": "eve", "collection": e.defaultTarget()})
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/detection/match/") {
		t.Fatalf("upload answered %d, Location %q; want 303 to the result", resp.StatusCode, loc)
	}
	analyst.http.CheckRedirect = nil
	for range 2 {
		if status, page := analyst.get(t, loc); status != http.StatusOK || cell(t, page, "recorded") != "1" {
			t.Fatalf("the result page: %d\n%s", status, page)
		}
	}
	if got := e.sightingsStored(t); got != 1 {
		t.Fatalf("%d sightings stored after reloading the result, want 1", got)
	}
	if status, _ := e.login(t, "admin").get(t, loc); status != http.StatusNotFound {
		t.Fatalf("another account opened the result: %d, want 404", status)
	}
	if status, _ := e.login(t, "reader").get(t, loc); status != http.StatusForbidden {
		t.Fatalf("the reader opened a result page: %d, want 403", status)
	}
}

// TestDetectionUploadOverCap: a file over the cap is refused with 413 and
// a page that says why, both when the request says its length and when
// it streams without one; nothing is recorded.
func TestDetectionUploadOverCap(t *testing.T) {
	e := newEnv(t)
	e.add(c2Indicator)
	analyst := e.login(t, "analyst")
	analyst.get(t, "/ui/detection")
	line := strings.Repeat(`{"timestamp":"2026-11-26T08:30:00.000000+0000","event_type":"flow","src_ip":"203.0.113.200","dest_ip":"10.0.0.1"}`+"\n", 1000)
	for _, declared := range []bool{true, false} {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			mw.WriteField("csrf", analyst.csrf)
			mw.WriteField("format", "eve")
			mw.WriteField("collection", e.defaultTarget())
			fw, _ := mw.CreateFormFile("log", "big.json")
			for written := 0; written <= maxUpload+uploadSlack; written += len(line) {
				if _, err := io.WriteString(fw, line); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
			pw.CloseWithError(mw.Close())
		}()
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/ui/detection/match", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if declared {
			req.ContentLength = maxUpload + uploadSlack + int64(len(line))*2
		}
		resp, err := analyst.http.Do(req)
		if err != nil {
			t.Fatalf("declared length %v: %v", declared, err)
		}
		status, body := analyst.read(t, resp)
		pr.Close()
		if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "The file is larger than 64 MiB") {
			t.Errorf("declared length %v: %d\n%s", declared, status, body)
		}
	}
	if got := e.sightingsStored(t); got != 0 {
		t.Fatalf("%d sightings stored from refused uploads", got)
	}
	// The session still works, and a small upload goes through.
	analyst.get(t, "/ui/detection")
	if status, body := analyst.upload(t, "eve.json", eveSnippet(time.Now()), map[string]string{"format": "eve", "collection": e.defaultTarget()}); status != http.StatusOK {
		t.Fatalf("an upload after refused ones: %d\n%s", status, body)
	}
}

// TestDetectionReaderCannotUpload: a reader sees sightings but neither
// the upload form nor the upload.
func TestDetectionReaderCannotUpload(t *testing.T) {
	e := newEnv(t)
	e.add(c2Indicator)
	reader := e.login(t, "reader")
	status, body := reader.get(t, "/ui/detection")
	if status != http.StatusOK || strings.Contains(body, `action="/ui/detection/match"`) {
		t.Fatalf("the reader's detection page: %d, upload form shown: %v", status, strings.Contains(body, `action="/ui/detection/match"`))
	}
	status, body = reader.upload(t, "eve.json", eveSnippet(time.Now()), map[string]string{"format": "eve", "collection": e.defaultTarget()})
	if status != http.StatusForbidden || !strings.Contains(body, "role may not open this page") {
		t.Fatalf("the reader's upload: %d\n%s", status, body)
	}
	if got := e.sightingsStored(t); got != 0 {
		t.Fatalf("the reader's upload stored %d sightings", got)
	}
}

// TestDetectionBadUploads: the console's own mistakes get a 4xx page
// that says what to do, never a 500.
func TestDetectionBadUploads(t *testing.T) {
	e := newEnv(t)
	analyst := e.login(t, "analyst")
	analyst.get(t, "/ui/detection")
	// No indicators yet.
	status, body := analyst.upload(t, "eve.json", eveSnippet(time.Now()), map[string]string{"format": "eve", "collection": e.defaultTarget()})
	if status != http.StatusConflict || !strings.Contains(body, "no indicator") {
		t.Errorf("nothing to match: %d\n%s", status, body)
	}
	e.add(c2Indicator)
	for name, tc := range map[string]struct {
		log, format, collection string
		status                  int
		says                    string
	}{
		"undetectable": {"a,b,c\n1,2,3\n", "auto", e.defaultTarget(), http.StatusBadRequest, "cannot be told from its first line"},
		"not eve":      {"a,b,c\n1,2,3\n", "eve", e.defaultTarget(), http.StatusBadRequest, "comma-separated"},
		"bad format":   {"{}\n", "pcap", e.defaultTarget(), http.StatusBadRequest, "Choose the log&#39;s format"},
		"no target":    {"{}\n", "eve", "", http.StatusBadRequest, "Choose the collection"},
		"unknown":      {"{}\n", "eve", node.DefaultAPIRoot + "/no-such", http.StatusNotFound, "no collection"},
	} {
		status, body := analyst.upload(t, "x.log", tc.log, map[string]string{"format": tc.format, "collection": tc.collection})
		if status != tc.status || !strings.Contains(body, tc.says) {
			t.Errorf("%s: %d, want %d saying %q\n%s", name, status, tc.status, tc.says, body)
		}
	}
}

// TestDetectionOnlyReadableCollections: sightings in a collection the
// reader may not read are not counted on its page; the admin's counts
// them.
func TestDetectionOnlyReadableCollections(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secret, err := node.CreateCollection(ctx, e.st, node.DefaultAPIRoot, "Secret", "secret")
	if err != nil {
		t.Fatal(err)
	}
	admin := &taxii.Caller{Name: "admin", Role: string(store.RoleAdmin)}
	secretID := "indicator--0b0e6f0a-6c45-4b8e-9c39-8d1d5a0e6a11"
	seen := time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	for _, obj := range []string{
		`{"type":"indicator","spec_version":"2.1","id":"` + secretID + `","created":"2026-01-05T10:00:00.000Z","modified":"2026-01-05T10:00:00.000Z","name":"Secret source","pattern":"[domain-name:value = 'secret.example']","pattern_type":"stix","valid_from":"2026-01-05T10:00:00Z"}`,
		`{"type":"sighting","spec_version":"2.1","id":"sighting--6a3c1a3e-1c2b-4f7e-9a1e-2b3c4d5e6f70","created":"2026-01-06T10:00:00.000Z","modified":"2026-01-06T10:00:00.000Z","sighting_of_ref":"` + secretID + `","count":7,"first_seen":"` + seen + `","last_seen":"` + seen + `"}`,
	} {
		st, err := e.n.AddObjects(ctx, admin, node.DefaultAPIRoot, secret, []json.RawMessage{json.RawMessage(obj)})
		if err != nil || st.FailureCount > 0 {
			t.Fatalf("adding to the secret collection: %v %+v", err, st)
		}
	}
	_, body := e.login(t, "reader").get(t, "/ui/detection")
	if strings.Contains(body, secretID) || strings.Contains(body, "Secret source") {
		t.Errorf("the reader's page shows the secret collection's sighting:\n%s", body)
	}
	_, body = e.login(t, "admin").get(t, "/ui/detection")
	if s, n := indicatorRow(t, body, secretID); s != 1 || n != 7 || !strings.Contains(body, "Secret source") {
		t.Errorf("the admin's page: %d sightings, %d times seen of the secret indicator; want 1, 7\n%s", s, n, body)
	}
}

// TestBrowserDetectionUpload uploads a small EVE log through the form in
// a real Chromium, reads the counts on the result page, then finds the
// sighting on the detection page.
func TestBrowserDetectionUpload(t *testing.T) {
	e := newEnv(t)
	e.add(c2Indicator)
	log := eveSnippet(time.Now())
	want := strconv.Itoa(strings.Count(log, "203.0.113.200"))
	file := filepath.Join(t.TempDir(), "eve.json")
	if err := os.WriteFile(file, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := e.browser(t)
	e.browserLogin(t, ctx, "analyst")
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/ui/detection"),
		chromedp.WaitVisible(chromedp.ID("log")),
		chromedp.SetUploadFiles(chromedp.ID("log"), []string{file}),
		chromedp.Click(chromedp.CSS("form.upload button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("matches")),
	)
	if err != nil {
		t.Fatalf("uploading in the browser: %v", err)
	}
	got := map[string]string{}
	for _, id := range []string{"lines", "bad-lines", "matches", "recorded"} {
		if got[id], err = chromedp.Run(ctx, chromedp.Text(chromedp.ID(id))); err != nil {
			t.Fatal(err)
		}
	}
	if got["lines"] != "5" || got["bad-lines"] != "1" || got["matches"] != want || got["recorded"] != "1" {
		t.Fatalf("the result page in the browser shows %v; want 5 lines, 1 malformed, %s matches, 1 sighting", got, want)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/ui/detection")); err != nil {
		t.Fatal(err)
	}
	seen, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("table.by-indicator tbody tr td:nth-child(4)")))
	if err != nil {
		t.Fatal(err)
	}
	if seen != want {
		t.Fatalf("the detection page in the browser says the indicator was seen %q times, want %s", seen, want)
	}
}

// TestDetectionDraftsProtectedInfrastructure: a match of activity from
// Borealis's address space against infrastructure Arcadia declared
// protected drafts the three treaty cases, and the result page names
// them.
func TestDetectionDraftsProtectedInfrastructure(t *testing.T) {
	e := newEnv(t)
	e.add(`{"type":"indicator","spec_version":"2.1","id":"indicator--6b1c3f4e-2a8d-4f5e-9c3b-0d1e2f3a4b5c","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Scanner in Borealis","pattern":"[ipv4-addr:value = '203.0.113.7']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`)
	ts := time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05.000000-0700")
	log := `{"timestamp":"` + ts + `","event_type":"flow","src_ip":"203.0.113.7","src_port":40000,"dest_ip":"198.51.100.10","dest_port":502,"proto":"TCP"}` + "\n"
	analyst := e.login(t, "analyst")
	analyst.get(t, "/ui/detection")
	status, body := analyst.upload(t, "eve.json", log, map[string]string{"format": "eve", "collection": e.defaultTarget()})
	if status != http.StatusOK || cell(t, body, "matches") != "1" {
		t.Fatalf("upload: %d\n%s", status, body)
	}
	if !strings.Contains(body, "1 sightings hit infrastructure your party declared protected, from borealis&#39;s address space") {
		t.Fatalf("the result page does not report the hit on protected infrastructure:\n%s", body)
	}
	ids := regexp.MustCompile(`<span class="mono">([a-z-]+--[0-9a-f-]{36})</span>`).FindAllStringSubmatch(body, -1)
	if len(ids) != 3 {
		t.Fatalf("the result page names %d drafted cases, want 3", len(ids))
	}
	for _, m := range ids {
		c, err := e.n.LatestCase(context.Background(), m[1])
		if err != nil {
			t.Fatalf("case %s named on the page: %v", m[1], err)
		}
		if c.To != "borealis" || c.From != envParty || c.State != casework.StateDraft {
			t.Errorf("case %s: from %s to %s, state %s; want a draft from arcadia to borealis", c.ID, c.From, c.To, c.State)
		}
	}
}

// TestDetectionScanIsCapped: a scan stops at its cap and says where; the
// pages that follow it count every sighting once, across collections.
func TestDetectionScanIsCapped(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other, err := node.CreateCollection(ctx, e.st, node.DefaultAPIRoot, "Other", "other")
	if err != nil {
		t.Fatal(err)
	}
	admin := &taxii.Caller{Name: "admin", Role: string(store.RoleAdmin)}
	seen := time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	var total int64
	for i := range 7 {
		col := e.collection
		if i >= 4 {
			col = other
		}
		s := fmt.Sprintf(`{"type":"sighting","spec_version":"2.1","id":"sighting--0f5b6f8e-9d2c-4c33-8a35-7b0d1e2f3a%02d","created":"2026-01-06T10:00:00.000Z","modified":"2026-01-06T10:00:00.000Z","sighting_of_ref":"%s","count":%d,"first_seen":"%s","last_seen":"%s"}`, i, c2ID, i+1, seen, seen)
		total += int64(i + 1)
		if st, err := e.n.AddObjects(ctx, admin, node.DefaultAPIRoot, col, []json.RawMessage{json.RawMessage(s)}); err != nil || st.FailureCount > 0 {
			t.Fatalf("adding a sighting: %v %+v", err, st)
		}
	}
	now := time.Now()
	for _, capAt := range []int{1, 2, 4, 7, 8} {
		q := node.SightingsQuery{Since: now.Add(-24 * time.Hour), Until: now, Bucket: time.Hour, MaxScan: capAt}
		var count int64
		var scanned, pages int
		for {
			rep, err := e.n.Sightings(ctx, admin, q)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if rep.Scanned > capAt {
				t.Fatalf("cap %d: a page read %d sightings", capAt, rep.Scanned)
			}
			scanned += rep.Scanned
			for _, is := range rep.ByIndicator {
				count += is.Count
			}
			if !rep.Capped {
				break
			}
			if pages > 10 {
				t.Fatalf("cap %d: the scan does not end", capAt)
			}
			q.Cursor = rep.Next
		}
		if scanned != 7 || count != total {
			t.Errorf("cap %d: %d pages read %d sightings counting %d times, want 7 counting %d", capAt, pages, scanned, count, total)
		}
	}
	// The page says it was capped and links to the rest.
	status, body := e.login(t, "admin").get(t, "/ui/detection?window=24h&c="+other+"&after=0")
	if status != http.StatusOK || !strings.Contains(body, "continues a scan") {
		t.Fatalf("a continued page: %d\n%s", status, body)
	}
	if s, n := indicatorRow(t, body, c2ID); s != 3 || n != 5+6+7 {
		t.Errorf("the page continuing in the second collection counts %d sightings, %d times; want 3, 18", s, n)
	}
	if status, _ := e.login(t, "reader").get(t, "/ui/detection?c="+other+"&after=0"); status != http.StatusBadRequest {
		t.Errorf("a cursor into a collection the reader may not read: %d, want 400", status)
	}
}

// TestDetectionMatchesOnlyReadableIndicators: the match compiles only the
// indicators the account may read, and records only where it may write;
// a gzip-compressed log is read like a plain one.
func TestDetectionMatchesOnlyReadableIndicators(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.add(c2Indicator)
	secret, err := node.CreateCollection(ctx, e.st, node.DefaultAPIRoot, "Secret", "secret")
	if err != nil {
		t.Fatal(err)
	}
	admin := &taxii.Caller{Name: "admin", Role: string(store.RoleAdmin)}
	hidden := `{"type":"indicator","spec_version":"2.1","id":"indicator--3d7a9f20-5b61-4c8e-8f0d-2a4b6c8d0e1f","created":"2026-01-05T10:00:00.000Z","modified":"2026-01-05T10:00:00.000Z","name":"Hidden workstation","pattern":"[ipv4-addr:value = '10.20.30.40']","pattern_type":"stix","valid_from":"2026-01-05T10:00:00Z"}`
	if st, err := e.n.AddObjects(ctx, admin, node.DefaultAPIRoot, secret, []json.RawMessage{json.RawMessage(hidden)}); err != nil || st.FailureCount > 0 {
		t.Fatalf("adding to the secret collection: %v %+v", err, st)
	}
	log := eveSnippet(time.Now())
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, log)
	zw.Close()
	analyst := e.login(t, "analyst")
	analyst.get(t, "/ui/detection")
	status, body := analyst.upload(t, "eve.json.gz", gz.String(), map[string]string{"format": "auto", "collection": e.defaultTarget()})
	if status != http.StatusOK || cell(t, body, "matches") != strconv.Itoa(strings.Count(log, "203.0.113.200")) || strings.Contains(body, "Hidden workstation") {
		t.Fatalf("the analyst's match of a gzip log: %d\n%s", status, body)
	}
	// The analyst may not write the secret collection (nor see it).
	status, body = analyst.upload(t, "eve.json", log, map[string]string{"format": "eve", "collection": node.DefaultAPIRoot + "/" + secret})
	if status != http.StatusNotFound {
		t.Fatalf("recording into a collection the analyst may not write: %d\n%s", status, body)
	}
	// The admin reads every collection: the hidden indicator matches too.
	a := e.login(t, "admin")
	a.get(t, "/ui/detection")
	status, body = a.upload(t, "eve.json", log, map[string]string{"format": "eve", "collection": e.defaultTarget()})
	if status != http.StatusOK || !strings.Contains(body, "Hidden workstation") || cell(t, body, "recorded") != "2" {
		t.Fatalf("the admin's match: %d\n%s", status, body)
	}
}
