package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
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
func (f *fedNet) createRandom(r *rand.Rand, count, offset int) []fedObject {
	f.t.Helper()
	return f.createRandomOn(r, count, offset, f.order)
}

// createRandomOn creates count random objects on random nodes of the
// given parties and returns them.
func (f *fedNet) createRandomOn(r *rand.Rand, count, offset int, parties []string) []fedObject {
	f.t.Helper()
	byParty := map[string][]json.RawMessage{}
	var objs []fedObject
	for i := range count {
		p := parties[r.IntN(len(parties))]
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
func (f *fedNet) converged(objs []fedObject, timeout time.Duration) {
	t := f.t
	t.Helper()
	want := oracle(f.agreement, objs)
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
func (f *fedNet) differences(want map[string]map[string]bool, objs []fedObject) []string {
	var problems []string
	for _, p := range f.order {
		n := f.nodes[p]
		held, err := n.holdings(f.t)
		if err != nil {
			return []string{fmt.Sprintf("%s: %v", n.id, err)}
		}
		ids := held
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

// fedSize returns how many random objects a federation test creates per
// round, and in how many rounds: a few by default, many with
// ENTENTE_HEAVY=1.
func fedSize() (perRound, rounds int) {
	if heavy() {
		return 300, 4
	}
	return 24, 2
}

// fedTimeout bounds the wait for convergence.
const fedTimeout = 90 * time.Second

// TestFederationProperty is the property test of federation: random
// objects, of random types, TLP 2.0 markings (or none) and labels, are
// created on random nodes of the trilateral example; after convergence
// every node holds exactly what the oracle, written from the agreement's
// rules alone, says it may hold, each version once, and every ledger
// verifies and is cosigned by both partners.
func TestFederationProperty(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three nodes")
	}
	f := newFederation(t)
	f.startAll()
	r := rand.New(rand.NewPCG(fedSeed(t), 1))
	per, rounds := fedSize()
	var objs []fedObject
	for range rounds {
		objs = append(objs, f.createRandom(r, per, len(objs))...)
		f.converged(objs, fedTimeout)
	}
	f.verifyLedgers()
}

// TestFederationKill9 kills a receiving node with SIGKILL while it pulls,
// restarts it, and checks that the federation still converges exactly:
// nothing lost, nothing stored twice.
func TestFederationKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills node processes")
	}
	f := newFederation(t)
	f.startAll()
	r := rand.New(rand.NewPCG(fedSeed(t), 2))
	per, rounds := fedSize()
	b := f.nodes["borealis"]
	var objs []fedObject
	for round := range rounds {
		objs = append(objs, f.createRandom(r, per*4, len(objs))...)
		// Kill as soon as the node has received something of this round.
		f.waitReceived(b, objs[len(objs)-per*4:], 30*time.Second)
		f.kill(b)
		t.Logf("round %d: killed %s holding %d of the %d objects it may hold", round, b.id, f.heldOffline(b, objs), len(oracle(f.agreement, objs)[b.party]))
		if round == 0 {
			// The others carry on while it is down.
			objs = append(objs, f.createRandomOn(r, per, len(objs), []string{"arcadia", "caledonia"})...)
		}
		f.start(b)
		f.converged(objs, fedTimeout)
	}
	f.verifyLedgers()
}

// heldOffline counts the objects of objs that the stopped node n holds,
// read from its database.
func (f *fedNet) heldOffline(n *fedNode, objs []fedObject) int {
	f.t.Helper()
	st, err := openStore(context.Background(), n.dir, false)
	if err != nil {
		f.t.Fatal(err)
	}
	defer st.Close()
	cols, err := st.Collections(context.Background(), node.DefaultAPIRoot)
	if err != nil {
		f.t.Fatal(err)
	}
	count := 0
	for _, o := range objs {
		p, err := st.Objects(context.Background(), store.Query{Collection: cols[0].ID, IDs: []string{o.ID}, Versions: store.VersionFilter{All: true}, Limit: 1, WithoutContent: true})
		if err != nil {
			f.t.Fatal(err)
		}
		count += len(p.Objects)
	}
	return count
}

// waitReceived waits until n holds at least one of objs that another node
// created.
func (f *fedNet) waitReceived(n *fedNode, objs []fedObject, timeout time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		held, err := n.holdings(f.t)
		if err == nil {
			for _, o := range objs {
				if o.Origin != n.party && held[o.ID] > 0 {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%s received nothing within %v: %v\n%s", n.id, timeout, err, n.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFederationPartition cuts the link between Arcadia and Borealis, in
// both directions, with a proxy the test owns, creates objects on every
// node during the partition, heals it, and checks exact convergence.
func TestFederationPartition(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three nodes")
	}
	f := newFederation(t)
	a, b := f.nodes["arcadia"], f.nodes["borealis"]
	ab, ba := newFaultProxy(t, b.addr), newFaultProxy(t, a.addr)
	a.partnerURLs[b.id] = "https://" + ab.Addr() + "/taxii2/"
	b.partnerURLs[a.id] = "https://" + ba.Addr() + "/taxii2/"
	f.startAll()
	r := rand.New(rand.NewPCG(fedSeed(t), 3))
	per, _ := fedSize()
	objs := f.createRandom(r, per, 0)
	f.converged(objs, fedTimeout)

	ab.partition()
	ba.partition()
	objs = append(objs, f.createRandom(r, per*2, len(objs))...)
	// While cut, the links keep trying (and are refused).
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, refusedAB := ab.counts()
		_, refusedBA := ba.counts()
		if refusedAB > 0 && refusedBA > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the links did not try to cross the partition within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	ab.heal()
	ba.heal()
	f.converged(objs, fedTimeout)
	f.verifyLedgers()
}

// TestFederationClockSkew runs Arcadia's node ten minutes fast and
// Caledonia's ten minutes slow (the ENTENTE_CLOCK_OFFSET test hook) and
// checks exact convergence: cursors follow each partner's own date_added,
// so a skewed clock must neither lose nor repeat anything.
func TestFederationClockSkew(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three nodes")
	}
	f := newFederation(t)
	f.nodes["arcadia"].env = []string{clockOffsetEnv + "=10m"}
	f.nodes["caledonia"].env = []string{clockOffsetEnv + "=-10m"}
	f.startAll()
	r := rand.New(rand.NewPCG(fedSeed(t), 4))
	per, rounds := fedSize()
	var objs []fedObject
	for range rounds {
		objs = append(objs, f.createRandom(r, per, len(objs))...)
		f.converged(objs, fedTimeout)
	}
	f.verifyLedgers()
}

// TestFederationColdRestart stops a node, lets the others take in new
// objects, and restarts it with nothing in memory: it resumes from its
// durable cursors. Then it restarts all three at once, and checks exact
// convergence after each.
func TestFederationColdRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three nodes")
	}
	f := newFederation(t)
	f.startAll()
	r := rand.New(rand.NewPCG(fedSeed(t), 5))
	per, _ := fedSize()
	objs := f.createRandom(r, per, 0)
	f.converged(objs, fedTimeout)

	c := f.nodes["caledonia"]
	f.stop(c)
	for _, p := range []string{"arcadia", "borealis"} {
		var batch []json.RawMessage
		for i := range per {
			o := randomObject(r, p, len(objs)+i)
			objs = append(objs, o)
			batch = append(batch, o.Raw)
		}
		f.nodes[p].add(t, batch)
	}
	f.start(c)
	f.converged(objs, fedTimeout)

	for _, p := range f.order {
		f.stop(f.nodes[p])
	}
	f.startAll()
	objs = append(objs, f.createRandom(r, per, len(objs))...)
	f.converged(objs, fedTimeout)
	f.verifyLedgers()
}

// verifyLedgers runs entente ledger verify on every node's data directory.
func (f *fedNet) verifyLedgers() {
	f.t.Helper()
	for _, p := range f.order {
		n := f.nodes[p]
		if _, stderr, code := execEntente(f.t, "ledger", "verify", "--data", n.dir); code != 0 {
			f.t.Errorf("%s: ledger verify exited with %d: %s", n.id, code, stderr)
		}
	}
}
