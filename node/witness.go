package node

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/federation"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/ledgerhttp"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

var _ ledgerhttp.Backend = (*Transparency)(nil)

// PartnerLog is a partner's log that the node witnesses.
type PartnerLog struct {
	// Origin is the log's name, the origin line of its checkpoints.
	Origin string
	// Party is the id of the party that runs the log.
	Party string
	// Key verifies the log's checkpoints: its node key (type 0x01).
	Key note.Verifier
}

// Alert reasons: a bounded set, for metric labels.
const (
	AlertFork         = "fork"          // a partner log signed two checkpoints of one size
	AlertInconsistent = "inconsistent"  // a partner log is not an extension of what the node cosigned
	AlertRollback     = "rollback"      // a partner log offered a checkpoint older than one the node cosigned
	AlertOwnRollback  = "own-rollback"  // a witness holds a later checkpoint of this node's log than the node itself
	AlertOwnRefused   = "own-refused"   // a witness found this node's checkpoint inconsistent
	AlertOwnForbidden = "own-forbidden" // a witness refuses this node's log: it suspended it, or does not trust its key
)

// TransparencyConfig configures a Transparency.
type TransparencyConfig struct {
	// Cosigner is the node's witness key (Key.Cosigner).
	Cosigner note.Signer
	// Partners are the logs the node witnesses.
	Partners []PartnerLog
	// OnAlert, when set, is called with the reason of each alert, one of
	// the Alert constants, for metrics.
	OnAlert func(reason string)
}

// Transparency is the node's ledger as others see it: it serves the log
// to the node's readers (ledgerhttp.Backend) and witnesses its partners'
// logs.
type Transparency struct {
	n        *Node
	witness  *ledger.Witness
	partners map[string]PartnerLog
	onAlert  func(string)
}

// NewTransparency returns the transparency service of n.
func NewTransparency(n *Node, cfg TransparencyConfig) (*Transparency, error) {
	if cfg.Cosigner == nil {
		return nil, errors.New("node: TransparencyConfig.Cosigner is nil; pass Key.Cosigner(nil)")
	}
	t := &Transparency{n: n, partners: map[string]PartnerLog{}, onAlert: cfg.OnAlert}
	logs := map[string][]note.Verifier{}
	for _, p := range cfg.Partners {
		if p.Origin == "" || p.Key == nil {
			return nil, fmt.Errorf("node: partner log %+v needs an origin and a key", p)
		}
		if _, dup := t.partners[p.Origin]; dup {
			return nil, fmt.Errorf("node: partner log %q listed twice", p.Origin)
		}
		t.partners[p.Origin] = p
		logs[p.Origin] = []note.Verifier{p.Key}
	}
	t.witness = &ledger.Witness{Cosigner: cfg.Cosigner, Logs: logs, State: witnessState{n.store}}
	if t.onAlert == nil {
		t.onAlert = func(string) {}
	}
	return t, nil
}

// MayReadLedger reports whether an account of the node may read its log:
// checkpoints, tiles and proofs reveal only the log's size and its growth,
// so every role may.
func MayReadLedger(role store.Role) bool { return ValidRole(role) }

// MayOpen reports whether c may receive the opening of an entry that
// concerns the given parties: an admin reads every entry of its own node;
// a partner (c.Party, set by federation) those that concern its party;
// other accounts none.
func MayOpen(c *ledgerhttp.Caller, concerns []string) bool {
	switch {
	case c == nil:
		return false
	case c.Party != "":
		return slices.Contains(concerns, c.Party)
	default:
		return store.Role(c.Role) == store.RoleAdmin
	}
}

// Authorize implements ledgerhttp.Backend with the node's accounts.
func (t *Transparency) Authorize(ctx context.Context, user, token string) (*ledgerhttp.Caller, error) {
	c, err := t.n.Authenticate(ctx, user, token)
	switch {
	case errors.Is(err, taxii.ErrUnauthorized):
		return nil, ledgerhttp.ErrUnauthorized
	case err != nil:
		return nil, err
	case !MayReadLedger(store.Role(c.Role)):
		return nil, fmt.Errorf("%w: role %s", ledgerhttp.ErrForbidden, c.Role)
	}
	return &ledgerhttp.Caller{Name: c.Name, Role: c.Role}, nil
}

// Checkpoint implements ledgerhttp.Backend: the latest checkpoint with
// the cosignatures collected so far.
func (t *Transparency) Checkpoint(ctx context.Context) ([]byte, int64, error) {
	c, err := t.n.store.LatestCheckpoint(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, fmt.Errorf("%w: the node has signed no checkpoint yet", ledgerhttp.ErrNotFound)
	}
	if err != nil {
		return nil, 0, err
	}
	return c.Note, c.Size, nil
}

// ReadHashes implements ledgerhttp.Backend.
func (t *Transparency) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	return t.n.store.ReadLedgerHashes(ctx, indexes)
}

