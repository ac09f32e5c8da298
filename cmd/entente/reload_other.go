//go:build !unix

package main

import "os"

// reloadSignals make entente serve read its agreement file again; there
// is no SIGHUP here, so an amendment takes a restart.
var reloadSignals []os.Signal
