package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/entente/entente/store"
)

var termsTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"AgreementRecords", testAgreementRecords},
	{"KeyRecords", testKeyRecords},
}

func testAgreementRecords(t *testing.T, s store.Store) {
	ctx := t.Context()
	if rs, err := s.AgreementRecords(ctx, 10); err != nil || len(rs) != 0 {
		t.Fatalf("AgreementRecords of a new store = %v, %v; want none", rs, err)
	}
	latest := func() (store.AgreementRecord, error) {
		var r store.AgreementRecord
		err := s.Update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
			r, err = tx.LatestAgreement(ctx)
			return err
		})
		return r, err
	}
	if _, err := latest(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LatestAgreement of a new store = %v, want ErrNotFound", err)
	}
	add := func(r store.AgreementRecord) error {
		return s.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.AddAgreement(ctx, r) })
	}
	t1 := time.Date(2027, 3, 1, 12, 0, 0, 123456000, time.UTC)
	v1 := store.AgreementRecord{Agreement: "arcadia-borealis", Version: 1, Digest: sha256.Sum256([]byte("v1")),
		Document: []byte("agreement: arcadia-borealis\nversion: 1\n"), Entry: 0, Recorded: t1}
	v2 := store.AgreementRecord{Agreement: "arcadia-borealis", Version: 2, Previous: 1, Digest: sha256.Sum256([]byte("v2")),
		Document: []byte("agreement: arcadia-borealis\nversion: 2\x00binary is kept\n"), Entry: 7, Recorded: t1.Add(time.Hour)}
	if err := add(v1); err != nil {
		t.Fatal(err)
	}
	// A failed transaction records nothing.
	boom := errors.New("boom")
	if err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.AddAgreement(ctx, v2); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Update = %v", err)
	}
	if r, err := latest(); err != nil || r.Version != 1 {
		t.Fatalf("LatestAgreement after a rolled back record = version %d, %v; want version 1", r.Version, err)
	}
	if err := add(v2); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []store.AgreementRecord{
		{Version: 1, Digest: v1.Digest, Document: v1.Document},                         // no id
		{Agreement: "a", Version: 0, Document: v1.Document},                            // no version
		{Agreement: "a", Version: 2, Previous: -1, Document: v1.Document},              // bad previous
		{Agreement: "a", Version: 1},                                                   // no document
		{Agreement: "a", Version: 1, Document: v1.Document, Entry: -1},                 // no entry
		{Agreement: "a\x00b", Version: 1, Document: v1.Document, Recorded: t1},         // NUL in the id
		{Agreement: string([]byte{0xff}), Version: 1, Document: v1.Document, Entry: 1}, // not UTF-8
	} {
		if err := add(bad); err == nil {
			t.Errorf("AddAgreement(%+v) succeeded", bad)
		}
	}
	rs, err := s.AgreementRecords(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("AgreementRecords = %d records, want 2", len(rs))
	}
	for i, want := range []store.AgreementRecord{v2, v1} {
		got := rs[i]
		if got.Seq <= 0 {
			t.Errorf("record %d: Seq = %d, want a positive order", i, got.Seq)
		}
		got.Seq = 0
		if got.Agreement != want.Agreement || got.Version != want.Version || got.Previous != want.Previous ||
			got.Digest != want.Digest || !bytes.Equal(got.Document, want.Document) || got.Entry != want.Entry || !got.Recorded.Equal(want.Recorded) {
			t.Errorf("record %d = %+v, want %+v", i, got, want)
		}
	}
	if rs[0].Seq <= rs[1].Seq {
		t.Errorf("Seq %d of the later record is not above %d", rs[0].Seq, rs[1].Seq)
	}
	if rs, err := s.AgreementRecords(ctx, 1); err != nil || len(rs) != 1 || rs[0].Version != 2 {
		t.Errorf("AgreementRecords(1) = %+v, %v; want version 2 alone", rs, err)
	}
	if r, err := latest(); err != nil || r.Version != 2 || r.Previous != 1 || r.Digest != v2.Digest {
		t.Errorf("LatestAgreement = %+v, %v; want version 2", r, err)
	}
}

func testKeyRecords(t *testing.T, s store.Store) {
	ctx := t.Context()
	if rs, err := s.KeyRecords(ctx, 10); err != nil || len(rs) != 0 {
		t.Fatalf("KeyRecords of a new store = %v, %v; want none", rs, err)
	}
	latest := func() (store.KeyRecord, error) {
		var r store.KeyRecord
		err := s.Update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
			r, err = tx.LatestKey(ctx)
			return err
		})
		return r, err
	}
	if _, err := latest(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LatestKey of a new store = %v, want ErrNotFound", err)
	}
	add := func(r store.KeyRecord) error {
		return s.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.AddKey(ctx, r) })
	}
	t1 := time.Date(2027, 3, 1, 12, 0, 0, 654321000, time.UTC)
	k1 := store.KeyRecord{Key: "node.a.example+0a1b2c3d+AQ1", Entry: 1, Recorded: t1}
	k2 := store.KeyRecord{Key: "node.a.example+4e5f6a7b+AQ2", Entry: 9, Recorded: t1.Add(time.Minute)}
	if err := add(k1); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.AddKey(ctx, k2); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Update = %v", err)
	}
	if r, err := latest(); err != nil || r.Key != k1.Key {
		t.Fatalf("LatestKey after a rolled back record = %+v, %v; want %s", r, err, k1.Key)
	}
	if err := add(k2); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []store.KeyRecord{{Entry: 1}, {Key: "k", Entry: -1}, {Key: "k\x00", Entry: 1}} {
		if err := add(bad); err == nil {
			t.Errorf("AddKey(%+v) succeeded", bad)
		}
	}
	rs, err := s.KeyRecords(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Key != k2.Key || rs[1].Key != k1.Key || rs[0].Entry != 9 || rs[1].Entry != 1 ||
		!rs[0].Recorded.Equal(k2.Recorded) || !rs[1].Recorded.Equal(k1.Recorded) || rs[0].Seq <= rs[1].Seq {
		t.Errorf("KeyRecords = %+v, want %s then %s", rs, k2.Key, k1.Key)
	}
	if r, err := latest(); err != nil || r.Key != k2.Key {
		t.Errorf("LatestKey = %+v, %v; want %s", r, err, k2.Key)
	}
}
