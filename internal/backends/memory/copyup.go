package memory

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/sandbox/confine"
)

// copyUp populates an empty volume with what the container's root holds at
// the mount's target, as Docker does for a new volume: folders, files
// (with their modes and times) and symlinks as they are. Both sides are
// read and written through confine, so neither a link in the image nor
// one already in the volume can lead out.
func copyUp(root *confine.FS, m backend.Mount) error {
	if !m.CopyUp {
		return nil
	}
	fi, err := root.Stat(m.Target)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.IsDir()) {
		return nil // nothing at the target to copy
	}
	if err != nil {
		return err
	}
	ents, err := os.ReadDir(m.Source)
	if err != nil || len(ents) > 0 {
		return err // a volume with content keeps it
	}
	vol, err := confine.New(m.Source, nil)
	if err != nil {
		return err
	}
	return errors.Join(copyTree(root, vol, m.Target, "/"), vol.Close())
}

func copyTree(from, to *confine.FS, src, dst string) error {
	ents, err := from.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		s, d := path.Join(src, e.Name()), path.Join(dst, e.Name())
		fi, err := from.Lstat(s)
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := from.Readlink(s)
			if err == nil {
				err = to.Symlink(target, d)
			}
			if err != nil {
				return err
			}
		case fi.IsDir():
			if err := to.Mkdir(d, fi.Mode().Perm()); err != nil {
				return err
			}
			if err := copyTree(from, to, s, d); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			if err := copyFile(from, to, s, d, fi); err != nil {
				return err
			}
		}
		// Devices, sockets and pipes are not copied: the sandbox has none.
	}
	return nil
}

func copyFile(from, to *confine.FS, s, d string, fi fs.FileInfo) error {
	in, err := from.Open(s)
	if err != nil {
		return err
	}
	out, err := to.OpenFile(d, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return errors.Join(err, in.Close())
	}
	_, err = io.Copy(out, in)
	if err = errors.Join(err, out.Close(), in.Close()); err != nil {
		return err
	}
	return to.Chtimes(d, fi.ModTime(), fi.ModTime())
}
