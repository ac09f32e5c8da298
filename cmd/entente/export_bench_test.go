package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/entente/entente/export"
	"github.com/entente/entente/internal/proctest"
	"github.com/entente/entente/node"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store/sqlite"
)

// exportBenchIndicator is an indicator of one of the shapes feeds carry:
// an address, a domain name, a URL or a file hash.
func exportBenchIndicator(n int) []byte {
	var p string
	switch n % 4 {
	case 0:
		p = fmt.Sprintf("[ipv4-addr:value = '10.%d.%d.%d']", n>>16&0xff, n>>8&0xff, n&0xff)
	case 1:
		p = fmt.Sprintf("[domain-name:value = 'host%d.bench.example']", n)
	case 2:
		p = fmt.Sprintf("[url:value = 'http://host%d.bench.example/path/%d']", n, n)
	default:
		p = fmt.Sprintf("[file:hashes.'SHA-256' = '%064x']", n)
	}
	return fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-%04x-4000-8000-000000000000",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"bench %d",`+
		`"pattern":%q,"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`, n, n>>32&0xffff, n, p)
}

// BenchmarkExport compares exporting a collection's indicators with
// reading them from the store alone, which any export must do: the issue's
// goal is an export in less than twice the time of the read. Each round
// reads, exports as Suricata rules and as Zeek Intel, and reads again, so
// that the machine's noise weighs on all alike; the ratios are of the
// rounds' totals, in elapsed time and in processor time. ENTENTE_BENCH_EXPORT sets the number of indicators (default
// 200,000; the goal speaks of 1,000,000).
func BenchmarkExport(b *testing.B) {
	skipUnlessBenchmarking(b)
	total := 200_000
	if v := os.Getenv("ENTENTE_BENCH_EXPORT"); v != "" {
		var err error
		if total, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	st, ini := exportBenchStore(b, total)
	var read, reread, suricata, zeek time.Duration
	var cpuRead, cpuSuricata, cpuZeek time.Duration
	defer func() { b.Logf("reads: first %v, last %v", read, reread) }()
	readAll := func() time.Duration {
		start, cpu := time.Now(), proctest.CPUTime()
		defer func() { cpuRead += proctest.CPUTime() - cpu }()
		n := 0
		for raw, err := range storeIndicators(ctx, st, ini.CollectionID) {
			if err != nil {
				b.Fatal(err)
			}
			n += len(raw) & 1
		}
		return time.Since(start)
	}
	for b.Loop() {
		read += readAll()
		for _, f := range []export.Format{export.Suricata, export.ZeekIntel} {
			start, cpu := time.Now(), proctest.CPUTime()
			r, err := exportObjects(io.Discard, export.Config{Format: f, Now: time.Now()}, storeIndicators(ctx, st, ini.CollectionID))
			if err != nil {
				b.Fatal(err)
			}
			if r.Exported != total {
				b.Fatalf("%s: exported %d of %d", f, r.Exported, total)
			}
			if f == export.Suricata {
				suricata += time.Since(start)
				cpuSuricata += proctest.CPUTime() - cpu
			} else {
				zeek += time.Since(start)
				cpuZeek += proctest.CPUTime() - cpu
			}
		}
		reread += readAll()
	}
	read = (read + reread) / 2
	b.ReportMetric(float64(total)/read.Seconds()*float64(b.N), "read-indicators/s")
	b.ReportMetric(float64(suricata)/float64(read), "suricata/read")
	b.ReportMetric(float64(zeek)/float64(read), "zeek/read")
	// Processor time, which other work on the machine disturbs less (the
	// reads are done twice a round, hence the 2).
	if cpuRead > 0 {
		b.ReportMetric(2*float64(cpuSuricata)/float64(cpuRead), "suricata/read-cpu")
		b.ReportMetric(2*float64(cpuZeek)/float64(cpuRead), "zeek/read-cpu")
	}
}

// BenchmarkExportCache fetches an unchanged export of 50,000 indicators
// (Suricata rules, as a sensor does) from the node's handler: cold, with
// an empty cache, so rendered; then warm, answered from the cache, with
// If-None-Match (304) and without (200, the body sent again). Each round
// does all three, so that the machine's noise weighs on them alike; the
// ratios are of the rounds' totals.
func BenchmarkExportCache(b *testing.B) {
	skipUnlessBenchmarking(b)
	const total = 50_000
	ctx := context.Background()
	st, ini := exportBenchStore(b, total)
	n, err := node.New(ctx, node.Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	b.Setenv("TMPDIR", b.TempDir())
	h := newExportHandler(n, slog.New(slog.DiscardHandler), nil)
	defer h.Close()
	fetch := func(etag string) (time.Duration, *httptest.ResponseRecorder) {
		req := httptest.NewRequest(http.MethodGet, "/export/api1/default/suricata", nil)
		req.Header.Set("Authorization", "Bearer "+ini.AdminToken)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		return time.Since(start), rec
	}
	var cold, warm304, warm200 time.Duration
	for b.Loop() {
		h.Close() // empty the cache
		d, rec := fetch("")
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			b.Fatalf("cold fetch: %d", rec.Code)
		}
		cold += d
		etag := rec.Header().Get("ETag")
		if d, rec = fetch(etag); rec.Code != http.StatusNotModified {
			b.Fatalf("warm fetch with If-None-Match: %d", rec.Code)
		}
		warm304 += d
		if d, rec = fetch(""); rec.Code != http.StatusOK || rec.Header().Get("ETag") != etag {
			b.Fatalf("warm fetch: %d", rec.Code)
		}
		warm200 += d
	}
	b.ReportMetric(float64(cold)/float64(b.N)/1e6, "cold-ms")
	b.ReportMetric(float64(cold)/float64(warm304), "cold/warm-304")
	b.ReportMetric(float64(cold)/float64(warm200), "cold/warm-200")
}

// exportBenchStore opens a new node store holding total indicators in its
// default collection, closed when b ends.
func exportBenchStore(b *testing.B, total int) (*sqlite.Store, *node.Initialized) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), dbFile))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ini, err := node.Initialize(ctx, st, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < total; i += 10_000 {
		objs := make([]*stix.Object, 0, 10_000)
		for j := i; j < min(i+10_000, total); j++ {
			o, err := stix.Parse(exportBenchIndicator(j))
			if err != nil {
				b.Fatal(err)
			}
			objs = append(objs, o)
		}
		if _, err := st.AddObjects(ctx, ini.CollectionID, objs); err != nil {
			b.Fatal(err)
		}
	}
	return st, ini
}
