-- The console's overview counts the entries of one kind recorded per day
-- (what each partner sent and was disclosed). An entry's first ten bytes
-- are its header, the encoding version, the kind and the time in big-endian
-- nanoseconds (ledger.Header), so they sort by kind, then time: one index
-- range holds a kind's entries of a day, and with the parties beside them
-- they are counted from the index alone.
CREATE INDEX ledger_entries_header ON ledger_entries (substr(entry, 1, 10), concerns);
