// Package sandbox is the execution engine of the memory backend: it runs
// container processes in-process, with no container runtime.
//
// A [Container] is a root folder plus a mount table ([confine.FS]); a
// [Process] is a command line started in it. Shell syntax runs in the
// mvdan.cc/sh interpreter, external commands are BusyBox applets or .wasm
// files run by wazero ([wasm]), and every path is resolved by the kernel
// inside the root (openat2 RESOLVE_IN_ROOT). Native executables are never run.
//
// The figures a container reports (processes, live instances, linear memory,
// CPU time) are measured, never estimated; see [Container.Stats].
package sandbox
