package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"time"

	"github.com/entente/entente/export"
	"github.com/entente/entente/store"
)

// exportConfig is the configuration of entente export, from its flags.
type exportConfig struct {
	// Data is the node's data directory.
	Data string
	// APIRoot and Collection name the collection; the API root defaults to
	// the node's first. Collection is an id or an alias.
	APIRoot, Collection string
	// Format is one of export.Formats; Hash the list suricata-datasets
	// writes.
	Format, Hash string
	// Out is the file to write (default stdout); Report the file for the
	// report of what was left out (default stderr).
	Out, Report string
}

// runExport implements "entente export --data DIR --collection ID --format
// F": it writes the collection's live indicators in format F to stdout,
// and reports on stderr (or --report) what it left out and why. Exit
// status 0 when it wrote, 2 when it could not run.
func runExport(ctx context.Context, env *Env, args []string) error {
	var c exportConfig
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: entente export --data DIR [--store URL] --collection ID --format suricata|suricata-datasets|zeek-intel|sigma|yara [--hash md5|sha1|sha256] [--out FILE] [--report FILE]")
		fmt.Fprintln(env.Stderr, "\nWrites the collection's indicators for sensors; expired and revoked ones are left out,")
		fmt.Fprintln(env.Stderr, "and those the format cannot express are listed in the report (stderr by default).")
		fmt.Fprintln(env.Stderr, "suricata-datasets writes the hash list that the suricata format's file-hash rules load")
		fmt.Fprintf(env.Stderr, "(%s, %s, %s): name it with --hash.\n", export.ListFile("md5"), export.ListFile("sha1"), export.ListFile("sha256"))
		fs.PrintDefaults()
	}
	dir, storeURL := dataFlags(fs)
	fs.StringVar(&c.APIRoot, "api-root", "", "the API root `path` (default: the node's first)")
	fs.StringVar(&c.Collection, "collection", "", "the collection's `id` or alias")
	fs.StringVar(&c.Format, "format", "", "suricata, suricata-datasets, zeek-intel, sigma or yara")
	fs.StringVar(&c.Hash, "hash", "", "the hash list suricata-datasets writes: md5, sha1 or sha256")
	fs.StringVar(&c.Out, "out", "", "write to this `file` (default: standard output)")
	fs.StringVar(&c.Report, "report", "", "write the report to this `file` (default: standard error)")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	c.Data = *dir
	format, err := export.ParseFormat(c.Format)
	switch {
	case c.Format == "":
		return usageError("--format is required: suricata, suricata-datasets, zeek-intel, sigma or yara")
	case err != nil:
		return usageError("--format: %v", err)
	case c.Collection == "":
		return usageError("--collection is required: the id or alias of the collection to export")
	case format == export.SuricataDatasets && c.Hash == "":
		return usageError("--format suricata-datasets needs --hash md5, sha1 or sha256: the list to write")
	case format != export.SuricataDatasets && c.Hash != "":
		return usageError("--hash applies to --format suricata-datasets only")
	}

	st, err := openStore(ctx, c.Data, *storeURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	col, err := findCollection(ctx, st, c.APIRoot, c.Collection)
	if err != nil {
		return err
	}
	out := env.Stdout
	if c.Out != "" {
		f, err := os.Create(c.Out)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	report, err := exportObjects(out, export.Config{Format: format, Now: time.Now(), Source: col.APIRoot + "/" + c.Collection, Hash: c.Hash},
		storeIndicators(ctx, st, col.ID))
	if err != nil {
		return err
	}
	rw := env.Stderr
	if c.Report != "" {
		f, err := os.Create(c.Report)
		if err != nil {
			return err
		}
		defer f.Close()
		rw = f
	}
	_, err = report.WriteTo(rw)
	return err
}

// exportObjects writes objects in one format to w.
func exportObjects(w io.Writer, cfg export.Config, objects iter.Seq2[[]byte, error]) (*export.Report, error) {
	x, err := export.NewWriter(w, cfg)
	if err != nil {
		return nil, err
	}
	for raw, err := range objects {
		if err != nil {
			return nil, err
		}
		if err := x.Add(raw); err != nil {
			return nil, err
		}
	}
	return x.Close()
}

// storeIndicators yields the latest version of each indicator of a
// collection, in store order. The next page is read while the caller works
// on the current one, so that an export costs little more than the read.
func storeIndicators(ctx context.Context, st store.Store, collection string) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		type page struct {
			objs []store.Object
			err  error
		}
		pages := make(chan page, 1)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			defer close(pages)
			q := store.Query{Collection: collection, Types: []string{"indicator"}, Limit: 1000}
			for {
				p, err := st.Objects(ctx, q)
				if err != nil {
					err = fmt.Errorf("reading collection %s: %w", collection, err)
				}
				select {
				case pages <- page{p.Objects, err}:
				case <-ctx.Done():
					return
				}
				if err != nil || !p.More || len(p.Objects) == 0 {
					return
				}
				q.After = p.Objects[len(p.Objects)-1].Seq
			}
		}()
		for p := range pages {
			if p.err != nil {
				yield(nil, p.err)
				return
			}
			for _, o := range p.objs {
				if !yield(o.Raw, nil) {
					return
				}
			}
		}
	}
}

// findCollection finds a collection by id or alias in an API root, the
// node's first when root is "".
func findCollection(ctx context.Context, st store.Store, root, idOrAlias string) (store.Collection, error) {
	if root == "" {
		roots, err := st.APIRoots(ctx)
		if err != nil {
			return store.Collection{}, fmt.Errorf("reading API roots: %w", err)
		}
		if len(roots) == 0 {
			return store.Collection{}, errors.New("the node has no API root; run 'entente serve' once to initialize it")
		}
		root = roots[0].Path
	}
	col, err := st.Collection(ctx, root, idOrAlias)
	if err == nil {
		return col, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.Collection{}, err
	}
	cols, err := st.Collections(ctx, root)
	if err != nil {
		return store.Collection{}, err
	}
	for _, c := range cols {
		if c.Alias != "" && c.Alias == idOrAlias {
			return c, nil
		}
	}
	return store.Collection{}, usageError("API root %q has no collection %q; 'entente collection add' creates one", root, idOrAlias)
}
