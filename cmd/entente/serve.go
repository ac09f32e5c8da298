package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/sync/errgroup"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/federation"
	"github.com/entente/entente/notify"

	"github.com/entente/entente/ledgerhttp"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/store/postgres"
	"github.com/entente/entente/taxii"
	"github.com/entente/entente/web"
)

// The files of a data directory.
const (
	// dbFile is the SQLite database (with its -wal and -shm companions).
	dbFile = "entente.db"
	// keyFile is the node's Ed25519 key in the signed-note private key
	// encoding. It signs ledger checkpoints and the default certificate.
	keyFile = "node.key"
)

// Defaults of entente serve.
const (
	defaultDataDir = "./entente-data"
	// defaultAddr is loopback-only: exposing a node is a decision the
	// operator makes with --addr.
	defaultAddr = "127.0.0.1:8443"
	// defaultMetricsAddr is loopback-only too, on the port registered for
	// OpenTelemetry's Prometheus exporter: metrics carry no credentials.
	defaultMetricsAddr = "127.0.0.1:9464"
)

// HTTP server limits. Bodies are capped by each API root's
// max_content_length (the TAXII server answers 413 above it).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 2 * time.Minute // long enough for a max_content_length body on a slow link
	idleTimeout       = 2 * time.Minute
	// maxHeaderBytes bounds a request's headers (with the query string).
	// net/http answers more with a plain-text 431 that no handler can
	// turn into a TAXII error (see the taxii package documentation).
	maxHeaderBytes = 64 << 10
	// shutdownTimeout bounds how long shutdown waits for requests in
	// flight before closing their connections.
	shutdownTimeout = 30 * time.Second
	// pageSize is the most objects the server returns in one page.
	pageSize = 1000
	// maxInFlight bounds the TAXII requests served at once, and
	// maxInFlightBodyBytes the envelopes being added at once, together;
	// beyond either, clients get 503 with Retry-After. An envelope holds
	// about twice its size in memory while it is checked and stored.
	maxInFlight          = 128
	maxInFlightBodyBytes = 128 << 20
)

// serveConfig is the configuration of entente serve. It comes from the
// command line and is validated once, by validate.
type serveConfig struct {
	// DataDir holds the node's key and files, and its SQLite database
	// unless Store names another. An empty or missing directory is
	// initialized on first start.
	DataDir string
	// Store is a postgres:// URL of the node's database, or "" for
	// SQLite in DataDir (or $ENTENTE_STORE). Any number of processes may
	// serve one node from one PostgreSQL database, sharing the key.
	Store string
	// StoreReplica is a postgres:// URL of a streaming replica of Store,
	// which then serves the TAXII read paths (postgres.WithReplica).
	StoreReplica string
	// Addr is the host:port to listen on. A port of 0 picks a free one.
	Addr string
	// PlainHTTP serves HTTP without TLS. It is refused unless Addr is a
	// loopback address, so that tokens never cross a network in clear.
	PlainHTTP bool
	// TLSCert and TLSKey are PEM files of a certificate chain and its key.
	// Both or neither: without them the node serves a self-signed
	// certificate made from its own key to clients that support Ed25519,
	// and its browser certificate (node.Key.BrowserCertificate) to the
	// others, and prints their fingerprints.
	TLSCert, TLSKey string
	// MetricsAddr is the host:port of the listener that serves Prometheus
	// metrics (GET /metrics) and /healthz over plain HTTP, apart from the
	// TAXII listener; "off" serves no metrics. It asks for no credentials,
	// so it is loopback unless the operator says otherwise.
	MetricsAddr string
	// LogFormat is "text" or "json"; logs go to stderr.
	LogFormat string
	// LogLevel is the least severe level logged.
	LogLevel slog.Level
	// CheckpointInterval is the least time between two ledger
	// checkpoints (node.Config.CheckpointInterval).
	CheckpointInterval time.Duration
	// Agreement is the signed agreement the node works under, and NodeID
	// the id of this node in it: together they give the ledger's log
	// name, the partner logs the node witnesses and the witnesses of its
	// own log. Both or neither.
	Agreement, NodeID string
	// PartnerURLs replaces the TAXII URLs the agreement gives for partner
	// nodes (--partner-url NODE=URL): a link to each partner node with a
	// URL pulls from it and pushes urgent items to it.
	PartnerURLs partnerURLs
	// SyncInterval is the time between two pulls from a partner once
	// caught up.
	SyncInterval time.Duration
	// SMTPAddr is the relay (host:port) through which case events and
	// alarms are mailed to the party's contact points, from SMTPFrom;
	// empty (the default) mails nothing.
	SMTPAddr, SMTPFrom string
	// AlarmInterval is the time between two runs of the case scheduler.
	AlarmInterval time.Duration
}

