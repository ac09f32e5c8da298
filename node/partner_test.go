package node_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/ledgerhttp"
	"github.com/entente/entente/node"
	"github.com/entente/entente/provenance"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/store/sqlite"
	"github.com/entente/entente/taxii"
)

// The example agreement's nodes: this node is Arcadia's, the partner
// Borealis's.
const (
	selfNode    = "arcadia-node-1"
	partnerNode = "borealis-node-1"
	partnerOrg  = "borealis-cert"
)

// fedClock is a test clock inside the example agreement's validity.
type fedClock struct{ t atomic.Pointer[time.Time] }

func newFedClock() *fedClock {
	c := &fedClock{}
	c.set(time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC))
	return c
}

func (c *fedClock) set(t time.Time) { c.t.Store(&t) }
func (c *fedClock) now() time.Time  { return *c.t.Load() }

// fedKeys are fresh node keys for the example's two nodes.
type fedKeys struct{ self, partner *node.Key }

func newFedKeys(t testing.TB) fedKeys {
	return fedKeys{self: newNodeKey(t, selfNode), partner: newNodeKey(t, partnerNode)}
}

func newNodeKey(t testing.TB, name string) *node.Key {
	t.Helper()
	skey, err := node.GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	k, err := node.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// exampleAgreement is the example agreement with the given node keys. Its
// signatures no longer verify; the node leaves verifying them to its
// caller.
func exampleAgreement(t testing.TB, keys map[string]*node.Key) *agreement.Agreement {
	t.Helper()
	doc, err := os.ReadFile("../examples/arcadia-borealis.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := agreement.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	for id, k := range keys {
		_, n, ok := a.Node(id)
		if !ok {
			t.Fatalf("the example has no node %s", id)
		}
		n.Key = k.VerifierKey
	}
	return a
}

// fedNode is a node on a real SQLite store, serving TAXII and its ledger
// over real TLS that asks partners for their certificates.
type fedNode struct {
	n        *node.Node
	st       store.Store
	ini      *node.Initialized
	srv      *httptest.Server
	requests atomic.Int64 // requests that reached a handler
	clock    *fedClock
	a        *agreement.Agreement
	keys     fedKeys
}

// newFedNode starts Arcadia's node under the example agreement. wrap,
// when set, wraps the store the node uses (to make it fail).
func newFedNode(t testing.TB, wrap func(store.Store) store.Store) *fedNode {
	t.Helper()
	ctx := context.Background()
	f := &fedNode{clock: newFedClock(), keys: newFedKeys(t)}
	f.a = exampleAgreement(t, map[string]*node.Key{selfNode: f.keys.self, partnerNode: f.keys.partner})
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "node.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	if wrap != nil {
		f.st = wrap(st)
	}
	if f.ini, err = node.Initialize(ctx, f.st, f.clock.now()); err != nil {
		t.Fatal(err)
	}
	f.n, err = node.New(ctx, node.Config{Store: f.st, Now: f.clock.now, Key: f.keys.self, Agreement: f.a, Self: selfNode})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := node.NewTransparency(f.n, node.TransparencyConfig{Cosigner: f.keys.self.Cosigner(nil)})
	if err != nil {
		t.Fatal(err)
	}
	count := func(string, int, time.Duration) { f.requests.Add(1) }
	txs := taxii.NewServer(f.n, taxii.Config{Observe: count, MaxPageSize: 1000})
	ls := ledgerhttp.NewServer(tr, ledgerhttp.Config{Observe: count})
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, ledgerhttp.Prefix) {
			ls.ServeHTTP(w, r)
			return
		}
		txs.ServeHTTP(w, r)
	}))
	cert, err := f.keys.self.SelfSignedCertificate([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	f.n.ServerTLSConfig(f.srv.TLS)
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

// partnerTLS is the partner node's client configuration, as its own node
// builds it under the same agreement.
func (f *fedNode) partnerTLS(t testing.TB, key *node.Key, a *agreement.Agreement) *tls.Config {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "partner.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := node.Initialize(ctx, st, f.clock.now()); err != nil {
		t.Fatal(err)
	}
	pn, err := node.New(ctx, node.Config{Store: st, Now: f.clock.now, Key: key, Agreement: a, Self: partnerNode})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pn.PeerTLSConfig(selfNode)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// client returns a TAXII client over its own connections.
func (f *fedNode) client(t testing.TB, cfg *tls.Config, token string) *taxii.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := taxii.NewClient(f.srv.URL+"/", taxii.ClientOptions{Token: token, HTTPClient: &http.Client{Transport: tr, Timeout: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// partner is a TAXII client of the partner node, authenticated by its
// certificate alone.
func (f *fedNode) partner(t testing.TB) *taxii.Client {
	return f.client(t, f.partnerTLS(t, f.keys.partner, f.a), "")
}

// admin is a TAXII client of the node's admin account, without a client
// certificate.
func (f *fedNode) admin(t testing.TB) *taxii.Client {
	cfg, err := node.NodeKeyTLSConfig(f.keys.self.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	return f.client(t, cfg, f.ini.AdminToken)
}

func (f *fedNode) share(t testing.TB, collection string, r store.Right) {
	t.Helper()
	if _, _, err := node.Share(context.Background(), f.st, f.a, "arcadia", "borealis", collection, r); err != nil {
		t.Fatal(err)
	}
}

// post adds objects as the admin and fails the test unless all succeed.
func (f *fedNode) post(t testing.TB, objs ...string) {
	t.Helper()
	raws := make([]json.RawMessage, len(objs))
	for i, o := range objs {
		raws[i] = json.RawMessage(o)
	}
	s, err := f.admin(t).AddObjects(context.Background(), node.DefaultAPIRoot, f.ini.CollectionID, raws)
	if err != nil {
		t.Fatal(err)
	}
	if s.SuccessCount != len(objs) {
		t.Fatalf("adding %d objects: %+v", len(objs), s)
	}
}

// Markings of the test objects.
const (
	tlpGreen = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
	tlpAmber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	tlpRed   = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
)

func oid(typ string, i int) string { return fmt.Sprintf("%s--00000000-0000-4000-8000-%012d", typ, i) }

// fedIndicator is an indicator with the given TLP and extra properties.
func fedIndicator(i int, tlp, extra string) string {
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2026-06-01T00:00:00.000Z",`+
		`"modified":"2026-06-01T00:00:%02d.000Z","pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix",`+
		`"valid_from":"2026-06-01T00:00:00Z","object_marking_refs":[%q]%s}`, oid("indicator", i), i%60, i%250, tlp, extra)
}

// kinds of test object, and what the example's arcadia-to-borealis rule
// decides for each.
type fedKind int

const (
	kindAllowed   fedKind = iota // TLP:GREEN indicator
	kindTLP                      // TLP:RED: above the rule's ceiling
	kindLabel                    // an excluded label
	kindRedacted                 // a description marked TLP:RED
	kindType                     // a type the rule does not list
	kindRefOK                    // a relationship between two allowed objects
	kindRefDenied                // a relationship to a TLP:RED object
	kindCount
)

func (k fedKind) released() bool { return k == kindAllowed || k == kindRedacted || k == kindRefOK }

// fedObject is test object i of kind k.
func fedObject(i int, k fedKind) string {
	switch k {
	case kindTLP:
		return fedIndicator(i, tlpRed, "")
	case kindLabel:
		return fedIndicator(i, tlpGreen, `,"labels":["under-investigation"]`)
	case kindRedacted:
		return fedIndicator(i, tlpGreen, `,"description":"secret source","granular_markings":[{"marking_ref":"`+tlpRed+`","selectors":["description"]}]`)
	case kindType:
		return fmt.Sprintf(`{"type":"tool","spec_version":"2.1","id":%q,"created":"2026-06-01T00:00:00.000Z","modified":"2026-06-01T00:00:00.000Z","name":"t","object_marking_refs":[%q]}`,
			oid("tool", i), tlpGreen)
	case kindRefOK, kindRefDenied:
		target := oid("indicator", 1) // kindAllowed
		if k == kindRefDenied {
			target = oid("indicator", 2) // kindTLP
		}
		return fmt.Sprintf(`{"type":"relationship","spec_version":"2.1","id":%q,"created":"2026-06-01T00:00:00.000Z","modified":"2026-06-01T00:00:00.000Z",`+
			`"relationship_type":"related-to","source_ref":%q,"target_ref":%q,"object_marking_refs":[%q]}`,
			oid("relationship", i), oid("indicator", 1), target, tlpGreen)
	}
	return fedIndicator(i, tlpGreen, "")
}

func fedObjectID(i int, k fedKind) string {
	switch k {
	case kindType:
		return oid("tool", i)
	case kindRefOK, kindRefDenied:
		return oid("relationship", i)
	}
	return oid("indicator", i)
}

// fedData posts n objects whose kinds cycle, so that withheld ones sit
// between released ones, and returns the ids of those released, in order.
// Object 1 is allowed and object 2 TLP:RED, as the relationships need.
func fedData(t testing.TB, f *fedNode, n int) (released []string, kinds map[string]fedKind) {
	t.Helper()
	kinds = map[string]fedKind{}
	var objs []string
	for i := 1; i <= n; i++ {
		k := fedKind((i - 1) % int(kindCount))
		objs = append(objs, fedObject(i, k))
		id := fedObjectID(i, k)
		kinds[id] = k
		if k.released() {
			released = append(released, id)
		}
	}
	for len(objs) > 0 {
		m := min(len(objs), 500)
		f.post(t, objs[:m]...)
		objs = objs[m:]
	}
	return released, kinds
}

func objectIDs(t testing.TB, objs []json.RawMessage) []string {
	t.Helper()
	var ids []string
	for _, raw := range objs {
		o, err := stix.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	return ids
}

// TestPartnerUnpinnedKeyRefused: a client certificate whose key the
// agreement does not pin fails the handshake, before any handler runs;
// so does one of the node's own party. Without a certificate, account
// tokens work as they did.
func TestPartnerUnpinnedKeyRefused(t *testing.T) {
	f := newFedNode(t, nil)
	ctx := t.Context()
	for name, key := range map[string]*node.Key{
		"unpinned key":   newNodeKey(t, partnerNode),
		"own node's key": f.keys.self,
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := node.NodeKeyTLSConfig(f.keys.self.VerifierKey)
			if err != nil {
				t.Fatal(err)
			}
			cert, err := key.SelfSignedCertificate(nil)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Certificates = []tls.Certificate{cert}
			before := f.requests.Load()
			_, err = f.client(t, cfg, f.ini.AdminToken).Discovery(ctx)
			var re *taxii.ResponseError
			if err == nil || errors.As(err, &re) {
				t.Fatalf("Discovery with an unpinned client certificate: %v; want the handshake refused", err)
			}
			if n := f.requests.Load() - before; n != 0 {
				t.Errorf("%d requests reached a handler; want none", n)
			}
		})
	}
	if _, err := f.admin(t).Discovery(ctx); err != nil {
		t.Errorf("the admin's token without a client certificate: %v", err)
	}
	cfg, _ := node.NodeKeyTLSConfig(f.keys.self.VerifierKey)
	if _, err := f.client(t, cfg, "").Discovery(ctx); !errors.Is(err, taxii.ErrUnauthorized) {
		t.Errorf("no certificate and no token: %v; want 401", err)
	}
	if _, err := f.partner(t).Discovery(ctx); err != nil {
		t.Errorf("the pinned partner node: %v", err)
	}
}

// TestPartnerAgreementLapses: a pinned key is refused once the agreement
// has expired or been superseded by a version that no longer pins it, at
// the handshake of a new connection and on a connection that stayed open.
func TestPartnerAgreementLapses(t *testing.T) {
	ctx := t.Context()
	t.Run("expired", func(t *testing.T) {
		f := newFedNode(t, nil)
		open := f.partner(t)
		if _, err := open.Discovery(ctx); err != nil {
			t.Fatal(err)
		}
		f.clock.set(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)) // the expiry date
		if _, err := open.Discovery(ctx); !errors.Is(err, taxii.ErrUnauthorized) {
			t.Errorf("on the open connection after expiry: %v; want 401", err)
		}
		if _, err := f.partner(t).Discovery(ctx); err == nil {
			t.Error("a new connection after expiry was accepted; want the handshake refused")
		}
	})
	t.Run("superseded", func(t *testing.T) {
		f := newFedNode(t, nil)
		open := f.partner(t)
		if _, err := open.Discovery(ctx); err != nil {
			t.Fatal(err)
		}
		// Version 2 pins a new key for the partner node.
		newKey := newNodeKey(t, partnerNode)
		next := exampleAgreement(t, map[string]*node.Key{selfNode: f.keys.self, partnerNode: newKey})
		next.Version, next.Supersedes = f.a.Version+1, f.a.Version
		if err := f.n.Amend(ctx, next); err != nil {
			t.Fatal(err)
		}
		if _, err := open.Discovery(ctx); !errors.Is(err, taxii.ErrUnauthorized) {
			t.Errorf("the superseded key on the open connection: %v; want 401", err)
		}
		if _, err := f.partner(t).Discovery(ctx); err == nil {
			t.Error("the superseded key on a new connection was accepted; want the handshake refused")
		}
		if _, err := f.client(t, f.partnerTLS(t, newKey, next), "").Discovery(ctx); err != nil {
			t.Errorf("the key version 2 pins: %v", err)
		}
		if a, _ := f.n.Agreement(); a.Version != next.Version {
			t.Errorf("Agreement().Version = %d, want %d", a.Version, next.Version)
		}
		stale := exampleAgreement(t, map[string]*node.Key{selfNode: f.keys.self, partnerNode: newKey})
		if err := f.n.Amend(ctx, stale); err == nil {
			t.Error("Amend accepted a version that does not supersede the one in force")
		}
	})
}

// TestPartnerUnsharedCollection: a partner sees and reads only what is
// shared with its party; anything else gets the answer of a collection
// that does not exist.
func TestPartnerUnsharedCollection(t *testing.T) {
	f := newFedNode(t, nil)
	ctx := t.Context()
	fedData(t, f, 3)
	p := f.partner(t)
	cols, err := p.Collections(ctx, node.DefaultAPIRoot)
	if err != nil || len(cols) != 0 {
		t.Errorf("Collections before any share = %v, %v; want none (nothing is shared by default)", cols, err)
	}
	const missing = "0f8d8e37-0000-4000-8000-000000000000"
	_, _, errMissing := p.Objects(ctx, node.DefaultAPIRoot, missing, taxii.Query{})
	_, _, errUnshared := p.Objects(ctx, node.DefaultAPIRoot, f.ini.CollectionID, taxii.Query{})
	var rm, ru *taxii.ResponseError
	if !errors.As(errMissing, &rm) || !errors.As(errUnshared, &ru) || ru.StatusCode != 404 {
		t.Fatalf("reading a missing collection: %v; an unshared one: %v; want 404 for both", errMissing, errUnshared)
	}
	if strings.ReplaceAll(ru.Description, f.ini.CollectionID, missing) != rm.Description || ru.Title != rm.Title {
		t.Errorf("an unshared collection answers %q, a missing one %q; want the same answer", ru.Description, rm.Description)
	}
	for _, get := range []func() error{
		func() error { _, err := p.Collection(ctx, node.DefaultAPIRoot, f.ini.CollectionID); return err },
		func() error {
			_, _, err := p.Manifest(ctx, node.DefaultAPIRoot, f.ini.CollectionID, taxii.Query{})
			return err
		},
		func() error {
			_, _, err := p.Object(ctx, node.DefaultAPIRoot, f.ini.CollectionID, oid("indicator", 1), taxii.Query{})
			return err
		},
	} {
		if err := get(); !errors.Is(err, taxii.ErrNotFound) {
			t.Errorf("an unshared collection: %v; want 404", err)
		}
	}
	// Shared for writing only (an inbox): seen, not read.
	f.share(t, f.ini.CollectionID, store.RightWrite)
	if _, _, err := p.Objects(ctx, node.DefaultAPIRoot, f.ini.CollectionID, taxii.Query{}); !errors.Is(err, taxii.ErrForbidden) {
		t.Errorf("reading a collection shared for writing: %v; want 403", err)
	}
	f.share(t, f.ini.CollectionID, store.RightRead)
	if env, _, err := p.Objects(ctx, node.DefaultAPIRoot, f.ini.CollectionID, taxii.Query{}); err != nil || len(env.Objects) != 1 {
		t.Errorf("reading the shared collection: %v, %v; want the one allowed object", env, err)
	}
	if err := p.DeleteObject(ctx, node.DefaultAPIRoot, f.ini.CollectionID, oid("indicator", 1), taxii.Query{}); !errors.Is(err, taxii.ErrForbidden) {
		t.Errorf("a partner deleting: %v; want 403", err)
	}
	if _, _, err := node.Unshare(ctx, f.st, "borealis", f.ini.CollectionID, store.RightRead); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Objects(ctx, node.DefaultAPIRoot, f.ini.CollectionID, taxii.Query{}); !errors.Is(err, taxii.ErrForbidden) {
		t.Errorf("reading after the read share was taken away: %v; want 403", err)
	}
	if _, _, err := node.Share(ctx, f.st, f.a, "arcadia", "dystopia", f.ini.CollectionID, store.RightRead); !errors.Is(err, node.ErrNoParty) {
		t.Errorf("sharing with a party the agreement does not name: %v; want ErrNoParty", err)
	}
	if _, _, err := node.Share(ctx, f.st, f.a, "arcadia", "arcadia", f.ini.CollectionID, store.RightRead); !errors.Is(err, node.ErrNoParty) {
		t.Errorf("sharing with the node's own party: %v; want ErrNoParty", err)
	}
}

// pageAll reads every page of an endpoint with the given limit, checking
// that each page but the last is full, and returns the ids in order.
func pageAll(t *testing.T, limit int, get func(next string) (ids []string, more bool, nextToken string, err error)) []string {
	t.Helper()
	var all []string
	next := ""
	for page := 0; ; page++ {
		ids, more, n, err := get(next)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		all = append(all, ids...)
		if !more {
			if len(ids) > limit {
				t.Fatalf("last page holds %d items for a limit of %d", len(ids), limit)
			}
			if len(ids) == 0 && page > 0 {
				t.Errorf("page %d is empty after a page with more: it tells that something after was withheld", page)
			}
			return all
		}
		if len(ids) != limit {
			t.Errorf("page %d holds %d items with more to come; want %d: a short page tells that something was withheld", page, len(ids), limit)
		}
		if n == "" {
			t.Fatalf("page %d: more without next", page)
		}
		next = n
	}
}

// TestPartnerRelease: on every endpoint a partner receives exactly what
// the rule allows, redacted as the policy says, in full pages.
func TestPartnerRelease(t *testing.T) {
	f := newFedNode(t, nil)
	ctx := t.Context()
	want, kinds := fedData(t, f, 40)
	f.share(t, f.ini.CollectionID, store.RightRead)
	p := f.partner(t)
	root, col := node.DefaultAPIRoot, f.ini.CollectionID

	for _, limit := range []int{1, 3, 4, 1000} {
		t.Run(fmt.Sprintf("objects/limit=%d", limit), func(t *testing.T) {
			var bodies []json.RawMessage
			got := pageAll(t, limit, func(next string) ([]string, bool, string, error) {
				env, _, err := p.Objects(ctx, root, col, taxii.Query{Limit: limit, Next: next})
				if err != nil {
					return nil, false, "", err
				}
				bodies = append(bodies, env.Objects...)
				return objectIDs(t, env.Objects), env.More, env.Next, nil
			})
			if !slices.Equal(got, want) {
				t.Errorf("released %v\nwant %v", got, want)
			}
			for _, raw := range bodies {
				o, _ := stix.Parse(raw)
				_, hasDescription := o.Props["description"]
				if kinds[o.ID] == kindRedacted && (hasDescription || strings.Contains(string(raw), "secret")) {
					t.Errorf("%s went out with its TLP:RED description: %s", o.ID, raw)
				}
				if kinds[o.ID] == kindAllowed && string(raw) != fedObject(indexOf(o.ID), kindAllowed) {
					t.Errorf("%s went out changed: %s", o.ID, raw)
				}
			}
		})
		t.Run(fmt.Sprintf("manifest/limit=%d", limit), func(t *testing.T) {
			got := pageAll(t, limit, func(next string) ([]string, bool, string, error) {
				m, _, err := p.Manifest(ctx, root, col, taxii.Query{Limit: limit, Next: next})
				if err != nil {
					return nil, false, "", err
				}
				var ids []string
				for _, r := range m.Objects {
					ids = append(ids, r.ID)
				}
				return ids, m.More, m.Next, nil
			})
			if !slices.Equal(got, want) {
				t.Errorf("manifest lists %v\nwant %v", got, want)
			}
		})
	}
	t.Run("object", func(t *testing.T) {
		for id, k := range kinds {
			env, _, err := p.Object(ctx, root, col, id, taxii.Query{})
			switch {
			case k.released() && (err != nil || len(env.Objects) != 1):
				t.Errorf("%s (kind %d): %v, %v; want it", id, k, env, err)
			case !k.released() && !errors.Is(err, taxii.ErrNotFound):
				t.Errorf("%s (kind %d): %v, %v; want 404, as for an object that does not exist", id, k, env, err)
			}
		}
	})
	t.Run("versions", func(t *testing.T) {
		// A second version of an allowed object, then a TLP:RED third.
		f.post(t, strings.Replace(fedObject(1, kindAllowed), "00:00:01.000Z", "00:01:00.000Z", 1))
		f.post(t, strings.Replace(fedIndicator(1, tlpRed, ""), "00:00:01.000Z", "00:02:00.000Z", 1))
		got := pageAll(t, 1, func(next string) ([]string, bool, string, error) {
			v, _, err := p.Versions(ctx, root, col, oid("indicator", 1), taxii.Query{Limit: 1, Next: next})
			if err != nil {
				return nil, false, "", err
			}
			return v.Versions, v.More, v.Next, nil
		})
		if want := []string{"2026-06-01T00:00:01.000Z", "2026-06-01T00:01:00.000Z"}; !slices.Equal(got, want) {
			t.Errorf("versions = %v; want %v, without the TLP:RED one", got, want)
		}
		// The relationships to it were released before, while it was
		// TLP:GREEN; now that the object they reference is withheld, so
		// are they: a decision that looked another object up is never
		// taken from the cache.
		env, _, err := p.Objects(ctx, root, col, taxii.Query{Types: []string{"relationship"}})
		if err != nil {
			t.Fatal(err)
		}
		if ids := objectIDs(t, env.Objects); len(ids) != 0 {
			t.Errorf("relationships to a withheld object were released: %v", ids)
		}
		if _, _, err := p.Versions(ctx, root, col, oid("indicator", 2), taxii.Query{}); !errors.Is(err, taxii.ErrNotFound) {
			t.Errorf("the versions of a withheld object: %v; want 404", err)
		}
		// The latest version is TLP:RED now: the object endpoint's
		// default (the last version) withholds it rather than falling
		// back to an older one.
		if env, _, err := p.Object(ctx, root, col, oid("indicator", 1), taxii.Query{}); err != nil || len(env.Objects) != 0 {
			t.Errorf("an object whose latest version is withheld: %v, %v; want no version", env, err)
		}
	})
	t.Run("local account", func(t *testing.T) {
		env, _, err := f.admin(t).Objects(ctx, root, col, taxii.Query{})
		if err != nil || len(env.Objects) != 40 {
			t.Errorf("the admin reads %d objects, %v; want all 40", len(env.Objects), err)
		}
	})
}

func indexOf(id string) int {
	var i int
	fmt.Sscanf(id[len(id)-12:], "%d", &i)
	return i
}

// disclosed returns the Disclosed entries of f's ledger.
func disclosed(t *testing.T, f *fedNode) []ledger.Disclosed {
	t.Helper()
	ctx := t.Context()
	size, err := f.st.LedgerSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := f.st.LedgerRecords(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	var out []ledger.Disclosed
	for _, r := range recs {
		e, err := ledger.DecodeEntry(r.Entry)
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := e.Event.(ledger.Disclosed); ok {
			if !slices.Equal(r.Concerns, []string{"borealis"}) {
				t.Errorf("entry %d concerns %v; want borealis", r.Index, r.Concerns)
			}
			out = append(out, d)
		}
	}
	return out
}

// TestPartnerDisclosuresOnce: each version a partner receives is one
// ledger entry and one disclosure, however often and however
// concurrently it is read; manifests disclose no content and record
// nothing.
func TestPartnerDisclosuresOnce(t *testing.T) {
	f := newFedNode(t, nil)
	ctx := t.Context()
	want, kinds := fedData(t, f, 21)
	f.share(t, f.ini.CollectionID, store.RightRead)
	p := f.partner(t)
	root, col := node.DefaultAPIRoot, f.ini.CollectionID

	if _, _, err := p.Manifest(ctx, root, col, taxii.Query{}); err != nil {
		t.Fatal(err)
	}
	if d := disclosed(t, f); len(d) != 0 {
		t.Fatalf("a manifest read recorded %d disclosures; want none", len(d))
	}
	received := map[string][]byte{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 4 {
		wg.Go(func() {
			for _, limit := range []int{2, 5} {
				next := ""
				for {
					env, _, err := p.Objects(ctx, root, col, taxii.Query{Limit: limit, Next: next})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, raw := range env.Objects {
						o, _ := stix.Parse(raw)
						received[o.ID] = raw
					}
					mu.Unlock()
					if !env.More {
						break
					}
					next = env.Next
				}
			}
		})
	}
	wg.Wait()
	for _, id := range want {
		if _, _, err := p.Object(ctx, root, col, id, taxii.Query{}); err != nil {
			t.Fatal(err)
		}
	}
	ds := disclosed(t, f)
	if len(ds) != len(want) {
		t.Fatalf("%d disclosure entries for %d released versions; want one each", len(ds), len(want))
	}
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.Object.ID)
		digest, err := ledger.ObjectDigest(received[d.Object.ID])
		if err != nil {
			t.Fatal(err)
		}
		if d.Object.Digest != digest {
			t.Errorf("%s: the entry's digest is not that of what the partner received", d.Object.ID)
		}
		if d.To != "borealis" || d.Node != partnerNode || d.Rule != "arcadia-to-borealis" ||
			!slices.Contains(d.Conditions, "confidential") || !strings.Contains(d.Agreement, f.a.ID) {
			t.Errorf("entry %+v; want to borealis (%s) under rule arcadia-to-borealis with its conditions", d, partnerNode)
		}
		if wantRedact := kinds[d.Object.ID] == kindRedacted; wantRedact != slices.Equal(d.Redactions, []string{"description"}) {
			t.Errorf("%s: redactions %v", d.Object.ID, d.Redactions)
		}
	}
	slices.Sort(ids)
	sorted := slices.Sorted(slices.Values(want))
	if !slices.Equal(ids, sorted) {
		t.Errorf("disclosed %v; want %v", ids, sorted)
	}
	rows, err := f.n.Disclosed(ctx, "", want[0])
	if err != nil || len(rows) != 1 || rows[0].Node != partnerNode || rows[0].Party != "borealis" {
		t.Errorf("Disclosed(%s) = %+v, %v; want one disclosure to %s", want[0], rows, err, partnerNode)
	}

	// The partner reads the openings of the entries about it from the
	// ledger, with its certificate and no token.
	if _, _, err := f.n.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: f.partnerTLS(t, f.keys.partner, f.a)}}
	resp, err := hc.Get(f.srv.URL + ledgerhttp.Prefix + "openings")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("openings: %d %s %v", resp.StatusCode, body, err)
	}
	// Besides the disclosures to it, every party may open the two entries
	// of the terms the node started under: its key and the agreement.
	if n := strings.Count(string(body), "\n"); n != len(want)+2 {
		t.Errorf("the partner may open %d entries; want the %d disclosures to it and the 2 terms entries", n, len(want))
	}
}

