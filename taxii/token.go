package taxii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// A next token (TAXII 2.1 §3.4) is opaque to clients but, as Appendix B
// warns, must not be trusted: it is base64url of
//
//	version (1 byte) | position (8 bytes, big-endian) | HMAC-SHA256 (32 bytes)
//
// where the HMAC, keyed with Config.TokenKey, covers the version, the
// position and the scope: a digest of the endpoint, API root, collection,
// object id, normalized filters and caller. A token altered in any byte, or
// replayed with other filters, elsewhere or by someone else, fails to
// verify, so a client can neither forge a position nor widen its query.
const (
	tokenVersion = 1
	tokenLen     = 1 + 8 + sha256.Size
)

// tokenScope is what a next token is bound to.
type tokenScope struct {
	endpoint   endpoint
	root       string
	collection string
	object     string
	caller     string
	filter     *Filter

	sum []byte // digest, once computed
}

// digest returns a hash of the scope. A request verifies one token and
// issues another for the same scope, so it is computed once.
func (s *tokenScope) digest() []byte {
	if s.sum != nil {
		return s.sum
	}
	var b strings.Builder
	// Lengths first, so that no two scopes encode alike whatever their
	// fields contain.
	for _, field := range []string{s.endpoint.name, s.root, s.collection, s.object, s.caller} {
		b.WriteString(strconv.Itoa(len(field)))
		b.WriteByte(':')
		b.WriteString(field)
		b.WriteByte('\n')
	}
	s.filter.normalize(&b)
	sum := sha256.Sum256([]byte(b.String()))
	s.sum = sum[:]
	return s.sum
}

type tokens struct{ key []byte }

func (t tokens) mac(version byte, pos []byte, scope *tokenScope) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte{version})
	m.Write(pos)
	m.Write(scope.digest())
	return m.Sum(nil)
}

// encode returns the token for resuming scope's query at position pos.
func (t tokens) encode(pos int64, scope *tokenScope) string {
	var buf [tokenLen]byte
	buf[0] = tokenVersion
	binary.BigEndian.PutUint64(buf[1:9], uint64(pos))
	copy(buf[9:], t.mac(tokenVersion, buf[1:9], scope))
	return base64.RawURLEncoding.EncodeToString(buf[:])
}

// decode verifies token against scope and returns its position. Every
// failure wraps ErrBadRequest and tells the client what to do, without
// saying which check failed: a forger learns nothing.
func (t tokens) decode(token string, scope *tokenScope) (int64, error) {
	invalid := fmt.Errorf("%w: query parameter next is not a token this server issued for this query; "+
		"repeat the original query with the next value of its last page, unchanged", ErrBadRequest)
	if base64.RawURLEncoding.DecodedLen(len(token)) != tokenLen {
		return 0, invalid
	}
	buf, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(buf) != tokenLen || buf[0] != tokenVersion {
		return 0, invalid
	}
	if !hmac.Equal(buf[9:], t.mac(buf[0], buf[1:9], scope)) {
		return 0, invalid
	}
	pos := int64(binary.BigEndian.Uint64(buf[1:9]))
	if pos < 0 {
		// Only a key compromise gets here; refuse rather than hand the
		// Backend a position it never produced.
		return 0, invalid
	}
	return pos, nil
}
