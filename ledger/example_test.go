package ledger_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"log"
	"math/rand/v2"
	"time"

	"github.com/entente/entente/ledger"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// hashes is a log's stored hashes in memory; a node keeps them in its
// store.
type hashes []tlog.Hash

func (h hashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = h[x]
	}
	return out, nil
}

// A node appends entries in a batch, signs a checkpoint, a witness cosigns
// it, and an arbiter checks a proof of one entry with only the keys and
// policy the agreement holds.
func Example() {
	nodeKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	vkey, _ := note.NewEd25519VerifierKey("node.a.example", nodeKey.Public().(ed25519.PublicKey))
	logVerifier, _ := note.NewVerifier(vkey)
	logSigner := signer{"node.a.example", logVerifier.KeyHash(), nodeKey}
	witness, _ := ledger.NewCosigner("witness.b.example", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32)),
		func() time.Time { return time.Unix(1800000000, 0) })
	salts := rand.NewChaCha8([32]byte{3}) // crypto/rand.Reader in a node

	// Append three entries in one batch, as one store transaction would.
	var stored hashes
	batch := ledger.NewBatch(0, stored)
	var openings []ledger.Opening
	for i, party := range []string{"party-b", "party-c", "party-b"} {
		e := ledger.Entry{Time: time.Unix(1800000000, 0), Event: ledger.Received{From: party,
			Object: ledger.ObjectRef{ID: fmt.Sprintf("indicator--%d", i), Version: "2027-03-01T12:00:00.000Z"}}}
		o, c, err := ledger.Commit(e, salts)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := batch.Append(c); err != nil {
			log.Fatal(err)
		}
		openings = append(openings, o)
	}
	stored = append(stored, batch.Hashes()...)

	// Sign the checkpoint; the witness adds its cosignature.
	tree, _ := batch.Tree()
	signed, _ := ledger.SignCheckpoint(ledger.Checkpoint{Origin: "a.example/ledger", Tree: tree}, logSigner)
	body := ledger.AddRequest{Old: 0, Checkpoint: signed}.Marshal()
	w := &ledger.Witness{Cosigner: witness, Logs: map[string][]note.Verifier{"a.example/ledger": {logVerifier}}, State: &state{}}
	lines, err := w.Add(context.Background(), body)
	if err != nil {
		log.Fatal(err)
	}
	cosigned, _ := ledger.AddCosignatures(signed, lines)
	fmt.Printf("%s", cosigned)

	// Prove entry 2 to an arbiter, who trusts a checkpoint cosigned by one
	// witness.
	incl, _ := ledger.ProveInclusion(tree.N, 2, stored)
	proof, _ := ledger.NewProof(openings[2], 2, incl, cosigned)
	policy, _ := ledger.NewPolicy(1, witness.VerifierKey())
	o, c, err := ledger.VerifyProof(proof.Marshal(), "a.example/ledger", logVerifier, policy)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("entry 2 of %d: %s from %s\n", c.N, o.Entry.Event.Kind(), o.Entry.Event.(ledger.Received).From)
	// Output:
	// a.example/ledger
	// 3
	// 1xkwigcmnqu+xDnwunGSIPs0d7Jde8bKOaqf8431RBM=
	//
	// — node.a.example U1jRtTenvqXoKdehXT0KudWr7tTTMOhKEIuWd/M1T1FO4CwROn6rC0yB08gj5a3ZAhaRfFoLbayq57GR+w5X9tq0KQM=
	// — witness.b.example 2VnkOAAAAABrSdIAk5s+FuYr5jR3imgaMf34co0iNvyVED4lN2btb1ZWwelSFdXYzSr4K0DMlP8uhjZYogJz2K5ahOjZzM3SXpe0CA==
	// entry 2 of 3: received from party-b
}

// signer signs notes with an Ed25519 key, as a node key does.
type signer struct {
	name string
	hash uint32
	key  ed25519.PrivateKey
}

func (s signer) Name() string                    { return s.name }
func (s signer) KeyHash() uint32                 { return s.hash }
func (s signer) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.key, msg), nil }

// state keeps a witness's latest checkpoints in memory.
type state map[string][]byte

func (s *state) Latest(_ context.Context, origin string) ([]byte, error) { return (*s)[origin], nil }

func (s *state) Swap(_ context.Context, origin string, old, next []byte) error {
	if !bytes.Equal((*s)[origin], old) {
		return ledger.ErrStateChanged
	}
	if *s == nil {
		*s = state{}
	}
	(*s)[origin] = next
	return nil
}
