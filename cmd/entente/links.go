package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entente/entente/federation"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// defaultSyncInterval is the time between two pulls from a partner once
// caught up (--sync-interval).
const defaultSyncInterval = federation.DefaultInterval

// partnerURLs is the --partner-url flag, given once per node: NODE=URL
// replaces the TAXII URL the agreement gives for the partner node NODE.
// Tests and the demo use it to reach partners on loopback ports.
type partnerURLs map[string]string

func (p partnerURLs) String() string {
	var s []string
	for n, u := range p {
		s = append(s, n+"="+u)
	}
	slices.Sort(s)
	return strings.Join(s, ",")
}

func (p partnerURLs) Set(v string) error {
	n, u, ok := strings.Cut(v, "=")
	if !ok || n == "" || u == "" {
		return fmt.Errorf("%q: want NODE=URL, such as borealis-node-1=https://127.0.0.1:8444/taxii2/", v)
	}
	if _, _, err := clientBase(u); err != nil {
		return err
	}
	if _, dup := p[n]; dup {
		return fmt.Errorf("node %q given twice", n)
	}
	p[n] = u
	return nil
}

// clientBase splits a node's TAXII URL as the agreement writes it into the
// base URL a taxii.Client takes and the API root: a URL ending in
// /taxii2/ is the discovery resource (the API root is then discovered);
// any other is the API root itself.
func clientBase(raw string) (base, apiRoot string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return "", "", fmt.Errorf("%q is not an absolute https URL of a TAXII server", raw)
	}
	root := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}
	p := strings.TrimSuffix(u.Path, "/")
	if p == "/taxii2" || strings.HasSuffix(p, "/taxii2") {
		root.Path = strings.TrimSuffix(p, "taxii2")
		return root.String(), "", nil
	}
	return root.String(), u.String(), nil
}

// newLinks makes a federation.Link for every partner node of the agreement
// n works under that has a URL (urls overrides the agreement's), each
// reaching its partner over mutual TLS with the node key.
func newLinks(n *node.Node, urls partnerURLs, interval time.Duration, logger *slog.Logger) ([]*federation.Link, error) {
	var links []*federation.Link
	for _, p := range n.Peers() {
		u := p.URL
		if o, ok := urls[p.Node]; ok {
			u = o
		}
		if u == "" {
			continue
		}
		base, root, err := clientBase(u)
		if err != nil {
			return nil, fmt.Errorf("partner node %s: %w", p.Node, err)
		}
		tlsConfig, err := n.PeerTLSConfig(p.Node)
		if err != nil {
			return nil, fmt.Errorf("partner node %s: %w", p.Node, err)
		}
		client, err := taxii.NewClient(base, taxii.ClientOptions{TLSConfig: tlsConfig, UserAgent: "entente-federation"})
		if err != nil {
			return nil, fmt.Errorf("partner node %s: %w", p.Node, err)
		}
		l, err := federation.New(federation.Config{Peer: p.Peer, Client: client, Sink: n, APIRoot: root,
			Interval: interval, Logger: logger})
		if err != nil {
			return nil, err
		}
		links = append(links, l)
	}
	for u := range urls {
		if !slices.ContainsFunc(links, func(l *federation.Link) bool { return l.Peer().Node == u }) {
			return nil, fmt.Errorf("--partner-url names %q, which is not a partner node of the agreement", u)
		}
	}
	return links, nil
}

// pusher queues items on the link to their partner node.
func pusher(links []*federation.Link) node.Pusher {
	byNode := map[string]*federation.Link{}
	for _, l := range links {
		byNode[l.Peer().Node] = l
	}
	return func(partner string, items ...federation.Incoming) bool {
		l, ok := byNode[partner]
		if ok {
			l.Enqueue(items...)
		}
		return ok
	}
}

