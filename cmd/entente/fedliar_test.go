package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
	"github.com/entente/entente/provenance"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// liar is a lying partner node: a TAXII server that answers with what the
// test tells it to, over TLS with a node key (the one the agreement pins
// for the node it impersonates, or another). The honest node's link to
// that node is pointed at it with --partner-url.
type liar struct {
	t    testing.TB
	key  *node.Key
	ln   net.Listener
	srv  *http.Server
	host string

	mu    sync.Mutex
	pages []liarPage // served in turn; the last one again once they run out
	asked []string   // the added_after of each objects request
}

// liarPage is one answer to GET objects.
type liarPage struct {
	objects    []json.RawMessage
	provenance []json.RawMessage // aligned with objects; nil for none
	first      time.Time         // X-TAXII-Date-Added-First
	last       time.Time         // X-TAXII-Date-Added-Last
}

const liarCollection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"

func newLiar(t testing.TB, key *node.Key) *liar {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := key.SelfSignedCertificate([]string{"127.0.0.1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	l := &liar{t: t, key: key, ln: ln, host: ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /taxii2/", func(w http.ResponseWriter, r *http.Request) {
		writeTAXII(w, map[string]any{"title": "a lying partner", "default": "https://" + l.host + "/api1/", "api_roots": []string{"https://" + l.host + "/api1/"}})
	})
	mux.HandleFunc("GET /api1/", func(w http.ResponseWriter, r *http.Request) {
		writeTAXII(w, map[string]any{"title": "api1", "versions": []string{"application/taxii+json;version=2.1"}, "max_content_length": 10 << 20})
	})
	mux.HandleFunc("GET /api1/collections/", func(w http.ResponseWriter, r *http.Request) {
		writeTAXII(w, map[string]any{"collections": []any{map[string]any{
			"id": liarCollection, "title": "shared", "alias": "default", "can_read": true, "can_write": true,
			"media_types": []string{"application/stix+json;version=2.1"}}}})
	})
	mux.HandleFunc("GET /api1/collections/"+liarCollection+"/objects/", l.objects)
	// The handshakes a test makes fail on purpose; their logs say nothing.
	l.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0), TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert}}
	go l.srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { l.srv.Close() })
	return l
}

func (l *liar) url() string { return "https://" + l.host + "/taxii2/" }

func (l *liar) serve(pages ...liarPage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pages = pages
}

// requests returns the added_after of every objects request so far.
func (l *liar) requests() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.asked...)
}

func (l *liar) objects(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	l.asked = append(l.asked, r.URL.Query().Get("added_after"))
	var p liarPage
	if len(l.pages) > 0 {
		p = l.pages[0]
		if len(l.pages) > 1 {
			l.pages = l.pages[1:]
		}
	}
	l.mu.Unlock()
	env := map[string]any{"more": false}
	if len(p.objects) > 0 {
		env["objects"] = p.objects
		prov := make([]json.RawMessage, len(p.objects))
		for i := range prov {
			prov[i] = json.RawMessage("null")
			if i < len(p.provenance) && p.provenance[i] != nil {
				prov[i] = p.provenance[i]
			}
		}
		env[taxii.ProvenanceProperty] = prov
		w.Header().Set("X-TAXII-Date-Added-First", taxii.FormatTimestamp(p.first))
		w.Header().Set("X-TAXII-Date-Added-Last", taxii.FormatTimestamp(p.last))
	}
	writeTAXII(w, env)
}

func writeTAXII(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", taxii.MediaType)
	json.NewEncoder(w).Encode(v)
}

