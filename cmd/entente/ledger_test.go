package main

import (
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
	"github.com/entente/entente/taxii"
)

// ledgerNode runs a node, adds objects through TAXII in several envelopes
// with a checkpoint between some of them, stops it (which signs a last
// checkpoint) and returns its data directory.
func ledgerNode(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	n := startServe(t, dir, "--checkpoint-interval", "1ms")
	c, err := taxii.NewClient(n.base+"/", taxii.ClientOptions{Token: n.adminToken, HTTPClient: n.client})
	if err != nil {
		t.Fatal(err)
	}
	for env := range 4 {
		objs := []json.RawMessage{stixIndicator(3*env, "2024-01-01T00:00:00.000Z"), stixIndicator(3*env+1, "2024-01-01T00:00:00.000Z"), stixIndicator(3*env+2, "2024-01-01T00:00:00.000Z")}
		if env == 0 {
			objs = append(objs, malware)
		}
		if _, err := c.AddObjects(t.Context(), node.DefaultAPIRoot, node.DefaultCollectionAlias, objs); err != nil {
			t.Fatal(err)
		}
	}
	// A duplicate and a new version of one object.
	if _, err := c.AddObjects(t.Context(), node.DefaultAPIRoot, node.DefaultCollectionAlias,
		[]json.RawMessage{stixIndicator(1, "2024-01-01T00:00:00.000Z"), stixIndicator(1, "2024-03-01T00:00:00.000Z")}); err != nil {
		t.Fatal(err)
	}
	n.stop()
	code := <-n.done
	n.done <- code // for the cleanup, which waits for serve too
	if code != 0 {
		t.Fatalf("serve exited with %d: %s", code, n.stderr.String())
	} // for the cleanup, which waits for serve too
	return dir
}

// copyDir copies a data directory's files, so each tamper case starts from
// the same node.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(filepath.Join(dst, e.Name()), os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// tamper runs SQL statements straight on a data directory's database, as
// someone with the file could.
func tamper(t *testing.T, dir string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestLedgerVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node; skipped under -short")
	}
	dir := ledgerNode(t)
	code, stdout, stderr := runCmd(t, "ledger", "verify", "--data", dir)
	if code != 0 {
		t.Fatalf("ledger verify of an untouched node: exit %d\n%s%s", code, stdout, stderr)
	}
	// The node's key, then 13 objects, then one new version: 15 entries.
	if !strings.Contains(stdout, "ok: 15 entries") || !strings.Contains(stdout, "14 object versions") {
		t.Errorf("ledger verify says %q; want 15 entries and 14 object versions", stdout)
	}

	// Each case alters the database as someone with the file could, and
	// verify must name the entry.
	cases := []struct {
		name  string
		sql   []string
		first string // the first problem verify names
	}{
		{"object bytes changed", []string{
			`UPDATE objects SET raw = CAST(replace(CAST(raw AS TEXT), '198.51.100.', '203.0.113.') AS BLOB)
				WHERE seq = (SELECT object FROM ledger_entries WHERE idx = 5)`,
		}, "entry 5: records indicator--"},
		{"entry row deleted", []string{`DELETE FROM ledger_entries WHERE idx = 7`}, "entry 7: is missing"},
		{"two entries reordered", []string{
			`CREATE TEMP TABLE swap AS SELECT * FROM ledger_entries WHERE idx IN (3, 8)`,
			`UPDATE ledger_entries SET (salt, entry, concerns, object) =
				(SELECT salt, entry, concerns, object FROM swap WHERE swap.idx = 11 - ledger_entries.idx) WHERE idx IN (3, 8)`,
		}, "entry 3: does not match the log's stored hashes"},
		{"log truncated", []string{
			`DELETE FROM ledger_entries WHERE idx >= 10`,
			`UPDATE ledger_state SET size = 10`,
		}, "entry 10: checkpoint "}, // 15, or an earlier one beyond 10
		{"log truncated, size kept", []string{`DELETE FROM ledger_entries WHERE idx >= 12`}, "entry 12: is missing"},
		{"stored hash changed", []string{
			`UPDATE ledger_entries SET hashes = zeroblob(length(hashes)) WHERE idx = 6`,
		}, "entry 6: does not match the log's stored hashes"},
		{"entry bytes changed", []string{
			`UPDATE ledger_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'indicator', 'indicatoR') AS BLOB) WHERE idx = 9`,
		}, "entry 9: "},
		{"checkpoint forged", []string{
			`UPDATE ledger_checkpoints SET note = CAST(replace(CAST(note AS TEXT), char(10) || '15' || char(10), char(10) || '16' || char(10)) AS BLOB) WHERE size = 15`,
		}, "checkpoint 15: its signature does not verify"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := copyDir(t, dir)
			tamper(t, d, tc.sql...)
			code, stdout, stderr := runCmd(t, "ledger", "verify", "--data", d)
			if code != 1 {
				t.Fatalf("ledger verify after %s: exit %d, want 1\n%s%s", tc.name, code, stdout, stderr)
			}
			if first, _, _ := strings.Cut(stdout, "\n"); !strings.HasPrefix(first, tc.first) {
				t.Errorf("ledger verify after %s names first:\n%s\nwant %q\nall:\n%s", tc.name, first, tc.first, stdout)
			}
			if !strings.Contains(stderr, "the first: "+tc.first) {
				t.Errorf("stderr %q does not name the first problem", stderr)
			}
		})
	}

	t.Run("usage", func(t *testing.T) {
		if code, _, stderr := runCmd(t, "ledger", "verify", "--data", t.TempDir()); code != 2 || !strings.Contains(stderr, "node key") {
			t.Errorf("ledger verify of an empty directory: exit %d, %q; want 2 naming the node key", code, stderr)
		}
		if code, _, _ := runCmd(t, "ledger", "frob"); code != 2 {
			t.Errorf("ledger frob: exit %d, want 2", code)
		}
	})
}

func TestLedgerShowProveCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node; skipped under -short")
	}
	dir := ledgerNode(t)
	code, stdout, stderr := runCmd(t, "ledger", "show", "--data", dir, "--from", "13")
	if code != 0 {
		t.Fatalf("ledger show: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "13\toriginated\tindicator--") || !strings.Contains(lines[2], indicatorID(1)+"@2024-03-01T00:00:00.000Z") {
		t.Errorf("ledger show --from 13:\n%s\nwant a header, entry 13 and entry 14 (the new version of indicator 1)", stdout)
	}

	code, proof, stderr := runCmd(t, "ledger", "prove", "--data", dir, malwareID)
	if code != 0 {
		t.Fatalf("ledger prove: exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(proof, "c2sp.org/tlog-proof@v1\n") || !strings.Contains(stderr, "originated\t"+malwareID+"@") {
		t.Errorf("ledger prove printed\n%s\nand on stderr\n%s", proof, stderr)
	}
	key, err := os.ReadFile(filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	k, err := node.ParseKey(string(key))
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = execEntenteInput(t, proof, "ledger", "check", "--key", k.VerifierKey)
	if code != 0 || !strings.Contains(stdout, "ok: entry 4 of "+k.Name+"/ledger at size 15") || !strings.Contains(stdout, malwareID) {
		t.Fatalf("ledger check of the proof: exit %d\n%s%s", code, stdout, stderr)
	}
	// The checkpoint the proof carries, held apart, pins it.
	cpFile := filepath.Join(t.TempDir(), "checkpoint")
	_, cp, _ := strings.Cut(proof, "\n\n")
	if err := os.WriteFile(cpFile, []byte(cp), 0o600); err != nil {
		t.Fatal(err)
	}
	proofFile := filepath.Join(t.TempDir(), "proof")
	if err := os.WriteFile(proofFile, []byte(proof), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runCmd(t, "ledger", "check", "--key", k.VerifierKey, "--checkpoint", cpFile, "--proof", proofFile, "--origin", k.Name+"/ledger"); code != 0 {
		t.Errorf("ledger check --checkpoint: exit %d\n%s%s", code, stdout, stderr)
	}

	// Altered by one character, or checked with another key or log name,
	// the proof fails.
	other, _ := node.GenerateKey("other.example")
	ok, _ := node.ParseKey(other)
	altered := strings.Replace(proof, "index 4\n", "index 3\n", 1)
	for name, args := range map[string][]string{
		"altered index": {"--key", k.VerifierKey},
		"other key":     {"--key", ok.VerifierKey},
		"other origin":  {"--key", k.VerifierKey, "--origin", "other.example/ledger"},
	} {
		in := proof
		if name == "altered index" {
			in = altered
		}
		if _, stderr, code := execEntenteInput(t, in, append([]string{"ledger", "check"}, args...)...); code != 1 {
			t.Errorf("ledger check, %s: exit %d, want 1: %s", name, code, stderr)
		}
	}
	// With the agreement, the node's key is the one the parties signed:
	// this node is not arcadia-node-1, so its proof does not hold.
	if _, stderr, code := execEntenteInput(t, proof, "ledger", "check", "--agreement", exampleAgreementFile, "--node", "arcadia-node-1"); code != 1 || !strings.Contains(stderr, "does not hold") {
		t.Errorf("ledger check with another node's key from the agreement: exit %d, %q; want 1", code, stderr)
	}
	if _, stderr, code := execEntenteInput(t, proof, "ledger", "check", "--agreement", exampleAgreementFile, "--node", "nobody"); code != 2 || !strings.Contains(stderr, "arcadia-node-1") {
		t.Errorf("ledger check with an unknown node: exit %d, %q; want 2 listing the nodes", code, stderr)
	}
	if code, _, _ := runCmd(t, "ledger", "check"); code != 2 {
		t.Errorf("ledger check without a key: exit %d, want 2", code)
	}
	if code, _, stderr := runCmd(t, "ledger", "prove", "--data", dir, "malware--00000000-0000-4000-8000-000000000000"); code != 1 || !strings.Contains(stderr, "no stored object") {
		t.Errorf("ledger prove of an unknown object: exit %d, %q", code, stderr)
	}
}

// TestLedgerCheckWitnessPolicy checks proofs with the agreement's witness
// policy: a's checkpoints are final only once its witness b cosigned
// them, while --key, for a node without an agreement, needs only a's
// signature.
func TestLedgerCheckWitnessPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two nodes")
	}
	a := newPartnerNode(t, "arcadia-node-1", "arcadia", "cti.cert.arcadia.example/ledger")
	b := newPartnerNode(t, "borealis-node-1", "borealis", "taxii.cyber.borealis.example/ledger")
	file := witnessAgreement(t, a, b)
	a.start(t, file)
	a.add(t, 0, 3)
	prove := func() string {
		t.Helper()
		var proof string
		waitFor(t, "a proof of the indicator", func() bool {
			var code int
			code, proof, _ = runCmd(t, "ledger", "prove", "--data", a.dir, indicatorID(2))
			return code == 0
		})
		return proof
	}
	byAgreement := []string{"ledger", "check", "--agreement", file, "--node", a.id}

	// b does not run yet: a's checkpoint carries no cosignature.
	proof := prove()
	if _, stderr, code := execEntenteInput(t, proof, byAgreement...); code != 1 || !strings.Contains(stderr, "0 of the 1 witness cosignatures needed") {
		t.Errorf("ledger check of an uncosigned proof with the agreement: exit %d, %q; want 1, not final", code, stderr)
	}
	if stdout, stderr, code := execEntenteInput(t, proof, "ledger", "check", "--key", a.key.VerifierKey, "--origin", a.origin); code != 0 || !strings.Contains(stdout, indicatorID(2)) {
		t.Errorf("ledger check --key of an uncosigned proof: exit %d, %s%s; want 0", code, stdout, stderr)
	}

	// Asked for a proof a partner relies on, a refuses while no
	// checkpoint is cosigned.
	proveFinal := []string{"ledger", "prove", "--data", a.dir, "--agreement", file, "--node", a.id, indicatorID(2)}
	if code, _, stderr := runCmd(t, proveFinal...); code != 1 || !strings.Contains(stderr, "cosigned by enough witnesses") {
		t.Errorf("ledger prove --agreement before any cosignature: exit %d, %q; want 1, not cosigned", code, stderr)
	}

	b.start(t, file)
	a.cosignedBy(t, b, 5) // a's key and agreement, and 3 indicators
	proof = prove()
	stdout, stderr, code := execEntenteInput(t, proof, byAgreement...)
	if code != 0 || !strings.Contains(stdout, "ok: entry ") || !strings.Contains(stdout, " of "+a.origin+" at size ") ||
		!strings.Contains(stdout, "cosigned by at least 1 of its 1 witnesses") || !strings.Contains(stdout, indicatorID(2)) {
		t.Fatalf("ledger check of a cosigned proof with the agreement: exit %d\n%s%s", code, stdout, stderr)
	}

	// Once b is gone, a's newer checkpoints go uncosigned; a proof for a
	// partner is still against the newest cosigned one.
	b.stop(t)
	a.add(t, 3, 2)
	waitFor(t, "a checkpoint of size 7", func() bool {
		code, out, _ := runCmd(t, "ledger", "verify", "--data", a.dir)
		return code == 0 && strings.Contains(out, "size 7")
	})
	if code, _, _ := runCmd(t, "ledger", "prove", "--data", a.dir, indicatorID(4)); code != 0 {
		t.Fatalf("ledger prove of the newest indicator: exit %d", code)
	}
	if _, stderr, code := execEntenteInput(t, prove(), byAgreement...); code != 1 {
		t.Errorf("ledger check of a proof against the newest, uncosigned checkpoint: exit %d, %q; want 1", code, stderr)
	}
	code, final, stderr := runCmd(t, proveFinal...)
	if code != 0 {
		t.Fatalf("ledger prove --agreement with a cosigned checkpoint of size 5: exit %d, %s", code, stderr)
	}
	if stdout, stderr, code := execEntenteInput(t, final, byAgreement...); code != 0 || !strings.Contains(stdout, " at size 5") {
		t.Errorf("ledger check of the proof against the cosigned checkpoint: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := runCmd(t, "ledger", "prove", "--data", a.dir, "--agreement", file, "--node", a.id, indicatorID(4)); code != 1 || !strings.Contains(stderr, "cosigned by enough witnesses") {
		t.Errorf("ledger prove --agreement of an entry past the cosigned checkpoint: exit %d, %q; want 1", code, stderr)
	}

	// Without b's cosignature line, the same proof is not final.
	wKey, err := ledger.NewCosignatureVerifier(b.key.WitnessVerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	var stripped []string
	for _, l := range strings.SplitAfter(proof, "\n") {
		if !strings.HasPrefix(l, "— "+wKey.Name()+" ") {
			stripped = append(stripped, l)
		}
	}
	if strings.Join(stripped, "") == proof {
		t.Fatalf("the proof holds no cosignature of %s:\n%s", wKey.Name(), proof)
	}
	if _, stderr, code := execEntenteInput(t, strings.Join(stripped, ""), byAgreement...); code != 1 || !strings.Contains(stderr, "not final") && !strings.Contains(stderr, "cosignatures needed") {
		t.Errorf("ledger check without the witness's cosignature: exit %d, %q; want 1", code, stderr)
	}
	// The log name is the agreement's: --origin goes with --key only, and
	// another node's log does not hold the proof.
	if _, stderr, code := execEntenteInput(t, proof, append(byAgreement, "--origin", a.origin)...); code != 2 || !strings.Contains(stderr, "--origin goes with --key") {
		t.Errorf("ledger check --agreement --origin: exit %d, %q; want 2", code, stderr)
	}
	if _, stderr, code := execEntenteInput(t, proof, "ledger", "check", "--agreement", file, "--node", b.id); code != 1 || !strings.Contains(stderr, "does not hold") {
		t.Errorf("ledger check against the other node: exit %d, %q; want 1", code, stderr)
	}
}
