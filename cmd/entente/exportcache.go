package main

import (
	"container/list"
	"sync"
	"time"

	"github.com/entente/entente/export"
	"github.com/entente/entente/node"
	"github.com/entente/entente/taxii"
)

// The export cache's bounds. Bodies count alike whether they sit in memory
// (up to exportSpoolLimit each) or in spool files.
const (
	exportCacheEntries = 32
	exportCacheBytes   = 1 << 30
)

// exportCache keeps rendered exports, so that a sensor fetching an export
// that has not changed costs the node a probe (node.ReadState) rather than
// an export. An entry is reused only for the same request (caller, API
// root, collection as named, format, hash, body or report) while the
// probe returns the state the entry was rendered at and the clock is
// before the entry's Until (export.Report.Until). It is bounded by entries
// and by bytes and drops the least recently used first; a dropped body's
// spool file is removed once no answer is still sending it.
type exportCache struct {
	maxEntries int
	maxBytes   int64

	mu    sync.Mutex
	lru   list.List // of *cachedExport, the most recently used first
	byKey map[exportKey]*list.Element
	bytes int64 // the bodies of the entries held
}

// exportKey is what a request asks for. The caller is taken whole (name,
// role, party, node), so that no caller is ever given a body rendered for
// another; the collection is named as the request named it, since the
// body names its source so.
type exportKey struct {
	caller     taxii.Caller
	root       string
	collection string
	format     export.Format
	hash       string
	report     bool
}

// cachedExport is a rendered export, or its report, and what it was
// rendered from.
type cachedExport struct {
	key   exportKey
	state node.ReadState
	until time.Time // zero: time alone does not change it
	body  *spool
	etag  string
	// contentType and notExported are the answer's headers.
	contentType string
	notExported int

	users   int  // answers sending the body now
	dropped bool // out of the cache: the last user closes the body
	elem    *list.Element
}

func newExportCache(maxEntries int, maxBytes int64) *exportCache {
	return &exportCache{maxEntries: maxEntries, maxBytes: maxBytes, byKey: map[exportKey]*list.Element{}}
}

// get returns the entry for k if it was rendered at state and now is
// before its Until, held for the caller, who must release it. An entry
// that no longer holds is dropped.
func (c *exportCache) get(k exportKey, state node.ReadState, now time.Time) *cachedExport {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[k]
	if !ok {
		return nil
	}
	e := el.Value.(*cachedExport)
	if !e.state.Equal(state) || !e.until.IsZero() && !now.Before(e.until) {
		c.drop(e)
		return nil
	}
	c.lru.MoveToFront(el)
	e.users++
	return e
}

// put adds e, held by its caller, who must release it, in place of any
// entry of its key, and drops the least recently used entries beyond the
// bounds. An entry larger than the byte bound is not kept.
func (c *exportCache) put(e *cachedExport) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.users++
	if e.body.size > c.maxBytes {
		e.dropped = true
		return
	}
	if el, ok := c.byKey[e.key]; ok {
		c.drop(el.Value.(*cachedExport))
	}
	e.elem = c.lru.PushFront(e)
	c.byKey[e.key] = e.elem
	c.bytes += e.body.size
	for c.lru.Len() > c.maxEntries || c.bytes > c.maxBytes {
		c.drop(c.lru.Back().Value.(*cachedExport))
	}
}

// release ends a use of e that get or put began.
func (c *exportCache) release(e *cachedExport) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.users--
	if e.dropped && e.users == 0 {
		e.body.Close()
	}
}

// drop takes e out of the cache, closing its body unless it is in use.
func (c *exportCache) drop(e *cachedExport) {
	if e.dropped {
		return
	}
	e.dropped = true
	c.lru.Remove(e.elem)
	delete(c.byKey, e.key)
	c.bytes -= e.body.size
	if e.users == 0 {
		e.body.Close()
	}
}

// close drops every entry, removing their spool files (those in use are
// removed when their answers end).
func (c *exportCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.lru.Len() > 0 {
		c.drop(c.lru.Front().Value.(*cachedExport))
	}
}

// stats returns the number of entries held and their bytes.
func (c *exportCache) stats() (entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.bytes
}
