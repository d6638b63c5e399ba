// SPDX-License-Identifier: GPL-2.0-only

// Package dist carries the BusyBox userland of the memory backend:
// busybox.wasm, built by ../build.sh from Debian's BusyBox source,
// and applets.txt, the applet names compiled into it.
//
// The module is a separate program (GPL-2.0-only) that the sandbox runs in a
// WebAssembly virtual machine and talks to only through argv, environment,
// stdio and files; the recipe in the parent folder and its SOURCE-OFFER.md are its
// corresponding source. CI rebuilds it and checks the bytes against
// busybox.wasm.sha256.
package dist

import (
	_ "embed"
	"strings"
)

// Wasm is the BusyBox module (wasm32-wasi).
//
//go:embed busybox.wasm
var Wasm []byte

//go:embed applets.txt
var appletList string

// Applets returns the applet names compiled into Wasm.
func Applets() []string { return strings.Fields(appletList) }
