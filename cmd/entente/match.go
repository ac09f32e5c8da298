package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // --timezone works on hosts without a zone database

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/entente/entente/match"
	"github.com/entente/entente/node"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/taxii"
)

// matchConfig is the configuration of entente match, from its flags.
type matchConfig struct {
	// Indicators is a file holding a STIX bundle, or STIX objects one per
	// line; objects other than indicators are ignored.
	Indicators string
	// Node, APIRoot and Collection name a TAXII collection to fetch the
	// indicators from and post the sightings to. APIRoot defaults to the
	// node's default API root.
	Node, APIRoot, Collection string
	// Token authenticates to the node (a bearer token). Fingerprint pins
	// the node's certificate by the SHA-256 fingerprint that serve prints;
	// CACert is instead a PEM file of certificates to trust for it.
	Token, Fingerprint, CACert string
	// Format is the log format: eve, zeek or jsonl. Mapping is the field
	// mapping file jsonl needs.
	Format, Mapping string
	// Identity is the agency's identity id, for where_sighted_refs.
	Identity string
	// Window aggregates hits per indicator over this period; 0 means the
	// whole run.
	Window time.Duration
	// Output is bundle or jsonl; Out the file to write (default stdout).
	Output, Out string
	// Workers is the number of parsing goroutines; 0 means one per CPU.
	Workers int
	// Reload re-reads the indicators at this interval and swaps the new
	// index in without pausing the logs; 0 reads them once.
	Reload time.Duration
	// Timezone is the zone of log timestamps written without an offset:
	// an IANA name ("Europe/Paris"), "UTC" (the default) or "Local".
	Timezone string
	// Logs are the files to read; none or "-" means standard input.
	Logs []string
	// Redis, when its URL is set, reads the records from Redis instead of
	// Logs (matchredis.go).
	Redis          redisConfig
	redisClaimIdle time.Duration
	// Data and Agreement, together, are the node's data directory and the
	// agreement it runs under: hits on infrastructure the node's party
	// declared protected, from another party's address space, are drafted
	// there as treaty cases for an operator to approve.
	Data, Agreement string
}

func (c *matchConfig) validate() error {
	switch {
	case c.Indicators == "" && c.Node == "":
		return errors.New("no indicators: give --indicators FILE or --node URL --collection ID")
	case c.Indicators != "" && c.Node != "":
		return errors.New("--indicators and --node exclude each other; pick one source of indicators")
	case c.Node != "" && c.Collection == "":
		return errors.New("--node needs --collection, the id of the collection holding the indicators")
	case (c.Data == "") != (c.Agreement == ""):
		return errors.New("--data and --agreement go together: the node's data directory and the agreement it runs under, to draft treaty cases from hits on declared critical infrastructure")
	}
	switch c.Format {
	case "eve", "zeek":
		if c.Mapping != "" {
			return fmt.Errorf("--mapping applies to --format jsonl only, not %s", c.Format)
		}
	case "jsonl":
		if c.Mapping == "" {
			return errors.New("--format jsonl needs --mapping FILE saying which fields hold which STIX properties")
		}
	case "":
		return errors.New("--format is required: eve (Suricata), zeek or jsonl")
	default:
		return fmt.Errorf("--format %q: want eve, zeek or jsonl", c.Format)
	}
	switch c.Output {
	case "bundle", "jsonl":
	default:
		return fmt.Errorf("--output %q: want bundle or jsonl", c.Output)
	}
	if c.Identity != "" && !strings.HasPrefix(c.Identity, "identity--") {
		return fmt.Errorf("--identity %q: want the id of an identity object, identity--<UUID>", c.Identity)
	}
	if c.Window < 0 {
		return fmt.Errorf("--window %s: must not be negative", c.Window)
	}
	if c.Reload < 0 {
		return fmt.Errorf("--reload %s: must not be negative", c.Reload)
	}
	if _, err := c.location(); err != nil {
		return err
	}
	return nil
}

