package store

import "context"

// Elector is implemented by a store that several processes may share
// (store/postgres). The node asks it which process signs the ledger's
// checkpoints, so that exactly one does at a time while any number serve.
// A store only one process writes (store/sqlite) does not implement it.
//
// Election is for economy, not for safety: the log is sequenced inside the
// store's write transactions, and a checkpoint is stored only if it is
// larger than every stored one (PutCheckpoint), so two processes that
// briefly both believe they lead cannot fork the log.
type Elector interface {
	// Lead blocks until this process holds role among the store's
	// processes, or ctx ends (then err is ctx's). held is done when the
	// role is lost (the process's hold on it failed) or ctx ends; release
	// gives the role up and frees what holding it took.
	Lead(ctx context.Context, role string) (held context.Context, release func(), err error)
}
