// Package bench measures detection at scale: it generates indicators
// and Suricata EVE lines from a seed (package matchgen) and reports
// loading time and memory against a plain Go map of the same keys, and
// end-to-end throughput against a parse-only pass over the same lines,
// each measured in the same run. entente match bench runs it.
package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"github.com/gaissmai/bart"

	"github.com/entente/entente/match"
	"github.com/entente/entente/match/matchgen"
	"github.com/entente/entente/stix/pattern"
)

// Config says what to generate.
type Config struct {
	Seed       uint64
	Indicators int     // number of indicators
	Lines      int     // number of EVE lines
	HitRate    float64 // fraction of lines that quote an indicator
	Substrings int     // substring indicators for the prefilter measurement; 0 skips it
	Workers    int     // goroutines of the multi-core run; 0 means GOMAXPROCS
	ScanBytes  int     // log text the substring measurement scans; 0 means 256 MiB
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Run generates the data that c describes and writes the measurements to
// w, one labelled line each, with the goal each is held to.
func Run(ctx context.Context, w io.Writer, c Config) error {
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	gen := matchgen.New(matchgen.Config{Seed: c.Seed, Indicators: c.Indicators, Lines: c.Lines, HitRate: c.HitRate})
	fmt.Fprintf(w, "entente match bench --seed %d --indicators %d --lines %d --hit-rate %g --substrings %d (GOMAXPROCS %d)\n",
		c.Seed, c.Indicators, c.Lines, c.HitRate, c.Substrings, runtime.GOMAXPROCS(0))
	if err := benchPrefixes(w, gen, c.Indicators); err != nil {
		return err
	}
	inds := gen.Indicators()

	mapTime := mapBaseline(inds)

	before := heap()
	t0, c0 := time.Now(), cpuTime()
	ix, errs := match.Compile(inds)
	loadTime, loadCPU := time.Since(t0), cpuTime()-c0
	if len(errs) > 0 {
		return fmt.Errorf("compiling generated indicators: %d failed, first: %w", len(errs), errs[0])
	}
	indexBytes := int64(heap()) - int64(before)
	runtime.KeepAlive(inds) // live across both measurements, so not counted
	st := ix.Stats()
	fmt.Fprintf(w, "load:    %d indicators in %s (%s CPU) = %.2fM/s; Go map of the same keys %s; ratio %.2f (goal ≤ 1.5)\n",
		len(inds), loadTime.Round(time.Millisecond), loadCPU.Round(time.Millisecond), float64(len(inds))/loadTime.Seconds()/1e6, mapTime.Round(time.Millisecond), loadTime.Seconds()/mapTime.Seconds())
	fmt.Fprintf(w, "index:   %d direct, %d evaluated, %d windowed, %d unanchored; %d exact keys, %d prefixes, %d substrings\n",
		st.Direct, st.Evaluated, st.Windowed, st.Unanchored, st.ExactKeys, st.Prefixes, st.Substrings)
	fmt.Fprintf(w, "memory:  %.1f bytes per indicator in all (heap); exact structures %.1f bytes per exact indicator (goal ≤ 100)\n",
		float64(indexBytes)/float64(len(inds)), float64(st.ExactBytes)/float64(st.Direct+st.Evaluated+st.Windowed))
	fmt.Fprintf(w, "prefix:  %d prefixes; indicator lists beside bart's tables: %d bytes\n", st.Prefixes, st.PrefixBytes)
	inds = nil

	lines := gen.Lines()
	fmt.Fprintf(w, "lines:   %d EVE lines, %.1f MB, %.0f bytes per line\n", c.Lines, float64(len(lines))/1e6, float64(len(lines))/float64(c.Lines))
	matcher := match.NewMatcher(ix)
	for _, workers := range []int{1, c.Workers} {
		parse, err := benchPass(ctx, lines, nil, workers)
		if err != nil {
			return err
		}
		full, err := benchPass(ctx, lines, matcher, workers)
		if err != nil {
			return err
		}
		goal := "700k"
		if workers > 1 {
			goal = "1.2M"
		}
		fmt.Fprintf(w, "stream:  %d core(s): parse only %.0f lines/s; parse+match %.0f lines/s (goal ≥ %s), %.1f MB/s; %d hits; ratio %.2f (goal ≥ 0.8)\n",
			workers, parse.perSec, full.perSec, goal, full.perSec*float64(len(lines))/float64(c.Lines)/1e6, full.hits, full.perSec/parse.perSec)
		fmt.Fprintf(w, "         per CPU-second: parse only %.0f lines; parse+match %.0f lines; ratio %.2f\n",
			parse.perCPUSec, full.perCPUSec, full.perCPUSec/parse.perCPUSec)
		if workers == c.Workers {
			break
		}
	}
	return benchSubstrings(w, gen, lines, c.Substrings, c.ScanBytes)
}

// pass is one pass over the lines.
type pass struct {
	perSec    float64 // lines per wall-clock second
	perCPUSec float64 // lines per CPU-second of the whole process
	hits      int64
}

// mapBaseline times the baseline of the reload goal: a Go map from the
// same patterns to indicator numbers.
func mapBaseline(inds []match.Indicator) time.Duration {
	t0 := time.Now()
	m := make(map[string]uint32, len(inds))
	for i, ind := range inds {
		m[ind.Pattern] = uint32(i)
	}
	d := time.Since(t0)
	runtime.KeepAlive(m)
	return d
}

// benchPass streams the lines once.
func benchPass(ctx context.Context, lines []byte, m *match.Matcher, workers int) (pass, error) {
	s := &match.Stream{Format: match.EVE{}, Matcher: m, Workers: workers}
	if m != nil {
		s.Window = match.NewWindow()
	}
	runtime.GC()
	t0, c0 := time.Now(), cpuTime()
	st, err := s.Run(ctx, "generated", bytes.NewReader(lines))
	if err != nil {
		return pass{}, err
	}
	if st.BadLines > 0 {
		return pass{}, fmt.Errorf("%d generated lines did not parse", st.BadLines)
	}
	r := pass{perSec: float64(st.Lines) / time.Since(t0).Seconds(), hits: st.Hits}
	if cpu := cpuTime() - c0; cpu > 0 {
		r.perCPUSec = float64(st.Lines) / cpu.Seconds()
	}
	return r, nil
}

// benchPrefixes compares the memory of the CIDR indicators compiled alone
// with that of bart holding the same prefixes. It runs first, while the
// heap is small, so that the measurement is not lost in the noise of
// millions of other objects.
func benchPrefixes(w io.Writer, gen *matchgen.Gen, n int) error {
	var prefixes []netip.Prefix
	var inds []match.Indicator
	for i := range n {
		src := gen.Pattern(i)
		if !strings.Contains(src, " ISSUBSET ") {
			continue
		}
		p, err := pattern.Parse(src)
		if err != nil {
			return err
		}
		if c, ok := p.Expr.(*pattern.ObservationSimple).Comparison.(*pattern.Comparison); ok {
			prefixes = append(prefixes, c.Prefix())
			inds = append(inds, match.Indicator{ID: fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i), Pattern: src})
		}
	}
	if len(prefixes) == 0 {
		return errors.New("no prefixes generated; raise --indicators")
	}
	before := heap()
	t := new(bart.Table[uint32])
	for _, p := range prefixes {
		t.Insert(p, 0)
	}
	bartBytes := int64(heap()) - int64(before)
	runtime.KeepAlive(t)
	runtime.KeepAlive(prefixes)
	t = nil

	before = heap()
	ix, errs := match.Compile(inds)
	if len(errs) > 0 {
		return errs[0]
	}
	// The index's own per-indicator records are not prefix overhead: every
	// indicator kind has them. What CIDR indicators add is bart plus lists.
	st := ix.Stats()
	ixBytes := int64(heap()) - int64(before) - int64(st.ExactBytes)
	runtime.KeepAlive(ix)
	runtime.KeepAlive(inds)
	fmt.Fprintf(w, "prefix:  %d CIDR indicators; bart alone %.1f MB, index %.1f MB; ratio %.2f (goal ≤ 1.5)\n",
		len(inds), float64(bartBytes)/1e6, float64(ixBytes)/1e6, float64(ixBytes)/float64(bartBytes))
	return nil
}

