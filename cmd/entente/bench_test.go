package main

// HTTP-level benchmarks of a node: ingest over HTTPS into SQLite, paged
// reads from a collection of a million objects, latency under 32
// concurrent clients and memory while paging through everything. Each
// measures a baseline in the same run (the same rows through the same
// SQLite driver, without the node) and reports the ratio to it.
//
// They do a fixed amount of work per iteration, so run them once:
//
//	go test ./cmd/entente -run '^$' -bench . -benchtime 1x -timeout 60m

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/entente/entente/node"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store/sqlite"
	"github.com/entente/entente/taxii"
)

const (
	benchIngestObjects = 100_000
	benchEnvelope      = 1_000
	benchReadObjects   = 1_000_000
	benchPage          = 1_000
	benchClients       = 32
)

func skipUnlessBenchmarking(b *testing.B) {
	if testing.Short() {
		b.Skip("heavy benchmark; skipped under -short")
	}
}

// benchIndicator is a valid indicator whose id is derived from n.
func benchIndicator(n int) []byte {
	return fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-%04x-4000-8000-000000000000",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"bench %d",`+
		`"pattern":"[ipv4-addr:value = '10.%d.%d.%d']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`,
		n, n>>32&0xffff, n, n>>16&0xff, n>>8&0xff, n&0xff)
}

// benchMalware is a valid malware object whose id is derived from n.
func benchMalware(n int) []byte {
	return fmt.Appendf(nil, `{"type":"malware","spec_version":"2.1","id":"malware--%08x-0000-4000-8000-000000000000",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"bench %d","is_family":false}`, n, n)
}

// BenchmarkIngest posts 100k indicators in envelopes of 1,000 over HTTPS
// and compares with inserting the same rows in batches of 1,000 through
// database/sql and the same driver. The two alternate round by round, so
// that whatever else the machine does weighs on both alike.
//
// With one client the node parses and validates an envelope, then writes
// it, and one core idles in each phase; with two clients posting at once
// (as two feeds would) one envelope is checked while the other is written.
func BenchmarkIngest(b *testing.B) {
	skipUnlessBenchmarking(b)
	objs := make([][]byte, benchIngestObjects)
	for i := range objs {
		objs[i] = benchIndicator(i)
	}
	for _, clients := range []int{1, 2} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			benchmarkIngest(b, objs, clients)
		})
	}
}

func benchmarkIngest(b *testing.B, objs [][]byte, clients int) {
	var nodeTime, rawTime time.Duration
	round := clients * benchEnvelope
	for range b.N {
		b.StopTimer()
		n := startServe(b, b.TempDir())
		raw := newRawInserter(b)
		nodeTime, rawTime = 0, 0
		b.StartTimer()
		for start := 0; start < len(objs); start += round {
			t := time.Now()
			var wg sync.WaitGroup
			for c := range clients {
				from := start + c*benchEnvelope
				if from >= len(objs) {
					break
				}
				env := envelope(objs[from:min(from+benchEnvelope, len(objs))])
				wg.Go(func() { postEnvelope(b, n, n.client, env, benchEnvelope) })
			}
			wg.Wait()
			nodeTime += time.Since(t)

			b.StopTimer()
			t = time.Now()
			for from := start; from < min(start+round, len(objs)); from += benchEnvelope {
				raw.insert(b, from, objs[from:min(from+benchEnvelope, len(objs))])
			}
			rawTime += time.Since(t)
			b.StartTimer()
		}
		b.StopTimer()
		raw.db.Close()
		n.stop()
		<-n.done
		n.done <- 0
		b.StartTimer()
	}
	nodeRate := float64(len(objs)) / nodeTime.Seconds()
	rawRate := float64(len(objs)) / rawTime.Seconds()
	b.ReportMetric(nodeRate, "objects/s")
	b.ReportMetric(rawRate, "baseline-objects/s")
	b.ReportMetric(nodeRate/rawRate, "ratio")
}

