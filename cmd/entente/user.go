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

// runUser runs "entente user add --data DIR NAME --role admin|analyst|reader".
// It works while serve runs on the same directory: the store serializes
// writers across processes.
func runUser(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(env.Stderr, "usage: entente user add --data DIR NAME --role admin|analyst|reader")
		if len(args) == 0 {
			return usageError("missing subcommand")
		}
		return usageError("unknown subcommand %q; the one there is: add", args[0])
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: entente user add --data DIR NAME --role admin|analyst|reader")
		fmt.Fprintln(fs.Output(), "\nCreates an account and prints its token alone on the last line. The token is shown only now.")
		fs.PrintDefaults()
	}
	dir := fs.String("data", defaultDataDir, "the node's data `directory`")
	role := fs.String("role", "", "the account's `role`: admin (everything), analyst (read and write collections) or reader (read only)")
	pos, err := parseArgs(fs, args[1:], "NAME")
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

	st, err := openStore(ctx, *dir, false)
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
	fmt.Fprintf(env.Stdout, "created %s account %q; its token is shown only now:\n", *role, name)
	fmt.Fprintln(env.Stdout, token)
	return nil
}
