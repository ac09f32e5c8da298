package stix

import (
	"bytes"
	"fmt"
	"math"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// Canonical returns the RFC 8785 (JSON Canonicalization Scheme) form of
// raw, the bytes that content hashes and signatures are computed over.
//
// raw must be I-JSON (RFC 7493), as RFC 8785 §3.1 requires: valid UTF-8,
// no duplicate names in an object. Numbers must be exactly representable as
// IEEE 754 doubles; since JCS writes every number as a double, an integer
// that a double cannot hold exactly (some beyond ±2^53) would lose digits,
// and two different documents could share a canonical form, so it is
// rejected (write such values as strings).
func Canonical(raw []byte) ([]byte, error) {
	v := jsontext.Value(bytes.Clone(raw))
	if err := v.Canonicalize(); err != nil {
		return nil, fmt.Errorf("stix: canonical JSON: %w", err)
	}
	if err := checkNumbers(raw); err != nil {
		return nil, err
	}
	return v, nil
}

// checkNumbers checks that each number in raw, which must be valid JSON,
// survives conversion to a double. It scans the bytes rather than decoding
// tokens, which would cost as much again as the canonicalization.
func checkNumbers(raw []byte) error {
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '"':
			// Skip the string; the JSON is valid, so it is terminated.
			for i++; raw[i] != '"'; i++ {
				if raw[i] == '\\' {
					i++
				}
			}
		case c == '-' || '0' <= c && c <= '9':
			start := i
			for i+1 < len(raw) && isNumberByte(raw[i+1]) {
				i++
			}
			if err := checkNumber(string(raw[start:i+1]), start); err != nil {
				return err
			}
		}
	}
	return nil
}

func isNumberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

func checkNumber(lit string, offset int) error {
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) {
		return fmt.Errorf("stix: canonical JSON: the number %s at byte %d is not representable as a double (RFC 8785 §3.2.2.3)", lit, offset)
	}
	if isIntegerLiteral(lit) && !exactInteger(lit, f) {
		return fmt.Errorf("stix: canonical JSON: the integer %s at byte %d is not exactly a double and would lose precision (as any beyond ±2^53 may); write it as a string", lit, offset)
	}
	return nil
}

func isIntegerLiteral(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.', 'e', 'E':
			return false
		}
	}
	return true
}

// exactInteger reports whether the double nearest to an integer literal is
// that integer (JSON integers have no leading zeros, so equal values print
// alike).
func exactInteger(lit string, f float64) bool {
	return strconv.FormatFloat(f, 'f', -1, 64) == lit
}