// Commitments implements ledgerhttp.Backend.
func (t *Transparency) Commitments(ctx context.Context, from, to int64) ([]ledger.Commitment, error) {
	recs, err := t.n.store.LedgerRecords(ctx, from, to)
	if err != nil {
		return nil, err
	}
	if int64(len(recs)) != to-from {
		return nil, fmt.Errorf("node: the ledger returned %d entries of [%d, %d)", len(recs), from, to)
	}
	cs := make([]ledger.Commitment, len(recs))
	for i, r := range recs {
		cs[i] = r.Commitment
	}
	return cs, nil
}

// Openings implements ledgerhttp.Backend: the openings MayOpen allows.
func (t *Transparency) Openings(ctx context.Context, c *ledgerhttp.Caller, from, to int64) ([]ledgerhttp.Opening, error) {
	recs, err := t.n.store.LedgerRecords(ctx, from, to)
	if err != nil {
		return nil, err
	}
	var out []ledgerhttp.Opening
	for _, r := range recs {
		if MayOpen(c, r.Concerns) {
			// Opening.MarshalBinary's form: salt || entry encoding.
			out = append(out, ledgerhttp.Opening{Index: r.Index, Opening: append(r.Salt[:], r.Entry...)})
		}
	}
	return out, nil
}

// AddCheckpoint implements ledgerhttp.Backend: the node as a C2SP
// tlog-witness of its partners' logs. A log that shows an inconsistent
// checkpoint is refused, alerted about, and suspended until an operator
// resumes it (entente witness resume).
func (t *Transparency) AddCheckpoint(ctx context.Context, body []byte) ([]byte, error) {
	req, err := ledger.ParseAddRequest(body)
	if err != nil {
		return nil, err
	}
	origin, _, _ := strings.Cut(string(req.Checkpoint), "\n")
	if _, ok := t.partners[origin]; ok {
		if suspended, err := t.Suspended(ctx, origin); err != nil {
			return nil, err
		} else if suspended {
			return nil, fmt.Errorf("%w: %q; an operator must resume it", ledgerhttp.ErrSuspended, origin)
		}
	}
	lines, err := t.witness.Add(ctx, body)
	switch {
	case errors.Is(err, ledger.ErrInconsistent):
		reason := AlertInconsistent
		if errors.Is(err, ledger.ErrFork) {
			reason = AlertFork
		}
		t.suspend(ctx, origin, reason, body, err)
	case errors.Is(err, ledger.ErrRollback):
		// Not proof by itself (anyone may replay an old checkpoint), but
		// the symptom of a rolled-back log: the next consistency proof
		// will tell.
		t.onAlert(AlertRollback)
		t.n.log.WarnContext(ctx, "witness: a partner log offered a checkpoint older than the one cosigned",
			slog.String("origin", origin), slog.Any("error", err))
	}
	return lines, err
}

// suspend raises the alert for an inconsistent partner log: a log line, a
// metric, a suspension with the evidence, and an entry in the node's own
// ledger.
func (t *Transparency) suspend(ctx context.Context, origin, reason string, evidence []byte, cause error) {
	ctx = context.WithoutCancel(ctx) // the evidence is kept even if the client hangs up
	t.onAlert(reason)
	p := t.partners[origin]
	t.n.log.ErrorContext(ctx, "witness: a partner log showed an inconsistent checkpoint; suspended until an operator resumes it",
		slog.String("origin", origin), slog.String("party", p.Party), slog.String("reason", reason), slog.Any("error", cause))
	witnessed, _ := t.n.store.WitnessedCheckpoint(ctx, origin)
	err := t.n.store.SuspendLog(ctx, store.Suspension{Origin: origin, Since: t.n.now().UTC(), Reason: reason, Evidence: evidence, Witnessed: witnessed})
	if err != nil {
		t.n.log.ErrorContext(ctx, "witness: recording the suspension", slog.String("origin", origin), slog.Any("error", err))
	}
	if err := t.n.RecordSuspension(ctx, origin, p.Party, reason); err != nil {
		t.n.log.ErrorContext(ctx, "witness: recording the suspension in the ledger", slog.String("origin", origin), slog.Any("error", err))
	}
}

// Suspended reports whether the node suspended the partner log origin:
// federation must not exchange with its node until an operator resumes it.
func (t *Transparency) Suspended(ctx context.Context, origin string) (bool, error) {
	ss, err := t.n.store.Suspensions(ctx)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(ss, func(s store.Suspension) bool { return s.Origin == origin }), nil
}

// SuspensionWorkflow is the workflow name of the ledger entries that
// record a witness's suspensions: a transition of the case <origin> to
// "suspended" (and back to "resumed" when an operator lifts it).
const SuspensionWorkflow = "witness"

// RecordSuspension appends to the node's own ledger that it suspended the
// partner log origin of party for reason. The entry concerns the party,
// which may receive its opening.
func (n *Node) RecordSuspension(ctx context.Context, origin, party, reason string) error {
	return n.recordTransition(ctx, ledger.Transition{Workflow: SuspensionWorkflow, Case: origin, To: "suspended", Party: party,
		Attrs: map[string]string{"reason": reason}})
}

