package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/entente/entente/store"
)

const (
	agreementColumns = `seq, agreement, version, previous, digest, document, entry, recorded`
	keyColumns       = `seq, key, entry, recorded`
)

// AgreementRecords implements store.Terms.
func (s *Store) AgreementRecords(ctx context.Context, limit int) ([]store.AgreementRecord, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+agreementColumns+` FROM agreements ORDER BY seq DESC LIMIT ?`, max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading the recorded agreements: %w", err)
	}
	defer rows.Close()
	var out []store.AgreementRecord
	for rows.Next() {
		r, err := scanAgreement(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: reading the recorded agreements: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading the recorded agreements: %w", err)
	}
	return out, nil
}

// KeyRecords implements store.Terms.
func (s *Store) KeyRecords(ctx context.Context, limit int) ([]store.KeyRecord, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+keyColumns+` FROM node_keys ORDER BY seq DESC LIMIT ?`, max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading the recorded node keys: %w", err)
	}
	defer rows.Close()
	var out []store.KeyRecord
	for rows.Next() {
		r, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: reading the recorded node keys: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading the recorded node keys: %w", err)
	}
	return out, nil
}

// LatestAgreement implements store.TermsTx.
func (t *txn) LatestAgreement(ctx context.Context) (store.AgreementRecord, error) {
	r, err := scanAgreement(t.tx.QueryRowContext(ctx, `SELECT `+agreementColumns+` FROM agreements ORDER BY seq DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return r, store.ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("sqlite: reading the latest recorded agreement: %w", err)
	}
	return r, nil
}

// AddAgreement implements store.TermsTx.
func (t *txn) AddAgreement(ctx context.Context, r store.AgreementRecord) error {
	if err := store.CheckAgreementRecord(r); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO agreements (agreement, version, previous, digest, document, entry, recorded)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.Agreement, r.Version, r.Previous, r.Digest[:], r.Document, r.Entry, micros(r.Recorded))
	if err != nil {
		return fmt.Errorf("sqlite: recording agreement %q version %d: %w", r.Agreement, r.Version, err)
	}
	return nil
}

// LatestKey implements store.TermsTx.
func (t *txn) LatestKey(ctx context.Context) (store.KeyRecord, error) {
	r, err := scanKey(t.tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM node_keys ORDER BY seq DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return r, store.ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("sqlite: reading the latest recorded node key: %w", err)
	}
	return r, nil
}

// AddKey implements store.TermsTx.
func (t *txn) AddKey(ctx context.Context, r store.KeyRecord) error {
	if err := store.CheckKeyRecord(r); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO node_keys (key, entry, recorded) VALUES (?, ?, ?)`, r.Key, r.Entry, micros(r.Recorded))
	if err != nil {
		return fmt.Errorf("sqlite: recording node key %q: %w", r.Key, err)
	}
	return nil
}

func scanAgreement(row interface{ Scan(...any) error }) (store.AgreementRecord, error) {
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

func scanKey(row interface{ Scan(...any) error }) (store.KeyRecord, error) {
	var (
		r        store.KeyRecord
		recorded int64
	)
	if err := row.Scan(&r.Seq, &r.Key, &r.Entry, &recorded); err != nil {
		return store.KeyRecord{}, err
	}
	r.Recorded = fromMicros(recorded)
	return r, nil
}