// failingStore is a SQLite store whose reads a test makes fail.
type failingStore struct {
	store.Store
	lookups, disclosures, updates atomic.Bool
}

var errOutage = errors.New("store outage")

func (s *failingStore) Objects(ctx context.Context, q store.Query) (store.Page, error) {
	if len(q.IDs) > 0 && s.lookups.Load() {
		return store.Page{}, errOutage
	}
	return s.Store.Objects(ctx, q)
}

func (s *failingStore) Disclosures(ctx context.Context, party string, ids []string) ([]store.Disclosure, error) {
	if s.disclosures.Load() {
		return nil, errOutage
	}
	return s.Store.Disclosures(ctx, party, ids)
}

func (s *failingStore) Update(ctx context.Context, f func(context.Context, store.Tx) error) error {
	if s.updates.Load() {
		return errOutage
	}
	return s.Store.Update(ctx, f)
}

// TestPartnerStoreOutage: when the store cannot answer what a decision
// or its record needs, the partner gets 503 and nothing is released or
// recorded.
func TestPartnerStoreOutage(t *testing.T) {
	var fs *failingStore
	f := newFedNode(t, func(st store.Store) store.Store {
		fs = &failingStore{Store: st}
		return fs
	})
	ctx := t.Context()
	want, _ := fedData(t, f, 7) // one relationship to look up
	f.share(t, f.ini.CollectionID, store.RightRead)
	p := f.partner(t)
	root, col := node.DefaultAPIRoot, f.ini.CollectionID
	for name, fail := range map[string]*atomic.Bool{"lookup": &fs.lookups, "disclosures": &fs.disclosures, "ledger write": &fs.updates} {
		fail.Store(true)
		env, _, err := p.Objects(ctx, root, col, taxii.Query{})
		var re *taxii.ResponseError
		if !errors.As(err, &re) || re.StatusCode != 503 || re.RetryAfter == 0 {
			t.Errorf("%s fails: %v, %v; want 503 with Retry-After", name, env, err)
		} else if strings.Contains(re.Description, errOutage.Error()) {
			t.Errorf("%s fails: the answer shows the store's error: %q", name, re.Description)
		}
		fail.Store(false)
	}
	if d := disclosed(t, f); len(d) != 0 {
		t.Errorf("%d disclosures recorded during the outages; want none", len(d))
	}
	env, _, err := p.Objects(ctx, root, col, taxii.Query{})
	if err != nil || !slices.Equal(objectIDs(t, env.Objects), want) {
		t.Errorf("after the outage: %v, %v; want %v", env, err, want)
	}
}

