package node

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/ledgerhttp"
	"github.com/entente/entente/policy"
	"github.com/entente/entente/provenance"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

var (
	_ taxii.PeerAuthenticator   = (*Node)(nil)
	_ ledgerhttp.PeerAuthorizer = (*Transparency)(nil)
)

// terms is the agreement the node works under, prepared for the
// questions each request asks: who a client certificate's key belongs to,
// and what the policy allows. It is replaced whole when the agreement is
// amended, so a request sees one agreement throughout.
type terms struct {
	agreement *agreement.Agreement
	policy    *policy.Policy
	self      *agreement.Node
	party     string // this node's party
	// peers maps a node key (the raw Ed25519 public key, as a string) to
	// the node of another party the agreement pins it for; nodes maps the
	// same nodes by id.
	peers map[string]peer
	nodes map[string]peer
	// keys holds the origin signature key of every node of the agreement
	// (this party's too) whose key reads, by node id (keyOf).
	keys map[string]ed25519.PublicKey
}

// peer is a partner node the agreement names: its party, id, the
// authority that operates it, and the name of its key.
type peer struct {
	party, node, authority, keyName string
}

// newTerms prepares agreement a for the node self in it.
func newTerms(a *agreement.Agreement, self string, key *Key) (*terms, error) {
	party, node, ok := a.Node(self)
	if !ok {
		return nil, fmt.Errorf("node: Config.Self %q is not a node of agreement %q; give the id of this node's entry under parties[].nodes", self, a.ID)
	}
	if key != nil && node.Key != key.VerifierKey {
		return nil, fmt.Errorf("node: agreement %q pins the key %s for node %s, but this node's key is %s", a.ID, node.Key, self, key.VerifierKey)
	}
	pol, err := policy.Compile(a, party.ID)
	if err != nil {
		return nil, err
	}
	f := &terms{agreement: a, policy: pol, self: node, party: party.ID, peers: map[string]peer{}, nodes: map[string]peer{},
		keys: map[string]ed25519.PublicKey{}}
	seen := map[string]bool{}
	for _, p := range a.Parties {
		for _, n := range p.Nodes {
			if seen[n.ID] {
				continue // agreement.Node finds the first
			}
			seen[n.ID] = true
			if _, pub, err := provenance.PublicKey(n.Key); err == nil {
				f.keys[n.ID] = pub
			}
		}
	}
	for _, p := range a.Parties {
		if p.ID == party.ID {
			continue // the party's own nodes are not its partners
		}
		for _, n := range p.Nodes {
			pub, err := nodePublicKey(n.Key)
			if err != nil {
				return nil, fmt.Errorf("node: agreement %q, node %s: %w", a.ID, n.ID, err)
			}
			keyName, _, _ := strings.Cut(n.Key, "+")
			pe := peer{party: p.ID, node: n.ID, authority: n.Authority, keyName: keyName}
			f.peers[string(pub)], f.nodes[n.ID] = pe, pe
		}
	}
	return f, nil
}

// nodePublicKey reads the Ed25519 public key of a node key in the
// signed-note verifier encoding ("<name>+<hash>+<base64 key>").
func nodePublicKey(vkey string) (ed25519.PublicKey, error) {
	fields := strings.SplitN(vkey, "+", 3)
	var raw []byte
	if len(fields) == 3 {
		raw, _ = base64.StdEncoding.DecodeString(fields[2])
	}
	if len(raw) != 1+ed25519.PublicKeySize || raw[0] != algEd25519 {
		return nil, fmt.Errorf("%q is not an Ed25519 node key", vkey)
	}
	return ed25519.PublicKey(raw[1:]), nil
}

// Agreement returns the agreement the node works under and its policy
// compiled for the node's party; nil, nil when it has none (and so no
// partners).
func (n *Node) Agreement() (*agreement.Agreement, *policy.Policy) {
	f := n.fed.Load()
	if f == nil {
		return nil, nil
	}
	return f.agreement, f.policy
}

// Amend moves the node to next, an amendment of the agreement it works
// under (agreement.CheckAmendment), whose signatures the caller verified.
// It first appends the amendment to the ledger (an agreement-amended
// entry, with the version it replaces and the digest of next's signed
// content) and keeps next's signed document in the store; if that fails,
// the node stays on the agreement in force. From then on, keys only the
// superseded version pinned, and parties it alone covered, are refused,
// on open connections too.
func (n *Node) Amend(ctx context.Context, next *agreement.Agreement) error {
	n.amendMu.Lock()
	defer n.amendMu.Unlock()
	cur := n.fed.Load()
	if cur == nil {
		return errors.New("node: the node works under no agreement, so there is none to amend; start it with one")
	}
	if err := agreement.CheckAmendment(cur.agreement, next); err != nil {
		return err
	}
	f, err := newTerms(next, cur.self.ID, n.key)
	if err != nil {
		return err
	}
	if err := n.recordTerms(ctx, f); err != nil {
		return fmt.Errorf("node: agreement %q stays at version %d: %w", cur.agreement.ID, cur.agreement.Version, err)
	}
	n.fed.Store(f)
	return nil
}