// signedBy returns the provenance of raw signed by key as node.
func signedBy(t testing.TB, key *node.Key, nodeID string, raw json.RawMessage) json.RawMessage {
	t.Helper()
	p, err := provenance.Sign(key.Private, nodeID, raw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// liarIndicator returns a valid indicator with a TLP 2.0 marking.
func liarIndicator(n int, tlp string) json.RawMessage {
	marking := ""
	if tlp != "" {
		marking = fmt.Sprintf(`,"object_marking_refs":[%q]`, tlp20[tlp])
	}
	return json.RawMessage(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-1111-4111-8111-111111111111",`+
		`"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.%d']",`+
		`"pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z"%s}`, n, n%250, marking))
}

// peerClient returns an HTTP client that presents key's certificate and
// accepts only the server key serverKey pins.
func peerClient(t testing.TB, key *node.Key, serverKey string) *http.Client {
	t.Helper()
	cfg, err := node.NodeKeyTLSConfig(serverKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := key.SelfSignedCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Certificates = []tls.Certificate{cert}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

// randomKey returns a fresh node key named id, which no agreement pins.
func randomKey(t testing.TB, id string) *node.Key {
	t.Helper()
	skey, err := node.GenerateKey(id)
	if err != nil {
		t.Fatal(err)
	}
	k, err := node.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// alerts returns the alerts the node recorded, read from its store.
func (n *fedNode) alerts(t testing.TB) []store.Alert {
	t.Helper()
	st, err := openStore(context.Background(), n.dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	as, err := st.Alerts(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// waitAlert waits until the node records an alert of kind about object
// ("" for any) and returns it.
func (n *fedNode) waitAlert(t testing.TB, kind, object string) store.Alert {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, a := range n.alerts(t) {
			if a.Kind == kind && (object == "" || strings.HasPrefix(a.Object, object)) {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s recorded no %q alert about %q: %+v\n%s", n.id, kind, object, n.alerts(t), n.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// holds reports whether the node stores any version of the object id.
func (n *fedNode) holds(t testing.TB, id string) bool {
	t.Helper()
	held, err := n.holdings(t)
	if err != nil {
		t.Fatal(err)
	}
	return held[id] > 0
}

func objectID(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var o struct{ ID string }
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	return o.ID
}

// TestLyingPartner puts a lying partner in Borealis's place, holding
// Borealis's node key, before Arcadia's real node, and checks end to end
// that each lie is refused with an alert and stores nothing, while an
// honest page from the same partner is stored (so the refusals are not
// the link failing altogether).
func TestLyingPartner(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node")
	}
	f := newFederation(t)
	a, b, c := f.nodes["arcadia"], f.nodes["borealis"], f.nodes["caledonia"]
	l := newLiar(t, b.key)
	a.partnerURLs[b.id] = l.url()
	f.start(a)

	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	step := func() time.Time { at = at.Add(time.Second); return at }
	page := func(objs []json.RawMessage, prov []json.RawMessage) {
		first := step()
		l.serve(liarPage{objects: objs, provenance: prov, first: first, last: first.Add(time.Duration(len(objs)-1) * time.Microsecond)}, liarPage{})
	}

	honest := liarIndicator(1, "green")
	page([]json.RawMessage{honest}, []json.RawMessage{signedBy(t, b.key, b.id, honest)})
	waitFor(t, "the honest indicator to be stored", func() bool { return a.holds(t, objectID(t, honest)) })

	refused := func(name, kind string, obj, prov json.RawMessage) {
		t.Run(name, func(t *testing.T) {
			page([]json.RawMessage{obj}, []json.RawMessage{prov})
			alert := a.waitAlert(t, kind, objectID(t, obj))
			if alert.Party != "borealis" || alert.Detail == "" {
				t.Errorf("alert %+v; want one about borealis that says what happened", alert)
			}
			if a.holds(t, objectID(t, obj)) {
				t.Errorf("%s stored %s", a.id, objectID(t, obj))
			}
		})
	}
	forged := liarIndicator(2, "green")
	refused("forged signature", node.AlertSignature, forged, signedBy(t, randomKey(t, b.id), b.id, forged))
	resigned := liarIndicator(3, "green")
	refused("re-signed as another node", node.AlertSignature, resigned, signedBy(t, b.key, c.id, resigned))
	altered := liarIndicator(4, "green")
	prov := signedBy(t, b.key, b.id, altered)
	altered = json.RawMessage(strings.Replace(string(altered), "203.0.113.4", "203.0.113.5", 1))
	refused("altered after signing", node.AlertSignature, altered, prov)
	unsigned := liarIndicator(5, "green")
	refused("unsigned", node.AlertSignature, unsigned, nil)
	red := liarIndicator(6, "red")
	refused("TLP:RED, outside the sender's rule", node.AlertViolation, red, signedBy(t, b.key, b.id, red))
	tool := json.RawMessage(`{"type":"tool","spec_version":"2.1","id":"tool--2e7f7c02-7a36-4f1e-9c5a-1c0de0000007","created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","name":"not in the rule"}`)
	refused("a type outside the sender's rule", node.AlertViolation, tool, signedBy(t, b.key, b.id, tool))

	t.Run("replayed old page", func(t *testing.T) {
		old := liarIndicator(7, "green")
		// A page that starts before the cursor the link asks from.
		cursor := at
		l.serve(liarPage{objects: []json.RawMessage{old}, provenance: []json.RawMessage{signedBy(t, b.key, b.id, old)},
			first: cursor.Add(-time.Hour), last: cursor.Add(time.Second)}, liarPage{})
		alert := a.waitAlert(t, "replay", "")
		if !strings.Contains(alert.Detail, "replayed") && !strings.Contains(alert.Detail, "replay") {
			t.Errorf("alert %+v does not say the page was replayed", alert)
		}
		if a.holds(t, objectID(t, old)) {
			t.Errorf("%s stored the replayed page's object", a.id)
		}
	})

	// Last, since it stops the link: Borealis's log forks before
	// Arcadia's witness, which suspends it; the link stops pulling.
	t.Run("forked checkpoint", func(t *testing.T) {
		client := peerClient(t, b.key, a.key.VerifierKey)
		add := func(old int64, root byte) (int, string) {
			var c ledger.Checkpoint
			c.Origin, c.N = b.origin, 2
			for i := range c.Hash {
				c.Hash[i] = root
			}
			msg, err := ledger.SignCheckpoint(c, b.key.Signer)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Post(a.base+"/ledger/add-checkpoint", "text/plain", strings.NewReader(fmt.Sprintf("old %d\n\n%s", old, msg)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}
		if code, body := add(0, 1); code != http.StatusOK {
			t.Fatalf("the first checkpoint: %d %s", code, body)
		}
		code, body := add(2, 2)
		if code == http.StatusOK {
			t.Fatalf("a forked checkpoint was cosigned: %s", body)
		}
		alert := a.waitAlert(t, "suspended", "")
		if !strings.Contains(alert.Detail, b.origin) {
			t.Errorf("alert %+v does not name the log", alert)
		}
		after := liarIndicator(8, "green")
		page([]json.RawMessage{after}, []json.RawMessage{signedBy(t, b.key, b.id, after)})
		time.Sleep(time.Second) // five polls
		if a.holds(t, objectID(t, after)) {
			t.Errorf("%s stored an object from a partner whose log it suspended", a.id)
		}
	})
}

// TestUnpinnedKey checks both directions of an unpinned key: a link to a
// server whose key the agreement does not pin for the node refuses it,
// stores nothing and says why in the link's health; a client presenting
// an unpinned key fails the TLS handshake before any handler runs.
func TestUnpinnedKey(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node")
	}
	f := newFederation(t)
	a, b := f.nodes["arcadia"], f.nodes["borealis"]
	l := newLiar(t, randomKey(t, b.id))
	obj := liarIndicator(1, "green")
	l.serve(liarPage{objects: []json.RawMessage{obj}, provenance: []json.RawMessage{signedBy(t, b.key, b.id, obj)}, first: time.Now(), last: time.Now()})
	a.partnerURLs[b.id] = l.url()
	f.start(a)

	waitFor(t, "the link to report the unpinned key", func() bool {
		for _, h := range a.linkHealth(t) {
			if h.Node == b.id && h.Errors > 0 && strings.Contains(h.LastError, "certificate") {
				return true
			}
		}
		return false
	})
	if a.holds(t, objectID(t, obj)) || len(l.requests()) > 0 {
		t.Errorf("%s talked to a server with an unpinned key: stored %v, requests %v", a.id, a.holds(t, objectID(t, obj)), l.requests())
	}

	stranger := peerClient(t, randomKey(t, b.id), a.key.VerifierKey)
	for _, path := range []string{"/taxii2/", "/api1/collections/", "/ledger/checkpoint"} {
		resp, err := stranger.Get(a.base + path)
		if err == nil {
			resp.Body.Close()
			t.Errorf("GET %s with an unpinned client key: %s; want a failed handshake", path, resp.Status)
		}
	}
}

// linkHealth returns the health the node recorded for its links.
func (n *fedNode) linkHealth(t testing.TB) []store.LinkHealth {
	t.Helper()
	st, err := openStore(context.Background(), n.dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hs, err := st.LinkHealth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return hs
}
