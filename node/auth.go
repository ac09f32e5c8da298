package node

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// TokenPrefix starts every account token, so that a leaked token is easy to
// recognise in logs and by secret scanners.
const TokenPrefix = "entente_"

// tokenBytes is the entropy of a token: 256 bits, beyond guessing.
const tokenBytes = 32

// tokenLen is the length of a printed token: the prefix and 32 bytes in
// unpadded base64url.
var tokenLen = len(TokenPrefix) + base64.RawURLEncoding.EncodedLen(tokenBytes)

// NewToken returns a fresh random token and the SHA-256 hash that is the
// only form of it a store keeps.
func NewToken() (token string, hash []byte) {
	b := make([]byte, tokenBytes)
	rand.Read(b) // never fails (crypto/rand documents it)
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the SHA-256 hash of a token as printed.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// wellFormedToken reports whether s could be a token NewToken made, so that
// garbage is rejected before it reaches the store.
func wellFormedToken(s string) bool {
	if len(s) != tokenLen || !strings.HasPrefix(s, TokenPrefix) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s[len(TokenPrefix):])
	return err == nil
}

// ValidRole reports whether r is one of the roles an account can have.
func ValidRole(r store.Role) bool {
	switch r {
	case store.RoleAdmin, store.RoleAnalyst, store.RoleReader:
		return true
	}
	return false
}

// ValidAccountName reports why name cannot name an account, or nil. Names
// are what HTTP Basic carries as the user id, which RFC 7617 §2 forbids to
// contain a colon; the node keeps them to a conservative, printable set.
func ValidAccountName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("account name %q must be 1 to 64 characters long", name)
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case (r == '-' || r == '_' || r == '.' || r == '@') && i > 0:
		default:
			return fmt.Errorf("account name %q: character %q at position %d is not allowed; use letters, digits and - _ . @ (not first)", name, r, i)
		}
	}
	return nil
}

// CreateAccount creates an account with a new token and returns the token,
// which is shown this once: only its hash is stored. It fails with an error
// wrapping store.ErrExists if the name is taken.
func CreateAccount(ctx context.Context, st store.Store, name string, role store.Role, now time.Time) (string, error) {
	if err := ValidAccountName(name); err != nil {
		return "", err
	}
	if !ValidRole(role) {
		return "", fmt.Errorf("role %q is not one of admin, analyst, reader", role)
	}
	token, hash := NewToken()
	err := st.CreateAccount(ctx, store.Account{Name: name, Role: role, TokenHash: hash, Created: now.UTC()})
	if err != nil {
		return "", fmt.Errorf("creating account %q: %w", name, err)
	}
	return token, nil
}

// Authenticate implements taxii.Backend. With HTTP Basic, user is the account
// name and token its token; a bearer token comes with user "".
func (n *Node) Authenticate(ctx context.Context, user, token string) (*taxii.Caller, error) {
	if !wellFormedToken(token) {
		return nil, taxii.ErrUnauthorized
	}
	hash := HashToken(token)
	var (
		a   store.Account
		err error
	)
	if user == "" {
		a, err = n.store.AccountByTokenHash(ctx, hash)
	} else {
		a, err = n.store.Account(ctx, user)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, taxii.ErrUnauthorized
	case err != nil:
		return nil, fmt.Errorf("node: looking up account: %w", err)
	}
	// The comparison runs in constant time so that response times say
	// nothing about how much of a guessed token's hash was right.
	if subtle.ConstantTimeCompare(hash, a.TokenHash) != 1 || !ValidRole(a.Role) {
		return nil, taxii.ErrUnauthorized
	}
	return &taxii.Caller{Name: a.Name, Role: string(a.Role)}, nil
}
