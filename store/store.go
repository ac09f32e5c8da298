// Package store defines how an Entente node persists what it holds: API roots,
// collections, STIX object versions, TAXII status resources and accounts.
//
// Every implementation (store/sqlite, later store/postgres) passes the one
// conformance suite in store/storetest. The contract follows TAXII 2.1
// (OASIS, 2021) §3–§5: object versions are keyed by (collection, id, version),
// each stored version gets a monotonic sequence number and a date_added with
// microsecond precision that strictly increases within its collection, and
// every listing pages by sequence number, never by offset.
//
// # Writes
//
// Everything one request writes commits in one transaction, through
// Update, as golang.org/x/mod/sumdb/storage's ReadWrite does: an envelope's
// objects, its status and the ledger entries that record them are stored
// together or not at all, so no crash can leave objects
// without their status or entries. Update takes one function, f, that
// writes through a Tx:
//
//	err := st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
//		out, err := tx.AddObjects(ctx, collection, puts)
//		if err != nil {
//			return err // nothing f wrote is kept
//		}
//		return tx.PutStatus(ctx, statusOf(out))
//	})
//
// A Tx holds the store's write lock until f returns, so a caller that has
// several requests' writes ready (the node's group commit) runs them all in
// one Update and pays for one commit; each request's outcome means
// something only once Update has returned nil. Update runs f once: it
// retries nothing, and f must keep nothing of tx after it returns.
// AddObjects and PutStatus on the Store itself are each one such
// transaction.
package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/stix"
)

var (
	// ErrNotFound means the API root, collection, object, status or account
	// does not exist. TAXII answers it with 404.
	ErrNotFound = errors.New("store: not found")

	// ErrExists means a collection id or alias, API root or account name is
	// already taken. Pick another name.
	ErrExists = errors.New("store: already exists")

	// ErrConflict means a different object is already stored under the same
	// id and version. STIX 2.1 §3.6 requires one content per (id, modified):
	// the producer must bump modified to publish a change.
	ErrConflict = errors.New("store: a different object is stored under this id and version")

	// ErrCreatedChanged means a new version of an object states another
	// created than the versions stored already. STIX 2.1 §3.2: created
	// must not change between versions; the producer must keep it.
	ErrCreatedChanged = errors.New("store: the object's created differs from that of its stored versions")
)

