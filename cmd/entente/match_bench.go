package main

import (
	"context"
	"flag"

	"github.com/entente/entente/match/bench"
)

// runMatchBench implements entente match bench: it generates indicators
// and EVE lines from a seed and measures loading, memory and end-to-end
// throughput against a parse-only pass over the same lines, in this run.
func runMatchBench(ctx context.Context, env *Env, args []string) error {
	var c bench.Config
	fs := flag.NewFlagSet("match bench", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the generated data")
	fs.IntVar(&c.Indicators, "indicators", 10_000_000, "number of indicators")
	fs.IntVar(&c.Lines, "lines", 1_000_000, "number of EVE lines")
	fs.Float64Var(&c.HitRate, "hit-rate", 0.01, "fraction of lines that quote an indicator")
	fs.IntVar(&c.Substrings, "substrings", 100_000, "substring indicators for the prefilter measurement")
	fs.IntVar(&c.Workers, "workers", 0, "goroutines of the multi-core run (default GOMAXPROCS)")
	if err := fs.Parse(args); err != nil {
		return &exitError{Code: 2}
	}
	switch {
	case fs.NArg() > 0:
		return usageError("match bench takes no arguments, only flags")
	case c.Indicators < 1 || c.Lines < 1:
		return usageError("--indicators and --lines must be at least 1")
	case c.HitRate < 0 || c.HitRate > 1:
		return usageError("--hit-rate %g: want a fraction from 0 to 1", c.HitRate)
	}
	if err := bench.Run(ctx, env.Stdout, c); err != nil {
		return &exitError{Code: 2, Err: err}
	}
	return nil
}
