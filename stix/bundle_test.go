package stix

import (
	"errors"
	"slices"
	"testing"
)

func TestBundle(t *testing.T) {
	valid := `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
		{"type":"ipv4-addr","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.3"},
		{"type":"identity","spec_version":"2.1","id":"identity--e5f1b90a-d9b6-40ab-81a9-8a29df4b6b65","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","name":"ACME Widget, Inc.","x_custom":true}]}`
	b, err := ParseBundle([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if len(b.Objects) != 2 || b.ID != "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d" {
		t.Errorf("bundle = %+v", b)
	}
	if string(b.Objects[1].Raw) != `{"type":"identity","spec_version":"2.1","id":"identity--e5f1b90a-d9b6-40ab-81a9-8a29df4b6b65","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","name":"ACME Widget, Inc.","x_custom":true}` {
		t.Errorf("object JSON changed: %s", b.Objects[1].Raw)
	}
}

func TestBundleValidate(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty bundle", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}`, nil},
		{"wrong type", `{"type":"bundel","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}`, []string{"type (bundle)"}},
		{"wrong id", `{"type":"bundle","id":"report--5d0092c5-5f74-4287-9642-33f4c354e56d"}`, []string{"id (id-format)"}},
		{"empty objects", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[]}`, []string{"objects (empty-list)"}},
		{"object paths", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
			{"type":"ipv4-addr","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.3"},
			{"type":"ipv4-addr","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.3"},
			{"type":"ipv4-addr","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.3"},
			{"type":"identity","spec_version":"2.1","id":"identity--e5f1b90a-d9b6-40ab-81a9-8a29df4b6b65","created":"2016-04-06T20:03:48Z","modified":"2016-04-06T20:03:48.000Z","name":"ACME"}]}`,
			[]string{"objects[3].created (timestamp-precision)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ParseBundle([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := violations(b.Validate()); !slices.Equal(got, tt.want) {
				t.Errorf("violations = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseBundleRejects(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"objects not a list", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":{}}`, []string{"objects (type)"}},
		{"elements not objects", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[1,{"type":"x-a"},{"id":"x"}]}`,
			[]string{"objects[0] (object)", "objects[1].id (required)", "objects[2].type (required)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBundle([]byte(tt.in))
			if got := violations(err); !slices.Equal(got, tt.want) {
				t.Errorf("violations = %q, want %q", got, tt.want)
			}
		})
	}
	for _, in := range []string{``, `[]`, `{"type":"bundle","type":"bundle"}`, `{"type":`} {
		_, err := ParseBundle([]byte(in))
		var es Errors
		if err == nil || errors.As(err, &es) {
			t.Errorf("ParseBundle(%q) = %v, want a JSON error", in, err)
		}
	}
}
