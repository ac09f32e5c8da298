package taxii

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"time"
)

// Backend is what the Server needs from a node. Every method gets the
// authenticated Caller, and the Backend alone decides what that caller may
// do; the Server enforces nothing of its own. For a collection, TAXII 2.1
// §5 wants: a caller who may neither read nor write it gets ErrNotFound
// from every method, as if it did not exist (and it is not listed); reading
// objects without can_read, adding without can_write, and deleting without
// both get ErrForbidden. A Backend may also omit objects a caller may not
// see. Methods return the errors below (wrapped or not); the Server maps
// them to HTTP statuses in one place.
type Backend interface {
	// Authenticate checks HTTP Basic credentials (user name and token) or a
	// bearer token (user == ""). It returns ErrUnauthorized when they are
	// wrong.
	Authenticate(ctx context.Context, user, token string) (*Caller, error)

	// Discovery describes the server. APIRoots holds URLs, absolute or
	// server-relative ("/api1/"), and Default is one of them (§4.1.1);
	// Config.Title, Description and Contact, when set, replace the
	// Backend's.
	Discovery(ctx context.Context, c *Caller) (*Discovery, error)
	// APIRoot describes the API root at path /root/. Its
	// MaxContentLength also caps the bodies the Server accepts.
	APIRoot(ctx context.Context, c *Caller, root string) (*APIRoot, error)
	// Collections lists the API root's collections that c may read or
	// write, always in the same order (§3.3).
	Collections(ctx context.Context, c *Caller, root string) ([]Collection, error)
	// Collection returns one collection, with CanRead and CanWrite set for
	// c. The Server also asks it before reading the body of a POST, to
	// refuse a caller who may not write without reading what it sent.
	Collection(ctx context.Context, c *Caller, root, id string) (*Collection, error)

	// Objects lists object versions (content included unless the filter says
	// manifest only) ascending by date_added: at most f.Limit of them, after
	// position f.After.
	Objects(ctx context.Context, c *Caller, root, collection string, f *Filter) (*Page, error)

	// AddObjects stores an envelope's objects. Each object succeeds or fails
	// alone; the returned Status reports every one.
	AddObjects(ctx context.Context, c *Caller, root, collection string, objects []json.RawMessage) (*Status, error)

	// DeleteObject removes the versions of one object selected by f's
	// Versions and SpecVersions; ErrNotFound if none matched. The Server
	// sets f.Versions.All when the client gave no match[version], since
	// §5.7 deletes the object, and leaves f.Limit 0.
	DeleteObject(ctx context.Context, c *Caller, root, collection, id string, f *Filter) error

	// Status returns the status of an earlier AddObjects, or ErrNotFound
	// once it has expired (keep them at least 24 hours, §4.3).
	Status(ctx context.Context, c *Caller, root, id string) (*Status, error)
}

// Errors a Backend returns. The Server answers each with the TAXII status
// code and an error resource; the wrapped message becomes the description.
var (
	ErrUnauthorized  = errors.New("taxii: authentication required")            // 401
	ErrForbidden     = errors.New("taxii: not permitted")                      // 403
	ErrNotFound      = errors.New("taxii: not found")                          // 404
	ErrBadRequest    = errors.New("taxii: bad request")                        // 400
	ErrUnprocessable = errors.New("taxii: unprocessable request")              // 422
	ErrUnavailable   = errors.New("taxii: temporarily unavailable, try again") // 503 with Retry-After
)

// Caller is an authenticated account, or a partner node.
type Caller struct {
	// Name is the account's name; for a partner node, its node id.
	Name string
	Role string // "admin", "analyst" or "reader"; RolePartner for a partner node
	// Party is the agreement party a partner node speaks for, and Node its
	// id in the agreement; both are "" for the node's own accounts.
	Party string
	Node  string
}

// ProvenanceProperty is the name of the envelope's custom property (TAXII
// 2.1 §7.1) that carries each object's provenance record beside it: a list
// aligned with "objects", null for an object without one. The objects'
// bytes are not changed, so a client that does not know the property reads
// a conformant envelope.
const ProvenanceProperty = "x_entente_provenance"

// ProvenanceAdder is what a Backend implements to receive the provenance
// records that a posted envelope carries (ProvenanceProperty). The Server
// calls AddObjectsWithProvenance instead of AddObjects when the envelope
// has the property: provenance holds one record per object, nil for an
// object without one. A Backend without it gets AddObjects, and the
// records are ignored, as §7.1 allows for a custom property.
type ProvenanceAdder interface {
	AddObjectsWithProvenance(ctx context.Context, c *Caller, root, collection string, objects, provenance []json.RawMessage) (*Status, error)
}

// RolePartner is the Role of a partner node's Caller.
const RolePartner = "partner"

// PeerAuthenticator is what a Backend implements to identify callers by
// the client certificate of their TLS connection (mutual TLS between
// partner nodes). The Server asks it before looking at credentials, on
// every request: a peer accepted at the handshake may lose its standing
// while its connection stays open.
type PeerAuthenticator interface {
	// AuthenticatePeer returns the caller whose certificate cs carries;
	// nil and no error when the peer presented none, so that account
	// credentials decide. It returns ErrUnauthorized (or ErrForbidden) for
	// a certificate it refuses, and another error when it could not
	// decide.
	AuthenticatePeer(ctx context.Context, cs *tls.ConnectionState) (*Caller, error)
}

// Filter is a parsed, validated TAXII query (TAXII 2.1 §3.4–3.5).
type Filter struct {
	AddedAfter time.Time // zero: none
	Limit      int       // set by the Server for listings: min(client limit, server page size)
	After      int64     // list only items past this position (from a verified next token); 0 at the start
	// IDs, Types and SpecVersions each hold ORed values, sorted and
	// without duplicates; empty means any. Without SpecVersions, only each
	// object's latest spec_version qualifies (§3.5).
	IDs          []string
	Types        []string
	Versions     VersionMatch
	SpecVersions []string
	Manifest     bool // only id, date_added, version and media type are needed
}

// VersionMatch is match[version]. The zero value means "last". The
// selections are ORed: First and Last together select both ends. All is
// never combined with the others; Exact is sorted, without duplicates.
type VersionMatch struct {
	All, First, Last bool
	Exact            []time.Time
}

// Page is one page of object versions.
type Page struct {
	Items []Item
	More  bool
	Next  int64 // the last item's position, which the next page starts after; valid when More
}

// Item is one object version in a page.
type Item struct {
	ID        string
	Version   string
	DateAdded time.Time
	MediaType string          // "application/stix+json;version=2.1"
	Object    json.RawMessage // nil in manifest pages
	// Provenance is the version's origin signature (and, for a redacted
	// copy, who redacted what), carried beside the object; nil for none.
	Provenance json.RawMessage
}
