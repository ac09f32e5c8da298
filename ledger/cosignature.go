package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/mod/sumdb/note"
)

// Signature types of signed-note keys (C2SP signed-note, tlog-cosignature).
const (
	algEd25519         = 0x01
	algCosignatureV1   = 0x04
	cosignatureHeader  = "cosignature/v1\n"
	cosignatureSigSize = 8 + ed25519.SignatureSize
)

// keyID is a signed-note key ID: SHA-256(name || "\n" || type || key)[:4].
func keyID(name string, alg byte, pub []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', alg})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

func cosignedMessage(t uint64, text []byte) []byte {
	m := make([]byte, 0, len(cosignatureHeader)+32+len(text))
	m = append(m, cosignatureHeader...)
	m = append(m, "time "...)
	m = strconv.AppendUint(m, t, 10)
	m = append(m, '\n')
	return append(m, text...)
}

// Cosigner makes C2SP tlog-cosignature cosignature/v1 signatures: a
// note.Signer whose signature is a big-endian uint64 POSIX timestamp and an
// Ed25519 signature over "cosignature/v1\ntime <timestamp>\n" followed by
// the checkpoint text, under the key ID of type 0x04.
//
// The key should not be the node's checkpoint key: the signed-note spec
// asks for one key per signature type. A node derives its cosigning key
// from its identity key (for instance from node.Key.Secret) and the
// agreement pins it as the node's witness key.
type Cosigner struct {
	name string
	id   uint32
	key  ed25519.PrivateKey
	now  func() time.Time
}

// NewCosigner returns a cosigner named name (a schema-less URL is
// recommended) with key. now gives the timestamps; nil means time.Now.
func NewCosigner(name string, key ed25519.PrivateKey, now func() time.Time) (*Cosigner, error) {
	if err := checkKeyName(name); err != nil {
		return nil, err
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("ledger: cosigner key is not an Ed25519 private key")
	}
	if now == nil {
		now = time.Now
	}
	pub := key.Public().(ed25519.PublicKey)
	return &Cosigner{name: name, id: keyID(name, algCosignatureV1, pub), key: key, now: now}, nil
}

// checkKeyName applies the signed-note rule for key names: non-empty, no
// Unicode spaces, no '+'.
func checkKeyName(name string) error {
	if name == "" || strings.ContainsAny(name, "+") || strings.ContainsFunc(name, isSpaceOrControl) {
		return fmt.Errorf("ledger: %q is not a valid signed-note key name (non-empty, no spaces or '+')", name)
	}
	return nil
}

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

func (s *Cosigner) Name() string    { return s.name }
func (s *Cosigner) KeyHash() uint32 { return s.id }

// Sign returns the timestamped signature over msg, a checkpoint's note text.
func (s *Cosigner) Sign(msg []byte) ([]byte, error) {
	t := s.now().Unix()
	if t < 0 {
		return nil, errors.New("ledger: cosignature time before 1970")
	}
	sig := binary.BigEndian.AppendUint64(make([]byte, 0, cosignatureSigSize), uint64(t))
	return append(sig, ed25519.Sign(s.key, cosignedMessage(uint64(t), msg))...), nil
}

// VerifierKey returns the cosigner's verifier key, of type 0x04:
// "<name>+<hex key ID>+<base64(0x04 || public key)>".
func (s *Cosigner) VerifierKey() string {
	return fmt.Sprintf("%s+%08x+%s", s.name, s.id,
		base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, s.key.Public().(ed25519.PublicKey)...)))
}

// Verifier returns the verifier of the cosigner's signatures.
func (s *Cosigner) Verifier() *CosignatureVerifier {
	return &CosignatureVerifier{name: s.name, id: s.id, pub: s.key.Public().(ed25519.PublicKey)}
}

// CosignatureVerifier verifies cosignature/v1 signatures; it is a
// note.Verifier, so note.Open checks cosignatures beside the log's own
// signature.
type CosignatureVerifier struct {
	name string
	id   uint32
	pub  ed25519.PublicKey
}

