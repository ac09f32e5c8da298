package ledger

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

var testTime = time.Date(2027, 3, 1, 12, 0, 0, 123456789, time.UTC)

func testObject(n byte) ObjectRef {
	return ObjectRef{
		ID:      "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		Version: "2027-03-01T11:59:00.000Z",
		Digest:  Digest{n, 2, 3},
	}
}

// sampleEntries has one entry of each kind.
func sampleEntries() []Entry {
	return []Entry{
		{testTime, Received{From: "party-b", Node: "node.b.example/1", Object: testObject(1)}},
		{testTime, Originated{Object: testObject(2)}},
		{testTime, Disclosed{To: "party-c", Object: testObject(3), Agreement: "2027-01",
			Rule: "share-green-indicators", Conditions: []string{"no-onward-transfer", "confidential"}, Redactions: []string{"description"}}},
		{testTime, Revoked{Object: testObject(4)}},
		{testTime, AgreementAdopted{Agreement: "agreement--1", Version: "2027-01", Digest: Digest{5}}},
		{testTime, AgreementAmended{Agreement: "agreement--1", Previous: "2027-01", Version: "2027-02", Digest: Digest{6}}},
		{testTime, KeyRotated{Node: "node.a.example/1", New: "node.a.example/1+01234567+AAAA"}},
		{testTime, Transition{Workflow: "incident-notification", Case: "case-7", To: "notified", Party: "party-b",
			Attrs: map[string]string{"deadline": "2027-03-02T12:00:00Z", "severity": "high"}}},
	}
}

func mustEncode(t testing.TB, e Entry) []byte {
	t.Helper()
	b, err := e.Encode()
	if err != nil {
		t.Fatalf("Encode(%+v): %v", e, err)
	}
	return b
}

func TestEntryRoundTrip(t *testing.T) {
	for _, e := range sampleEntries() {
		t.Run(e.Event.Kind().String(), func(t *testing.T) {
			b := mustEncode(t, e)
			got, err := DecodeEntry(b)
			if err != nil {
				t.Fatalf("DecodeEntry: %v", err)
			}
			if !got.Time.Equal(e.Time) || !reflect.DeepEqual(got.Event, e.Event) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, e)
			}
			if b2 := mustEncode(t, got); !bytes.Equal(b, b2) {
				t.Errorf("re-encoding differs:\n%x\n%x", b, b2)
			}
		})
	}
}

// TestEntryEncodingGolden pins the byte layout that doc/ledger.md
// documents.
func TestEntryEncodingGolden(t *testing.T) {
	e := Entry{time.Unix(1, 2).UTC(), Received{From: "b", Node: "n", Object: ObjectRef{ID: "x", Version: "v", Digest: Digest{0xaa}}}}
	want := "01" + "01" + "000000003b9aca02" + // version, kind, Unix ns
		"000162" + "00016e" + // from "b", node "n"
		"000178" + "000176" + // object id "x", version "v"
		"aa" + strings.Repeat("00", 31) // digest
	if got := hex.EncodeToString(mustEncode(t, e)); got != want {
		t.Errorf("encoding\n got %s\nwant %s", got, want)
	}
	tr := Entry{time.Unix(0, 0), Transition{Workflow: "w", Case: "c", To: "t", Attrs: map[string]string{"b": "2", "a": "1"}}}
	want = "0108" + "0000000000000000" + "000177" + "000163" + "0000" + "000174" + "0000" +
		"0002" + "000161" + "000131" + "000162" + "000132"
	if got := hex.EncodeToString(mustEncode(t, tr)); got != want {
		t.Errorf("transition encoding\n got %s\nwant %s", got, want)
	}
}

