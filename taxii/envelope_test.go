package taxii

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeEnvelopeLimit(t *testing.T) {
	body := `{"objects":[{"type":"x"},{"type":"x"},{"type":"x"}]}`
	if objs, _, err := decodeEnvelope(strings.NewReader(body), int64(len(body)), 3); err != nil || len(objs) != 3 {
		t.Fatalf("3 objects, limit 3: %d objects, %v", len(objs), err)
	}
	_, _, err := decodeEnvelope(strings.NewReader(body), int64(len(body)), 2)
	if status, _ := statusOf(err); status != 413 {
		t.Fatalf("3 objects, limit 2: %v (status %d), want 413", err, status)
	}
	body = `{"objects":[{"type":"x"}],"x_entente_provenance":[null,null,null]}`
	if _, _, err := decodeEnvelope(strings.NewReader(body), int64(len(body)), 2); err == nil {
		t.Fatalf("3 provenance records, limit 2: accepted")
	} else if status, _ := statusOf(err); status != 413 {
		t.Fatalf("3 provenance records, limit 2: %v (status %d), want 413", err, status)
	}
}

func TestDecodeEnvelopeProvenance(t *testing.T) {
	for _, c := range []struct {
		body   string
		status int      // 0: accepted
		want   []string // the provenance returned, "" for nil; nil for none
	}{
		{`{"objects":[{"type":"x"},{"type":"y"}]}`, 0, nil},
		{`{"objects":[{"type":"x"},{"type":"y"}],"x_entente_provenance":[{"origin":{}},null]}`, 0, []string{`{"origin":{}}`, ""}},
		{`{"x_entente_provenance":[null,{"a":1}],"objects":[{"type":"x"},{"type":"y"}]}`, 0, []string{"", `{"a":1}`}},
		{`{"objects":[{"type":"x"}],"x_entente_provenance":null}`, 0, nil},
		{`{"objects":[{"type":"x"}],"x_other":[1,2,3]}`, 0, nil},
		{`{"objects":[{"type":"x"},{"type":"y"}],"x_entente_provenance":[null]}`, 422, nil},
		{`{"objects":[{"type":"x"}],"x_entente_provenance":[]}`, 422, nil},
		{`{"objects":[{"type":"x"}],"x_entente_provenance":{"a":1}}`, 422, nil},
		{`{"objects":[{"type":"x"}],"x_entente_provenance":["sig"]}`, 422, nil},
		{`{"objects":[{"type":"x"}],"x_entente_provenance":[null],"x_entente_provenance":[null]}`, 400, nil},
		{`{"objects":[{"type":"x"}],"x_entente_provenance":[{]}`, 400, nil},
	} {
		objs, prov, err := decodeEnvelope(strings.NewReader(c.body), int64(len(c.body)), 100)
		if c.status != 0 {
			if status, _ := statusOf(err); status != c.status {
				t.Errorf("%s: %v (status %d), want %d", c.body, err, status, c.status)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.body, err)
			continue
		}
		if c.want == nil {
			if prov != nil {
				t.Errorf("%s: provenance %q, want none", c.body, prov)
			}
			continue
		}
		if len(prov) != len(objs) || len(prov) != len(c.want) {
			t.Errorf("%s: %d provenance records for %d objects, want %d", c.body, len(prov), len(objs), len(c.want))
			continue
		}
		for i, w := range c.want {
			if w == "" && prov[i] != nil || w != "" && string(prov[i]) != w {
				t.Errorf("%s: provenance[%d] = %q, want %q", c.body, i, prov[i], w)
			}
		}
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
		`{"objects":[{"type":"x"},{}],"x_entente_provenance":[{"origin":{}},null]}`,
		`{"x_entente_provenance":[null],"objects":[{}]}`, `{"objects":[{}],"x_entente_provenance":[1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		objs, prov, err := decodeEnvelope(bytes.NewReader(body), int64(len(body)), 100)
		if err != nil {
			if status, public := statusOf(err); status < 400 || status >= 500 || !public {
				t.Fatalf("%q: %v (status %d)", body, err, status)
			}
			return
		}
		var env struct {
			Objects    []json.RawMessage
			Provenance []json.RawMessage `json:"x_entente_provenance"`
		}
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
		if prov == nil {
			if len(env.Provenance) > 0 {
				t.Fatalf("%q: no provenance, encoding/json finds %q", body, env.Provenance)
			}
			return
		}
		if len(prov) != len(objs) || len(env.Provenance) != len(prov) {
			t.Fatalf("%q: %d provenance records for %d objects, encoding/json finds %d", body, len(prov), len(objs), len(env.Provenance))
		}
		for i := range prov {
			want := env.Provenance[i]
			if string(want) == "null" {
				want = nil
			}
			if !bytes.Equal(prov[i], want) {
				t.Fatalf("%q: provenance %d is %q, encoding/json finds %q", body, i, prov[i], want)
			}
		}
	})
}
