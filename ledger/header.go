package ledger

import (
	"encoding/binary"
	"time"
)

// HeaderSize is the length of an entry's header: the encoding version,
// the kind and the time.
const HeaderSize = 10

// Header returns the header an entry of kind k recorded at t starts with.
// Headers compare as bytes in (kind, time) order, so a store can find the
// entries of one kind within a time range through an index on the first
// HeaderSize bytes of their encodings, without decoding them.
func Header(k Kind, t time.Time) []byte {
	return appendHeader(make([]byte, 0, HeaderSize), k, t)
}

// appendHeader appends the header of an entry of kind k recorded at t to
// b; every encoding starts with it.
func appendHeader(b []byte, k Kind, t time.Time) []byte {
	b = append(b, EncodingVersion, byte(k))
	ns := max(t.UnixNano(), 0) // before 1970 sorts first, as no entry can be
	return binary.BigEndian.AppendUint64(b, uint64(ns))
}
