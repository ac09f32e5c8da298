package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/sync/errgroup"
	"golang.org/x/term"

	"github.com/entente/entente/misp"
	"github.com/entente/entente/node"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/stix/stix20"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// Limits of entente import.
const (
	// maxEventBytes bounds one MISP event file or STIX bundle read.
	maxEventBytes = 512 << 20
	// importBatch is the most objects given to the node at once: the
	// node's writer commits up to 20,000 objects per transaction.
	importBatch = 5000
	// importAccount is the name the node's status and ledger give the
	// objects an import stores; whoever can write the data directory acts
	// as an admin.
	importAccount = "entente-import"
)

// runImport runs "entente import misp|stix20".
func runImport(ctx context.Context, env *Env, args []string) error {
	const synopsis = "usage: entente import misp [--progress] [--skipped FILE] [--default-tlp LEVEL] --data DIR [--store URL] --collection ID SOURCE\n       entente import stix20 [--skip-invalid] --data DIR [--store URL] --collection ID FILE"
	if len(args) == 0 || args[0] != "misp" && args[0] != "stix20" {
		fmt.Fprintln(env.Stderr, synopsis)
		if len(args) == 0 {
			return usageError("missing format: misp or stix20")
		}
		return usageError("unknown format %q: want misp or stix20", args[0])
	}
	format := args[0]
	fs := flag.NewFlagSet("import "+format, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), synopsis)
		if format == "misp" {
			fmt.Fprintln(fs.Output(), "\nImports MISP events into a collection, through the node's ingest (validation and ledger).\nSOURCE is a MISP feed (a directory or an HTTPS URL holding manifest.json and <uuid>.json files)\nor a file holding a MISP event JSON export. A re-import stores nothing twice.")
		} else {
			fmt.Fprintln(fs.Output(), "\nUpgrades a STIX 2.0 bundle FILE to STIX 2.1 and imports it into a collection. Objects that\ncannot be upgraded are listed with the reason, and nothing is stored unless --skip-invalid.")
		}
		fs.PrintDefaults()
	}
	dir, storeURL := dataFlags(fs)
	collection := fs.String("collection", "", "the `id` (or alias) of the collection to add to")
	progress := fs.Bool("progress", false, "show progress on stderr even when it is not a terminal")
	skipped := fs.String("skipped", "", "write every skipped attribute, one JSON object a line, to `file`")
	skipInvalid := fs.Bool("skip-invalid", false, "stix20: store what upgrades, leaving out what does not")
	tlp := fs.String("default-tlp", "amber", "misp: the TLP 2.0 `level` of events that carry neither a distribution nor a TLP tag")
	pos, err := parseArgs(fs, args[1:], "SOURCE")
	if err != nil {
		return err
	}
	if *collection == "" {
		return usageError("--collection is required: the id or alias of the collection to import into")
	}
	def, ok := stix.ParseTLP(*tlp)
	if !ok {
		return usageError("--default-tlp %q: want clear, green, amber, amber+strict or red", *tlp)
	}
	st, err := openStore(ctx, *dir, *storeURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	col, err := node.FindCollection(ctx, st, *collection)
	if err != nil {
		return usageError("--collection: %v", err)
	}
	n, err := node.New(ctx, node.Config{Store: st})
	if err != nil {
		return err
	}
	in := &ingester{ctx: ctx, n: n, root: col.APIRoot, collection: col.ID}
	switch format {
	case "stix20":
		return importSTIX20(env, in, pos[0], *skipInvalid)
	}
	imp := &mispImport{env: env, in: in, opts: misp.Options{DefaultTLP: def}}
	if *progress || isTerminal(env.Stderr) {
		imp.showProgress = true
	}
	return imp.run(ctx, pos[0], *skipped)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// ingester gives objects to the node in batches, through AddObjects, the
// path TAXII clients take: each object is validated, stored and recorded
// in the ledger, and a re-import of an object stores nothing.
type ingester struct {
	ctx              context.Context
	n                *node.Node
	root, collection string

	stored, duplicates int
	// refused maps the id of each object the node refused to why.
	refused map[string]string
}

// addAll stores the batches that arrive on batches, in their order: each
// is checked (CheckObjects) while the one before it is stored, so that the
// node's checkers and its writer work at once, as they do for two clients.
// stored is called with each batch, in order, and the ids of the objects
// the node refused.
func (in *ingester) addAll(ctx context.Context, batches <-chan batch, stored func(b batch, refused []string)) error {
	caller := &taxii.Caller{Name: importAccount, Role: string(store.RoleAdmin)}
	type checkedBatch struct {
		b batch
		e *node.CheckedEnvelope
	}
	checked := make(chan checkedBatch, 1)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(checked)
		for b := range batches {
			if len(b.objs) == 0 {
				continue
			}
			e, err := in.n.CheckObjects(gctx, caller, in.root, in.collection, b.objs)
			if err != nil {
				return err
			}
			select {
			case checked <- checkedBatch{b, e}:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	g.Go(func() error {
		for cb := range checked {
			s, err := cb.e.Store(gctx)
			if err != nil {
				return err
			}
			refused := in.count(s)
			if stored != nil {
				stored(cb.b, refused)
			}
		}
		return nil
	})
	return g.Wait()
}

// count counts the outcomes of a status, and returns the ids of the
// objects the node refused.
func (in *ingester) count(s *taxii.Status) []string {
	var refused []string
	for _, d := range s.Successes {
		if strings.HasPrefix(d.Message, "already stored") {
			in.duplicates++
		} else {
			in.stored++
		}
	}
	for _, d := range s.Failures {
		if in.refused == nil {
			in.refused = map[string]string{}
		}
		in.refused[d.ID] = d.Message
		refused = append(refused, d.ID)
	}
	return refused
}

// mispImport is one run of entente import misp.
type mispImport struct {
	env          *Env
	in           *ingester
	opts         misp.Options
	showProgress bool

	events, attributes, mapped int
	skips                      []misp.Skip
	broken                     []error // events that could not be read
	batch                      batch
	send                       func(batch) error // to the goroutine that stores
	// refusedFrom names the attribute and event each object the node
	// refused came from; the storing goroutine fills it.
	refusedFrom map[string]origin
}

// batch is objects on their way to the node, with where each came from,
// so that a refusal names the attribute.
type batch struct {
	objs   []json.RawMessage
	origin map[string]origin // by object id
}

type origin struct{ attribute, event string }

// source lists the event documents of a SOURCE and reads each.
type source struct {
	names []string // file names or URLs, for messages
	read  func(ctx context.Context, i int) ([]byte, error)
}

func (m *mispImport) run(ctx context.Context, src, skippedFile string) error {
	s, err := openMISPSource(ctx, src)
	if err != nil {
		return err
	}
	m.refusedFrom = map[string]origin{}
	var bar *progressbar.ProgressBar
	if m.showProgress {
		bar = progressbar.NewOptions(len(s.names),
			progressbar.OptionSetWriter(m.env.Stderr),
			progressbar.OptionSetDescription("importing MISP events"),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(m.env.Stderr) }),
		)
	}
	// Events are read and mapped while the node checks the previous
	// batch and stores the one before.
	batches := make(chan batch, 2)
	g, gctx := errgroup.WithContext(ctx)
	m.send = func(b batch) error {
		select {
		case batches <- b:
			return nil
		case <-gctx.Done():
			return gctx.Err()
		}
	}
	g.Go(func() error {
		defer close(batches)
		for i, name := range s.names {
			data, err := s.read(gctx, i)
			if err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				m.broken = append(m.broken, fmt.Errorf("%s: %w", name, err))
			} else if err := m.document(name, data); err != nil {
				return err
			}
			if bar != nil {
				bar.Add(1)
			}
		}
		return m.flush()
	})
	g.Go(func() error {
		// On an error, gctx ends, and with it the mapping goroutine's sends.
		return m.in.addAll(gctx, batches, func(b batch, refused []string) {
			for _, id := range refused {
				m.refusedFrom[id] = b.origin[id]
			}
		})
	})
	if err := g.Wait(); err != nil {
		return err
	}
	if bar != nil {
		bar.Finish()
	}
	return m.report(skippedFile)
}

