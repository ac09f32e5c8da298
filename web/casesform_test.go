package web

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/entente/entente/casework"
)

// TestCaseFormsHaveExactlyTheFields: each type's form asks for exactly
// the members casework.ParseFields reads for it (and the recipient), no
// more and no fewer.
func TestCaseFormsHaveExactlyTheFields(t *testing.T) {
	e := newEnv(t)
	u := &Session{p: e.console.printer()}
	structs := map[casework.Type]any{
		casework.TypeIncident: casework.Incident{}, casework.TypeAssistance: casework.Assistance{},
		casework.TypePreservation: casework.Preservation{}, casework.TypeConsultation: casework.Consultation{},
		casework.TypeReachability: casework.Reachability{}, casework.TypeDeclaration: casework.Declaration{},
	}
	for _, typ := range casework.Types {
		var want []string
		rt := reflect.TypeOf(structs[typ])
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if name == "observable_refs" {
				name = "observables" // given as a bundle; ParseFields takes the ids from it
			}
			want = append(want, name)
		}
		fs, ok := e.console.openFields(u, typ)
		if !ok {
			t.Fatal("no agreement")
		}
		var got []string
		for _, f := range fs {
			if f.Name != "to" {
				got = append(got, f.Name)
			}
			if f.Label == "" || f.ID == "" {
				t.Errorf("%s: field %s has no label or id", typ, f.Name)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the form asks for %v, casework reads %v", typ, got, want)
		}
	}
}

// FuzzCaseForm: whatever a form posts, building the fields' JSON and
// parsing it neither panics nor lets through a type other than the
// form's.
func FuzzCaseForm(f *testing.F) {
	f.Add("incident-notification", "stage=early-warning&category=intrusions&severity=high&sectors=energy&detected=2026-11-28T09:30&summary=x&requested_actions=block-indicators")
	f.Add("preservation-request", "requesting_authority=arcadia-police&period_days=90&intends_mla_request=1&offence=fraud")
	f.Add("ci-declaration", "asns=64500&asns=x&cidrs=192.0.2.0/24")
	f.Add("incident-notification", `observables={"type":"bundle","id":"bundle--1","objects":[]}&detected=2026-13-01T00:00`)
	f.Add("consultation", "proposed=2027-01-01T10:00:00Z&level=diplomatic&scheduled=on&related_case_refs=a,%20b")
	e := newEnv(f)
	u := &Session{p: e.console.printer()}
	f.Fuzz(func(t *testing.T, typeName, query string) {
		typ, ok := casework.ParseType(typeName)
		if !ok {
			return
		}
		form, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		fs, _ := e.console.openFields(u, typ)
		data, fe := fieldsJSON(typ, fs, form)
		if fe != nil {
			if fe.Field == "" || fe.Msg == "" {
				t.Fatalf("an error that names nothing: %+v", fe)
			}
			return
		}
		fields, _, err := casework.ParseFields(typ, data)
		if err != nil {
			return
		}
		if reflect.TypeOf(fields) != reflect.TypeOf(mustFields(t, typ)) {
			t.Fatalf("a %s form gave %T", typ, fields)
		}
	})
}

func mustFields(t *testing.T, typ casework.Type) casework.Fields {
	f, _, err := casework.ParseFields(typ, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}
