package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/entente/entente/taxii"
)

// send makes a TAXII request with a bearer token and returns the status
// and body.
func (n *runningNode) send(t testing.TB, method, path, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, n.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", taxii.MediaType)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", taxii.MediaType)
	}
	resp, err := n.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := runCmd(t, args...)
	if code != 0 {
		t.Fatalf("entente %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// TestCollectionGrants runs a node over HTTPS and changes grants with the
// command line while it serves: a reader once read a collection created
// as "secret", and an analyst could delete from any collection.
func TestCollectionGrants(t *testing.T) {
	n := startServe(t, t.TempDir())
	secret := lastLine(mustRun(t, "collection", "add", "--data", n.dir, "Secret", "--alias", "secret"))
	rita := lastLine(mustRun(t, "user", "add", "--data", n.dir, "rita", "--role", "reader"))
	ana := lastLine(mustRun(t, "user", "add", "--data", n.dir, "ana", "--role", "analyst"))
	admin := n.adminToken
	const objects = "/api1/collections/secret/objects/"
	env := `{"objects":[` + string(malware) + `]}`
	if code, body := n.send(t, "POST", objects, admin, env); code != http.StatusAccepted {
		t.Fatalf("admin POST to secret = %d %s", code, body)
	}
	expect := func(who, method, path, token, body string, want int) string {
		t.Helper()
		code, got := n.send(t, method, path, token, body)
		if code != want {
			t.Errorf("%s %s %s = %d %s; want %d", who, method, path, code, got, want)
		}
		return got
	}

	// The admin needs no grant; new accounts have none.
	expect("admin", "GET", objects, admin, "", 200)
	for who, tok := range map[string]string{"rita": rita, "ana": ana} {
		if body := expect(who, "GET", "/api1/collections/", tok, "", 200); body != "{}" {
			t.Errorf("%s lists %s; want no collection", who, body)
		}
		expect(who, "GET", objects, tok, "", 404)
		expect(who, "GET", "/api1/collections/default/manifest/", tok, "", 404)
		expect(who, "DELETE", objects+malwareID+"/", tok, "", 404)
	}

	// A reader given the default collection sees it alone, and the secret
	// collection answers as one that does not exist.
	mustRun(t, "user", "grant", "--data", n.dir, "rita", "default", "read")
	body := expect("rita", "GET", "/api1/collections/", rita, "", 200)
	var cols taxii.Collections
	if err := json.Unmarshal([]byte(body), &cols); err != nil || len(cols.Collections) != 1 ||
		cols.Collections[0].Alias != "default" || !cols.Collections[0].CanRead || cols.Collections[0].CanWrite {
		t.Errorf("rita lists %s; want the default collection alone, can_read only", body)
	}
	expect("rita", "GET", "/api1/collections/default/objects/", rita, "", 200)
	for _, path := range []string{"/api1/collections/secret/", objects, objects + malwareID + "/", objects + malwareID + "/versions/", "/api1/collections/" + secret + "/manifest/"} {
		hidden := expect("rita", "GET", path, rita, "", 404)
		absentPath := strings.NewReplacer("secret", "absent", secret, "absent").Replace(path)
		_, absent := n.send(t, "GET", absentPath, rita, "")
		if strings.NewReplacer("secret", "absent", secret, "absent").Replace(hidden) != absent {
			t.Errorf("GET %s answers\n%s\nbut a collection that does not exist answers\n%s", path, hidden, absent)
		}
	}
	expect("rita", "POST", "/api1/collections/default/objects/", rita, env, 403)

	// An analyst who may read the secret collection but not write it can
	// neither add nor delete there.
	mustRun(t, "user", "grant", "--data", n.dir, "ana", secret, "read")
	expect("ana", "GET", objects, ana, "", 200)
	expect("ana", "DELETE", objects+malwareID+"/", ana, "", 403)
	expect("ana", "POST", objects, ana, env, 403)
	mustRun(t, "user", "grant", "--data", n.dir, "ana", "secret", "write")
	if body := expect("ana", "GET", "/api1/collections/secret/", ana, "", 200); !strings.Contains(body, `"can_read":true,"can_write":true`) {
		t.Errorf("ana's view of secret: %s", body)
	}
	expect("ana", "DELETE", objects+malwareID+"/", ana, "", 200)

	// Revocations apply to the next request.
	mustRun(t, "user", "revoke", "--data", n.dir, "rita", "default", "read")
	expect("rita", "GET", "/api1/collections/default/objects/", rita, "", 404)
	mustRun(t, "user", "revoke", "--data", n.dir, "ana", secret, "write")
	expect("ana", "POST", objects, ana, env, 403)
}

func TestUserGrantCommand(t *testing.T) {
	n := startServe(t, t.TempDir())
	mustRun(t, "user", "add", "--data", n.dir, "rita", "--role", "reader")
	mustRun(t, "user", "add", "--data", n.dir, "ana", "--role", "analyst")

	// Repeating a grant or a revocation is no error.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"grant", "--data", n.dir, "rita", "default", "read"}, `granted read on collection "Default collection"`},
		{[]string{"grant", "--data", n.dir, "rita", "default", "read"}, "holds read on collection"},
		{[]string{"revoke", "--data", n.dir, "rita", "default", "read"}, "revoked read"},
		{[]string{"revoke", "--data", n.dir, "rita", "default", "read"}, "did not hold read"},
	} {
		if out := mustRun(t, append([]string{"user"}, tt.args...)...); !strings.Contains(out, tt.want) {
			t.Errorf("user %s: %q; want %q", strings.Join(tt.args, " "), out, tt.want)
		}
	}

	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown account", []string{"grant", "--data", n.dir, "bob", "default", "read"}, 1, "no account named \"bob\"; create one with 'entente user add --data " + n.dir + " bob"},
		{"unknown collection", []string{"grant", "--data", n.dir, "rita", "nope", "read"}, 1, `no collection has the id or alias "nope"; the collections are: default (`},
		{"admin", []string{"grant", "--data", n.dir, "admin", "default", "read"}, 1, "admin account, which may read and write every collection"},
		{"reader writes", []string{"grant", "--data", n.dir, "rita", "default", "write"}, 1, "readers never write"},
		{"bad right", []string{"grant", "--data", n.dir, "ana", "default", "delete"}, 2, `the right "delete" is not read or write`},
		{"bad name", []string{"revoke", "--data", n.dir, "a:b", "default", "read"}, 2, "not allowed"},
		{"missing right", []string{"grant", "--data", n.dir, "ana", "default"}, 2, "missing read|write"},
		{"missing collection", []string{"revoke", "--data", n.dir, "ana"}, 2, "missing COLLECTION and read|write"},
		{"no node", []string{"grant", "--data", t.TempDir(), "ana", "default", "read"}, 1, "entente serve --data"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, append([]string{"user"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}
