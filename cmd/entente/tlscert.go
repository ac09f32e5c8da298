package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/entente/entente/node"
)

// runTLS implements "entente tls verify --node-key VKEY FILE".
func runTLS(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return usageError("usage: entente tls verify --node-key VKEY FILE")
	}
	switch args[0] {
	case "verify":
		return runTLSVerify(env, args[1:])
	}
	return usageError("unknown subcommand %q; use verify", args[0])
}

// runTLSVerify checks that the PEM certificate in FILE ("-" for standard
// input), such as one saved from a browser's certificate viewer, is the
// browser certificate of the node whose key is VKEY (the agreement's node
// key, or serve's "node key:" line), and prints its fingerprints. It exits
// 0 if it is, 1 if it is not, and 2 if it could not tell.
func runTLSVerify(env *Env, args []string) error {
	fset := flag.NewFlagSet("tls verify", flag.ContinueOnError)
	fset.SetOutput(env.Stderr)
	vkey := fset.String("node-key", "", "the node's verifier `key`, as the agreement pins it (serve prints it as \"node key:\")")
	fset.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: entente tls verify --node-key VKEY FILE")
		fmt.Fprintln(env.Stderr, "Checks that the PEM certificate in FILE (- for stdin) is the browser certificate the node key issued.")
		fset.PrintDefaults()
	}
	pos, err := parseArgs(fset, args, "FILE")
	if err != nil {
		return err
	}
	if *vkey == "" {
		fset.Usage()
		return usageError("--node-key is missing: give the node's key as the agreement pins it")
	}
	path := pos[0]
	var data []byte
	if path == "-" {
		data, err = io.ReadAll(env.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	cert, err := parsePEMCertificate(data)
	if err != nil {
		return &exitError{Code: 2, Err: fmt.Errorf("%s: %w", path, err)}
	}
	if err := node.VerifyBrowserCertificate(cert, *vkey); errors.Is(err, node.ErrNotBrowserCertificate) {
		return &exitError{Code: 1, Err: fmt.Errorf("%s: %w", path, err)}
	} else if err != nil {
		return usageError("--node-key: %v", err)
	}
	fmt.Fprintf(env.Stdout, "%s: the browser certificate of node key %s\n", path, *vkey)
	fmt.Fprintf(env.Stdout, "sha-256 fingerprint: %s\n", node.Fingerprint(cert.Raw))
	fmt.Fprintf(env.Stdout, "spki sha-256: %s\n", node.SPKIFingerprint(cert))
	return nil
}

// parsePEMCertificate returns the first certificate of a PEM file.
func parsePEMCertificate(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM certificate (-----BEGIN CERTIFICATE-----) in the file; save the certificate as PEM")
		}
		if b.Type == "CERTIFICATE" {
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("the PEM certificate does not parse: %w", err)
			}
			return cert, nil
		}
	}
}