func TestEncodeRejects(t *testing.T) {
	for name, e := range map[string]Entry{
		"no event":        {Time: testTime},
		"zero time":       {Event: Originated{Object: testObject(1)}},
		"no object id":    {testTime, Originated{Object: ObjectRef{Version: "v"}}},
		"no from":         {testTime, Received{Object: testObject(1)}},
		"bad utf-8":       {testTime, Received{From: "\xff", Object: testObject(1)}},
		"empty condition": {testTime, Disclosed{To: "c", Object: testObject(1), Agreement: "a", Rule: "r", Conditions: []string{""}}},
		"long string":     {testTime, Received{From: strings.Repeat("a", 1<<16), Object: testObject(1)}},
		"no attr name":    {testTime, Transition{Workflow: "w", Case: "c", To: "t", Attrs: map[string]string{"": "x"}}},
	} {
		if b, err := e.Encode(); err == nil {
			t.Errorf("%s: Encode = %x, want an error", name, b)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	good := mustEncode(t, sampleEntries()[0])
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tr := mustEncode(t, Entry{time.Unix(0, 0), Transition{Workflow: "w", Case: "c", To: "t", Attrs: map[string]string{"a": "1", "b": "2"}}})
	for name, b := range map[string][]byte{
		"empty":            nil,
		"version 0":        mutate(func(b []byte) []byte { b[0] = 0; return b }),
		"version 2":        mutate(func(b []byte) []byte { b[0] = 2; return b }),
		"kind 0":           mutate(func(b []byte) []byte { b[1] = 0; return b }),
		"kind 9":           mutate(func(b []byte) []byte { b[1] = 9; return b }),
		"negative time":    mutate(func(b []byte) []byte { b[2] = 0x80; return b }),
		"trailing byte":    append(bytes.Clone(good), 0),
		"truncated":        good[:len(good)-1],
		"header only":      good[:10],
		"empty from":       mutate(func(b []byte) []byte { return append(b[:10], append([]byte{0, 0}, b[12+len("party-b"):]...)...) }),
		"bad utf-8":        mutate(func(b []byte) []byte { b[12] = 0xff; return b }),
		"attrs unsorted":   bytes.Replace(bytes.Clone(tr), []byte("\x00\x01a\x00\x011\x00\x01b\x00\x012"), []byte("\x00\x01b\x00\x012\x00\x01a\x00\x011"), 1),
		"attrs duplicated": bytes.Replace(bytes.Clone(tr), []byte("\x00\x01b\x00\x012"), []byte("\x00\x01a\x00\x012"), 1),
	} {
		if e, err := DecodeEntry(b); !errors.Is(err, ErrMalformedEntry) {
			t.Errorf("%s: DecodeEntry(%x) = %+v, %v; want ErrMalformedEntry", name, b, e, err)
		}
	}
}

func TestConcerns(t *testing.T) {
	want := map[Kind]bool{KindReceived: true, KindDisclosed: false, KindAgreementAdopted: true, KindAgreementAmended: true,
		KindKeyRotated: true, KindTransition: true, KindOriginated: false, KindRevoked: false}
	for _, e := range sampleEntries() {
		if got := e.Concerns("party-b"); got != want[e.Event.Kind()] {
			t.Errorf("%s.Concerns(party-b) = %v", e.Event.Kind(), got)
		}
	}
	if !sampleEntries()[2].Concerns("party-c") {
		t.Error("a disclosure does not concern its recipient")
	}
}

func TestObjectDigest(t *testing.T) {
	a, err := ObjectDigest([]byte(`{"type":"indicator", "id":"x","b":1.0}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ObjectDigest([]byte(`{"b":1,"id":"x","type":"indicator"}`))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("two spellings of one object have different digests")
	}
	if _, err := ObjectDigest([]byte(`{"a":1,"a":2}`)); err == nil {
		t.Error("a duplicate name was accepted")
	}
}

// genString draws strings, often empty or non-ASCII.
func genString(t *rapid.T, label string) string {
	return rapid.OneOf(rapid.Just(""), rapid.StringN(1, 20, 40), rapid.SampledFrom([]string{"party-b", "é😀", "a b"})).Draw(t, label)
}

func genNonEmpty(t *rapid.T, label string) string {
	return rapid.StringN(1, 20, 60).Draw(t, label)
}

func genObject(t *rapid.T) ObjectRef {
	var d Digest
	copy(d[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "digest"))
	return ObjectRef{ID: genNonEmpty(t, "id"), Version: genNonEmpty(t, "version"), Digest: d}
}

func genList(t *rapid.T, label string) []string {
	return rapid.SliceOfN(rapid.StringN(1, 10, 30), 0, 3).Draw(t, label)
}

func genEntry(t *rapid.T) Entry {
	ns := rapid.Int64Range(0, 1<<62).Draw(t, "ns")
	var ev Event
	switch rapid.IntRange(1, 8).Draw(t, "kind") {
	case 1:
		ev = Received{From: genNonEmpty(t, "from"), Node: genString(t, "node"), Object: genObject(t)}
	case 2:
		ev = Originated{Object: genObject(t)}
	case 3:
		ev = Disclosed{To: genNonEmpty(t, "to"), Node: genString(t, "node"), Object: genObject(t),
			Agreement: genNonEmpty(t, "agreement"), Rule: genNonEmpty(t, "rule"),
			Conditions: genList(t, "conditions"), Redactions: genList(t, "redactions")}
	case 4:
		ev = Revoked{Object: genObject(t)}
	case 5:
		ev = AgreementAdopted{Agreement: genNonEmpty(t, "agreement"), Version: genNonEmpty(t, "version")}
	case 6:
		ev = AgreementAmended{Agreement: genNonEmpty(t, "agreement"), Previous: genNonEmpty(t, "previous"), Version: genNonEmpty(t, "version")}
	case 7:
		ev = KeyRotated{Node: genNonEmpty(t, "node"), Old: genString(t, "old"), New: genNonEmpty(t, "new")}
	case 8:
		ev = Transition{Workflow: genNonEmpty(t, "workflow"), Case: genNonEmpty(t, "case"), From: genString(t, "from"),
			To: genNonEmpty(t, "to"), Party: genString(t, "party"),
			Attrs: rapid.MapOfN(rapid.StringN(1, 8, 20), rapid.String(), 1, 4).Draw(t, "attrs")}
	}
	return Entry{Time: time.Unix(0, ns).UTC(), Event: ev}
}

// normalize makes empty lists nil, as decoding returns them.
func normalize(e Entry) Entry {
	switch ev := e.Event.(type) {
	case Disclosed:
		if len(ev.Conditions) == 0 {
			ev.Conditions = nil
		}
		if len(ev.Redactions) == 0 {
			ev.Redactions = nil
		}
		e.Event = ev
	}
	return e
}

func TestEntryRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := genEntry(t)
		b, err := e.Encode()
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		got, err := DecodeEntry(b)
		if err != nil {
			t.Fatalf("DecodeEntry: %v", err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(e)) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, e)
		}
	})
}

// FuzzDecodeEntry checks that decoding never panics and that whatever it
// accepts is canonical: it encodes back to the same bytes.
func FuzzDecodeEntry(f *testing.F) {
	for _, e := range sampleEntries() {
		f.Add(mustEncode(f, e))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEntry(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedEntry) {
				t.Fatalf("error %v does not wrap ErrMalformedEntry", err)
			}
			return
		}
		again, err := e.Encode()
		if err != nil {
			t.Fatalf("decoded entry does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("decoded %x, re-encoded %x", b, again)
		}
	})
}
