// Package confine is the one place where the sandbox turns a guest path into
// a host file. Every path the memory backend touches — shell redirections and
// globs, WASI guests, host helpers, tar extraction — goes through an [FS].
//
// Confinement is the kernel's, not ours: every open is Linux
// openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) relative to a directory
// handle of the container root or of a mount's source. ".." stops at that
// directory and absolute symlinks resolve inside it, exactly as under chroot,
// so a symlink planted in an image or made by a script cannot reach a host
// file. wazero's WithDirMount and os.Root are not used: the first follows
// host symlinks, the second refuses the absolute symlinks images are full of.
//
// Mounts (binds and volumes) form a table; the longest target prefix wins.
// When the table has mounts besides the root, paths are canonicalised
// component by component (each step itself an openat2 in the owning mount)
// so that a symlink in the root that points into a volume lands in the volume,
// as it would in a kernel mount namespace. The walk only chooses which mount
// to open in; a mistake in it cannot widen what the kernel lets through.
//
// A few device paths (/dev/null, /dev/zero, /dev/random, /dev/urandom,
// /dev/full) are served from the host's device nodes, as a container's /dev
// would be; nothing else under the host's /dev is reachable.
package confine
