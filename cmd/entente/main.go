// Command entente runs an Entente node and its tools: the TAXII 2.1 server,
// account and collection administration, STIX pattern checks, agreements and
// policy, and detection over the agency's own logs.
//
// Every subcommand runs through run, which takes its streams from an Env and
// returns an exit code, so the whole command line is tested in-process.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Env is what a command sees of its process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// exitError makes a command end with a given exit code. A nil Err ends it
// silently (as "no match" does); otherwise Err is printed to stderr.
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *exitError) Unwrap() error { return e.Err }

// usageError is a mistake in the command line itself; it exits with 2.
func usageError(format string, args ...any) error {
	return &exitError{Code: 2, Err: fmt.Errorf(format, args...)}
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run a node: TAXII 2.1 over HTTPS on an embedded store", runServe},
		{"user", "manage accounts and their rights (user add, grant, revoke)", runUser},
		{"collection", "manage collections (collection add)", runCollection},
		{"pattern", "check STIX patterns and match them against observations", runPattern},
		{"keygen", "create an Ed25519 key for a party or a node", runKeygen},
		{"agreement", "sign and verify agreements", runAgreement},
		{"policy", "explain what the agreement's policy decides for an object", runPolicy},
		{"match", "match shared indicators against Suricata, Zeek or JSON logs", runMatch},
		{"export", "write indicators as Suricata rules, Zeek Intel, Sigma or YARA", runExport},
		{"ledger", "verify, list and prove the node's ledger; check a proof offline", runLedger},
		{"witness", "list or resume the partner logs the node suspended as their witness", runWitness},
		{"partner", "share collections with partner parties (partner share, unshare, list)", runPartner},
		{"partners", "show the health of the links to partner nodes", runPartners},
		{"import", "import MISP events and feeds, or STIX 2.0 bundles, into a collection", runImport},
		{"case", "open, list, show and step treaty cases (case new, list, show, step)", runCase},
		{"compliance", "the compliance record of a period from both parties' ledgers (compliance report)", runCompliance},
		{"demo", "run three nodes of the trilateral example agreement on loopback and show their exchanges", runDemo},
		{"store", "copy a node from its SQLite store to PostgreSQL (store copy)", runStore},
		{"tls", "check that a certificate is a node's browser certificate (tls verify)", runTLS},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns its exit code.
func run(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		if err == nil {
			return 0
		}
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.Err != nil {
				fmt.Fprintf(env.Stderr, "entente %s: %v\n", c.name, ee.Err)
			}
			return ee.Code
		}
		fmt.Fprintf(env.Stderr, "entente %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(env.Stderr, "entente: unknown command %q; run 'entente help' for the list\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: entente <command> [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
}
