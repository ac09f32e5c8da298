package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/examples"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
	"github.com/entente/entente/policy"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// demoConfig is the configuration of entente demo.
type demoConfig struct {
	// DataDir holds the three nodes' data directories. Empty means a
	// temporary directory, removed when the demo stops.
	DataDir string
	// Duration stops the demo after this long; zero runs it until
	// interrupted (Ctrl-C).
	Duration time.Duration
	// Settle bounds how long the demo waits for the flows before it
	// reports them.
	Settle time.Duration
}

func runDemo(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: entente demo [--data DIR] [--duration DURATION] [--settle DURATION]")
		fmt.Fprintln(fs.Output(), "\nRuns the three nodes of the trilateral example agreement (Arcadia, Borealis, Caledonia) on")
		fmt.Fprintln(fs.Output(), "loopback, loads sample data on each, lets them exchange it under the agreement, and prints")
		fmt.Fprintln(fs.Output(), "who received what, what was withheld and why, and each node's ledger. Ctrl-C stops it.")
		fs.PrintDefaults()
	}
	var cfg demoConfig
	fs.StringVar(&cfg.DataDir, "data", "", "keep the nodes' data in this new or empty `directory` (default: a temporary one, removed at the end)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "stop after this `duration` (default: run until interrupted)")
	fs.DurationVar(&cfg.Settle, "settle", time.Minute, "the longest `duration` to wait for the exchanges before reporting them")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if cfg.Duration < 0 || cfg.Settle <= 0 {
		return usageError("--duration must not be negative, and --settle must be positive")
	}
	// Each node's serve would open the store $ENTENTE_STORE names: the
	// three would share one database, as one node.
	if os.Getenv(storeEnv) != "" {
		return usageError("$%s is set, but the demo keeps its three nodes in SQLite, each in its own directory; unset it to run the demo", storeEnv)
	}
	return demo(ctx, env, &cfg)
}

// demoPollInterval is how often the demo's links poll their partners.
const demoPollInterval = "500ms"

// demoNode is one of the demo's three nodes.
type demoNode struct {
	party     *agreement.Party
	node      *agreement.Node
	dir, addr string
	token     string
	client    *http.Client
	st        store.Store
	stdout    lockedBuffer
	log       *os.File
	done      chan error
}

func (n *demoNode) url() string { return "https://" + n.addr + "/taxii2/" }

// demoSample is one object of the sample data.
type demoSample struct {
	party, typ, name, tlp string
	labels                []string
}

// demoSamples are a handful of objects per party, with markings and
// labels that the agreement treats differently.
var demoSamples = []demoSample{
	{"arcadia", "indicator", "phishing domain login-arcadia-gov.example", "clear", nil},
	{"arcadia", "indicator", "botnet controller 198.51.100.77", "green", nil},
	{"arcadia", "malware", "GridLock ransomware", "amber", nil},
	{"arcadia", "indicator", "scanner 198.51.100.200", "clear", []string{"under-investigation"}},
	{"arcadia", "indicator", "implant beacon 198.51.100.9", "red", nil},
	{"borealis", "malware", "RailHook loader", "green", nil},
	{"borealis", "attack-pattern", "spear phishing of rail operators", "green", nil},
	{"borealis", "indicator", "exfiltration host 203.0.113.66", "amber", []string{"internal"}},
	{"borealis", "vulnerability", "signalling controller firmware flaw", "", nil},
	{"caledonia", "indicator", "port logistics phishing kit 192.0.2.45", "clear", nil},
	{"caledonia", "infrastructure", "bulletproof hosting cluster", "green", nil},
	{"caledonia", "malware", "HarbourRAT", "green", []string{"unverified"}},
	{"caledonia", "tool", "red-team framework build", "clear", nil},
}

