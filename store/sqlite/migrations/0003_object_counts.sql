-- Each collection counts its stored object versions, so that metrics read
-- one row per collection instead of counting every object. AddObjects and
-- DeleteObject keep the count in the transaction that changes the objects
-- (one statement per request: a trigger per row would double the cost of
-- ingest), so it is right whichever process writes.

ALTER TABLE collections ADD COLUMN object_count INTEGER NOT NULL DEFAULT 0;

UPDATE collections SET object_count = (SELECT count(*) FROM objects WHERE objects.collection = collections.pk);
