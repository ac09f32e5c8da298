package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/entente/entente/stix/pattern"
)

// maxBundleSize bounds what "pattern match" reads, so that a mistaken
// FILE (a disk image, /dev/zero) fails cleanly instead of exhausting memory.
const maxBundleSize = 256 << 20

// runPattern implements "entente pattern check PATTERN" and "entente
// pattern match PATTERN FILE" (DESIGN.md §5).
func runPattern(ctx context.Context, env *Env, args []string) error {
	fset := flag.NewFlagSet("pattern", flag.ContinueOnError)
	fset.SetOutput(env.Stderr)
	fset.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: entente pattern check [--type stix|suricata|snort|sigma|yara] PATTERN")
		fmt.Fprintln(env.Stderr, "       entente pattern match PATTERN FILE")
		fmt.Fprintln(env.Stderr, "check prints the canonical form of PATTERN and exits 0 if it is a valid")
		fmt.Fprintln(env.Stderr, "STIX 2.1 pattern; otherwise it shows the error's position and exits 2.")
		fmt.Fprintln(env.Stderr, "With --type, it checks a Suricata, Snort, Sigma or YARA rule instead ('-' reads")
		fmt.Fprintln(env.Stderr, "it from stdin) and prints the number of rules.")
		fmt.Fprintln(env.Stderr, "match evaluates PATTERN against the observed-data in the STIX bundle FILE")
		fmt.Fprintln(env.Stderr, "('-' for stdin), prints one JSON line, and exits 0 on a match, 1 on none,")
		fmt.Fprintln(env.Stderr, "2 on an invalid pattern or bundle.")
	}
	if err := fset.Parse(args); err != nil {
		return &exitError{Code: 2}
	}
	rest := fset.Args()
	if len(rest) == 0 {
		fset.Usage()
		return &exitError{Code: 2}
	}
	switch rest[0] {
	case "check":
		if len(rest) > 1 && strings.HasPrefix(rest[1], "-") && rest[1] != "-" {
			return checkSignature(env, rest[1:])
		}
		if len(rest) != 2 {
			return usageError("usage: entente pattern check PATTERN (quote the pattern as one argument)")
		}
		p, err := parsePattern(rest[1])
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, p)
		return nil
	case "match":
		if len(rest) != 3 {
			return usageError("usage: entente pattern match PATTERN FILE (quote the pattern as one argument)")
		}
		p, err := parsePattern(rest[1])
		if err != nil {
			return err
		}
		return matchPattern(env, p, rest[2])
	}
	return usageError("unknown pattern subcommand %q: use check or match", rest[0])
}

// parsePattern parses a pattern, turning a syntax error into exit status 2
// with the pattern shown and the position marked.
func parsePattern(src string) (*pattern.Pattern, error) {
	p, err := pattern.Parse(src)
	if err == nil {
		return p, nil
	}
	var perr *pattern.Error
	if errors.As(err, &perr) && !strings.ContainsAny(src, "\n\r") && utf8.ValidString(src) {
		// Columns count runes, and tabs become spaces so the caret lines up.
		shown := strings.ReplaceAll(src, "\t", " ")
		col := utf8.RuneCountInString(src[:perr.Pos])
		err = fmt.Errorf("invalid pattern: %w\n  %s\n  %s^", err, shown, strings.Repeat(" ", col))
	} else {
		err = fmt.Errorf("invalid pattern: %w", err)
	}
	return nil, &exitError{Code: 2, Err: err}
}

// matchResult is the JSON line "pattern match" prints.
type matchResult struct {
	Matched bool `json:"matched"`
	// ObservedData lists the ids of the observed-data in the match, each
	// once, in bundle order.
	ObservedData []string `json:"observed_data,omitempty"`
	// Bindings pairs each "[…]" of the pattern with the observed-data and
	// object that satisfied it.
	Bindings []matchBinding `json:"bindings,omitempty"`
	// Truncated reports a no-match reached at the evaluator's work limits,
	// where a match may have been missed.
	Truncated bool `json:"truncated,omitempty"`
}

type matchBinding struct {
	Expression   string `json:"expression"`
	ObservedData string `json:"observed_data"`
	Object       string `json:"object"`
}

func matchPattern(env *Env, p *pattern.Pattern, file string) error {
	var r io.Reader = env.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return &exitError{Code: 2, Err: err}
		}
		defer f.Close()
		r = f
	} else if r == nil {
		return usageError("no standard input to read the bundle from")
	}
	data, err := io.ReadAll(io.LimitReader(r, maxBundleSize+1))
	if err != nil {
		return &exitError{Code: 2, Err: fmt.Errorf("reading %s: %w", file, err)}
	}
	if len(data) > maxBundleSize {
		return &exitError{Code: 2, Err: fmt.Errorf("%s is larger than %d MiB; split the bundle", file, maxBundleSize>>20)}
	}
	obs, err := pattern.ObservationsFromBundle(data)
	if err != nil {
		return &exitError{Code: 2, Err: fmt.Errorf("%s: %w", file, err)}
	}
	res, ok := p.Match(obs)
	out := matchResult{Matched: ok, Truncated: res.Truncated}
	used := make([]bool, len(obs))
	for _, b := range res.Bindings {
		used[b.Observation] = true
		out.Bindings = append(out.Bindings, matchBinding{
			Expression:   (&pattern.Pattern{Expr: b.Expr}).String(),
			ObservedData: obs[b.Observation].ID,
			Object:       b.Root,
		})
	}
	for i, u := range used {
		if u {
			out.ObservedData = append(out.ObservedData, obs[i].ID)
		}
	}
	line, err := json.Marshal(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s\n", line)
	if !ok {
		return &exitError{Code: 1}
	}
	return nil
}