// Store is the persistence contract of a node. Implementations are safe for
// concurrent use, and for use by several processes on the same database
// (`entente user add` runs beside `entente serve`).
type Store interface {
	CreateAPIRoot(ctx context.Context, r APIRoot) error
	APIRoots(ctx context.Context) ([]APIRoot, error)
	APIRoot(ctx context.Context, path string) (APIRoot, error)

	CreateCollection(ctx context.Context, c Collection) error
	// Collections lists an API root's collections in creation order.
	Collections(ctx context.Context, apiRoot string) ([]Collection, error)
	Collection(ctx context.Context, apiRoot, id string) (Collection, error)

	// Update runs f in one write transaction, which commits when f
	// returns nil. If f returns an error, or the commit fails, nothing f
	// wrote is kept and Update returns the error.
	Update(ctx context.Context, f func(ctx context.Context, tx Tx) error) error

	// AddObjects stores objects in one transaction and reports one outcome
	// per object, in order. An object whose id and version are stored already
	// with the same content (compared as RFC 8785 canonical JSON) is a
	// Duplicate, not an error; one stored with different content fails with
	// ErrConflict, alone, and a new version whose created differs from the
	// stored versions' fails with ErrCreatedChanged, alone. Objects without a STIX version (SCOs) get the
	// date_added of the version that first stored that content.
	AddObjects(ctx context.Context, collection string, objs []*stix.Object) ([]AddOutcome, error)

	// Objects lists stored versions matching q in ascending sequence order,
	// at most q.Limit of them, and says whether more follow.
	Objects(ctx context.Context, q Query) (Page, error)

	// DeleteObject removes the versions of one object that match the version
	// and spec_version filters and returns how many it removed.
	//
	// The filters mean what they mean in Query: the zero VersionFilter
	// selects the last version, and no specVersions the latest spec_version.
	// Removing nothing is not an error (0, nil). Sequence numbers and
	// date_added values of removed versions are never given out again.
	DeleteObject(ctx context.Context, collection, id string, versions VersionFilter, specVersions []string) (int, error)

	// CollectionState returns what changes whenever the versions stored
	// in a collection, named by id, change: a cheap probe for a reader that
	// keeps what it derived from them. ErrNotFound if the collection does
	// not exist.
	CollectionState(ctx context.Context, collection string) (CollectionState, error)

	PutStatus(ctx context.Context, s Status) error
	Status(ctx context.Context, apiRoot, id string) (Status, error)
	// PruneStatuses deletes statuses whose request time is before t.
	PruneStatuses(ctx context.Context, before time.Time) (int, error)

	// CreateAccount fails with ErrExists if the name is taken.
	CreateAccount(ctx context.Context, a Account) error
	Account(ctx context.Context, name string) (Account, error)
	AccountByTokenHash(ctx context.Context, hash []byte) (Account, error)

	// AddGrant gives an account a right on a collection. It fails with
	// ErrExists if the account holds the right already, and with
	// ErrNotFound if the account or the collection does not exist.
	AddGrant(ctx context.Context, g Grant) error
	// RemoveGrant takes a right away; ErrNotFound if it was not held.
	RemoveGrant(ctx context.Context, g Grant) error
	// Grants lists an account's rights, by collection creation order and
	// then read before write; none (and no error) for an unknown account.
	Grants(ctx context.Context, account string) ([]Grant, error)

	// LedgerSize is the number of entries in the node's ledger.
	LedgerSize(ctx context.Context) (int64, error)
	// ReadLedgerHashes returns the ledger's stored hashes at the given
	// tlog storage indexes (tlog.StoredHashIndex), in order: a
	// tlog.HashReader over the committed log. It fails with ErrNotFound for
	// an index the log does not hold.
	ReadLedgerHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	// LedgerRecords returns the entries with index in [from, to), in
	// order; fewer when the log is shorter. Commitment is recomputed from
	// the salt and the entry.
	LedgerRecords(ctx context.Context, from, to int64) ([]LedgerRecord, error)
	// LedgerRecordOf returns the entry that records the stored object
	// version seq (LedgerRecord.Object), or ErrNotFound.
	LedgerRecordOf(ctx context.Context, seq int64) (LedgerRecord, error)
	// LedgerObjects lists the object versions stored since the ledger
	// began, of every collection, with Seq > after in ascending order, at
	// most limit of them, each with the index of the entry that records
	// it. Versions stored before the store had a ledger are not listed.
	LedgerObjects(ctx context.Context, after int64, limit int) ([]LedgerObject, error)
	// PutCheckpoint stores a signed checkpoint of the node's own log. It
	// fails with ErrConflict unless c.Size is larger than every stored
	// checkpoint's (a log never signs a smaller or the same size twice)
	// and at most LedgerSize.
	PutCheckpoint(ctx context.Context, c StoredCheckpoint) error
	// LatestCheckpoint returns the checkpoint of the largest size, or
	// ErrNotFound if none is stored.
	LatestCheckpoint(ctx context.Context) (StoredCheckpoint, error)
	// Checkpoints lists the stored checkpoints with Size > after, by
	// increasing size, at most limit of them.
	Checkpoints(ctx context.Context, after int64, limit int) ([]StoredCheckpoint, error)

	Witnessing
	Sharing
	AccountLister

	Federating
	Scheduling
	Overviewing
	Terms

	// Stats counts what is stored, for metrics, which may ask often: its
	// cost must not grow with the number of objects (keep counts as
	// objects are written), and it must count what every process wrote.
	Stats(ctx context.Context) (Stats, error)

	Close() error
}

