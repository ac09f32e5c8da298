-- The initial schema, the same model as the SQLite store's (after its
-- migrations 1–3). Times are bigint microseconds since the Unix epoch (UTC),
-- the precision TAXII 2.1 timestamps carry.

CREATE TABLE api_roots (
	pk                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- creation order
	path               text   NOT NULL UNIQUE,
	title              text   NOT NULL,
	description        text   NOT NULL,
	max_content_length bigint NOT NULL
);

CREATE TABLE collections (
	pk           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- creation order
	id           text   NOT NULL UNIQUE,
	api_root     bigint NOT NULL REFERENCES api_roots (pk),
	title        text   NOT NULL,
	description  text   NOT NULL,
	alias        text   NOT NULL, -- '' when none
	media_types  text   NOT NULL, -- a JSON array of strings
	-- The date_added given to the collection's latest version. It never goes
	-- back, not even when that version is deleted, so date_added strictly
	-- increases within the collection.
	last_added   bigint NOT NULL DEFAULT 0,
	-- The number of stored object versions, kept by the transactions that
	-- add and delete them.
	object_count bigint NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX collections_alias ON collections (api_root, alias) WHERE alias <> '';

-- objects holds one row per stored object version. An identity column takes
-- its values from a sequence, which never gives a value out twice, even after
-- the highest row is deleted: cursors rely on that.
CREATE TABLE objects (
	seq          bigint   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	collection   bigint   NOT NULL REFERENCES collections (pk),
	id           text     NOT NULL,
	type         text     NOT NULL,
	-- version as the object states it, or the date_added of an unversioned
	-- object; version_key is store.VersionKey of the same instant.
	version      text     NOT NULL,
	version_key  text     COLLATE "C" NOT NULL,
	versioned    boolean  NOT NULL,
	spec_version text     NOT NULL,
	date_added   bigint   NOT NULL,
	content_hash bytea    NOT NULL, -- SHA-256 of the RFC 8785 canonical JSON
	-- store.MarkVersions, kept up to date by every write, so that the default
	-- TAXII listing (latest version of the latest spec_version) needs no
	-- subquery per row.
	is_first     boolean  NOT NULL,
	is_last      boolean  NOT NULL,
	top_spec     boolean  NOT NULL,
	raw          bytea    NOT NULL
);

CREATE UNIQUE INDEX objects_version ON objects (collection, id, version_key);
CREATE INDEX objects_collection ON objects (collection, seq);
CREATE INDEX objects_type ON objects (collection, type, seq);
CREATE INDEX objects_added ON objects (collection, date_added);

CREATE TABLE statuses (
	api_root          bigint NOT NULL REFERENCES api_roots (pk),
	id                text   NOT NULL,
	status            text   NOT NULL,
	request_timestamp bigint NOT NULL,
	total_count       bigint NOT NULL,
	success_count     bigint NOT NULL,
	failure_count     bigint NOT NULL,
	pending_count     bigint NOT NULL,
	details           bytea  NOT NULL, -- the store's compact encoding of successes, failures, pendings
	owner             text   NOT NULL,
	PRIMARY KEY (api_root, id)
);

CREATE INDEX statuses_request_timestamp ON statuses (request_timestamp);

-- What a role may do with its rights is decided by the node, so role is not
-- checked here.
CREATE TABLE accounts (
	name       text   PRIMARY KEY,
	role       text   NOT NULL,
	token_hash bytea  NOT NULL UNIQUE,
	created    bigint NOT NULL
);

CREATE TABLE grants (
	account    text   NOT NULL REFERENCES accounts (name),
	collection bigint NOT NULL REFERENCES collections (pk),
	access     text   NOT NULL CHECK (access IN ('read', 'write')),
	PRIMARY KEY (account, collection, access)
);
