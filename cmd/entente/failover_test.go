package main

import (
	"bufio"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/entente/entente/store/postgres"
	"github.com/entente/entente/store/postgres/pgtest"
)

// signer is a serve process of TestFailover; elected is set once it logs
// that it signs the ledger's checkpoints.
type signer struct {
	*child
	out     *bufio.Scanner
	elected atomic.Bool
	tokens  atomic.Int64 // admin tokens shown
}

func startSigner(t *testing.T, dir, db string, first bool) *signer {
	t.Helper()
	s := launchSigner(t, dir, db)
	s.await(t, first)
	return s
}

// launchSigner starts a serve process of TestFailover; await waits until
// it serves.
func launchSigner(t *testing.T, dir, db string) *signer {
	t.Helper()
	cmd := childCommand([]string{"serve", "--data", dir, "--store", db,
		"--addr", "127.0.0.1:0", "--plain-http", "--metrics-addr", "off", "--checkpoint-interval", "20ms", "--log-level", "info"})
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errs, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &signer{child: &child{cmd: cmd}, out: bufio.NewScanner(out)}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	go func() {
		lines := bufio.NewScanner(errs)
		for lines.Scan() {
			if strings.Contains(lines.Text(), "elected: this process signs") {
				s.elected.Store(true)
			}
		}
	}()
	return s
}

// await reads the process's banner until its URL and, on a first start,
// its admin token; later lines are read on and tokens counted.
func (s *signer) await(t *testing.T, first bool) {
	t.Helper()
	for s.out.Scan() {
		line := s.out.Text()
		if v, ok := strings.CutPrefix(line, "url: "); ok {
			s.base = strings.TrimSuffix(v, "/taxii2/")
		}
		if v, ok := strings.CutPrefix(line, "admin token: "); ok {
			s.token = v
			s.tokens.Add(1)
		}
		if s.base != "" && (!first || s.token != "") {
			break
		}
	}
	if s.base == "" || first && s.token == "" {
		t.Fatal("a serve process printed no URL or token")
	}
	go func() {
		for s.out.Scan() {
			if strings.HasPrefix(s.out.Text(), "admin token: ") {
				s.tokens.Add(1)
			}
		}
	}()
}

// Three processes start at once on an empty database: they migrate and
// initialize it once between them, one shows the admin token, all serve.
func TestServePostgresTogether(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node processes; skipped under -short")
	}
	db := pgtest.URL(t)
	dir := t.TempDir()
	// The key is made first: processes on several machines share one.
	if _, err := createKey(filepath.Join(dir, keyFile)); err != nil {
		t.Fatal(err)
	}
	var procs []*signer
	for range 3 {
		procs = append(procs, launchSigner(t, dir, db))
	}
	for _, p := range procs {
		p.await(t, false)
	}
	time.Sleep(500 * time.Millisecond) // for the banners' last lines
	var tokens int64
	for _, p := range procs {
		tokens += p.tokens.Load()
	}
	if tokens != 1 {
		t.Errorf("%d processes showed an admin token; want one", tokens)
	}
}

// TestFailover runs three serve processes of one node on one PostgreSQL
// database under a load of envelopes sent to all three, kills the one that
// signs checkpoints with SIGKILL, and checks that another takes over within
// seconds, that every acknowledged object is stored with its ledger entry,
// and that every checkpoint verifies and is consistent with the last.
func TestFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills node processes; skipped under -short")
	}
	db := pgtest.URL(t)
	dir := t.TempDir()
	procs := []*signer{startSigner(t, dir, db, true)}
	token := procs[0].token
	for range 2 {
		procs = append(procs, startSigner(t, dir, db, false))
	}
	leader := func() *signer {
		for _, p := range procs {
			if p.elected.Load() {
				return p
			}
		}
		return nil
	}
	waitFor := func(what string, cond func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !cond() {
			if time.Since(start) > 30*time.Second {
				t.Fatalf("%s: not within 30s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
		return time.Since(start)
	}
	elected := func() int {
		n := 0
		for _, p := range procs {
			if p.elected.Load() {
				n++
			}
		}
		return n
	}
	waitFor("a process is elected to sign checkpoints", func() bool { return leader() != nil })

	var (
		mu    sync.Mutex
		acked []string
		alive = make([]atomic.Bool, len(procs))
	)
	for i := range alive {
		alive[i].Store(true)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	const clients, perEnvelope = 6, 20
	for cl := range clients {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// Each client goes round the processes that live.
				k := (cl + i) % len(procs)
				if !alive[k].Load() {
					continue
				}
				objs := make([]json.RawMessage, perEnvelope)
				ids := make([]string, perEnvelope)
				for j := range objs {
					n := cl<<20 | i<<8 | j
					objs[j], ids[j] = stixIndicator(n, "2024-01-01T00:00:00.000Z"), indicatorID(n)
				}
				if procs[k].post(token, objs) {
					mu.Lock()
					acked = append(acked, ids...)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(time.Second)
	if n := elected(); n != 1 {
		t.Fatalf("%d processes sign checkpoints; want one", n)
	}
	old := leader()
	for i, p := range procs {
		if p == old {
			alive[i].Store(false)
		}
	}
	if err := old.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	old.cmd.Wait()
	old.elected.Store(false)
	took := waitFor("another process takes over signing", func() bool { return leader() != nil })
	t.Logf("another process took over signing %v after the kill", took.Round(10*time.Millisecond))
	time.Sleep(time.Second) // more load under the new signer
	if n := elected(); n != 1 {
		t.Errorf("after the failover, %d processes sign checkpoints; want one", n)
	}
	close(stop)
	wg.Wait()

	st, err := postgres.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The new signer signs what was written since the last checkpoint.
	waitFor("the latest checkpoint covers the log", func() bool {
		size, err := st.LedgerSize(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		cp, err := st.LatestCheckpoint(t.Context())
		return err == nil && cp.Size == size
	})
	for _, p := range procs {
		if p != old {
			p.cmd.Process.Signal(syscall.SIGTERM)
			if err := p.cmd.Wait(); err != nil {
				t.Errorf("serve after SIGTERM: %v", err)
			}
		}
	}
	checkLedgerAfterKill(t, st, acked, true)
	if len(acked) == 0 {
		t.Fatal("no envelope was acknowledged")
	}
	if code, stdout, stderr := runCmd(t, "ledger", "verify", "--data", dir, "--store", db); code != 0 {
		t.Errorf("ledger verify after the failover: exit %d\n%s%s", code, stdout, stderr)
	} else {
		t.Log(strings.TrimSpace(stdout))
	}
}
