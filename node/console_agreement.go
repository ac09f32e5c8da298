package node

import "github.com/entente/entente/agreement"

// PreviousAgreement returns the version of the agreement the node worked
// under before its last amendment (Amend) in this process, or nil if it
// has worked under the current one since it started. The console shows
// the differences between the two.
func (n *Node) PreviousAgreement() *agreement.Agreement {
	f := n.fed.Load()
	if f == nil {
		return nil
	}
	return f.previous
}

// SelfParty returns the party and node id this node acts for under its
// agreement, both empty when it works under none.
func (n *Node) SelfParty() (party, node string) {
	f := n.fed.Load()
	if f == nil {
		return "", ""
	}
	return f.party, f.self.ID
}
