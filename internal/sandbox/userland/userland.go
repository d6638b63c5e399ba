// Package userland is the sandbox's built-in userland: the BusyBox module
// (third_party/busybox) and the names of its applets.
package userland

import "github.com/sockerless/sockerless/third_party/busybox/dist"

// Module returns the BusyBox wasm32-wasi module.
func Module() []byte { return dist.Wasm }

// Applets returns the set of applet names the module answers to.
func Applets() map[string]bool {
	set := map[string]bool{}
	for _, a := range dist.Applets() {
		set[a] = true
	}
	return set
}
