package sqlite

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/entente/entente/store"
)

// TestStatusStorageIsCompact checks what a status of a large envelope costs
// in the database: the successes of 10,000 objects, and 10,000 failures of
// broken objects with one message, as a hostile client would send.
func TestStatusStorageIsCompact(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Path: "api1", Title: "r", MaxContentLength: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	const n = 10_000
	ok := store.Status{ID: "ok", APIRoot: "api1", Status: "complete", RequestTimestamp: time.Now(), TotalCount: n, SuccessCount: n}
	bad := store.Status{ID: "bad", APIRoot: "api1", Status: "complete", RequestTimestamp: time.Now(), TotalCount: n, FailureCount: n}
	for i := range n {
		ok.Successes = append(ok.Successes, store.StatusDetail{
			ID:      fmt.Sprintf("indicator--%08x-9c4e-4b4a-8f3e-%012x", i*7919, i*104729),
			Version: "2024-01-01T00:00:00.000Z", Message: "stored"})
		bad.Failures = append(bad.Failures, store.StatusDetail{Message: `id "" does not start with its type "x" and "--"`})
	}
	for _, tc := range []struct {
		st  store.Status
		max int // bytes
	}{
		{ok, 30 * n}, // the ids alone take 40 characters each
		{bad, 2000},
	} {
		if err := s.PutStatus(ctx, tc.st); err != nil {
			t.Fatal(err)
		}
		var size int
		if err := s.r.QueryRow(`SELECT length(details) FROM statuses WHERE id = ?`, tc.st.ID).Scan(&size); err != nil {
			t.Fatal(err)
		}
		t.Logf("status %s: %d bytes of details for %d objects", tc.st.ID, size, n)
		if size > tc.max {
			t.Errorf("status %s: %d bytes of details for %d objects, want at most %d", tc.st.ID, size, n, tc.max)
		}
		got, err := s.Status(ctx, "api1", tc.st.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Successes, tc.st.Successes) || !slices.Equal(got.Failures, tc.st.Failures) || got.Pendings != nil {
			t.Errorf("status %s did not round-trip", tc.st.ID)
		}
	}
}
