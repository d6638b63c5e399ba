package confine

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// Copy-on-write of hard-linked files in the container root.
//
// The memory backend builds a container's root by hard-linking the files of
// an unpacked image (one inode per file, shared by every container of the
// image), which makes creating a container cheap. A file with more than one
// link in the root is therefore copied before anything changes it — its
// content (an open for writing) or its metadata (chmod, times) — so no
// container ever changes another's files or the image's. Hard links inside
// an image become separate files on the first write, which is the one
// visible difference. Mounts (binds, volumes) are the user's own folders
// and are never copied.

// breakLink makes p's file (following symlinks when follow) a file of its
// own if it is shared by hard links.
func (f *FS) breakLink(p string, follow bool) error {
	canon := path.Clean(p)
	if follow {
		c, err := f.canonical(p, true)
		if err != nil {
			return err
		}
		canon = c
	}
	m, rel := f.owner(canon)
	if m.target != "/" || rel == "." {
		return nil
	}
	src, err := openat2(int(m.dir.Fd()), rel, unix.O_RDONLY|unix.O_NOFOLLOW, 0, resolveFlags)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ELOOP) {
			return nil // nothing there (a create), or a symlink: nothing to copy
		}
		return pathErr("open", p, err)
	}
	srcFile := os.NewFile(uintptr(src), p)
	defer srcFile.Close()
	var st unix.Stat_t
	if err := unix.Fstat(src, &st); err != nil {
		return pathErr("stat", p, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink <= 1 {
		return nil
	}
	dir, base := path.Split(rel)
	if dir == "" {
		dir = "."
	}
	dfd, err := openat2(int(m.dir.Fd()), dir, unix.O_PATH|unix.O_DIRECTORY, 0, resolveFlags)
	if err != nil {
		return pathErr("open", p, err)
	}
	defer unix.Close(dfd)
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return err
	}
	tmp := ".sockerless-cow-" + hex.EncodeToString(suffix)
	dst, err := openat2(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW, st.Mode&0o7777, resolveFlags)
	if err != nil {
		return pathErr("copy-on-write", p, err)
	}
	dstFile := os.NewFile(uintptr(dst), tmp)
	_, err = io.Copy(dstFile, srcFile)
	if err == nil {
		err = unix.Fchmod(dst, st.Mode&0o7777)
	}
	if err == nil {
		err = unix.UtimesNanoAt(dfd, tmp, []unix.Timespec{st.Atim, st.Mtim}, unix.AT_SYMLINK_NOFOLLOW)
	}
	if cerr := dstFile.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(dfd, tmp, dfd, base)
	}
	if err != nil {
		return errors.Join(pathErr("copy-on-write", p, err), ignoreENOENT(unix.Unlinkat(dfd, tmp, 0)))
	}
	return nil
}

func ignoreENOENT(err error) error {
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	return err
}
