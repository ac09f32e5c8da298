package store

import (
	"fmt"
	"strings"
)

// JoinConcerns gives the party ids a ledger entry concerns as the
// backends store them: one per line. An id must be non-empty and hold no
// line break or NUL character.
func JoinConcerns(parties []string) (string, error) {
	for _, p := range parties {
		if p == "" || strings.ContainsAny(p, "\n\r\x00") {
			return "", fmt.Errorf("appending to the ledger: party id %q: want a non-empty id without line breaks", p)
		}
	}
	return strings.Join(parties, "\n"), nil
}

// SplitConcerns undoes JoinConcerns.
func SplitConcerns(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
