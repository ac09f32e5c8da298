package node_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/examples"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/store/postgres"
	"github.com/entente/entente/store/postgres/pgtest"
	"github.com/entente/entente/store/sqlite"
)

// termsNode runs nodes, one after the other, on one SQLite file, under the
// example agreements (signed) and arcadia's example node key.
type termsNode struct {
	path string                         // the SQLite file, "" on PostgreSQL
	open func(t *testing.T) store.Store // opens the one database again
	st   store.Store
	key  *node.Key
	v1   *agreement.Agreement
	v2   *agreement.Agreement
	now  time.Time
}

// termsBackends are the stores the terms tests run on: SQLite, and
// PostgreSQL when ENTENTE_TEST_POSTGRES names a database (pgtest).
var termsBackends = []struct {
	name string
	new  func(t *testing.T) *termsNode
}{
	{"sqlite", newTermsNode},
	{"postgres", func(t *testing.T) *termsNode {
		url := pgtest.URL(t)
		return newTermsNodeOn(t, "", func(t *testing.T) store.Store {
			st, err := postgres.Open(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			return st
		})
	}},
}

func newTermsNode(t *testing.T) *termsNode {
	t.Helper()
	path := filepath.Join(t.TempDir(), "entente.db")
	return newTermsNodeOn(t, path, func(t *testing.T) store.Store {
		st, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

func newTermsNodeOn(t *testing.T, path string, open func(t *testing.T) store.Store) *termsNode {
	t.Helper()
	tn := &termsNode{path: path, open: open, now: time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC)}
	skey, err := examples.FS.ReadFile("keys/arcadia-node-1.key")
	if err != nil {
		t.Fatal(err)
	}
	if tn.key, err = node.ParseKey(string(skey)); err != nil {
		t.Fatal(err)
	}
	tn.v1, tn.v2 = exampleVersion(t, "arcadia-borealis.yaml"), exampleVersion(t, "arcadia-borealis-v2.yaml")
	tn.reopen(t)
	if _, err := node.Initialize(t.Context(), tn.st, tn.now); err != nil {
		t.Fatal(err)
	}
	return tn
}

func exampleVersion(t *testing.T, name string) *agreement.Agreement {
	t.Helper()
	doc, err := examples.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agreement.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	// The bilateral example pins another node key than the example key
	// file holds: it is made to pin that one and signed again with the
	// example party keys.
	skey, err := examples.FS.ReadFile("keys/arcadia-node-1.key")
	if err != nil {
		t.Fatal(err)
	}
	key, err := node.ParseKey(string(skey))
	if err != nil {
		t.Fatal(err)
	}
	_, self, _ := a.Node("arcadia-node-1")
	self.Key, self.WitnessKey = key.VerifierKey, key.WitnessVerifierKey()
	a.Signatures = nil
	if doc, err = a.Document(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"arcadia", "borealis"} {
		pkey, err := examples.FS.ReadFile("keys/" + p + ".key")
		if err != nil {
			t.Fatal(err)
		}
		signer, err := note.NewSigner(strings.TrimSpace(string(pkey)))
		if err != nil {
			t.Fatal(err)
		}
		if doc, _, err = agreement.Sign(doc, signer); err != nil {
			t.Fatal(err)
		}
	}
	if a, err = agreement.Parse(doc); err != nil {
		t.Fatal(err)
	}
	if err := a.VerifySignatures(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return a
}

// reopen closes the store, as a stopped process does, and opens it again.
func (tn *termsNode) reopen(t *testing.T) {
	t.Helper()
	if tn.st != nil {
		if err := tn.st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	st := tn.open(t)
	tn.st = st
	t.Cleanup(func() { st.Close() })
}

// start starts a node on the store under a (nil: none) with key.
func (tn *termsNode) start(t *testing.T, key *node.Key, a *agreement.Agreement) (*node.Node, error) {
	t.Helper()
	cfg := node.Config{Store: tn.st, Key: key, Now: func() time.Time { return tn.now }}
	if a != nil {
		cfg.Agreement, cfg.Self = a, "arcadia-node-1"
	}
	return node.New(t.Context(), cfg)
}

// entries returns the ledger's records from index from on, decoded.
func (tn *termsNode) entries(t *testing.T, from int64) ([]store.LedgerRecord, []ledger.Event) {
	t.Helper()
	size, err := tn.st.LedgerSize(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	recs, err := tn.st.LedgerRecords(t.Context(), from, size)
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]ledger.Event, len(recs))
	for i, r := range recs {
		e, err := ledger.DecodeEntry(r.Entry)
		if err != nil {
			t.Fatal(err)
		}
		evs[i] = e.Event
	}
	return recs, evs
}

func (tn *termsNode) size(t *testing.T) int64 {
	t.Helper()
	size, err := tn.st.LedgerSize(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return size
}

func digest(t *testing.T, a *agreement.Agreement) ledger.Digest {
	t.Helper()
	d, err := a.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestTermsRecorded: a node's first start records its key and the
// agreement it adopts; a restart records nothing; an amendment, at run
// time or by a restart on the amended document, records the version it
// replaces and the new digest; and the ledger still verifies.
func TestTermsRecorded(t *testing.T) {
	for _, b := range termsBackends {
		t.Run(b.name, func(t *testing.T) { testTermsRecorded(t, b.new(t)) })
	}
}

func testTermsRecorded(t *testing.T, tn *termsNode) {
	ctx := t.Context()
	n, err := tn.start(t, tn.key, tn.v1)
	if err != nil {
		t.Fatal(err)
	}
	recs, evs := tn.entries(t, 0)
	want := []ledger.Event{
		ledger.KeyRotated{Node: tn.key.Name, New: tn.key.VerifierKey},
		ledger.AgreementAdopted{Agreement: tn.v1.ID, Version: "1", Digest: digest(t, tn.v1)},
	}
	if !slices.Equal(evs, want) {
		t.Fatalf("a first start recorded %+v; want %+v", evs, want)
	}
	for _, r := range recs {
		if !slices.Equal(r.Concerns, []string{"arcadia", "borealis"}) {
			t.Errorf("entry %d concerns %v; want every party", r.Index, r.Concerns)
		}
	}
	if prev, err := n.PreviousAgreement(ctx); prev != nil || err != nil {
		t.Errorf("PreviousAgreement of an adopted agreement = %v, %v; want none", prev, err)
	}
	// entente ledger show prints them readably.
	for i, want := range []string{
		"0\tkey-rotated\tnode key " + tn.key.VerifierKey + " first recorded\t",
		fmt.Sprintf("1\tagreement-adopted\t%s version 1 adopted, content sha256 %x\t", tn.v1.ID, digest(t, tn.v1)),
	} {
		if got := node.DescribeEntry(recs[i]); !strings.HasPrefix(got, want) {
			t.Errorf("DescribeEntry(%d) = %q; want it to start %q", i, got, want)
		}
	}

	// Restarts on the same terms record nothing.
	for range 2 {
		tn.reopen(t)
		if n, err = tn.start(t, tn.key, tn.v1); err != nil {
			t.Fatal(err)
		}
	}
	if size := tn.size(t); size != 2 {
		t.Fatalf("after two restarts the ledger holds %d entries; want the 2 of the first start", size)
	}

	// An amendment at run time.
	tn.now = tn.now.AddDate(0, 0, 1)
	if err := n.Amend(ctx, tn.v2); err != nil {
		t.Fatal(err)
	}
	_, evs = tn.entries(t, 2)
	amended := ledger.AgreementAmended{Agreement: tn.v2.ID, Previous: "1", Version: "2", Digest: digest(t, tn.v2)}
	if !slices.Equal(evs, []ledger.Event{amended}) {
		t.Fatalf("Amend recorded %+v; want %+v", evs, amended)
	}
	recs, _ = tn.entries(t, 2)
	if got, want := node.DescribeEntry(recs[0]), fmt.Sprintf("2\tagreement-amended\t%s amended from version 1 to 2, content sha256 %x\t", tn.v2.ID, digest(t, tn.v2)); !strings.HasPrefix(got, want) {
		t.Errorf("DescribeEntry = %q; want it to start %q", got, want)
	}
	if a, _ := n.Agreement(); a.Version != 2 {
		t.Fatalf("after Amend the node works under version %d", a.Version)
	}

	// After a restart on the amended version, nothing is recorded, and the
	// version it amended is read back from the store.
	tn.reopen(t)
	if n, err = tn.start(t, tn.key, tn.v2); err != nil {
		t.Fatal(err)
	}
	if size := tn.size(t); size != 3 {
		t.Fatalf("a restart on the amended version: %d entries; want 3", size)
	}
	prev, err := n.PreviousAgreement(ctx)
	if err != nil || prev == nil {
		t.Fatalf("PreviousAgreement after a restart = %v, %v; want version 1", prev, err)
	}
	if d := digest(t, prev); prev.Version != 1 || d != digest(t, tn.v1) {
		t.Fatalf("PreviousAgreement = version %d, digest %x; want version 1, %x", prev.Version, d, digest(t, tn.v1))
	}
	if cs, err := agreement.Diff(prev, tn.v2); err != nil || len(cs) == 0 {
		t.Errorf("Diff(previous, in force) = %v, %v; want the amendment's changes", cs, err)
	}

	// Going back to version 1 is refused, and records nothing.
	tn.reopen(t)
	if _, err := tn.start(t, tn.key, tn.v1); !errors.Is(err, node.ErrTermsRegress) {
		t.Fatalf("a start on the superseded version: %v; want ErrTermsRegress", err)
	}
	if size := tn.size(t); size != 3 {
		t.Fatalf("a refused start left %d entries; want 3", size)
	}

	// The ledger verifies, checkpoint included.
	if n, err = tn.start(t, tn.key, tn.v2); err != nil {
		t.Fatal(err)
	}
	if _, signed, err := n.Checkpoint(ctx); err != nil || !signed {
		t.Fatalf("Checkpoint: %v, %v", signed, err)
	}
	verifier, err := note.NewVerifier(tn.key.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := node.VerifyLedger(ctx, tn.st, verifier, "")
	if err != nil || len(rep.Problems) > 0 || rep.Size != 3 {
		t.Fatalf("VerifyLedger = %+v, %v; want 3 entries and no problem", rep, err)
	}
}

// TestTermsAmendedByRestart: a node restarted on the amended document (as
// serve is after the operator replaces the agreement file) records the
// amendment.
func TestTermsAmendedByRestart(t *testing.T) {
	for _, b := range termsBackends {
		t.Run(b.name, func(t *testing.T) { testTermsAmendedByRestart(t, b.new(t)) })
	}
}

func testTermsAmendedByRestart(t *testing.T, tn *termsNode) {
	if _, err := tn.start(t, tn.key, tn.v1); err != nil {
		t.Fatal(err)
	}
	tn.reopen(t)
	n, err := tn.start(t, tn.key, tn.v2)
	if err != nil {
		t.Fatal(err)
	}
	_, evs := tn.entries(t, 2)
	amended := ledger.AgreementAmended{Agreement: tn.v2.ID, Previous: "1", Version: "2", Digest: digest(t, tn.v2)}
	if !slices.Equal(evs, []ledger.Event{amended}) {
		t.Fatalf("a restart on the amendment recorded %+v; want %+v", evs, amended)
	}
	if prev, err := n.PreviousAgreement(t.Context()); err != nil || prev == nil || prev.Version != 1 {
		t.Errorf("PreviousAgreement = %v, %v; want version 1", prev, err)
	}

	// The same version with other content is not an amendment.
	edited := exampleVersion(t, "arcadia-borealis-v2.yaml")
	edited.Title += " (edited)"
	tn.reopen(t)
	if _, err := tn.start(t, tn.key, edited); !errors.Is(err, node.ErrTermsRegress) {
		t.Errorf("a start on version 2 with other content: %v; want ErrTermsRegress", err)
	}

	// Another agreement is adopted, not amended.
	other := exampleVersion(t, "arcadia-borealis.yaml")
	other.ID = "arcadia-borealis-other"
	tn.reopen(t)
	if n, err = tn.start(t, tn.key, other); err != nil {
		t.Fatal(err)
	}
	_, evs = tn.entries(t, 3)
	if adopted := (ledger.AgreementAdopted{Agreement: other.ID, Version: "1", Digest: digest(t, other)}); !slices.Equal(evs, []ledger.Event{adopted}) {
		t.Errorf("a start under another agreement recorded %+v; want %+v", evs, adopted)
	}
	if prev, err := n.PreviousAgreement(t.Context()); prev != nil || err != nil {
		t.Errorf("PreviousAgreement of an adopted agreement = %v, %v; want none", prev, err)
	}
}

// TestTermsKeyRotated: a node started with another key records the
// rotation, once.
func TestTermsKeyRotated(t *testing.T) {
	for _, b := range termsBackends {
		t.Run(b.name, func(t *testing.T) { testTermsKeyRotated(t, b.new(t)) })
	}
}

func testTermsKeyRotated(t *testing.T, tn *termsNode) {
	if _, err := tn.start(t, tn.key, nil); err != nil {
		t.Fatal(err)
	}
	next := newNodeKey(t, "arcadia-node-1")
	for range 2 {
		tn.reopen(t)
		if _, err := tn.start(t, next, nil); err != nil {
			t.Fatal(err)
		}
	}
	recs, evs := tn.entries(t, 0)
	want := []ledger.Event{
		ledger.KeyRotated{Node: tn.key.Name, New: tn.key.VerifierKey},
		ledger.KeyRotated{Node: next.Name, Old: tn.key.VerifierKey, New: next.VerifierKey},
	}
	if !slices.Equal(evs, want) {
		t.Fatalf("recorded %+v; want %+v", evs, want)
	}
	if len(recs[1].Concerns) != 0 {
		t.Errorf("without an agreement the rotation concerns %v; want no party", recs[1].Concerns)
	}
	ks, err := tn.st.KeyRecords(t.Context(), 10)
	if err != nil || len(ks) != 2 || ks[0].Key != next.VerifierKey || ks[0].Entry != 1 || ks[1].Entry != 0 {
		t.Errorf("KeyRecords = %+v, %v", ks, err)
	}
	// Without a key, nothing is recorded.
	tn.reopen(t)
	if _, err := tn.start(t, nil, nil); err != nil {
		t.Fatal(err)
	}
	if size := tn.size(t); size != 2 {
		t.Errorf("a start without a key left %d entries; want 2", size)
	}
}

// failingUpdates is a store whose write transactions fail while fail is
// set, as a full disk or a lost database would make them.
type failingUpdates struct {
	store.Store
	fail bool
}

func (f *failingUpdates) Update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	if f.fail {
		return errors.New("the disk is full")
	}
	return f.Store.Update(ctx, fn)
}

// TestTermsAmendFails: an amendment the ledger could not record does not
// take effect.
func TestTermsAmendFails(t *testing.T) {
	for _, b := range termsBackends {
		t.Run(b.name, func(t *testing.T) { testTermsAmendFails(t, b.new(t)) })
	}
}

func testTermsAmendFails(t *testing.T, tn *termsNode) {
	fs := &failingUpdates{Store: tn.st}
	n, err := node.New(t.Context(), node.Config{Store: fs, Key: tn.key, Agreement: tn.v1, Self: "arcadia-node-1",
		Now: func() time.Time { return tn.now }})
	if err != nil {
		t.Fatal(err)
	}
	fs.fail = true
	if err := n.Amend(t.Context(), tn.v2); err == nil {
		t.Fatal("Amend succeeded without its ledger entry")
	}
	if a, _ := n.Agreement(); a.Version != 1 {
		t.Errorf("after a failed Amend the node works under version %d; want 1", a.Version)
	}
	if size := tn.size(t); size != 2 {
		t.Errorf("the ledger holds %d entries; want the 2 of the start", size)
	}
	if rs, err := tn.st.AgreementRecords(t.Context(), 10); err != nil || len(rs) != 1 {
		t.Errorf("AgreementRecords = %d, %v; want version 1 alone", len(rs), err)
	}
	fs.fail = false
	if err := n.Amend(t.Context(), tn.v2); err != nil {
		t.Fatalf("Amend once the store works again: %v", err)
	}
	if a, _ := n.Agreement(); a.Version != 2 {
		t.Errorf("the node works under version %d; want 2", a.Version)
	}
}

// TestTermsStoredDocumentTampered: a stored version whose document was
// changed behind the node's back is refused, not shown.
func TestTermsStoredDocumentTampered(t *testing.T) {
	tn := newTermsNode(t)
	n, err := tn.start(t, tn.key, tn.v1)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Amend(t.Context(), tn.v2); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", tn.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE agreements SET document = CAST(replace(CAST(document AS TEXT), 'retention_days: 365', 'retention_days: 3650') AS BLOB) WHERE version = 1`); err != nil {
		t.Fatal(err)
	}
	if prev, err := n.PreviousAgreement(t.Context()); !errors.Is(err, node.ErrTermsTampered) {
		t.Fatalf("PreviousAgreement of a changed document = %v, %v; want ErrTermsTampered", prev, err)
	}
}
