package store

import (
	"cmp"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/entente/entente/stix"
)

// Incoming is an object to add, with what a backend can compute before
// taking its write lock.
type Incoming struct {
	Obj       *stix.Object
	Versioned bool
	// Version is the version as the object states it; the backend sets it
	// from date_added when !Versioned.
	Version     string
	Key         string // VersionKey of Version
	SpecVersion string // the object's, or DefaultSpecVersion
	Hash        []byte
	// Beside the version, as the Put gives them; Provenance is nil when
	// the version has none.
	Provenance          []byte
	FromParty, FromNode string
	// Err is why the object cannot be added; it fails alone.
	Err error
}

// PrepareAll hashes objs and prepares them (Prepare) before a backend's
// write lock is taken. The work is CPU-bound and independent per object,
// so large batches are spread over the CPUs. An object without a
// canonical form fails alone. check is as for Prepare.
func PrepareAll(objs []*stix.Object, check func(Put) error) []Incoming {
	ins := make([]Incoming, len(objs))
	workers := min(runtime.GOMAXPROCS(0), 1+len(objs)/256)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(objs); i += workers {
				if objs[i] == nil {
					ins[i] = Incoming{Err: errors.New("nil object")}
					continue
				}
				p, err := NewPut(objs[i])
				if err != nil {
					ins[i] = Incoming{Obj: objs[i], Err: err}
					continue
				}
				ins[i] = Prepare(p, check)
			}
		})
	}
	wg.Wait()
	return ins
}

// Prepare checks p's object for a type, an id and a valid version, then
// with check (nil for none: what the backend cannot store beyond that),
// and computes its version key.
func Prepare(p Put, check func(Put) error) Incoming {
	o := p.Object
	if o == nil {
		return Incoming{Err: errors.New("nil object")}
	}
	in := Incoming{Obj: o, SpecVersion: cmp.Or(o.SpecVersion, DefaultSpecVersion), Hash: p.Hash[:],
		Provenance: p.Provenance, FromParty: p.FromParty, FromNode: p.FromNode}
	if len(in.Provenance) == 0 {
		in.Provenance = nil // stored as NULL: a version without provenance
	}
	if o.ID == "" || o.Type == "" {
		in.Err = fmt.Errorf("object %q: an object needs a type and an id", o.ID)
		return in
	}
	if check != nil {
		if err := check(p); err != nil {
			in.Err = err
			return in
		}
	}
	if v := o.Version(); v != "" {
		t, err := stix.ParseTime(v)
		if err != nil {
			in.Err = fmt.Errorf("object %s: version: %w", o.ID, err)
			return in
		}
		in.Versioned, in.Version, in.Key = true, v, VersionKey(t)
	}
	return in
}
