package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/store"
)

// A refused statement aborts a PostgreSQL transaction: the ErrExists of
// AddDisclosures and MarkFired must leave the Update's other writes to
// commit, as they do in SQLite.
func TestAddDisclosuresExistsKeepsTheUpdate(t *testing.T) {
	s := openTest(t, testURL(t))
	setupCollection(t, s)
	ctx := t.Context()
	d := store.Disclosure{Party: "borealis", Node: "b-1", ID: "indicator--1", Version: "2020", Digest: ledger.Digest{1}, Ledger: 0}
	alarm := store.FiredAlarm{Key: "case-1/ack/breach", Case: "case-1", Due: time.UnixMicro(1).UTC(), Fired: time.UnixMicro(2).UTC()}
	if err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.MarkFired(ctx, []store.FiredAlarm{alarm}); err != nil {
			return err
		}
		return tx.AddDisclosures(ctx, []store.Disclosure{d})
	}); err != nil {
		t.Fatal(err)
	}
	other := d
	other.ID, other.Ledger = "indicator--2", 1
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		p, err := store.NewPut(objectsOf(t, "indicator", 0, 1)[0])
		if err != nil {
			return err
		}
		if _, err := tx.AddObjects(ctx, testCollection, []store.Put{p}); err != nil {
			return err
		}
		if err := tx.AddDisclosures(ctx, []store.Disclosure{other, d}); !errors.Is(err, store.ErrExists) {
			t.Errorf("AddDisclosures of a recorded one: %v; want ErrExists", err)
		}
		if err := tx.MarkFired(ctx, []store.FiredAlarm{alarm}); !errors.Is(err, store.ErrExists) {
			t.Errorf("MarkFired of a fired one: %v; want ErrExists", err)
		}
		return tx.AddDisclosures(ctx, []store.Disclosure{other})
	})
	if err != nil {
		t.Fatalf("Update after ErrExists: %v", err)
	}
	if st, err := s.Stats(ctx); err != nil || st.Objects != 1 {
		t.Errorf("Stats = %+v, %v; want the object the Update added", st, err)
	}
	ds, err := s.Disclosures(ctx, "", []string{d.ID, other.ID})
	if err != nil || len(ds) != 2 {
		t.Errorf("Disclosures = %+v, %v; want both, each once", ds, err)
	}
}

// PostgreSQL's text holds no NUL and only UTF-8: a partner's error
// message with either is stored cleaned, not refused.
func TestLinkHealthCleansFreeText(t *testing.T) {
	s := openTest(t, testURL(t))
	ctx := t.Context()
	h := store.LinkHealth{Node: "b-1", Party: "borealis", State: "backoff", LastError: "taxii: \x00bad\xff", Updated: time.Now()}
	if err := s.PutLinkHealth(ctx, h); err != nil {
		t.Fatal(err)
	}
	hs, err := s.LinkHealth(ctx)
	if err != nil || len(hs) != 1 || hs[0].LastError != "taxii: \uFFFDbad\uFFFD" {
		t.Errorf("LinkHealth = %+v, %v; want the error with U+FFFD for the NUL and the bad byte", hs, err)
	}
	if _, err := s.AddAlert(ctx, store.Alert{Party: "borealis", Kind: "replay", Detail: "\x00", Time: time.Now()}); err != nil {
		t.Errorf("AddAlert with a NUL in its detail: %v", err)
	}
	if err := s.PutLinkHealth(ctx, store.LinkHealth{Node: "b\x00", Party: "borealis"}); err == nil {
		t.Error("PutLinkHealth of a node id with a NUL succeeded")
	}
}
