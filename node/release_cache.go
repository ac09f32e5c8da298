package node

import (
	"encoding/json"
	"sync"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/policy"
	"github.com/entente/entente/store"
)

// Bounds of the release caches. Each empties when full: they only spare
// work, so losing them costs time, never correctness.
const (
	maxCachedDecisions   = 1 << 15
	maxCachedDisclosures = 1 << 16
)

// releaseCache spares a partner's repeated reads the work whose answer
// cannot have changed: decisions that depended on the object alone, and
// disclosures known to be recorded (the store never removes one).
type releaseCache struct {
	mu          sync.Mutex
	decisions   map[decisionKey]cachedDecision
	disclosures map[store.Disclosure]struct{} // Ledger zero
}

// decisionKey is what a decision that consulted neither Lookup nor
// Released depends on: policy.Decide is pure, so the same agreement
// version, recipient, origin and content give the same decision.
type decisionKey struct {
	fed          *federation
	to           policy.Recipient
	receivedFrom string
	hash         [32]byte
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

// recorded reports whether d is known to be recorded.
func (c *releaseCache) recorded(d store.Disclosure) bool {
	d.Ledger = 0
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.disclosures[d]
	return ok
}

// putRecorded remembers that ds are recorded.
func (c *releaseCache) putRecorded(ds []store.Disclosure) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range ds {
		if c.disclosures == nil || len(c.disclosures) >= maxCachedDisclosures {
			c.disclosures = make(map[store.Disclosure]struct{})
		}
		d.Ledger = 0
		c.disclosures[d] = struct{}{}
	}
}
