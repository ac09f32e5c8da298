package ledger

import (
	"bytes"
	"testing"
	"time"
)

func TestHeaderPrefixesTheEncoding(t *testing.T) {
	at := time.Date(2027, 3, 1, 12, 0, 0, 5, time.UTC)
	e := Entry{Time: at, Event: Originated{Object: ObjectRef{ID: "indicator--6c3f1a2e-9f0b-4d47-8c6d-2f5b1e1d0a11", Version: "2027-03-01T12:00:00Z"}}}
	enc, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if h := Header(KindOriginated, at); !bytes.HasPrefix(enc, h) || len(h) != HeaderSize {
		t.Fatalf("Header = %x; the encoding starts %x", h, enc[:HeaderSize])
	}
	// Byte order is (kind, time) order.
	earlier, later := Header(KindOriginated, at.Add(-time.Nanosecond)), Header(KindOriginated, at.Add(time.Hour))
	other := Header(KindDisclosed, at.Add(-24*time.Hour))
	if !(bytes.Compare(earlier, enc[:HeaderSize]) < 0 && bytes.Compare(enc[:HeaderSize], later) < 0 && bytes.Compare(later, other) < 0) {
		t.Fatalf("headers do not sort by kind, then time: %x %x %x %x", earlier, enc[:HeaderSize], later, other)
	}
}