// location returns the zone that --timezone names.
func (c *matchConfig) location() (*time.Location, error) {
	if c.Timezone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, fmt.Errorf("--timezone %q: %v; want an IANA zone name such as Europe/Paris, UTC or Local", c.Timezone, err)
	}
	return loc, nil
}

// runMatch implements entente match. Exit status: 0 when something
// matched, 1 when nothing did, 2 when it could not run.
func runMatch(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && args[0] == "bench" {
		return runMatchBench(ctx, env, args[1:])
	}
	var c matchConfig
	fs := flag.NewFlagSet("match", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: entente match (--indicators FILE | --node URL --collection ID) --format eve|zeek|jsonl [--mapping FILE] [flags] [LOG...]")
		fmt.Fprintln(env.Stderr, "       entente match bench [flags]")
		fmt.Fprintln(env.Stderr, "\nLOG may be gzip-compressed; none or - reads standard input. Timestamps without an offset are read as UTC unless --timezone names their zone.")
		fmt.Fprintln(env.Stderr, "Exit status: 0 matched, 1 nothing matched, 2 failed.")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Indicators, "indicators", "", "STIX bundle (or JSON lines of STIX objects) holding the indicators")
	fs.StringVar(&c.Node, "node", "", "base URL of a node to fetch indicators from and post sightings to")
	fs.StringVar(&c.APIRoot, "api-root", "", "API root on the node (default: the node's default)")
	fs.StringVar(&c.Collection, "collection", "", "collection id on the node")
	fs.StringVar(&c.Token, "token", os.Getenv("ENTENTE_TOKEN"), "bearer token for the node (default $ENTENTE_TOKEN)")
	fs.StringVar(&c.Fingerprint, "fingerprint", "", "trust only the node certificate with this SHA-256 `fingerprint`, as serve prints it")
	fs.StringVar(&c.CACert, "cacert", "", "PEM file of certificates to trust for the node")
	fs.StringVar(&c.Format, "format", "", "log format: eve (Suricata EVE JSON), zeek (JSON or tab-separated) or jsonl")
	fs.StringVar(&c.Mapping, "mapping", "", "field mapping file for --format jsonl")
	fs.StringVar(&c.Identity, "identity", "", "the agency's identity id, written as where_sighted_refs")
	fs.DurationVar(&c.Window, "window", 0, "aggregate hits per indicator over this period (0: the whole run)")
	fs.StringVar(&c.Output, "output", "bundle", "sightings as a STIX bundle or as JSON lines: bundle or jsonl")
	fs.StringVar(&c.Out, "out", "", "write the sightings to this file (default: standard output)")
	fs.IntVar(&c.Workers, "workers", 0, "parsing goroutines (default: one per CPU)")
	fs.DurationVar(&c.Reload, "reload", 0, "re-read the indicators at this interval, for long runs on stdin (0: once)")
	fs.StringVar(&c.Data, "data", "", "draft treaty cases in the node of this data `directory` (with --agreement) from hits on declared critical infrastructure")
	fs.StringVar(&c.Agreement, "agreement", "", "the signed agreement `file` the node of --data runs under")
	fs.StringVar(&c.Timezone, "timezone", "UTC", "read log timestamps written without an offset in this `zone` (IANA name, UTC or Local)")
	fs.StringVar(&c.Redis.URL, "redis", "", "read records from Redis instead of files: redis://HOST[:PORT]/KEY, a list or a stream")
	fs.StringVar(&c.Redis.Group, "redis-group", "entente", "the consumer group that shares a Redis stream")
	fs.StringVar(&c.Redis.Consumer, "redis-consumer", "", "this process's name in the group (default: host-pid)")
	fs.IntVar(&c.Redis.Batch, "redis-batch", 2000, "records read, matched and acknowledged together")
	fs.DurationVar(&c.redisClaimIdle, "redis-claim-idle", 30*time.Second, "claim records another consumer left unacknowledged this long")
	if err := fs.Parse(args); err != nil {
		return &exitError{Code: 2}
	}
	c.Logs = fs.Args()
	if c.Redis.URL != "" {
		if err := c.forRedis(fs); err != nil {
			return usageError("%v", err)
		}
	}
	if err := c.validate(); err != nil {
		return usageError("%v", err)
	}
	if err := matchRun(ctx, env, &c); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		return &exitError{Code: 2, Err: err}
	}
	return nil
}