func (c *serveConfig) validate() error {
	if c.DataDir == "" {
		return errors.New("--data is empty; give the directory that holds (or will hold) the node's data")
	}
	host, err := checkHostPort("--addr", c.Addr, defaultAddr)
	if err != nil {
		return err
	}
	if c.MetricsAddr != "off" {
		if _, err := checkHostPort("--metrics-addr", c.MetricsAddr, defaultMetricsAddr+` or "off"`); err != nil {
			return err
		}
		if c.MetricsAddr == c.Addr && !strings.HasSuffix(c.Addr, ":0") {
			return fmt.Errorf("--metrics-addr %q is --addr too; give metrics a listener of their own, or \"off\"", c.MetricsAddr)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together; give both, or neither for a self-signed certificate")
	}
	if c.PlainHTTP {
		if c.TLSCert != "" {
			return errors.New("--plain-http cannot be combined with --tls-cert and --tls-key; drop one or the other")
		}
		if !isLoopback(host) {
			return fmt.Errorf("--plain-http is refused on %q, which is not a loopback address: tokens would cross the network in clear. Serve HTTPS (drop --plain-http) or listen on 127.0.0.1, ::1 or localhost", c.Addr)
		}
	}
	if c.CheckpointInterval <= 0 {
		return fmt.Errorf("--checkpoint-interval %v: want a positive duration, such as 1s", c.CheckpointInterval)
	}
	if (c.Agreement == "") != (c.NodeID == "") {
		return errors.New("--agreement and --node go together: the agreement file and this node's id in it")
	}
	if len(c.PartnerURLs) > 0 && c.Agreement == "" {
		return errors.New("--partner-url needs --agreement and --node: partners are the agreement's nodes")
	}
	if c.SMTPAddr != "" {
		if _, err := checkHostPort("--smtp-addr", c.SMTPAddr, "127.0.0.1:25"); err != nil {
			return err
		}
		if c.SMTPFrom == "" || !strings.Contains(c.SMTPFrom, "@") || strings.ContainsAny(c.SMTPFrom, " \r\n<>") {
			return fmt.Errorf("--smtp-from %q: give the bare address notifications are sent from, such as entente@cert.example", c.SMTPFrom)
		}
		if c.Agreement == "" {
			return errors.New("--smtp-addr needs --agreement and --node: the agreement names the contact points to tell")
		}
	} else if c.SMTPFrom != "" {
		return errors.New("--smtp-from goes with --smtp-addr, the relay to send through")
	}
	if c.AlarmInterval <= 0 {
		return fmt.Errorf("--alarm-interval %v: want a positive duration, such as 1m", c.AlarmInterval)
	}
	if c.SyncInterval <= 0 {
		return fmt.Errorf("--sync-interval %v: want a positive duration, such as 5s", c.SyncInterval)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	}
	return nil
}

// checkHostPort checks a HOST:PORT flag value and returns its host.
func checkHostPort(flag, addr, example string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%s %q: %v; use HOST:PORT, such as %s", flag, addr, err, example)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || port == "" {
		return "", fmt.Errorf("%s %q: port %q is not a number from 0 to 65535", flag, addr, port)
	} else if p == 0 && port != "0" {
		return "", fmt.Errorf("%s %q: write port 0 as 0", flag, addr)
	}
	return host, nil
}