// raw returns the sample as STIX 2.1 JSON, with an id derived from its name
// so that every run shows the same objects.
func (s demoSample) raw() (json.RawMessage, string) {
	sum := sha256.Sum256([]byte("entente demo " + s.name))
	sum[6] = sum[6]&0x0f | 0x40 // version 4
	sum[8] = sum[8]&0x3f | 0x80 // RFC 4122 variant
	u, _ := uuid.FromBytes(sum[:16])
	id := s.typ + "--" + u.String()
	o := map[string]any{
		"type": s.typ, "spec_version": "2.1", "id": id,
		"created": "2026-06-01T00:00:00.000Z", "modified": "2026-06-01T00:00:00.000Z",
	}
	switch s.typ {
	case "indicator":
		value := s.name[strings.LastIndexByte(s.name, ' ')+1:]
		if net.ParseIP(value) != nil {
			o["pattern"] = fmt.Sprintf("[ipv4-addr:value = '%s']", value)
		} else {
			o["pattern"] = fmt.Sprintf("[domain-name:value = '%s']", value)
		}
		o["pattern_type"] = "stix"
		o["valid_from"] = "2026-06-01T00:00:00Z"
		o["name"] = s.name
	case "malware":
		o["name"], o["is_family"] = s.name, true
	default:
		o["name"] = s.name
	}
	if s.tlp != "" {
		o["object_marking_refs"] = []string{demoTLP[s.tlp]}
	}
	if len(s.labels) > 0 {
		o["labels"] = s.labels
	}
	raw, _ := json.Marshal(o) // strings, bools and lists of strings always encode
	return raw, id
}

// demoTLP holds the TLP 2.0 marking definition ids (FIRST TLP 2.0 in
// STIX 2.1, OASIS's TLP 2.0 extension).
var demoTLP = map[string]string{
	"clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	"green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	"amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
	"red":   "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

// demoObject is a sample once loaded: the object and the node that holds
// it first.
type demoObject struct {
	demoSample
	id  string
	obj *stix.Object
}

func demo(ctx context.Context, env *Env, cfg *demoConfig) (err error) {
	doc, err := examples.FS.ReadFile(examples.Trilateral)
	if err != nil {
		return err
	}
	a, err := agreement.Parse(doc)
	if err != nil {
		return fmt.Errorf("the embedded example agreement: %w", err)
	}
	if err := a.Verify(time.Now()); err != nil {
		return fmt.Errorf("the embedded example agreement: %w; the demo runs only while it is in force", err)
	}

	dir := cfg.DataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "entente-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if entries, err := os.ReadDir(dir); err != nil {
			return err
		} else if len(entries) > 0 {
			return usageError("--data %s is not empty; give a new or empty directory", dir)
		}
	}
	file := filepath.Join(dir, examples.Trilateral)
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		return err
	}

	var nodes []*demoNode
	defer func() {
		for _, n := range nodes {
			n.close()
		}
	}()
	for i := range a.Parties {
		p := &a.Parties[i]
		n := &demoNode{party: p, node: &p.Nodes[0], dir: filepath.Join(dir, p.Nodes[0].ID)}
		nodes = append(nodes, n)
		if err := n.prepare(ctx, a); err != nil {
			return fmt.Errorf("preparing %s: %w", n.node.ID, err)
		}
	}

	fmt.Fprintf(env.Stdout, "Entente demo: %s\n", a.Title)
	fmt.Fprintf(env.Stdout, "agreement: %s, signed by %s\n", file, strings.Join(signers(a), ", "))
	fmt.Fprintf(env.Stdout, "data: %s\n\n", dir)

	// The nodes stop when ctx ends (Ctrl-C) or when the demo returns.
	nctx, stopNodes := context.WithCancel(ctx)
	stopped := make(chan *demoNode, len(nodes))
	defer func() {
		stopNodes()
		for _, n := range nodes {
			if n.done == nil {
				continue
			}
			if nerr := <-n.done; nerr != nil {
				err = errors.Join(err, fmt.Errorf("%s: %w; its log is %s", n.node.ID, nerr, n.log.Name()))
			}
		}
	}()
	for _, n := range nodes {
		if err := n.start(nctx, file, nodes, stopped); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "node\tparty\turl\tadmin token")
	for _, n := range nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.node.ID, n.party.Name, n.url(), n.token)
	}
	tw.Flush()

	objs, err := loadSamples(ctx, nodes)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "\nloaded %d sample objects; the nodes exchange them under the agreement...\n", len(objs))

	held, err := settle(ctx, a, nodes, objs, cfg.Settle)
	if err != nil {
		return err
	}
	if err := printFlows(env.Stdout, a, nodes, objs, held); err != nil {
		return err
	}
	if err := printLedgers(ctx, env.Stdout, nodes); err != nil {
		return err
	}

	var timeout <-chan time.Time
	if cfg.Duration > 0 {
		fmt.Fprintf(env.Stdout, "\nthe nodes keep running for %v; Ctrl-C stops them sooner\n", cfg.Duration)
		timeout = time.After(cfg.Duration)
	} else {
		fmt.Fprintln(env.Stdout, "\nthe nodes keep running; press Ctrl-C to stop them")
	}
	select {
	case <-ctx.Done():
	case <-timeout:
	case n := <-stopped:
		return fmt.Errorf("%s stopped on its own; its log is %s", n.node.ID, n.log.Name())
	}
	fmt.Fprintln(env.Stdout, "stopping the nodes")
	return nil
}

