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

// statPath stats p as dockerd's archive endpoints do: a trailing "/" or
// "/." follows a symlink and requires a folder, and "DIR/." is named "."
// (its tar entries are "./…", which docker cp reads as "the folder's
// contents"). A symlink's LinkTarget is the path it resolves to.
func statPath(fsys *confine.FS, p string) (container.PathStat, error) {
	clean := path.Clean("/" + p)
	dirOnly := strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.")
	stat := fsys.Lstat
	if dirOnly {
		stat = fsys.Stat
	}
	fi, err := stat(clean)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return container.PathStat{}, errdefs.NotFound("Could not find the file %s in container", p)
		}
		return container.PathStat{}, err
	}
	if dirOnly && !fi.IsDir() {
		return container.PathStat{}, fmt.Errorf("lstat %s: not a directory", p)
	}
	st := container.PathStat{Name: path.Base(clean), Size: fi.Size(), Mode: fi.Mode(), Mtime: fi.ModTime()}
	if strings.HasSuffix(p, "/.") {
		st.Name = "."
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if st.LinkTarget, err = fsys.Realpath(clean); err != nil {
			return container.PathStat{}, err
		}
	}
	return st, nil
}

// GetArchive writes a tar of p whose top entry is named as statPath names
// it, as docker cp expects.
func (b *Backend) GetArchive(ctx context.Context, h backend.Handle, p string, w io.Writer) (container.PathStat, error) {
	c, err := b.container(h)
	if err != nil {
		return container.PathStat{}, err
	}
	st, err := statPath(c.FS(), p)
	if err != nil {
		return st, err
	}
	src := path.Clean("/" + p)
	if st.Mode.IsDir() {
		// A trailing slash may have followed a link: walk the folder it
		// names, under the name the client asked for.
		if src, err = c.FS().Realpath(src); err != nil {
			return st, err
		}
	}
	tw := tar.NewWriter(w)
	if err := addToTar(ctx, c.FS(), tw, src, st.Name); err != nil {
		return st, err
	}
	return st, tw.Close()
}

// addToTar writes p and what it holds as name.
func addToTar(ctx context.Context, fsys *confine.FS, tw *tar.Writer, p, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := fsys.Lstat(p)
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
			if err := addToTar(ctx, fsys, tw, path.Join(p, e.Name()), name+"/"+e.Name()); err != nil {
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
		if errors.Is(err, io.ErrUnexpectedEOF) {
			// A truncated or non-tar body: dockerd's answer is this bare
			// message, with no class (a 500).
			return io.ErrUnexpectedEOF
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
