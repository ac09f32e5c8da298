package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/entente/entente/store/postgres"
	"github.com/entente/entente/store/sqlite"
)

const storeSynopsis = "usage: entente store copy --from sqlite:DIR --to postgres://URL"

// runStore runs "entente store copy": it moves a node from its SQLite
// store to PostgreSQL with its ledger intact, and verifies the copy.
func runStore(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "copy" {
		fmt.Fprintln(env.Stderr, storeSynopsis)
		if len(args) == 0 {
			return usageError("missing subcommand")
		}
		return usageError("unknown subcommand %q; the one there is: copy", args[0])
	}
	flags := flag.NewFlagSet("store copy", flag.ContinueOnError)
	flags.SetOutput(env.Stderr)
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), storeSynopsis)
		fmt.Fprintln(flags.Output(), "\nCopies a node's SQLite store (in its data directory DIR) into an empty PostgreSQL database, in one")
		fmt.Fprintln(flags.Output(), "transaction, keeping sequence numbers, date_added values, accounts, statuses, the ledger and its")
		fmt.Fprintln(flags.Output(), "checkpoints, the provenance of object versions, shares, disclosures, partner cursors, link health,")
		fmt.Fprintln(flags.Output(), "alerts and fired case alarms; then verifies the copied ledger as 'entente ledger verify' does. Stop the node first:")
		fmt.Fprintln(flags.Output(), "what it writes during the copy is not copied. Then serve with --data DIR --store URL.")
		flags.PrintDefaults()
	}
	from := flags.String("from", "", "the source: sqlite:`DIR`, a node's data directory")
	to := flags.String("to", "", "the target: a postgres:// `URL` of an empty database")
	if _, err := parseArgs(flags, args[1:]); err != nil {
		return err
	}
	dir, ok := strings.CutPrefix(*from, "sqlite:")
	if !ok || dir == "" {
		return usageError("--from %q: want sqlite:DIR, the data directory of a node that keeps its store in SQLite", *from)
	}
	if !strings.HasPrefix(*to, "postgres://") && !strings.HasPrefix(*to, "postgresql://") {
		return usageError("--to %q: want a postgres:// URL of an empty database", redactURL(*to))
	}
	if _, err := os.Stat(filepath.Join(dir, keyFile)); err != nil {
		return fmt.Errorf("%s holds no node key: %w; give the data directory of a node (--from sqlite:DIR)", dir, err)
	}
	path := filepath.Join(dir, dbFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s holds no SQLite store (%s); give the data directory of a node (--from sqlite:DIR)", dir, dbFile)
	}
	// Opening the store brings its schema to this version's, whose tables
	// the copy reads.
	src, err := sqlite.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("opening the source: %w", err)
	}
	src.Close()
	raw, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath(),
		RawQuery: "mode=ro&_pragma=busy_timeout(10000)"}).String())
	if err != nil {
		return fmt.Errorf("opening the source: %w", err)
	}
	defer raw.Close()
	// One read transaction: a consistent snapshot of the source.
	tx, err := raw.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("reading the source: %w", err)
	}
	defer tx.Rollback()
	var issued int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'objects'), 0)`).Scan(&issued); err != nil {
		return fmt.Errorf("reading the source: %w", err)
	}

	dst, err := postgres.Open(ctx, *to)
	if err != nil {
		return fmt.Errorf("opening the target %s: %w", redactURL(*to), err)
	}
	counts, err := dst.Import(ctx, tx, issued)
	dst.Close()
	if err != nil {
		return err
	}
	tables := make([]string, 0, len(counts))
	for t := range counts {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	for _, t := range tables {
		fmt.Fprintf(env.Stdout, "copied %d rows of %s\n", counts[t], t)
	}
	// The copy's ledger, verified against the node key and every object.
	return ledgerVerify(ctx, env, []string{"--data", dir, "--store", *to})
}
