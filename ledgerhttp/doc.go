// Package ledgerhttp serves a node's ledger over HTTP and speaks to
// witnesses: the log as C2SP tlog-tiles (https://c2sp.org/tlog-tiles) with
// Entente's proof and opening endpoints beside it, the node's witness as
// C2SP tlog-witness (https://c2sp.org/tlog-witness), and the submitter that
// sends the node's own checkpoints to the witnesses the agreement names.
//
// The formats and decisions are the ledger package's; this package maps
// them to HTTP. The Server depends on a small Backend that the node
// supplies, as golang.org/x/mod/sumdb's server does with ServerOps.
//
// Every URL lives under Prefix ("/ledger/"):
//
//	GET  checkpoint                        the latest checkpoint, with its cosignatures
//	GET  tile/<L>/<N>[.p/<W>]              hash tiles (tlog-tiles)
//	GET  tile/entries/<N>[.p/<W>]          entry bundles: the leaves' commitments
//	GET  proof/inclusion?index=I[&size=N]  inclusion proof of entry I
//	GET  proof/consistency?old=M[&new=N]   consistency proof from M to N
//	GET  openings?from=A&to=B              openings of the entries [A, B) that concern the caller
//	POST add-checkpoint                    tlog-witness
//
// Reads need an account (HTTP Basic or a bearer token, as for TAXII);
// add-checkpoint does not, as tlog-witness clients send no credentials: the
// log's signature on the checkpoint is what authenticates a request. The
// answers are plain text, as tlog-tiles and tlog-witness clients expect,
// errors included (a tile that does not exist is a plain 404).
package ledgerhttp
