package taxii_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entente/entente/taxii"
	"github.com/entente/entente/taxii/taxiitest"
)

// peerBackend identifies peers by their certificate's common name.
type peerBackend struct {
	*taxiitest.Fake
	calls atomic.Int32
}

func (b *peerBackend) AuthenticatePeer(ctx context.Context, cs *tls.ConnectionState) (*taxii.Caller, error) {
	b.calls.Add(1)
	switch cs.PeerCertificates[0].Subject.CommonName {
	case "partner":
		return &taxii.Caller{Name: "rita", Role: "reader", Party: "borealis", Node: "borealis-node-1"}, nil
	case "refused":
		return nil, taxii.ErrUnauthorized
	}
	return nil, nil // not a peer it knows: credentials decide
}

func clientCert(t *testing.T, name string) tls.Certificate {
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

// TestPeerAuthenticator: a Backend that identifies peers by their client
// certificate is asked first, and its answer stands; without a
// certificate, or for one it does not know, credentials decide.
func TestPeerAuthenticator(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	b := &peerBackend{Fake: w.fake}
	srv := httptest.NewUnstartedServer(taxii.NewServer(b, taxii.Config{}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ctx := t.Context()
	for _, tc := range []struct {
		name, cert, token string
		want              error
		calls             int
	}{
		{"a known peer, no token", "partner", "", nil, 1},
		{"a refused peer, with the admin's token", "refused", "admin-token", taxii.ErrUnauthorized, 1},
		{"an unknown peer, with a token", "stranger", "reader-token", nil, 1},
		{"an unknown peer, no token", "stranger", "", taxii.ErrUnauthorized, 1},
		{"no certificate, a token", "", "reader-token", nil, 0},
		{"no certificate, no token", "", "", taxii.ErrUnauthorized, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
			if tc.cert != "" {
				cfg.Certificates = []tls.Certificate{clientCert(t, tc.cert)}
			}
			c, err := taxii.NewClient(srv.URL, taxii.ClientOptions{Token: tc.token, TLSConfig: cfg})
			if err != nil {
				t.Fatal(err)
			}
			b.calls.Store(0)
			cols, err := c.Collections(ctx, root)
			if tc.want == nil && (err != nil || len(cols) == 0) || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Collections = %v, %v; want %v", cols, err, tc.want)
			}
			if n := b.calls.Load(); int(n) != tc.calls {
				t.Errorf("AuthenticatePeer called %d times; want %d", n, tc.calls)
			}
		})
	}
}
