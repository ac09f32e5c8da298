package agreement

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"
)

// Errors that Verify wraps. Each names what the caller should do.
var (
	// ErrUnsigned means a party has not signed. A node must not exchange
	// under the agreement until every party has signed it.
	ErrUnsigned = errors.New("party has not signed")
	// ErrBadSignature means a signature does not match the content: the
	// content changed after signing, or another key signed. The document
	// must be re-signed, or restored to the text the party signed.
	ErrBadSignature = errors.New("signature does not match the content")
	// ErrNotInForce means the agreement is outside its validity period.
	// A node must not exchange under it.
	ErrNotInForce = errors.New("agreement is not in force")
)

// SignatureError reports the signature of one party that failed.
type SignatureError struct {
	Party string
	Err   error // ErrUnsigned or ErrBadSignature
}

func (e *SignatureError) Error() string {
	switch e.Err {
	case ErrUnsigned:
		return fmt.Sprintf("party %q has not signed; have it run 'entente agreement sign'", e.Party)
	case ErrBadSignature:
		return fmt.Sprintf("signature of party %q does not match the content: the content changed after %q signed, "+
			"or a key other than its own signed; restore the signed text or have %q sign again", e.Party, e.Party, e.Party)
	}
	return fmt.Sprintf("signature of party %q: %v", e.Party, e.Err)
}

func (e *SignatureError) Unwrap() error { return e.Err }

// Content returns the signed content: the RFC 8785 canonical JSON of the
// agreement without its signatures. It depends only on the decoded values,
// so quoting, key order, comments and layout in the YAML do not change it.
//
// The content is never a valid signed-note text (which ends in a newline),
// so a signature over it cannot be replayed as a checkpoint signature made
// with the same key, nor the other way around.
func (a *Agreement) Content() ([]byte, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("agreement: encoding content: %w", err)
	}
	v := jsontext.Value(b)
	if err := v.Canonicalize(); err != nil {
		return nil, fmt.Errorf("agreement: canonicalizing content: %w", err)
	}
	return v, nil
}

// VerifySignatures checks that every party signed exactly this content with
// the key the content gives for it. The error joins one *SignatureError per
// party whose signature is missing or broken.
func (a *Agreement) VerifySignatures() error {
	content, err := a.Content()
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range a.Parties {
		if err := a.verifyParty(&p, content); err != nil {
			errs = append(errs, &SignatureError{Party: p.ID, Err: err})
		}
	}
	return errors.Join(errs...)
}

func (a *Agreement) verifyParty(p *Party, content []byte) error {
	for _, s := range a.Signatures {
		if s.Party != p.ID {
			continue
		}
		v, err := note.NewVerifier(p.Key)
		if err != nil {
			return err // cannot happen after validate
		}
		sig, err := base64.StdEncoding.DecodeString(s.Signature)
		if err != nil || !v.Verify(content, sig) {
			return ErrBadSignature
		}
		return nil
	}
	return ErrUnsigned
}

// InForce reports whether the agreement is in force at t: from 00:00 UTC on
// its effective date until 00:00 UTC on its expiry date.
func (a *Agreement) InForce(t time.Time) error {
	eff, err1 := a.Validity.Effective.Time()
	exp, err2 := a.Validity.Expires.Time()
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("%w: %v", ErrNotInForce, err)
	}
	switch {
	case t.Before(eff):
		return fmt.Errorf("%w: it takes effect on %s", ErrNotInForce, a.Validity.Effective)
	case !t.Before(exp):
		return fmt.Errorf("%w: it expired on %s; the parties must sign an amendment that extends it", ErrNotInForce, a.Validity.Expires)
	}
	return nil
}

// Verify checks that every party signed this content and that the
// agreement is in force at t. A node refuses to exchange under an agreement
// that fails it.
func (a *Agreement) Verify(t time.Time) error {
	return errors.Join(a.VerifySignatures(), a.InForce(t))
}

// CheckAmendment checks that next is an amendment of prev: the same
// agreement, superseding prev's version, taking effect no earlier.
func CheckAmendment(prev, next *Agreement) error {
	switch {
	case prev.ID != next.ID:
		return fmt.Errorf("agreement: version %d is of agreement %q, not %q", next.Version, next.ID, prev.ID)
	case next.Supersedes != prev.Version:
		return fmt.Errorf("agreement: version %d supersedes version %d, not %d; set supersedes to the version it replaces",
			next.Version, next.Supersedes, prev.Version)
	case next.Validity.Effective < prev.Validity.Effective: // YYYY-MM-DD orders as text
		return fmt.Errorf("agreement: version %d takes effect on %s, before version %d (%s)",
			next.Version, next.Validity.Effective, prev.Version, prev.Validity.Effective)
	}
	return nil
}

// Sign adds the signature of the party whose key signer holds to the
// agreement document doc and returns the new document. A signature that
// party made earlier is replaced. The party is found by its key, so a
// signer whose key the agreement does not list cannot sign.
func Sign(doc []byte, signer note.Signer) (signed []byte, party string, err error) {
	a, err := Parse(doc)
	if err != nil {
		return nil, "", err
	}
	content, err := a.Content()
	if err != nil {
		return nil, "", err
	}
	sig, err := signer.Sign(content)
	if err != nil {
		return nil, "", fmt.Errorf("agreement: signing: %w", err)
	}
	for _, p := range a.Parties {
		v, err := note.NewVerifier(p.Key)
		if err == nil && v.Name() == signer.Name() && v.KeyHash() == signer.KeyHash() && v.Verify(content, sig) {
			party = p.ID
			break
		}
	}
	if party == "" {
		return nil, "", fmt.Errorf("agreement: key %q is not the key of any party; put its public key in the party's key field first", signer.Name())
	}
	out, err := setSignature(doc, Signature{Party: party, Signature: base64.StdEncoding.EncodeToString(sig)})
	if err != nil {
		return nil, "", err
	}
	return out, party, nil
}

// setSignature writes s into the signatures block of doc. The signatures
// block is written last, after everything the parties wrote, and the text
// before it is kept byte for byte so that its comments and layout survive.
func setSignature(doc []byte, s Signature) ([]byte, error) {
	d, err := parseNode(doc)
	if err != nil {
		return nil, err
	}
	root := d.Content[0]
	var sigs []Signature
	cut := len(doc)
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "signatures" {
			continue
		}
		if i+2 != len(root.Content) {
			return nil, &Error{Line: root.Content[i].Line, Column: root.Content[i].Column, Path: "signatures",
				Msg: "the signatures block is not the last key", Fix: "move it to the end of the document"}
		}
		if err := root.Content[i+1].Decode(&sigs); err != nil {
			return nil, fmt.Errorf("agreement: reading signatures: %w", err)
		}
		cut = lineOffset(doc, root.Content[i].Line)
	}
	if i := slices.IndexFunc(sigs, func(x Signature) bool { return x.Party == s.Party }); i >= 0 {
		sigs[i] = s
	} else {
		sigs = append(sigs, s)
	}

	out := bytes.Clone(doc[:cut])
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	if cut == len(doc) {
		out = append(out, '\n')
	}
	out = append(out, "signatures:\n"...)
	for _, x := range sigs {
		out = fmt.Appendf(out, "  - party: %s\n    signature: %s\n", x.Party, x.Signature)
	}
	return out, nil
}

// lineOffset returns the offset of the start of 1-based line n.
func lineOffset(doc []byte, n int) int {
	off := 0
	for ; n > 1; n-- {
		i := bytes.IndexByte(doc[off:], '\n')
		if i < 0 {
			return len(doc)
		}
		off += i + 1
	}
	return off
}
