package node_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/federation"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
	"github.com/entente/entente/provenance"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// serve starts p's TAXII server over TLS with its node certificate,
// asking partner nodes for theirs, in front of backend (p's node unless
// a test puts a lying one there).
func (p *party) serve(t testing.TB, backend taxii.Backend) string {
	t.Helper()
	if backend == nil {
		backend = p.n
	}
	cert, err := p.key.SelfSignedCertificate([]string{"127.0.0.1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(taxii.NewServer(backend, taxii.Config{MaxPageSize: 1000}))
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	p.n.ServerTLSConfig(ts.TLS)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts.URL
}

// link returns p's link to the partner q serving at url.
func (p *party) link(t testing.TB, q *party, url string, page int) *federation.Link {
	t.Helper()
	tlsConfig, err := p.n.PeerTLSConfig(q.nodeID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := taxii.NewClient(url, taxii.ClientOptions{TLSConfig: tlsConfig})
	if err != nil {
		t.Fatal(err)
	}
	l, err := federation.New(federation.Config{Peer: q.peer(), Client: c, Sink: p.n, PageSize: page,
		Interval: 20 * time.Millisecond, MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// share shares p's default collection with party for right.
func (p *party) share(t testing.TB, party string, right store.Right) {
	t.Helper()
	if _, _, err := node.Share(t.Context(), p.st, p.ag, p.nodeID, party, p.ini.CollectionID, right); err != nil {
		t.Fatal(err)
	}
}

// originate stores objects in p's default collection as p's node
// originates them: with p's origin signature (or signer's, for a
// forgery), over batches of 16 as the node signs at ingest.
func (p *party) originate(t testing.TB, signer *node.Key, raws ...string) {
	t.Helper()
	if signer == nil {
		signer = p.key
	}
	var (
		puts []store.Put
		sums [][sha256.Size]byte
	)
	for _, raw := range raws {
		o, err := stix.Parse([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		put, err := store.NewPut(o)
		if err != nil {
			t.Fatal(err)
		}
		puts = append(puts, put)
		sums = append(sums, put.Hash)
	}
	for i := 0; i < len(sums); i += 16 {
		provs, err := provenance.SignBatch(signer.Private, p.nodeID, sums[i:min(i+16, len(sums))])
		if err != nil {
			t.Fatal(err)
		}
		for j, prov := range provs {
			if puts[i+j].Provenance, err = prov.Encode(); err != nil {
				t.Fatal(err)
			}
		}
	}
	err := p.st.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
		out, err := tx.AddObjects(ctx, p.ini.CollectionID, puts)
		for _, o := range out {
			err = errors.Join(err, o.Err)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func indicators(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, indicatorRaw(i))
	}
	return out
}

// received counts p's received ledger entries.
func (p *party) received(t testing.TB) int {
	n := 0
	for _, e := range p.entries(t) {
		if _, ok := e.Event.(ledger.Received); ok {
			n++
		}
	}
	return n
}

func TestLinkBetweenNodes(t *testing.T) {
	a, b := twoParties(t, nil)
	b.share(t, "arcadia", store.RightRead)
	url := b.serve(t, nil)
	b.originate(t, nil, indicators(0, 30)...)
	// Never sent: borealis-to-arcadia allows no attack-pattern, so
	// borealis's release withholds it.
	b.originate(t, nil, sdo("attack-pattern", 99, `,"name":"x"`))

	if err := a.link(t, b, url, 7).Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(a.held(t)); n != 30 {
		t.Fatalf("arcadia holds %d versions after the first sync, want 30", n)
	}
	// A restart: a new link resumes from the durable cursor.
	b.originate(t, nil, indicators(30, 35)...)
	l := a.link(t, b, url, 7)
	if err := l.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	held := a.held(t)
	if len(held) != 35 {
		t.Fatalf("arcadia holds %d versions after the restart, want 35", len(held))
	}
	for k, o := range held {
		if o.FromParty != "borealis" || o.FromNode != b.nodeID || len(o.Provenance) == 0 || o.LedgerIndex < 0 {
			t.Errorf("%s: from %q/%q, provenance %d bytes, ledger %d", k, o.FromParty, o.FromNode, len(o.Provenance), o.LedgerIndex)
		}
	}
	if h := l.Health(); h.Stored != 5 || h.Duplicates != 0 || h.Refused != 0 || h.State != federation.StateIdle {
		t.Errorf("health after the restart: %+v, want 5 stored and nothing else", h)
	}
	if n := a.received(t); n != 35 {
		t.Errorf("arcadia's ledger holds %d received entries, want 35", n)
	}
	if len(a.alerts) != 0 {
		t.Errorf("alerts %v", a.alerts)
	}
	// The link's health is in the store, for entente partners.
	hs, err := a.st.LinkHealth(t.Context())
	if err != nil || len(hs) != 1 || hs[0].Node != b.nodeID || hs[0].Stored != 5 {
		t.Errorf("stored link health = %+v, %v", hs, err)
	}
}

// liar is a partner node that sends whatever it holds, as it would to
// its own admin: it skips its release, and so its party's rule.
type liar struct{ *node.Node }

func (l liar) Objects(ctx context.Context, c *taxii.Caller, root, collection string, f *taxii.Filter) (*taxii.Page, error) {
	return l.Node.Objects(ctx, &taxii.Caller{Name: "admin", Role: string(store.RoleAdmin)}, root, collection, f)
}

func TestLinkFromALyingPartner(t *testing.T) {
	a, b := twoParties(t, nil)
	b.share(t, "arcadia", store.RightRead)
	url := b.serve(t, liar{b.n})
	other, err := node.GenerateKey(b.nodeID)
	if err != nil {
		t.Fatal(err)
	}
	forger, _ := node.ParseKey(other)
	b.originate(t, nil, indicators(0, 3)...)
	b.originate(t, forger, indicatorRaw(3))                      // forged origin signature
	b.originate(t, nil, sdo("attack-pattern", 4, `,"name":"x"`)) // outside borealis's rule
	b.originate(t, nil, indicators(5, 6)...)

	l := a.link(t, b, url, 2)
	if err := l.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	held := a.held(t)
	if len(held) != 4 {
		t.Errorf("arcadia holds %d versions, want the 4 honest ones: %v", len(held), held)
	}
	for k := range held {
		if strings.Contains(k, "000000000003") || strings.Contains(k, "attack-pattern") {
			t.Errorf("arcadia stored %s", k)
		}
	}
	alerts, err := a.st.Alerts(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, al := range alerts {
		kinds = append(kinds, al.Kind)
		if al.Entry < 0 {
			t.Errorf("alert %+v names no ledger entry", al)
		}
	}
	if strings.Join(kinds, ",") != node.AlertSignature+","+node.AlertViolation {
		t.Errorf("alerts %v, want a bad signature then a violation", kinds)
	}
	if h := l.Health(); h.Refused != 2 || h.Stored != 4 {
		t.Errorf("health %+v, want 4 stored and 2 refused", h)
	}
	var violations int
	for _, e := range a.entries(t) {
		if tr, ok := e.Event.(ledger.Transition); ok && tr.Workflow == node.ViolationWorkflow && tr.Party == "borealis" {
			violations++
		}
	}
	if violations != 2 {
		t.Errorf("%d violation entries, want 2", violations)
	}
	// The refused versions stay refused: a second pull asks only for what
	// is new, and a repeated page would be refused again, never stored.
	if err := l.Sync(t.Context()); err != nil || len(a.held(t)) != 4 {
		t.Errorf("second sync: %v, %d held", err, len(a.held(t)))
	}
}

func TestLinkRefusesAPartnerWithoutShares(t *testing.T) {
	a, b := twoParties(t, nil)
	url := b.serve(t, nil)
	b.originate(t, nil, indicators(0, 3)...)
	// Nothing is shared with arcadia: it sees no collection, pulls
	// nothing, and that is no error.
	if err := a.link(t, b, url, 10).Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(a.held(t)); n != 0 {
		t.Errorf("arcadia holds %d versions of an unshared collection", n)
	}
}

// insecure trusts any server certificate: for a benchmark's client that
// posts as an account to a node on loopback.
func insecure() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }

func TestLinkStopsWhileThePartnersLogIsSuspended(t *testing.T) {
	a, b := twoParties(t, nil)
	b.share(t, "arcadia", store.RightRead)
	url := b.serve(t, nil)
	b.originate(t, nil, indicators(0, 3)...)
	// As the witness does when borealis's log forks.
	if err := a.st.SuspendLog(t.Context(), store.Suspension{Origin: b.peer().Log, Since: time.Now(), Reason: "fork"}); err != nil {
		t.Fatal(err)
	}
	l := a.link(t, b, url, 100)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for l.Health().State != federation.StateSuspended && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // several polls
	if h := l.Health(); h.State != federation.StateSuspended || !strings.Contains(h.Suspended, b.peer().Log) {
		t.Fatalf("health of a link to a suspended log: %+v", h)
	}
	if n := len(a.held(t)); n != 0 {
		t.Errorf("a suspended link stored %d versions", n)
	}
	alerts, err := a.st.Alerts(t.Context(), 0, 10)
	if err != nil || len(alerts) != 1 || alerts[0].Kind != federation.AlertSuspended || alerts[0].Party != "borealis" {
		t.Errorf("alerts = %+v, %v; want one suspension", alerts, err)
	}
	hs, err := a.st.LinkHealth(t.Context())
	if err != nil || len(hs) != 1 || hs[0].Suspended == "" {
		t.Errorf("stored health = %+v, %v; want the suspension's reason", hs, err)
	}
	// An operator resumes the log (entente witness resume): the link
	// goes on by itself.
	if err := a.st.ResumeLog(t.Context(), b.peer().Log); err != nil {
		t.Fatal(err)
	}
	for len(a.held(t)) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(a.held(t)); n != 3 || l.Health().Suspended != "" {
		t.Errorf("after the resumption: %d held, health %+v", n, l.Health())
	}
}
