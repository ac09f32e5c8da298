package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/casework"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/ledgerhttp"
	"github.com/entente/entente/node"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
)

const caseSynopsis = `usage: entente case new  --data DIR --agreement FILE --type TYPE --to PARTY FIELDS.json
       entente case list --data DIR --agreement FILE
       entente case show --data DIR --agreement FILE ID
       entente case step --data DIR --agreement FILE ID EVENT [--ground G] [--note TEXT] [--ref REF] [--at TIME] [--partial] [--pledge] [--index N]`

// caseEnv is what the case commands work on: the node over the data
// directory, under the agreement.
type caseEnv struct {
	n     *node.Node
	st    store.Store
	a     *agreement.Agreement
	party string
	key   *node.Key
}

// openCaseNode opens the node of dir under the agreement at path; the
// node's id in it is the one that pins the node's key.
func openCaseNode(ctx context.Context, dir, storeURL, path string) (*caseEnv, error) {
	if path == "" {
		return nil, usageError("--agreement is missing; give the signed agreement file the node runs under")
	}
	a, party, err := loadPartnerAgreement(path, dir)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, keyFile))
	if err != nil {
		return nil, fmt.Errorf("reading the node key: %w", err)
	}
	key, err := node.ParseKey(string(data))
	if err != nil {
		return nil, err
	}
	self := ""
	for _, p := range a.Parties {
		for _, nd := range p.Nodes {
			if nd.Key == key.VerifierKey {
				self = nd.ID
			}
		}
	}
	st, err := openStore(ctx, dir, storeURL, false)
	if err != nil {
		return nil, err
	}
	n, err := node.New(ctx, node.Config{Store: st, Key: key, Agreement: a, Self: self})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &caseEnv{n: n, st: st, a: a, party: party, key: key}, nil
}

