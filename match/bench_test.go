package match_test

import (
	"bytes"
	"context"
	"flag"
	"runtime"
	"testing"
	"time"

	"github.com/entente/entente/internal/proctest"
	"github.com/entente/entente/match"
	"github.com/entente/entente/match/matchgen"
)

// Each goal of the detection engine has a benchmark here that measures it
// against its baseline within one run, reported as a ratio, so that figures
// from a noisy shared machine still compare like with like:
//
//	BenchmarkLoad        compile time / time to build a Go map of the same patterns (goal ≤ 1.5)
//	BenchmarkHeap        heap bytes per indicator, everything the index holds (goal ≤ 120)
//	BenchmarkStream      parse+match throughput / parse-only throughput (goal ≥ 0.8)
//	BenchmarkSubstrings  MB/s of log text past 100k substring indicators (goal ≥ 400)
//	BenchmarkScan        CPU per record of parsing alone and of scanning alone
//
// Each also reports its figure per CPU-second of the process ("cpu-"
// metrics), which moves less when other work shares the cores; Compile
// runs on every core, so its CPU ratio is above its wall-clock one. The
// default scale fits a test run; -match.indicators raises it, and
// entente match bench measures the goals at full scale.
var (
	benchIndicators = flag.Int("match.indicators", 200_000, "indicators of the match benchmarks")
	benchLines      = flag.Int("match.lines", 50_000, "EVE lines of the match benchmarks")
)

func benchGen() *matchgen.Gen {
	return matchgen.New(matchgen.Config{Seed: 1, Indicators: *benchIndicators, Lines: *benchLines, HitRate: 0.01})
}