// isLoopback reports whether host names only the loopback interface. An
// empty host means every interface, so it is not loopback.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: entente serve [--data DIR] [--store URL [--store-replica URL]] [--addr HOST:PORT] [--plain-http] [--tls-cert FILE --tls-key FILE] [--metrics-addr HOST:PORT|off] [--log-format text|json] [--log-level LEVEL] [--checkpoint-interval DURATION] [--agreement FILE --node ID [--partner-url NODE=URL]... [--sync-interval DURATION] [--smtp-addr HOST:PORT --smtp-from ADDRESS] [--alarm-interval DURATION]]")
		fmt.Fprintln(fs.Output(), "\nRuns a node: TAXII 2.1 over HTTPS, discovery at /taxii2/. An empty DIR is initialized first.")
		fs.PrintDefaults()
	}
	cfg := serveConfig{LogLevel: slog.LevelInfo, PartnerURLs: partnerURLs{}}
	dir, storeURL := dataFlags(fs)
	fs.StringVar(&cfg.StoreReplica, "store-replica", "", "a postgres:// `URL` of a streaming replica of --store, to serve TAXII reads from (a caller's own writes are read from the primary until the replica has them)")
	fs.StringVar(&cfg.Addr, "addr", defaultAddr, "the `host:port` to listen on")
	fs.BoolVar(&cfg.PlainHTTP, "plain-http", false, "serve plain HTTP (loopback addresses only)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate chain `file` (default: a self-signed certificate)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key `file` of --tls-cert")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", defaultMetricsAddr, "the `host:port` serving Prometheus metrics over plain HTTP without credentials, or \"off\"")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "log `format`: text or json")
	fs.DurationVar(&cfg.CheckpointInterval, "checkpoint-interval", node.DefaultCheckpointInterval, "the least `duration` between two signed ledger checkpoints")
	fs.StringVar(&cfg.Agreement, "agreement", "", "the signed agreement `file` (with --node): the ledger's log name and witnesses; SIGHUP reads it again to move to an amendment")
	fs.StringVar(&cfg.NodeID, "node", "", "this node's `id` in the agreement")
	fs.Var(cfg.PartnerURLs, "partner-url", "`NODE=URL`: reach the partner node NODE at URL rather than the agreement's (repeatable)")
	fs.DurationVar(&cfg.SyncInterval, "sync-interval", defaultSyncInterval, "the `duration` between two pulls from a partner once caught up")
	fs.StringVar(&cfg.SMTPAddr, "smtp-addr", "", "the SMTP relay `host:port` that mails case events to the agreement's contact points (default: no mail)")
	fs.StringVar(&cfg.SMTPFrom, "smtp-from", "", "the `address` notifications are mailed from (with --smtp-addr)")
	fs.DurationVar(&cfg.AlarmInterval, "alarm-interval", time.Minute, "the `duration` between two runs of the case scheduler (reminders, breaches, escalations)")
	fs.TextVar(&cfg.LogLevel, "log-level", slog.LevelInfo, "least severe `level` logged: debug, info, warn or error")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	cfg.DataDir, cfg.Store = *dir, *storeURL
	if err := cfg.validate(); err != nil {
		return usageError("%v", err)
	}
	return serve(ctx, env, &cfg)
}

