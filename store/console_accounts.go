package store

import "context"

// AccountLister lists the node's accounts, for the console's accounts
// page.
type AccountLister interface {
	// Accounts lists the accounts whose name sorts after after (byte
	// order; "" starts at the first), in byte order of their names, at
	// most limit of them. A page of accounts is one keyset read, whatever
	// the number of accounts.
	Accounts(ctx context.Context, after string, limit int) ([]Account, error)
}