// runLinks runs every link until ctx ends.
func runLinks(ctx context.Context, links []*federation.Link) error {
	done := make(chan struct{}, len(links))
	for _, l := range links {
		go func() {
			l.Run(ctx)
			done <- struct{}{}
		}()
	}
	for range links {
		<-done
	}
	return nil
}

// linkCollector exports each link's health on /metrics. Labels are
// partner node ids, which the agreement bounds.
type linkCollector struct {
	links []*federation.Link
	// cosigned returns the size of the latest checkpoint of a partner's
	// log that this node cosigned, false if none.
	cosigned                     func(origin string) (int64, bool)
	checkpoint                   *prometheus.Desc
	up, lastSuccess, lag, behind *prometheus.Desc
	stored, refused, errors      *prometheus.Desc
	suspended, queued            *prometheus.Desc
}

func newLinkCollector(links []*federation.Link, cosigned func(origin string) (int64, bool)) *linkCollector {
	labels := []string{"partner", "party"}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("entente_federation_"+name, help, labels, nil)
	}
	return &linkCollector{
		links:       links,
		cosigned:    cosigned,
		checkpoint:  d("cosigned_checkpoint_size", "Size of the latest checkpoint of the partner's log that this node cosigned as its witness."),
		up:          d("link_caught_up", "1 when the link's last pull reached the end of every collection the partner shares and nothing new has come since."),
		lastSuccess: d("last_success_timestamp_seconds", "When the link last stored a page from the partner (Unix time, 0 for never)."),
		lag:         d("lag_seconds", "Time since the link last held everything the partner offered."),
		behind:      d("lag_objects", "Object versions pulled since the link was last caught up."),
		stored:      d("received_total", "Object versions received from the partner and stored."),
		refused:     d("refused_total", "Object versions the partner sent that were refused: bad signature or outside its rule."),
		errors:      d("errors_total", "Failed pulls from the partner."),
		suspended:   d("suspended", "1 while the link is suspended because the partner's log forked or rolled back."),
		queued:      d("push_queued", "Items waiting to be pushed to the partner."),
	}
}

func (c *linkCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.checkpoint, c.up, c.lastSuccess, c.lag, c.behind, c.stored, c.refused, c.errors, c.suspended, c.queued} {
		ch <- d
	}
}

func (c *linkCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	for _, l := range c.links {
		h := l.Health()
		lv := []string{h.Node, h.Party}
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
		}
		counter := func(d *prometheus.Desc, v int64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), lv...)
		}
		// Caught up at the end of the last pull, with nothing new since
		// (a poll in progress that finds nothing keeps it so).
		gauge(c.up, b2f(!h.CaughtUp.IsZero() && h.Behind == 0 && h.LastError == "" && h.Suspended == ""))
		last := 0.0
		if !h.LastSuccess.IsZero() {
			last = float64(h.LastSuccess.UnixNano()) / 1e9
		}
		gauge(c.lastSuccess, last)
		gauge(c.lag, h.Lag(now).Seconds())
		gauge(c.behind, float64(h.Behind))
		counter(c.stored, h.Stored)
		counter(c.refused, h.Refused)
		counter(c.errors, h.Errors)
		gauge(c.suspended, b2f(h.Suspended != ""))
		gauge(c.queued, float64(l.Queued()))
		if size, ok := c.cosigned(h.Log); ok {
			gauge(c.checkpoint, float64(size))
		}
	}
}

// cosignedSize reads the size of the latest checkpoint of the log origin
// that the node cosigned.
func cosignedSize(st store.Store) func(origin string) (int64, bool) {
	return func(origin string) (int64, bool) {
		if origin == "" {
			return 0, false
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		note, err := st.WitnessedCheckpoint(ctx, origin)
		if err != nil {
			return 0, false
		}
		lines := strings.SplitN(string(note), "\n", 3)
		if len(lines) < 3 {
			return 0, false
		}
		size, err := strconv.ParseInt(lines[1], 10, 64)
		return size, err == nil
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