func runCase(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, caseSynopsis)
		return usageError("missing subcommand")
	}
	fs := flag.NewFlagSet("case "+args[0], flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { fmt.Fprintln(fs.Output(), caseSynopsis); fs.PrintDefaults() }
	dir, storeURL := dataFlags(fs)
	agr := fs.String("agreement", "", "the signed agreement `file` the node runs under")
	var (
		typ, to                   *string
		ground, noteText, ref, at *string
		partial, pledge           *bool
		index                     *int
	)
	var names []string
	switch args[0] {
	case "new":
		typ = fs.String("type", "", "the case `type`: incident-notification, assistance-request, preservation-request, consultation, reachability-test, ci-declaration")
		to = fs.String("to", "", "the `party` the case is addressed to")
		names = []string{"FIELDS.json"}
	case "list":
	case "show":
		names = []string{"ID"}
	case "step":
		ground = fs.String("ground", "", "the refusal `ground` (refuse, decline)")
		noteText = fs.String("note", "", "free `text` attached to the step")
		ref = fs.String("ref", "", "the `reference` of the MLA request (link-mla) or of the minutes (hold)")
		at = fs.String("at", "", "the meeting `time` a propose event proposes (RFC 3339)")
		partial = fs.Bool("partial", false, "assistance or preservation given in part only")
		pledge = fs.Bool("pledge", false, "acknowledge a declaration with the pledge")
		index = fs.Int("index", 0, "the action item `n` complete-action completes")
		names = []string{"ID", "EVENT"}
	default:
		fmt.Fprintln(env.Stderr, caseSynopsis)
		return usageError("unknown subcommand %q; the ones there are: new, list, show, step", args[0])
	}
	pos, err := parseArgs(fs, args[1:], names...)
	if err != nil {
		return err
	}
	var fields casework.Fields
	var observables []*stix.Object
	var t casework.Type
	if args[0] == "new" {
		var ok bool
		if t, ok = casework.ParseType(*typ); !ok {
			return usageError("--type %q is not a case type; give one of: %s", *typ, typeNames())
		}
		if *to == "" {
			return usageError("--to is missing; name the party the case is addressed to")
		}
		data, err := os.ReadFile(pos[0])
		if err != nil {
			return usageError("%v", err)
		}
		f, obs, err := casework.ParseFields(t, data)
		if err != nil {
			return usageError("%s: %v", pos[0], err)
		}
		fields = f
		observables = obs
	}
	ce, err := openCaseNode(ctx, *dir, *storeURL, *agr)
	if err != nil {
		return err
	}
	defer ce.st.Close()
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	defer w.Flush()
	switch args[0] {
	case "new":
		c, err := ce.n.OpenCase(ctx, t, fields, observables, *to)
		var fe *casework.FieldError
		if errors.As(err, &fe) {
			return usageError("%s: %v", pos[0], err)
		}
		if err != nil {
			return err
		}
		if c.Flags != 0 {
			fmt.Fprintf(w, "flagged:\t%s: the text reads as a request the agreement cannot make; an operator must review it before sending\n", c.Flags)
		}
		fmt.Fprintf(w, "opened a draft %s to %s; send it with: entente case step --data %s --agreement %s %s send\n", c.Type, c.To, *dir, *agr, c.ID)
		w.Flush()
		fmt.Fprintln(env.Stdout, c.ID)
	case "list":
		cs, err := ce.n.Cases(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "ID\tTYPE\tFROM\tTO\tSTATE\tLAST STEP\tLEVEL\tMODIFIED")
		for _, c := range cs {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s by %s\t%d\t%s\n", c.ID, c.Type, c.From, c.To, c.State, stepName(c), c.Actor, c.Level, c.Modified.Format(time.RFC3339))
		}
	case "show":
		vs, err := ce.n.CaseHistory(ctx, pos[0])
		if errors.Is(err, node.ErrNoCase) {
			return &exitError{Code: 1, Err: fmt.Errorf("ID: %w", err)}
		}
		if err != nil {
			return err
		}
		last := vs[len(vs)-1]
		fmt.Fprintf(w, "case:\t%s\ntype:\t%s\nagreement:\t%s\nfrom:\t%s\nto:\t%s\nstate:\t%s\nescalation level:\t%d\n", last.ID, last.Type, last.Agreement, last.From, last.To, last.State, last.Level)
		if last.Incident != nil {
			fmt.Fprintf(w, "severity:\t%s\ncritical infrastructure:\t%t\nsummary:\t%s\nobservables:\t%d\n", last.Incident.Severity, last.Incident.AffectsDeclaredCI, last.Incident.Summary, len(last.Incident.Observables))
		}
		for _, d := range casework.Deadlines(last, ce.a) {
			fmt.Fprintf(w, "owed:\t%s by %s, due %s\n", d.Kind, d.Owner, d.Due.Format(time.RFC3339))
		}
		fmt.Fprintln(w, "\nTIMELINE\tSTEP\tBY\tSTATE\tNOTE")
		for _, v := range vs {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", v.Modified.Format(time.RFC3339Nano), stepName(v), v.Actor, v.State, v.Note)
		}
	case "step":
		name := pos[1]
		if name == "approve" {
			name = "send" // an operator approves a draft by sending it
		}
		k, ok := casework.ParseEvent(name)
		if !ok {
			return usageError("EVENT %q is not a case event; give one of: approve (send), %s", pos[1], eventNames())
		}
		e := casework.Event{Kind: k, Ground: *ground, Note: *noteText, Ref: *ref, Partial: *partial, Pledge: *pledge, Index: *index}
		if *at != "" {
			if e.At, err = time.Parse(time.RFC3339, *at); err != nil {
				return usageError("--at %q: %v; give an RFC 3339 time such as 2027-02-01T10:00:00Z", *at, err)
			}
		}
		c, err := ce.n.StepCase(ctx, pos[0], e)
		var re *casework.RuleError
		switch {
		case errors.Is(err, node.ErrNoCase):
			return &exitError{Code: 1, Err: fmt.Errorf("ID: %w", err)}
		case errors.As(err, &re):
			return &exitError{Code: 1, Err: fmt.Errorf("%s refused: %w", name, err)}
		case err != nil:
			return err
		}
		fmt.Fprintf(w, "%s\t%s by %s\tnow %s\n", c.ID, stepName(c), c.Actor, c.State)
	}
	return nil
}

func stepName(c casework.Case) string {
	if c.Event == 0 {
		return "open"
	}
	return c.Event.String()
}

