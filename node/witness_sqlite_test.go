package node_test

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/federation"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/ledgerhttp"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store/sqlite"
)

// partnerLog is a partner's log in memory: signed checkpoints of a tree of
// synthetic leaves, and the proofs between them.
type partnerLog struct {
	origin string
	signer note.Signer
	vkey   string
	hashes []tlog.Hash
	size   int64
}

func newPartnerLog(t *testing.T, origin string) *partnerLog {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "partner.example")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	return &partnerLog{origin: origin, signer: s, vkey: vkey}
}

func (p *partnerLog) read(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = p.hashes[x]
	}
	return out, nil
}

// grow appends n leaves and returns the add-checkpoint body from old.
func (p *partnerLog) grow(t *testing.T, n int, old int64) []byte {
	t.Helper()
	b := ledger.NewBatch(p.size, tlog.HashReaderFunc(p.read))
	for range n {
		if _, err := b.Append(sha256.Sum256([]byte{byte(b.Size()), byte(b.Size() >> 8)})); err != nil {
			t.Fatal(err)
		}
	}
	p.hashes = append(p.hashes, b.Hashes()...)
	p.size = b.Size()
	return p.request(t, old)
}

func (p *partnerLog) request(t *testing.T, old int64) []byte {
	t.Helper()
	root, err := tlog.TreeHash(p.size, tlog.HashReaderFunc(p.read))
	if err != nil {
		t.Fatal(err)
	}
	return p.signed(t, old, tlog.Tree{N: p.size, Hash: root})
}

func (p *partnerLog) signed(t *testing.T, old int64, tree tlog.Tree) []byte {
	t.Helper()
	msg, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: p.origin, Tree: tree}, p.signer)
	if err != nil {
		t.Fatal(err)
	}
	var proof tlog.TreeProof
	if old > 0 && old < tree.N {
		if proof, err = ledger.ProveConsistency(tree.N, old, tlog.HashReaderFunc(p.read)); err != nil {
			t.Fatal(err)
		}
	}
	return ledger.AddRequest{Old: old, Proof: proof, Checkpoint: msg}.Marshal()
}

