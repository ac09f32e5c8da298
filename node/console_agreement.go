package node

// SelfParty returns the party and node id this node acts for under its
// agreement, both empty when it works under none.
func (n *Node) SelfParty() (party, node string) {
	f := n.fed.Load()
	if f == nil {
		return "", ""
	}
	return f.party, f.self.ID
}
