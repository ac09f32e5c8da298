package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestRoundTrip proves that Parse keeps the JSON as received: custom and
// unknown properties, nested values, big numbers and the order of keys all
// survive Parse and MarshalJSON, and also a trip through encoding/json.
func TestRoundTrip(t *testing.T) {
	in := `{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","spec_version":"2.1",` +
		`"modified":"2016-04-06T20:03:48.000Z","created":"2016-04-06T20:03:48.000Z",` +
		`"x_acme_score":12345678901234567890,"x_acme_nested":{"z":[1,{"b":2,"a":1}],"a":"é\u2028"},` +
		`"pattern":"[url:value = 'http://example.com/']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}`
	o, err := Parse([]byte("\n  " + in + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("MarshalJSON:\n got %s\nwant %s", out, in)
	}
	wrapped, err := json.Marshal(struct{ Objects []*Object }{[]*Object{o}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(wrapped, []byte(in)) {
		t.Errorf("json.Marshal changed the object: %s", wrapped)
	}
	if n, ok := o.Props["x_acme_score"].(json.Number); !ok || n != "12345678901234567890" {
		t.Errorf("x_acme_score = %#v, want the exact json.Number", o.Props["x_acme_score"])
	}
	if o.Type != "indicator" || o.ID != "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" || o.Version() != "2016-04-06T20:03:48.000Z" {
		t.Errorf("lifted fields: %+v", o)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"empty", ``, "not a JSON object"},
		{"array", `[{"type":"x"}]`, "not a JSON object"},
		{"duplicate key", `{"type":"indicator","id":"a","type":"malware"}`, "duplicate"},
		{"invalid UTF-8", "{\"type\":\"indicator\",\"id\":\"\xc3\"}", "UTF-8"},
		{"trailing data", `{"type":"indicator","id":"a"} {}`, "trailing"},
		{"truncated", `{"type":"indicator"`, "invalid JSON"},
		{"no type", `{"id":"a"}`, "type"},
		{"id not a string", `{"type":"indicator","id":5}`, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tt.in, o)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	for _, s := range []string{"2016-01-20T12:31:12Z", "2016-01-20T12:31:12.1Z", "2016-01-20T12:31:12.123456789Z"} {
		if _, err := ParseTime(s); err != nil {
			t.Errorf("ParseTime(%q): %v", s, err)
		}
	}
	for _, s := range []string{"2016-01-20T12:31:12.Z", "2016-01-20T12:31:12+00:00", "2016-01-20 12:31:12Z", "2016-02-30T12:31:12Z", "2016-01-20T12:31:12z"} {
		if _, err := ParseTime(s); err == nil {
			t.Errorf("ParseTime(%q) succeeded, want an error", s)
		}
	}
}

func TestAccessors(t *testing.T) {
	o, err := Parse([]byte(`{"type":"observed-data","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
		"created_by_ref":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff","revoked":true,"labels":["a","b"],
		"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"],
		"granular_markings":[{"marking_ref":"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9","selectors":["labels"]}],
		"object_refs":["ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"],
		"objects":{"0":{"type":"network-traffic","src_ref":"1"}},
		"extensions":{"extension-definition--fb9c968a-745b-4ade-9b25-c324172197f4":{"extension_type":"property-extension",
			"x_parts":[{"sample_ref":"file--ced31cd4-bdcb-537d-aefa-92d291bfc11d"}],"bad_ref":"not-an-id"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := o.CreatedByRef(); got != "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff" {
		t.Errorf("CreatedByRef = %q", got)
	}
	if !o.Revoked() {
		t.Error("Revoked = false")
	}
	if got := strings.Join(o.Labels(), ","); got != "a,b" {
		t.Errorf("Labels = %q", got)
	}
	if got := o.TLP(); got != TLPRed {
		t.Errorf("TLP = %v, want TLP:RED (the most restrictive of GREEN and RED)", got)
	}
	want := []string{
		"file--ced31cd4-bdcb-537d-aefa-92d291bfc11d",
		"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
		"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4",
		"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
		"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
		"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
	}
	if got := o.Refs(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Refs:\n got %q\nwant %q", got, want)
	}

	empty := &Object{Props: map[string]any{}}
	if empty.TLP() != TLPNone || empty.Labels() != nil || empty.MarkingRefs() != nil || empty.Refs() != nil || empty.Revoked() {
		t.Error("accessors of an object without those properties are not empty")
	}
}

func TestNewValidates(t *testing.T) {
	// Objects built in Go use Go's types: float64 and int, []string.
	o, err := New(map[string]any{
		"type": "sighting", "spec_version": "2.1", "id": "sighting--ee20065d-2555-424f-ad9e-0f8428623c75",
		"created": "2016-04-06T20:08:31.000Z", "modified": "2016-04-06T20:08:31.000Z",
		"sighting_of_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "count": float64(3), "confidence": 80,
		"where_sighted_refs": []string{"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(o); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if _, err := New(map[string]any{"id": "x"}); err == nil {
		t.Error("New accepted an object without a type")
	}
	var se *Error
	if _, err := New(map[string]any{"type": "x", "id": 1}); !errors.As(err, &se) || se.Path != "id" {
		t.Errorf("New error = %v, want an *Error at id", err)
	}
}