func serve(ctx context.Context, env *Env, cfg *serveConfig) error {
	logger := newLogger(env.Stderr, cfg.LogFormat, cfg.LogLevel)

	if err := node.PrepareDataDir(cfg.DataDir); err != nil {
		return err
	}
	key, err := loadOrCreateKey(cfg.DataDir)
	if err != nil {
		return err
	}
	now, err := clockFromEnv()
	if err != nil {
		return err
	}
	var opts []postgres.Option
	if cfg.StoreReplica != "" {
		if !strings.HasPrefix(cfg.StoreReplica, "postgres://") && !strings.HasPrefix(cfg.StoreReplica, "postgresql://") {
			return usageError("--store-replica %q: want a postgres:// URL of a streaming replica of --store", redactURL(cfg.StoreReplica))
		}
		opts = append(opts, postgres.WithReplica(cfg.StoreReplica))
	}
	st, err := openServeStore(ctx, cfg.DataDir, cfg.Store, now, opts...)
	if err != nil {
		return err
	}
	defer st.Close()

	// Initialize creates only what is missing: on an empty directory the
	// whole node, on later starts nothing, so the admin token it returns is
	// shown on the first start only.
	ini, err := node.Initialize(ctx, st, time.Now())
	if err != nil {
		return err
	}
	if ini.AdminToken != "" {
		logger.InfoContext(ctx, "initialized node", slog.String("data", cfg.DataDir),
			slog.String("api_root", ini.APIRoot), slog.String("collection", ini.CollectionID))
	}

	// The log name will come from the agreement; until the node has one,
	// node.DefaultLogName derives it from the key.
	setup := &ledgerSetup{}
	if cfg.Agreement != "" {
		if setup, err = loadLedgerSetup(cfg.Agreement, cfg.NodeID, key, time.Now()); err != nil {
			return err
		}
		setup.reachWitnessesAt(cfg.PartnerURLs)
	}
	metrics := newMetrics(st)
	n, err := node.New(ctx, node.Config{Store: st, Logger: logger, Key: key, CheckpointInterval: cfg.CheckpointInterval, LogName: setup.logName, Now: now,
		Agreement: setup.agreement, Self: setup.self, OnAlert: func(kind string) { metrics.federationAlerts.WithLabelValues(kind).Inc() }})
	if err != nil {
		return err
	}
	// The ledger (tlog-tiles, proofs, openings) and the witness
	// (tlog-witness) live under /ledger/, a path no API root may take.
	metrics.alerts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "entente_ledger_alerts_total",
		Help: "Witness alerts: a partner log forked, was inconsistent or offered a rollback; or a witness refused this node's log.",
	}, []string{"reason"})
	metrics.reg.MustRegister(metrics.alerts)
	transparency, err := node.NewTransparency(n, node.TransparencyConfig{
		Cosigner: key.Cosigner(nil),
		Partners: setup.partners,
		OnAlert:  func(reason string) { metrics.alerts.WithLabelValues(reason).Inc() },
	})
	if err != nil {
		return err
	}
	// A link per partner node pulls what it releases to this node and
	// pushes revocations to it (doc/federation.md).
	links, err := newLinks(n, transparency, cfg.PartnerURLs, cfg.SyncInterval, logger)
	if err != nil {
		return err
	}
	metrics.reg.MustRegister(newLinkCollector(links, cosignedSize(st)))
	n.SetPusher(pusher(links))
	if setup.agreement != nil {
		// The collection of treaty cases, for the operator to share.
		if _, err := n.CasesCollection(ctx); err != nil {
			return err
		}
	}
	if cfg.SMTPAddr != "" {
		// Case events and alarms to the party's contact points.
		mailer := &notify.Mailer{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Agreement: setup.agreement,
			Party: partyOfNode(setup.agreement, cfg.NodeID), Log: logger, Now: now}
		n.OnCase(mailer.CaseEvent)
		n.OnAlarm(mailer.Alarm)
	}
	srv := taxii.NewServer(n, taxii.Config{
		// Derived from the node key, so next tokens survive a restart.
		TokenKey:             key.Secret("taxii next token"),
		MaxPageSize:          pageSize,
		MaxInFlight:          maxInFlight,
		MaxInFlightBodyBytes: maxInFlightBodyBytes,
		Logger:               logger,
		Observe:              metrics.observe,
	})
	ledgerSrv := ledgerhttp.NewServer(transparency, ledgerhttp.Config{Logger: logger, Observe: metrics.observe})
	logKey, err := note.NewVerifier(key.VerifierKey)
	if err != nil {
		return err
	}
	submitter := &ledgerhttp.Submitter{
		Origin:    n.LogName(),
		LogKey:    logKey,
		Log:       transparency,
		Witnesses: setup.witnesses,
		Interval:  cfg.CheckpointInterval,
		Logger:    logger,
		OnAlert:   func(reason string) { metrics.alerts.WithLabelValues(reason).Inc() },
	}

	console, err := web.New(web.Config{Node: n, Transparency: transparency, Logger: logger, Now: now,
		Secret: key.Secret("console"), Links: func() []federation.Health {
			hs := make([]federation.Health, 0, len(links))
			for _, l := range links {
				hs = append(hs, l.Health())
			}
			return hs
		}})
	if err != nil {
		return err
	}
	exports := newExportHandler(n, logger, now)
	defer exports.Close()
	hs := &http.Server{
		Handler:           metrics.countInFlight(withExports(exports, withMISPFeed(route(srv, ledgerSrv, console), n, logger))),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w; pick another --addr", cfg.Addr, err)
	}
	// Metrics have a listener of their own, so that what they tell (counts,
	// request mixes) is not served to the TAXII clients, and scrapes do
	// not queue with them.
	var (
		ms  *http.Server
		mln net.Listener
	)
	if cfg.MetricsAddr != "off" {
		mln, err = net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listening for metrics on %s: %w; pick another --metrics-addr, or \"off\"", cfg.MetricsAddr, err)
		}
		mmux := http.NewServeMux()
		mmux.Handle("GET /metrics", metrics.handler())
		mmux.HandleFunc("GET /healthz", healthz)
		ms = &http.Server{
			Handler:           mmux,
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readHeaderTimeout,
			WriteTimeout:      time.Minute,
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
	}
	scheme := "http"
	var certs []tls.Certificate
	if !cfg.PlainHTTP {
		certs, err = certificates(cfg, key, ln.Addr())
		if err != nil {
			ln.Close()
			if mln != nil {
				mln.Close()
			}
			return err
		}
		hs.TLSConfig = &tls.Config{
			// TLS 1.3 is preferred by negotiation; TAXII 2.1 §8.2.2 allows
			// 1.2 and forbids 0-RTT, which crypto/tls servers never accept.
			MinVersion:   tls.VersionTLS12,
			Certificates: certs,
			// Pages are hundreds of kilobytes: full-sized records from the
			// first byte, rather than ones of one packet for the first
			// 128 KiB of each connection, which cost a write each.
			DynamicRecordSizingDisabled: true,
		}
		if len(certs) > 1 {
			// The node's certificate to clients that offer Ed25519 (Go
			// clients, partner nodes), the browser certificate to the
			// others, whatever name they reach the node by.
			hs.TLSConfig.GetCertificate = node.ChooseCertificate(certs)
		}
		if setup.agreement != nil {
			// Partner nodes present their node key's certificate; the
			// handshake refuses a key the agreement does not pin.
			// Accounts connect without one, as before.
			n.ServerTLSConfig(hs.TLSConfig)
		}
		scheme = "https"
	}

	// SIGHUP moves the node to an amended agreement (doc/operations.md).
	// It is caught before the banner, so that whoever reads the banner
	// may send it.
	clock := now
	if clock == nil {
		clock = time.Now
	}
	am := &amender{n: n, path: cfg.Agreement, nodeID: cfg.NodeID, key: key, now: clock, mail: cfg.SMTPAddr != "", logger: logger, started: setup.agreement}
	reload, stopReload := notifyReload()
	defer stopReload()

	// The banner is written at once, so that whoever reads it sees it
	// whole as soon as it sees the URL.
	var banner strings.Builder
	fmt.Fprintf(&banner, "url: %s://%s/taxii2/\n", scheme, ln.Addr())
	fmt.Fprintf(&banner, "console: %s://%s/ui/\n", scheme, ln.Addr())
	if len(certs) > 0 {
		fmt.Fprintf(&banner, "tls certificate sha-256 fingerprint: %s\n", node.Fingerprint(certs[0].Certificate[0]))
	}
	if len(certs) > 1 {
		// What a browser is told to trust (doc/operations.md).
		fmt.Fprintf(&banner, "browser certificate sha-256 fingerprint: %s\n", node.Fingerprint(certs[1].Certificate[0]))
		fmt.Fprintf(&banner, "browser certificate spki sha-256: %s\n", node.SPKIFingerprint(certs[1].Leaf))
	}
	if mln != nil {
		fmt.Fprintf(&banner, "metrics: http://%s/metrics\n", mln.Addr())
	}
	fmt.Fprintf(&banner, "ledger: %s://%s%s (log %s)\n", scheme, ln.Addr(), ledgerhttp.Prefix, n.LogName())
	fmt.Fprintf(&banner, "node key: %s\n", key.VerifierKey)
	fmt.Fprintf(&banner, "witness key: %s\n", key.WitnessVerifierKey())
	if ini.AdminToken != "" {
		fmt.Fprintln(&banner, "admin account created; its token is shown only now:")
		fmt.Fprintf(&banner, "admin token: %s\n", ini.AdminToken)
	}
	io.WriteString(env.Stdout, banner.String())
	logger.InfoContext(ctx, "serving", slog.String("addr", ln.Addr().String()), slog.String("scheme", scheme))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		if hs.TLSConfig != nil {
			err = hs.ServeTLS(ln, "", "")
		} else {
			err = hs.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	if ms != nil {
		g.Go(func() error {
			if err := ms.Serve(mln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		// Requests in flight finish on their own contexts, which shutdown
		// does not cancel; only new connections are refused.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		logger.InfoContext(sctx, "shutting down", slog.Duration("timeout", shutdownTimeout))
		var merr error
		if ms != nil {
			merr = ms.Shutdown(sctx)
		}
		return errors.Join(hs.Shutdown(sctx), merr)
	})
	g.Go(func() error { return n.Run(gctx) })
	g.Go(func() error { return submitter.Run(gctx) })
	g.Go(func() error { return runLinks(gctx, links) })
	g.Go(func() error { return am.watch(gctx, reload) })
	if setup.agreement != nil {
		g.Go(func() error {
			if err := n.RunScheduler(gctx, cfg.AlarmInterval); !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		})
	}
	werr := g.Wait()
	// The servers have stopped: let the pushes the last adds started end,
	// and sign a checkpoint for the last writes.
	n.Wait()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if _, _, err := n.Checkpoint(cctx); err != nil {
		logger.ErrorContext(cctx, "signing the last ledger checkpoint", slog.Any("error", err))
	}
	if werr != nil {
		return werr
	}
	logger.InfoContext(ctx, "stopped")
	return nil
}

// healthz answers that the process serves. It touches no store, so that
// probes cost nothing however often they come.
func healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// route sends /healthz to healthz, the ledger's paths (tlog-tiles, proofs,
// openings, tlog-witness) to ledger, the console's (/ui/) to console, a
// browser's GET / to the console, and every other request to taxii as it
// came. A ServeMux in front of the TAXII server would answer an unclean
// path (/api1/./collections/) with a redirect, even for a POST, where the
// TAXII server answers a TAXII 404.
func route(taxii, ledger, console http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			healthz(w, r)
		case r.URL.Path == "/" && r.Method == http.MethodGet && console != nil:
			http.Redirect(w, r, web.Prefix, http.StatusSeeOther)
		case (r.URL.Path == "/ui" || strings.HasPrefix(r.URL.Path, web.Prefix)) && console != nil:
			console.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, ledgerhttp.Prefix):
			ledger.ServeHTTP(w, r)
		default:
			taxii.ServeHTTP(w, r)
		}
	})
}