// signers lists the parties whose signatures the agreement carries.
func signers(a *agreement.Agreement) []string {
	var s []string
	for _, sig := range a.Signatures {
		s = append(s, sig.Party)
	}
	return s
}

// prepare makes the node's data directory: the example's node key, an
// initialized store, and its default collection shared with each partner
// party, to read and, as its inbox, to write.
func (n *demoNode) prepare(ctx context.Context, a *agreement.Agreement) error {
	if err := node.PrepareDataDir(n.dir); err != nil {
		return err
	}
	key, err := examples.FS.ReadFile("keys/" + n.node.ID + ".key")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(n.dir, keyFile), key, 0o600); err != nil {
		return err
	}
	if n.st, err = openStore(ctx, n.dir, "", true); err != nil {
		return err
	}
	ini, err := node.Initialize(ctx, n.st, time.Now())
	if err != nil {
		return err
	}
	n.token = ini.AdminToken
	for _, p := range a.Parties {
		if p.ID == n.party.ID {
			continue
		}
		for _, right := range []store.Right{store.RightRead, store.RightWrite} {
			if err := n.st.AddShare(ctx, store.Share{Party: p.ID, Collection: ini.CollectionID, Right: right}); err != nil {
				return err
			}
		}
	}
	tlsConfig, err := node.NodeKeyTLSConfig(n.node.Key)
	if err != nil {
		return err
	}
	n.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	n.log, err = os.Create(filepath.Join(n.dir, "serve.log"))
	return err
}

func (n *demoNode) close() {
	if n.st != nil {
		n.st.Close()
	}
	if n.log != nil {
		n.log.Close()
	}
}

