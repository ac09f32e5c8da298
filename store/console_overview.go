package store

import (
	"context"
	"time"

	"github.com/entente/entente/ledger"
)

// Overviewing is what the console's overview reads: how many entries of a
// kind the ledger recorded per party within a time range, and the newest
// alerts and objects. Every read is bounded by its limit, whatever the
// store holds. Store includes it.
type Overviewing interface {
	// CountEntries counts the ledger entries of kind k recorded (their
	// ledger.Entry.Time) in [from, to), by the parties they concern, an
	// entry concerning several counting for each. It reads at most
	// limit+1 entries (the one beyond the limit says there are more),
	// through an index on their headers (ledger.Header), and says whether
	// it counted them all.
	CountEntries(ctx context.Context, k ledger.Kind, from, to time.Time, limit int) (EntryCounts, error)
	// NewestAlerts lists at most limit alerts, newest first.
	NewestAlerts(ctx context.Context, limit int) ([]Alert, error)
	// NewestObjects lists at most limit stored versions of type typ in
	// the collection, newest (highest Seq) first, with their content. It
	// fails with ErrNotFound if the collection does not exist.
	NewestObjects(ctx context.Context, collection, typ string, limit int) ([]Object, error)
}

// EntryCounts is what CountEntries counted.
type EntryCounts struct {
	ByParty map[string]int64 // entries concerning no party are not counted
	// Complete is false when the limit stopped the count: there are more.
	Complete bool
}
