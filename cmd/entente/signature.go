package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/entente/entente/signature"
)

// checkSignature implements "entente pattern check --type LANG RULE": it
// parses a detection rule as ingest does, and exits 2 with the error's line
// and column, or prints how many rules it read.
func checkSignature(env *Env, args []string) error {
	fs := flag.NewFlagSet("pattern check", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	typ := fs.String("type", "stix", "the pattern's language: stix, "+strings.Join(signature.Languages, ", "))
	if err := fs.Parse(args); err != nil {
		return &exitError{Code: 2}
	}
	if fs.NArg() != 1 {
		return usageError("usage: entente pattern check --type %s PATTERN (quote the rule as one argument, or give - to read stdin)", *typ)
	}
	src := fs.Arg(0)
	if src == "-" {
		if env.Stdin == nil {
			return usageError("no standard input to read the rule from")
		}
		data, err := io.ReadAll(io.LimitReader(env.Stdin, maxBundleSize))
		if err != nil {
			return &exitError{Code: 2, Err: err}
		}
		src = string(data)
	}
	switch {
	case *typ == "stix":
		p, err := parsePattern(src)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, p)
		return nil
	case !slices.Contains(signature.Languages, *typ):
		return usageError("--type %q: want stix, %s", *typ, strings.Join(signature.Languages, ", "))
	}
	n, err := countRules(*typ, src)
	if err != nil {
		var e *signature.Error
		if errors.As(err, &e) {
			line := src
			for range e.Line - 1 {
				_, line, _ = strings.Cut(line, "\n")
			}
			line, _, _ = strings.Cut(line, "\n")
			if len(line) <= 200 && e.Column <= len(line)+1 {
				shown := strings.ReplaceAll(line, "\t", " ")
				err = fmt.Errorf("invalid rule: %w\n  %s\n  %s^", err, shown, strings.Repeat(" ", e.Column-1))
			}
		}
		return &exitError{Code: 2, Err: err}
	}
	fmt.Fprintf(env.Stdout, "valid %s: %d rule(s)\n", *typ, n)
	return nil
}

func countRules(lang, src string) (int, error) {
	switch lang {
	case "suricata":
		rs, err := signature.ParseSuricata(src)
		return len(rs), err
	case "snort":
		rs, err := signature.ParseSnort(src)
		return len(rs), err
	case "sigma":
		_, err := signature.ParseSigma(src)
		return 1, err
	default:
		y, err := signature.ParseYARA(src)
		if err != nil {
			return 0, err
		}
		return len(y.Rules), nil
	}
}