// benchSubstrings measures the substring prefilter over log text: each
// whole line is given to the scanner as a URL value, against LIKE '%…%'
// indicators on URLs.
func benchSubstrings(w io.Writer, gen *matchgen.Gen, lines []byte, n, scan int) error {
	if n == 0 {
		return nil
	}
	ix, errs := match.Compile(gen.Substrings(n))
	if len(errs) > 0 {
		return errs[0]
	}
	var recs []*match.Record
	for line := range bytes.Lines(lines) {
		r := &match.Record{}
		r.Add(match.URL, line)
		recs = append(recs, r)
		if len(recs) == 100_000 {
			break
		}
	}
	text := 0
	for _, r := range recs {
		text += len(r.Values[0].Data)
	}
	sc := match.NewScanner(ix)
	now := time.Now()
	if scan <= 0 {
		scan = 256 << 20
	}
	rounds := max(1, scan/text)
	t0, c0 := time.Now(), cpuTime()
	for range rounds {
		for _, r := range recs {
			sc.Scan(r, now, func(match.Hit) {})
		}
	}
	mb := float64(text*rounds) / 1e6
	fmt.Fprintf(w, "substr:  %d substring indicators over %.0f MB of log text: %.0f MB/s, %.0f MB per CPU-second (goal ≥ 400)\n",
		n, mb, mb/time.Since(t0).Seconds(), mb/(cpuTime()-c0).Seconds())
	return nil
}
