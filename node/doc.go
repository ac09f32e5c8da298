// Package node is the application core of an Entente node: it authenticates
// callers, ingests STIX 2.1 objects (parse, validate, store) and serves what
// is stored through TAXII 2.1 (OASIS Standard, 10 June 2021,
// https://docs.oasis-open.org/cti/taxii/v2.1/taxii-v2.1.html) by
// implementing [taxii.Backend].
//
// Every object that enters a node goes through [Node.AddObjects]. It checks
// and hashes an envelope's objects on the caller's goroutine, then hands
// them to the node's one writer, which stores the envelopes that are ready
// together in one store transaction (store.Store.Update) with their
// statuses, and answers each caller only after that commit (group commit).
// The ledger entries that record each stored version are appended in that
// same transaction, by that same writer, which is what sequences the log;
// Run signs the log's checkpoints (see Node.Checkpoint). Every
// object that leaves goes through one method, release, which is where the
// agreement's policy decision will apply to partner nodes.
//
// Who may do what with a collection is decided in one place, [Can]: admins
// everything, other accounts only what their per-collection grants allow.
//
// A node's own identity is an Ed25519 key kept in the C2SP signed-note
// format (https://c2sp.org/signed-note), the format golang.org/x/mod/sumdb/note
// reads: the same key signs ledger checkpoints and, through
// [Key.SelfSignedCertificate], the node's default TLS certificate. Browsers,
// which do not support Ed25519 in TLS, get [Key.BrowserCertificate] instead:
// an ECDSA P-256 key derived from the node key, in a certificate it issues.
package node
