package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// fedSeed returns the seed of a randomized federation test:
// ENTENTE_FED_SEED when set (to replay a failure), otherwise a fresh one.
// The test logs it.
func fedSeed(t testing.TB) uint64 {
	t.Helper()
	seed := rand.Uint64()
	if v := os.Getenv("ENTENTE_FED_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("ENTENTE_FED_SEED=%q: %v", v, err)
		}
		seed = s
	}
	t.Logf("seed %d (replay with ENTENTE_FED_SEED=%d)", seed, seed)
	return seed
}

// heavy reports whether the long federation runs are asked for.
func heavy() bool { return os.Getenv("ENTENTE_HEAVY") == "1" }

// createRandom creates count random objects on random nodes and returns
// them.
func (f *federation) createRandom(r *rand.Rand, count, offset int) []fedObject {
	f.t.Helper()
	byParty := map[string][]json.RawMessage{}
	var objs []fedObject
	for i := range count {
		p := f.order[r.IntN(len(f.order))]
		o := randomObject(r, p, offset+i)
		objs = append(objs, o)
		byParty[p] = append(byParty[p], o.Raw)
	}
	for _, p := range f.order {
		if len(byParty[p]) > 0 {
			f.nodes[p].add(f.t, byParty[p])
		}
	}
	return objs
}

// converged waits until every node holds exactly what the oracle says,
// each version once, and every node's latest checkpoint covers its whole
// ledger and is cosigned by both its partners. It fails the test with the
// differences when that does not happen within the timeout.
func (f *federation) converged(objs []fedObject, timeout time.Duration) {
	t := f.t
	t.Helper()
	want := oracle(f.agreement, objs)
	version := map[string]string{}
	for _, o := range objs {
		version[o.ID] = "2026-03-01T00:00:00Z"
	}
	deadline := time.Now().Add(timeout)
	for {
		problems := f.differences(want, objs)
		if len(problems) == 0 {
			break
		}
		if time.Now().After(deadline) {
			for _, p := range problems {
				t.Error(p)
			}
			for _, p := range f.order {
				t.Logf("%s stderr:\n%s", p, f.nodes[p].stderr.String())
			}
			t.FailNow()
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// differences lists how the nodes' holdings and ledgers differ from what
// convergence means; none when converged.
func (f *federation) differences(want map[string]map[string]bool, objs []fedObject) []string {
	var problems []string
	for _, p := range f.order {
		n := f.nodes[p]
		held, err := n.holdings(f.t)
		if err != nil {
			return []string{fmt.Sprintf("%s: %v", n.id, err)}
		}
		ids := map[string]int{}
		for k, count := range held {
			id := k[:len(k)-len(" 2026-03-01T00:00:00Z")]
			ids[id] += count
		}
		var missing, extra, dup []string
		for _, o := range objs {
			switch c := ids[o.ID]; {
			case want[p][o.ID] && c == 0:
				missing = append(missing, describe(o))
			case !want[p][o.ID] && c > 0:
				extra = append(extra, describe(o))
			case c > 1:
				dup = append(dup, describe(o))
			}
		}
		if len(ids) > len(want[p])+len(extra) {
			extra = append(extra, fmt.Sprintf("%d objects the test never created", len(ids)-len(want[p])-len(extra)))
		}
		for _, l := range []struct {
			what string
			list []string
		}{{"missing", missing}, {"extra", extra}, {"duplicated", dup}} {
			if len(l.list) > 0 {
				slices.Sort(l.list)
				problems = append(problems, fmt.Sprintf("%s: %d %s: %v", n.id, len(l.list), l.what, l.list[:min(len(l.list), 8)]))
			}
		}
		c, by, err := f.checkpoint(n)
		switch {
		case err != nil:
			problems = append(problems, err.Error())
		case len(by) != len(f.order)-1:
			problems = append(problems, fmt.Sprintf("%s: checkpoint of size %d cosigned by %v only", n.id, c.N, by))
		}
	}
	return problems
}

func describe(o fedObject) string {
	return fmt.Sprintf("%s(%s %s tlp=%q labels=%v)", o.ID[:len(o.Type)+10], o.Origin, o.Type, o.TLP, o.Labels)
}

// TestFederationWitnessing runs the trilateral example's three nodes, each
// witnessed by the two others, adds objects to each and checks that every
// ledger gets cosigned by both partners and verifies.
func TestFederationWitnessing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three nodes")
	}
	f := newFederation(t)
	f.startAll()
	r := rand.New(rand.NewPCG(fedSeed(t), 1))
	f.createRandom(r, 20, 0)
	deadline := time.Now().Add(30 * time.Second)
	for _, p := range f.order {
		n := f.nodes[p]
		for {
			c, by, err := f.checkpoint(n)
			if err == nil && len(by) == 2 && c.N > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: checkpoint %+v cosigned by %v, %v\n%s", n.id, c, by, err, n.stderr.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	f.verifyLedgers()
}

// verifyLedgers runs entente ledger verify on every node's data directory.
func (f *federation) verifyLedgers() {
	f.t.Helper()
	for _, p := range f.order {
		n := f.nodes[p]
		if _, stderr, code := execEntente(f.t, "ledger", "verify", "--data", n.dir); code != 0 {
			f.t.Errorf("%s: ledger verify exited with %d: %s", n.id, code, stderr)
		}
	}
}
