package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// Bounds on what a loaded archive may make the daemon hold in memory.
const (
	maxArchiveEntries = 1 << 16
	maxMetadataSize   = 8 << 20 // manifest.json, index.json, manifests, configs
	maxLinkHops       = 16
)

// archive is an index of a spooled tar: each entry's name (cleaned, relative
// to the archive root) and where its data lies in the file. Entries are
// read in place; nothing in the archive is ever written to the file system
// under its own name.
type archive struct {
	f       *os.File
	entries map[string]archiveEntry
}

type archiveEntry struct {
	typ       byte
	off, size int64
	link      string // cleaned target of a symbolic or hard link
}

// indexArchive reads the tar headers of f in one pass.
func indexArchive(f *os.File) (*archive, error) {
	a := &archive{f: f, entries: map[string]archiveEntry{}}
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("image: load: %w", err)
	}
	tr := tar.NewReader(f)
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if n == 0 {
				return nil, errdefs.InvalidParameter("invalid archive: empty tar stream")
			}
			return a, nil
		}
		if err != nil {
			return nil, errdefs.InvalidParameter("invalid archive: %v", err)
		}
		if n >= maxArchiveEntries {
			return nil, errdefs.InvalidParameter("invalid archive: more than %d entries", maxArchiveEntries)
		}
		name := cleanName(hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeReg:
			// tar does not read ahead: the file offset is where the data starts.
			off, err := f.Seek(0, io.SeekCurrent)
			if err != nil {
				return nil, fmt.Errorf("image: load: %w", err)
			}
			if hdr.Size < 0 || off+hdr.Size > fi.Size() {
				return nil, errdefs.InvalidParameter("invalid archive: %s: truncated", name)
			}
			a.entries[name] = archiveEntry{typ: tar.TypeReg, off: off, size: hdr.Size}
		case tar.TypeSymlink:
			target := hdr.Linkname
			if !path.IsAbs(target) {
				target = path.Join(path.Dir("/"+name), target)
			}
			a.entries[name] = archiveEntry{typ: tar.TypeSymlink, link: cleanName(target)}
		case tar.TypeLink:
			a.entries[name] = archiveEntry{typ: tar.TypeSymlink, link: cleanName(hdr.Linkname)}
		}
	}
}

// cleanName makes a tar name relative to the archive root, without "..".
func cleanName(name string) string {
	return path.Clean("/" + name)[1:]
}

// has reports whether the archive holds a file (or link to one) at name.
func (a *archive) has(name string) bool {
	_, ok := a.entries[cleanName(name)]
	return ok
}

// open returns the content of the file at name, following links inside the
// archive.
func (a *archive) open(name string) (*io.SectionReader, error) {
	name = cleanName(name)
	for hop := 0; hop <= maxLinkHops; hop++ {
		e, ok := a.entries[name]
		if !ok {
			return nil, errdefs.InvalidParameter("invalid archive: %s: no such file in archive", name)
		}
		if e.typ == tar.TypeReg {
			return io.NewSectionReader(a.f, e.off, e.size), nil
		}
		name = e.link
	}
	return nil, errdefs.InvalidParameter("invalid archive: %s: too many levels of links", name)
}

// readSmall reads a metadata file, refusing one above maxMetadataSize.
func (a *archive) readSmall(name string) ([]byte, error) {
	r, err := a.open(name)
	if err != nil {
		return nil, err
	}
	if r.Size() > maxMetadataSize {
		return nil, errdefs.InvalidParameter("invalid archive: %s: %d bytes, more than %d", cleanName(name), r.Size(), maxMetadataSize)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("image: load: %w", err)
	}
	return data, nil
}
