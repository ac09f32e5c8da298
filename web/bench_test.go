package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
)

// BenchmarkPages measures the server time of every GET page of the
// console, as the admin, over a store of ENTENTE_BENCH_OBJECTS objects
// (default 20,000; the goal is 1,000,000). Each page is a sub-benchmark;
// each iteration serves one request straight through the console's
// handler (no TLS, no network), and the benchmark reports the median and
// the 99th percentile of those times:
//
//	go test ./web -run '^$' -bench Pages -benchtime 200x
//	ENTENTE_BENCH_OBJECTS=1000000 go test ./web -run '^$' -bench Pages -benchtime 200x -timeout 1h
//
// The goal (issue 14) is 50 ms at the median and 300 ms at p99 with one
// million objects stored. -short skips it.
func BenchmarkPages(b *testing.B) {
	if testing.Short() {
		b.Skip("fills a store with ENTENTE_BENCH_OBJECTS objects")
	}
	n := benchObjects(b)
	e := newEnv(b)
	fill := fillStore(b, e.st, e.collection, n)
	b.Logf("filled the store with %d objects in %v (%.0f objects/s)", fill.Objects, fill.Took.Round(time.Millisecond),
		float64(fill.Objects)/fill.Took.Seconds())
	cookie := benchSession(b, e, "admin")
	fill.Paths["GET /ui/cases/{id}"], fill.Paths["GET /ui/detection/match/{id}"] = e.addCaseAndMatch(b)

	pages := map[string]string{"error-404": "/ui/no-such-page"}
	for _, r := range e.console.routeList {
		method, path, _ := strings.Cut(r.Pattern, " ")
		if method != "GET" || r.Least == 0 {
			continue
		}
		path = strings.TrimSuffix(path, "{$}")
		if strings.Contains(path, "{") {
			p, ok := fill.Paths[r.Pattern]
			if !ok {
				b.Errorf("route %q takes a parameter, and fillStore gives no path for it: add one to fill.Paths", r.Pattern)
				continue
			}
			path = p
		}
		pages[pageName(path)] = path
	}
	names := make([]string, 0, len(pages))
	for name := range pages {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		path := pages[name]
		b.Run(name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "https://node.example"+path, nil)
				req.AddCookie(cookie)
				w := httptest.NewRecorder()
				start := time.Now()
				e.console.ServeHTTP(w, req)
				times = append(times, time.Since(start))
				if w.Code != http.StatusOK && !(name == "error-404" && w.Code == http.StatusNotFound) {
					b.Fatalf("GET %s: %d\n%s", path, w.Code, w.Body)
				}
			}
			median, p99 := percentiles(times)
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(median)/float64(time.Millisecond), "ms-median")
			b.ReportMetric(float64(p99)/float64(time.Millisecond), "ms-p99")
		})
	}
}

// pageName names a page's sub-benchmark after its path.
func pageName(path string) string {
	name := strings.Trim(strings.TrimPrefix(path, Prefix), "/")
	if name == "" {
		return "overview"
	}
	if i := strings.Index(name, "--"); i >= 0 {
		name = name[:strings.LastIndex(name[:i], "/")+1] + "id"
	}
	return name
}

// percentiles returns the median and the 99th percentile of ts (nearest
// rank).
func percentiles(ts []time.Duration) (median, p99 time.Duration) {
	if len(ts) == 0 {
		return 0, 0
	}
	s := slices.Clone(ts)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return rank(0.50), rank(0.99)
}

func TestPercentiles(t *testing.T) {
	var ts []time.Duration
	for i := 100; i >= 1; i-- {
		ts = append(ts, time.Duration(i))
	}
	if m, p := percentiles(ts); m != 50 || p != 99 {
		t.Errorf("percentiles(1..100) = %d, %d; want 50, 99", m, p)
	}
	if m, p := percentiles([]time.Duration{7}); m != 7 || p != 7 {
		t.Errorf("percentiles(7) = %d, %d", m, p)
	}
}