func matchRun(ctx context.Context, env *Env, c *matchConfig) error {
	// Reloads report from their own goroutine.
	stderr := &lockedWriter{w: env.Stderr}
	format, err := openFormat(c)
	if err != nil {
		return err
	}
	var client *taxii.Client
	root := c.APIRoot
	if c.Node != "" {
		if client, root, err = dialNode(ctx, c); err != nil {
			return err
		}
	}
	load := func() (*match.Index, error) {
		var (
			inds     []match.Indicator
			problems []error
			err      error
		)
		if client != nil {
			inds, problems, err = fetchIndicators(ctx, client, root, c.Collection)
		} else {
			inds, problems, err = readIndicators(c.Indicators)
		}
		if err != nil {
			return nil, err
		}
		start := time.Now()
		ix, errs := match.Compile(inds)
		problems = append(problems, errs...)
		reportProblems(stderr, "indicator", problems)
		if ix.Len() == 0 {
			return nil, fmt.Errorf("none of the %d indicators can be matched; check the list above", len(inds))
		}
		fmt.Fprintf(stderr, "entente match: %d indicators compiled in %s\n", ix.Len(), time.Since(start).Round(time.Millisecond))
		return ix, nil
	}
	ix, err := load()
	if err != nil {
		return err
	}
	matcher := match.NewMatcher(ix)
	if c.Reload > 0 {
		reloadCtx, stop := context.WithCancel(ctx)
		defer stop()
		go reloadEvery(reloadCtx, stderr, c.Reload, matcher, load)
	}

	out := env.Stdout
	if c.Out != "" {
		f, err := os.Create(c.Out)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	loc, err := c.location()
	if err != nil {
		return err
	}
	var bundle []*stix.Object // written at the end, for --output bundle
	ids := &batchIDs{}
	var found []*stix.Object // for drafting cases, with --data
	var foundMu sync.Mutex
	sink := func(ctx context.Context, objs []*stix.Object) error {
		if c.Data != "" {
			foundMu.Lock()
			found = append(found, objs...)
			foundMu.Unlock()
		}
		if client != nil {
			if err := postObjects(ctx, client, root, c.Collection, objs); err != nil {
				return err
			}
		}
		if c.Output == "jsonl" {
			return match.WriteJSONLines(out, objs)
		}
		bundle = append(bundle, objs...)
		return nil
	}
	const maxReported = 20
	var bad int64
	bar := newProgress(env.Stderr, stderr)
	began := time.Now()
	p := match.NewPipeline(match.PipelineConfig{
		Format:      format,
		Matcher:     matcher,
		Workers:     c.Workers,
		Location:    loc,
		Sightings:   match.SightingConfig{Identity: c.Identity, Window: c.Window, NewID: ids.next},
		Incremental: c.Output == "jsonl",
		Sink:        sink,
		OnBadLine: func(b *match.BadLine) {
			if bad++; bad <= maxReported {
				fmt.Fprintf(stderr, "entente match: %v\n", b)
			}
		},
		OnProgress: func(st match.Stats) {
			if bar != nil {
				bar.Describe(fmt.Sprintf("%.0f lines/s, %d matches, %d bad lines", float64(st.Lines)/time.Since(began).Seconds(), st.Hits, st.BadLines))
				_ = bar.Set64(st.Bytes)
			}
		},
	})
	if c.Redis.URL != "" {
		if err := matchRedis(ctx, p, c, ids, stderr); err != nil {
			return err
		}
	}
	for _, name := range inputs(c.Logs) {
		if c.Redis.URL != "" {
			break
		}
		if err := matchInput(ctx, p, name, env.Stdin); err != nil {
			return err
		}
	}
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(stderr)
	}
	total, err := p.Finish(ctx)
	if err != nil {
		return err
	}
	if c.Output == "bundle" && len(bundle) > 0 {
		if err := match.WriteBundle(out, bundle, nil); err != nil {
			return err
		}
	}
	elapsed := time.Since(began)
	fmt.Fprintf(stderr, "entente match: %d lines (%.1f MB) in %s, %.0f lines/s; %d matches; %d bad lines\n",
		total.Lines, float64(total.Bytes)/1e6, elapsed.Round(time.Millisecond), float64(total.Lines)/elapsed.Seconds(), total.Hits, total.BadLines)
	if bad > maxReported {
		fmt.Fprintf(stderr, "entente match: %d more bad lines not shown\n", bad-maxReported)
	}
	if c.Data != "" && total.Hits > 0 {
		if err := draftDetections(ctx, stderr, c, found); err != nil {
			return err
		}
	}
	if total.Hits == 0 {
		return &exitError{Code: 1}
	}
	return nil
}