// envelope wraps objects in a TAXII envelope.
func envelope(objs [][]byte) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"objects":[`)
	for i, o := range objs {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(o)
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}

// postEnvelope posts one envelope of want objects through client and checks
// that every object was stored. It may run on any goroutine, so it reports
// failures with Error.
func postEnvelope(b *testing.B, n *runningNode, client *http.Client, env []byte, want int) {
	req, err := http.NewRequest(http.MethodPost, n.base+"/api1/collections/default/objects/", bytes.NewReader(env))
	if err != nil {
		b.Error(err)
		return
	}
	req.Header.Set("Accept", taxii.MediaType)
	req.Header.Set("Content-Type", taxii.MediaType)
	req.Header.Set("Authorization", "Bearer "+n.adminToken)
	resp, err := client.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	defer resp.Body.Close()
	var s taxii.Status
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != http.StatusAccepted || s.SuccessCount != want {
		b.Errorf("POST: %d, %d successes, %v", resp.StatusCode, s.SuccessCount, err)
	}
}

// rawInserter writes rows straight into the objects table of a fresh
// store's database: the baseline of BenchmarkIngest.
type rawInserter struct {
	db *sql.DB
	pk int64
}

func newRawInserter(b *testing.B) *rawInserter {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), dbFile)
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	ini, err := node.Initialize(ctx, st, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	st.Close()
	r := &rawInserter{db: openRaw(b, path)}
	if err := r.db.QueryRow(`SELECT pk FROM collections WHERE id = ?`, ini.CollectionID).Scan(&r.pk); err != nil {
		b.Fatal(err)
	}
	return r
}

// insert stores objs, numbered from first, in one transaction. The columns
// the store derives (content hash, flags) are computed here too, so the
// baseline does the same writes without the node.
func (r *rawInserter) insert(b *testing.B, first int, objs [][]byte) {
	const version = "2024-01-01T00:00:00.000Z"
	tx, err := r.db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	ins, err := tx.Prepare(`INSERT INTO objects
		(collection, id, type, version, version_key, versioned, spec_version, date_added, content_hash, is_first, is_last, top_spec, raw)
		VALUES (?, ?, 'indicator', ?, ?, 1, '2.1', ?, ?, 1, 1, 1, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	defer ins.Close()
	for i, o := range objs {
		h := sha256.Sum256(o)
		id := fmt.Sprintf("indicator--%08x", first+i)
		if _, err := ins.Exec(r.pk, id, version, version, time.Now().UnixMicro(), h[:], o); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// openRaw opens a store's database directly, with the pragmas the store
// uses, for the baselines.
func openRaw(b *testing.B, path string) *sql.DB {
	q := url.Values{"_pragma": {"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)"}}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// readFixture is a node serving a collection of benchReadObjects objects, half
// indicators and half malware, interleaved.
type readFixture struct {
	n     *runningNode
	col   string
	token string
	db    *sql.DB
	pk    int64 // the collection's row key
	// The range of date_added, in microseconds, for random starting points.
	firstAdded, lastAdded int64
}

// loadReadFixture loads benchReadObjects objects through the store directly
// (the fast path; ingest over HTTP is BenchmarkIngest's business), then
// starts a node on them.
func loadReadFixture(b *testing.B) *readFixture {
	ctx := context.Background()
	dir := b.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, dbFile))
	if err != nil {
		b.Fatal(err)
	}
	ini, err := node.Initialize(ctx, st, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	const batch = 10_000
	start := time.Now()
	for i := 0; i < benchReadObjects; i += batch {
		objs := make([]*stix.Object, 0, batch)
		for j := i; j < i+batch; j++ {
			raw := benchIndicator(j)
			if j%2 == 1 {
				raw = benchMalware(j)
			}
			o, err := stix.Parse(raw)
			if err != nil {
				b.Fatal(err)
			}
			objs = append(objs, o)
		}
		if _, err := st.AddObjects(ctx, ini.CollectionID, objs); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d objects through the store in %v", benchReadObjects, time.Since(start).Round(time.Second))
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}

	// The node finds its admin account made already, so it prints no token.
	f := &readFixture{n: startServe(b, dir), col: ini.CollectionID, token: ini.AdminToken}
	f.db = openRaw(b, filepath.Join(dir, dbFile))
	b.Cleanup(func() { f.db.Close() })
	f.db.SetMaxOpenConns(benchClients)
	err = f.db.QueryRow(`SELECT c.pk, MIN(o.date_added), MAX(o.date_added) FROM collections c JOIN objects o ON o.collection = c.pk
		WHERE c.id = ?`, ini.CollectionID).Scan(&f.pk, &f.firstAdded, &f.lastAdded)
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// getPage fetches one page and returns its next token, "" on the last
// page. It may run on any goroutine, so it reports failures with Error.
func (f *readFixture) getPage(b *testing.B, query url.Values) (next string, ok bool) {
	return f.getPageWith(b, f.n.client, query)
}

// getPageWith is getPage through a given client, and so its own connection.
func (f *readFixture) getPageWith(b *testing.B, client *http.Client, query url.Values) (next string, ok bool) {
	req, err := http.NewRequest(http.MethodGet, f.n.base+"/api1/collections/"+f.col+"/objects/?"+query.Encode(), nil)
	if err != nil {
		b.Error(err)
		return "", false
	}
	req.Header.Set("Accept", taxii.MediaType)
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := client.Do(req)
	if err != nil {
		b.Error(err)
		return "", false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Errorf("GET: %d, %v", resp.StatusCode, err)
		return "", false
	}
	// The server writes more and next before the objects, so reading the
	// head of the body is enough; decoding the objects would charge the
	// client's work to the node.
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil {
		b.Error(err)
		return "", false
	}
	more := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil || key == "objects" {
			break
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			b.Error(err)
			return "", false
		}
		switch key {
		case "more":
			more, _ = v.(bool)
		case "next":
			next, _ = v.(string)
		}
	}
	if !more {
		return "", true
	}
	return next, true
}

// rawPage runs the query the store runs for one page of match[type] and
// reads every row, including the content. It may run on any goroutine.
func (f *readFixture) rawPage(b *testing.B, after int64, typ string) (last int64, n int) {
	rows, err := f.db.Query(`SELECT seq, id, type, version, spec_version, date_added, raw FROM objects
		WHERE collection = ? AND seq > ? AND type IN (?) AND top_spec = 1 AND (is_last = 1)
		ORDER BY seq LIMIT ?`, f.pk, after, typ, benchPage+1)
	if err != nil {
		b.Error(err)
		return 0, 0
	}
	defer rows.Close()
	var (
		seq, added          int64
		id, t, version, spv string
		raw                 []byte
	)
	for rows.Next() && n < benchPage {
		if err := rows.Scan(&seq, &id, &t, &version, &spv, &added, &raw); err != nil {
			b.Error(err)
			return 0, 0
		}
		last, n = seq, n+1
	}
	if err := rows.Err(); err != nil {
		b.Error(err)
		return 0, 0
	}
	return last, n
}

// pageThrough pages through the indicators with match[type] through
// client, alternating each page with the store's query for the same rows,
// and reports both rates and their ratio.
func (f *readFixture) pageThrough(b *testing.B, client *http.Client) {
	var nodeTime, rawTime time.Duration
	var objects int
	for range b.N {
		nodeTime, rawTime, objects = 0, 0, 0
		q := url.Values{"match[type]": {"indicator"}, "limit": {fmt.Sprint(benchPage)}}
		var after int64
		for {
			t := time.Now()
			next, ok := f.getPageWith(b, client, q)
			if !ok {
				b.FailNow()
			}
			nodeTime += time.Since(t)
			objects += benchPage

			b.StopTimer()
			t = time.Now()
			last, n := f.rawPage(b, after, "indicator")
			rawTime += time.Since(t)
			after = last
			b.StartTimer()
			if next == "" {
				if n != benchPage {
					b.Fatalf("the last raw page has %d rows; want %d", n, benchPage)
				}
				break
			}
			q.Set("next", next)
		}
	}
	nodeRate := float64(objects) / nodeTime.Seconds()
	rawRate := float64(objects) / rawTime.Seconds()
	b.ReportMetric(nodeRate, "objects/s")
	b.ReportMetric(rawRate, "baseline-objects/s")
	b.ReportMetric(nodeRate/rawRate, "ratio")
}

// BenchmarkReads pages through the 500k indicators among a million objects
// with match[type], 1,000 per page, over HTTPS, and compares with running
// the store's query for the same pages directly.
func BenchmarkReads(b *testing.B) {
	skipUnlessBenchmarking(b)
	f := loadReadFixture(b)
	// HTTP pages and raw pages alternate, so that whatever else the
	// machine does weighs on both alike. Go clients speak HTTP/2; most
	// TAXII clients (taxii2-client through requests, MISP, OpenCTI's
	// connectors) speak HTTP/1.1, so both are measured.
	b.Run("pages", func(b *testing.B) { f.pageThrough(b, f.n.client) })
	b.Run("pages-http1", func(b *testing.B) {
		tr := f.n.client.Transport.(*http.Transport).Clone()
		tr.ForceAttemptHTTP2 = false
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		defer tr.CloseIdleConnections()
		f.pageThrough(b, &http.Client{Transport: tr, Timeout: f.n.client.Timeout})
	})

	b.Run("p99-32-clients", func(b *testing.B) {
		const perClient = 40
		// Each client has a connection of its own, as 32 separate tools
		// would; sharing one HTTP/2 connection would queue every page
		// behind one TLS stream.
		clients := make([]*http.Client, benchClients)
		for i := range clients {
			tr := f.n.client.Transport.(*http.Transport).Clone()
			clients[i] = &http.Client{Transport: tr, Timeout: f.n.client.Timeout}
			defer tr.CloseIdleConnections()
		}
		var p99, rawP99 float64
		for range b.N {
			p99 = latencyP99(func(client int, rnd *rand.Rand) {
				// A random place in the collection, reached with
				// added_after as a client resuming a sync would.
				after := time.UnixMicro(f.firstAdded + rnd.Int64N(f.lastAdded-f.firstAdded))
				q := url.Values{"match[type]": {"indicator"}, "limit": {fmt.Sprint(benchPage)},
					"added_after": {taxii.FormatTimestamp(after)}}
				f.getPageWith(b, clients[client], q)
			}, perClient)
			b.StopTimer()
			rawP99 = latencyP99(func(_ int, rnd *rand.Rand) {
				f.rawPage(b, rnd.Int64N(benchReadObjects), "indicator")
			}, perClient)
			b.StartTimer()
		}
		b.ReportMetric(p99*1000, "p99-ms")
		b.ReportMetric(rawP99*1000, "baseline-p99-ms")
	})

	b.Run("memory", func(b *testing.B) {
		var first, peak uint64
		for range b.N {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			first, peak = ms.HeapInuse, ms.HeapInuse
			q := url.Values{"limit": {fmt.Sprint(benchPage)}}
			for pages := 1; ; pages++ {
				next, ok := f.getPage(b, q)
				if !ok {
					b.FailNow()
				}
				if pages%50 == 0 {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
				}
				if next == "" {
					break
				}
				q.Set("next", next)
			}
		}
		b.ReportMetric(float64(first)/(1<<20), "heap-start-MiB")
		b.ReportMetric(float64(peak)/(1<<20), "heap-peak-MiB")
	})
}

// latencyP99 runs op perClient times in each of benchClients goroutines and
// returns the 99th percentile of its duration, in seconds.
func latencyP99(op func(client int, rnd *rand.Rand), perClient int) float64 {
	var (
		mu        sync.Mutex
		durations []time.Duration
		wg        sync.WaitGroup
	)
	for c := range benchClients {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(c), 1))
			local := make([]time.Duration, 0, perClient)
			for range perClient {
				start := time.Now()
				op(c, rnd)
				local = append(local, time.Since(start))
			}
			mu.Lock()
			durations = append(durations, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(durations) == 0 {
		return math.NaN()
	}
	slices.Sort(durations)
	return durations[len(durations)*99/100].Seconds()
}

// BenchmarkWriters measures ingest under many writers: one client posting
// envelopes of 100 indicators one after another, then 64 clients posting
// such envelopes at once, each on a fresh node, in the same run. It
// reports both rates, their ratio (the goal is at least 0.9: concurrent
// envelopes share transactions) and the 64 clients' write latencies.
//
//	go test ./cmd/entente -run '^$' -bench Writers -benchtime 1x
func BenchmarkWriters(b *testing.B) {
	skipUnlessBenchmarking(b)
	const (
		perEnvelope = 100
		single      = 200 // envelopes posted by the single client
		clients     = 64
		perClient   = 8 // envelopes posted by each of the 64
	)
	envelopes := func(first, n int) [][]byte {
		envs := make([][]byte, n)
		for i := range envs {
			objs := make([][]byte, perEnvelope)
			for j := range objs {
				objs[j] = benchIndicator(first + i*perEnvelope + j)
			}
			envs[i] = envelope(objs)
		}
		return envs
	}
	// The two phases alternate, iteration by iteration, and their totals
	// are compared, so that whatever else the machine does weighs on both.
	var (
		time1, time64 time.Duration
		latencies     []time.Duration
	)
	for range b.N {
		b.StopTimer()
		one := envelopes(0, single)
		many := make([][][]byte, clients)
		for c := range many {
			many[c] = envelopes((1+c)*perClient*perEnvelope*10, perClient)
		}
		n := startServe(b, b.TempDir())
		b.StartTimer()
		start := time.Now()
		for _, env := range one {
			postEnvelope(b, n, n.client, env, perEnvelope)
		}
		time1 += time.Since(start)
		b.StopTimer()
		n.stop()
		<-n.done
		n.done <- 0

		n = startServe(b, b.TempDir())
		// Each client on a connection of its own, as 64 tools would be.
		conns := make([]*http.Client, clients)
		for i := range conns {
			tr := n.client.Transport.(*http.Transport).Clone()
			conns[i] = &http.Client{Transport: tr, Timeout: time.Minute}
			defer tr.CloseIdleConnections()
		}
		var (
			mu sync.Mutex
			wg sync.WaitGroup
		)
		b.StartTimer()
		start = time.Now()
		for c := range clients {
			wg.Go(func() {
				for _, env := range many[c] {
					t := time.Now()
					postEnvelope(b, n, conns[c], env, perEnvelope)
					d := time.Since(t)
					mu.Lock()
					latencies = append(latencies, d)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		time64 += time.Since(start)
		b.StopTimer()
		n.stop()
		<-n.done
		n.done <- 0
		b.StartTimer()
	}
	slices.Sort(latencies)
	p50 := latencies[len(latencies)/2].Seconds()
	p99 := latencies[len(latencies)*99/100].Seconds()
	rate1 := float64(b.N*single*perEnvelope) / time1.Seconds()
	rate64 := float64(b.N*clients*perClient*perEnvelope) / time64.Seconds()
	b.ReportMetric(rate1, "1-client-objects/s")
	b.ReportMetric(rate64, "64-clients-objects/s")
	b.ReportMetric(rate64/rate1, "ratio")
	b.ReportMetric(p50*1000, "p50-ms")
	b.ReportMetric(p99*1000, "p99-ms")
}
