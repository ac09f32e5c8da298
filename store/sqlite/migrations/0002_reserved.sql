-- Number 2 is reserved for a schema change made in parallel with 0003; this
-- file changes nothing and gives way to that change when both are merged.
SELECT 1;
