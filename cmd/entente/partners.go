package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/entente/entente/store"
)

// runPartners runs "entente partners --data DIR": the health of each link
// to a partner node, as the serving node last recorded it. It works while
// serve runs on the same directory.
func runPartners(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("partners", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: entente partners --data DIR")
		fmt.Fprintln(fs.Output(), "\nShows each link to a partner node: its state, when it last stored a page, how far it lags (in object")
		fmt.Fprintln(fs.Output(), "versions pulled since it was last caught up, \"+\" while the partner has more, and in seconds since then),")
		fmt.Fprintln(fs.Output(), "its errors and refusals, and the latest checkpoint of the partner's log that this node cosigned.")
		fs.PrintDefaults()
	}
	dir := fs.String("data", defaultDataDir, "the node's data `directory`")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, *dir, false)
	if err != nil {
		return err
	}
	defer st.Close()
	hs, err := st.LinkHealth(ctx)
	if err != nil {
		return err
	}
	if len(hs) == 0 {
		fmt.Fprintln(env.Stderr, "no link to a partner node has run; start serve with --agreement and --node")
		return nil
	}
	now := time.Now()
	tw := tabwriter.NewWriter(env.Stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTNER\tPARTY\tSTATE\tLAST SUCCESS\tLAG OBJECTS\tLAG SECONDS\tERRORS\tREFUSED\tCOSIGNED CHECKPOINT")
	for _, h := range hs {
		lag := strconv.FormatInt(h.Behind, 10)
		if h.Pending {
			lag += "+"
		}
		lagSeconds := "-"
		if !h.CaughtUp.IsZero() {
			lagSeconds = strconv.FormatFloat(now.Sub(h.CaughtUp).Seconds(), 'f', 0, 64)
		}
		state := h.State
		if h.Suspended != "" {
			state = "suspended"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", h.Node, h.Party, state, stamp(h.LastSuccess),
			lag, lagSeconds, h.Errors, h.Refused, cosigned(ctx, st, h.Log))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, h := range hs {
		switch {
		case h.Suspended != "":
			fmt.Fprintf(env.Stdout, "%s: %s\n", h.Node, h.Suspended)
		case h.LastError != "":
			fmt.Fprintf(env.Stdout, "%s: last error: %s\n", h.Node, h.LastError)
		}
	}
	return nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// cosigned describes the latest checkpoint of the log origin that this
// node cosigned as its witness: its size and the start of its root hash.
func cosigned(ctx context.Context, st store.Store, origin string) string {
	if origin == "" {
		return "-"
	}
	note, err := st.WitnessedCheckpoint(ctx, origin)
	if errors.Is(err, store.ErrNotFound) {
		return "none"
	}
	if err != nil {
		return "unreadable: " + err.Error()
	}
	lines := strings.SplitN(string(note), "\n", 4)
	if len(lines) < 3 {
		return "malformed"
	}
	root := lines[2]
	if len(root) > 12 {
		root = root[:12] + "…"
	}
	return "size " + lines[1] + " root " + root
}