// benchObjects reads ENTENTE_BENCH_OBJECTS.
func benchObjects(b *testing.B) int {
	v := os.Getenv("ENTENTE_BENCH_OBJECTS")
	if v == "" {
		return 20_000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 10 {
		b.Fatalf("ENTENTE_BENCH_OBJECTS=%q: want a number of objects, at least 10", v)
	}
	return n
}

// benchSession logs account in through the login form and returns its
// session cookie.
func benchSession(b *testing.B, e *env, account string) *http.Cookie {
	c := e.login(b, account)
	u, _ := http.NewRequest(http.MethodGet, e.srv.URL+Prefix, nil)
	for _, ck := range c.http.Jar.Cookies(u.URL) {
		if ck.Name == sessionCookie {
			return ck
		}
	}
	b.Fatal("no session cookie after login")
	return nil
}

// filled says what fillStore stored.
type filled struct {
	Objects int
	Took    time.Duration
	// Indicator, Malware, Relationship and Sighting are ids of objects
	// stored, for pages that show one.
	Indicator, Malware, Relationship, Sighting string
	// Paths gives a path for each GET route with a wildcard.
	Paths map[string]string
}

// fillBatch is the number of objects fillStore stores in one transaction.
const fillBatch = 1000

// fillStore stores n objects in collection, fillBatch at a time, straight
// through the store (no ledger entries, no policy): a mix like a node's
// after a year of sharing. In every ten objects: six indicators (IPv4,
// domain, URL and file-hash patterns; TLP 2.0 CLEAR to RED; labels; one
// of three authors), one malware, two "indicates" relationships from
// indicators to it, and one sighting of an indicator. A third of them
// came from Borealis, a third from Caledonia; the rest are the node's
// own. Times run one minute apart, ending now, so that per-day counts
// have data. The TLP marking definitions are stored first.
func fillStore(tb testing.TB, st store.Store, collection string, n int) filled {
	tb.Helper()
	ctx := context.Background()
	start := time.Now()
	if _, err := st.AddObjects(ctx, collection, stix.TLPMarkingDefinitions()); err != nil {
		tb.Fatal(err)
	}
	first := time.Now().UTC().Add(-time.Duration(n) * time.Minute).Truncate(time.Millisecond)
	puts := make([]store.Put, 0, fillBatch)
	for i := 0; i < n; i += fillBatch {
		puts = puts[:0]
		for j := i; j < min(n, i+fillBatch); j++ {
			o, err := stix.Parse(fillObject(j, first.Add(time.Duration(j)*time.Minute)))
			if err != nil {
				tb.Fatalf("object %d: %v", j, err)
			}
			p, err := store.NewPut(o)
			if err != nil {
				tb.Fatal(err)
			}
			switch j % 3 {
			case 1:
				p.FromParty, p.FromNode = "borealis", "borealis-node-1"
			case 2:
				p.FromParty, p.FromNode = "caledonia", "caledonia-node-1"
			}
			puts = append(puts, p)
		}
		err := st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			out, err := tx.AddObjects(ctx, collection, puts)
			if err != nil {
				return err
			}
			for k, o := range out {
				if o.Err != nil {
					return fmt.Errorf("object %d: %w", i+k, o.Err)
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	f := filled{
		Objects:      n + len(stix.TLPMarkingDefinitions()),
		Took:         time.Since(start),
		Indicator:    fillID("indicator", 0),
		Malware:      fillID("malware", 6),
		Relationship: fillID("relationship", 7),
		Sighting:     fillID("sighting", 9),
	}
	f.Paths = map[string]string{
		"GET /ui/objects/{id}": "/ui/objects/" + f.Indicator,
	}
	return f
}

// fillID is the id of fillStore's object i.
func fillID(typ string, i int) string {
	return fmt.Sprintf("%s--%08x-0000-4000-8000-%012x", typ, i/fillBatch, i)
}

var (
	fillTLP     = []string{stix.TLP2Clear, stix.TLP2Green, stix.TLP2Green, stix.TLP2Amber, stix.TLP2AmberStrict, stix.TLP2Red}
	fillAuthors = []string{
		"identity--0a0a0a0a-0000-4000-8000-00000000000a", // Arcadia
		"identity--0b0b0b0b-0000-4000-8000-00000000000b", // Borealis
		"identity--0c0c0c0c-0000-4000-8000-00000000000c", // Caledonia
	}
	fillLabels = []string{"botnet", "phishing", "ransomware", "scanning", "c2"}
)

// fillObject is fillStore's object i, created at t.
func fillObject(i int, t time.Time) []byte {
	base := i - i%10
	ts := t.Format("2006-01-02T15:04:05.000Z")
	common := fmt.Sprintf(`"spec_version":"2.1","created":%q,"modified":%q,"created_by_ref":%q,"object_marking_refs":[%q]`,
		ts, ts, fillAuthors[i%3], fillTLP[i%len(fillTLP)])
	switch k := i % 10; {
	case k < 6:
		var pattern string
		switch i % 4 {
		case 0:
			pattern = fmt.Sprintf("[ipv4-addr:value = '10.%d.%d.%d']", i>>16&255, i>>8&255, i&255)
		case 1:
			pattern = fmt.Sprintf("[domain-name:value = 'host-%d.example.net']", i)
		case 2:
			pattern = fmt.Sprintf("[url:value = 'https://download-%d.example.org/payload.bin']", i)
		default:
			pattern = fmt.Sprintf("[file:hashes.'SHA-256' = '%064x']", i)
		}
		return fmt.Appendf(nil, `{"type":"indicator","id":%q,%s,"name":"Indicator %d","description":"Seen in campaign %d.",`+
			`"indicator_types":["malicious-activity"],"labels":[%q],"pattern":%q,"pattern_type":"stix","valid_from":%q}`,
			fillID("indicator", i), common, i, i/1000, fillLabels[i%len(fillLabels)], pattern, t.Format(time.RFC3339))
	case k == 6:
		return fmt.Appendf(nil, `{"type":"malware","id":%q,%s,"name":"Family %d","is_family":true,"malware_types":["bot"]}`,
			fillID("malware", i), common, i/10)
	case k < 9:
		return fmt.Appendf(nil, `{"type":"relationship","id":%q,%s,"relationship_type":"indicates","source_ref":%q,"target_ref":%q}`,
			fillID("relationship", i), common, fillID("indicator", base+k-7), fillID("malware", base+6))
	default:
		return fmt.Appendf(nil, `{"type":"sighting","id":%q,%s,"sighting_of_ref":%q,"count":%d,"first_seen":%q,"last_seen":%q}`,
			fillID("sighting", i), common, fillID("indicator", base), 1+i%7, t.Format(time.RFC3339), t.Add(time.Hour).Format(time.RFC3339))
	}
}

// TestFillStore checks the fill's objects: each parses, is stored, and
// refers to objects the fill stores.
func TestFillStore(t *testing.T) {
	e := newEnv(t)
	f := fillStore(t, e.st, e.collection, 2*fillBatch+10)
	if f.Objects != 2*fillBatch+10+len(stix.TLPMarkingDefinitions()) {
		t.Errorf("filled %d objects", f.Objects)
	}
	for _, id := range []string{f.Indicator, f.Malware, f.Relationship, f.Sighting, fillID("sighting", 2*fillBatch+9)} {
		page, err := e.st.Objects(context.Background(), store.Query{Collection: e.collection, IDs: []string{id}, Limit: 1})
		if err != nil || len(page.Objects) != 1 {
			t.Errorf("%s: %d stored, %v", id, len(page.Objects), err)
		}
	}
}
