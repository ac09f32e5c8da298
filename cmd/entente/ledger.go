package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
)

const ledgerSynopsis = `usage:
  entente ledger verify --data DIR [--store URL] [--log-name NAME]
  entente ledger show --data DIR [--store URL] [--from N] [--limit N]
  entente ledger prove --data DIR [--store URL] [--version V] OBJECT-ID
  entente ledger check (--agreement FILE --node ID | --key VKEY [--origin NAME]) [--checkpoint FILE] [--proof FILE]`

// runLedger runs "entente ledger verify|show|prove|check". Exit codes: 0
// when all agree, 1 when something does not match, 2 for a usage or I/O
// error.
func runLedger(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, ledgerSynopsis)
		return usageError("missing subcommand")
	}
	switch args[0] {
	case "verify":
		return ledgerVerify(ctx, env, args[1:])
	case "show":
		return ledgerShow(ctx, env, args[1:])
	case "prove":
		return ledgerProve(ctx, env, args[1:])
	case "check":
		return ledgerCheck(env, args[1:])
	}
	fmt.Fprintln(env.Stderr, ledgerSynopsis)
	return usageError("unknown subcommand %q; the ones there are: verify, show, prove, check", args[0])
}

// ioError makes err exit with 2: the command could not do its check.
func ioError(err error) error { return &exitError{Code: 2, Err: err} }

func ledgerFlags(env *Env, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("ledger "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), synopsis)
		fmt.Fprintln(fs.Output(), "\n"+about)
		fs.PrintDefaults()
	}
	return fs
}

// openLedger opens a node's store and reads its node key from its data
// directory.
func openLedger(ctx context.Context, dir, storeURL string) (store.Store, *node.Key, error) {
	data, err := os.ReadFile(filepath.Join(dir, keyFile))
	if err != nil {
		return nil, nil, ioError(fmt.Errorf("reading the node key: %w; give the data directory of a node (--data)", err))
	}
	key, err := node.ParseKey(string(data))
	if err != nil {
		return nil, nil, ioError(fmt.Errorf("%s: %w", filepath.Join(dir, keyFile), err))
	}
	st, err := openStore(ctx, dir, storeURL, false)
	if err != nil {
		return nil, nil, ioError(err)
	}
	return st, key, nil
}

func ledgerVerify(ctx context.Context, env *Env, args []string) error {
	fs := ledgerFlags(env, "verify", "usage: entente ledger verify --data DIR [--store URL] [--log-name NAME]",
		"Recomputes the node's ledger from its store and checks it against every signed checkpoint\n"+
			"and every stored object version. Exits 0 when all agree, 1 naming the first entry that\n"+
			"does not, 2 when the store cannot be read.")
	dir, storeURL := dataFlags(fs)
	logName := fs.String("log-name", "", "the log `name` every checkpoint must carry (default: any, as signed by the node key)")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	st, key, err := openLedger(ctx, *dir, *storeURL)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := note.NewVerifier(key.VerifierKey)
	if err != nil {
		return ioError(err)
	}
	rep, err := node.VerifyLedger(ctx, st, v, *logName)
	if err != nil {
		return ioError(fmt.Errorf("reading the ledger: %w", err))
	}
	if len(rep.Problems) > 0 {
		for _, p := range rep.Problems {
			fmt.Fprintln(env.Stdout, p)
		}
		return &exitError{Code: 1, Err: fmt.Errorf("%d problems; the first: %s", len(rep.Problems), rep.Problems[0])}
	}
	fmt.Fprintf(env.Stdout, "ok: %d entries, %d checkpoints (latest of size %d) signed by %s, %d object versions with their entries\n",
		rep.Size, rep.Checkpoints, rep.Latest, key.Name, rep.Objects)
	return nil
}

