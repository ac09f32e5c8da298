package node

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// The ledger records the terms the node works under (doc/ledger.md,
// "Terms"): each agreement version it adopts or moves to, by the digest of
// its signed content, and each node key it signs with. A start under the
// terms recorded last appends nothing; the store keeps each agreement
// version's signed document beside its entry, so the version an amendment
// replaced can be shown after a restart.

// ErrTermsRegress means the node was started under an agreement version
// that the ledger shows it has moved past, or under the recorded version
// with other content. Start it with the version recorded last or an
// amendment of it (entente ledger show lists the recorded versions).
var ErrTermsRegress = errors.New("node: the agreement is older than the one the ledger records, or differs from it")

// recordTerms appends to the ledger what differs between the terms the
// node starts under (f, nil without an agreement, and its key) and those
// recorded last. A start under the recorded terms reads and writes
// nothing more.
func (n *Node) recordTerms(ctx context.Context, f *terms) error {
	var (
		a      *agreement.Agreement
		digest [32]byte
		err    error
	)
	if f != nil {
		a = f.agreement
		if digest, err = a.Digest(); err != nil {
			return err
		}
	}
	if n.termsRecorded(ctx, a, digest) {
		return nil
	}
	appended := false
	err = n.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var recs []store.LedgerRecord
		keyRec, keyChanged, err := n.keyChange(ctx, tx, f)
		if err != nil {
			return err
		}
		if keyChanged {
			recs = append(recs, keyRec)
		}
		var ar *store.AgreementRecord
		if a != nil {
			latest, err := tx.LatestAgreement(ctx)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			var prev *store.AgreementRecord
			if err == nil {
				prev = &latest
			}
			r, rec, err := n.agreementChange(f, digest, prev)
			if err != nil {
				return err
			}
			if r != nil {
				ar = r
				recs = append(recs, rec)
			}
		}
		if len(recs) == 0 {
			return nil // another process recorded them meanwhile
		}
		first, err := tx.AppendLedger(ctx, recs)
		if err != nil {
			return err
		}
		appended = true
		i := first
		if keyChanged {
			if err := tx.AddKey(ctx, store.KeyRecord{Key: n.key.VerifierKey, Entry: i, Recorded: n.now()}); err != nil {
				return err
			}
			i++
		}
		if ar != nil {
			ar.Entry = i
			return tx.AddAgreement(ctx, *ar)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("node: recording the terms the node works under in its ledger: %w", err)
	}
	if appended {
		n.signalGrew()
	}
	return nil
}

// termsRecorded reports whether the key and agreement a (of digest) are
// those recorded last, reading outside a write transaction. Any doubt
// (an error) answers false, and the write transaction decides.
func (n *Node) termsRecorded(ctx context.Context, a *agreement.Agreement, digest [32]byte) bool {
	if n.key != nil {
		ks, err := n.store.KeyRecords(ctx, 1)
		if err != nil || len(ks) == 0 || ks[0].Key != n.key.VerifierKey {
			return false
		}
	}
	if a != nil {
		as, err := n.store.AgreementRecords(ctx, 1)
		if err != nil || len(as) == 0 || as[0].Agreement != a.ID || as[0].Version != a.Version || as[0].Digest != digest {
			return false
		}
	}
	return true
}

// keyChange returns the key-rotated record of the node's key if it is not
// the key recorded last.
func (n *Node) keyChange(ctx context.Context, tx store.Tx, f *terms) (store.LedgerRecord, bool, error) {
	if n.key == nil {
		return store.LedgerRecord{}, false, nil
	}
	latest, err := tx.LatestKey(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return store.LedgerRecord{}, false, err
	case latest.Key == n.key.VerifierKey:
		return store.LedgerRecord{}, false, nil
	}
	ev := ledger.KeyRotated{Node: n.key.Name, Old: latest.Key, New: n.key.VerifierKey}
	r, err := n.termsRecord(ev, partiesOf(f))
	return r, err == nil, err
}

