// Package examples holds the example agreements and their keys, which are
// for examples only, so that 'entente demo' runs from the binary alone.
// The agreement format is described in doc/agreement.md.
package examples

import "embed"

// FS holds the example agreements (*.yaml) and keys (keys/*.key).
//
//go:embed *.yaml keys/*.key
var FS embed.FS

// Trilateral is the name in FS of the agreement among Arcadia, Borealis and
// Caledonia that 'entente demo' runs.
const Trilateral = "arcadia-borealis-caledonia.yaml"
