package store

import "context"

// A store with read replicas (store/postgres with a replica) sends reads to
// a replica, which may lag behind the primary. So that no caller misses
// its own writes, the node says whose reads a context carries (ForCaller)
// and tells the store after each of a caller's writes (Replicated.Wrote);
// until the replica has replayed past that write, the store reads that
// caller's requests from the primary.

type callerKey struct{}

// ForCaller returns ctx marked as carrying caller's reads.
func ForCaller(ctx context.Context, caller string) context.Context {
	return context.WithValue(ctx, callerKey{}, caller)
}

// CallerOf returns the caller ForCaller marked ctx with, or "".
func CallerOf(ctx context.Context) string {
	c, _ := ctx.Value(callerKey{}).(string)
	return c
}

// Replicated is implemented by a store that reads from replicas.
type Replicated interface {
	// Wrote records that caller's writes committed so far must be
	// visible to its reads from now on, whichever process serves them.
	Wrote(ctx context.Context, caller string) error
}