// Tx writes within one Update. Its methods mean what the Store's methods
// of the same name mean; their writes become visible to readers when the
// Update commits.
type Tx interface {
	AddObjects(ctx context.Context, collection string, puts []Put) ([]AddOutcome, error)
	PutStatus(ctx context.Context, s Status) error
	// AppendLedger appends recs to the ledger, in order, and returns the
	// index given to the first. It reads the log's size inside the
	// transaction, so the one writer that holds it sequences the log, and
	// writes the entries, tlog's stored hashes for the new leaves and the
	// new size, which commit with the objects or not at all. The records'
	// Index is ignored (AppendLedger assigns it); a record's Commitment
	// must be that of its Salt and Entry (ledger.CommitEncoded), or the
	// zero value to have it computed. A received object version (one
	// stored with a FromParty) that a record concerning some party names
	// (Object) gets the record's index as its LedgerIndex, unless an
	// earlier entry recorded it.
	AppendLedger(ctx context.Context, recs []LedgerRecord) (first int64, err error)

	DisclosureTx
	AlarmTx
	TermsTx
}

// LedgerRecord is one stored entry of the node's ledger.
type LedgerRecord struct {
	Index      int64             // position in the log
	Commitment ledger.Commitment // the leaf: ledger.CommitEncoded(Salt, Entry)
	Salt       ledger.Salt
	Entry      []byte   // the entry's encoding (ledger.DecodeEntry reads it)
	Concerns   []string // party ids the entry concerns (who may receive its opening)
	// Object is the sequence number (Object.Seq) of the stored object
	// version the entry records, 0 for an entry about no stored version.
	Object int64
}

// StoredCheckpoint is a signed checkpoint of the node's own log.
type StoredCheckpoint struct {
	Size   int64
	Note   []byte // the signed note, with any cosignature lines added later
	Signed time.Time
}

// LedgerObject is a stored object version and the entry that records it.
type LedgerObject struct {
	Seq        int64
	Collection string // the collection id
	ID         string
	Version    string // as Object.Version
	Raw        []byte
	Entry      int64 // the recording entry's index, -1 if none does
}

// A Put is an object version to add, with the SHA-256 of its RFC 8785
// canonical JSON. The hash tells a copy of a stored version from a
// conflicting one (and the ledger records it); NewPut computes it, outside
// any transaction, since canonicalizing costs about as much as storing.
//
// Provenance, FromParty and FromNode are stored beside the version as given
// and returned in Object; a Duplicate keeps what the stored version has.
type Put struct {
	Object *stix.Object
	Hash   [sha256.Size]byte
	// Provenance is the version's provenance record (package provenance's
	// JSON), nil when it has none.
	Provenance []byte
	// FromParty and FromNode name the partner party and node the version
	// was received from; both empty for a version the node originated.
	FromParty, FromNode string
}

// NewPut hashes o's canonical JSON. It fails for an object that has no
// canonical form, such as one holding a number that an IEEE 754 double
// cannot represent exactly (RFC 8785 §3.2.2.3).
func NewPut(o *stix.Object) (Put, error) {
	canonical, err := stix.Canonical(o.Raw)
	if err != nil {
		return Put{}, fmt.Errorf("store: object %s: %w", o.ID, err)
	}
	return Put{Object: o, Hash: sha256.Sum256(canonical)}, nil
}

// APIRoot is a TAXII API root. Path is its single URL path segment ("api1").
type APIRoot struct {
	Path             string
	Title            string
	Description      string
	MaxContentLength int64
}

// Collection is a TAXII collection within an API root.
type Collection struct {
	ID          string // a UUIDv4
	APIRoot     string
	Title       string
	Description string
	Alias       string // "" or unique within the API root
	MediaTypes  []string
}

