package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/examples"
	"github.com/entente/entente/internal/proctest"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// The federation harness runs the trilateral example's three nodes as real
// `entente serve` processes (the test binary run again as a child, so
// that a test can kill one with SIGKILL), each on its own SQLite database,
// speaking mutual TLS with the example's node keys over loopback.

// fedNode is one node of the harness. Its address is fixed before it
// first starts, so that the agreement and its partners can name it, and
// it keeps it across restarts.
type fedNode struct {
	id, party string
	dir       string
	addr      string
	key       *node.Key
	origin    string // its log's name
	// env is added to the child's environment (a skewed clock).
	env []string
	// partnerURLs are the --partner-url values it starts with: a proxy
	// in front of a partner, for the tests that cut a link.
	partnerURLs map[string]string

	cmd     *exec.Cmd
	exited  chan struct{}
	stderr  *proctest.Buffer
	base    string // https://addr
	metrics string // the metrics URL, when started with --metrics-addr
	token   string // an admin token
	client  *http.Client
	started int
}

// fedNet is the harness: the agreement file and its nodes, by party.
type fedNet struct {
	t         testing.TB
	file      string
	agreement *agreement.Agreement
	nodes     map[string]*fedNode // by party
	order     []string            // parties in the agreement's order
}

// newFederation prepares the example's three nodes (data directories with
// the example node keys, free loopback addresses) and writes the example
// agreement with those addresses as the nodes' URLs, signed again with the
// example party keys. It starts nothing.
func newFederation(t testing.TB) *fedNet {
	t.Helper()
	doc, err := examples.FS.ReadFile(examples.Trilateral)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := agreement.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	text = text[:strings.Index(text, "\nsignatures:")+1] + "\nsignatures: []\n"
	f := &fedNet{t: t, nodes: map[string]*fedNode{}}
	root := t.TempDir()
	for _, p := range ex.Parties {
		en := p.Nodes[0]
		n := &fedNode{id: en.ID, party: p.ID, origin: en.Log, dir: filepath.Join(root, en.ID), addr: freeAddr(t), partnerURLs: map[string]string{}}
		if err := node.PrepareDataDir(n.dir); err != nil {
			t.Fatal(err)
		}
		skey, err := examples.FS.ReadFile("keys/" + en.ID + ".key")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(n.dir, keyFile), skey, 0o600); err != nil {
			t.Fatal(err)
		}
		if n.key, err = node.ParseKey(strings.TrimSpace(string(skey))); err != nil {
			t.Fatal(err)
		}
		n.prepare(t, ex)
		old := "url: " + en.URL
		if strings.Count(text, old) != 1 {
			t.Fatalf("the example holds %q %d times", old, strings.Count(text, old))
		}
		text = strings.Replace(text, old, "url: "+n.url(), 1)
		f.nodes[p.ID] = n
		f.order = append(f.order, p.ID)
	}
	signed := signAsExampleParties(t, ex, []byte(text))
	f.file = filepath.Join(root, "agreement.yaml")
	if err := os.WriteFile(f.file, signed, 0o644); err != nil {
		t.Fatal(err)
	}
	if f.agreement, err = agreement.Parse(signed); err != nil {
		t.Fatal(err)
	}
	return f
}