// ErrNotPartner means a TLS client certificate holds no key of a node
// that the agreement in force covers. The peer is refused; it may use an
// account's token without a certificate, or have the agreement amended.
var ErrNotPartner = errors.New("node: not a partner node under the agreement in force")

// partner returns the partner node whose certificate cs carries, nil if
// the peer presented none, or an error wrapping ErrNotPartner.
func (n *Node) partner(cs *tls.ConnectionState) (*peer, *terms, error) {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return nil, nil, nil
	}
	pub, ok := cs.PeerCertificates[0].PublicKey.(ed25519.PublicKey)
	if !ok {
		return nil, nil, fmt.Errorf("%w: the client certificate's key is not an Ed25519 node key", ErrNotPartner)
	}
	f := n.fed.Load()
	if f == nil {
		return nil, nil, fmt.Errorf("%w: this node works under no agreement", ErrNotPartner)
	}
	if err := f.agreement.InForce(n.now()); err != nil {
		return nil, nil, fmt.Errorf("%w: agreement %q version %d: %v", ErrNotPartner, f.agreement.ID, f.agreement.Version, err)
	}
	p, ok := f.peers[string(pub)]
	if !ok {
		return nil, nil, fmt.Errorf("%w: agreement %q version %d pins no partner node key %s",
			ErrNotPartner, f.agreement.ID, f.agreement.Version, base64.StdEncoding.EncodeToString(pub))
	}
	return &p, f, nil
}

// VerifyPeer is the listener's tls.Config.VerifyConnection: a client
// certificate is accepted only if its key is a partner node's that the
// agreement in force pins, so that any other fails the handshake before
// a handler runs. A client without a certificate passes, to be asked for
// an account's credentials.
func (n *Node) VerifyPeer(cs tls.ConnectionState) error {
	_, _, err := n.partner(&cs)
	return err
}

// ServerTLSConfig sets cfg up for mutual TLS with partner nodes: it asks
// clients for a certificate, which crypto/tls checks the client holds the
// key of, and VerifyPeer decides whose key it is.
func (n *Node) ServerTLSConfig(cfg *tls.Config) {
	cfg.ClientAuth = tls.RequestClientCert
	cfg.VerifyConnection = n.VerifyPeer
}

// AuthenticatePeer implements taxii.PeerAuthenticator. It checks the
// peer again on every request, so that an agreement that expires or is
// superseded while a connection stays open refuses from then on.
func (n *Node) AuthenticatePeer(ctx context.Context, cs *tls.ConnectionState) (*taxii.Caller, error) {
	p, _, err := n.partner(cs)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", taxii.ErrUnauthorized, err)
	}
	if p == nil {
		return nil, nil
	}
	return &taxii.Caller{Name: p.node, Role: taxii.RolePartner, Party: p.party, Node: p.node}, nil
}

// AuthorizePeer implements ledgerhttp.PeerAuthorizer: a partner node
// reads the log, and the openings of the entries that concern its party
// (MayOpen), without an account.
func (t *Transparency) AuthorizePeer(ctx context.Context, cs *tls.ConnectionState) (*ledgerhttp.Caller, error) {
	p, _, err := t.n.partner(cs)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ledgerhttp.ErrUnauthorized, err)
	}
	if p == nil {
		return nil, nil
	}
	return &ledgerhttp.Caller{Name: p.node, Role: taxii.RolePartner, Party: p.party, Node: p.node}, nil
}

// PeerTLSConfig returns the client configuration for reaching the partner
// node with the given id: it presents this node's certificate, which holds
// its node key, and accepts only a server whose certificate holds the key
// the agreement pins for the partner (or a valid chain, see
// NodeKeyTLSConfig).
func (n *Node) PeerTLSConfig(partnerNode string) (*tls.Config, error) {
	f := n.fed.Load()
	if f == nil {
		return nil, errors.New("node: the node works under no agreement, so it has no partners")
	}
	if n.key == nil {
		return nil, errors.New("node: the node has no key to present to partners; set Config.Key")
	}
	party, pn, ok := f.agreement.Node(partnerNode)
	if !ok || party.ID == f.party {
		return nil, fmt.Errorf("node: %q is not a partner node in agreement %q", partnerNode, f.agreement.ID)
	}
	cfg, err := NodeKeyTLSConfig(pn.Key)
	if err != nil {
		return nil, err
	}
	cert, err := n.key.SelfSignedCertificate(nil)
	if err != nil {
		return nil, err
	}
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, nil
}

// Disclosed lists the disclosures of the object id to party ("" for
// every party): which partner nodes received which of its versions.
func (n *Node) Disclosed(ctx context.Context, party, id string) ([]store.Disclosure, error) {
	ds, err := n.store.Disclosures(ctx, party, []string{id})
	if err != nil {
		return nil, fmt.Errorf("node: reading the disclosures of %s: %w", id, err)
	}
	return ds, nil
}
