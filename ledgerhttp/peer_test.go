package ledgerhttp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// peerLog identifies partner nodes by their certificate's common name and
// remembers who asked for openings.
type peerLog struct {
	*memLog
	mu     sync.Mutex
	caller *Caller
}

func (l *peerLog) AuthorizePeer(ctx context.Context, cs *tls.ConnectionState) (*Caller, error) {
	switch cs.PeerCertificates[0].Subject.CommonName {
	case "borealis-node-1":
		return &Caller{Name: "borealis-node-1", Role: "partner", Party: "borealis", Node: "borealis-node-1"}, nil
	case "refused":
		return nil, ErrUnauthorized
	}
	return nil, nil
}

func (l *peerLog) Openings(ctx context.Context, c *Caller, from, to int64) ([]Opening, error) {
	l.mu.Lock()
	l.caller = c
	l.mu.Unlock()
	return nil, nil
}

func peerCert(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestPeerAuthorizer: a partner node reads openings by its certificate,
// without a token, as the caller the Backend made of it; a certificate
// the Backend refuses is refused whatever token comes with it.
func TestPeerAuthorizer(t *testing.T) {
	l := &peerLog{memLog: newMemLog(t, 4)}
	srv := httptest.NewUnstartedServer(NewServer(l, Config{}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name, cert, token string
		status            int
		party             string
	}{
		{"partner, no token", "borealis-node-1", "", http.StatusOK, "borealis"},
		{"refused, admin token", "refused", "admin-token", http.StatusUnauthorized, ""},
		{"unknown certificate, token", "stranger", testToken, http.StatusOK, ""},
		{"no certificate, token", "", testToken, http.StatusOK, ""},
		{"no certificate, no token", "", "", http.StatusUnauthorized, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
			if tc.cert != "" {
				cfg.Certificates = []tls.Certificate{peerCert(t, tc.cert)}
			}
			tr := &http.Transport{TLSClientConfig: cfg}
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequest("GET", srv.URL+Prefix+"openings?from=0&to=2", nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			l.mu.Lock()
			l.caller = nil
			l.mu.Unlock()
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d; want %d", resp.StatusCode, tc.status)
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			if tc.status == http.StatusOK && (l.caller == nil || l.caller.Party != tc.party) {
				t.Errorf("Openings got caller %+v; want party %q", l.caller, tc.party)
			}
		})
	}
}