// draftDetections drafts, in the node of c.Data, the treaty cases that
// the sightings found call for (node.DraftDetections), with the
// indicators they are sightings of from --indicators, and says how to
// approve them.
func draftDetections(ctx context.Context, stderr io.Writer, c *matchConfig, found []*stix.Object) error {
	if c.Indicators != "" {
		data, err := os.ReadFile(c.Indicators)
		if err != nil {
			return err
		}
		found = append(found, stixObjectsOf(data)...)
	}
	ce, err := openCaseNode(ctx, c.Data, "", c.Agreement)
	if err != nil {
		return err
	}
	defer ce.st.Close()
	ds, err := ce.n.DraftDetections(ctx, found)
	if err != nil {
		return err
	}
	for _, d := range ds {
		fmt.Fprintf(stderr, "entente match: %d sightings hit infrastructure %s declared protected from %s's address space; drafted, not sent:\n", len(d.Hits), ce.party, d.To)
		for _, k := range []struct {
			what string
			id   string
		}{{"incident notification", d.Notification.ID}, {"assistance request", d.Assistance.ID}, {"consultation", d.Consultation.ID}} {
			fmt.Fprintf(stderr, "  %-21s %s  approve: entente case step --data %s --agreement %s %s approve\n", k.what, k.id, c.Data, c.Agreement, k.id)
		}
	}
	return nil
}

// stixObjectsOf reads the objects of a STIX bundle or of JSON lines,
// skipping what does not parse (the indicators' reader reported it).
func stixObjectsOf(data []byte) []*stix.Object {
	var b struct {
		Objects []json.RawMessage `json:"objects"`
	}
	raws := b.Objects
	if json.Unmarshal(data, &b) == nil && len(b.Objects) > 0 {
		raws = b.Objects
	} else {
		for _, line := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(line)) > 0 {
				raws = append(raws, line)
			}
		}
	}
	var out []*stix.Object
	for _, r := range raws {
		if o, err := stix.Parse(r); err == nil {
			out = append(out, o)
		}
	}
	return out
}

// reloadEvery swaps a freshly loaded index in at each tick. A failed load
// keeps the current index: detection goes on with what it has.
func reloadEvery(ctx context.Context, stderr io.Writer, every time.Duration, m *match.Matcher, load func() (*match.Index, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ix, err := load()
		if err != nil {
			fmt.Fprintf(stderr, "entente match: reload failed, keeping the current indicators: %v\n", err)
			continue
		}
		m.Reload(ix)
	}
}

// lockedWriter serializes writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func inputs(logs []string) []string {
	if len(logs) == 0 {
		return []string{"-"}
	}
	return logs
}

// matchInput runs one file, or standard input for "-", through p.
func matchInput(ctx context.Context, p *match.Pipeline, name string, stdin io.Reader) error {
	if name == "-" {
		_, err := p.Run(ctx, "stdin", stdin)
		return err
	}
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = p.Run(ctx, name, f)
	return err
}

