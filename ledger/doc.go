// Package ledger is Entente's transparency log: a record of everything a
// node receives, originates and discloses, that the node cannot quietly
// rewrite and that partners can check without learning what does not
// concern them.
//
// Entries (received, originated, disclosed, revoked, agreement and key
// events, workflow transitions) have one versioned binary encoding. The
// log's leaves are not the entries but salted commitments to them, so the
// public log (its tiles, entry bundles and checkpoints) reveals only how
// many entries there are; the node hands out an [Opening] (entry and salt)
// only to the partners an entry concerns.
//
// The tree is the RFC 6962 Merkle tree, built and proved with
// golang.org/x/mod/sumdb/tlog, and served as C2SP tlog-tiles
// (https://c2sp.org/tlog-tiles). Checkpoints are C2SP signed notes
// (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note) signed
// with the node key; witnesses add C2SP cosignatures
// (https://c2sp.org/tlog-cosignature), and [Witness] is the decision core of
// a C2SP tlog-witness (https://c2sp.org/tlog-witness). The package does no
// I/O: storage and HTTP belong to its callers. doc/ledger.md describes the
// formats byte for byte.
package ledger
