package provenance

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// algEd25519 is the signed-note signature type of Ed25519 keys.
const algEd25519 = 1

// PublicKey returns the Ed25519 key of a C2SP signed-note verifier key
// ("<name>+<hash>+<base64 key>"), the form in which the agreement pins each
// node's key, and the key's name. Verify's keyOf is usually built from
// these.
func PublicKey(vkey string) (name string, key ed25519.PublicKey, err error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return "", nil, fmt.Errorf("provenance: verifier key: %w", err)
	}
	// NewVerifier checked the form and the hash; the key is the last
	// field, and a name holds no '+'.
	fields := strings.SplitN(vkey, "+", 3)
	raw, err := base64.StdEncoding.DecodeString(fields[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != algEd25519 {
		return "", nil, fmt.Errorf("provenance: verifier key %q is not an Ed25519 signed-note key", v.Name())
	}
	return v.Name(), ed25519.PublicKey(raw[1:]), nil
}
