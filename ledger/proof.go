package ledger

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const proofHeader = "c2sp.org/tlog-proof@v1"

// Proof is a C2SP tlog-proof (https://c2sp.org/tlog-proof): a
// self-contained, offline-verifiable claim that an entry is in a log. In
// Entente's proofs the extra data is the entry's opening (salt and entry,
// Opening.MarshalBinary), so an arbiter holding only the agreement can
// check what a node claims it received or disclosed.
type Proof struct {
	// Extra is the proof's opaque extra data; nil leaves the line out.
	Extra []byte
	// Index is the entry's index in the log.
	Index int64
	// Inclusion is the RFC 6962 inclusion proof of the entry in the
	// checkpoint's tree.
	Inclusion tlog.RecordProof
	// Checkpoint is the signed checkpoint, with its cosignatures.
	Checkpoint []byte
}

// NewProof returns the proof of the opening of entry index against a
// signed checkpoint.
func NewProof(o Opening, index int64, inclusion tlog.RecordProof, checkpoint []byte) (Proof, error) {
	extra, err := o.MarshalBinary()
	if err != nil {
		return Proof{}, err
	}
	return Proof{Extra: extra, Index: index, Inclusion: inclusion, Checkpoint: checkpoint}, nil
}

// Marshal returns the proof's text.
func (p Proof) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(proofHeader + "\n")
	if len(p.Extra) > 0 {
		b.WriteString("extra " + base64.StdEncoding.EncodeToString(p.Extra) + "\n")
	}
	fmt.Fprintf(&b, "index %d\n", p.Index)
	for _, h := range p.Inclusion {
		b.WriteString(h.String() + "\n")
	}
	b.WriteByte('\n')
	b.Write(p.Checkpoint)
	return b.Bytes()
}

// ErrMalformedProof is wrapped by the errors of ParseProof.
var ErrMalformedProof = errors.New("ledger: malformed tlog-proof")

// ParseProof parses a proof's text strictly: the header line, an optional
// non-empty extra line, the index without leading zeros, at most 63 proof
// hashes, an empty line and a non-empty checkpoint. What it accepts
// marshals back to the same bytes.
func ParseProof(text []byte) (Proof, error) {
	bad := func(format string, args ...any) (Proof, error) {
		return Proof{}, fmt.Errorf("%w: %s", ErrMalformedProof, fmt.Sprintf(format, args...))
	}
	rest := text
	next := func() (string, bool) {
		line, r, ok := bytes.Cut(rest, []byte("\n"))
		rest = r
		return string(line), ok
	}
	if line, ok := next(); !ok || line != proofHeader {
		return bad("the first line is not %q", proofHeader)
	}
	var p Proof
	line, ok := next()
	if e, isExtra := strings.CutPrefix(line, "extra "); ok && isExtra {
		extra, err := base64.StdEncoding.Strict().DecodeString(e)
		if err != nil || len(extra) == 0 || strings.ContainsAny(e, "\r") {
			return bad("the extra line is not non-empty base64")
		}
		p.Extra = extra
		line, ok = next()
	}
	idx, isIndex := strings.CutPrefix(line, "index ")
	if !ok || !isIndex {
		return bad(`no "index" line`)
	}
	if p.Index, ok = decimal(idx); !ok {
		return bad("index %q is not a decimal without leading zeros", idx)
	}
	for {
		line, ok := next()
		if !ok {
			return bad("no empty line before the checkpoint")
		}
		if line == "" {
			break
		}
		if len(p.Inclusion) == maxProofLines {
			return bad("more than %d proof lines", maxProofLines)
		}
		h, err := parseHashLine(line)
		if err != nil {
			return bad("proof line %d: %v", len(p.Inclusion)+1, err)
		}
		p.Inclusion = append(p.Inclusion, h)
	}
	if len(rest) == 0 {
		return bad("no checkpoint")
	}
	p.Checkpoint = rest
	return p, nil
}

// parseHashLine decodes the standard base64 of a 32-byte hash, in its one
// canonical spelling.
func parseHashLine(line string) (tlog.Hash, error) {
	var h tlog.Hash
	// Decode skips '\r' and panics on a short buffer: check the length
	// and decode into a buffer of the decoded length.
	if len(line) != base64.StdEncoding.EncodedLen(len(h)) {
		return h, errors.New("not the base64 of a 32-byte hash")
	}
	buf := make([]byte, base64.StdEncoding.DecodedLen(len(line)))
	n, err := base64.StdEncoding.Strict().Decode(buf, []byte(line))
	if err != nil || n != len(h) {
		return h, errors.New("not the base64 of a 32-byte hash")
	}
	copy(h[:], buf)
	return h, nil
}

// VerifyProof checks an Entente tlog-proof offline: the checkpoint is the
// log origin's, signed by log and final under policy, and the opening in
// the extra data is entry Index of it. It returns the opening and the
// checkpoint.
func VerifyProof(text []byte, origin string, log note.Verifier, policy Policy) (Opening, Checkpoint, error) {
	p, err := ParseProof(text)
	if err != nil {
		return Opening{}, Checkpoint{}, err
	}
	c, err := policy.Final(p.Checkpoint, origin, log)
	if err != nil {
		return Opening{}, Checkpoint{}, err
	}
	if p.Extra == nil {
		return Opening{}, Checkpoint{}, fmt.Errorf("%w: no opening in the extra line", ErrMalformedProof)
	}
	o, err := ParseOpening(p.Extra)
	if err != nil {
		return Opening{}, Checkpoint{}, err
	}
	commitment, err := o.Commitment()
	if err != nil {
		return Opening{}, Checkpoint{}, err
	}
	if err := CheckInclusion(p.Inclusion, c.Tree, p.Index, commitment); err != nil {
		return Opening{}, Checkpoint{}, err
	}
	return o, c, nil
}