// TestPartnerPostIsReceived: what a partner node adds to a collection
// shared with it for writing is recorded as received from its party, not
// as this node's own.
func TestPartnerPostIsReceived(t *testing.T) {
	f := newFedNode(t, nil)
	ctx := t.Context()
	p := f.partner(t)
	obj := []json.RawMessage{json.RawMessage(fedIndicator(9, tlpGreen, ""))}
	if _, err := p.AddObjects(ctx, node.DefaultAPIRoot, f.ini.CollectionID, obj); !errors.Is(err, taxii.ErrNotFound) {
		t.Fatalf("posting to an unshared collection: %v; want 404", err)
	}
	f.share(t, f.ini.CollectionID, store.RightWrite)
	// What a partner sends carries its origin signature, which Receive
	// checks; unsigned, it would be refused.
	prov, err := provenance.Sign(f.keys.partner.Private, partnerNode, obj[0])
	if err != nil {
		t.Fatal(err)
	}
	rec, err := prov.Encode()
	if err != nil {
		t.Fatal(err)
	}
	before, err := f.st.LedgerSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.AddEnvelope(ctx, node.DefaultAPIRoot, f.ini.CollectionID, &taxii.Envelope{Objects: obj, Provenance: []json.RawMessage{rec}})
	if err != nil || s.SuccessCount != 1 {
		t.Fatalf("posting to the inbox: %+v, %v", s, err)
	}
	size, err := f.st.LedgerSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := f.st.LedgerRecords(ctx, before, size)
	if err != nil || len(recs) != 1 {
		t.Fatalf("the ledger holds %d entries, %v; want the one receipt", len(recs), err)
	}
	e, err := ledger.DecodeEntry(recs[0].Entry)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := e.Event.(ledger.Received); !ok || r.From != "borealis" || r.Object.ID != oid("indicator", 9) ||
		!slices.Equal(recs[0].Concerns, []string{"borealis"}) {
		t.Errorf("entry %+v concerning %v; want received from borealis", e.Event, recs[0].Concerns)
	}
}