// Object is one stored version of a STIX object.
type Object struct {
	Seq         int64
	Collection  string
	ID          string
	Type        string
	Version     string // modified, else created, else the date_added of the version (TAXII timestamp)
	SpecVersion string
	DateAdded   time.Time // microsecond precision, UTC
	Raw         []byte    // the object's JSON as received; nil when Query.WithoutContent
	// Provenance is the version's provenance record as Put gave it; nil
	// when it has none, and when Query.WithoutContent.
	Provenance []byte
	// FromParty and FromNode are Put's: whom the version came from, both
	// empty for a version the node originated.
	FromParty, FromNode string
	// LedgerIndex is, for a received version, the index of the ledger
	// entry that records its receipt (Tx.AppendLedger fills it in); -1
	// for a version the node originated, or before that entry.
	LedgerIndex int64
}

// CollectionState marks the state of a collection's stored versions. An
// add raises LastAdded (date_added strictly increases within a collection,
// and a deleted version's is never given out again), and a delete lowers
// Versions, so the set of stored versions cannot change while both stay
// the same. Compare states with Equal.
type CollectionState struct {
	LastAdded time.Time // the latest date_added the collection gave; zero before its first version
	Versions  int64     // stored versions
}

// Equal reports whether s and t mark the same state.
func (s CollectionState) Equal(t CollectionState) bool {
	return s.Versions == t.Versions && s.LastAdded.Equal(t.LastAdded)
}

// AddOutcome says what AddObjects did with one object.
type AddOutcome struct {
	Seq       int64 // the stored version's sequence number (also for a Duplicate)
	DateAdded time.Time
	Version   string
	Duplicate bool  // the same content was stored already: nothing was added
	Err       error // ErrConflict, or another reason this object alone failed
}

// VersionFilter selects versions as TAXII match[version] does. The zero value
// selects the latest version only.
type VersionFilter struct {
	All   bool
	First bool
	Last  bool
	Exact []time.Time // versions whose STIX version time equals one of these
}

// Query selects stored object versions of one collection. Filters are ANDed;
// values within one filter are ORed. Objects fails with ErrNotFound if the
// collection does not exist.
type Query struct {
	Collection string
	After      int64     // sequence cursor: only versions with Seq > After
	AddedAfter time.Time // zero: unbounded
	IDs        []string
	Types      []string
	Versions   VersionFilter
	// SpecVersions limits the spec_version of returned versions; empty means
	// the latest spec_version stored for each object (TAXII's default).
	// Versions then applies within each selected spec_version: "last" is
	// the last version of that spec_version. An object stored without
	// spec_version (an SCO) counts as "2.1".
	SpecVersions   []string
	Limit          int  // > 0
	WithoutContent bool // leave Object.Raw nil (manifests, versions)
}

// Page is one page of a listing.
type Page struct {
	Objects []Object
	More    bool // further matching versions exist after the last one returned
}

// Status is a TAXII status resource (TAXII 2.1 §4.3.1).
type Status struct {
	ID               string
	APIRoot          string
	Status           string // "complete" or "pending"
	RequestTimestamp time.Time
	TotalCount       int
	SuccessCount     int
	FailureCount     int
	PendingCount     int
	Successes        []StatusDetail
	Failures         []StatusDetail
	Pendings         []StatusDetail
	Owner            string // the account that made the request
}

// StatusDetail reports on one object of a request.
type StatusDetail struct {
	ID      string
	Version string
	Message string
}

// Role is an account's role. The store keeps it as given; what each role
// allows is decided in one place, node.Can.
type Role string

// The roles a node gives accounts.
const (
	RoleAdmin   Role = "admin"
	RoleAnalyst Role = "analyst"
	RoleReader  Role = "reader"
)

// Account is a user or tool allowed to use the node. Only a hash of its token
// is stored.
type Account struct {
	Name      string
	Role      Role
	TokenHash []byte // SHA-256 of the token
	Created   time.Time
}

// Right is one of the two rights an account can hold on a collection,
// TAXII 2.1's can_read and can_write.
type Right string

// The rights.
const (
	RightRead  Right = "read"
	RightWrite Right = "write"
)

// Grant is a right an account holds on one collection.
type Grant struct {
	Account    string
	Collection string // the collection id
	Right      Right
}

// Stats counts what a store holds.
type Stats struct {
	Collections int64
	Objects     int64 // stored object versions
}
