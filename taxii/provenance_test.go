package taxii_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/entente/entente/taxii"
)

// TestProvenanceRoundTrip posts objects with provenance records beside
// them and reads them back: the records come back aligned with the
// objects, and an envelope in which no object has one carries no
// x_entente_provenance at all.
func TestProvenanceRoundTrip(t *testing.T) {
	w := newWorld(t, taxii.Config{})
	c := w.client(t, "root", "admin-token")
	const (
		a = `{"type":"malware","spec_version":"2.1","id":"malware--6b616fc1-1505-48e3-8b2c-0d19337bff38","created":"2024-04-01T00:00:00.000Z","modified":"2024-04-01T00:00:00.000Z","name":"a","is_family":false}`
		b = `{"type":"malware","spec_version":"2.1","id":"malware--6b616fc1-1505-48e3-8b2c-0d19337bff39","created":"2024-04-01T00:00:00.000Z","modified":"2024-04-01T00:00:00.000Z","name":"b","is_family":false}`
		p = `{"origin":{"node":"arcadia-cert","digest":"sha256:00","sig":"AA=="}}`
	)
	st, err := c.AddEnvelope(t.Context(), root, restrictedID, &taxii.Envelope{
		Objects:    []json.RawMessage{json.RawMessage(a), json.RawMessage(b)},
		Provenance: []json.RawMessage{json.RawMessage(p), nil},
	})
	must(t, err)
	if st.SuccessCount != 2 {
		t.Fatalf("status %+v, want 2 successes", st)
	}
	env, _, err := c.Objects(t.Context(), root, restrictedID, taxii.Query{})
	must(t, err)
	var got []string
	for i, o := range env.Objects {
		got = append(got, idVersion(o)+" "+string(env.Provenance[i]))
	}
	want := []string{malwareID + "@2024-01-05 ", "malware--6b616fc1-1505-48e3-8b2c-0d19337bff38@2024-04-01 " + p, "malware--6b616fc1-1505-48e3-8b2c-0d19337bff39@2024-04-01 "}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("objects with provenance:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	one, _, err := c.Object(t.Context(), root, restrictedID, "malware--6b616fc1-1505-48e3-8b2c-0d19337bff38", taxii.Query{})
	must(t, err)
	if len(one.Provenance) != 1 || string(one.Provenance[0]) != p {
		t.Errorf("Object: provenance %q, want [%s]", one.Provenance, p)
	}

	// A plain client reading the same collection sees a conformant
	// envelope: its objects unchanged, the records in a custom property.
	r := w.do(t, request{method: "GET", path: "/" + root + "/collections/" + restrictedID + "/objects/"})
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"x_entente_provenance":[null,`+p+`,null]`) || !strings.Contains(string(r.body), a) {
		t.Errorf("GET objects: %d %s", r.status, r.body)
	}
	// Without provenance anywhere, the property is left out.
	r = w.do(t, request{method: "GET", path: "/" + root + "/collections/" + collID + "/objects/"})
	if r.status != http.StatusOK || strings.Contains(string(r.body), "x_entente_provenance") {
		t.Errorf("GET objects of a collection without provenance: %d %s", r.status, r.body)
	}
	plain, _, err := c.Objects(t.Context(), root, collID, taxii.Query{})
	must(t, err)
	if plain.Provenance != nil {
		t.Errorf("Objects without provenance: %q, want nil", plain.Provenance)
	}
	// Nor does a manifest carry any.
	r = w.do(t, request{method: "GET", path: "/" + root + "/collections/" + restrictedID + "/manifest/"})
	if r.status != http.StatusOK || strings.Contains(string(r.body), "x_entente_provenance") {
		t.Errorf("GET manifest: %d %s", r.status, r.body)
	}

	// A misaligned list is the client's mistake: 422, nothing stored.
	bad := `{"objects":[` + a + `],"x_entente_provenance":[null,null]}`
	r = w.do(t, request{method: "POST", path: "/" + root + "/collections/" + restrictedID + "/objects/", body: bad})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "x_entente_provenance") {
		t.Errorf("POST with 2 records for 1 object: %d %s, want 422 naming the property", r.status, r.body)
	}
	if _, err := c.AddEnvelope(t.Context(), root, restrictedID, &taxii.Envelope{
		Objects: []json.RawMessage{json.RawMessage(a)}, Provenance: []json.RawMessage{json.RawMessage(p), json.RawMessage(p)},
	}); err == nil {
		t.Error("AddEnvelope sent 2 records for 1 object")
	}
}

// TestClientRefusesMisalignedProvenance: a server whose records do not
// line up with its objects breaks the protocol, and the client says so
// rather than attribute a signature to the wrong object.
func TestClientRefusesMisalignedProvenance(t *testing.T) {
	for _, body := range []string{
		`{"objects":[{"type":"x","id":"x--1"}],"x_entente_provenance":[null,null]}`,
		`{"objects":[{"type":"x","id":"x--1"}],"x_entente_provenance":["sig"]}`,
		`{"objects":[{"type":"x","id":"x--1"}],"x_entente_provenance":[]}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", taxii.MediaType)
			w.Write([]byte(body))
		}))
		c, err := taxii.NewClient(srv.URL, taxii.ClientOptions{})
		must(t, err)
		if _, _, err := c.Objects(t.Context(), "api1", collID, taxii.Query{}); !errors.Is(err, taxii.ErrBadResponse) {
			t.Errorf("%s: %v, want ErrBadResponse", body, err)
		}
		srv.Close()
	}
}
