package taxii_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/entente/entente/taxii"
)

// FuzzRequest sends arbitrary requests to a Server over the Fake: whatever
// the method, target, Content-Type and body, the answer carries the TAXII
// Content-Type, is never a 5xx, and every error has an error resource.
func FuzzRequest(f *testing.F) {
	w := newWorld(f, taxii.Config{})
	srv := taxii.NewServer(w.fake, taxii.Config{TokenKey: testKey})
	objects := objectsPath(collID)
	f.Add("GET", objects+"?match[type]=indicator&limit=1", "", "")
	f.Add("GET", objects+indicatorID+"/versions/?match[spec_version]=2.1", "", "")
	f.Add("POST", objects, taxii.MediaType, `{"objects":[{"type":"malware","id":"`+malwareID+`"}]}`)
	f.Add("POST", objects, "application/taxii+json", `{"objects":[1,{}]}`)
	f.Add("DELETE", objects+indicatorID+"/?match[version]=first", "", "")
	f.Add("GET", "/api1/status/x/", "", "")
	f.Add("PUT", "/taxii2/", "", "")
	f.Fuzz(func(t *testing.T, method, target, contentType, body string) {
		req, err := http.NewRequest(method, "http://node.example"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer admin-token")
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if ct := rec.Header().Get("Content-Type"); ct != taxii.MediaType {
			t.Fatalf("%s %q: Content-Type %q", method, target, ct)
		}
		if rec.Code >= 500 {
			t.Fatalf("%s %q: %d %s", method, target, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var e taxii.Error
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Title == "" || e.HTTPStatus != strconv.Itoa(rec.Code) {
				t.Fatalf("%s %q: %d with body %q", method, target, rec.Code, rec.Body)
			}
		} else if rec.Body.Len() > 0 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %q: %d with invalid JSON %q", method, target, rec.Code, rec.Body)
		}
	})
}
