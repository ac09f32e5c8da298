package match

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// FormatNamed returns the reader of a log format without configuration:
// "eve" (Suricata EVE JSON) or "zeek" (Zeek, as JSON lines or in its
// tab-separated form). The jsonl format needs a [Mapping]: build it with
// [NewJSON].
func FormatNamed(name string) (Format, error) {
	switch name {
	case "eve":
		return EVE{}, nil
	case "zeek":
		return Zeek{}, nil
	}
	return nil, fmt.Errorf("log format %q: want eve or zeek", name)
}

// DetectFormat says which format the start of a log is written in: "eve"
// for Suricata EVE JSON (an event_type on its first line), "zeek" for a
// Zeek log (a tab-separated header, or JSON lines with Zeek's uid, ts or
// _path fields), and "" when it cannot tell. It looks at the first
// non-empty line only; sample may end in the middle of a line, and is
// never a compressed stream (decompress it first).
func DetectFormat(sample []byte) string {
	sample = bytes.TrimPrefix(sample, []byte("\xef\xbb\xbf"))
	var first []byte
	for line := range bytes.Lines(sample) {
		if line = bytes.TrimSpace(line); len(line) > 0 {
			first = line
			break
		}
	}
	switch {
	case bytes.HasPrefix(first, []byte("#separator")), bytes.HasPrefix(first, []byte("#fields")):
		return "zeek"
	case !bytes.HasPrefix(first, []byte("{")):
		return ""
	}
	// Only the top-level keys count: a whole line decodes into a map of
	// raw values; a line cut off by the sample's end is read key by key.
	keys := topLevelKeys(first)
	switch {
	case keys["event_type"] && (keys["timestamp"] || keys["src_ip"] || keys["dest_ip"]):
		return "eve"
	case keys["_path"], keys["uid"] && keys["ts"], keys["id.orig_h"]:
		return "zeek"
	}
	return ""
}

// topLevelKeys returns the keys of the JSON object that line starts with,
// as far as it goes.
func topLevelKeys(line []byte) map[string]bool {
	keys := map[string]bool{}
	d := json.NewDecoder(bytes.NewReader(line))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return keys
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return keys
		}
		k, ok := t.(string)
		if !ok {
			return keys
		}
		keys[k] = true
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return keys
		}
	}
	return keys
}