// certificates returns the configured certificate; or else the node's
// self-signed one and its browser certificate, both valid for the
// listening address and localhost.
func certificates(cfg *serveConfig, key *node.Key, addr net.Addr) ([]tls.Certificate, error) {
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("loading --tls-cert %s and --tls-key %s: %w", cfg.TLSCert, cfg.TLSKey, err)
		}
		return []tls.Certificate{cert}, nil
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if host, _, err := net.SplitHostPort(cfg.Addr); err == nil && host != "" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
			hosts = append(hosts, host)
		}
	}
	if a, ok := addr.(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
		hosts = append(hosts, a.IP.String())
	}
	self, err := key.SelfSignedCertificate(hosts)
	if err != nil {
		return nil, err
	}
	browser, err := key.BrowserCertificate(hosts)
	if err != nil {
		return nil, err
	}
	return []tls.Certificate{self, browser}, nil
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// loadOrCreateKey reads the node key of dir, creating it on first start.
func loadOrCreateKey(dir string) (*node.Key, error) {
	path := filepath.Join(dir, keyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the node key: %w", err)
	}
	key, err := node.ParseKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w; restore the file from a backup (a new key would change the node's identity)", path, err)
	}
	return key, nil
}

func createKey(path string) (*node.Key, error) {
	var id [4]byte
	rand.Read(id[:]) // never fails (crypto/rand documents it)
	skey, err := node.GenerateKey(fmt.Sprintf("entente-node-%x", id))
	if err != nil {
		return nil, err
	}
	// O_EXCL: two processes starting on the same new directory must not
	// overwrite each other's key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating the node key: %w", err)
	}
	if _, err := io.WriteString(f, skey+"\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing the node key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing the node key: %w", err)
	}
	return node.ParseKey(skey)
}

