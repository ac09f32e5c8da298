package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/ledger"
)

// TestCountEntriesPlan: a day's entries of one kind are found through the
// index on entry headers, never by a scan of the ledger.
func TestCountEntriesPlan(t *testing.T) {
	s := openTest(t, testURL(t))
	ctx := t.Context()
	// 30,000 entries of kinds 1 to 3 over 30 days; only the header and
	// concerns matter to the query.
	if _, err := s.pool.Exec(ctx, `INSERT INTO ledger_entries (idx, salt, entry, hashes, concerns, object)
		SELECT i, sha256(i::text::bytea), '\x01'::bytea || set_byte('\x00'::bytea, 0, 1 + i % 3) || int8send(1780000000000000000 + i::bigint * 86400000000000 / 1000) || '\x00'::bytea,
			'\x'::bytea, 'party-' || (i % 4), 0
		FROM generate_series(0, 29999) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE ledger_entries"); err != nil {
		t.Fatal(err)
	}
	from := time.Unix(0, 1780000000000000000+5*86400000000000)
	plan := explain(t, s, countEntries, ledger.Header(ledger.KindDisclosed, from), ledger.Header(ledger.KindDisclosed, from.Add(24*time.Hour)), 1000)
	if !strings.Contains(plan, "ledger_entries_header") || strings.Contains(plan, "Seq Scan on ledger_entries") {
		t.Errorf("plan of CountEntries:\n%s\nwant the ledger_entries_header index, no scan", plan)
	}
	got, err := s.CountEntries(ctx, ledger.KindDisclosed, from, from.Add(24*time.Hour), 1000)
	if err != nil || !got.Complete || len(got.ByParty) == 0 {
		t.Errorf("CountEntries = %+v, %v", got, err)
	}
}
