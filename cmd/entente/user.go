package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
)

const userSynopsis = `usage: entente user add --data DIR [--store URL] NAME --role admin|analyst|reader
       entente user grant|revoke --data DIR [--store URL] NAME COLLECTION read|write`

// runUser runs the account commands. They work while serve runs on the
// same directory: the store serializes writers across processes, and the
// node reads an account's grants on every request.
func runUser(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, userSynopsis)
		return usageError("missing subcommand")
	}
	switch args[0] {
	case "add":
		return runUserAdd(ctx, env, args[1:])
	case "grant", "revoke":
		return runUserGrant(ctx, env, args[0], args[1:])
	}
	fmt.Fprintln(env.Stderr, userSynopsis)
	return usageError("unknown subcommand %q; the ones there are: add, grant, revoke", args[0])
}

// runUserAdd runs "entente user add --data DIR [--store URL] NAME --role admin|analyst|reader".
func runUserAdd(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: entente user add --data DIR [--store URL] NAME --role admin|analyst|reader")
		fmt.Fprintln(fs.Output(), "\nCreates an account and prints its token alone on the last line. The token is shown only now.")
		fmt.Fprintln(fs.Output(), "An analyst or reader account starts with no collection; give it some with 'entente user grant'.")
		fs.PrintDefaults()
	}
	dir, storeURL := dataFlags(fs)
	role := fs.String("role", "", "the account's `role`: admin (every collection), analyst (reads and writes the collections it is granted) or reader (reads the collections it is granted)")
	pos, err := parseArgs(fs, args, "NAME")
	if err != nil {
		return err
	}
	name := pos[0]
	if err := node.ValidAccountName(name); err != nil {
		return usageError("%v", err)
	}
	if !node.ValidRole(store.Role(*role)) {
		if *role == "" {
			return usageError("--role is required: admin, analyst or reader")
		}
		return usageError("--role %q: want admin, analyst or reader", *role)
	}

	st, err := openStore(ctx, *dir, *storeURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	token, err := node.CreateAccount(ctx, st, name, store.Role(*role), time.Now())
	if errors.Is(err, store.ErrExists) {
		return fmt.Errorf("an account named %q exists already; pick another name", name)
	}
	if err != nil {
		return err
	}
	if store.Role(*role) != store.RoleAdmin {
		// Deny by default: say how to give access, on stderr so that the
		// token stays the last line of stdout.
		fmt.Fprintf(env.Stderr, "%q may use no collection yet; grant one with: entente user grant --data %s %s %s read\n",
			name, *dir, name, node.DefaultCollectionAlias)
	}
	fmt.Fprintf(env.Stdout, "created %s account %q; its token is shown only now:\n", *role, name)
	fmt.Fprintln(env.Stdout, token)
	return nil
}

// runUserGrant runs "entente user grant|revoke --data DIR [--store URL] NAME COLLECTION
// read|write". Granting a right held already, or revoking one not held,
// changes nothing and is not an error, so that scripts can repeat it.
func runUserGrant(ctx context.Context, env *Env, verb string, args []string) error {
	fs := flag.NewFlagSet("user "+verb, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: entente user %s --data DIR [--store URL] NAME COLLECTION read|write\n", verb)
		if verb == "grant" {
			fmt.Fprintln(fs.Output(), "\nLets an analyst or reader account read, or write to, a collection (by id or alias). Admins need no grants; readers never write.")
		} else {
			fmt.Fprintln(fs.Output(), "\nTakes a right on a collection (by id or alias) away from an account, from its next request on.")
		}
		fs.PrintDefaults()
	}
	dir, storeURL := dataFlags(fs)
	pos, err := parseArgs(fs, args, "NAME", "COLLECTION", "read|write")
	if err != nil {
		return err
	}
	name, collection, right := pos[0], pos[1], store.Right(pos[2])
	if err := node.ValidAccountName(name); err != nil {
		return usageError("%v", err)
	}
	if right != store.RightRead && right != store.RightWrite {
		return usageError("the right %q is not read or write; use read (list and get objects) or write (add objects)", pos[2])
	}

	st, err := openStore(ctx, *dir, *storeURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	change := node.Grant
	if verb == "revoke" {
		change = node.Revoke
	}
	col, changed, err := change(ctx, st, name, collection, right)
	switch {
	case errors.Is(err, node.ErrNoAccount):
		return fmt.Errorf("%s has no account named %q; create one with 'entente user add --data %s %s --role analyst|reader'", *dir, name, *dir, name)
	case err != nil:
		return err
	}
	what := fmt.Sprintf("%s on collection %q (%s)", right, col.Title, col.ID)
	switch {
	case verb == "grant" && changed:
		fmt.Fprintf(env.Stdout, "granted %s to %q\n", what, name)
	case verb == "grant":
		fmt.Fprintf(env.Stdout, "%q holds %s already; nothing changed\n", name, what)
	case changed:
		fmt.Fprintf(env.Stdout, "revoked %s from %q\n", what, name)
	default:
		fmt.Fprintf(env.Stdout, "%q did not hold %s; nothing changed\n", name, what)
	}
	return nil
}
