package node

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/ledger"
)

// Key is a node's Ed25519 identity key.
type Key struct {
	// Name is the key's name in signed notes and the subject of the node's
	// self-signed certificate.
	Name string
	// Private is the Ed25519 private key.
	Private ed25519.PrivateKey
	// Signer signs notes (ledger checkpoints) with the key.
	Signer note.Signer
	// VerifierKey is the public half in the signed-note encoding
	// ("<name>+<hash>+<base64 key>"), which partners pin.
	VerifierKey string
}

// algEd25519 is the signed-note signature type of Ed25519 keys.
const algEd25519 = 1

// GenerateKey returns a new node key in the signed-note private key
// encoding ("PRIVATE+KEY+<name>+<hash>+<base64 seed>"), which ParseKey
// reads. name must be a valid note key name: non-empty, without spaces or
// '+'; a scheme-less URL is recommended.
func GenerateKey(name string) (string, error) {
	skey, _, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", fmt.Errorf("node: generating key %q: %w", name, err)
	}
	if _, err := note.NewSigner(skey); err != nil {
		return "", fmt.Errorf("node: key name %q is not valid in a signed note (no spaces, no '+'): %w", name, err)
	}
	return skey, nil
}

// ParseKey reads a private key in the signed-note encoding.
func ParseKey(skey string) (*Key, error) {
	skey = strings.TrimSpace(skey)
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("node: not a signed-note private key (PRIVATE+KEY+<name>+<hash>+<key>): %w", err)
	}
	// note keeps the key private; the encoding has five '+'-separated
	// fields (a name cannot hold '+'), the last the base64 of the type byte
	// and the seed, whose alphabet includes '+'.
	fields := strings.SplitN(skey, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(fields[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != algEd25519 {
		return nil, errors.New("node: the private key is not an Ed25519 signed-note key")
	}
	priv := ed25519.NewKeyFromSeed(raw[1:])
	vkey, err := note.NewEd25519VerifierKey(signer.Name(), priv.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, fmt.Errorf("node: deriving the verifier key: %w", err)
	}
	return &Key{Name: signer.Name(), Private: priv, Signer: signer, VerifierKey: vkey}, nil
}

// Secret derives a secret for one purpose from the key, so that a node
// needs to keep no other secret: HMAC-SHA256 keyed with the private seed
// over the purpose. Different purposes give independent secrets, and none
// reveals the key.
func (k *Key) Secret(purpose string) []byte {
	m := hmac.New(sha256.New, k.Private.Seed())
	m.Write([]byte("entente node secret\n" + purpose))
	return m.Sum(nil)
}

// witnessKeyPurpose derives the node's witness key from its node key.
const witnessKeyPurpose = "tlog-cosignature/v1"

// Cosigner returns the node's witness key, with which it cosigns its
// partners' checkpoints (C2SP tlog-cosignature). It is derived from the
// node key, so the node keeps no other secret, but it is a key of its
// own, as signed-note asks of each signature type: an Ed25519 key whose
// seed is Secret("tlog-cosignature/v1"), under the node key's name. now
// gives the cosignature timestamps; nil means time.Now.
func (k *Key) Cosigner(now func() time.Time) *ledger.Cosigner {
	priv := ed25519.NewKeyFromSeed(k.Secret(witnessKeyPurpose))
	c, err := ledger.NewCosigner(k.Name, priv, now)
	if err != nil {
		// ParseKey accepted the name as a signed-note key name, which is
		// all NewCosigner checks.
		panic(fmt.Sprintf("node: deriving the witness key: %v", err))
	}
	return c
}

// WitnessVerifierKey is the verifier key of the node's witness key (type
// 0x04), which the agreement pins as the node's witness_key.
func (k *Key) WitnessVerifierKey() string { return k.Cosigner(nil).VerifierKey() }

// Validity of self-signed certificates. A node's certificate is pinned by
// fingerprint, not trusted through a CA, so it never expires (RFC 5280
// §4.1.2.5's "no well-defined expiration date") and the same key and hosts
// always give the same certificate and fingerprint.
var (
	certNotBefore = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	certNotAfter  = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// SelfSignedCertificate returns a TLS server certificate for the key, valid
// for hosts (DNS names or IP addresses). Ed25519 signatures are
// deterministic, so the certificate, and the fingerprint clients pin, stay
// the same across restarts for the same hosts.
func (k *Key) SelfSignedCertificate(hosts []string) (tls.Certificate, error) {
	pub := k.Private.Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	serial := new(big.Int).SetBytes(sum[:16]) // 128 bits, positive

	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: k.Name},
		NotBefore:             certNotBefore,
		NotAfter:              certNotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	setHosts(tmpl, hosts)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, k.Private)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("node: creating the self-signed certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("node: parsing the self-signed certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k.Private, Leaf: leaf}, nil
}

// setHosts makes tmpl valid for hosts (DNS names or IP addresses), in an
// order of their own, so that the same hosts always give the same
// certificate.
func setHosts(tmpl *x509.Certificate, hosts []string) {
	hosts = slices.Clone(hosts)
	slices.Sort(hosts)
	for _, h := range slices.Compact(hosts) {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
}

// Fingerprint returns the SHA-256 fingerprint of der, a DER certificate
// (or a raw public key), as uppercase hex pairs separated by colons, the
// form openssl and browsers show.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

// PinnedTLSConfig returns a client configuration that accepts exactly the
// server certificate with the given SHA-256 fingerprint, in the form
// Fingerprint prints or as plain hex. It is how clients reach a node whose
// certificate is self-signed: no CA is involved, so none is consulted.
func PinnedTLSConfig(fingerprint string) (*tls.Config, error) {
	want, err := hex.DecodeString(strings.ReplaceAll(fingerprint, ":", ""))
	if err != nil || len(want) != sha256.Size {
		return nil, fmt.Errorf("node: fingerprint %q is not a SHA-256 fingerprint (64 hex digits, colons allowed)", fingerprint)
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Verification is replaced, not skipped: VerifyConnection below
		// accepts only the pinned certificate.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("node: the server sent no certificate")
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if !bytes.Equal(got[:], want) {
				return fmt.Errorf("node: the server's certificate has fingerprint %s, not the pinned %s",
					Fingerprint(cs.PeerCertificates[0].Raw), fingerprint)
			}
			return nil
		},
	}, nil
}
