package misp

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// ManifestEntry describes one event in a feed's manifest.json, which maps
// event uuids to entries; a MISP instance reads it to decide which event
// files to fetch.
type ManifestEntry struct {
	Info          string `json:"info"`
	Date          string `json:"date,omitempty"`
	Timestamp     Text   `json:"timestamp"`
	Analysis      Text   `json:"analysis,omitempty"`
	ThreatLevelID Text   `json:"threat_level_id,omitempty"`
	Orgc          *Org   `json:"Orgc,omitempty"`
	Tags          []Tag  `json:"Tag,omitempty"`
}

// DecodeManifest reads a feed's manifest.json and returns its event uuids
// in order, with their entries.
func DecodeManifest(data []byte) ([]string, map[string]ManifestEntry, error) {
	var m map[string]ManifestEntry
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, jsonError("manifest", err)
	}
	uuids := make([]string, 0, len(m))
	for u, e := range m {
		if !validFeedName(u) {
			return nil, nil, &DecodeError{Path: "manifest", Msg: fmt.Sprintf("key %q is not an event uuid", u)}
		}
		if err := checkUnix("manifest."+u+".timestamp", e.Timestamp); err != nil {
			return nil, nil, err
		}
		uuids = append(uuids, u)
	}
	slices.Sort(uuids)
	return uuids, m, nil
}

// validFeedName reports whether s can name an event file of a feed: hex
// digits and hyphens only, so that it cannot climb out of the feed's
// directory or URL.
func validFeedName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || c == '-') {
			return false
		}
	}
	return true
}

// Manifest returns the manifest.json of a feed of events.
func Manifest(events []Event) []byte {
	m := make(map[string]ManifestEntry, len(events))
	for _, e := range events {
		m[e.UUID] = ManifestEntry{Info: e.Info, Date: e.Date, Timestamp: e.Timestamp, Analysis: e.Analysis,
			ThreatLevelID: e.ThreatLevelID, Orgc: e.Orgc, Tags: e.Tags}
	}
	return marshal(m)
}

// EventFile returns the file of one event in a feed, {"Event": {...}}.
func EventFile(e *Event) []byte {
	return marshal(struct {
		Event *Event `json:"Event"`
	}{e})
}

// Hashes returns a feed's hashes.csv: for each attribute value (each part
// of a composite one), the MD5 of the value and the event's uuid, as
// PyMISP's feed generator writes it, so that a MISP instance can look
// values up without fetching events.
func Hashes(events []Event) []byte {
	var b bytes.Buffer
	for _, e := range events {
		for _, a := range allAttributesOf(&e) {
			parts := []string{a.Value}
			if strings.Contains(a.Type, "|") {
				parts = strings.Split(a.Value, "|")
			}
			for _, p := range parts {
				sum := md5.Sum([]byte(p))
				b.WriteString(hex.EncodeToString(sum[:]))
				b.WriteByte(',')
				b.WriteString(e.UUID)
				b.WriteByte('\n')
			}
		}
	}
	return b.Bytes()
}

func allAttributesOf(e *Event) []Attribute {
	out := slices.Clone(e.Attributes)
	for _, o := range e.Objects {
		out = append(out, o.Attributes...)
	}
	return out
}

func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("misp: encoding: " + err.Error()) // plain data
	}
	return b.Bytes()
}