func ledgerShow(ctx context.Context, env *Env, args []string) error {
	fs := ledgerFlags(env, "show", "usage: entente ledger show --data DIR [--store URL] [--from N] [--limit N]",
		"Lists the ledger's entries, one per line: index, kind, object, time, the parties it concerns.")
	dir, storeURL := dataFlags(fs)
	from := fs.Int64("from", 0, "the first entry `index` to list")
	limit := fs.Int64("limit", 0, "list at most `N` entries (0: all)")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if *from < 0 || *limit < 0 {
		return usageError("--from and --limit must not be negative")
	}
	st, _, err := openLedger(ctx, *dir, *storeURL)
	if err != nil {
		return err
	}
	defer st.Close()
	size, err := st.LedgerSize(ctx)
	if err != nil {
		return ioError(err)
	}
	end := size
	if *limit > 0 {
		end = min(size, *from+*limit)
	}
	fmt.Fprintln(env.Stdout, "index\tkind\tobject\ttime\tconcerns")
	for i := *from; i < end; i += 1000 {
		recs, err := st.LedgerRecords(ctx, i, min(i+1000, end))
		if err != nil {
			return ioError(err)
		}
		for _, r := range recs {
			fmt.Fprintln(env.Stdout, node.DescribeEntry(r))
		}
	}
	return nil
}

func ledgerProve(ctx context.Context, env *Env, args []string) error {
	fs := ledgerFlags(env, "prove", "usage: entente ledger prove --data DIR [--store URL] [--agreement FILE --node ID] [--version V] OBJECT-ID",
		"Prints, as a C2SP tlog-proof on stdout, the entry that records the object's latest stored\n"+
			"version (or --version), its opening and its inclusion proof. With --agreement and --node,\n"+
			"the proof is against the newest checkpoint cosigned as the agreement's witness policy asks,\n"+
			"the one a partner relies on; without them, against the newest checkpoint.\n"+
			"The entry is described on stderr. 'entente ledger check' verifies the proof offline.")
	dir, storeURL := dataFlags(fs)
	version := fs.String("version", "", "the object `version` (its modified timestamp as stored) to prove")
	agreementFile := fs.String("agreement", "", "the signed agreement `file`: prove against a checkpoint its witness policy accepts")
	nodeID := fs.String("node", "", "this node's `id` in the agreement")
	pos, err := parseArgs(fs, args, "OBJECT-ID")
	if err != nil {
		return err
	}
	if (*agreementFile == "") != (*nodeID == "") {
		return usageError("--agreement and --node go together: the agreement, and this node's id in it")
	}
	var final func([]byte) bool
	if *agreementFile != "" {
		n, policy, err := agreementNode(*agreementFile, *nodeID)
		if err != nil {
			return err
		}
		v, err := note.NewVerifier(n.Key)
		if err != nil {
			return usageError("%s: node %s: key %q: %v", *agreementFile, n.ID, n.Key, err)
		}
		final = func(msg []byte) bool {
			_, err := policy.Final(msg, n.Log, v)
			return err == nil
		}
	}
	st, _, err := openLedger(ctx, *dir, *storeURL)
	if err != nil {
		return err
	}
	defer st.Close()
	p, op, err := node.ProveObject(ctx, st, pos[0], *version, final)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, node.ErrNotCheckpointed), errors.Is(err, node.ErrNotFinal):
		return err
	case err != nil:
		return ioError(err)
	}
	opening, err := op.MarshalBinary()
	if err != nil {
		return err
	}
	enc := opening[len(op.Salt):] // the opening is the salt, then the entry
	fmt.Fprintf(env.Stderr, "entry %d: %s\nopening (salt || entry, base64): %s\n", p.Index,
		node.DescribeEntry(store.LedgerRecord{Index: p.Index, Entry: enc}), base64.StdEncoding.EncodeToString(opening))
	_, err = env.Stdout.Write(p.Marshal())
	return err
}

