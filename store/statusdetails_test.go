package store

import (
	"slices"
	"testing"
)

// TestStatusDetailsJSON reads details as rows written before the compact
// form hold them.
func TestStatusDetailsJSON(t *testing.T) {
	var st Status
	err := DecodeStatusDetails([]byte(`{"successes":[{"id":"a","version":"v"}],"failures":[{"id":"b","version":"w","message":"bad"}]}`), &st)
	if err != nil || !slices.Equal(st.Successes, []StatusDetail{{ID: "a", Version: "v"}}) ||
		!slices.Equal(st.Failures, []StatusDetail{{ID: "b", Version: "w", Message: "bad"}}) {
		t.Errorf("DecodeStatusDetails(JSON) = %+v, %v", st, err)
	}
}

// FuzzDecodeStatusDetails checks that no stored bytes make decoding panic, and
// that whatever decodes encodes back to the same lists.
func FuzzDecodeStatusDetails(f *testing.F) {
	seed, err := EncodeStatusDetails(Status{
		Successes: []StatusDetail{{ID: "indicator--1", Version: "2024-01-01T00:00:00.000Z", Message: "stored"}},
		Failures:  []StatusDetail{{Message: "bad"}, {ID: "x", Message: "bad"}},
		Pendings:  []StatusDetail{{ID: "y"}},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"successes":[{"id":"a","version":"v"}]}`))
	f.Add([]byte{detailsCompact})
	f.Fuzz(func(t *testing.T, data []byte) {
		var st Status
		if DecodeStatusDetails(data, &st) != nil {
			return
		}
		again, err := EncodeStatusDetails(st)
		if err != nil {
			t.Fatal(err)
		}
		var st2 Status
		if err := DecodeStatusDetails(again, &st2); err != nil {
			t.Fatalf("re-encoded details do not decode: %v", err)
		}
		if !slices.Equal(st.Successes, st2.Successes) || !slices.Equal(st.Failures, st2.Failures) || !slices.Equal(st.Pendings, st2.Pendings) {
			t.Fatalf("round trip changed the lists")
		}
	})
}