// TestTransparencyWitness runs the node's witness on SQLite: it cosigns a
// partner's consistent checkpoints with the witness key the agreement
// pins; a fork is refused, alerted, recorded in the node's own ledger and
// suspends the log; a rollback is refused and alerted without suspending.
func TestTransparencyWitness(t *testing.T) {
	ctx := t.Context()
	st, n, key := witnessNode(t)
	forked, rolled := newPartnerLog(t, "a.example/ledger"), newPartnerLog(t, "c.example/ledger")
	var (
		mu     sync.Mutex
		alerts []string
	)
	tr, err := node.NewTransparency(n, node.TransparencyConfig{
		Cosigner: key.Cosigner(nil),
		Partners: []node.PartnerLog{
			{Origin: forked.origin, Party: "arcadia", Key: mustVerifier(t, forked.vkey)},
			{Origin: rolled.origin, Party: "cyrenia", Key: mustVerifier(t, rolled.vkey)},
		},
		OnAlert: func(r string) { mu.Lock(); alerts = append(alerts, r); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	wkey, err := ledger.NewCosignatureVerifier(key.WitnessVerifierKey())
	if err != nil {
		t.Fatal(err)
	}

	// Consistent checkpoints are cosigned with the pinned witness key.
	for _, body := range [][]byte{forked.grow(t, 5, 0), forked.grow(t, 300, 5)} {
		lines, err := tr.AddCheckpoint(ctx, body)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := ledger.ParseAddRequest(body)
		if _, err := note.Open(append(req.Checkpoint, lines...), note.VerifierList(mustVerifier(t, forked.vkey), wkey)); err != nil {
			t.Fatalf("the cosignature does not verify under the witness key: %v", err)
		}
	}
	size0, _ := st.LedgerSize(ctx)

	// A fork: size 305 again, another root.
	fork := forked.signed(t, 305, tlog.Tree{N: 305, Hash: tlog.Hash{1}})
	if _, err := tr.AddCheckpoint(ctx, fork); !errors.Is(err, ledger.ErrFork) {
		t.Fatalf("fork: %v, want ErrFork", err)
	}
	ss, err := st.Suspensions(ctx)
	if err != nil || len(ss) != 1 || ss[0].Origin != forked.origin || ss[0].Reason != node.AlertFork ||
		string(ss[0].Evidence) != string(fork) || len(ss[0].Witnessed) == 0 {
		t.Fatalf("Suspensions = %+v, %v", ss, err)
	}
	if ok, _ := tr.Suspended(ctx, forked.origin); !ok {
		t.Error("Suspended = false after a fork")
	}
	// The node's own ledger records it, and the entry concerns the party.
	recs, err := st.LedgerRecords(ctx, size0, size0+1)
	if err != nil || len(recs) != 1 || !slices.Equal(recs[0].Concerns, []string{"arcadia"}) {
		t.Fatalf("ledger after the fork: %+v, %v", recs, err)
	}
	e, err := ledger.DecodeEntry(recs[0].Entry)
	if tr, ok := e.Event.(ledger.Transition); err != nil || !ok || tr.Workflow != node.SuspensionWorkflow || tr.Case != forked.origin || tr.To != "suspended" || tr.Attrs["reason"] != node.AlertFork {
		t.Errorf("the ledger entry of the suspension: %+v, %v", e, err)
	}
	// A consistent checkpoint of the suspended log is refused too.
	if _, err := tr.AddCheckpoint(ctx, forked.grow(t, 1, 305)); !errors.Is(err, ledgerhttp.ErrSuspended) {
		t.Errorf("a suspended log's next checkpoint: %v, want ErrSuspended", err)
	}

	// A rollback: c's checkpoint of 10 after one of 20.
	if _, err := tr.AddCheckpoint(ctx, rolled.grow(t, 10, 0)); err != nil {
		t.Fatal(err)
	}
	old := rolled.request(t, 0)
	if _, err := tr.AddCheckpoint(ctx, rolled.grow(t, 10, 10)); err != nil {
		t.Fatal(err)
	}
	var conflict *ledger.ConflictError
	if _, err := tr.AddCheckpoint(ctx, old); !errors.As(err, &conflict) || !conflict.Rollback || conflict.Latest != 20 {
		t.Fatalf("rollback: %v, want a 409 naming 20", err)
	}
	if ok, _ := tr.Suspended(ctx, rolled.origin); ok {
		t.Error("a rollback, which anyone can replay, suspended the log")
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(alerts, []string{node.AlertFork, node.AlertRollback}) {
		t.Errorf("alerts = %v, want fork then rollback", alerts)
	}
}

// witnessNode returns a node on a fresh SQLite store, with its key.
func witnessNode(t *testing.T) (*sqlite.Store, *node.Node, *node.Key) {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "entente.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := node.Initialize(ctx, st, time.Now()); err != nil {
		t.Fatal(err)
	}
	skey, _ := node.GenerateKey("node.b.example")
	key, _ := node.ParseKey(skey)
	n, err := node.New(ctx, node.Config{Store: st, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return st, n, key
}

func mustVerifier(t *testing.T, vkey string) note.Verifier {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTransparencyCheckServed: the checkpoint a partner's node serves of
// its own log, compared with the one this node cosigned. A smaller tree
// (a rolled-back log) or another tree of the same size (a fork) suspends
// the log with the evidence and an entry in the node's own ledger; an
// equal or larger tree, a log the node does not witness, and a checkpoint
// without the partner's signature suspend nothing.
func TestTransparencyCheckServed(t *testing.T) {
	ctx := t.Context()
	st, n, key := witnessNode(t)
	rolled, forked := newPartnerLog(t, "a.example/ledger"), newPartnerLog(t, "c.example/ledger")
	stranger := newPartnerLog(t, "d.example/ledger")
	var alerts []string
	tr, err := node.NewTransparency(n, node.TransparencyConfig{
		Cosigner: key.Cosigner(nil),
		Partners: []node.PartnerLog{
			{Origin: rolled.origin, Party: "arcadia", Key: mustVerifier(t, rolled.vkey)},
			{Origin: forked.origin, Party: "cyrenia", Key: mustVerifier(t, forked.vkey)},
		},
		OnAlert: func(r string) { alerts = append(alerts, r) },
	})
	if err != nil {
		t.Fatal(err)
	}
	served := func(p *partnerLog, tree tlog.Tree) []byte {
		t.Helper()
		msg, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: p.origin, Tree: tree}, p.signer)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	tree := func(p *partnerLog) tlog.Tree {
		t.Helper()
		h, err := tlog.TreeHash(p.size, tlog.HashReaderFunc(p.read))
		if err != nil {
			t.Fatal(err)
		}
		return tlog.Tree{N: p.size, Hash: h}
	}
	for _, p := range []*partnerLog{rolled, forked} {
		if _, err := tr.AddCheckpoint(ctx, p.grow(t, 10, 0)); err != nil {
			t.Fatal(err)
		}
	}
	old := served(rolled, tree(rolled))
	if _, err := tr.AddCheckpoint(ctx, rolled.grow(t, 10, 10)); err != nil {
		t.Fatal(err)
	}

	// Nothing to suspend: the tree cosigned, a larger one, a log not
	// witnessed, and a checkpoint the partner did not sign.
	if err := tr.CheckServed(ctx, rolled.origin, served(rolled, tree(rolled))); err != nil {
		t.Errorf("the tree cosigned: %v", err)
	}
	rolled.grow(t, 5, 0)
	if err := tr.CheckServed(ctx, rolled.origin, served(rolled, tree(rolled))); err != nil {
		t.Errorf("a larger tree: %v", err)
	}
	if err := tr.CheckServed(ctx, stranger.origin, served(stranger, tlog.Tree{N: 1})); err != nil {
		t.Errorf("a log the node does not witness: %v", err)
	}
	if err := tr.CheckServed(ctx, rolled.origin, served(stranger, tlog.Tree{N: 1})); err == nil || errors.Is(err, federation.ErrSuspended) {
		t.Errorf("a checkpoint signed by another key: %v, want an error that is no suspension", err)
	}
	if ss, _ := st.Suspensions(ctx); len(ss) != 0 || len(alerts) != 0 {
		t.Fatalf("suspensions %+v, alerts %v before any rollback", ss, alerts)
	}

	// The partner's node serves size 10 after this node cosigned 20.
	size0, _ := st.LedgerSize(ctx)
	if err := tr.CheckServed(ctx, rolled.origin, old); !errors.Is(err, federation.ErrSuspended) || !errors.Is(err, ledger.ErrRollback) {
		t.Fatalf("a served rollback: %v, want ErrSuspended and ErrRollback", err)
	}
	ss, err := st.Suspensions(ctx)
	if err != nil || len(ss) != 1 || ss[0].Origin != rolled.origin || ss[0].Reason != node.AlertRollback || string(ss[0].Evidence) != string(old) {
		t.Fatalf("Suspensions = %+v, %v", ss, err)
	}
	recs, err := st.LedgerRecords(ctx, size0, size0+1)
	if err != nil || len(recs) != 1 || !slices.Equal(recs[0].Concerns, []string{"arcadia"}) {
		t.Fatalf("ledger after the rollback: %+v, %v", recs, err)
	}
	// Checked again while suspended, it is not suspended twice.
	if err := tr.CheckServed(ctx, rolled.origin, old); !errors.Is(err, federation.ErrSuspended) {
		t.Errorf("a served rollback of a suspended log: %v", err)
	}
	if size, _ := st.LedgerSize(ctx); size != size0+1 {
		t.Errorf("the ledger grew to %d, want one suspension entry (%d)", size, size0+1)
	}

	// Another tree of the size cosigned: a fork.
	if err := tr.CheckServed(ctx, forked.origin, served(forked, tlog.Tree{N: 10, Hash: tlog.Hash{1}})); !errors.Is(err, ledger.ErrFork) {
		t.Fatalf("a served fork: %v, want ErrFork", err)
	}
	if ok, _ := tr.Suspended(ctx, forked.origin); !ok {
		t.Error("a served fork did not suspend the log")
	}
	if !slices.Equal(alerts, []string{node.AlertRollback, node.AlertFork}) {
		t.Errorf("alerts = %v, want rollback then fork", alerts)
	}
}
