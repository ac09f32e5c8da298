package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/entente/entente/store"
)

const (
	selectAgreements = `SELECT seq, agreement, version, previous, digest, document, entry, recorded FROM agreements`
	selectKeys       = `SELECT seq, key, entry, recorded FROM node_keys`
)

// AgreementRecords implements store.Terms.
func (s *Store) AgreementRecords(ctx context.Context, limit int) ([]store.AgreementRecord, error) {
	rows, _ := s.pool.Query(ctx, selectAgreements+` ORDER BY seq DESC LIMIT $1`, max(limit, 0))
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.AgreementRecord, error) { return scanAgreement(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: reading the recorded agreements: %w", err)
	}
	if len(out) == 0 {
		return nil, nil // as SQLite answers
	}
	return out, nil
}

// KeyRecords implements store.Terms.
func (s *Store) KeyRecords(ctx context.Context, limit int) ([]store.KeyRecord, error) {
	rows, _ := s.pool.Query(ctx, selectKeys+` ORDER BY seq DESC LIMIT $1`, max(limit, 0))
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.KeyRecord, error) { return scanKey(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: reading the recorded node keys: %w", err)
	}
	if len(out) == 0 {
		return nil, nil // as SQLite answers
	}
	return out, nil
}

// LatestAgreement implements store.TermsTx.
func (t *txn) LatestAgreement(ctx context.Context) (store.AgreementRecord, error) {
	r, err := scanAgreement(t.tx.QueryRow(ctx, selectAgreements+` ORDER BY seq DESC LIMIT 1`))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, store.ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("postgres: reading the latest recorded agreement: %w", err)
	}
	return r, nil
}

// AddAgreement implements store.TermsTx.
func (t *txn) AddAgreement(ctx context.Context, r store.AgreementRecord) error {
	if err := store.CheckAgreementRecord(r); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO agreements (agreement, version, previous, digest, document, entry, recorded)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.Agreement, r.Version, r.Previous, r.Digest[:], r.Document, r.Entry, micros(r.Recorded))
	if err != nil {
		return fmt.Errorf("postgres: recording agreement %q version %d: %w", r.Agreement, r.Version, err)
	}
	return nil
}

// LatestKey implements store.TermsTx.
func (t *txn) LatestKey(ctx context.Context) (store.KeyRecord, error) {
	r, err := scanKey(t.tx.QueryRow(ctx, selectKeys+` ORDER BY seq DESC LIMIT 1`))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, store.ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("postgres: reading the latest recorded node key: %w", err)
	}
	return r, nil
}

// AddKey implements store.TermsTx.
func (t *txn) AddKey(ctx context.Context, r store.KeyRecord) error {
	if err := store.CheckKeyRecord(r); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO node_keys (key, entry, recorded) VALUES ($1, $2, $3)`, r.Key, r.Entry, micros(r.Recorded))
	if err != nil {
		return fmt.Errorf("postgres: recording node key %q: %w", r.Key, err)
	}
	return nil
}

func scanAgreement(row pgx.Row) (store.AgreementRecord, error) {
	var (
		r        store.AgreementRecord
		digest   []byte
		recorded int64
	)
	if err := row.Scan(&r.Seq, &r.Agreement, &r.Version, &r.Previous, &digest, &r.Document, &r.Entry, &recorded); err != nil {
		return store.AgreementRecord{}, err
	}
	if len(digest) != len(r.Digest) {
		return store.AgreementRecord{}, fmt.Errorf("agreement record %d: digest of %d bytes", r.Seq, len(digest))
	}
	copy(r.Digest[:], digest)
	r.Recorded = fromMicros(recorded)
	return r, nil
}

func scanKey(row pgx.Row) (store.KeyRecord, error) {
	var (
		r        store.KeyRecord
		recorded int64
	)
	err := row.Scan(&r.Seq, &r.Key, &r.Entry, &recorded)
	r.Recorded = fromMicros(recorded)
	return r, err
}
