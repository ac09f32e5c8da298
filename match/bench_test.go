package match_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/entente/entente/match"
	"github.com/entente/entente/match/matchgen"
)

// The benchmarks run at a scale that fits a test run; entente match bench
// measures the goals at full scale.
const (
	benchIndicators = 200_000
	benchLines      = 50_000
)

func benchData(b *testing.B) (*match.Index, []byte) {
	b.Helper()
	gen := matchgen.New(matchgen.Config{Seed: 1, Indicators: benchIndicators, Lines: benchLines, HitRate: 0.01})
	ix, errs := match.Compile(gen.Indicators())
	if len(errs) > 0 {
		b.Fatal(errs[0])
	}
	return ix, gen.Lines()
}

func BenchmarkCompile(b *testing.B) {
	inds := matchgen.New(matchgen.Config{Seed: 1, Indicators: benchIndicators}).Indicators()
	b.ReportAllocs()
	for b.Loop() {
		match.Compile(inds)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(inds)), "ns/indicator")
}

// BenchmarkGoMap is the baseline of BenchmarkCompile: a map over the same
// patterns.
func BenchmarkGoMap(b *testing.B) {
	inds := matchgen.New(matchgen.Config{Seed: 1, Indicators: benchIndicators}).Indicators()
	for b.Loop() {
		m := make(map[string]uint32, len(inds))
		for i, ind := range inds {
			m[ind.Pattern] = uint32(i)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(inds)), "ns/indicator")
}

// BenchmarkStream compares parsing alone with parsing and matching, on one
// goroutine.
func BenchmarkStream(b *testing.B) {
	ix, lines := benchData(b)
	for _, bc := range []struct {
		name string
		m    *match.Matcher
	}{{"parse", nil}, {"match", match.NewMatcher(ix)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(lines)))
			for b.Loop() {
				s := &match.Stream{Format: match.EVE{}, Matcher: bc.m, Workers: 1}
				if _, err := s.Run(context.Background(), "bench", bytes.NewReader(lines)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(benchLines*b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

// BenchmarkSubstrings runs URL values past 100k LIKE '%…%' indicators.
func BenchmarkSubstrings(b *testing.B) {
	gen := matchgen.New(matchgen.Config{Seed: 1, Lines: benchLines})
	ix, errs := match.Compile(gen.Substrings(100_000))
	if len(errs) > 0 {
		b.Fatal(errs[0])
	}
	var recs []*match.Record
	text := 0
	for line := range bytes.Lines(gen.Lines()) {
		var rec match.Record
		if err := (match.EVE{}).Parse(line, &rec); err != nil {
			b.Fatal(err)
		}
		for _, v := range rec.Values {
			if v.Prop == match.URL {
				r := &match.Record{}
				r.Add(match.URL, v.Data)
				recs = append(recs, r)
				text += len(v.Data)
			}
		}
	}
	sc := match.NewScanner(ix)
	now := time.Now()
	b.SetBytes(int64(text))
	for b.Loop() {
		for _, r := range recs {
			sc.Scan(r, now, func(match.Hit) {})
		}
	}
}
