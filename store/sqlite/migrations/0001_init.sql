-- The initial schema. Times are integer microseconds since the Unix epoch
-- (UTC), which is the precision TAXII 2.1 timestamps carry.

CREATE TABLE api_roots (
	pk                 INTEGER PRIMARY KEY, -- creation order
	path               TEXT    NOT NULL UNIQUE,
	title              TEXT    NOT NULL,
	description        TEXT    NOT NULL,
	max_content_length INTEGER NOT NULL
) STRICT;

CREATE TABLE collections (
	pk          INTEGER PRIMARY KEY, -- creation order
	id          TEXT    NOT NULL UNIQUE,
	api_root    INTEGER NOT NULL REFERENCES api_roots (pk),
	title       TEXT    NOT NULL,
	description TEXT    NOT NULL,
	alias       TEXT    NOT NULL, -- '' when none
	media_types TEXT    NOT NULL, -- a JSON array of strings
	-- The date_added given to the collection's latest version. It never goes
	-- back, not even when that version is deleted, so date_added strictly
	-- increases within the collection.
	last_added  INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE UNIQUE INDEX collections_alias ON collections (api_root, alias) WHERE alias <> '';

-- objects holds one row per stored object version. seq is AUTOINCREMENT so that
-- a sequence number is never reused, even after the highest one is deleted:
-- cursors rely on that.
CREATE TABLE objects (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	collection   INTEGER NOT NULL REFERENCES collections (pk),
	id           TEXT    NOT NULL,
	type         TEXT    NOT NULL,
	-- version as the object states it, or the date_added of an unversioned
	-- object; version_key is the same instant as fixed-width text with nine
	-- fractional digits, so that text order is time order and equal instants
	-- written differently compare equal.
	version      TEXT    NOT NULL,
	version_key  TEXT    NOT NULL,
	versioned    INTEGER NOT NULL, -- 0 when the object had no created or modified
	spec_version TEXT    NOT NULL,
	date_added   INTEGER NOT NULL,
	content_hash BLOB    NOT NULL, -- SHA-256 of the RFC 8785 canonical JSON
	-- Flags kept up to date by every write, so that the default TAXII listing
	-- (latest version of the latest spec_version) needs no subquery per row.
	-- is_first and is_last are relative to the versions of the same
	-- spec_version; top_spec marks the object's latest spec_version.
	is_first     INTEGER NOT NULL,
	is_last      INTEGER NOT NULL,
	top_spec     INTEGER NOT NULL,
	raw          BLOB    NOT NULL
) STRICT;

CREATE UNIQUE INDEX objects_version ON objects (collection, id, version_key);
CREATE INDEX objects_collection ON objects (collection, seq);
CREATE INDEX objects_type ON objects (collection, type, seq);
CREATE INDEX objects_added ON objects (collection, date_added);

CREATE TABLE statuses (
	api_root          INTEGER NOT NULL REFERENCES api_roots (pk),
	id                TEXT    NOT NULL,
	status            TEXT    NOT NULL,
	request_timestamp INTEGER NOT NULL,
	total_count       INTEGER NOT NULL,
	success_count     INTEGER NOT NULL,
	failure_count     INTEGER NOT NULL,
	pending_count     INTEGER NOT NULL,
	details           BLOB    NOT NULL, -- JSON: successes, failures, pendings
	owner             TEXT    NOT NULL,
	PRIMARY KEY (api_root, id)
) STRICT;

CREATE INDEX statuses_request_timestamp ON statuses (request_timestamp);

CREATE TABLE accounts (
	name       TEXT    PRIMARY KEY,
	role       TEXT    NOT NULL CHECK (role IN ('admin', 'analyst', 'reader')),
	token_hash BLOB    NOT NULL UNIQUE,
	created    INTEGER NOT NULL
) STRICT;
