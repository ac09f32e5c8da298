package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entente/entente/node"
	"github.com/entente/entente/provenance"
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
	l.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, TLSConfig: &tls.Config{
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

var _ = strings.Contains
