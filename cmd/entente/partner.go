package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
)

const partnerSynopsis = `usage: entente partner share --data DIR --agreement FILE PARTY COLLECTION --right read|write
       entente partner unshare --data DIR PARTY COLLECTION --right read|write
       entente partner list --data DIR [PARTY]`

// runPartner runs the commands that decide what partner parties may read
// and write. Nothing is shared by default. They work while serve runs on
// the same directory: the node reads the shares on every request.
func runPartner(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, partnerSynopsis)
		return usageError("missing subcommand")
	}
	switch args[0] {
	case "share", "unshare":
		return runPartnerShare(ctx, env, args[0], args[1:])
	case "list":
		return runPartnerList(ctx, env, args[1:])
	}
	fmt.Fprintln(env.Stderr, partnerSynopsis)
	return usageError("unknown subcommand %q; the ones there are: share, unshare, list", args[0])
}

// runPartnerShare runs "entente partner share|unshare". Sharing what is
// shared already, or unsharing what is not, changes nothing and is not an
// error, so that scripts can repeat it.
func runPartnerShare(ctx context.Context, env *Env, verb string, args []string) error {
	fs := flag.NewFlagSet("partner "+verb, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		if verb == "share" {
			fmt.Fprintln(fs.Output(), "usage: entente partner share --data DIR --agreement FILE PARTY COLLECTION --right read|write")
			fmt.Fprintln(fs.Output(), "\nLets the nodes of a partner party read a collection (by id or alias), or write into it (its inbox),\nas far as the agreement's rules allow. PARTY must be another party to the agreement.")
		} else {
			fmt.Fprintln(fs.Output(), "usage: entente partner unshare --data DIR PARTY COLLECTION --right read|write")
			fmt.Fprintln(fs.Output(), "\nTakes a share away from a partner party, from its nodes' next request on.")
		}
		fs.PrintDefaults()
	}
	dir := fs.String("data", defaultDataDir, "the node's data `directory`")
	right := fs.String("right", "", "what the party may do: `read` the collection, or write into it")
	var agreementFile *string
	if verb == "share" {
		agreementFile = fs.String("agreement", "", "the signed agreement `file` that names the party")
	}
	pos, err := parseArgs(fs, args, "PARTY", "COLLECTION")
	if err != nil {
		return err
	}
	party, collection := pos[0], pos[1]
	r := store.Right(*right)
	switch {
	case *right == "":
		return usageError("--right is missing; give --right read (the party's nodes read the collection) or --right write (they add objects to it)")
	case r != store.RightRead && r != store.RightWrite:
		return usageError("--right %q is not read or write; give --right read or --right write", *right)
	case agreementFile != nil && *agreementFile == "":
		return usageError("--agreement is missing; give the signed agreement file that names party %q", party)
	}

	var (
		a    *agreement.Agreement
		self string
	)
	if agreementFile != nil {
		if a, self, err = loadPartnerAgreement(*agreementFile, *dir); err != nil {
			return err
		}
	}
	st, err := openStore(ctx, *dir, false)
	if err != nil {
		return err
	}
	defer st.Close()
	var (
		col     store.Collection
		changed bool
	)
	if verb == "share" {
		col, changed, err = node.Share(ctx, st, a, self, party, collection, r)
	} else {
		col, changed, err = node.Unshare(ctx, st, party, collection, r)
	}
	switch {
	case errors.Is(err, node.ErrNoParty):
		return fmt.Errorf("%s: %w; name a party of its parties[] other than this node's own (%s)", *agreementFile, err, self)
	case errors.Is(err, node.ErrNoCollection):
		return fmt.Errorf("COLLECTION: %w; create it with 'entente collection add --data %s TITLE'", err, *dir)
	case err != nil:
		return err
	}
	what := fmt.Sprintf("%s on collection %q (%s)", r, col.Title, col.ID)
	switch {
	case verb == "share" && changed:
		fmt.Fprintf(env.Stdout, "shared %s with party %q\n", what, party)
	case verb == "share":
		fmt.Fprintf(env.Stdout, "party %q holds %s already; nothing changed\n", party, what)
	case changed:
		fmt.Fprintf(env.Stdout, "unshared %s from party %q\n", what, party)
	default:
		fmt.Fprintf(env.Stdout, "party %q did not hold %s; nothing changed\n", party, what)
	}
	return nil
}

// loadPartnerAgreement reads the agreement and finds this node's party in
// it by the node key in dir.
func loadPartnerAgreement(path, dir string) (*agreement.Agreement, string, error) {
	a, err := loadAgreement(path)
	if err != nil {
		return nil, "", err
	}
	if err := a.VerifySignatures(); err != nil {
		return nil, "", fmt.Errorf("%s: %w; share only under an agreement every party signed (check it with entente agreement verify)", path, err)
	}
	data, err := os.ReadFile(filepath.Join(dir, keyFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", fmt.Errorf("%s holds no node key; run 'entente serve --data %s' once to initialize it", dir, dir)
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading the node key: %w", err)
	}
	key, err := node.ParseKey(string(data))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", filepath.Join(dir, keyFile), err)
	}
	for _, p := range a.Parties {
		for _, n := range p.Nodes {
			if n.Key == key.VerifierKey {
				return a, p.ID, nil
			}
		}
	}
	return nil, "", fmt.Errorf("%s: no node of the agreement has this node's key %s; give the agreement this node runs under, or have it amended to pin the key",
		path, key.VerifierKey)
}

// runPartnerList runs "entente partner list --data DIR [PARTY]".
func runPartnerList(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("partner list", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: entente partner list --data DIR [PARTY]")
		fmt.Fprintln(fs.Output(), "\nLists what is shared with each partner party (or with PARTY): party, right, collection id and title.")
		fs.PrintDefaults()
	}
	dir := fs.String("data", defaultDataDir, "the node's data `directory`")
	pos, err := interspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		fs.Usage()
		return usageError("unexpected argument %q", pos[1])
	}
	party := strings.Join(pos, "")
	st, err := openStore(ctx, *dir, false)
	if err != nil {
		return err
	}
	defer st.Close()
	shares, err := st.Shares(ctx, party)
	if err != nil {
		return err
	}
	titles := map[string]string{}
	for _, s := range shares {
		if _, ok := titles[s.Collection]; !ok {
			col, err := node.FindCollection(ctx, st, s.Collection)
			if err != nil {
				return err
			}
			titles[s.Collection] = col.Title
		}
		fmt.Fprintf(env.Stdout, "%s\t%s\t%s\t%s\n", s.Party, s.Right, s.Collection, titles[s.Collection])
	}
	if len(shares) == 0 {
		fmt.Fprintln(env.Stderr, "nothing is shared; share a collection with 'entente partner share'")
	}
	return nil
}
