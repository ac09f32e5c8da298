package ledger

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is the body of a C2SP tlog-checkpoint: the log's origin, its
// size and root hash, and optional extension lines.
type Checkpoint struct {
	// Origin is the log's name, from the agreement.
	Origin string
	tlog.Tree
	// Extensions are extra lines after the root hash. Entente writes none:
	// witnesses do not vouch for them, and some cosigners leave them out of
	// what they sign.
	Extensions []string
}

// String returns the checkpoint's note text, every line ending in "\n".
func (c Checkpoint) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%d\n%s\n", c.Origin, c.N, c.Hash)
	for _, e := range c.Extensions {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return b.String()
}

// ErrMalformedCheckpoint is wrapped by the errors of ParseCheckpoint.
var ErrMalformedCheckpoint = errors.New("ledger: malformed checkpoint")

// ParseCheckpoint parses a checkpoint's note text (without signatures). It
// is strict: an origin, a size in decimal without leading zeros, the
// standard base64 of a 32-byte hash, non-empty extension lines, each line
// ending in "\n", valid UTF-8 and no other control characters.
func ParseCheckpoint(text string) (Checkpoint, error) {
	bad := func(format string, args ...any) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("%w: %s", ErrMalformedCheckpoint, fmt.Sprintf(format, args...))
	}
	if !utf8.ValidString(text) {
		return bad("not valid UTF-8")
	}
	if strings.ContainsFunc(text, func(r rune) bool { return r != '\n' && unicode.IsControl(r) }) {
		return bad("a control character")
	}
	body, ok := strings.CutSuffix(text, "\n")
	if !ok {
		return bad("the last line does not end in a newline")
	}
	lines := strings.Split(body, "\n")
	if len(lines) < 3 {
		return bad("%d lines, want at least origin, size and root hash", len(lines))
	}
	c := Checkpoint{Origin: lines[0]}
	if c.Origin == "" {
		return bad("empty origin")
	}
	n, ok := decimal(lines[1])
	if !ok {
		return bad("size %q is not a decimal without leading zeros", lines[1])
	}
	c.N = n
	h, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(h) != len(c.Hash) {
		return bad("root hash %q is not the base64 of 32 bytes", lines[2])
	}
	copy(c.Hash[:], h)
	if c.N == 0 && c.Hash != EmptyTreeHash {
		return bad("an empty log's root hash must be %v", EmptyTreeHash)
	}
	for i, e := range lines[3:] {
		if e == "" {
			return bad("extension line %d is empty", i+1)
		}
		c.Extensions = append(c.Extensions, e)
	}
	return c, nil
}

// SignCheckpoint signs c with the node's note signer, returning the signed
// note.
func SignCheckpoint(c Checkpoint, signer note.Signer) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: c.String()}, signer)
	if err != nil {
		return nil, fmt.Errorf("ledger: signing checkpoint: %w", err)
	}
	return msg, nil
}

// ErrWrongOrigin means a checkpoint names another log than the one
// expected.
var ErrWrongOrigin = errors.New("ledger: checkpoint of another log")

// OpenCheckpoint verifies a signed checkpoint: a signature by the log's key
// (the verifier), and the origin. Any other verifiers given (witnesses)
// verify their cosignatures too; signatures of unknown keys are kept in
// UnverifiedSigs. Use [Policy.Check] to decide whether the checkpoint is
// final.
func OpenCheckpoint(msg []byte, origin string, log note.Verifier, others ...note.Verifier) (Checkpoint, *note.Note, error) {
	n, err := note.Open(msg, note.VerifierList(append([]note.Verifier{log}, others...)...))
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("ledger: checkpoint of %s: %w", origin, err)
	}
	if !signedBy(n, log) {
		return Checkpoint{}, nil, fmt.Errorf("ledger: checkpoint of %s: not signed by the log key %s", origin, log.Name())
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	if c.Origin != origin {
		return Checkpoint{}, nil, fmt.Errorf("%w: origin %q, want %q", ErrWrongOrigin, c.Origin, origin)
	}
	return c, n, nil
}

func signedBy(n *note.Note, v note.Verifier) bool {
	for _, s := range n.Sigs {
		if s.Name == v.Name() && s.Hash == v.KeyHash() {
			return true
		}
	}
	return false
}

// noteBody returns the note text of a signed note: everything up to and
// including the blank line's newline, less that line. It does not verify.
func noteBody(msg []byte) ([]byte, bool) {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return nil, false
	}
	return msg[:i+1], true
}