// TestPartnerAmendRedecides: what a partner read under one agreement
// version is decided again under the next, however often it was read.
func TestPartnerAmendRedecides(t *testing.T) {
	f := newFedNode(t, nil)
	ctx := t.Context()
	want, _ := fedData(t, f, 7)
	f.share(t, f.ini.CollectionID, store.RightRead)
	p := f.partner(t)
	for range 2 {
		env, _, err := p.Objects(ctx, node.DefaultAPIRoot, f.ini.CollectionID, taxii.Query{})
		if err != nil || !slices.Equal(objectIDs(t, env.Objects), want) {
			t.Fatalf("before the amendment: %v, %v; want %v", env, err, want)
		}
	}
	next := exampleAgreement(t, map[string]*node.Key{selfNode: f.keys.self, partnerNode: f.keys.partner})
	next.Version, next.Supersedes = f.a.Version+1, f.a.Version
	r, _ := next.Rule("arcadia", "borealis")
	r.TLP = "clear" // TLP:GREEN no longer goes
	if err := f.n.Amend(ctx, next); err != nil {
		t.Fatal(err)
	}
	env, _, err := p.Objects(ctx, node.DefaultAPIRoot, f.ini.CollectionID, taxii.Query{})
	if err != nil || len(env.Objects) != 0 {
		t.Errorf("after the amendment: %d objects, %v; want none of the TLP:GREEN ones", len(env.Objects), err)
	}
}
