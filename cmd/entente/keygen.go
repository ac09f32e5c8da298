package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/node"
)

// runKeygen implements "entente keygen [-o FILE] NAME": it creates an
// Ed25519 key in the C2SP signed-note format, writes the private key to
// FILE and prints the public key, which goes into the agreement (as a
// party's or node's key) and verifies the key's signatures.
func runKeygen(ctx context.Context, env *Env, args []string) error {
	fset := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fset.SetOutput(env.Stderr)
	out := fset.String("o", "", "write the private key to `FILE` (default NAME.key)")
	fset.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: entente keygen [-o FILE] NAME")
		fmt.Fprintln(env.Stderr, "Creates a party or node key; prints its public key on stdout.")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		return &exitError{Code: 2}
	}
	if fset.NArg() != 1 {
		fset.Usage()
		return &exitError{Code: 2}
	}
	name := fset.Arg(0)
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return err
	}
	// GenerateKey does not check the name; a key with a name that the
	// signed-note format rejects could never verify anything.
	if _, err := note.NewVerifier(vkey); err != nil {
		return usageError("invalid key name %q: use text without spaces or '+'", name)
	}
	path := *out
	if path == "" {
		path = name + ".key"
	}
	// O_EXCL: overwriting a key would orphan every signature it made.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; choose another file with -o, or remove it if the key is no longer used", path)
	}
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, skey); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "private key written to %s; keep it secret\n", path)
	// A node key also gives the node's witness key; the agreement pins
	// it as the node's witness_key.
	k, err := node.ParseKey(skey)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "witness key (a node's witness_key in the agreement): %s\n", k.WitnessVerifierKey())
	fmt.Fprintln(env.Stdout, vkey)
	return nil
}