// RecordResumption appends to the node's own ledger that an operator
// resumed the partner log origin.
func (n *Node) RecordResumption(ctx context.Context, origin, party string) error {
	return n.recordTransition(ctx, ledger.Transition{Workflow: SuspensionWorkflow, Case: origin, From: "suspended", To: "resumed", Party: party})
}

func (n *Node) recordTransition(ctx context.Context, tr ledger.Transition) error {
	e := ledger.Entry{Time: n.now().UTC(), Event: tr}
	enc, err := e.Encode()
	if err != nil {
		return fmt.Errorf("node: encoding the ledger entry: %w", err)
	}
	r := store.LedgerRecord{Entry: enc}
	if tr.Party != "" {
		r.Concerns = []string{tr.Party}
	}
	if _, err := io.ReadFull(n.writer.rand, r.Salt[:]); err != nil {
		return fmt.Errorf("node: drawing a ledger salt: %w", err)
	}
	// The store's write transaction sequences the log, as it does for
	// the writer's batches.
	err = n.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.AppendLedger(ctx, []store.LedgerRecord{r})
		return err
	})
	if err != nil {
		return fmt.Errorf("node: appending to the ledger: %w", err)
	}
	select {
	case n.writer.grew <- struct{}{}:
	default:
	}
	return nil
}

// witnessState keeps ledger.Witness's state in the store.
type witnessState struct{ st store.Store }

func (s witnessState) Latest(ctx context.Context, origin string) ([]byte, error) {
	b, err := s.st.WitnessedCheckpoint(ctx, origin)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return b, err
}

func (s witnessState) Swap(ctx context.Context, origin string, old, next []byte) error {
	return s.st.SwapWitnessedCheckpoint(ctx, origin, old, next)
}

// AddCosignatures stores cosignature lines a witness returned for the
// node's own checkpoint of size.
func (t *Transparency) AddCosignatures(ctx context.Context, size int64, lines []byte) error {
	return t.n.store.AddCosignatures(ctx, size, lines)
}

// NodeKeyTLSConfig returns a client configuration for reaching a partner
// node: it accepts a server certificate whose key is the node key the
// agreement pins (vkey, as a signed-note verifier key), as the node's
// self-signed certificate is, or else one that verifies against the
// system's roots for the host.
func NodeKeyTLSConfig(vkey string) (*tls.Config, error) {
	want, err := nodePublicKey(vkey)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	name, _, _ := strings.Cut(vkey, "+")
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	// Verification is replaced, not skipped: VerifyConnection accepts the
	// pinned key, or a chain to the system's roots.
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("node: the server sent no certificate")
		}
		leaf := cs.PeerCertificates[0]
		if pub, ok := leaf.PublicKey.(ed25519.PublicKey); ok && pub.Equal(want) {
			return nil
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: cs.ServerName, Intermediates: inter}); err != nil {
			return fmt.Errorf("node: the server's certificate holds neither the pinned node key %s nor a valid chain: %w", name, err)
		}
		return nil
	}
	return cfg, nil
}

// CheckServed compares the checkpoint a partner's node serves of its own
// log, fetched from that node over the link's mutual TLS, with the latest
// checkpoint of the log that this node cosigned. A checkpoint offered to
// the witness may be replayed by anyone who saw it, so an old one proves
// nothing there (AddCheckpoint only alerts); this one comes from the
// partner's node itself, signed with its key. A smaller tree than one this
// node cosigned means the partner serves a rolled-back log, and another
// tree of the same size a fork: either suspends the log, as a fork offered
// to the witness does, and the error wraps federation.ErrSuspended. A
// larger tree is left to the witness, which asks for its consistency
// proof when the partner submits it. A log this node does not witness is
// not checked.
func (t *Transparency) CheckServed(ctx context.Context, origin string, served []byte) error {
	p, ok := t.partners[origin]
	if !ok {
		return nil // this node cosigns nothing of that log to compare with
	}
	cp, _, err := ledger.OpenCheckpoint(served, origin, p.Key)
	if err != nil {
		return fmt.Errorf("node: the checkpoint the node of %q serves: %w", origin, err)
	}
	w, err := t.n.store.WitnessedCheckpoint(ctx, origin)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	wc, _, err := ledger.OpenCheckpoint(w, origin, p.Key)
	if err != nil {
		return fmt.Errorf("node: the checkpoint of %q this node cosigned: %w", origin, err)
	}
	var (
		reason string
		cause  error
	)
	switch {
	case cp.N < wc.N:
		reason = AlertRollback
		cause = fmt.Errorf("%w: the partner's node serves its log at size %d, after this node cosigned size %d", ledger.ErrRollback, cp.N, wc.N)
	case cp.N == wc.N && cp.Hash != wc.Hash:
		reason = AlertFork
		cause = fmt.Errorf("%w: the partner's node serves another tree of size %d than the one this node cosigned", ledger.ErrFork, cp.N)
	default:
		return nil
	}
	if suspended, err := t.Suspended(ctx, origin); err != nil {
		return err
	} else if !suspended {
		t.suspend(ctx, origin, reason, served, cause)
	}
	return fmt.Errorf("%w: %w", federation.ErrSuspended, cause)
}