// BenchmarkLoad times Compile against its baseline, a Go map from the same
// patterns to indicator numbers, both built in every iteration.
func BenchmarkLoad(b *testing.B) {
	inds := benchGen().Indicators()
	var compile, goMap, compileCPU, goMapCPU time.Duration
	for b.Loop() {
		// Start both from a collected heap, so that neither pays for the
		// garbage of the previous iteration.
		runtime.GC()
		t0, c0 := time.Now(), proctest.CPUTime()
		m := make(map[string]uint32, len(inds))
		for i, ind := range inds {
			m[ind.Pattern] = uint32(i)
		}
		goMap += time.Since(t0)
		goMapCPU += proctest.CPUTime() - c0
		runtime.KeepAlive(m)
		m = nil
		runtime.GC()
		t1, c1 := time.Now(), proctest.CPUTime()
		ix, errs := match.Compile(inds)
		compile += time.Since(t1)
		compileCPU += proctest.CPUTime() - c1
		if len(errs) > 0 {
			b.Fatal(errs[0])
		}
		runtime.KeepAlive(ix)
	}
	n := float64(b.N * len(inds))
	b.ReportMetric(float64(compile.Nanoseconds())/n, "ns/indicator")
	b.ReportMetric(float64(goMap.Nanoseconds())/n, "map-ns/indicator")
	b.ReportMetric(compile.Seconds()/goMap.Seconds(), "ratio")
	b.ReportMetric(compileCPU.Seconds()/goMapCPU.Seconds(), "cpu-ratio")
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkHeap reports the heap an index holds per indicator: tables,
// ids, validity, trees kept for evaluation, everything Compile leaves
// behind. The indicators themselves are live throughout and not counted.
func BenchmarkHeap(b *testing.B) {
	inds := benchGen().Indicators()
	var total int64
	for b.Loop() {
		before := heapAlloc()
		ix, _ := match.Compile(inds)
		total += int64(heapAlloc()) - int64(before)
		runtime.KeepAlive(ix)
	}
	runtime.KeepAlive(inds)
	b.ReportMetric(float64(total)/float64(b.N*len(inds)), "B/indicator")
}

// BenchmarkStream compares parsing and matching with parsing alone over
// the same lines, alternating the two passes in every iteration.
func BenchmarkStream(b *testing.B) {
	gen := benchGen()
	ix, errs := match.Compile(gen.Indicators())
	if len(errs) > 0 {
		b.Fatal(errs[0])
	}
	lines := gen.Lines()
	m := match.NewMatcher(ix)
	for _, workers := range []int{1, 2} {
		b.Run([]string{"", "1core", "2cores"}[workers], func(b *testing.B) {
			pass := func(m *match.Matcher) (wall, cpu time.Duration) {
				s := &match.Stream{Format: match.EVE{}, Matcher: m, Workers: workers}
				if m != nil {
					s.Window = match.NewWindow()
				}
				t0, c0 := time.Now(), proctest.CPUTime()
				if _, err := s.Run(context.Background(), "bench", bytes.NewReader(lines)); err != nil {
					b.Fatal(err)
				}
				return time.Since(t0), proctest.CPUTime() - c0
			}
			var parse, full, parseCPU, fullCPU time.Duration
			for b.Loop() {
				w, c := pass(nil)
				parse, parseCPU = parse+w, parseCPU+c
				w, c = pass(m)
				full, fullCPU = full+w, fullCPU+c
			}
			n := float64(*benchLines * b.N)
			b.ReportMetric(n/parse.Seconds(), "parse-lines/s")
			b.ReportMetric(n/full.Seconds(), "match-lines/s")
			b.ReportMetric(parse.Seconds()/full.Seconds(), "ratio")
			b.ReportMetric(parseCPU.Seconds()/fullCPU.Seconds(), "cpu-ratio")
		})
	}
}

// BenchmarkSubstrings gives log text to the scanner as URL values, past
// 100k LIKE '%…%' indicators on URLs: whole EVE lines, as entente match
// bench does, and the URLs of the lines alone.
func BenchmarkSubstrings(b *testing.B) {
	gen := matchgen.New(matchgen.Config{Seed: 1, Lines: *benchLines})
	ix, errs := match.Compile(gen.Substrings(100_000))
	if len(errs) > 0 {
		b.Fatal(errs[0])
	}
	var whole, urls []*match.Record
	for line := range bytes.Lines(gen.Lines()) {
		r := &match.Record{}
		r.Add(match.URL, line)
		whole = append(whole, r)
		var rec match.Record
		if err := (match.EVE{}).Parse(line, &rec); err != nil {
			b.Fatal(err)
		}
		for _, v := range rec.Values {
			if v.Prop == match.URL {
				r := &match.Record{}
				r.Add(match.URL, v.Data)
				urls = append(urls, r)
			}
		}
	}
	for _, bc := range []struct {
		name string
		recs []*match.Record
	}{{"lines", whole}, {"urls", urls}} {
		b.Run(bc.name, func(b *testing.B) {
			text := 0
			for _, r := range bc.recs {
				text += len(r.Values[0].Data)
			}
			sc := match.NewScanner(ix)
			now := time.Now()
			b.SetBytes(int64(text))
			c0 := proctest.CPUTime()
			for b.Loop() {
				for _, r := range bc.recs {
					sc.Scan(r, now, func(match.Hit) {})
				}
			}
			b.ReportMetric(float64(text*b.N)/1e6/(proctest.CPUTime()-c0).Seconds(), "cpu-MB/s")
		})
	}
}

// BenchmarkScan splits BenchmarkStream's passes: parsing EVE lines into
// records, and scanning parsed records, each alone, in CPU ns per record.
// Their ratio is what the stream ratio would be without the stream's own
// costs (cutting lines, ordering results).
func BenchmarkScan(b *testing.B) {
	gen := benchGen()
	ix, errs := match.Compile(gen.Indicators())
	if len(errs) > 0 {
		b.Fatal(errs[0])
	}
	lines := gen.Lines()
	var recs []*match.Record
	for line := range bytes.Lines(lines) {
		var rec match.Record
		if err := (match.EVE{}).Parse(line, &rec); err != nil {
			b.Fatal(err)
		}
		recs = append(recs, rec.Clone())
	}
	perRecord := func(b *testing.B, c0 time.Duration) {
		b.ReportMetric(float64((proctest.CPUTime()-c0).Nanoseconds())/float64(b.N*len(recs)), "cpu-ns/record")
	}
	b.Run("parse", func(b *testing.B) {
		var rec match.Record
		c0 := proctest.CPUTime()
		for b.Loop() {
			for line := range bytes.Lines(lines) {
				rec = match.Record{Values: rec.Values[:0]}
				if err := (match.EVE{}).Parse(line, &rec); err != nil {
					b.Fatal(err)
				}
			}
		}
		perRecord(b, c0)
	})
	b.Run("scan", func(b *testing.B) {
		sc := match.NewScanner(ix)
		now := time.Now()
		c0 := proctest.CPUTime()
		for b.Loop() {
			for _, r := range recs {
				sc.Scan(r, now, func(match.Hit) {})
			}
		}
		perRecord(b, c0)
	})
}
