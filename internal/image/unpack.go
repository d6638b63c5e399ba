package image

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
)

// OCI whiteout names: a ".wh.NAME" entry deletes NAME from the layers
// below; ".wh..wh..opq" in a folder hides everything the layers below put
// there.
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// Extractor is the container root that [Store.Unpack] writes to. The
// sandbox's *confine.FS implements it; every path is inside the root.
//
// ExtractTar unpacks a plain tar under dst. Lstat, ReadDir and RemoveAll
// behave as their os counterparts on paths of the root.
type Extractor interface {
	ExtractTar(dst string, r io.Reader) error
	Lstat(p string) (fs.FileInfo, error)
	ReadDir(p string) ([]fs.DirEntry, error)
	RemoveAll(p string) error
}

// Unpack applies the layers of the image ref resolves to onto dst, base
// first. Before a layer's files are extracted, its whiteouts are applied to
// what the layers below left, and an entry whose kind (folder or not)
// differs from what is there replaces it; whiteout entries themselves are
// not extracted.
//
// # Errors
//
// As [Store.Get]; the extractor's errors; ctx's error when it is done.
func (s *Store) Unpack(ctx context.Context, ref string, dst Extractor) error {
	s.mu.Lock()
	rec, err := s.resolveLocked(ref)
	var files []*os.File
	if err == nil {
		// Open every layer under the lock: a concurrent Remove may unlink
		// the files afterwards, and open files stay readable.
		for _, d := range rec.diffIDs {
			f, oerr := os.Open(s.layerPathID(d))
			if oerr != nil {
				err = fmt.Errorf("image: layer %s: %w", d, oerr)
				break
			}
			files = append(files, f)
		}
	}
	s.mu.Unlock()
	defer func() {
		for _, f := range files {
			if cerr := f.Close(); cerr != nil {
				s.logger.Warn("layer close failed", "path", f.Name(), "err", cerr)
			}
		}
	}()
	if err != nil {
		return err
	}
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if i > 0 {
			if err := applyWhiteouts(io.NewSectionReader(f, 0, 1<<62), dst); err != nil {
				return fmt.Errorf("image: layer %s: %w", rec.diffIDs[i], err)
			}
		}
		if err := extractLayer(ctx, io.NewSectionReader(f, 0, 1<<62), dst); err != nil {
			return fmt.Errorf("image: layer %s: %w", rec.diffIDs[i], err)
		}
	}
	return nil
}

// applyWhiteouts is the first pass over a layer: it deletes what the
// layer's whiteouts name, empties opaque folders, and removes paths whose
// kind the layer changes (a file where a folder was, and back).
func applyWhiteouts(r io.Reader, dst Extractor) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read layer: %w", err)
		}
		p := path.Clean("/" + hdr.Name)
		dir, base := path.Split(p)
		switch {
		case base == whiteoutOpaque:
			dir = path.Clean(dir)
			ents, err := dst.ReadDir(dir)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			for _, e := range ents {
				if err := dst.RemoveAll(path.Join(dir, e.Name())); err != nil {
					return err
				}
			}
		case strings.HasPrefix(base, whiteoutPrefix+whiteoutPrefix):
			// Other AUFS metadata (.wh..wh.plnk, ...): nothing to apply.
		case strings.HasPrefix(base, whiteoutPrefix):
			if err := dst.RemoveAll(path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix))); err != nil {
				return err
			}
		case p != "/":
			fi, err := dst.Lstat(p)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if fi.IsDir() != (hdr.Typeflag == tar.TypeDir) {
				if err := dst.RemoveAll(p); err != nil {
					return err
				}
			}
		}
	}
}

// extractLayer is the second pass: the layer without its whiteout entries,
// streamed to the extractor.
func extractLayer(ctx context.Context, r io.Reader, dst Extractor) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- filterWhiteouts(ctx, r, pw)
	}()
	err := dst.ExtractTar("/", pr)
	// Unblock the filter if the extractor stopped early, then wait for it.
	// CloseWithError on a pipe always returns nil.
	cerr := pr.CloseWithError(errors.New("image: extraction ended"))
	ferr := <-done
	if err != nil {
		return err
	}
	return errors.Join(ferr, cerr)
}

// filterWhiteouts copies a tar stream without whiteout entries and closes w
// with the outcome.
func filterWhiteouts(ctx context.Context, r io.Reader, w *io.PipeWriter) error {
	err := func() error {
		tr := tar.NewReader(ctxReader{ctx, r})
		tw := tar.NewWriter(w)
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return tw.Close()
			}
			if err != nil {
				return fmt.Errorf("read layer: %w", err)
			}
			if strings.HasPrefix(path.Base(path.Clean("/"+hdr.Name)), whiteoutPrefix) {
				continue
			}
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if _, err := io.Copy(tw, tr); err != nil {
				return err
			}
		}
	}()
	if err != nil {
		return errors.Join(err, w.CloseWithError(err))
	}
	return w.Close()
}
