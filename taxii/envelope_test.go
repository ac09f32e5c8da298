package taxii

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeEnvelopeLimit(t *testing.T) {
	body := `{"objects":[{"type":"x"},{"type":"x"},{"type":"x"}]}`
	if objs, err := decodeEnvelope(strings.NewReader(body), int64(len(body)), 3); err != nil || len(objs) != 3 {
		t.Fatalf("3 objects, limit 3: %d objects, %v", len(objs), err)
	}
	_, err := decodeEnvelope(strings.NewReader(body), int64(len(body)), 2)
	if status, _ := statusOf(err); status != 413 {
		t.Fatalf("3 objects, limit 2: %v (status %d), want 413", err, status)
	}
}

// FuzzDecodeEnvelope checks the streaming decoder against encoding/json:
// whatever it accepts, encoding/json reads as the same envelope, and every
// refusal is a client error.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"objects":[{"type":"malware","id":"malware--1"}]}`,
		`{"more":false,"objects":[{},{"a":[1,{"b":null}]}],"next":"x"}`,
		`{"objects":[{"type":"x"}],"objects":[{"type":"y"}]}`,
		`{"objects":null}`, `{"objects":[1]}`, `[]`, ``, `{"objects":[{}]} {}`,
		`{"type":"bundle","objects":[{}]}`, "{\"objects\":[{\"a\":\"\xff\"}]}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		objs, err := decodeEnvelope(bytes.NewReader(body), int64(len(body)), 100)
		if err != nil {
			if status, public := statusOf(err); status < 400 || status >= 500 || !public {
				t.Fatalf("%q: %v (status %d)", body, err, status)
			}
			return
		}
		var env struct{ Objects []json.RawMessage }
		if err := json.Unmarshal(body, &env); err != nil {
			if bytes.ContainsFunc(body, func(r rune) bool { return r == '\uFFFD' }) {
				return // invalid UTF-8, left to each object's parser
			}
			t.Fatalf("%q: accepted, but encoding/json says %v", body, err)
		}
		if len(env.Objects) != len(objs) {
			t.Fatalf("%q: %d objects, encoding/json finds %d", body, len(objs), len(env.Objects))
		}
		for i := range objs {
			if !bytes.Equal(objs[i], env.Objects[i]) {
				t.Fatalf("%q: object %d is %q, encoding/json finds %q", body, i, objs[i], env.Objects[i])
			}
		}
	})
}
