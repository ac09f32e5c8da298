package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/node"
	"github.com/entente/entente/taxii"
)

// TestClockOffset checks the test hook that skews a node's clock: an
// object added to a node started with ENTENTE_CLOCK_OFFSET=-10m gets a
// date_added ten minutes behind the real clock.
func TestClockOffset(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node")
	}
	t.Setenv(clockOffsetEnv, "-10m")
	n := startServe(t, filepath.Join(t.TempDir(), "data"))
	c, err := taxii.NewClient(n.base+"/", taxii.ClientOptions{Token: n.adminToken, HTTPClient: n.client})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if _, err := c.AddObjects(t.Context(), node.DefaultAPIRoot, "default", []json.RawMessage{stixIndicator(1, "2024-01-01T00:00:00.000Z")}); err != nil {
		t.Fatal(err)
	}
	m, _, err := c.Manifest(t.Context(), node.DefaultAPIRoot, "default", taxii.Query{})
	if err != nil || len(m.Objects) != 1 {
		t.Fatalf("Manifest: %+v, %v", m, err)
	}
	added, err := time.Parse(time.RFC3339Nano, m.Objects[0].DateAdded)
	if err != nil {
		t.Fatal(err)
	}
	if skew := before.Sub(added); skew < 9*time.Minute || skew > 11*time.Minute {
		t.Errorf("date_added %s is %v behind the real clock; want about 10m", added, skew)
	}
}

func TestClockOffsetInvalid(t *testing.T) {
	t.Setenv(clockOffsetEnv, "ten minutes")
	_, stderr, code := execEntente(t, "serve", "--data", filepath.Join(t.TempDir(), "data"), "--addr", "127.0.0.1:0", "--metrics-addr", "off")
	if code != 1 || !strings.Contains(stderr, clockOffsetEnv) {
		t.Errorf("exit %d, stderr %q; want 1 naming %s", code, stderr, clockOffsetEnv)
	}
}
