package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// subpath resolves a volume mount's Subpath inside the volume's folder, as
// dockerd's safepath does: relative, and no symlink on the way may lead
// out of the volume (the kernel checks it: openat2 RESOLVE_BENEATH). The
// result is the host path of the folder or file to mount.
func subpath(volDir, sub string) (string, error) {
	if !filepath.IsLocal(sub) {
		return "", errdefs.InvalidParameter("subpath must be a relative path within the volume")
	}
	dir, err := os.Open(volDir)
	if err != nil {
		return "", err
	}
	defer dir.Close()
	fd, err := unix.Openat2(int(dir.Fd()), sub, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
	switch {
	case errors.Is(err, unix.EXDEV):
		return "", errdefs.InvalidParameter("cannot access path %s: path concatenation escapes the base directory, base: %s", sub, volDir)
	case err != nil:
		return "", errdefs.InvalidParameter("cannot access path %s: %v", sub, err)
	}
	defer unix.Close(fd)
	real, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		return "", err
	}
	return real, nil
}