// prepare initializes the node's store, as serve would on its first
// start, and shares its default collection with each partner party: to
// read, and as its inbox, to write.
func (n *fedNode) prepare(t testing.TB, a *agreement.Agreement) {
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, n.dir, "", true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ini, err := node.Initialize(ctx, st, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	n.token = ini.AdminToken
	for _, p := range a.Parties {
		if p.ID == n.party {
			continue
		}
		for _, right := range []store.Right{store.RightRead, store.RightWrite} {
			if err := st.AddShare(ctx, store.Share{Party: p.ID, Collection: ini.CollectionID, Right: right}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// url is the node's TAXII discovery URL.
func (n *fedNode) url() string { return "https://" + n.addr + "/taxii2/" }

// start starts the node's serve process and waits until it listens.
func (f *fedNet) start(n *fedNode) {
	t := f.t
	t.Helper()
	args := []string{"serve", "--data", n.dir, "--addr", n.addr, "--metrics-addr", "off",
		"--agreement", f.file, "--node", n.id, "--checkpoint-interval", "100ms", "--log-level", "warn"}
	for _, id := range sortedKeys(n.partnerURLs) {
		args = append(args, "--partner-url", id+"="+n.partnerURLs[id])
	}
	args = append(args, fedServeFlags...)
	cmd := childCommand(args, n.env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	n.stderr = &proctest.Buffer{}
	cmd.Stderr = n.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.cmd, n.exited = cmd, make(chan struct{})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		cmd.Wait()
		close(n.exited)
	}()
	n.started++
	deadline := time.After(30 * time.Second)
	// The banner is written at once; its last line is the witness key.
	var url string
	for banner := false; !banner; {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("%s exited before serving:\n%s", n.id, n.stderr.String())
			}
			if v, ok := strings.CutPrefix(line, "url: "); ok {
				url = v
			}
			if v, ok := strings.CutPrefix(line, "metrics: "); ok {
				n.metrics = v
			}
			banner = strings.HasPrefix(line, "witness key: ")
		case <-deadline:
			t.Fatalf("%s printed no URL within 30s:\n%s", n.id, n.stderr.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	n.base = strings.TrimSuffix(url, "/taxii2/")
	if n.client == nil {
		tlsConfig, err := node.NodeKeyTLSConfig(n.key.VerifierKey)
		if err != nil {
			t.Fatal(err)
		}
		n.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	}
	t.Cleanup(func() { f.stop(n) })
}

// fedServeFlags are added to every node's serve command line.
var fedServeFlags = []string{"--sync-interval", "200ms"}

// startAll starts every node.
func (f *fedNet) startAll() {
	for _, p := range f.order {
		f.start(f.nodes[p])
	}
}

// stop stops the node cleanly (SIGTERM), if it runs.
func (f *fedNet) stop(n *fedNode) {
	if n.cmd == nil {
		return
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(40 * time.Second):
		n.cmd.Process.Kill()
		<-n.exited
	}
	if code := n.cmd.ProcessState.ExitCode(); code != 0 {
		f.t.Errorf("%s exited with %d:\n%s", n.id, code, n.stderr.String())
	}
	n.cmd = nil
}

// kill kills the node with SIGKILL: no shutdown, no last checkpoint.
func (f *fedNet) kill(n *fedNode) {
	if n.cmd == nil {
		return
	}
	n.cmd.Process.Kill()
	<-n.exited
	n.cmd = nil
}

// taxii returns an admin TAXII client of the node.
func (n *fedNode) taxii(t testing.TB) *taxii.Client {
	t.Helper()
	c, err := taxii.NewClient(n.base+"/", taxii.ClientOptions{Token: n.token, HTTPClient: n.client})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// add stores objects on the node through TAXII, into its default
// collection, as one of its own accounts.
func (n *fedNode) add(t testing.TB, objs []json.RawMessage) {
	t.Helper()
	for len(objs) > 0 {
		batch := objs[:min(len(objs), 500)]
		objs = objs[len(batch):]
		st, err := n.taxii(t).AddObjects(context.Background(), node.DefaultAPIRoot, "default", batch)
		if err != nil || st.SuccessCount != len(batch) {
			t.Fatalf("%s: AddObjects: %+v, %v", n.id, st, err)
		}
	}
}

// holdings returns how many versions of each object the node holds, over
// all its collections, as its admin sees them. The tests create one
// version of each object, so more than one is a duplicate.
func (n *fedNode) holdings(t testing.TB) (map[string]int, error) {
	t.Helper()
	ctx := context.Background()
	c := n.taxii(t)
	cols, err := c.Collections(ctx, node.DefaultAPIRoot)
	if err != nil {
		return nil, err
	}
	held := map[string]int{}
	for _, col := range cols {
		for rec, err := range c.AllManifest(ctx, node.DefaultAPIRoot, col.ID, taxii.Query{Versions: []string{"all"}}) {
			if err != nil {
				return nil, err
			}
			held[rec.ID]++
		}
	}
	return held, nil
}

// checkpoint returns the node's latest checkpoint and the names of the
// witnesses whose cosignatures on it verify.
func (f *fedNet) checkpoint(n *fedNode) (ledger.Checkpoint, []string, error) {
	req, _ := http.NewRequest(http.MethodGet, n.base+"/ledger/checkpoint", nil)
	req.Header.Set("Authorization", "Bearer "+n.token)
	resp, err := n.client.Do(req)
	if err != nil {
		return ledger.Checkpoint{}, nil, err
	}
	defer resp.Body.Close()
	var msg strings.Builder
	if _, err := bufio.NewReader(resp.Body).WriteTo(&msg); err != nil {
		return ledger.Checkpoint{}, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return ledger.Checkpoint{}, nil, fmt.Errorf("%s: GET /ledger/checkpoint: %s", n.id, resp.Status)
	}
	logKey, err := note.NewVerifier(n.key.VerifierKey)
	if err != nil {
		return ledger.Checkpoint{}, nil, err
	}
	var witnesses []note.Verifier
	var names []string
	for _, p := range f.order {
		if w := f.nodes[p]; w != n {
			v, err := ledger.NewCosignatureVerifier(w.key.WitnessVerifierKey())
			if err != nil {
				return ledger.Checkpoint{}, nil, err
			}
			witnesses = append(witnesses, v)
			names = append(names, w.id)
		}
	}
	c, signed, err := ledger.OpenCheckpoint([]byte(msg.String()), n.origin, logKey, witnesses...)
	if err != nil {
		return ledger.Checkpoint{}, nil, fmt.Errorf("%s: the checkpoint does not verify: %w", n.id, err)
	}
	var by []string
	for i, w := range witnesses {
		if (ledger.Policy{Threshold: 1, Witnesses: []note.Verifier{w}}).Cosigners(signed) == 1 {
			by = append(by, names[i])
		}
	}
	return c, by, nil
}

// signAsExampleParties signs doc, an agreement whose signatures were
// removed, with the example key of each of ex's parties, in order.
func signAsExampleParties(t testing.TB, ex *agreement.Agreement, doc []byte) []byte {
	t.Helper()
	signed := doc
	for _, p := range ex.Parties {
		skey, err := examples.FS.ReadFile("keys/" + p.ID + ".key")
		if err != nil {
			t.Fatal(err)
		}
		s, err := note.NewSigner(strings.TrimSpace(string(skey)))
		if err != nil {
			t.Fatal(err)
		}
		if signed, _, err = agreement.Sign(signed, s); err != nil {
			t.Fatal(err)
		}
	}
	return signed
}