// document maps the events of one file and queues their objects.
func (m *mispImport) document(name string, data []byte) error {
	events, err := misp.DecodeEvents(data)
	if err != nil {
		m.broken = append(m.broken, fmt.Errorf("%s: %w", name, err))
		return nil
	}
	for i := range events {
		res, err := misp.ToSTIX(&events[i], m.opts)
		if err != nil {
			m.broken = append(m.broken, fmt.Errorf("%s: %w", name, err))
			continue
		}
		m.events++
		m.attributes += res.Attributes
		m.mapped += res.Mapped
		m.skips = append(m.skips, res.Skipped...)
		if m.batch.origin == nil {
			m.batch.origin = map[string]origin{}
		}
		for j, id := range res.IDs {
			if res.Origin[j] != "" {
				m.batch.origin[id] = origin{res.Origin[j], events[i].UUID}
			}
		}
		m.batch.objs = append(m.batch.objs, res.Objects...)
		if len(m.batch.objs) >= importBatch {
			if err := m.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush sends the queued objects to the node.
func (m *mispImport) flush() error {
	if len(m.batch.objs) == 0 {
		return nil
	}
	b := m.batch
	m.batch = batch{}
	return m.send(b)
}

// report prints what was imported and what was not, and why.
func (m *mispImport) report(skippedFile string) error {
	// An attribute whose objects the node refused is skipped too, with
	// the node's reason.
	refusedAttr := map[string]bool{}
	ids := make([]string, 0, len(m.in.refused))
	for id := range m.in.refused {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		from := m.refusedFrom[id]
		a := from.attribute
		if a == "" {
			m.skips = append(m.skips, misp.Skip{Attribute: id, Type: "object", Rule: "refused", Reason: "the node refused " + id + ": " + m.in.refused[id]})
			continue
		}
		if refusedAttr[a] {
			continue
		}
		refusedAttr[a] = true
		m.mapped--
		m.skips = append(m.skips, misp.Skip{Event: from.event, Attribute: a, Type: "attribute", Rule: "refused", Reason: "the node refused " + id + ": " + m.in.refused[id]})
	}
	w := m.env.Stdout
	fmt.Fprintf(w, "events: %d read, %d unreadable\n", m.events, len(m.broken))
	fmt.Fprintf(w, "attributes: %d, %d imported, %d skipped\n", m.attributes, m.mapped, m.attributes-m.mapped)
	fmt.Fprintf(w, "stix objects: %d stored, %d already present, %d refused\n", m.in.stored, m.in.duplicates, len(m.in.refused))
	counts := map[string]int{}
	for _, s := range m.skips {
		counts[s.Rule+"\t"+s.Type]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		rule, typ, _ := strings.Cut(k, "\t")
		fmt.Fprintf(w, "skipped %d\t%s\t%s\n", counts[k], rule, typ)
	}
	if skippedFile != "" {
		if err := writeSkips(skippedFile, m.skips); err != nil {
			return err
		}
	} else {
		const shown = 20
		for i, s := range m.skips {
			if i == shown {
				fmt.Fprintf(m.env.Stderr, "entente import: %d more skipped; --skipped FILE lists them all\n", len(m.skips)-shown)
				break
			}
			fmt.Fprintf(m.env.Stderr, "entente import: skipped %s\n", s)
		}
	}
	for _, err := range m.broken {
		fmt.Fprintf(m.env.Stderr, "entente import: %v\n", err)
	}
	if len(m.broken) > 0 {
		return &exitError{Code: 1, Err: fmt.Errorf("%d event documents could not be read; fix them and import again (what was stored stays, and is not stored twice)", len(m.broken))}
	}
	return nil
}

func writeSkips(path string, skips []misp.Skip) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--skipped: %w", err)
	}
	enc := json.NewEncoder(f)
	for _, s := range skips {
		enc.Encode(map[string]string{"event": s.Event, "uuid": s.Attribute, "type": s.Type, "rule": s.Rule, "reason": s.Reason})
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--skipped: %w", err)
	}
	return nil
}

// openMISPSource finds the event documents of SOURCE: the events a feed's
// manifest lists (in a directory or at an HTTPS URL), or one file.
func openMISPSource(ctx context.Context, src string) (*source, error) {
	if strings.HasPrefix(src, "https://") || strings.HasPrefix(src, "http://") {
		return openMISPURL(ctx, src)
	}
	fi, err := os.Stat(src)
	if err != nil {
		return nil, usageError("SOURCE %s: %v; give a MISP feed directory, an HTTPS feed URL or an event file", src, err)
	}
	readFile := func(path string) ([]byte, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readCapped(f, path)
	}
	if !fi.IsDir() {
		return &source{names: []string{src}, read: func(context.Context, int) ([]byte, error) { return readFile(src) }}, nil
	}
	manifest := filepath.Join(src, "manifest.json")
	data, err := readFile(manifest)
	if err != nil {
		return nil, usageError("SOURCE %s is a directory without a readable manifest.json (%v); a MISP feed has one", src, err)
	}
	uuids, _, err := misp.DecodeManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", manifest, err)
	}
	names := make([]string, len(uuids))
	for i, u := range uuids {
		names[i] = filepath.Join(src, u+".json")
	}
	return &source{names: names, read: func(_ context.Context, i int) ([]byte, error) { return readFile(names[i]) }}, nil
}

