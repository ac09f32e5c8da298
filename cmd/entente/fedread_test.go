package main

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/entente/entente/node"
	"github.com/entente/entente/taxii"
)

// TestPartnerReadsWhatPolicyExplainSays reads Arcadia's node as
// Borealis's node would, with a plain TAXII client over mutual TLS, and
// checks that it sees exactly the objects `entente policy explain` allows
// for Borealis, through every endpoint that lists objects; and that a
// collection Arcadia did not share is refused as missing and discloses
// nothing.
func TestPartnerReadsWhatPolicyExplainSays(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node")
	}
	f := newFederation(t)
	a, b := f.nodes["arcadia"], f.nodes["borealis"]
	f.start(a)
	r := rand.New(rand.NewPCG(fedSeed(t), 6))
	var raws []json.RawMessage
	for i := range 40 {
		raws = append(raws, randomObject(r, "arcadia", i).Raw)
	}
	a.add(t, raws)
	code, out, stderr := runCmd(t, "collection", "add", "--data", a.dir, "Not shared", "--alias", "private")
	if code != 0 {
		t.Fatalf("collection add: %s", stderr)
	}
	private := lastLine(out)
	hiddenRaw := liarIndicator(1000, "clear")
	st, err := a.taxii(t).AddObjects(t.Context(), node.DefaultAPIRoot, private, []json.RawMessage{hiddenRaw})
	if err != nil || st.SuccessCount != 1 {
		t.Fatalf("AddObjects: %+v, %v", st, err)
	}

	// What policy explain allows.
	bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--6b0b0d21-3d4b-4b1a-9a3e-6a9d0c1b2a3f", "objects": raws})
	file := filepath.Join(t.TempDir(), "bundle.json")
	if err := os.WriteFile(file, bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, _ := execEntente(t, "policy", "explain", "--agreement", f.file, "--as", "arcadia", "--to", "borealis", file)
	var want []string
	for _, m := range regexp.MustCompile(`(?m)^(\S+--\S+): (ALLOW|REDACT)$`).FindAllStringSubmatch(stdout, -1) {
		want = append(want, m[1])
	}
	slices.Sort(want)
	if len(want) == 0 || len(want) == len(raws) {
		t.Fatalf("policy explain allows %d of %d objects; the test wants some of each (a new seed will do):\n%s", len(want), len(raws), stdout)
	}

	c, err := taxii.NewClient(a.base+"/", taxii.ClientOptions{HTTPClient: peerClient(t, b.key, a.key.VerifierKey)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	cols, err := c.Collections(ctx, node.DefaultAPIRoot)
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) != 1 || cols[0].Alias != "default" {
		t.Fatalf("Borealis sees collections %+v; want only the shared default", cols)
	}
	var objects, manifest []string
	for raw, err := range c.AllObjects(ctx, node.DefaultAPIRoot, cols[0].ID, taxii.Query{Limit: 7}) {
		if err != nil {
			t.Fatal(err)
		}
		objects = append(objects, objectID(t, raw))
	}
	for rec, err := range c.AllManifest(ctx, node.DefaultAPIRoot, cols[0].ID, taxii.Query{Limit: 5}) {
		if err != nil {
			t.Fatal(err)
		}
		manifest = append(manifest, rec.ID)
	}
	slices.Sort(objects)
	slices.Sort(manifest)
	if !slices.Equal(objects, want) || !slices.Equal(manifest, want) {
		t.Errorf("Borealis reads\n objects  %v\n manifest %v\npolicy explain allows\n          %v", objects, manifest, want)
	}
	for _, raw := range raws {
		id := objectID(t, raw)
		env, _, err := c.Object(ctx, node.DefaultAPIRoot, cols[0].ID, id, taxii.Query{})
		allowed := slices.Contains(want, id)
		switch {
		case allowed && (err != nil || len(env.Objects) != 1):
			t.Errorf("GET object %s: %v; policy explain allows it", id, err)
		case !allowed && err == nil && len(env.Objects) > 0:
			t.Errorf("GET object %s returned it; policy explain denies it", id)
		}
	}

	// The collection that was not shared answers as a missing one does.
	_, _, err = c.Objects(ctx, node.DefaultAPIRoot, private, taxii.Query{})
	var re *taxii.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
		t.Errorf("reading the unshared collection: %v; want a TAXII 404", err)
	}
	if _, err := c.AddObjects(ctx, node.DefaultAPIRoot, private, []json.RawMessage{liarIndicator(1001, "clear")}); err == nil {
		t.Error("Borealis wrote into a collection not shared with it")
	}
	st2, err := openStore(context.Background(), a.dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	ds, err := st2.Disclosures(ctx, "borealis", []string{objectID(t, hiddenRaw)})
	if err != nil || len(ds) != 0 {
		t.Errorf("disclosures of the unshared object: %+v, %v; want none", ds, err)
	}
	ds, err = st2.Disclosures(ctx, "borealis", want)
	if err != nil || len(ds) != len(want) {
		t.Errorf("%d disclosures recorded for the %d objects read, %v; want one each", len(ds), len(want), err)
	}
}
