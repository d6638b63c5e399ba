package memory

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sockerless/sockerless/internal/sandbox/confine"
)

// Container roots are clones of a per-image template: the image's layers are
// unpacked once, and each container's root is folders made anew plus hard
// links to the template's files and symlinks. Creating a root then
// allocates no inode per file, which is what made a create cost 150 ms for
// an image of a few hundred symlinks. The sandbox copies a shared file
// before changing it (internal/sandbox/confine, cow.go), so containers never
// see each other's writes.

func (b *Backend) templateDir(imageID string) string {
	return filepath.Join(b.cfg.DataRoot, "templates", strings.TrimPrefix(imageID, "sha256:"))
}

// template returns the unpacked root of an image, unpacking it once.
func (b *Backend) template(ctx context.Context, imageID string) (string, error) {
	mu, _ := b.templateLocks.LoadOrStore(imageID, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	dir := b.templateDir(imageID)
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return "", err
	}
	tmp := filepath.Join(b.cfg.DataRoot, "templates", ".tmp-"+hex.EncodeToString(suffix))
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	fsys, err := confine.New(tmp, nil)
	if err != nil {
		return "", errors.Join(err, os.RemoveAll(tmp))
	}
	err = errors.Join(b.cfg.Images.Unpack(ctx, imageID, fsys), fsys.Close())
	if err == nil {
		err = os.Rename(tmp, dir) // complete templates only: a crash leaves a .tmp- folder
	}
	if err != nil {
		return "", errors.Join(fmt.Errorf("memory backend: unpack %s: %w", imageID, err), os.RemoveAll(tmp))
	}
	return dir, nil
}

// clone makes dst a copy of the template src: folders are made, files and
// symlinks are hard links.
func clone(ctx context.Context, src, dst string) error {
	type dirTimes struct {
		path  string
		mtime time.Time
	}
	var dirs []dirTimes
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			if rel != "." {
				if err := os.Mkdir(target, fi.Mode().Perm()); err != nil {
					return err
				}
			}
			if err := os.Chmod(target, fi.Mode()&(fs.ModePerm|fs.ModeSticky|fs.ModeSetgid|fs.ModeSetuid)); err != nil {
				return err
			}
			dirs = append(dirs, dirTimes{target, fi.ModTime()})
			return nil
		}
		return os.Link(p, target) // a symlink is linked itself, not followed
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chtimes(dirs[i].path, dirs[i].mtime, dirs[i].mtime); err != nil {
			return err
		}
	}
	return nil
}

// removeTemplates drops templates of earlier runs that never completed.
func (b *Backend) removeIncompleteTemplates() error {
	ents, err := os.ReadDir(filepath.Join(b.cfg.DataRoot, "templates"))
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	var errs []error
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			errs = append(errs, os.RemoveAll(filepath.Join(b.cfg.DataRoot, "templates", e.Name())))
		}
	}
	return errors.Join(errs...)
}

// A spare root per image is cloned ahead of need, in the background, so
// that creating a container of a recently used image only renames a folder:
// the hard links stay off the create's critical path. Spares are complete
// before they are offered; a daemon start discards the previous ones.

func (b *Backend) sparesDir() string { return filepath.Join(b.cfg.DataRoot, "spares") }

// takeSpare moves a ready spare root of the image to root, if there is one.
func (b *Backend) takeSpare(imageID, root string) bool {
	b.sparesMu.Lock()
	spare, ok := b.spares[imageID]
	delete(b.spares, imageID)
	b.sparesMu.Unlock()
	if !ok {
		return false
	}
	if err := os.Rename(spare, root); err != nil {
		b.log.Warn("spare root not used", "image_id", imageID, "err", err)
		return false
	}
	return true
}

// refillSpare clones a new spare root of the image in the background.
func (b *Backend) refillSpare(imageID, tmpl string) {
	b.bgWG.Add(1)
	go func() {
		defer b.bgWG.Done()
		suffix := make([]byte, 6)
		if _, err := rand.Read(suffix); err != nil {
			return
		}
		dir := filepath.Join(b.sparesDir(), hex.EncodeToString(suffix))
		err := os.MkdirAll(dir, 0o755)
		if err == nil {
			err = clone(b.bgCtx, tmpl, dir)
		}
		if err != nil {
			if rerr := os.RemoveAll(dir); rerr != nil {
				b.log.Warn("removing an unfinished spare root", "err", rerr)
			}
			return
		}
		b.sparesMu.Lock()
		old, had := b.spares[imageID]
		b.spares[imageID] = dir
		b.sparesMu.Unlock()
		if had {
			if err := os.RemoveAll(old); err != nil {
				b.log.Warn("removing a spare root", "err", err)
			}
		}
	}()
}
