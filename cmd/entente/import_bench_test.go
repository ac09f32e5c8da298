package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/entente/entente/internal/proctest"
	"github.com/entente/entente/misp"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

const (
	benchMISPEvents    = 20
	benchMISPPerEvent  = 1000
	benchMISPAttrTotal = benchMISPEvents * benchMISPPerEvent
)

// benchMISPEvent is a MISP event file with n attributes of the common
// types, three in five with to_ids set.
func benchMISPEvent(ev, n int) []byte {
	b := fmt.Appendf(nil, `{"Event":{"uuid":"%08x-0000-4000-8000-000000000000","info":"bench %d","date":"2024-01-01","timestamp":"1704067200","distribution":"1","Orgc":{"uuid":"55f6ea5e-2c60-40e5-964f-47a8950d210f","name":"Bench"},"Tag":[{"name":"tlp:amber"}],"Attribute":[`, ev, ev)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		var typ, val string
		switch i % 5 {
		case 0:
			typ, val = "ip-dst", fmt.Sprintf("10.%d.%d.%d", ev&0xff, i>>8&0xff, i&0xff)
		case 1:
			typ, val = "domain", fmt.Sprintf("h%d-%d.bench.example", ev, i)
		case 2:
			typ, val = "sha256", fmt.Sprintf("%032x%032x", ev, i)
		case 3:
			typ, val = "url", fmt.Sprintf("https://h%d.bench.example/p/%d", ev, i)
		case 4:
			typ, val = "md5", fmt.Sprintf("%016x%016x", ev, i)
		}
		b = fmt.Appendf(b, `{"uuid":"%08x-%04x-4000-8000-%012x","type":%q,"category":"Network activity","value":%q,"to_ids":%t,"timestamp":"1704067200"}`,
			ev, i>>16, i, typ, val, i%5 < 3)
	}
	return append(b, "]}}"...)
}

// initDataDir initializes a node's data directory as serve does.
func initDataDir(b *testing.B) string {
	dir := b.TempDir()
	ctx := context.Background()
	if err := node.PrepareDataDir(dir); err != nil {
		b.Fatal(err)
	}
	if _, err := loadOrCreateKey(dir); err != nil {
		b.Fatal(err)
	}
	st, err := openStore(ctx, dir, "", true)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := node.Initialize(ctx, st, time.Now()); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkMISPImport imports a MISP feed of 20,000 attributes with entente
// import misp, and, as the baseline, gives the node the very STIX objects
// the import makes of them, in the same batches, through the same ingest
// (AddObjects: validation, store, ledger), each into a fresh data
// directory, alternately. attributes/s is the import's rate;
// ingest-attributes/s is the rate at which the node alone stores the STIX
// form of the same attributes; ratio is the first over the second. map-
// attributes/s is the decoding and mapping alone. import-cpu-µs/attribute
// and ingest-cpu-µs/attribute are the process's processor time per
// attribute in each: on a shared machine they say what the work costs
// when the rates say mostly what the other processes took.
func BenchmarkMISPImport(b *testing.B) {
	skipUnlessBenchmarking(b)
	// The feed is cut in rounds of a few events; baseline, mapping and
	// import alternate round by round, so that whatever else the machine
	// does weighs on all three alike.
	const perRound = 5
	type round struct {
		feed  string
		files [][]byte
		objs  []json.RawMessage
	}
	var rounds []round
	for first := 0; first < benchMISPEvents; first += perRound {
		r := round{feed: b.TempDir()}
		var events []misp.Event
		for ev := first; ev < min(first+perRound, benchMISPEvents); ev++ {
			data := benchMISPEvent(ev, benchMISPPerEvent)
			e, err := misp.DecodeEvent(data)
			if err != nil {
				b.Fatal(err)
			}
			events = append(events, *e)
			r.files = append(r.files, data)
			os.WriteFile(filepath.Join(r.feed, e.UUID+".json"), data, 0o644)
			res, err := misp.ToSTIX(e, misp.Options{})
			if err != nil {
				b.Fatal(err)
			}
			r.objs = append(r.objs, res.Objects...)
		}
		os.WriteFile(filepath.Join(r.feed, "manifest.json"), misp.Manifest(events), 0o644)
		rounds = append(rounds, r)
	}

	var importTime, ingestTime, mapTime, importCPU, ingestCPU time.Duration
	objects := 0
	ctx := context.Background()
	caller := &taxii.Caller{Name: importAccount, Role: string(store.RoleAdmin)}
	for range b.N {
		b.StopTimer()
		ingestDir, importDir := initDataDir(b), initDataDir(b)
		st, err := openStore(ctx, ingestDir, "", false)
		if err != nil {
			b.Fatal(err)
		}
		n, err := node.New(ctx, node.Config{Store: st})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for _, r := range rounds {
			// The baseline: the node's ingest of the mapped objects.
			t, cpu := time.Now(), proctest.CPUTime()
			for i := 0; i < len(r.objs); i += importBatch {
				s, err := n.AddObjects(ctx, caller, "api1", node.DefaultCollectionAlias, r.objs[i:min(i+importBatch, len(r.objs))])
				if err != nil || s.FailureCount > 0 {
					b.Fatalf("ingest: %v %+v", err, s)
				}
			}
			ingestTime += time.Since(t)
			ingestCPU += proctest.CPUTime() - cpu
			objects += len(r.objs)

			// Mapping alone.
			t = time.Now()
			for _, data := range r.files {
				e, err := misp.DecodeEvent(data)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := misp.ToSTIX(e, misp.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			mapTime += time.Since(t)

			// The import, reading the feed from disk.
			t, cpu = time.Now(), proctest.CPUTime()
			stdout, stderr, code := execEntente(b, "import", "misp", "--data", importDir, "--collection", "default", r.feed)
			importTime += time.Since(t)
			importCPU += proctest.CPUTime() - cpu
			if code != 0 {
				b.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
			}
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	attrs := float64(b.N * benchMISPAttrTotal)
	b.ReportMetric(attrs/importTime.Seconds(), "attributes/s")
	b.ReportMetric(attrs/ingestTime.Seconds(), "ingest-attributes/s")
	b.ReportMetric(float64(objects)/ingestTime.Seconds(), "ingest-objects/s")
	b.ReportMetric(attrs/mapTime.Seconds(), "map-attributes/s")
	b.ReportMetric(ingestTime.Seconds()/importTime.Seconds(), "ratio")
	b.ReportMetric(float64(importCPU.Microseconds())/attrs, "import-cpu-µs/attribute")
	b.ReportMetric(float64(ingestCPU.Microseconds())/attrs, "ingest-cpu-µs/attribute")
}
