package memory

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/moby/moby/api/types/container"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/sandbox/confine"
)

// StatPath implements backend.Archiver.
func (b *Backend) StatPath(ctx context.Context, h backend.Handle, p string) (container.PathStat, error) {
	c, err := b.container(h)
	if err != nil {
		return container.PathStat{}, err
	}
	return statPath(c.FS(), p)
}

// assertsDir says whether a docker cp path ends in / or /. and so names a
// folder: a file there is an error, and a symlink is followed.
func assertsDir(p string) bool {
	return strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.")
}

func statPath(fsys *confine.FS, raw string) (container.PathStat, error) {
	p := path.Clean("/" + raw)
	lstat := fsys.Lstat
	if assertsDir(raw) {
		lstat = fsys.Stat
	}
	fi, err := lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return container.PathStat{}, errdefs.NotFound("Could not find the file %s in container", p)
		}
		return container.PathStat{}, err
	}
	if assertsDir(raw) && !fi.IsDir() {
		return container.PathStat{}, fmt.Errorf("lstat %s: not a directory", raw)
	}
	st := container.PathStat{Name: path.Base(p), Size: fi.Size(), Mode: fi.Mode(), Mtime: fi.ModTime()}
	if strings.HasSuffix(raw, "/.") {
		st.Name = "." // the folder's contents, as dockerd names them
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if st.LinkTarget, err = fsys.Readlink(p); err != nil {
			return container.PathStat{}, err
		}
	}
	return st, nil
}

// GetArchive writes a tar of p whose top entry is p's base name, as docker
// cp expects.
func (b *Backend) GetArchive(ctx context.Context, h backend.Handle, p string, w io.Writer) (container.PathStat, error) {
	c, err := b.container(h)
	if err != nil {
		return container.PathStat{}, err
	}
	st, err := statPath(c.FS(), p)
	if err != nil {
		return st, err
	}
	tw := tar.NewWriter(w)
	if err := addToTar(ctx, c.FS(), tw, path.Clean("/"+p), st.Name, assertsDir(p)); err != nil {
		return st, err
	}
	return st, tw.Close()
}

// addToTar writes p and what it holds as name; follow reads a symlink at p
// as what it points to.
func addToTar(ctx context.Context, fsys *confine.FS, tw *tar.Writer, p, name string, follow bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stat := fsys.Lstat
	if follow {
		stat = fsys.Stat
	}
	fi, err := stat(p)
	if err != nil {
		return err
	}
	var link string
	if fi.Mode()&fs.ModeSymlink != 0 {
		if link, err = fsys.Readlink(p); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return err
	}
	hdr.Name = name
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
	if fi.IsDir() {
		hdr.Name += "/"
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	switch {
	case fi.Mode().IsRegular():
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		return errors.Join(err, f.Close())
	case fi.IsDir():
		ents, err := fsys.ReadDir(p)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if err := addToTar(ctx, fsys, tw, path.Join(p, e.Name()), name+"/"+e.Name(), false); err != nil {
				return err
			}
		}
	}
	return nil
}

// PutArchive extracts a tar into the folder p.
func (b *Backend) PutArchive(ctx context.Context, h backend.Handle, p string, noOverwriteDirNonDir bool, r io.Reader) error {
	c, err := b.container(h)
	if err != nil {
		return err
	}
	fi, err := c.FS().Stat(path.Clean("/" + p))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errdefs.NotFound("Could not find the file %s in container", p)
		}
		return err
	}
	if !fi.IsDir() {
		return errdefs.InvalidParameter("extraction point is not a directory")
	}
	if err := c.FS().ExtractTar(p, r); err != nil {
		if errors.Is(err, confine.ErrBreakout) {
			return errdefs.InvalidParameter("%v", err)
		}
		return err
	}
	return nil
}

// Top implements backend.Inspector.
func (b *Backend) Top(ctx context.Context, h backend.Handle) ([]backend.TopProcess, error) {
	c, err := b.container(h)
	if err != nil {
		return nil, err
	}
	var out []backend.TopProcess
	for _, p := range c.Top() {
		out = append(out, backend.TopProcess{PID: p.PID, PPID: p.PPID, Started: p.Started, Args: p.Args})
	}
	return out, nil
}

// Stats implements backend.Inspector.
func (b *Backend) Stats(ctx context.Context, h backend.Handle) (backend.Stats, error) {
	c, err := b.container(h)
	if err != nil {
		return backend.Stats{}, err
	}
	s := c.Stats()
	return backend.Stats{Processes: s.Processes, MemoryBytes: s.MemoryBytes, CPU: s.CPU}, nil
}

var (
	_ backend.Archiver  = (*Backend)(nil)
	_ backend.Inspector = (*Backend)(nil)
)
