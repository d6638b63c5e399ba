package memory

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/moby/moby/api/types/container"

	"github.com/sockerless/sockerless/internal/backend"
)

// entry is what the baseline keeps of a path of the root.
type entry struct {
	Mode  fs.FileMode `json:"m"`
	Size  int64       `json:"s"`
	Mtime int64       `json:"t"`
}

// snapshot walks a root folder on the host side. Mount points are left out:
// what is under them is not the container's filesystem (as with Docker).
func snapshot(root string, skip []string) (map[string]entry, error) {
	out := map[string]entry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		if rel == "/" {
			return nil
		}
		if slices.Contains(skip, rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil // SkipDir on a file would skip the rest of its folder
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		e := entry{Mode: fi.Mode(), Mtime: fi.ModTime().UnixNano()}
		if !fi.IsDir() {
			e.Size = fi.Size()
		}
		out[rel] = e
		return nil
	})
	return out, err
}

func (b *Backend) baselinePath(id string) string { return filepath.Join(b.dir(id), "baseline.json") }

// writeBaseline records the root as the image left it, for docker diff.
func (b *Backend) writeBaseline(id string, mounts []backend.Mount) error {
	snap, err := snapshot(filepath.Join(b.dir(id), "rootfs"), mountTargets(mounts))
	if err != nil {
		return err
	}
	raw, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	return os.WriteFile(b.baselinePath(id), raw, 0o600)
}

// mountTargets are the paths docker diff leaves out: the mounts, and
// /etc/hosts, which the engine rewrites as networks change (in Docker it is
// a bind mount, so it never shows either).
func mountTargets(mounts []backend.Mount) []string {
	out := []string{"/etc/hosts"}
	for _, m := range mounts {
		out = append(out, filepath.Clean(m.Target))
	}
	return out
}

// Changes implements backend.Changer: added, changed and deleted paths
// against the root the image left.
func (b *Backend) Changes(ctx context.Context, h backend.Handle) ([]container.FilesystemChange, error) {
	base, now, err := b.snapshots(h)
	if err != nil {
		return nil, err
	}
	var out []container.FilesystemChange
	for p, e := range now {
		old, ok := base[p]
		switch {
		case !ok:
			out = append(out, container.FilesystemChange{Path: p, Kind: container.ChangeAdd})
		case old != e:
			out = append(out, container.FilesystemChange{Path: p, Kind: container.ChangeModify})
		}
	}
	for p := range base {
		if _, ok := now[p]; !ok {
			out = append(out, container.FilesystemChange{Path: p, Kind: container.ChangeDelete})
		}
	}
	slices.SortFunc(out, func(a, b container.FilesystemChange) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// Sizes measures the root as the Docker engine's containerd snapshotter
// does (its default image store): the disk blocks in use, folders included,
// each inode once. SizeRw is the container's writable layer: what it added
// or changed, plus the root folder itself, which stands for the layer's top
// folder that the snapshotter counts even when nothing was written (so, as
// on the engine, SizeRw of a container that wrote nothing is that folder's
// blocks, not 0). SizeRootFs is the whole root. Mount points are left out.
func (b *Backend) Sizes(ctx context.Context, h backend.Handle) (rw, rootFS int64, err error) {
	base, now, err := b.snapshots(h)
	if err != nil {
		return 0, 0, err
	}
	root := filepath.Join(b.dir(h.ID), "rootfs")
	rwSeen, allSeen := map[uint64]bool{}, map[uint64]bool{}
	add := func(seen map[uint64]bool, total *int64, p string) error {
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(root, p), &st); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed since the walk
			}
			return err
		}
		if !seen[st.Ino] {
			seen[st.Ino] = true
			*total += st.Blocks * 512
		}
		return nil
	}
	if err := errors.Join(add(rwSeen, &rw, "/"), add(allSeen, &rootFS, "/")); err != nil {
		return 0, 0, err
	}
	for p, e := range now {
		if err := add(allSeen, &rootFS, p); err != nil {
			return 0, 0, err
		}
		if old, ok := base[p]; !ok || old != e {
			if err := add(rwSeen, &rw, p); err != nil {
				return 0, 0, err
			}
		}
	}
	return rw, rootFS, nil
}

// snapshots reads the baseline the image left and walks the root as it is.
func (b *Backend) snapshots(h backend.Handle) (base, now map[string]entry, err error) {
	raw, err := os.ReadFile(b.baselinePath(h.ID))
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(raw, &base); err != nil {
		return nil, nil, errors.Join(errors.New("memory backend: baseline"), err)
	}
	meta, err := os.ReadFile(filepath.Join(b.dir(h.ID), "workload.json"))
	if err != nil {
		return nil, nil, err
	}
	var w workload
	if err := json.Unmarshal(meta, &w); err != nil {
		return nil, nil, err
	}
	now, err = snapshot(filepath.Join(b.dir(h.ID), "rootfs"), mountTargets(w.Mounts))
	if err != nil {
		return nil, nil, err
	}
	return base, now, nil
}

var (
	_ backend.Changer = (*Backend)(nil)
	_ backend.Sizer   = (*Backend)(nil)
)