// openMISPURL reads a feed over HTTPS. Plain HTTP is accepted only from
// loopback addresses, as for the node's own listener.
func openMISPURL(ctx context.Context, src string) (*source, error) {
	u, err := url.Parse(src)
	if err != nil {
		return nil, usageError("SOURCE %q: %v", src, err)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, usageError("SOURCE %s: plain HTTP is refused except on loopback; use https://", src)
	}
	client := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 30 * time.Second,
	}}
	get := func(ctx context.Context, target string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("HTTP status %s", resp.Status)
		}
		return readCapped(resp.Body, target)
	}
	if strings.HasSuffix(u.Path, ".json") && !strings.HasSuffix(u.Path, "/manifest.json") {
		return &source{names: []string{src}, read: func(ctx context.Context, _ int) ([]byte, error) { return get(ctx, src) }}, nil
	}
	base := strings.TrimSuffix(strings.TrimSuffix(src, "manifest.json"), "/") + "/"
	data, err := get(ctx, base+"manifest.json")
	if err != nil {
		return nil, fmt.Errorf("SOURCE %smanifest.json: %w", base, err)
	}
	uuids, _, err := misp.DecodeManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%smanifest.json: %w", base, err)
	}
	names := make([]string, len(uuids))
	for i, id := range uuids {
		names[i] = base + id + ".json"
	}
	return &source{names: names, read: func(ctx context.Context, i int) ([]byte, error) { return get(ctx, names[i]) }}, nil
}

