package node

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// katKey is a node key whose browser key is pinned below: operators trust
// the browser certificate by its fingerprint, so the derivation must never
// change without a new purpose.
const (
	katKey  = "PRIVATE+KEY+node.example+93e38ca0+AeDZnsLDHYu2lwoZDADBMiXuoyyHSbppduOTQu9vwrTs"
	katSPKI = "+Nn1a76CcgNegh3oAnZFm+yC1e99KScJOjcX+vK6Eec="
)

func newTestKey(t *testing.T, name string) *Key {
	t.Helper()
	skey, err := GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestBrowserKeyDerivation(t *testing.T) {
	k, err := ParseKey(katKey)
	if err != nil {
		t.Fatal(err)
	}
	// The documented derivation, computed apart, through crypto/ecdh.
	m := hmac.New(sha256.New, k.Private.Seed())
	m.Write([]byte("entente node secret\nbrowser-certificate/v1"))
	c := sha512.Sum512(m.Sum(nil))
	n1 := new(big.Int).Sub(elliptic.P256().Params().N, big.NewInt(1))
	d := new(big.Int).Add(new(big.Int).Mod(new(big.Int).SetBytes(c[:]), n1), big.NewInt(1))
	want, err := ecdh.P256().NewPrivateKey(d.FillBytes(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.BrowserKey().PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want.PublicKey()) {
		t.Error("BrowserKey is not the documented derivation")
	}

	cert, err := k.BrowserCertificate([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := SPKIFingerprint(cert.Leaf); got != katSPKI {
		t.Errorf("the browser key of the pinned node key changed: SPKI %s, want %s", got, katSPKI)
	}

	// Another node key gives another browser key.
	if other := newTestKey(t, "node.example"); other.BrowserKey().Equal(k.BrowserKey()) {
		t.Error("two node keys gave the same browser key")
	}
}

func TestBrowserCertificateStable(t *testing.T) {
	skey, err := GenerateKey("n")
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ParseKey(skey)
	c1, err := k.BrowserCertificate([]string{"127.0.0.1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := ParseKey(skey) // as a restart does
	c2, err := again.BrowserCertificate([]string{"localhost", "127.0.0.1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(c1.Certificate[0]) != Fingerprint(c2.Certificate[0]) {
		t.Error("the same key and hosts gave two browser certificates")
	}
	// The SPKI fingerprint is the key's: other hosts, another certificate,
	// the same SPKI.
	c3, err := k.BrowserCertificate([]string{"node.example"})
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(c3.Certificate[0]) == Fingerprint(c1.Certificate[0]) || SPKIFingerprint(c3.Leaf) != SPKIFingerprint(c1.Leaf) {
		t.Error("other hosts should give another certificate for the same key")
	}
	if err := c1.Leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	// The chain stops at the browser certificate: a browser given the
	// node's certificate would find the issuer, fail on its Ed25519
	// signature, and refuse the certificate outright.
	if len(c1.Certificate) != 1 {
		t.Errorf("the chain has %d certificates; want the browser certificate alone", len(c1.Certificate))
	}
	if !c1.PrivateKey.(*ecdsa.PrivateKey).PublicKey.Equal(c1.Leaf.PublicKey) {
		t.Error("the private key is not the certificate's")
	}
}

func TestVerifyBrowserCertificate(t *testing.T) {
	k := newTestKey(t, "n")
	other := newTestKey(t, "m")
	cert, err := k.BrowserCertificate([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyBrowserCertificate(cert.Leaf, k.VerifierKey); err != nil {
		t.Errorf("the node's own browser certificate: %v", err)
	}
	otherCert, _ := other.BrowserCertificate([]string{"127.0.0.1"})
	self, _ := k.SelfSignedCertificate([]string{"127.0.0.1"})
	issuer := self.Leaf

	// An ECDSA certificate the node key signed, as a CA certificate.
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "n"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0),
		BasicConstraintsValid: true, IsCA: true,
		KeyUsage:    x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	caCert := signed(t, ca, issuer, &k.BrowserKey().PublicKey, k.Private)
	// A P-384 key, signed by the node key.
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	leaf := *cert.Leaf
	wrongCurve := signed(t, &leaf, issuer, &p384.PublicKey, k.Private)

	for _, tt := range []struct {
		name string
		cert *x509.Certificate
		vkey string
	}{
		{"another node's key", cert.Leaf, other.VerifierKey},
		{"another node's browser certificate", otherCert.Leaf, k.VerifierKey},
		{"the node's Ed25519 certificate", self.Leaf, k.VerifierKey},
		{"a CA certificate", caCert, k.VerifierKey},
		{"a P-384 key", wrongCurve, k.VerifierKey},
	} {
		if err := VerifyBrowserCertificate(tt.cert, tt.vkey); !errors.Is(err, ErrNotBrowserCertificate) {
			t.Errorf("%s: VerifyBrowserCertificate = %v; want ErrNotBrowserCertificate", tt.name, err)
		}
	}
	if err := VerifyBrowserCertificate(cert.Leaf, "n+00000000+AAAA"); err == nil || errors.Is(err, ErrNotBrowserCertificate) {
		t.Errorf("a malformed node key: %v", err)
	}
}

func signed(t *testing.T, tmpl, parent *x509.Certificate, pub any, priv ed25519.PrivateKey) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestChooseCertificate runs real handshakes against a listener that
// serves both certificates: clients that offer Ed25519 get the node's
// certificate, the others the browser certificate, whatever name they ask
// for.
func TestChooseCertificate(t *testing.T) {
	k := newTestKey(t, "n")
	hosts := []string{"127.0.0.1", "localhost"}
	self, err := k.SelfSignedCertificate(hosts)
	if err != nil {
		t.Fatal(err)
	}
	browser, err := k.BrowserCertificate(hosts)
	if err != nil {
		t.Fatal(err)
	}
	certs := []tls.Certificate{self, browser}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		MinVersion:     tls.VersionTLS12,
		Certificates:   certs,
		GetCertificate: ChooseCertificate(certs),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				c.(*tls.Conn).Handshake()
				io.Copy(io.Discard, c)
			}()
		}
	}()

	ecdsaOnly := []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256, tls.ECDSAWithP384AndSHA384}
	withEd := []tls.SignatureScheme{tls.Ed25519, tls.ECDSAWithP256AndSHA256}
	for _, tt := range []struct {
		name       string
		serverName string
		schemes    []tls.SignatureScheme
		want       tls.Certificate
	}{
		{"ECDSA only", "", ecdsaOnly, browser},
		{"ECDSA only, a name the certificates leave out", "node.example", ecdsaOnly, browser},
		{"ECDSA only, a name they hold", "localhost", ecdsaOnly, browser},
		{"Ed25519 offered", "", withEd, self},
		{"Ed25519 offered, a name the certificates leave out", "node.example", withEd, self},
	} {
		chain, err := serverChain(ln.Addr().String(), tt.serverName, tt.schemes)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if len(chain) != len(tt.want.Certificate) || !bytes.Equal(chain[0], tt.want.Certificate[0]) {
			t.Errorf("%s: the server sent %d certificates, the first %s; want %s", tt.name, len(chain), Fingerprint(chain[0]), Fingerprint(tt.want.Certificate[0]))
		}
	}

	// crypto/tls's own client offers Ed25519, as partner nodes do.
	cfg, err := PinnedTLSConfig(Fingerprint(self.Certificate[0]))
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.Dial("tcp", ln.Addr().String(), cfg)
	if err != nil {
		t.Fatalf("a Go client pinning the node's certificate: %v", err)
	}
	c.Close()
}

// serverChain sends a TLS 1.2 ClientHello that offers only schemes, with
// server_name serverName unless it is empty, and returns the certificate
// chain the server answers with (in TLS 1.2 it is sent in the clear).
// crypto/tls's client always offers Ed25519, which is why this test
// speaks the handshake's first messages itself.
func serverChain(addr, serverName string, schemes []tls.SignatureScheme) ([][]byte, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))

	var b cryptobyte.Builder
	b.AddUint8(22)                // handshake record
	b.AddUint16(tls.VersionTLS10) // the record version clients send
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(1) // client_hello
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16(tls.VersionTLS12)
			b.AddBytes(make([]byte, 32)) // random
			b.AddUint8(0)                // no session id
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint16(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
			})
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) }) // no compression
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				if serverName != "" {
					b.AddUint16(0) // server_name
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
							b.AddUint8(0) // host_name
							b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(serverName)) })
						})
					})
				}
				b.AddUint16(10) // supported_groups
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						b.AddUint16(uint16(tls.X25519))
						b.AddUint16(uint16(tls.CurveP256))
					})
				})
				b.AddUint16(11) // ec_point_formats: uncompressed
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
				})
				b.AddUint16(13) // signature_algorithms
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						for _, s := range schemes {
							b.AddUint16(uint16(s))
						}
					})
				})
			})
		})
	})
	if _, err := conn.Write(b.BytesOrPanic()); err != nil {
		return nil, err
	}

	// Handshake messages until the Certificate message, across records.
	var hs []byte
	for {
		var hdr [5]byte
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			return nil, fmt.Errorf("reading the server's answer: %w", err)
		}
		body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
		if _, err := io.ReadFull(conn, body); err != nil {
			return nil, err
		}
		switch hdr[0] {
		case 21:
			return nil, fmt.Errorf("the server sent alert %v", body)
		case 22:
			hs = append(hs, body...)
		default:
			return nil, fmt.Errorf("unexpected record type %d", hdr[0])
		}
		s := cryptobyte.String(hs)
		for {
			var typ uint8
			var msg cryptobyte.String
			if !s.ReadUint8(&typ) || !s.ReadUint24LengthPrefixed(&msg) {
				break // the rest is in the next record
			}
			if typ != 11 { // certificate
				continue
			}
			var list cryptobyte.String
			if !msg.ReadUint24LengthPrefixed(&list) {
				return nil, errors.New("a malformed Certificate message")
			}
			var chain [][]byte
			for !list.Empty() {
				var der cryptobyte.String
				if !list.ReadUint24LengthPrefixed(&der) {
					return nil, errors.New("a malformed Certificate message")
				}
				chain = append(chain, der)
			}
			return chain, nil
		}
	}
}

// FuzzVerifyBrowserCertificate checks that no certificate makes
// VerifyBrowserCertificate panic, and that only one whose signed part is
// the node's own browser certificate's passes: the fuzzer cannot forge the
// node key's signature.
func FuzzVerifyBrowserCertificate(f *testing.F) {
	k, err := ParseKey(katKey)
	if err != nil {
		f.Fatal(err)
	}
	browser, err := k.BrowserCertificate([]string{"127.0.0.1"})
	if err != nil {
		f.Fatal(err)
	}
	self, err := k.SelfSignedCertificate([]string{"127.0.0.1"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(browser.Certificate[0])
	f.Add(self.Certificate[0])
	f.Fuzz(func(t *testing.T, der []byte) {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		if VerifyBrowserCertificate(cert, k.VerifierKey) == nil && !bytes.Equal(cert.RawTBSCertificate, browser.Leaf.RawTBSCertificate) {
			t.Errorf("accepted a certificate the node key did not sign: %x", der)
		}
	})
}