// NewCosignatureVerifier parses a cosigner's verifier key. A key of type
// 0x04 is used as is; an Ed25519 key of type 0x01 (a node key as the
// agreement pins it) is taken as the same public key under the 0x04 key
// ID, as tlog-cosignature allows.
func NewCosignatureVerifier(vkey string) (*CosignatureVerifier, error) {
	name, rest, ok1 := strings.Cut(vkey, "+")
	hexID, key64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("ledger: %q is not a verifier key (<name>+<key id>+<key>)", vkey)
	}
	if err := checkKeyName(name); err != nil {
		return nil, err
	}
	id, err := strconv.ParseUint(hexID, 16, 32)
	if err != nil || len(hexID) != 8 {
		return nil, fmt.Errorf("ledger: verifier key %s: the key id %q is not 8 hex digits", name, hexID)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(key64)
	if err != nil || len(key) != 1+ed25519.PublicKeySize {
		return nil, fmt.Errorf("ledger: verifier key %s: the key is not the base64 of a type byte and an Ed25519 public key", name)
	}
	alg, pub := key[0], ed25519.PublicKey(key[1:])
	if alg != algEd25519 && alg != algCosignatureV1 {
		return nil, fmt.Errorf("ledger: verifier key %s: type 0x%02x is neither Ed25519 (0x01) nor cosignature/v1 (0x04)", name, alg)
	}
	if uint32(id) != keyID(name, alg, pub) {
		return nil, fmt.Errorf("ledger: verifier key %s: the key id %s does not match the key", name, hexID)
	}
	return &CosignatureVerifier{name: name, id: keyID(name, algCosignatureV1, pub), pub: pub}, nil
}

func (v *CosignatureVerifier) Name() string    { return v.name }
func (v *CosignatureVerifier) KeyHash() uint32 { return v.id }

// Verify reports whether sig is a cosignature/v1 signature of msg.
func (v *CosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != cosignatureSigSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	if t > math.MaxInt64 {
		return false
	}
	return ed25519.Verify(v.pub, cosignedMessage(t, msg), sig[8:])
}

// CosignatureTime returns the timestamp of a cosignature/v1 signature.
func CosignatureTime(s note.Signature) (time.Time, error) {
	sig, err := base64.StdEncoding.DecodeString(s.Base64)
	if err != nil || len(sig) != 4+cosignatureSigSize {
		return time.Time{}, fmt.Errorf("ledger: signature of %s is not a cosignature/v1", s.Name)
	}
	t := binary.BigEndian.Uint64(sig[4:])
	if t > math.MaxInt64 {
		return time.Time{}, fmt.Errorf("ledger: cosignature of %s has a timestamp beyond 2^63-1", s.Name)
	}
	return time.Unix(int64(t), 0), nil
}

// AddCosignatures appends the signature lines a witness returned to a
// signed checkpoint. Each line must be a note signature line ("— <name>
// <base64>\n"); whether it verifies is for note.Open to say.
func AddCosignatures(signed, lines []byte) ([]byte, error) {
	if !bytes.HasSuffix(signed, []byte("\n")) {
		return nil, errors.New("ledger: the signed checkpoint does not end in a newline")
	}
	if len(lines) == 0 || !bytes.HasSuffix(lines, []byte("\n")) {
		return nil, errors.New("ledger: cosignature lines must be one or more lines ending in a newline")
	}
	for _, l := range strings.SplitAfter(string(lines), "\n") {
		if l == "" {
			continue
		}
		if !strings.HasPrefix(l, "— ") || strings.Count(l, " ") != 2 {
			return nil, fmt.Errorf("ledger: %q is not a signature line", strings.TrimSuffix(l, "\n"))
		}
	}
	return append(bytes.Clone(signed), lines...), nil
}