func openFormat(c *matchConfig) (match.Format, error) {
	if c.Format != "jsonl" {
		return match.FormatNamed(c.Format)
	}
	data, err := os.ReadFile(c.Mapping)
	if err != nil {
		return nil, err
	}
	m, err := match.ParseMapping(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Mapping, err)
	}
	return match.NewJSON(m)
}

// readIndicators reads a bundle, or STIX objects one per line.
func readIndicators(path string) ([]match.Indicator, []error, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	inds, problems, err := match.ParseIndicators(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return inds, problems, nil
}

func reportProblems(w io.Writer, what string, problems []error) {
	const shown = 20
	for i, p := range problems {
		if i == shown {
			fmt.Fprintf(w, "entente match: %d more %ss skipped\n", len(problems)-shown, what)
			break
		}
		fmt.Fprintf(w, "entente match: skipped %s: %v\n", what, p)
	}
}

// newProgress returns a progress bar writing to w when tty, the process's
// stderr, is a terminal, else nil.
func newProgress(tty, w io.Writer) *progressbar.ProgressBar {
	f, ok := tty.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetDescription("matching"),
	)
}

func dialNode(ctx context.Context, c *matchConfig) (*taxii.Client, string, error) {
	opts := taxii.ClientOptions{Token: c.Token, UserAgent: "entente-match"}
	switch {
	case c.Fingerprint != "" && c.CACert != "":
		return nil, "", usageError("--fingerprint and --cacert both say which certificate to trust: give one")
	case c.Fingerprint != "":
		cfg, err := node.PinnedTLSConfig(c.Fingerprint)
		if err != nil {
			return nil, "", usageError("--fingerprint: %v", err)
		}
		opts.TLSConfig = cfg
	case c.CACert != "":
		pem, err := os.ReadFile(c.CACert)
		if err != nil {
			return nil, "", err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, "", fmt.Errorf("--cacert %s: no PEM certificate found", c.CACert)
		}
		opts.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	client, err := taxii.NewClient(c.Node, opts)
	if err != nil {
		return nil, "", err
	}
	root := c.APIRoot
	if root == "" {
		d, err := client.Discovery(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("--node %s: %w", c.Node, err)
		}
		if d.Default == "" {
			return nil, "", fmt.Errorf("--node %s has no default API root; name one with --api-root", c.Node)
		}
		root = d.Default
	}
	return client, root, nil
}

func fetchIndicators(ctx context.Context, client *taxii.Client, root, collection string) ([]match.Indicator, []error, error) {
	var objs []*stix.Object
	for raw, err := range client.AllObjects(ctx, root, collection, taxii.Query{Types: []string{"indicator"}}) {
		if err != nil {
			return nil, nil, fmt.Errorf("fetching indicators from collection %s: %w", collection, err)
		}
		o, err := stix.Parse(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("collection %s: object %d: %w", collection, len(objs)+1, err)
		}
		objs = append(objs, o)
	}
	inds, problems := match.IndicatorsOf(objs)
	return inds, problems, nil
}

// postObjects adds objects to the collection in envelopes of bounded size.
func postObjects(ctx context.Context, client *taxii.Client, root, collection string, objs []*stix.Object) error {
	const perEnvelope = 500
	for len(objs) > 0 {
		n := min(len(objs), perEnvelope)
		raws := make([]json.RawMessage, n)
		for i, o := range objs[:n] {
			raws[i] = o.Raw
		}
		st, err := client.AddObjects(ctx, root, collection, raws)
		if err != nil {
			return fmt.Errorf("posting sightings to collection %s: %w", collection, err)
		}
		if st != nil && st.FailureCount > 0 {
			why := ""
			if len(st.Failures) > 0 {
				why = fmt.Sprintf("; first: %s: %s", st.Failures[0].ID, st.Failures[0].Message)
			}
			return fmt.Errorf("posting sightings to collection %s: the node refused %d of %d objects%s", collection, st.FailureCount, n, why)
		}
		objs = objs[n:]
	}
	return nil
}
