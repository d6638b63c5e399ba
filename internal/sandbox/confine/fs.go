package confine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// ErrNoOpenat2 reports a kernel (or seccomp profile) without openat2, which
// the sandbox needs to confine paths. The sandbox refuses to start without it.
var ErrNoOpenat2 = errors.New("confine: openat2 with RESOLVE_IN_ROOT is not available (Linux 5.6 or later is required, and seccomp must allow it)")

const resolveFlags = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// maxSymlinks is the kernel's limit of symlinks followed in one lookup.
const maxSymlinks = 40

var probeOnce = sync.OnceValue(func() error {
	fd, err := openat2(unix.AT_FDCWD, "/", unix.O_PATH|unix.O_DIRECTORY, 0, resolveFlags)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoOpenat2, err)
	}
	return unix.Close(fd)
})

// Check reports whether this kernel can confine paths; it returns an error
// wrapping [ErrNoOpenat2] when it cannot.
func Check() error { return probeOnce() }

// Mount binds a host folder at a guest path.
type Mount struct {
	// Target is the absolute guest path.
	Target string
	// Source is the host folder. Its contents are reachable; nothing above it.
	Source string
	// ReadOnly makes every write under Target fail with EROFS.
	ReadOnly bool
}

type mount struct {
	target string // cleaned guest path, "/" for the root
	dir    *os.File
	ro     bool
}

// FS is a container root with its mount table. It is safe for concurrent use.
type FS struct {
	mounts []*mount // longest target first; the root ("/") is last
}

// New opens root (a host folder) and the mounts. Mount targets are created in
// the root when missing, as Docker creates mount points. The caller owns the
// FS and must Close it.
func New(root string, mounts []Mount) (*FS, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	rootDir, err := openDir(root)
	if err != nil {
		return nil, err
	}
	f := &FS{mounts: []*mount{{target: "/", dir: rootDir}}}
	for _, m := range mounts {
		if !path.IsAbs(m.Target) {
			return nil, errors.Join(fmt.Errorf("confine: mount target %q is not absolute", m.Target), f.Close())
		}
		target := path.Clean(m.Target)
		if target == "/" {
			return nil, errors.Join(fmt.Errorf("confine: cannot mount over the root (source %q)", m.Source), f.Close())
		}
		if err := f.MkdirAll(target, 0o755); err != nil {
			return nil, errors.Join(fmt.Errorf("confine: mount point %q: %w", target, err), f.Close())
		}
		d, err := openDir(m.Source)
		if err != nil {
			return nil, errors.Join(err, f.Close())
		}
		f.mounts = append(f.mounts, &mount{target: target, dir: d, ro: m.ReadOnly})
		sort.SliceStable(f.mounts, func(i, j int) bool { return len(f.mounts[i].target) > len(f.mounts[j].target) })
	}
	return f, nil
}

func openDir(host string) (*os.File, error) {
	fd, err := unix.Open(host, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: host, Err: err}
	}
	return os.NewFile(uintptr(fd), host), nil
}

// Close releases the root and mount handles.
func (f *FS) Close() error {
	var errs []error
	for _, m := range f.mounts {
		errs = append(errs, m.dir.Close())
	}
	return errors.Join(errs...)
}

func openat2(dirfd int, p string, flags int, mode uint32, resolve uint64) (int, error) {
	if flags&unix.O_CREAT == 0 && flags&unix.O_TMPFILE != unix.O_TMPFILE {
		mode = 0 // openat2 rejects a mode without O_CREAT
	}
	how := &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Mode: uint64(mode), Resolve: resolve}
	for {
		fd, err := unix.Openat2(dirfd, p, how)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		return fd, err
	}
}

// owner finds the mount that holds a cleaned absolute guest path and the path
// relative to it.
func (f *FS) owner(clean string) (*mount, string) {
	for _, m := range f.mounts {
		if m.target == "/" {
			return m, relOf(clean)
		}
		if clean == m.target {
			return m, "."
		}
		if strings.HasPrefix(clean, m.target+"/") {
			return m, relOf(clean[len(m.target):])
		}
	}
	panic("confine: mount table without a root")
}

func relOf(p string) string {
	p = strings.TrimLeft(p, "/")
	if p == "" {
		return "."
	}
	return p
}

// resolve maps a guest path to the mount that owns it and the path relative
// to that mount. Without extra mounts the raw path goes to the kernel, which
// resolves "..", symlinks and absolute links inside the root. With mounts,
// intermediate symlinks (and the last one when followLast) are expanded here
// so that the right mount is chosen; the returned path then holds no symlink
// in its directories, and the kernel still confines the final open.
func (f *FS) resolve(p string, followLast bool) (*mount, string, error) {
	if !path.IsAbs(p) {
		return nil, "", &fs.PathError{Op: "resolve", Path: p, Err: unix.EINVAL}
	}
	if len(f.mounts) == 1 {
		return f.mounts[0], relOf(p), nil
	}
	canon, err := f.canonical(p, followLast)
	if err != nil {
		return nil, "", err
	}
	m, rel := f.owner(canon)
	return m, rel, nil
}

// Realpath returns the canonical guest path of p: every symlink expanded
// inside the container, "." and ".." applied. Missing trailing components
// are kept as written.
func (f *FS) Realpath(p string) (string, error) {
	if !path.IsAbs(p) {
		return "", &fs.PathError{Op: "realpath", Path: p, Err: unix.EINVAL}
	}
	return f.canonical(p, true)
}

// canonical expands symlinks component by component. Each step looks at one
// component through openat2 in the mount that owns it.
func (f *FS) canonical(p string, followLast bool) (string, error) {
	var cur []string
	rest := strings.Split(p, "/")
	links := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) > 0 {
				cur = cur[:len(cur)-1]
			}
			continue
		}
		next := append(cur[:len(cur):len(cur)], c)
		if !followLast && !hasMore(rest) {
			cur = next
			break
		}
		target, isLink, err := f.readlinkIfLink("/" + strings.Join(next, "/"))
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				// The rest does not exist yet (a create): keep it lexical.
				cur = next
				continue
			}
			return "", &fs.PathError{Op: "resolve", Path: p, Err: err}
		}
		if !isLink {
			cur = next
			continue
		}
		if links++; links > maxSymlinks {
			return "", &fs.PathError{Op: "resolve", Path: p, Err: unix.ELOOP}
		}
		if path.IsAbs(target) {
			cur = nil
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return "/" + strings.Join(cur, "/"), nil
}

func hasMore(rest []string) bool {
	for _, c := range rest {
		if c != "" && c != "." {
			return true
		}
	}
	return false
}

// readlinkIfLink looks at one canonical guest path without following its last
// component. Mount points are never links.
func (f *FS) readlinkIfLink(clean string) (string, bool, error) {
	m, rel := f.owner(clean)
	if rel == "." {
		return "", false, nil
	}
	fd, err := openat2(int(m.dir.Fd()), rel, unix.O_PATH|unix.O_NOFOLLOW, 0, resolveFlags)
	if err != nil {
		return "", false, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", false, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return "", false, nil
	}
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return "", false, err
	}
	return string(buf[:n]), true, nil
}
