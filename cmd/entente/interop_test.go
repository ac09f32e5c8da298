package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/torchwood"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/internal/proctest"
	"github.com/entente/entente/ledger"
)

// The third-party C2SP tlog-witness the interop test runs against the
// node, built from the Go module proxy.
const (
	interopWitnessModule = "filippo.io/torchwood"
	interopWitnessVer    = "v0.6.1"
	interopWitnessName   = "witness.interop.example"
)

// TestThirdPartyWitness runs litewitness, an independent C2SP
// tlog-witness (filippo.io/torchwood), as a third-party witness of a node:
// the node's submitter, unchanged, must have its checkpoints cosigned by
// it, keep the cosignatures with its checkpoints and serve them, and prove
// each new checkpoint consistent with the one the witness holds.
//
// It downloads and builds litewitness, so it runs only when asked:
//
//	ENTENTE_INTEROP=1 go test -count=1 ./cmd/entente -run TestThirdPartyWitness -v
func TestThirdPartyWitness(t *testing.T) {
	if os.Getenv("ENTENTE_INTEROP") != "1" {
		t.Skip("builds a third-party witness from the Go module proxy; run with ENTENTE_INTEROP=1 go test -count=1 ./cmd/entente -run TestThirdPartyWitness -v")
	}
	bin := t.TempDir()
	litewitness := goInstall(t, bin, interopWitnessModule+"/cmd/litewitness@"+interopWitnessVer)
	witnessctl, err := goInstallErr(t, bin, interopWitnessModule+"/cmd/witnessctl@"+interopWitnessVer)
	if err != nil {
		// witnessctl imports sigsum.org/sigsum-go, which not every
		// module proxy serves; its add-log and add-key are two SQL
		// statements, run below as it runs them.
		t.Logf("witnessctl does not build (%v); registering the log with its SQL statements instead", err)
	}

	// The witness key lives in an ssh-agent, served here on a socket of
	// its own, as litewitness asks.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sock := serveSSHAgent(t, dir, priv)
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	cosigner, err := torchwood.NewCosignatureSigner(interopWitnessName, priv)
	if err != nil {
		t.Fatal(err)
	}
	witnessKey := cosigner.Verifier().String()

	a := newPartnerNode(t, "arcadia-node-1", "arcadia", "cti.cert.arcadia.example/ledger")
	b := newPartnerNode(t, "borealis-node-1", "borealis", "taxii.cyber.borealis.example/ledger")

	// litewitness on loopback, plain HTTP (it leaves TLS to a terminator).
	db := filepath.Join(dir, "litewitness.db")
	addr := freeAddr(t)
	var lwLog proctest.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	lw := exec.CommandContext(ctx, litewitness, "-name", interopWitnessName, "-db", db, "-ssh-agent", sock,
		"-key", ssh.FingerprintSHA256(sshPub), "-listen", addr)
	lw.Stdout, lw.Stderr = &lwLog, &lwLog
	lw.Cancel = func() error { return lw.Process.Signal(os.Interrupt) }
	lw.WaitDelay = 10 * time.Second
	if err := lw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		lw.Wait()
		if t.Failed() {
			t.Logf("litewitness:\n%s", lwLog.String())
		}
	})
	waitFor(t, "litewitness to listen", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	if !strings.Contains(lwLog.String(), "vkey="+witnessKey) {
		t.Fatalf("litewitness does not print the verifier key %s:\n%s", witnessKey, lwLog.String())
	}

	// Register the node's log: its origin and its checkpoint key.
	if witnessctl != "" {
		for _, args := range [][]string{
			{"add-log", "-db", db, "-origin", a.origin},
			{"add-key", "-db", db, "-origin", a.origin, "-key", a.key.VerifierKey},
		} {
			if out, err := exec.Command(witnessctl, args...).CombinedOutput(); err != nil {
				t.Fatalf("witnessctl %s: %v\n%s", args[0], err, out)
			}
		}
	} else {
		registerLog(t, db, a.origin, a.key.VerifierKey)
	}

	// The agreement names litewitness as a third-party witness of a's
	// log, beside b, and asks for one cosignature; b does not run, so
	// only litewitness can give it.
	url := "http://" + addr + "/"
	file := editedAgreement(t, a, b, func(text string) string {
		const line = "          - node: borealis-node-1 # its witness_key, at its host under /ledger/\n"
		if strings.Count(text, line) != 1 {
			t.Fatalf("the example no longer holds %q once", line)
		}
		return strings.Replace(text, line, line+
			"          - name: Interop witness\n"+
			"            key: "+witnessKey+"\n"+
			"            url: "+url+"\n", 1)
	})
	a.start(t, file)

	a.add(t, 0, 3)
	first := thirdPartyCosigned(t, a, witnessKey, 3)
	if got := witnessHolds(t, db, a.origin); got != first.N {
		t.Errorf("litewitness holds size %d, the node serves %d", got, first.N)
	}

	// The cosignature is stored with the checkpoint: after a restart the
	// node serves it again.
	a.stop(t)
	a.start(t, file)
	if c := thirdPartyCosigned(t, a, witnessKey, first.N); c.N != first.N {
		t.Errorf("after a restart the node serves size %d cosigned, want %d", c.N, first.N)
	}

	// Grown, the log proves its new checkpoint consistent with the one
	// litewitness holds (which the restarted submitter learns from a 409).
	a.add(t, 3, 4)
	second := thirdPartyCosigned(t, a, witnessKey, first.N+4)
	if got := witnessHolds(t, db, a.origin); got != second.N {
		t.Errorf("litewitness holds size %d, the node serves %d", got, second.N)
	}
	if strings.Contains(lwLog.String(), "level=ERROR") {
		t.Errorf("litewitness logged errors:\n%s", lwLog.String())
	}
}