// start runs the node's entente serve in this process, its partners
// reached at their loopback addresses, and waits until it listens.
func (n *demoNode) start(ctx context.Context, file string, nodes []*demoNode, stopped chan<- *demoNode) error {
	if n.addr == "" {
		// Every node's address must be known before the first starts,
		// since each names its partners'.
		for _, m := range nodes {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			m.addr = ln.Addr().String()
			ln.Close()
		}
	}
	args := []string{"serve", "--data", n.dir, "--addr", n.addr, "--metrics-addr", "off",
		"--agreement", file, "--node", n.node.ID, "--checkpoint-interval", "1s", "--log-level", "warn"}
	args = append(args, demoServeFlags...)
	for _, m := range nodes {
		if m != n {
			args = append(args, "--partner-url", m.node.ID+"="+m.url())
		}
	}
	n.done = make(chan error, 1)
	go func() {
		var err error
		if code := run(ctx, &Env{Stdout: &n.stdout, Stderr: n.log}, args); code != 0 {
			err = fmt.Errorf("entente serve exited with %d", code)
		}
		n.done <- err
		stopped <- n
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(n.stdout.String(), "url: ") {
		if time.Now().After(deadline) || len(n.done) > 0 {
			return fmt.Errorf("%s did not start; its log is %s", n.node.ID, n.log.Name())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// demoServeFlags are the flags the demo adds to each node's serve.
var demoServeFlags = []string{"--sync-interval", demoPollInterval}

func (n *demoNode) taxii() (*taxii.Client, error) {
	return taxii.NewClient("https://"+n.addr+"/", taxii.ClientOptions{Token: n.token, HTTPClient: n.client})
}

// loadSamples adds each party's samples to its node, as its admin.
func loadSamples(ctx context.Context, nodes []*demoNode) ([]demoObject, error) {
	var objs []demoObject
	for _, n := range nodes {
		var batch []json.RawMessage
		for _, s := range demoSamples {
			if s.party != n.party.ID {
				continue
			}
			raw, id := s.raw()
			o, err := stix.Parse(raw)
			if err != nil {
				return nil, fmt.Errorf("sample %q: %w", s.name, err)
			}
			objs = append(objs, demoObject{demoSample: s, id: id, obj: o})
			batch = append(batch, raw)
		}
		c, err := n.taxii()
		if err != nil {
			return nil, err
		}
		st, err := c.AddObjects(ctx, node.DefaultAPIRoot, node.DefaultCollectionAlias, batch)
		if err != nil {
			return nil, fmt.Errorf("%s: adding the samples: %w", n.node.ID, err)
		}
		if st.SuccessCount != len(batch) {
			return nil, fmt.Errorf("%s: %d of %d samples stored: %+v", n.node.ID, st.SuccessCount, len(batch), st.Failures)
		}
	}
	return objs, nil
}

// holdings returns the object versions the node stores, by object id.
func (n *demoNode) holdings(ctx context.Context) (map[string]store.Object, error) {
	cols, err := n.st.Collections(ctx, node.DefaultAPIRoot)
	if err != nil {
		return nil, err
	}
	held := map[string]store.Object{}
	for _, col := range cols {
		q := store.Query{Collection: col.ID, Versions: store.VersionFilter{All: true}, Limit: 1000, WithoutContent: true}
		for {
			page, err := n.st.Objects(ctx, q)
			if err != nil {
				return nil, err
			}
			for _, o := range page.Objects {
				held[o.ID] = o
				q.After = o.Seq
			}
			if !page.More {
				break
			}
		}
	}
	return held, nil
}

// direct decides, as the originator's node would, whether o may go
// straight to party to.
func direct(a *agreement.Agreement, o demoObject, to *agreement.Party) (policy.Decision, error) {
	pol, err := policy.Compile(a, o.party)
	if err != nil {
		return policy.Decision{}, err
	}
	noRefs := func(string) (policy.Ref, bool, error) { return policy.Ref{}, false, nil }
	return policy.Decide(pol, policy.Recipient{Party: to.ID, Organization: to.Nodes[0].Authority}, o.obj, policy.Context{Lookup: noRefs})
}

// settle waits until every node holds what its partners may send it
// directly, then until nothing more arrives (relayed objects) and every
// ledger has a checkpoint of its whole length cosigned by a partner, for
// at most limit. It returns what each node holds, by node id.
func settle(ctx context.Context, a *agreement.Agreement, nodes []*demoNode, objs []demoObject, limit time.Duration) (map[string]map[string]store.Object, error) {
	deadline := time.Now().Add(limit)
	var last string
	quiet := 0
	for {
		held := map[string]map[string]store.Object{}
		var state strings.Builder
		pending := 0
		for _, n := range nodes {
			h, err := n.holdings(ctx)
			if err != nil {
				return nil, err
			}
			held[n.node.ID] = h
			fmt.Fprintf(&state, "%s:%d ", n.node.ID, len(h))
			for _, o := range objs {
				if o.party == n.party.ID {
					continue
				}
				d, err := direct(a, o, n.party)
				if err != nil {
					return nil, err
				}
				if _, ok := h[o.id]; d.Verdict != policy.Deny && !ok {
					pending++
				}
			}
			size, err := n.st.LedgerSize(ctx)
			if err != nil {
				return nil, err
			}
			cp, by, err := n.checkpoint(ctx, nodes)
			if err != nil || len(by) == 0 || cp.N < size {
				pending++
			}
		}
		if s := state.String(); pending == 0 && s == last {
			quiet++
		} else {
			quiet, last = 0, s
		}
		if quiet >= 4 || time.Now().After(deadline) {
			return held, nil
		}
		select {
		case <-ctx.Done():
			return held, nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// printFlows prints, for each sample, what became of it at each partner
// node: received (directly, or relayed by a third party as its
// originator's rule allows), or withheld, with the agreement's reason.
func printFlows(w io.Writer, a *agreement.Agreement, nodes []*demoNode, objs []demoObject, held map[string]map[string]store.Object) error {
	fmt.Fprintln(w, "\nflows (who received what; what was withheld, and why):")
	for _, from := range nodes {
		fmt.Fprintf(w, "\n  from %s (%s):\n", from.party.Name, from.node.ID)
		for _, o := range objs {
			if o.party != from.party.ID {
				continue
			}
			marking := "unmarked"
			if o.tlp != "" {
				marking = "TLP:" + strings.ToUpper(o.tlp)
			}
			if len(o.labels) > 0 {
				marking += ", labels " + strings.Join(o.labels, ", ")
			}
			fmt.Fprintf(w, "    %s %q (%s)\n", o.typ, o.name, marking)
			for _, to := range nodes {
				if to == from {
					continue
				}
				d, err := direct(a, o, to.party)
				if err != nil {
					return err
				}
				got, ok := held[to.node.ID][o.id]
				var what string
				switch {
				case ok && (got.FromParty == o.party || got.FromParty == ""):
					what = fmt.Sprintf("received, ledger entry %d", got.LedgerIndex)
					if d.Conditions != nil {
						what += fmt.Sprintf("; conditions of %s: %s", d.Rule, conditions(d.Conditions))
					}
				case ok:
					what = fmt.Sprintf("received through %s (onward transfer, which %s's rule to %s allows at TLP:CLEAR and GREEN); ledger entry %d",
						got.FromParty, o.party, got.FromParty, got.LedgerIndex)
				case d.Verdict == policy.Deny:
					what = "withheld: " + d.Reason()
				default:
					what = "not received yet"
				}
				fmt.Fprintf(w, "      → %-17s %s\n", to.node.ID, what)
			}
		}
	}
	return nil
}

func conditions(c *agreement.Conditions) string {
	conf := "not confidential"
	if c.Confidential {
		conf = "confidential"
	}
	return fmt.Sprintf("%s, for %s, third parties %s, kept %d days", conf, strings.Join(c.Purposes, " and "), c.ThirdParties, c.RetentionDays)
}

// checkpoint returns the node's latest checkpoint and the partner nodes
// whose cosignatures on it verify.
func (n *demoNode) checkpoint(ctx context.Context, nodes []*demoNode) (ledger.Checkpoint, []string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+n.addr+"/ledger/checkpoint", nil)
	if err != nil {
		return ledger.Checkpoint{}, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+n.token)
	resp, err := n.client.Do(req)
	if err != nil {
		return ledger.Checkpoint{}, nil, err
	}
	defer resp.Body.Close()
	msg, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return ledger.Checkpoint{}, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return ledger.Checkpoint{}, nil, fmt.Errorf("%s: GET /ledger/checkpoint: %s", n.node.ID, resp.Status)
	}
	logKey, err := note.NewVerifier(n.node.Key)
	if err != nil {
		return ledger.Checkpoint{}, nil, err
	}
	var by []string
	var c ledger.Checkpoint
	for _, m := range nodes {
		if m == n {
			continue
		}
		wk, err := ledger.NewCosignatureVerifier(m.node.WitnessKey)
		if err != nil {
			return ledger.Checkpoint{}, nil, err
		}
		if cp, err := (ledger.Policy{Threshold: 1, Witnesses: []note.Verifier{wk}}).Final(msg, n.node.Log, logKey); err == nil {
			c = cp
			by = append(by, m.node.ID)
		}
	}
	if by == nil {
		if c, _, err = ledger.OpenCheckpoint(msg, n.node.Log, logKey); err != nil {
			return ledger.Checkpoint{}, nil, err
		}
	}
	return c, by, nil
}

// printLedgers prints each node's ledger: its length and latest
// checkpoint, with the partners that cosigned it.
func printLedgers(ctx context.Context, w io.Writer, nodes []*demoNode) error {
	fmt.Fprintln(w, "\nledgers:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  node\tlog\tentries\tlatest checkpoint\tcosigned by")
	for _, n := range nodes {
		size, err := n.st.LedgerSize(ctx)
		if err != nil {
			return err
		}
		cp, by, err := n.checkpoint(ctx, nodes)
		if err != nil {
			return err
		}
		cosigners := strings.Join(by, ", ")
		if cosigners == "" {
			cosigners = "no partner yet"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%s\n", n.node.ID, n.node.Log, size, cp.N, cosigners)
	}
	return tw.Flush()
}

// lockedBuffer is a bytes buffer safe for one writer and concurrent readers:
// the demo reads what a node it runs has printed so far. (Tests use
// internal/proctest.Buffer, which a command must not import.)
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
