package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
)

// runCollection runs "entente collection add --data DIR [--store URL] TITLE [--alias ALIAS]".
// It works while serve runs on the same directory.
func runCollection(ctx context.Context, env *Env, args []string) error {
	const synopsis = "usage: entente collection add --data DIR [--store URL] TITLE [--alias ALIAS] [--api-root PATH]"
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(env.Stderr, synopsis)
		if len(args) == 0 {
			return usageError("missing subcommand")
		}
		return usageError("unknown subcommand %q; the one there is: add", args[0])
	}
	fs := flag.NewFlagSet("collection add", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), synopsis)
		fmt.Fprintln(fs.Output(), "\nCreates a collection of STIX 2.1 objects and prints its id alone on the last line.")
		fs.PrintDefaults()
	}
	dir, storeURL := dataFlags(fs)
	alias := fs.String("alias", "", "a short `name` clients may use instead of the id")
	root := fs.String("api-root", "", "the API root `path` to add to (default: the node's first API root)")
	pos, err := parseArgs(fs, args[1:], "TITLE")
	if err != nil {
		return err
	}
	title := pos[0]
	if title == "" {
		return usageError("TITLE is empty; give the collection a title")
	}

	st, err := openStore(ctx, *dir, *storeURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	if *root == "" {
		roots, err := st.APIRoots(ctx)
		if err != nil {
			return fmt.Errorf("reading API roots: %w", err)
		}
		if len(roots) == 0 {
			return fmt.Errorf("%s holds no API root; run 'entente serve --data %s' once to initialize it", *dir, *dir)
		}
		*root = roots[0].Path
	} else if _, err := st.APIRoot(ctx, *root); errors.Is(err, store.ErrNotFound) {
		return usageError("--api-root %q does not exist in %s", *root, *dir)
	} else if err != nil {
		return fmt.Errorf("reading API root %q: %w", *root, err)
	}
	id, err := node.CreateCollection(ctx, st, *root, title, *alias)
	if errors.Is(err, store.ErrExists) {
		return fmt.Errorf("API root %q has a collection with alias %q already; pick another alias", *root, *alias)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "created collection %q in API root %q:\n", title, *root)
	fmt.Fprintln(env.Stdout, id)
	return nil
}
