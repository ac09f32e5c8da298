-- The console's overview counts the entries of one kind recorded per day,
-- as the SQLite store does (its migration 10): an entry's first ten bytes
-- are its header (ledger.Header), which sorts by kind, then time, so one
-- index range holds a kind's entries of a day.
CREATE INDEX ledger_entries_header ON ledger_entries (substring(entry FROM 1 FOR 10), concerns);
