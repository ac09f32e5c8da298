package node

import (
	"encoding/json"
	"sync"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/policy"
)

// Bounds of the release caches. Each empties when full: they only spare
// work, so losing them costs time, never correctness.
const (
	maxCachedDecisions   = 1 << 15
	maxCachedDisclosures = 1 << 16
)

// releaseCache spares a partner's repeated reads the work whose answer
// cannot have changed. Both caches name a version by its sequence number:
// a stored version's content never changes, and a new one gets a new
// number. They are per agreement version, since an amendment may decide
// otherwise.
type releaseCache struct {
	mu sync.Mutex
	// decisions holds the decisions that depended on the version alone.
	decisions map[decisionKey]cachedDecision
	// recorded holds the disclosures known to be recorded: the store
	// never removes one, and what a version's release sends (so its
	// digest) depends only on the agreement version, the recipient node
	// and the version.
	recorded map[recordedKey]struct{}
}

// decisionKey is what a decision that consulted neither Lookup nor
// Released depends on: policy.Decide is pure, so the same agreement
// version, recipient, origin and content give the same decision.
type decisionKey struct {
	fed          *federation
	to           policy.Recipient
	receivedFrom string
	seq          int64
}

// recordedKey names the disclosure of a stored version to a partner node.
type recordedKey struct {
	fed  *federation
	node string
	seq  int64
}

// cachedDecision is a decision and, for a redaction, what goes out.
type cachedDecision struct {
	decision   policy.Decision
	raw        []byte // the redacted copy; nil unless Redact
	digest     ledger.Digest
	provenance json.RawMessage
}

func (c *releaseCache) decision(k decisionKey) (cachedDecision, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.decisions[k]
	return d, ok
}

func (c *releaseCache) putDecision(k decisionKey, d cachedDecision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.decisions == nil || len(c.decisions) >= maxCachedDecisions {
		c.decisions = make(map[decisionKey]cachedDecision)
	}
	c.decisions[k] = d
}

// isRecorded reports whether k is known to be recorded.
func (c *releaseCache) isRecorded(k recordedKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.recorded[k]
	return ok
}

// putRecorded remembers that k is recorded.
func (c *releaseCache) putRecorded(k recordedKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recorded == nil || len(c.recorded) >= maxCachedDisclosures {
		c.recorded = make(map[recordedKey]struct{})
	}
	c.recorded[k] = struct{}{}
}