// agreementChange returns the record of the agreement of f (digest) and
// its ledger entry, nil if prev, the version recorded last (nil for none),
// is this one. A version older than prev, or prev's version with other
// content, is refused (ErrTermsRegress).
func (n *Node) agreementChange(f *terms, digest [32]byte, prev *store.AgreementRecord) (*store.AgreementRecord, store.LedgerRecord, error) {
	a := f.agreement
	doc, err := a.Document()
	if err != nil {
		return nil, store.LedgerRecord{}, err
	}
	r := &store.AgreementRecord{Agreement: a.ID, Version: a.Version, Digest: digest, Document: doc, Recorded: n.now()}
	var ev ledger.Event = ledger.AgreementAdopted{Agreement: a.ID, Version: strconv.Itoa(a.Version), Digest: digest}
	if prev != nil && prev.Agreement == a.ID {
		switch {
		case prev.Version == a.Version && prev.Digest == digest:
			return nil, store.LedgerRecord{}, nil
		case prev.Version == a.Version:
			return nil, store.LedgerRecord{}, fmt.Errorf("%w: the ledger records agreement %q version %d (entry %d) with other content, digest %x, than this one, %x; an amendment is a new version that supersedes %d",
				ErrTermsRegress, a.ID, a.Version, prev.Entry, prev.Digest, digest, prev.Version)
		case a.Version < prev.Version:
			return nil, store.LedgerRecord{}, fmt.Errorf("%w: the node moved to agreement %q version %d (ledger entry %d); start it with that version or an amendment of it, not version %d",
				ErrTermsRegress, a.ID, prev.Version, prev.Entry, a.Version)
		}
		r.Previous = prev.Version
		ev = ledger.AgreementAmended{Agreement: a.ID, Previous: strconv.Itoa(prev.Version), Version: strconv.Itoa(a.Version), Digest: digest}
	}
	rec, err := n.termsRecord(ev, partiesOf(f))
	return r, rec, err
}

// termsRecord is the ledger record of a terms event, which concerns every
// party of the agreement.
func (n *Node) termsRecord(ev ledger.Event, concerns []string) (store.LedgerRecord, error) {
	enc, err := ledger.Entry{Time: n.now(), Event: ev}.Encode()
	if err != nil {
		return store.LedgerRecord{}, fmt.Errorf("node: the ledger entry %s: %w", ev.Kind(), err)
	}
	r := store.LedgerRecord{Entry: enc, Concerns: concerns}
	if _, err := io.ReadFull(n.writer.rand, r.Salt[:]); err != nil {
		return store.LedgerRecord{}, fmt.Errorf("node: drawing a ledger salt: %w", err)
	}
	return r, nil
}

// partiesOf lists the parties of f's agreement, none without one.
func partiesOf(f *terms) []string {
	if f == nil {
		return nil
	}
	ps := make([]string, len(f.agreement.Parties))
	for i, p := range f.agreement.Parties {
		ps[i] = p.ID
	}
	return ps
}

// signalGrew tells the checkpoint signer that the log grew.
func (n *Node) signalGrew() {
	select {
	case n.writer.grew <- struct{}{}:
	default:
	}
}

// ErrTermsTampered means an agreement version the store keeps no longer
// matches the ledger entry that recorded it, or its signatures fail: the
// store was changed. Run entente ledger verify, and restore the store
// from a backup.
var ErrTermsTampered = errors.New("node: a stored agreement version does not match its ledger entry")

// PreviousAgreement returns the agreement version the node worked under
// before the one in force, when the one in force amended it; nil when the
// node adopted the one in force (or works under none). It is read from the
// store and verified again: its document must parse, its signatures
// verify, and its content have the digest its ledger entry records
// (ErrTermsTampered otherwise).
func (n *Node) PreviousAgreement(ctx context.Context) (*agreement.Agreement, error) {
	f := n.fed.Load()
	if f == nil {
		return nil, nil
	}
	rs, err := n.store.AgreementRecords(ctx, 2)
	if err != nil {
		return nil, fmt.Errorf("node: reading the recorded agreements: %w", err)
	}
	if len(rs) < 2 || rs[0].Agreement != f.agreement.ID || rs[0].Version != f.agreement.Version || rs[0].Previous == 0 {
		return nil, nil
	}
	prev := rs[1]
	if prev.Agreement != rs[0].Agreement || prev.Version != rs[0].Previous {
		return nil, nil
	}
	return n.storedAgreement(ctx, prev)
}

