package node

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/entente/entente/store"
)

// TestProvingCheckpoint checks the search for the newest checkpoint a
// witness policy accepts, across windows that grow backwards from the
// newest checkpoint, with checkpoints at every size from 1 to 1,000.
func TestProvingCheckpoint(t *testing.T) {
	ctx := context.Background()
	f := newFakeStore()
	f.ledger = make([]store.LedgerRecord, 1000) // checkpoints need entries to cover
	for size := int64(1); size <= 1000; size++ {
		note := []byte("size " + strconv.FormatInt(size, 10))
		if err := f.PutCheckpoint(ctx, store.StoredCheckpoint{Size: size, Note: note}); err != nil {
			t.Fatal(err)
		}
	}
	finalAt := func(sizes ...int64) func([]byte) bool {
		return func(note []byte) bool {
			for _, s := range sizes {
				if string(note) == "size "+strconv.FormatInt(s, 10) {
					return true
				}
			}
			return false
		}
	}
	for _, tc := range []struct {
		name  string
		index int64
		final func([]byte) bool
		want  int64 // 0: ErrNotFinal
	}{
		{"any checkpoint", 5, nil, 1000},
		{"the newest is final", 5, finalAt(1000), 1000},
		{"in the first window", 5, finalAt(990, 999), 999},
		{"past several windows", 5, finalAt(3, 200, 201), 201},
		{"on a window's edge", 5, finalAt(1000 - 64), 1000 - 64},
		{"the oldest that covers the entry", 5, finalAt(6), 6},
		{"only below the entry", 5, finalAt(2, 5), 0},
		{"none", 5, finalAt(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp, err := provingCheckpoint(ctx, f, tc.index, tc.final)
			switch {
			case tc.want == 0:
				if !errors.Is(err, ErrNotFinal) {
					t.Errorf("got size %d, %v; want ErrNotFinal", cp.Size, err)
				}
			case err != nil || cp.Size != tc.want:
				t.Errorf("got size %d, %v; want %d", cp.Size, err, tc.want)
			}
		})
	}
	if _, err := provingCheckpoint(ctx, f, 1000, nil); !errors.Is(err, ErrNotCheckpointed) {
		t.Errorf("an entry past the newest checkpoint: %v; want ErrNotCheckpointed", err)
	}
}
