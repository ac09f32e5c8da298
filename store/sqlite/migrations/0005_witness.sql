-- The node as a witness of its partners' logs (C2SP tlog-witness): the
-- latest checkpoint it cosigned for each log, which it must never lose,
-- since a witness that forgets can be shown a rolled-back log; and the logs
-- it suspended after they showed an inconsistent checkpoint, with the
-- evidence, until an operator resumes them.

CREATE TABLE witnessed_checkpoints (
	origin TEXT PRIMARY KEY,
	note   BLOB NOT NULL
) STRICT;

CREATE TABLE suspended_logs (
	origin    TEXT    PRIMARY KEY,
	since     INTEGER NOT NULL,
	reason    TEXT    NOT NULL,
	evidence  BLOB    NOT NULL,
	witnessed BLOB    NOT NULL
) STRICT;
