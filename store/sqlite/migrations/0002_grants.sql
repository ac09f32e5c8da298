-- Per-collection rights. An account holds a right ('read' or 'write') on a
-- collection only through a row here; what a role may do with its rights is
-- decided by the node (node.Can), so the accounts table no longer lists the
-- roles: it is rebuilt without its CHECK. No existing account is granted
-- anything: deny by default, and admins need no grants.

CREATE TABLE accounts_new (
	name       TEXT    PRIMARY KEY,
	role       TEXT    NOT NULL,
	token_hash BLOB    NOT NULL UNIQUE,
	created    INTEGER NOT NULL
) STRICT;
INSERT INTO accounts_new (name, role, token_hash, created) SELECT name, role, token_hash, created FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_new RENAME TO accounts;

CREATE TABLE grants (
	account    TEXT    NOT NULL REFERENCES accounts (name),
	collection INTEGER NOT NULL REFERENCES collections (pk),
	access     TEXT    NOT NULL CHECK (access IN ('read', 'write')),
	PRIMARY KEY (account, collection, access)
) STRICT, WITHOUT ROWID;