// storedAgreement reads and verifies a recorded agreement version.
func (n *Node) storedAgreement(ctx context.Context, r store.AgreementRecord) (*agreement.Agreement, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: agreement %q version %d (ledger entry %d): %s", ErrTermsTampered, r.Agreement, r.Version, r.Entry, fmt.Sprintf(format, args...))
	}
	a, err := agreement.Parse(r.Document)
	if err != nil {
		return nil, fail("the stored document does not parse: %v", err)
	}
	if err := a.VerifySignatures(); err != nil {
		return nil, fail("%v", err)
	}
	digest, err := a.Digest()
	if err != nil {
		return nil, fail("%v", err)
	}
	recs, err := n.store.LedgerRecords(ctx, r.Entry, r.Entry+1)
	if err != nil {
		return nil, fmt.Errorf("node: reading ledger entry %d: %w", r.Entry, err)
	}
	if len(recs) != 1 {
		return nil, fail("the ledger holds no entry %d", r.Entry)
	}
	e, err := ledger.DecodeEntry(recs[0].Entry)
	if err != nil {
		return nil, fail("%v", err)
	}
	var id, version string
	var want ledger.Digest
	switch ev := e.Event.(type) {
	case ledger.AgreementAdopted:
		id, version, want = ev.Agreement, ev.Version, ev.Digest
	case ledger.AgreementAmended:
		id, version, want = ev.Agreement, ev.Version, ev.Digest
	default:
		return nil, fail("the entry is %s, not an agreement's", e.Event.Kind())
	}
	if id != a.ID || version != strconv.Itoa(a.Version) || !bytes.Equal(want[:], digest[:]) {
		return nil, fail("the entry records %s version %s with digest %x; the stored document is %s version %d with digest %x",
			id, version, want, a.ID, a.Version, digest)
	}
	return a, nil
}

// TermsEvent is a change of the terms that the ledger records, as the
// console's ledger page names it.
type TermsEvent struct {
	Entry    int64 // the ledger entry's index
	Recorded time.Time
	Kind     ledger.Kind // KindAgreementAdopted, KindAgreementAmended or KindKeyRotated
	// Agreement, Version and Previous (0 when adopted) name an agreement
	// version; Digest is the SHA-256 of its signed content, in hex.
	Agreement         string
	Version, Previous int
	Digest            string
	// Key is the node key recorded; OldKey the one it replaced, "" for
	// the first.
	Key, OldKey string
}

// RecordedTerms returns the latest limit changes of the terms the ledger
// records, the latest first: agreement versions adopted or amended, and
// node keys.
func (n *Node) RecordedTerms(ctx context.Context, c *taxii.Caller, limit int) ([]TermsEvent, error) {
	if err := consoleAccount(c); err != nil {
		return nil, err
	}
	as, err := n.store.AgreementRecords(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the recorded agreements: %v", taxii.ErrUnavailable, err)
	}
	ks, err := n.store.KeyRecords(ctx, limit+1) // one more: the key the last one replaced
	if err != nil {
		return nil, fmt.Errorf("%w: reading the recorded node keys: %v", taxii.ErrUnavailable, err)
	}
	var out []TermsEvent
	for _, a := range as {
		k := ledger.KindAgreementAdopted
		if a.Previous != 0 {
			k = ledger.KindAgreementAmended
		}
		out = append(out, TermsEvent{Entry: a.Entry, Recorded: a.Recorded, Kind: k, Agreement: a.Agreement,
			Version: a.Version, Previous: a.Previous, Digest: hex.EncodeToString(a.Digest[:])})
	}
	for i, k := range ks[:min(len(ks), limit)] {
		e := TermsEvent{Entry: k.Entry, Recorded: k.Recorded, Kind: ledger.KindKeyRotated, Key: k.Key}
		if i+1 < len(ks) {
			e.OldKey = ks[i+1].Key
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b TermsEvent) int { return cmp.Compare(b.Entry, a.Entry) })
	return out[:min(len(out), limit)], nil
}
