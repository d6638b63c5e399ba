package confine

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// devices are the host device nodes a container's /dev offers.
var devices = map[string]bool{
	"/dev/null": true, "/dev/zero": true, "/dev/full": true,
	"/dev/random": true, "/dev/urandom": true,
}

const writeFlags = unix.O_WRONLY | unix.O_RDWR | unix.O_CREAT | unix.O_TRUNC | unix.O_APPEND

func pathErr(op, p string, err error) error {
	if err == nil {
		return nil
	}
	return &fs.PathError{Op: op, Path: p, Err: err}
}

// OpenFile opens a guest path with os.OpenFile flags. The returned *os.File
// is named after the guest path, never the host one.
func (f *FS) OpenFile(p string, flag int, perm fs.FileMode) (*os.File, error) {
	if devices[path.Clean(p)] {
		return os.OpenFile(path.Clean(p), flag&^(unix.O_CREAT|unix.O_EXCL|unix.O_TRUNC), 0)
	}
	m, rel, err := f.resolve(p, flag&unix.O_NOFOLLOW == 0)
	if err != nil {
		return nil, err
	}
	if m.ro && flag&writeFlags != 0 {
		return nil, pathErr("open", p, unix.EROFS)
	}
	if flag&(unix.O_WRONLY|unix.O_RDWR|unix.O_TRUNC|unix.O_APPEND) != 0 {
		if err := f.breakLink(p, flag&unix.O_NOFOLLOW == 0); err != nil {
			return nil, err
		}
	}
	fd, err := openat2(int(m.dir.Fd()), rel, flag, uint32(perm.Perm()), resolveFlags)
	if err != nil {
		return nil, pathErr("open", p, err)
	}
	return os.NewFile(uintptr(fd), p), nil
}

// Open opens a guest path for reading.
func (f *FS) Open(p string) (*os.File, error) { return f.OpenFile(p, os.O_RDONLY, 0) }

// ReadFile reads a whole guest file.
func (f *FS) ReadFile(p string) ([]byte, error) {
	file, err := f.Open(p)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(file)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	return b, err
}

// WriteFile writes a whole guest file, creating or truncating it.
func (f *FS) WriteFile(p string, data []byte, perm fs.FileMode) error {
	file, err := f.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = file.Write(data)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	return err
}

// Stat follows symlinks, inside the container.
func (f *FS) Stat(p string) (fs.FileInfo, error) { return f.stat(p, true) }

// Lstat does not follow a final symlink.
func (f *FS) Lstat(p string) (fs.FileInfo, error) { return f.stat(p, false) }

func (f *FS) stat(p string, follow bool) (fs.FileInfo, error) {
	flags := unix.O_PATH
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	file, err := f.OpenFile(p, flags, 0)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, err
	}
	return namedInfo{fi, path.Base(path.Clean(p))}, nil
}

// ReadDir lists a guest folder, sorted by name.
func (f *FS) ReadDir(p string) ([]fs.DirEntry, error) {
	file, err := f.OpenFile(p, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	ents, err := file.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	sortEntries(ents)
	return ents, nil
}

// parent opens the folder holding the last component of p (resolved inside
// the container) for the *at calls that must not follow that component.
func (f *FS) parent(op, p string, write bool) (*os.File, string, *mount, error) {
	m, rel, err := f.resolve(p, false)
	if err != nil {
		return nil, "", nil, err
	}
	// "d/" names d: mkdir -p and rm -r pass trailing slashes.
	if trimmed := strings.TrimRight(rel, "/"); trimmed != "" {
		rel = trimmed
	}
	if rel == "." {
		return nil, "", nil, pathErr(op, p, unix.EBUSY) // the root or a mount point
	}
	dir, base := path.Split(rel)
	if base == "" || base == "." || base == ".." {
		return nil, "", nil, pathErr(op, p, unix.EINVAL)
	}
	if write && m.ro {
		return nil, "", nil, pathErr(op, p, unix.EROFS)
	}
	if dir == "" {
		dir = "."
	}
	fd, err := openat2(int(m.dir.Fd()), dir, unix.O_PATH|unix.O_DIRECTORY, 0, resolveFlags)
	if err != nil {
		return nil, "", nil, pathErr(op, p, err)
	}
	return os.NewFile(uintptr(fd), dir), base, m, nil
}

// Mkdir makes one folder. The root and mount points exist already.
func (f *FS) Mkdir(p string, perm fs.FileMode) error {
	d, base, _, err := f.parent("mkdir", p, true)
	if errors.Is(err, unix.EBUSY) {
		return pathErr("mkdir", p, unix.EEXIST)
	}
	if err != nil {
		return err
	}
	defer d.Close()
	return pathErr("mkdir", p, unix.Mkdirat(int(d.Fd()), base, uint32(perm.Perm())))
}

// MkdirAll makes a folder and its missing parents.
func (f *FS) MkdirAll(p string, perm fs.FileMode) error {
	if fi, err := f.Stat(p); err == nil {
		if fi.IsDir() {
			return nil
		}
		return pathErr("mkdir", p, unix.ENOTDIR)
	}
	cur := ""
	for _, c := range strings.Split(path.Clean("/"+p), "/") {
		if c == "" {
			continue
		}
		cur += "/" + c
		err := f.Mkdir(cur, perm)
		if err == nil {
			continue
		}
		if fi, serr := f.Stat(cur); serr == nil && fi.IsDir() {
			continue
		}
		return err
	}
	return nil
}

// Remove removes a file, symlink or empty folder.
func (f *FS) Remove(p string) error {
	d, base, _, err := f.parent("remove", p, true)
	if err != nil {
		return err
	}
	defer d.Close()
	err = unix.Unlinkat(int(d.Fd()), base, 0)
	if err == unix.EISDIR {
		err = unix.Unlinkat(int(d.Fd()), base, unix.AT_REMOVEDIR)
	}
	return pathErr("remove", p, err)
}

// Unlink removes a non-folder.
func (f *FS) Unlink(p string) error {
	d, base, _, err := f.parent("unlink", p, true)
	if err != nil {
		return err
	}
	defer d.Close()
	return pathErr("unlink", p, unix.Unlinkat(int(d.Fd()), base, 0))
}

// Rmdir removes an empty folder.
func (f *FS) Rmdir(p string) error {
	d, base, _, err := f.parent("rmdir", p, true)
	if err != nil {
		return err
	}
	defer d.Close()
	return pathErr("rmdir", p, unix.Unlinkat(int(d.Fd()), base, unix.AT_REMOVEDIR))
}

// RemoveAll removes a tree without following symlinks out of it.
func (f *FS) RemoveAll(p string) error {
	fi, err := f.Lstat(p)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	if fi.IsDir() {
		ents, err := f.ReadDir(p)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if err := f.RemoveAll(path.Join(p, e.Name())); err != nil {
				return err
			}
		}
	}
	return f.Remove(p)
}