func readCapped(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxEventBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxEventBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB", name, maxEventBytes>>20)
	}
	return data, nil
}

// importSTIX20 upgrades a STIX 2.0 bundle and imports it.
func importSTIX20(env *Env, in *ingester, path string, skipInvalid bool) error {
	f, err := os.Open(path)
	if err != nil {
		return usageError("FILE: %v", err)
	}
	data, err := readCapped(f, path)
	f.Close()
	if err != nil {
		return err
	}
	objs, problems, err := stix20.Upgrade(data)
	if err != nil {
		return &exitError{Code: 2, Err: fmt.Errorf("%s: %w", path, err)}
	}
	for _, p := range problems {
		fmt.Fprintf(env.Stderr, "entente import: %s: %v\n", path, p)
	}
	if len(problems) > 0 && !skipInvalid {
		return &exitError{Code: 2, Err: fmt.Errorf("%s: %d objects cannot be upgraded to STIX 2.1, so nothing was stored; fix them, or store the rest with --skip-invalid", path, len(problems))}
	}
	batches := make(chan batch, 1)
	go func() {
		defer close(batches)
		for len(objs) > 0 {
			k := min(len(objs), importBatch)
			batches <- batch{objs: objs[:k]}
			objs = objs[k:]
		}
	}()
	err = in.addAll(in.ctx, batches, nil)
	for range batches { // let the sender end
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "stix objects: %d stored, %d already present, %d refused, %d not upgradable\n", in.stored, in.duplicates, len(in.refused), len(problems))
	ids := make([]string, 0, len(in.refused))
	for id := range in.refused {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		fmt.Fprintf(env.Stderr, "entente import: %s: the node refused %s: %s\n", path, id, in.refused[id])
	}
	if len(in.refused) > 0 {
		return &exitError{Code: 1, Err: errors.New("some objects were refused; see above")}
	}
	return nil
}