// parseArgs parses flags wherever they appear among the positional
// arguments and checks that there is one positional for each of names,
// which the errors use ("missing NAME").
func parseArgs(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	pos, err := interspersed(fs, args)
	if err != nil {
		return nil, err
	}
	switch {
	case len(pos) > len(names):
		fs.Usage()
		return nil, usageError("unexpected argument %q", pos[len(names)])
	case len(pos) < len(names):
		fs.Usage()
		return nil, usageError("missing %s", strings.Join(names[len(pos):], " and "))
	}
	return pos, nil
}

// interspersed parses flags wherever they appear among the positional
// arguments, which flag.Parse alone stops at, and returns the positionals.
// "--" ends the flags.
func interspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &exitError{Code: 0}
			}
			return nil, &exitError{Code: 2} // flag printed the error and the usage
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// metrics are the Prometheus metrics of a serving node, on a registry of
// their own so that nothing else in the process can add to them.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inFlight prometheus.Gauge
	alerts   *prometheus.CounterVec
	// federationAlerts counts alerts about partners, by kind.
	federationAlerts *prometheus.CounterVec
}

func newMetrics(st store.Store) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "entente_http_requests_total",
			Help: "TAXII requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "entente_http_request_duration_seconds",
			Help:    "Time to answer a TAXII request, by route pattern.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16), // 0.5 ms to 16 s
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "entente_http_requests_in_flight",
			Help: "HTTP requests being answered.",
		}),
	}
	// The store keeps this count as it writes (Store.Stats), so a scrape
	// costs a few rows whatever the number of objects, and it counts what
	// other processes wrote too.
	objects := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "entente_objects_stored",
		Help: "STIX object versions in the store, all collections together.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := st.Stats(ctx)
		if err != nil {
			return math.NaN() // Prometheus's way of saying "unknown"
		}
		return float64(s.Objects)
	})
	m.federationAlerts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "entente_federation_alerts_total",
		Help: "Alerts about partners: agreement violations, bad signatures, invalid objects, replayed pages, suspended links.",
	}, []string{"kind"})
	m.reg.MustRegister(m.requests, m.latency, m.inFlight, objects, m.federationAlerts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// observe counts and times one TAXII request. The route is the pattern
// that served it, which keeps the label to a bounded set whatever URLs
// clients send.
func (m *metrics) observe(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// countInFlight tracks the requests being answered, all routes together.
func (m *metrics) countInFlight(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		next.ServeHTTP(w, r)
	})
}

// partyOfNode returns the party that runs node id in a.
func partyOfNode(a *agreement.Agreement, id string) string {
	if p, _, ok := a.Node(id); ok {
		return p.ID
	}
	return ""
}
