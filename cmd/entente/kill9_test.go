package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/store/sqlite"
	"github.com/entente/entente/taxii"
)

// child is a serve process of TestLedgerKill9.
type child struct {
	cmd   *exec.Cmd
	base  string
	token string
}

func startChild(t *testing.T, dir string, first bool) *child {
	t.Helper()
	cmd := childCommand([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0",
		"--plain-http", "--metrics-addr", "off", "--checkpoint-interval", "5ms", "--log-level", "warn"})
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	c := &child{cmd: cmd}
	lines := bufio.NewScanner(out)
	// The URL comes first; on a first start the admin token follows.
	for lines.Scan() {
		line := lines.Text()
		if v, ok := strings.CutPrefix(line, "url: "); ok {
			c.base = strings.TrimSuffix(v, "/taxii2/")
		}
		if v, ok := strings.CutPrefix(line, "admin token: "); ok {
			c.token = v
		}
		if c.base != "" && (!first || c.token != "") {
			break
		}
	}
	if c.base == "" || first && c.token == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the child serve printed no URL or token: %s", stderr.String())
	}
	go func() {
		for lines.Scan() {
		}
	}()
	return c
}

// post adds one envelope and reports whether the node acknowledged it.
func (c *child) post(token string, objs []json.RawMessage) bool {
	body, _ := json.Marshal(map[string]any{"objects": objs})
	req, err := http.NewRequest(http.MethodPost, c.base+"/api1/collections/default/objects/", bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Accept", taxii.MediaType)
	req.Header.Set("Content-Type", taxii.MediaType)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var s taxii.Status
	return json.NewDecoder(resp.Body).Decode(&s) == nil && resp.StatusCode == http.StatusAccepted && s.SuccessCount == len(objs)
}

// TestLedgerKill9 kills a node with SIGKILL while clients add objects,
// several times. After each restart the objects and the ledger entries
// agree one to one, every acknowledged object is stored, and every
// checkpoint, including the one signed after the restart, is consistent
// with every earlier one.
func TestLedgerKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills node processes; skipped under -short")
	}
	dir := filepath.Join(t.TempDir(), "data")
	var (
		token string
		mu    sync.Mutex
		acked []string // ids of objects the node acknowledged
	)
	const rounds, clients, perEnvelope = 3, 4, 25
	ackedSoFar := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	for round := range rounds {
		c := startChild(t, dir, round == 0)
		if round == 0 {
			token = c.token
		}
		before := ackedSoFar()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for cl := range clients {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					case <-t.Context().Done(): // the test failed while they ran
						return
					default:
					}
					objs := make([]json.RawMessage, perEnvelope)
					ids := make([]string, perEnvelope)
					for j := range objs {
						n := round<<24 | cl<<20 | i<<8 | j
						objs[j], ids[j] = stixIndicator(n, "2024-01-01T00:00:00.000Z"), indicatorID(n)
					}
					if c.post(token, objs) {
						mu.Lock()
						acked = append(acked, ids...)
						mu.Unlock()
					}
				}
			})
		}
		// The kill comes once the node has acknowledged an envelope of
		// each client in this round, so that every round has writes to
		// lose: on a loaded machine the first may take seconds. Each
		// round then lets the load run a little longer, so that the kill
		// lands at another point of a write.
		waitUntil(t, "envelopes acknowledged before the kill", func() bool { return ackedSoFar() >= before+clients*perEnvelope })
		time.Sleep(time.Duration(100*round) * time.Millisecond)
		if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		c.cmd.Wait()
		close(stop)
		wg.Wait()
		checkKilledLedger(t, dir, acked, false)
	}

	// A last start signs a checkpoint for what the killed runs wrote past
	// their last one, and stops cleanly.
	c := startChild(t, dir, false)
	waitUntil(t, "a checkpoint of the whole log after the restart", func() bool {
		size, latest := ledgerState(t, dir)
		return size > 0 && latest == size
	})
	c.cmd.Process.Signal(syscall.SIGTERM)
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
	checkKilledLedger(t, dir, acked, true)
	if code, stdout, stderr := runCmd(t, "ledger", "verify", "--data", dir); code != 0 {
		t.Errorf("ledger verify after %d kills: exit %d\n%s%s", rounds, code, stdout, stderr)
	} else {
		t.Log(strings.TrimSpace(stdout))
	}
}

func ledgerState(t *testing.T, dir string) (size, latest int64) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	size, err = st.LedgerSize(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cp, err := st.LatestCheckpoint(t.Context())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return size, cp.Size
}

// checkKilledLedger checks a killed node's store: one entry per object
// version and one object version per entry, every acknowledged object
// stored, and every checkpoint consistent with the latest (final: the
// latest covers the whole log).
func checkKilledLedger(t *testing.T, dir string, acked []string, final bool) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkLedgerAfterKill(t, st, acked, final)
}

// checkLedgerAfterKill is checkKilledLedger on an open store.
func checkLedgerAfterKill(t *testing.T, st store.Store, acked []string, final bool) {
	t.Helper()
	ctx := t.Context()
	size, err := st.LedgerSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	var objects int64
	for after := int64(0); ; {
		os, err := st.LedgerObjects(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(os) == 0 {
			break
		}
		for _, o := range os {
			after = o.Seq
			objects++
			stored[o.ID] = true
			if o.Entry < 0 {
				t.Fatalf("object %s (seq %d) has no ledger entry after a kill", o.ID, o.Seq)
			}
		}
	}
	// Besides one entry per object version, the log records the terms
	// each start found changed (the node's key, its agreement).
	keys, err := st.KeyRecords(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	agreements, err := st.AgreementRecords(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if terms := int64(len(keys) + len(agreements)); objects != size-terms {
		t.Fatalf("%d object versions and %d ledger entries (%d of them the terms) after a kill; want one to one", objects, size, terms)
	}
	for _, id := range acked {
		if !stored[id] {
			t.Fatalf("object %s was acknowledged but is not stored after a kill", id)
		}
	}
	var trees []ledger.Checkpoint
	for after := int64(0); ; {
		cs, err := st.Checkpoints(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			after = c.Size
			cp, err := node.CheckpointOf(c.Note)
			if err != nil {
				t.Fatal(err)
			}
			trees = append(trees, cp)
		}
	}
	if len(trees) == 0 {
		if final {
			t.Fatalf("no checkpoint signed (log of %d entries)", size)
		}
		return // killed before its first checkpoint
	}
	latest := trees[len(trees)-1]
	if final && latest.N != size {
		t.Errorf("the latest checkpoint is of size %d, the log of %d", latest.N, size)
	}
	r := node.HashReader(ctx, st)
	for _, old := range trees[:len(trees)-1] {
		p, err := ledger.ProveConsistency(latest.N, old.N, r)
		if err == nil {
			err = ledger.CheckConsistency(p, latest.Tree, old.Tree)
		}
		if err != nil {
			t.Fatalf("checkpoint %d is not consistent with the latest, %d: %v", old.N, latest.N, err)
		}
	}
	t.Logf("%d entries, %d objects, %d checkpoints (latest %d), %d acknowledged", size, objects, len(trees), latest.N, len(acked))
}