// Rename moves within one mount; across mounts it fails with EXDEV, as the
// kernel does.
func (f *FS) Rename(from, to string) error {
	return f.pair("rename", from, to, func(d1 int, b1 string, d2 int, b2 string) error {
		return unix.Renameat(d1, b1, d2, b2)
	})
}

// Link makes a hard link within one mount.
func (f *FS) Link(from, to string) error {
	return f.pair("link", from, to, func(d1 int, b1 string, d2 int, b2 string) error {
		return unix.Linkat(d1, b1, d2, b2, 0)
	})
}

func (f *FS) pair(op, from, to string, do func(int, string, int, string) error) error {
	d1, b1, m1, err := f.parent(op, from, true)
	if err != nil {
		return err
	}
	defer d1.Close()
	d2, b2, m2, err := f.parent(op, to, true)
	if err != nil {
		return err
	}
	defer d2.Close()
	if m1 != m2 {
		return pathErr(op, to, unix.EXDEV)
	}
	return pathErr(op, from, do(int(d1.Fd()), b1, int(d2.Fd()), b2))
}

// Symlink stores target verbatim. It is only ever followed with
// RESOLVE_IN_ROOT (or by the mount walk), so "/" or "../.." in it stay inside.
func (f *FS) Symlink(target, link string) error {
	d, base, _, err := f.parent("symlink", link, true)
	if err != nil {
		return err
	}
	defer d.Close()
	return pathErr("symlink", link, unix.Symlinkat(target, int(d.Fd()), base))
}

// Readlink reads a symlink's target as stored.
func (f *FS) Readlink(p string) (string, error) {
	d, base, _, err := f.parent("readlink", p, false)
	if err != nil {
		return "", err
	}
	defer d.Close()
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(int(d.Fd()), base, buf)
	if err != nil {
		return "", pathErr("readlink", p, err)
	}
	return string(buf[:n]), nil
}

// Chmod changes mode bits. fchmod does not take O_PATH handles, so the mode
// is set through the handle's /proc/self/fd entry: the handle was resolved
// inside the container, the /proc link only names it.
func (f *FS) Chmod(p string, mode fs.FileMode) error {
	return f.onHandle("chmod", p, func(proc string) error { return os.Chmod(proc, mode) })
}

// Chtimes changes access and modification times.
func (f *FS) Chtimes(p string, atime, mtime time.Time) error {
	return f.onHandle("chtimes", p, func(proc string) error { return os.Chtimes(proc, atime, mtime) })
}

// Utimens sets times as utimensat(2) does: a Nsec of unix.UTIME_OMIT leaves
// that time alone, unix.UTIME_NOW takes the current time.
func (f *FS) Utimens(p string, ts [2]unix.Timespec) error {
	return f.onHandle("utimens", p, func(proc string) error {
		return unix.UtimesNanoAt(unix.AT_FDCWD, proc, ts[:], 0)
	})
}

func (f *FS) onHandle(op, p string, do func(proc string) error) error {
	m, _, err := f.resolve(p, true)
	if err != nil {
		return err
	}
	if m.ro {
		return pathErr(op, p, unix.EROFS)
	}
	if err := f.breakLink(p, true); err != nil {
		return err
	}
	file, err := f.OpenFile(p, unix.O_PATH, 0)
	if err != nil {
		return err
	}
	defer file.Close()
	return do("/proc/self/fd/" + strconv.Itoa(int(file.Fd())))
}

// Access checks R_OK/W_OK/X_OK on a guest path, for test -r/-w/-x and cd.
func (f *FS) Access(p string, mode uint32) error {
	if mode&unix.W_OK != 0 {
		if m, _, err := f.resolve(p, true); err == nil && m.ro {
			return pathErr("access", p, unix.EROFS)
		}
	}
	file, err := f.OpenFile(p, unix.O_PATH, 0)
	if err != nil {
		return err
	}
	defer file.Close()
	return pathErr("access", p, unix.Faccessat(int(file.Fd()), "", mode, unix.AT_EMPTY_PATH))
}

func sortEntries(ents []fs.DirEntry) {
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
}

type namedInfo struct {
	fs.FileInfo
	name string
}

func (n namedInfo) Name() string { return n.name }
