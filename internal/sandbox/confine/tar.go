package confine

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// ErrBreakout is returned for a tar entry whose name or hard-link target
// leaves the extraction folder.
var ErrBreakout = errors.New("confine: archive entry escapes the destination")

// ExtractTar unpacks a tar stream under the guest folder dst. Every write goes
// through the FS, so symlinks in the tree (old or just extracted) resolve
// inside the container; on top of that, entry names and hard-link targets
// that climb out of dst are refused, as Docker's archive package refuses
// them. Device nodes and FIFOs are refused: the sandbox has no use for them.
func (f *FS) ExtractTar(dst string, r io.Reader) error {
	dst = path.Clean("/" + dst)
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("confine: read archive: %w", err)
		}
		target, err := within(dst, hdr.Name)
		if err != nil {
			return err
		}
		if err := f.extractEntry(dst, target, hdr, tr); err != nil {
			return err
		}
	}
}

// within joins an entry name onto dst and checks it stays there.
func within(dst, name string) (string, error) {
	joined := path.Join(dst, name)
	if joined != dst && !strings.HasPrefix(joined, strings.TrimSuffix(dst, "/")+"/") {
		return "", fmt.Errorf("%w: %q", ErrBreakout, name)
	}
	return joined, nil
}

func (f *FS) extractEntry(dst, target string, hdr *tar.Header, r io.Reader) error {
	if target == dst && hdr.Typeflag != tar.TypeDir {
		return fmt.Errorf("confine: archive entry %q would replace the destination", hdr.Name)
	}
	if dir := path.Dir(target); dir != target {
		if err := f.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	mode := hdr.FileInfo().Mode()
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := f.MkdirAll(target, mode.Perm()); err != nil {
			return err
		}
	case tar.TypeReg:
		if err := f.replace(target); err != nil {
			return err
		}
		file, err := f.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode.Perm())
		if err != nil {
			return err
		}
		_, err = io.Copy(file, r)
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("confine: write %q: %w", target, err)
		}
	case tar.TypeSymlink:
		if err := f.replace(target); err != nil {
			return err
		}
		if err := f.Symlink(hdr.Linkname, target); err != nil {
			return err
		}
	case tar.TypeLink:
		src, err := within(dst, hdr.Linkname)
		if err != nil {
			return err
		}
		if err := f.replace(target); err != nil {
			return err
		}
		if err := f.Link(src, target); err != nil {
			return err
		}
	case tar.TypeXGlobalHeader, tar.TypeXHeader:
		return nil
	default:
		return fmt.Errorf("confine: archive entry %q has unsupported type %q", hdr.Name, hdr.Typeflag)
	}
	if hdr.Typeflag == tar.TypeDir || hdr.Typeflag == tar.TypeReg {
		// The entry's own mode, not what the umask left of it, and with
		// the sticky, setuid and setgid bits (an image's /tmp is 1777).
		if err := f.Chmod(target, mode&(fs.ModePerm|fs.ModeSticky|fs.ModeSetuid|fs.ModeSetgid)); err != nil {
			return err
		}
	}
	if hdr.Typeflag != tar.TypeSymlink && !hdr.ModTime.IsZero() {
		return f.Chtimes(target, hdr.ModTime, hdr.ModTime)
	}
	return nil
}

// replace clears a non-folder at target so an entry can take its place.
func (f *FS) replace(target string) error {
	fi, err := f.Lstat(target)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("confine: archive entry would replace folder %q", target)
	}
	return f.Remove(target)
}
