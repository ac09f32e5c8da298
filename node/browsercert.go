package node

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// Browsers do not support Ed25519 in TLS, so a node's self-signed
// certificate, which holds its node key, fails their handshake. A node
// therefore serves a second certificate to every client that does not
// offer Ed25519: the browser certificate, for an ECDSA P-256 key derived
// from the node key and issued (signed) by the node key. Whoever holds the
// node's verifier key, which the agreement pins, checks the binding with
// VerifyBrowserCertificate; a browser trusts the certificate by its
// fingerprint (SPKIFingerprint, Fingerprint).

// browserKeyPurpose names the secret (Key.Secret) the browser key is
// derived from.
const browserKeyPurpose = "browser-certificate/v1"

// BrowserKey returns the ECDSA P-256 key of the node's browser certificate.
// It is derived from the node key, so that the node keeps no other secret
// and its browser certificate, which operators trust by fingerprint, is the
// same after every restart and on every process of the node:
//
//	s = HMAC-SHA256(seed, "entente node secret\nbrowser-certificate/v1")   (Secret)
//	c = SHA-512(s), read as a big-endian integer
//	d = (c mod (n − 1)) + 1
//
// where seed is the node key's 32-byte Ed25519 seed, n the order of P-256
// and d the private scalar. This is FIPS 186-5 §A.2.1, key pair generation
// with extra random bits (512 where it asks for at least 320), so d is
// uniform on [1, n−1] to within 2⁻²⁵⁶.
func (k *Key) BrowserKey() *ecdsa.PrivateKey {
	c := sha512.Sum512(k.Secret(browserKeyPurpose))
	n1 := new(big.Int).Sub(elliptic.P256().Params().N, big.NewInt(1))
	d := new(big.Int).Mod(new(big.Int).SetBytes(c[:]), n1)
	d.Add(d, big.NewInt(1))
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d.FillBytes(make([]byte, 32)))
	if err != nil {
		// d is in [1, n−1], which is all ParseRawPrivateKey checks.
		panic(fmt.Sprintf("node: deriving the browser key: %v", err))
	}
	return priv
}

// BrowserCertificate returns the node's browser certificate, valid for
// hosts (DNS names or IP addresses): the key of BrowserKey in a server
// certificate issued by the node key. Ed25519 signatures are
// deterministic, so the same key and hosts always give the same
// certificate and fingerprints.
//
// The chain is the certificate alone. The node's own certificate is not a
// CA certificate (its fingerprint is pinned, and stays the one it was),
// and given it a browser finds the issuer, cannot check its Ed25519
// signature and refuses the certificate as invalid, an error that no
// operator may override; without it, the issuer is one the browser does
// not know, and the operator trusts the certificate by its fingerprint.
// The binding is the node key's signature, which VerifyBrowserCertificate
// checks, not an X.509 path.
func (k *Key) BrowserCertificate(hosts []string) (tls.Certificate, error) {
	issuer, err := k.SelfSignedCertificate(hosts)
	if err != nil {
		return tls.Certificate{}, err
	}
	priv := k.BrowserKey()
	spki, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("node: encoding the browser key: %w", err)
	}
	sum := sha256.Sum256(spki)
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(sum[:16]), // 128 bits, positive
		Subject: pkix.Name{
			CommonName:         k.Name,
			OrganizationalUnit: []string{"browser certificate"},
		},
		NotBefore:             certNotBefore,
		NotAfter:              certNotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	setHosts(tmpl, hosts)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer.Leaf, &priv.PublicKey, k.Private)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("node: creating the browser certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("node: parsing the browser certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv, Leaf: leaf}, nil
}

// ErrNotBrowserCertificate means a certificate is not a browser certificate
// that the given node key issued: do not trust it as that node's.
var ErrNotBrowserCertificate = errors.New("node: not a browser certificate of the node")

// VerifyBrowserCertificate checks that cert is a browser certificate of the
// node whose key is vkey (a signed-note verifier key, as the agreement pins
// it): a non-CA TLS server certificate for an ECDSA P-256 key, signed by
// the node key. The error wraps ErrNotBrowserCertificate, or says why vkey
// is not a node key.
func VerifyBrowserCertificate(cert *x509.Certificate, vkey string) error {
	pub, err := nodePublicKey(vkey)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if cert.SignatureAlgorithm != x509.PureEd25519 || !ed25519.Verify(pub, cert.RawTBSCertificate, cert.Signature) {
		return fmt.Errorf("%w: it is not signed by node key %s", ErrNotBrowserCertificate, vkey)
	}
	if k, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		return fmt.Errorf("%w: its key is not an ECDSA P-256 key", ErrNotBrowserCertificate)
	}
	if cert.IsCA || !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		return fmt.Errorf("%w: it is not a TLS server certificate", ErrNotBrowserCertificate)
	}
	return nil
}

// SPKIFingerprint returns the base64 SHA-256 of a certificate's
// SubjectPublicKeyInfo: the form of HTTP public key pinning (RFC 7469) and
// of Chromium's --ignore-certificate-errors-spki-list, which trusts a
// server by its key.
func SPKIFingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// ChooseCertificate returns a tls.Config.GetCertificate that serves each
// client the first of certs that it supports (its signature algorithms,
// versions and cipher suites), whatever server name it asks for: the
// node's certificate to clients that offer Ed25519, the browser
// certificate to the others. Set Config.Certificates to certs as well.
// crypto/tls alone also matches the name, and when no certificate holds it,
// as when a node is reached by a DNS name its self-signed certificates
// leave out, it serves the first, which a browser cannot use.
func ChooseCertificate(certs []tls.Certificate) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		anyName := *hello
		anyName.ServerName = ""
		for i := range certs {
			if anyName.SupportsCertificate(&certs[i]) == nil {
				return &certs[i], nil
			}
		}
		return nil, nil // crypto/tls then chooses among Config.Certificates
	}
}
