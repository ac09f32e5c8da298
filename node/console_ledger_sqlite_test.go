package node_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

var consoleReader = &taxii.Caller{Name: "reader", Role: string(store.RoleReader)}

// grow appends n entries of kind k (concerning party, when not "") at
// time at, and has the node sign a checkpoint.
func grow(t testing.TB, st store.Store, n *node.Node, k ledger.Kind, party string, at time.Time, count int) {
	t.Helper()
	var recs []store.LedgerRecord
	for i := range count {
		ref := ledger.ObjectRef{ID: fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", at.UnixNano()%1e9+int64(i)), Version: "2026-01-01T00:00:00.000Z"}
		var ev ledger.Event = ledger.Originated{Object: ref}
		var concerns []string
		switch k {
		case ledger.KindReceived:
			ev, concerns = ledger.Received{From: party, Object: ref}, []string{party}
		case ledger.KindDisclosed:
			ev, concerns = ledger.Disclosed{To: party, Node: party + "-1", Object: ref, Agreement: "a version 1", Rule: "r"}, []string{party}
		}
		enc, err := ledger.Entry{Time: at, Event: ev}.Encode()
		if err != nil {
			t.Fatal(err)
		}
		r := store.LedgerRecord{Entry: enc, Concerns: concerns}
		r.Salt[0], r.Salt[1], r.Salt[2] = byte(i), byte(i>>8), byte(i>>16)
		recs = append(recs, r)
	}
	err := st.Update(context.Background(), func(ctx context.Context, tx store.Tx) error {
		_, err := tx.AppendLedger(ctx, recs)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyLedgerStepGoesOn(t *testing.T) {
	st, n, _ := witnessNode(t)
	ctx := t.Context()
	// Entry 0 records the node's key; 9 more make 10.
	grow(t, st, n, ledger.KindOriginated, "", time.Now(), 9)
	var mark node.LedgerMark
	var spans []string
	for range 10 {
		step, err := n.VerifyLedgerStep(ctx, consoleReader, mark, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(step.Problems) > 0 {
			t.Fatalf("problems on a good ledger: %v", step.Problems)
		}
		spans = append(spans, fmt.Sprintf("[%d,%d)", step.From, step.To))
		mark = step.Mark
		if step.Done {
			break
		}
	}
	if got := strings.Join(spans, " "); got != "[0,3) [3,6) [6,9) [9,10)" || mark != (node.LedgerMark{Entries: 10, Checkpoint: 10}) {
		t.Fatalf("steps %s, mark %+v; want [0,3) [3,6) [6,9) [9,10) and mark 10/10", got, mark)
	}
	// Growth: only what is new is read.
	grow(t, st, n, ledger.KindOriginated, "", time.Now(), 2)
	step, err := n.VerifyLedgerStep(ctx, consoleReader, mark, 100)
	if err != nil || !step.Done || step.From != 10 || step.To != 12 || len(step.Problems) > 0 {
		t.Fatalf("after growth: %+v, %v", step, err)
	}
	// A partner is not one of the node's accounts.
	if _, err := n.VerifyLedgerStep(ctx, &taxii.Caller{Role: taxii.RolePartner, Party: "p"}, mark, 1); err != taxii.ErrForbidden {
		t.Fatalf("a partner's verification: %v; want ErrForbidden", err)
	}
}

// openDB opens the store's database behind the node's back.
func openDB(t *testing.T) *sql.DB {
	t.Helper()
	var path string
	paths, _ := filepath.Glob(filepath.Join(filepath.Dir(t.TempDir()), "*", "entente.db"))
	if len(paths) != 1 {
		t.Fatalf("finding the database: %v", paths)
	}
	path = paths[0]
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestVerifyLedgerStepFinds(t *testing.T) {
	for _, tc := range []struct {
		name string
		sql  string
		want string
	}{
		{"stored hash changed", `UPDATE ledger_entries SET hashes = zeroblob(length(hashes)) WHERE idx = 4`, "entry 4: does not match the log's stored hashes"},
		{"entry deleted", `DELETE FROM ledger_entries WHERE idx = 5`, "entry 5: is missing"},
		{"checkpoint forged", `UPDATE ledger_checkpoints SET note = CAST(replace(CAST(note AS TEXT), char(10) || '8' || char(10), char(10) || '9' || char(10)) AS BLOB) WHERE size = 8`,
			"checkpoint 8: its signature does not verify"},
		{"entry undecodable", `UPDATE ledger_entries SET entry = X'09' WHERE idx = 2`, "entry 2: does not decode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, n, _ := witnessNode(t)
			grow(t, st, n, ledger.KindOriginated, "", time.Now(), 7) // and the key's entry: 8
			if _, err := openDB(t).Exec(tc.sql); err != nil {
				t.Fatal(err)
			}
			step, err := n.VerifyLedgerStep(t.Context(), consoleReader, node.LedgerMark{}, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(step.Problems) == 0 || !strings.Contains(step.Problems[0].String(), tc.want) {
				t.Fatalf("problems %v; want %q first", step.Problems, tc.want)
			}
			if step.Mark.Checkpoint != 0 {
				t.Errorf("a failed step marks checkpoint %d verified", step.Mark.Checkpoint)
			}
		})
	}
}

func TestPartnerActivityCountsByDay(t *testing.T) {
	st, n, _ := witnessNode(t)
	ctx := t.Context()
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	grow(t, st, n, ledger.KindReceived, "borealis", now.Add(-time.Hour), 3)
	grow(t, st, n, ledger.KindDisclosed, "borealis", now.Add(-24*time.Hour), 2)
	grow(t, st, n, ledger.KindReceived, "caledonia", now.Add(-48*time.Hour), 4)
	grow(t, st, n, ledger.KindReceived, "caledonia", now.Add(-72*time.Hour), 1) // outside 3 days
	cache := &node.ActivityCache{}
	count := func(cache *node.ActivityCache) string {
		t.Helper()
		a, err := n.PartnerActivity(ctx, consoleReader, now, 3, cache)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Days[0].Equal(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)) || len(a.Days) != 3 {
			t.Fatalf("days %v; want 3 from 2026-11-27", a.Days)
		}
		return fmt.Sprint(a.Parties, a.Received, a.Disclosed, a.Counted)
	}
	want := "[borealis caledonia] map[borealis:[0 0 3] caledonia:[4 0 0]] map[borealis:[0 2 0] caledonia:[0 0 0]] [true true true]"
	if got := count(cache); got != want {
		t.Fatalf("PartnerActivity = %s\nwant %s", got, want)
	}
	// Days that ended are counted once: what the cache holds is shown
	// without reading the ledger again; today is counted on each call.
	grow(t, st, n, ledger.KindDisclosed, "borealis", now.Add(-24*time.Hour), 1)
	grow(t, st, n, ledger.KindReceived, "borealis", now.Add(-time.Minute), 1)
	want = "[borealis caledonia] map[borealis:[0 0 4] caledonia:[4 0 0]] map[borealis:[0 2 0] caledonia:[0 0 0]] [true true true]"
	if got := count(cache); got != want {
		t.Fatalf("PartnerActivity with the cache = %s\nwant %s", got, want)
	}
	want = "[borealis caledonia] map[borealis:[0 0 4] caledonia:[4 0 0]] map[borealis:[0 3 0] caledonia:[0 0 0]] [true true true]"
	if got := count(nil); got != want {
		t.Fatalf("PartnerActivity without a cache = %s\nwant %s", got, want)
	}
}

// TestPartnerActivityBudget: past node.ActivityBudget entries the count
// stops, says which days it did not finish, and a call with the cache
// goes on with the older days.
func TestPartnerActivityBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("appends more than node.ActivityBudget entries")
	}
	st, n, _ := witnessNode(t)
	ctx := t.Context()
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	grow(t, st, n, ledger.KindReceived, "borealis", now.Add(-48*time.Hour), 5)
	grow(t, st, n, ledger.KindReceived, "borealis", now.Add(-24*time.Hour), node.ActivityBudget-10)
	grow(t, st, n, ledger.KindDisclosed, "borealis", now.Add(-24*time.Hour), 20)
	cache := &node.ActivityCache{}
	a, err := n.PartnerActivity(ctx, consoleReader, now, 3, cache)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(a.Received["borealis"], a.Counted)
	if got != fmt.Sprint([]int64{0, node.ActivityBudget - 10, 0}, []bool{false, false, true}) || a.Disclosed["borealis"][1] < 10 {
		t.Fatalf("over the budget: received %v, disclosed %v, counted %v", a.Received["borealis"], a.Disclosed["borealis"], a.Counted)
	}
	a, err = n.PartnerActivity(ctx, consoleReader, now, 3, cache)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(a.Received["borealis"], a.Counted); got != fmt.Sprint([]int64{5, node.ActivityBudget - 10, 0}, []bool{true, false, true}) {
		t.Fatalf("the second call: received %v, counted %v", a.Received["borealis"], a.Counted)
	}
}