func ledgerCheck(env *Env, args []string) error {
	fs := ledgerFlags(env, "check", "usage: entente ledger check (--agreement FILE --node ID | --key VKEY [--origin NAME]) [--checkpoint FILE] [--proof FILE]",
		"Verifies a proof from 'entente ledger prove' offline, with only the agreement: the node's\n"+
			"signature on its checkpoint for the log the agreement names, the cosignatures of as many of\n"+
			"the node's witnesses as the agreement asks for (witness_threshold), and the entry's\n"+
			"inclusion. Without an agreement (--key), the node's signature alone makes the checkpoint.\n"+
			"Exits 0 and prints the entry when the proof holds, 1 when it does not, 2 for a usage or\n"+
			"I/O error.")
	agreementFile := fs.String("agreement", "", "the signed agreement `file` that lists the node: its key, log name and witness policy")
	nodeID := fs.String("node", "", "the node's `id` in the agreement")
	vkey := fs.String("key", "", "the node's signed-note verifier `key`, for a node without an agreement")
	origin := fs.String("origin", "", "with --key, the log `name` the checkpoint must carry (default: the one the node signed)")
	checkpointFile := fs.String("checkpoint", "", "a signed checkpoint `file` you hold; the proof must be against it")
	proofFile := fs.String("proof", "-", "the proof `file` (- for stdin)")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	switch {
	case (*agreementFile == "") == (*vkey == ""):
		return usageError("give either --agreement FILE with --node ID, or --key VKEY")
	case *agreementFile != "" && *nodeID == "":
		return usageError("--agreement needs --node ID: the node whose log the proof is about")
	case *agreementFile != "" && *origin != "":
		return usageError("--origin goes with --key; with --agreement the log name is the node's log in the agreement")
	}
	key, logName := *vkey, *origin
	// Without an agreement there are no witnesses: the node's own
	// signature is what makes a checkpoint.
	var policy ledger.Policy
	if *agreementFile != "" {
		n, p, err := agreementNode(*agreementFile, *nodeID)
		if err != nil {
			return err
		}
		key, logName, policy = n.Key, n.Log, p
	}
	v, err := note.NewVerifier(key)
	if err != nil {
		return usageError("the node key %q: %v", key, err)
	}
	var text []byte
	if *proofFile == "-" {
		text, err = io.ReadAll(env.Stdin)
	} else {
		text, err = os.ReadFile(*proofFile)
	}
	if err != nil {
		return ioError(fmt.Errorf("reading the proof: %w", err))
	}
	var pinned []byte
	if *checkpointFile != "" {
		if pinned, err = os.ReadFile(*checkpointFile); err != nil {
			return ioError(fmt.Errorf("reading the checkpoint: %w", err))
		}
	}
	op, cp, err := node.CheckProof(text, v, logName, policy, pinned)
	if errors.Is(err, ledger.ErrNotFinal) {
		return &exitError{Code: 1, Err: fmt.Errorf("the proof does not hold: %w: the agreement asks for %d of the node's %d witnesses; ask the node for a proof once its checkpoint is cosigned",
			err, policy.Threshold, len(policy.Witnesses))}
	}
	if err != nil {
		return &exitError{Code: 1, Err: fmt.Errorf("the proof does not hold: %w", err)}
	}
	enc, err := op.Entry.Encode()
	if err != nil {
		return err
	}
	p, _ := ledger.ParseProof(text) // VerifyProof parsed it already
	cosigned := ""
	if policy.Threshold > 0 {
		cosigned = fmt.Sprintf(", cosigned by at least %d of its %d witnesses", policy.Threshold, len(policy.Witnesses))
	}
	fmt.Fprintf(env.Stdout, "ok: entry %d of %s at size %d, signed by %s%s\n%s\n", p.Index, cp.Origin, cp.N, v.Name(), cosigned,
		node.DescribeEntry(store.LedgerRecord{Index: p.Index, Entry: enc}))
	return nil
}

// agreementNode finds a node in an agreement file the parties signed, and
// the witness policy that makes its checkpoints final.
func agreementNode(file, id string) (*agreement.Node, ledger.Policy, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, ledger.Policy{}, ioError(fmt.Errorf("reading the agreement: %w", err))
	}
	a, err := agreement.Parse(data)
	if err != nil {
		return nil, ledger.Policy{}, ioError(fmt.Errorf("%s: %w", file, err))
	}
	// The key, log name and witnesses are trusted because the parties
	// signed them.
	if err := a.VerifySignatures(); err != nil {
		return nil, ledger.Policy{}, &exitError{Code: 1, Err: fmt.Errorf("%s: %w", file, err)}
	}
	_, n, ok := a.Node(id)
	if !ok {
		var ids []string
		for _, p := range a.Parties {
			for _, n := range p.Nodes {
				ids = append(ids, n.ID)
			}
		}
		return nil, ledger.Policy{}, usageError("%s lists no node %q; its nodes are %q", file, id, ids)
	}
	policy, err := a.WitnessPolicy(n)
	if err != nil {
		return nil, ledger.Policy{}, ioError(fmt.Errorf("%s: %w", file, err))
	}
	return n, policy, nil
}