// thirdPartyCosigned waits until p serves a checkpoint of at least size
// with the cosignature of witnessKey, checks it with x/mod's note and the
// ledger's verifiers, and returns it.
func thirdPartyCosigned(t *testing.T, p *partnerNode, witnessKey string, size int64) ledger.Checkpoint {
	t.Helper()
	logKey, err := note.NewVerifier(p.key.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	wKey, err := ledger.NewCosignatureVerifier(witnessKey)
	if err != nil {
		t.Fatal(err)
	}
	policy, err := ledger.NewPolicy(1, witnessKey)
	if err != nil {
		t.Fatal(err)
	}
	var c ledger.Checkpoint
	var msg []byte
	waitFor(t, fmt.Sprintf("a checkpoint of size >= %d cosigned by the third party", size), func() bool {
		code, body := p.ledgerGet(t, "checkpoint")
		if code != http.StatusOK {
			return false
		}
		c, err = policy.Final(body, p.origin, logKey)
		msg = body
		return err == nil && c.N >= size
	})
	n, err := note.Open(msg, note.VerifierList(logKey, wKey))
	if err != nil {
		t.Fatalf("note.Open: %v\n%s", err, msg)
	}
	var found bool
	for _, sig := range n.Sigs {
		if sig.Name == interopWitnessName && sig.Hash == wKey.KeyHash() {
			found = true
			ts, err := torchwood.CosignatureTimestamp(sig)
			if err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Hour {
				t.Errorf("cosignature timestamp %d, %v", ts, err)
			}
		}
	}
	if !found {
		t.Fatalf("note.Open verified no signature of %s:\n%s", interopWitnessName, msg)
	}
	return c
}

// goInstall builds pkg@version into bin with go install, outside this
// module, so that go.mod is left alone, and returns the binary's path.
func goInstall(t *testing.T, bin, pkg string) string {
	t.Helper()
	path, err := goInstallErr(t, bin, pkg)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func goInstallErr(t *testing.T, bin, pkg string) (string, error) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	cmd := exec.Command(gobin, "install", pkg)
	cmd.Dir = bin
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=", "GO111MODULE=on")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %v\n%s", pkg, err, out)
	}
	name, _, _ := strings.Cut(filepath.Base(pkg), "@")
	return filepath.Join(bin, name), nil
}

// serveSSHAgent serves an ssh-agent holding key on a socket in dir until
// the test ends, and returns the socket's path.
func serveSSHAgent(t *testing.T, dir string, key ed25519.PrivateKey) string {
	t.Helper()
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				agent.ServeAgent(keyring, c)
			}()
		}
	}()
	return sock
}

// registerLog adds origin with its verifier key to litewitness's
// database, with the statements witnessctl's add-log and add-key run.
func registerLog(t *testing.T, db, origin, vkey string) {
	t.Helper()
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	empty := sha256.Sum256(nil) // RFC 6962: the hash of the empty tree
	for _, q := range []struct {
		query string
		args  []any
	}{
		{"INSERT INTO log (origin, tree_size, tree_hash) VALUES (?, 0, ?)", []any{origin, base64.StdEncoding.EncodeToString(empty[:])}},
		{"INSERT INTO key (origin, key) VALUES (?, ?)", []any{origin, vkey}},
	} {
		if _, err := conn.Exec(q.query, q.args...); err != nil {
			t.Fatalf("%s: %v", q.query, err)
		}
	}
}

// witnessHolds reads the size litewitness holds for origin from its
// database.
func witnessHolds(t *testing.T, db, origin string) int64 {
	t.Helper()
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var size int64
	if err := conn.QueryRow("SELECT tree_size FROM log WHERE origin = ?", origin).Scan(&size); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("litewitness knows no log %s", origin)
		}
		t.Fatal(err)
	}
	return size
}
