package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/ledgerhttp"
	"github.com/entente/entente/node"
	"github.com/entente/entente/taxii"
)

// partnerNode is one of two nodes of a test agreement: its data
// directory, keys and listening address, fixed before it starts so that
// the agreement can name it.
type partnerNode struct {
	id, party, dir, addr, origin string
	key                          *node.Key
	run                          *runningNode
}

// freeAddr returns a loopback address with a port free at the time, for a
// node whose address the agreement names before it starts and which it
// binds again at each restart. The port is drawn below the ephemeral
// ranges (32768-60999 on Linux, 49152-65535 elsewhere): a port of those,
// once free, may be taken before the node binds it, by a listener on port
// 0 or by the local end of an outgoing connection of any process on the
// machine; one below them only by a process that asks for it by number.
func freeAddr(t testing.TB) string {
	t.Helper()
	const low, high = 10000, 32768
	for range 100 {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(low+mrand.IntN(high-low))))
		if err != nil {
			continue // in use
		}
		ln.Close()
		return ln.Addr().String()
	}
	t.Fatalf("no free loopback port in [%d, %d) after 100 tries", low, high)
	return ""
}

func newPartnerNode(t *testing.T, id, party, origin string) *partnerNode {
	t.Helper()
	p := &partnerNode{id: id, party: party, origin: origin, dir: filepath.Join(t.TempDir(), id), addr: freeAddr(t)}
	if err := node.PrepareDataDir(p.dir); err != nil {
		t.Fatal(err)
	}
	skey, err := node.GenerateKey(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.dir, keyFile), []byte(skey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if p.key, err = node.ParseKey(skey); err != nil {
		t.Fatal(err)
	}
	return p
}

// witnessAgreement writes the example agreement with a's and b's keys,
// addresses and witness keys, each node witnessing the other's log, signed
// by fresh party keys.
func witnessAgreement(t *testing.T, a, b *partnerNode) string {
	t.Helper()
	return editedAgreement(t, a, b, nil)
}

// editedAgreement is witnessAgreement with the text passed through edit,
// when not nil, before the parties sign it.
func editedAgreement(t *testing.T, a, b *partnerNode, edit func(string) string) string {
	t.Helper()
	doc, err := os.ReadFile("../../examples/arcadia-borealis.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	text = text[:strings.Index(text, "\nsignatures:")+1]
	ex, err := agreement.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	var signers []note.Signer
	for _, p := range []*partnerNode{a, b} {
		party, exNode, ok := ex.Node(p.id)
		if !ok {
			t.Fatalf("the example has no node %s", p.id)
		}
		skey, vkey, err := note.GenerateKey(rand.Reader, party.ID)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := note.NewSigner(skey)
		signers = append(signers, s)
		for old, new := range map[string]string{
			"key: " + party.Key:                 "key: " + vkey,
			"url: " + exNode.URL:                "url: https://" + p.addr + "/taxii2/",
			"key: " + exNode.Key:                "key: " + p.key.VerifierKey,
			"witness_key: " + exNode.WitnessKey: "witness_key: " + p.key.WitnessVerifierKey(),
		} {
			if strings.Count(text, old) != 1 {
				t.Fatalf("the example holds %q %d times", old, strings.Count(text, old))
			}
			text = strings.Replace(text, old, new, 1)
		}
	}
	if edit != nil {
		text = edit(text)
	}
	signed := []byte(text)
	for _, s := range signers {
		if signed, _, err = agreement.Sign(signed, s); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "agreement.yaml")
	if err := os.WriteFile(path, signed, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func (p *partnerNode) start(t *testing.T, agreementFile string) {
	t.Helper()
	p.run = startServe(t, p.dir, "--addr", p.addr, "--agreement", agreementFile, "--node", p.id, "--checkpoint-interval", "50ms")
	if p.run.adminToken == "" {
		p.run.adminToken = p.token(t)
	}
}

// token returns an admin token: the one printed on first start, or a new
// account's on later starts.
func (p *partnerNode) token(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("admin-%d", time.Now().UnixNano())
	code, stdout, stderr := runCmd(t, "user", "add", "--data", p.dir, name, "--role", "admin")
	if code != 0 {
		t.Fatalf("user add: %s", stderr)
	}
	return lastLine(stdout)
}

func (p *partnerNode) stop(t *testing.T) {
	t.Helper()
	p.run.stop()
	code := <-p.run.done
	p.run.done <- code // for startServe's cleanup, which waits for it too
	if code != 0 {
		t.Fatalf("%s exited with %d: %s", p.id, code, p.run.stderr.String())
	}
}

// add stores n new indicators on the node, through TAXII.
func (p *partnerNode) add(t *testing.T, from, n int) {
	t.Helper()
	c, err := taxii.NewClient(p.run.base+"/", taxii.ClientOptions{Token: p.run.adminToken, HTTPClient: p.run.client})
	if err != nil {
		t.Fatal(err)
	}
	cols, err := c.Collections(t.Context(), node.DefaultAPIRoot)
	if err != nil || len(cols) == 0 {
		t.Fatalf("Collections: %v", err)
	}
	var objs []json.RawMessage
	for i := from; i < from+n; i++ {
		objs = append(objs, stixIndicator(i, "2024-01-01T00:00:00.000Z"))
	}
	if st, err := c.AddObjects(t.Context(), node.DefaultAPIRoot, cols[0].ID, objs); err != nil || st.SuccessCount != n {
		t.Fatalf("AddObjects: %+v, %v", st, err)
	}
}

// ledgerGet reads a ledger resource of the node with its admin token.
func (p *partnerNode) ledgerGet(t *testing.T, path string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", p.run.base+ledgerhttp.Prefix+path, nil)
	req.Header.Set("Authorization", "Bearer "+p.run.adminToken)
	resp, err := p.run.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// cosignedBy waits until p serves a checkpoint of at least size that w's
// witness key cosigned, checked with x/mod's note and the ledger's
// cosignature verifier, and returns it.
func (p *partnerNode) cosignedBy(t *testing.T, w *partnerNode, size int64) ledger.Checkpoint {
	t.Helper()
	logKey, _ := note.NewVerifier(p.key.VerifierKey)
	wKey, err := ledger.NewCosignatureVerifier(w.key.WitnessVerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	policy := ledger.Policy{Threshold: 1, Witnesses: []note.Verifier{wKey}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, msg := p.ledgerGet(t, "checkpoint")
		if code == http.StatusOK {
			c, err := policy.Final(msg, p.origin, logKey)
			if err == nil && c.N >= size {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s serves no checkpoint of size >= %d cosigned by %s: %d %s\n%s", p.id, size, w.id, code, msg, p.run.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWitnessEachOther runs two nodes that witness each other over HTTPS,
// each on its own SQLite database. Then it rolls one node's database file
// back to an earlier copy: the partner, which holds a later cosigned
// checkpoint, refuses the rolled-back node's next checkpoint, alerts,
// suspends the log and records it in its own ledger.
func TestWitnessEachOther(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two nodes")
	}
	a := newPartnerNode(t, "arcadia-node-1", "arcadia", "cti.cert.arcadia.example/ledger")
	b := newPartnerNode(t, "borealis-node-1", "borealis", "taxii.cyber.borealis.example/ledger")
	file := witnessAgreement(t, a, b)
	a.start(t, file)
	b.start(t, file)
	if !strings.Contains(a.run.stdout.String(), "witness key: "+a.key.WitnessVerifierKey()) {
		t.Errorf("serve does not print the witness key:\n%s", a.run.stdout.String())
	}

	// Each log starts with 2 entries: the node's key and its agreement.
	a.add(t, 0, 3)
	b.add(t, 100, 2)
	a.cosignedBy(t, b, 5)
	b.cosignedBy(t, a, 4)
	// Checkpoints with cosignature lines still verify as the node's own.
	if code, out, stderr := runCmd(t, "ledger", "verify", "--data", a.dir); code != 0 {
		t.Errorf("ledger verify of a cosigned log: %d %s %s", code, out, stderr)
	}

	// Keep a copy of a's database at size 5, cosigned by b.
	a.stop(t)
	backup := t.TempDir()
	copyDB(t, a.dir, backup)
	a.start(t, file)
	a.add(t, 3, 4)
	if c := a.cosignedBy(t, b, 9); c.N != 9 {
		t.Fatalf("a's checkpoint is %d, want 9", c.N)
	}

	// Roll a back to size 5. At size 6 its checkpoint is older than the
	// one b cosigned. Two paths of b notice, in either order: b's witness
	// answers a's next submission with 409 and its size, and a learns
	// that its own state was rolled back; or b's link, pulling from a,
	// sees the older checkpoint a serves and suspends a's log at once,
	// and a's submissions are refused with 403.
	a.stop(t)
	copyDB(t, backup, a.dir)
	a.start(t, file)
	a.add(t, 1000, 1)
	const (
		rolledBackLog = "holds a later checkpoint of this log than the log itself"
		refused       = "refuses this log's checkpoints"
		forked        = "inconsistent with the one it cosigned"
	)
	waitFor(t, "a to learn it was rolled back", func() bool {
		s := a.run.stderr.String()
		return strings.Contains(s, rolledBackLog) || strings.Contains(s, refused)
	}, a, b)
	waitFor(t, "b to count the rollback", func() bool {
		return strings.Contains(scrape(t, b), `entente_ledger_alerts_total{reason="rollback"}`)
	}, a, b)
	// Grown past 9 on its new history, a's next checkpoint cannot be
	// proved consistent with the one b holds: b suspends a's log, if it
	// has not yet, and a hears of it (422, or 403 once suspended).
	a.add(t, 1001, 5)

	waitFor(t, "b to suspend a's log", func() bool {
		return strings.Contains(b.run.stderr.String(), "showed an inconsistent checkpoint; suspended")
	}, a, b)
	waitFor(t, "a to hear its checkpoint refused", func() bool {
		s := a.run.stderr.String()
		return strings.Contains(s, forked) || strings.Contains(s, refused)
	}, a, b)
	code, out, stderr := runCmd(t, "witness", "list", "--data", b.dir)
	if code != 0 || !strings.Contains(out, a.origin+"\tsuspended ") {
		t.Fatalf("witness list: %d %q %s", code, out, stderr)
	}
	// The reason b gives is the metric it counts.
	t.Logf("b's witness list: %s", strings.TrimSpace(out))
	switch {
	case strings.Contains(out, "inconsistent"):
		if !regexp.MustCompile(`entente_ledger_alerts_total\{reason="inconsistent"\} 1`).MatchString(scrape(t, b)) {
			t.Errorf("b's metrics show no alert:\n%s", scrape(t, b))
		}
	case strings.Contains(out, "rollback"):
		if !regexp.MustCompile(`entente_ledger_alerts_total\{reason="rollback"\} [1-9]`).MatchString(scrape(t, b)) {
			t.Errorf("b's metrics show no alert:\n%s", scrape(t, b))
		}
	default:
		t.Errorf("witness list names no reason: %q", out)
	}
	// b's own ledger records the suspension, and the checkpoint it keeps
	// for a is still the one of size 9.
	code, out, stderr = runCmd(t, "ledger", "show", "--data", b.dir)
	if code != 0 || !strings.Contains(out, node.SuspensionWorkflow) || !strings.Contains(out, a.origin) {
		t.Errorf("ledger show does not list the suspension: %d %s %s", code, out, stderr)
	}
	// a's checkpoints stay uncosigned while suspended: a new one is refused.
	body, code2 := postAdd(t, b, a, 0)
	if code2 != http.StatusForbidden || !bytes.Contains(body, []byte("suspended")) {
		t.Errorf("add-checkpoint of a suspended log: %d %q, want 403", code2, body)
	}

	// The operator resumes the log; the witness still holds size 9, so
	// the rolled-back history stays refused. a stops first: its own
	// submitter would otherwise offer that history again right after the
	// resume, and b would be suspended anew before the request below.
	rolledBack := addBody(t, a, 9)
	a.stop(t)
	if code, out, stderr := runCmd(t, "witness", "resume", "--data", b.dir, a.origin); code != 0 {
		t.Fatalf("witness resume: %d %s %s", code, out, stderr)
	}
	if code, out, _ := runCmd(t, "witness", "list", "--data", b.dir); code != 0 || out != "" {
		t.Errorf("witness list after resume: %d %q", code, out)
	}
	if _, code := postBody(t, b, rolledBack); code != http.StatusUnprocessableEntity {
		t.Errorf("the rolled-back history after resume: %d, want 422", code)
	}
}

func waitFor(t *testing.T, what string, ok func() bool, logs ...*partnerNode) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, p := range logs {
				fmt.Fprintf(&b, "\n%s's log:\n%s", p.id, p.run.stderr.String())
			}
			t.Fatalf("timed out waiting for %s%s", what, b.String())
		}
	}
}

// postAdd sends a's latest checkpoint to b's witness from old, as a's
// submitter would.
func postAdd(t *testing.T, b, a *partnerNode, old int64) ([]byte, int) {
	t.Helper()
	return postBody(t, b, addBody(t, a, old))
}

// addBody is the add-checkpoint request a's submitter would send with a's
// latest checkpoint, from old.
func addBody(t *testing.T, a *partnerNode, old int64) string {
	t.Helper()
	_, msg := a.ledgerGet(t, "checkpoint")
	c, err := node.CheckpointOf(msg)
	if err != nil {
		t.Fatal(err)
	}
	var proof []string
	if old > 0 && old < c.N {
		_, p := a.ledgerGet(t, fmt.Sprintf("proof/consistency?old=%d", old))
		proof = strings.Fields(string(p))
	}
	// Only a's own signature.
	logKey, _ := note.NewVerifier(a.key.VerifierKey)
	n, err := note.Open(msg, note.VerifierList(logKey))
	if err != nil {
		t.Fatal(err)
	}
	own, _ := note.Sign(&note.Note{Text: n.Text, Sigs: n.Sigs})
	body := fmt.Sprintf("old %d\n", old)
	for _, h := range proof {
		body += h + "\n"
	}
	return body + "\n" + string(own)
}

// postBody sends an add-checkpoint request to b's witness.
func postBody(t *testing.T, b *partnerNode, body string) ([]byte, int) {
	t.Helper()
	resp, err := b.run.client.Post(b.run.base+ledgerhttp.Prefix+"add-checkpoint", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return out, resp.StatusCode
}

func scrape(t *testing.T, p *partnerNode) string {
	t.Helper()
	_, body := p.run.scrape(t, "/metrics")
	return body
}

// copyDB copies the database files of one data directory to another.
func copyDB(t *testing.T, from, to string) {
	t.Helper()
	for _, name := range []string{dbFile, dbFile + "-wal", dbFile + "-shm"} {
		data, err := os.ReadFile(filepath.Join(from, name))
		if os.IsNotExist(err) {
			os.Remove(filepath.Join(to, name))
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestServeAgreementErrors checks that serve refuses an agreement that
// does not describe this node, naming what to fix.
func TestServeAgreementErrors(t *testing.T) {
	a := newPartnerNode(t, "arcadia-node-1", "arcadia", "")
	b := newPartnerNode(t, "borealis-node-1", "borealis", "")
	file := witnessAgreement(t, a, b)
	unsigned := filepath.Join(t.TempDir(), "unsigned.yaml")
	doc, _ := os.ReadFile(file)
	os.WriteFile(unsigned, doc[:bytes.Index(doc, []byte("\nsignatures:"))+1], 0o644)
	for _, tc := range []struct {
		name, dir, file, node, want string
	}{
		{"unknown node", a.dir, file, "arcadia-node-9", "not a node of the agreement"},
		{"another node's key", a.dir, file, "borealis-node-1", "but this node's key is"},
		{"unsigned", a.dir, unsigned, "arcadia-node-1", "signed agreement in force"},
		{"missing file", a.dir, filepath.Join(t.TempDir(), "none.yaml"), "arcadia-node-1", "none.yaml"},
	} {
		code, _, stderr := runCmd(t, "serve", "--data", tc.dir, "--addr", "127.0.0.1:0", "--metrics-addr", "off", "--agreement", tc.file, "--node", tc.node)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, %q; want 1 and %q", tc.name, code, stderr, tc.want)
		}
	}
}