func typeNames() string {
	var s []string
	for _, t := range casework.Types {
		s = append(s, t.String())
	}
	return strings.Join(s, ", ")
}

func eventNames() string {
	var s []string
	for _, e := range casework.Events() {
		s = append(s, e.String())
	}
	return strings.Join(s, ", ")
}

const complianceSynopsis = `usage: entente compliance report --data DIR --agreement FILE --period PERIOD [--partner NODE=URL]... [--json] [--sign]`

// runCompliance runs "entente compliance report": the compliance record
// of a period (2027, 2027-Q1, 2027-01) from the node's own ledger and the
// openings of each partner node's ledger it may read.
func runCompliance(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "report" {
		fmt.Fprintln(env.Stderr, complianceSynopsis)
		return usageError("the subcommand is report")
	}
	fs := flag.NewFlagSet("compliance report", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { fmt.Fprintln(fs.Output(), complianceSynopsis); fs.PrintDefaults() }
	dir, storeURL := dataFlags(fs)
	agr := fs.String("agreement", "", "the signed agreement `file` the node runs under")
	period := fs.String("period", "", "the `period`: a year (2027), a quarter (2027-Q1) or a month (2027-01)")
	asJSON := fs.Bool("json", false, "print the record's canonical JSON (RFC 8785), the bytes both parties compare and countersign")
	sign := fs.Bool("sign", false, "print a note signed with the node key over the record's SHA-256, for the partner to countersign")
	partners := partnerURLs{}
	fs.Var(partners, "partner", "`NODE=URL`: read the openings of partner node NODE's ledger at URL (repeatable)")
	if _, err := parseArgs(fs, args[1:]); err != nil {
		return err
	}
	p, err := casework.ParsePeriod(*period)
	if err != nil {
		return usageError("--period %q: %v; give 2027, 2027-Q1 or 2027-01", *period, err)
	}
	ce, err := openCaseNode(ctx, *dir, *storeURL, *agr)
	if err != nil {
		return err
	}
	defer ce.st.Close()
	own, err := ownEntries(ctx, ce.st)
	if err != nil {
		return err
	}
	ledgers := []casework.Ledger{{Party: ce.party, Entries: own}}
	for nodeID, u := range partners {
		pt, _, ok := ce.a.Node(nodeID)
		if !ok {
			return usageError("--partner %s: no node of the agreement has that id", nodeID)
		}
		es, err := partnerEntries(ctx, ce.n, nodeID, u)
		if err != nil {
			return fmt.Errorf("reading the ledger of %s: %w", nodeID, err)
		}
		ledgers = append(ledgers, casework.Ledger{Party: pt.ID, Entries: es})
	}
	r := casework.Compile(p, ledgers...)
	js, err := r.JSON()
	if err != nil {
		return err
	}
	switch {
	case *sign:
		sum := sha256.Sum256(js)
		msg, err := note.Sign(&note.Note{Text: fmt.Sprintf("entente compliance report v1\n%s\n%s\nsha256:%s\n", ce.a.ID, r.Period, hex.EncodeToString(sum[:]))}, ce.key.Signer)
		if err != nil {
			return err
		}
		_, err = env.Stdout.Write(msg)
		return err
	case *asJSON:
		_, err = fmt.Fprintf(env.Stdout, "%s\n", js)
		return err
	}
	return r.WriteText(env.Stdout)
}

// ownEntries decodes the node's whole ledger.
func ownEntries(ctx context.Context, st store.Store) ([]ledger.Entry, error) {
	size, err := st.LedgerSize(ctx)
	if err != nil {
		return nil, err
	}
	var out []ledger.Entry
	for from := int64(0); from < size; from += 10_000 {
		recs, err := st.LedgerRecords(ctx, from, min(size, from+10_000))
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			e, err := ledger.DecodeEntry(r.Entry)
			if err != nil {
				return nil, fmt.Errorf("ledger entry %d: %w", r.Index, err)
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// partnerEntries reads, over mutual TLS with the node key, the openings
// of the partner node's ledger entries that concern this node's party, up
// to its checkpointed size.
func partnerEntries(ctx context.Context, n *node.Node, nodeID, base string) ([]ledger.Entry, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	root := u.Scheme + "://" + u.Host + ledgerhttp.Prefix
	tlsConfig, err := n.PeerTLSConfig(nodeID)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	get := func(path string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, root+path, nil)
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
		}
		return body, nil
	}
	// The checkpoint, signed with the node key the agreement pins for the
	// partner node, fixes the tree every opening must be a leaf of.
	a, _ := n.Agreement()
	_, nd, ok := a.Node(nodeID)
	if !ok {
		return nil, fmt.Errorf("no node %s in the agreement", nodeID)
	}
	v, err := note.NewVerifier(nd.Key)
	if err != nil {
		return nil, fmt.Errorf("the key the agreement pins for %s: %w", nodeID, err)
	}
	cpText, err := get("checkpoint")
	if err != nil {
		return nil, err
	}
	signed, err := note.Open(cpText, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("the checkpoint is not signed by the key the agreement pins for %s: %w", nodeID, err)
	}
	cp, err := ledger.ParseCheckpoint(signed.Text)
	if err != nil {
		return nil, err
	}
	if cp.Origin != nd.Log {
		return nil, fmt.Errorf("the checkpoint is of log %q, not %q, the one the agreement names", cp.Origin, nd.Log)
	}
	size := cp.N
	hashes := tlog.TileHashReader(tlog.Tree{N: cp.N, Hash: cp.Hash}, &httpTiles{get: get, cache: map[tlog.Tile][]byte{}})
	var out []ledger.Entry
	for from := int64(0); from < size; from += ledgerhttp.DefaultMaxOpenings {
		body, err := get(fmt.Sprintf("openings?from=%d&to=%d", from, min(size, from+ledgerhttp.DefaultMaxOpenings)))
		if err != nil {
			return nil, err
		}
		opens, err := parseOpenings(body, size)
		if err != nil {
			return nil, err
		}
		for _, op := range opens {
			idx, o := op.index, op.opening
			// Each opening must be the leaf at its index in the tree the
			// checkpoint signs.
			c, err := o.Commitment()
			if err != nil {
				return nil, err
			}
			proof, err := tlog.ProveRecord(size, idx, hashes)
			if err != nil {
				return nil, fmt.Errorf("proving entry %d: %w", idx, err)
			}
			if err := tlog.CheckRecord(proof, size, cp.Hash, idx, c.LeafHash()); err != nil {
				return nil, fmt.Errorf("the opening of entry %d is not in the checkpointed log: %w", idx, err)
			}
			out = append(out, o.Entry)
		}
	}
	return out, nil
}

// indexedOpening is one line of a ledger openings answer.
type indexedOpening struct {
	index   int64
	opening ledger.Opening
}

// parseOpenings reads a ledger openings answer ("INDEX BASE64" lines) of
// a log of size entries.
func parseOpenings(body []byte, size int64) ([]indexedOpening, error) {
	var out []indexedOpening
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		idxText, b64, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			return nil, fmt.Errorf("an openings line without a space: %.80q", sc.Text())
		}
		idx, err := strconv.ParseInt(idxText, 10, 64)
		if err != nil || idx < 0 || idx >= size {
			return nil, fmt.Errorf("an opening of entry %.40q, outside the checkpointed log of %d entries", idxText, size)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("the opening of entry %d: %w", idx, err)
		}
		o, err := ledger.ParseOpening(raw)
		if err != nil {
			return nil, fmt.Errorf("the opening of entry %d: %w", idx, err)
		}
		out = append(out, indexedOpening{idx, o})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// httpTiles reads a partner log's hash tiles over its tlog-tiles API, for
// tlog.TileHashReader, which checks them against the checkpoint's tree.
type httpTiles struct {
	get   func(path string) ([]byte, error)
	cache map[tlog.Tile][]byte
}

func (h *httpTiles) Height() int { return ledger.TileHeight }

func (h *httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		if b, ok := h.cache[t]; ok {
			out[i] = b
			continue
		}
		b, err := h.get(ledger.TilePath(t))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (h *httpTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {
	for i, t := range tiles {
		h.cache[t] = data[i]
	}
}
