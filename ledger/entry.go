package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/entente/entente/stix"
)

// EncodingVersion is the version byte that starts every encoded entry.
// A decoder rejects any other version: a new encoding gets a new number and
// old entries keep theirs.
const EncodingVersion = 1

// Kind is an entry's type, the byte after the version in its encoding.
type Kind uint8

// The kinds of entry. The numbers are part of the encoding and never
// change; casework adds its workflows through [Transition], not new kinds.
const (
	KindReceived         Kind = 1
	KindOriginated       Kind = 2
	KindDisclosed        Kind = 3
	KindRevoked          Kind = 4
	KindAgreementAdopted Kind = 5
	KindAgreementAmended Kind = 6
	KindKeyRotated       Kind = 7
	KindTransition       Kind = 8
)

var kindNames = map[Kind]string{
	KindReceived:         "received",
	KindOriginated:       "originated",
	KindDisclosed:        "disclosed",
	KindRevoked:          "revoked",
	KindAgreementAdopted: "agreement-adopted",
	KindAgreementAmended: "agreement-amended",
	KindKeyRotated:       "key-rotated",
	KindTransition:       "transition",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Entry is one record of the ledger: what happened (Event) and when the node
// recorded it.
type Entry struct {
	// Time is when the node recorded the event. It is encoded in Unix
	// nanoseconds, so it must lie between 1970 and 2262.
	Time  time.Time
	Event Event
}

// Event is the typed content of an entry: one of [Received], [Originated],
// [Disclosed], [Revoked], [AgreementAdopted], [AgreementAmended],
// [KeyRotated] or [Transition].
type Event interface {
	Kind() Kind
	// appendBody appends the event's encoding after the entry header; the
	// event has been validated.
	appendBody(b []byte) []byte
	validate() error
}

// Digest is a SHA-256 hash.
type Digest [32]byte

// ObjectRef names one version of a STIX object.
type ObjectRef struct {
	// ID is the object's STIX id.
	ID string
	// Version is the version's "modified" timestamp as it appears in the
	// object (the "created" one for objects that are never versioned).
	Version string
	// Digest is the SHA-256 of the version's RFC 8785 canonical form; see
	// [ObjectDigest].
	Digest Digest
}

// ObjectDigest returns the SHA-256 of raw's RFC 8785 canonical form, as
// [stix.Canonical] computes it: the digest an [ObjectRef] holds, which a
// partner recomputes from the object it received.
func ObjectDigest(raw []byte) (Digest, error) {
	c, err := stix.Canonical(raw)
	if err != nil {
		return Digest{}, fmt.Errorf("ledger: object digest: %w", err)
	}
	return sha256.Sum256(c), nil
}

// Received records an object version received from a partner.
type Received struct {
	// From is the sending party's id in the agreement.
	From string
	// Node is the name of the sending node's key, empty if the object came
	// through a person or tool of the party rather than a node.
	Node   string
	Object ObjectRef
}

// Originated records an object version the node's own party created.
type Originated struct {
	Object ObjectRef
}

// Disclosed records an object version released to a partner, with the
// decision that allowed it.
type Disclosed struct {
	// To is the receiving party's id in the agreement.
	To string
	// Node is the name of the receiving node's key, empty when the
	// disclosure was to the party rather than one node.
	Node   string
	Object ObjectRef
	// Agreement is the version of the agreement the decision applied.
	Agreement string
	// Rule names the agreement rule that allowed the release.
	Rule string
	// Conditions are the conditions attached to the release, in the order
	// the policy gave them.
	Conditions []string
	// Redactions name the properties removed before release, in the order
	// the policy gave them. Object is the released (redacted) version.
	Redactions []string
}

// Revoked records that the node revoked an object it originated; Object is
// the revoking version.
type Revoked struct {
	Object ObjectRef
}

// AgreementAdopted records that the node adopted an agreement.
type AgreementAdopted struct {
	// Agreement is the agreement's id.
	Agreement string
	Version   string
	// Digest is the SHA-256 of the signed agreement document.
	Digest Digest
}

// AgreementAmended records that the node moved to a new version of an
// agreement.
type AgreementAmended struct {
	Agreement string
	// Previous is the version that the amendment replaces.
	Previous string
	Version  string
	Digest   Digest
}

// KeyRotated records a change of a node key.
type KeyRotated struct {
	// Node is the key name.
	Node string
	// Old and New are the signed-note verifier keys; Old is empty for a
	// node's first key.
	Old, New string
}

// Transition records a step of a treaty workflow (casework).
type Transition struct {
	// Workflow names the workflow, e.g. "incident-notification".
	Workflow string
	// Case is the case's id.
	Case string
	// From and To are the states; From is empty when the case opens.
	From, To string
	// Party is the counterparty of the case, if any.
	Party string
	// Attrs carries workflow-specific values; it is encoded sorted by name.
	Attrs map[string]string
}

func (Received) Kind() Kind         { return KindReceived }
func (Originated) Kind() Kind       { return KindOriginated }
func (Disclosed) Kind() Kind        { return KindDisclosed }
func (Revoked) Kind() Kind          { return KindRevoked }
func (AgreementAdopted) Kind() Kind { return KindAgreementAdopted }
func (AgreementAmended) Kind() Kind { return KindAgreementAmended }
func (KeyRotated) Kind() Kind       { return KindKeyRotated }
func (Transition) Kind() Kind       { return KindTransition }

// Concerns reports whether the entry concerns party, and so whether the
// node may give party its opening: receipts from and disclosures to the
// party, transitions of cases with it, and the agreement and key events,
// which concern every party.
func (e Entry) Concerns(party string) bool {
	switch ev := e.Event.(type) {
	case Received:
		return ev.From == party
	case Disclosed:
		return ev.To == party
	case Transition:
		return ev.Party == party
	case AgreementAdopted, AgreementAmended, KeyRotated:
		return true
	}
	return false
}

// ErrMalformedEntry is wrapped by every error that DecodeEntry returns: the
// bytes are not an entry this version of Entente wrote, and must be
// rejected, not repaired.
var ErrMalformedEntry = errors.New("ledger: malformed entry")

// maxString is the longest string the encoding can hold.
const maxString = math.MaxUint16

// Times outside this range have no Unix-nanosecond encoding.
var (
	minTime = time.Unix(0, 0)
	maxTime = time.Unix(0, math.MaxInt64)
)

// Encode returns the entry's encoding (doc/ledger.md). It fails if a field
// is missing, not valid UTF-8 or too long.
func (e Entry) Encode() ([]byte, error) {
	return e.AppendEncoding(make([]byte, 0, 128))
}

// AppendEncoding appends the entry's encoding to b.
func (e Entry) AppendEncoding(b []byte) ([]byte, error) {
	if e.Event == nil {
		return nil, errors.New("ledger: entry has no event")
	}
	if e.Time.Before(minTime) || e.Time.After(maxTime) {
		return nil, fmt.Errorf("ledger: %s entry: time %v is outside 1970..2262", e.Event.Kind(), e.Time)
	}
	if err := e.Event.validate(); err != nil {
		return nil, fmt.Errorf("ledger: %s entry: %w", e.Event.Kind(), err)
	}
	return e.Event.appendBody(appendHeader(b, e.Event.Kind(), e.Time)), nil
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

func appendObject(b []byte, o ObjectRef) []byte {
	b = appendString(b, o.ID)
	b = appendString(b, o.Version)
	return append(b, o.Digest[:]...)
}

func (ev Received) appendBody(b []byte) []byte {
	b = appendString(b, ev.From)
	b = appendString(b, ev.Node)
	return appendObject(b, ev.Object)
}

func (ev Originated) appendBody(b []byte) []byte { return appendObject(b, ev.Object) }

func (ev Disclosed) appendBody(b []byte) []byte {
	b = appendString(b, ev.To)
	b = appendString(b, ev.Node)
	b = appendObject(b, ev.Object)
	b = appendString(b, ev.Agreement)
	b = appendString(b, ev.Rule)
	b = appendStrings(b, ev.Conditions)
	return appendStrings(b, ev.Redactions)
}

func (ev Revoked) appendBody(b []byte) []byte { return appendObject(b, ev.Object) }

func (ev AgreementAdopted) appendBody(b []byte) []byte {
	b = appendString(b, ev.Agreement)
	b = appendString(b, ev.Version)
	return append(b, ev.Digest[:]...)
}

func (ev AgreementAmended) appendBody(b []byte) []byte {
	b = appendString(b, ev.Agreement)
	b = appendString(b, ev.Previous)
	b = appendString(b, ev.Version)
	return append(b, ev.Digest[:]...)
}

func (ev KeyRotated) appendBody(b []byte) []byte {
	b = appendString(b, ev.Node)
	b = appendString(b, ev.Old)
	return appendString(b, ev.New)
}

func (ev Transition) appendBody(b []byte) []byte {
	b = appendString(b, ev.Workflow)
	b = appendString(b, ev.Case)
	b = appendString(b, ev.From)
	b = appendString(b, ev.To)
	b = appendString(b, ev.Party)
	b = binary.BigEndian.AppendUint16(b, uint16(len(ev.Attrs)))
	for _, name := range slices.Sorted(maps.Keys(ev.Attrs)) {
		b = appendString(b, name)
		b = appendString(b, ev.Attrs[name])
	}
	return b
}

// field checks one string field; required fields must not be empty.
type field struct {
	name     string
	value    string
	required bool
}

func checkFields(fs ...field) error {
	for _, f := range fs {
		if err := checkString(f.name, f.value, f.required); err != nil {
			return err
		}
	}
	return nil
}

func checkString(name, s string, required bool) error {
	switch {
	case required && s == "":
		return fmt.Errorf("%s is empty", name)
	case len(s) > maxString:
		return fmt.Errorf("%s is %d bytes long, more than %d", name, len(s), maxString)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", name)
	}
	return nil
}

func checkList(name string, ss []string) error {
	if len(ss) > math.MaxUint16 {
		return fmt.Errorf("%s has %d items, more than %d", name, len(ss), math.MaxUint16)
	}
	for i, s := range ss {
		if err := checkString(fmt.Sprintf("%s[%d]", name, i), s, true); err != nil {
			return err
		}
	}
	return nil
}

func (o ObjectRef) fields() []field {
	return []field{{"object id", o.ID, true}, {"object version", o.Version, true}}
}

func (ev Received) validate() error {
	return checkFields(append([]field{{"from", ev.From, true}, {"node", ev.Node, false}}, ev.Object.fields()...)...)
}

func (ev Originated) validate() error { return checkFields(ev.Object.fields()...) }

func (ev Disclosed) validate() error {
	fs := append([]field{{"to", ev.To, true}, {"node", ev.Node, false}}, ev.Object.fields()...)
	fs = append(fs, field{"agreement", ev.Agreement, true}, field{"rule", ev.Rule, true})
	if err := checkFields(fs...); err != nil {
		return err
	}
	if err := checkList("conditions", ev.Conditions); err != nil {
		return err
	}
	return checkList("redactions", ev.Redactions)
}

func (ev Revoked) validate() error { return checkFields(ev.Object.fields()...) }

func (ev AgreementAdopted) validate() error {
	return checkFields(field{"agreement", ev.Agreement, true}, field{"version", ev.Version, true})
}

func (ev AgreementAmended) validate() error {
	return checkFields(field{"agreement", ev.Agreement, true}, field{"previous", ev.Previous, true}, field{"version", ev.Version, true})
}

func (ev KeyRotated) validate() error {
	return checkFields(field{"node", ev.Node, true}, field{"old", ev.Old, false}, field{"new", ev.New, true})
}

func (ev Transition) validate() error {
	err := checkFields(field{"workflow", ev.Workflow, true}, field{"case", ev.Case, true},
		field{"from", ev.From, false}, field{"to", ev.To, true}, field{"party", ev.Party, false})
	if err != nil {
		return err
	}
	if len(ev.Attrs) > math.MaxUint16 {
		return fmt.Errorf("%d attributes, more than %d", len(ev.Attrs), math.MaxUint16)
	}
	for name, v := range ev.Attrs {
		if err := checkFields(field{"attribute name", name, true}, field{"attribute " + name, v, false}); err != nil {
			return err
		}
	}
	return nil
}

// DecodeEntry decodes an entry's encoding. It is strict: it rejects an
// unknown version or kind, a missing required field, invalid UTF-8,
// attributes out of order, a time before 1970 and trailing bytes, so that
// every entry has exactly one encoding. Errors wrap [ErrMalformedEntry].
func DecodeEntry(b []byte) (Entry, error) {
	d := decoder{b: b}
	e, err := d.entry()
	if err == nil && len(d.b) > 0 {
		err = fmt.Errorf("%d trailing bytes", len(d.b))
	}
	if err != nil {
		return Entry{}, fmt.Errorf("%w: %v", ErrMalformedEntry, err)
	}
	return e, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *decoder) bytes(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail("truncated %s", what)
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) uint16(what string) int {
	v := d.bytes(2, what)
	if v == nil {
		return 0
	}
	return int(binary.BigEndian.Uint16(v))
}

func (d *decoder) string(what string, required bool) string {
	n := d.uint16(what)
	s := string(d.bytes(n, what))
	if d.err == nil {
		if err := checkString(what, s, required); err != nil {
			d.fail("%v", err)
		}
	}
	return s
}

func (d *decoder) strings(what string) []string {
	n := d.uint16(what)
	var ss []string
	for i := 0; i < n && d.err == nil; i++ {
		ss = append(ss, d.string(fmt.Sprintf("%s[%d]", what, i), true))
	}
	return ss
}

func (d *decoder) digest(what string) Digest {
	var h Digest
	copy(h[:], d.bytes(len(h), what))
	return h
}

func (d *decoder) object() ObjectRef {
	return ObjectRef{
		ID:      d.string("object id", true),
		Version: d.string("object version", true),
		Digest:  d.digest("object digest"),
	}
}

func (d *decoder) entry() (Entry, error) {
	head := d.bytes(HeaderSize, "header")
	if d.err != nil {
		return Entry{}, d.err
	}
	if head[0] != EncodingVersion {
		return Entry{}, fmt.Errorf("unknown encoding version %d (this version of Entente reads %d)", head[0], EncodingVersion)
	}
	ns := int64(binary.BigEndian.Uint64(head[2:]))
	if ns < 0 {
		return Entry{}, errors.New("time before 1970")
	}
	e := Entry{Time: time.Unix(0, ns).UTC()}
	switch kind := Kind(head[1]); kind {
	case KindReceived:
		e.Event = Received{From: d.string("from", true), Node: d.string("node", false), Object: d.object()}
	case KindOriginated:
		e.Event = Originated{Object: d.object()}
	case KindDisclosed:
		e.Event = Disclosed{
			To:         d.string("to", true),
			Node:       d.string("node", false),
			Object:     d.object(),
			Agreement:  d.string("agreement", true),
			Rule:       d.string("rule", true),
			Conditions: d.strings("conditions"),
			Redactions: d.strings("redactions"),
		}
	case KindRevoked:
		e.Event = Revoked{Object: d.object()}
	case KindAgreementAdopted:
		e.Event = AgreementAdopted{
			Agreement: d.string("agreement", true),
			Version:   d.string("version", true),
			Digest:    d.digest("digest"),
		}
	case KindAgreementAmended:
		e.Event = AgreementAmended{
			Agreement: d.string("agreement", true),
			Previous:  d.string("previous", true),
			Version:   d.string("version", true),
			Digest:    d.digest("digest"),
		}
	case KindKeyRotated:
		e.Event = KeyRotated{Node: d.string("node", true), Old: d.string("old", false), New: d.string("new", true)}
	case KindTransition:
		e.Event = d.transition()
	default:
		return Entry{}, fmt.Errorf("unknown entry kind %d", head[1])
	}
	return e, d.err
}

func (d *decoder) transition() Transition {
	t := Transition{
		Workflow: d.string("workflow", true),
		Case:     d.string("case", true),
		From:     d.string("from", false),
		To:       d.string("to", true),
		Party:    d.string("party", false),
	}
	n := d.uint16("attributes")
	prev := ""
	for i := 0; i < n && d.err == nil; i++ {
		name := d.string("attribute name", true)
		value := d.string("attribute "+name, false)
		if i > 0 && name <= prev {
			d.fail("attribute %q is out of order or repeated (names are sorted and unique)", name)
		}
		prev = name
		if t.Attrs == nil {
			t.Attrs = make(map[string]string, n)
		}
		t.Attrs[name] = value
	}
	return t
}
