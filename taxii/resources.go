package taxii

import "encoding/json"

// The TAXII 2.1 resources (TAXII 2.1 §4–§5), with the spec's JSON names.
// Optional lists are omitted when empty: TAXII forbids empty lists.

// MediaType is the TAXII 2.1 media type every response carries.
const MediaType = "application/taxii+json;version=2.1"

// STIXMediaType is the media type of the STIX 2.1 objects a node stores.
const STIXMediaType = "application/stix+json;version=2.1"

// Discovery is the discovery resource (§4.1.1).
type Discovery struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Contact     string   `json:"contact,omitempty"`
	Default     string   `json:"default,omitempty"`
	APIRoots    []string `json:"api_roots,omitempty"`
}

// APIRoot is the API root resource (§4.2.1).
type APIRoot struct {
	Title            string   `json:"title"`
	Description      string   `json:"description,omitempty"`
	Versions         []string `json:"versions"`
	MaxContentLength int64    `json:"max_content_length"`
}

// Collection is the collection resource (§5.2.1).
type Collection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types,omitempty"`
}

// Status is the status resource (§4.3.1).
type Status struct {
	ID               string          `json:"id"`
	Status           string          `json:"status"`
	RequestTimestamp string          `json:"request_timestamp,omitempty"`
	TotalCount       int             `json:"total_count"`
	SuccessCount     int             `json:"success_count"`
	Successes        []StatusDetails `json:"successes,omitempty"`
	FailureCount     int             `json:"failure_count"`
	Failures         []StatusDetails `json:"failures,omitempty"`
	PendingCount     int             `json:"pending_count"`
	Pendings         []StatusDetails `json:"pendings,omitempty"`
}

// StatusDetails reports on one object of an add request (§4.3.1).
type StatusDetails struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// Error is the error resource (§3.6.1).
type Error struct {
	Title           string            `json:"title"`
	Description     string            `json:"description,omitempty"`
	ErrorID         string            `json:"error_id,omitempty"`
	ErrorCode       string            `json:"error_code,omitempty"`
	HTTPStatus      string            `json:"http_status,omitempty"`
	ExternalDetails string            `json:"external_details,omitempty"`
	Details         map[string]string `json:"details,omitempty"`
}

// Collections is the collections resource (§5.1.1).
type Collections struct {
	Collections []Collection `json:"collections,omitempty"`
}

// Manifest is the manifest resource (§5.3.1). §5.3.1 lists no next
// property, yet §5.3 takes a next parameter; like the OASIS reference
// server, this package sends next in manifests as in envelopes. Clients
// of servers that do not page on with added_after set to the previous
// page's X-TAXII-Date-Added-Last (§3.4).
type Manifest struct {
	More    bool             `json:"more,omitempty"`
	Next    string           `json:"next,omitempty"`
	Objects []ManifestRecord `json:"objects,omitempty"`
}

// ManifestRecord describes one object version in a Manifest (§5.3.2).
// DateAdded is a TAXII timestamp.
type ManifestRecord struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type,omitempty"`
}

// Envelope is the envelope resource (§3.7): one page of objects, as GET
// returns it and as POST takes it. Objects keep their JSON exactly as sent.
type Envelope struct {
	More    bool              `json:"more,omitempty"`
	Next    string            `json:"next,omitempty"`
	Objects []json.RawMessage `json:"objects,omitempty"`
	// Provenance is the custom property x_entente_provenance: one
	// provenance record per element of Objects, in the same order, nil
	// for an object without one. It is absent (nil) when no object has
	// one. See ProvenanceProperty.
	Provenance []json.RawMessage `json:"x_entente_provenance,omitempty"`
}

// Versions is the versions resource (§5.8.1). It carries next as Manifest
// does.
type Versions struct {
	More     bool     `json:"more,omitempty"`
	Next     string   `json:"next,omitempty"`
	Versions []string `json:"versions,omitempty"`
}
