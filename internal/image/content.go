package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"

	"github.com/distribution/reference"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
)

// contentError is a failure of the content itself (a digest that does not
// match, a stream that does not decompress), as opposed to a failure of the
// store; callers give it the class that fits their source.
type contentError struct{ msg string }

func (e *contentError) Error() string { return e.msg }

func badContent(format string, args ...any) error {
	return &contentError{msg: fmt.Sprintf(format, args...)}
}

// lease marks content digests as being written, so that collection leaves
// them alone until the image that uses them is committed. The returned
// function ends the lease; calling it again does nothing.
func (s *Store) lease(keys ...string) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		s.leases[k]++
	}
	var once sync.Once
	return func() {
		once.Do(func() { s.unlease(keys) })
	}
}

func (s *Store) unlease(keys []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if s.leases[k]--; s.leases[k] <= 0 {
			delete(s.leases, k)
		}
	}
}

// hasLayer reports whether the layer with this diff ID is stored.
func (s *Store) hasLayer(diffID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.sizes[diffID]
	return ok
}

// collect is collectLocked for callers without the lock.
func (s *Store) collect() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.collectLocked()
}

// collectLocked deletes configs and layers that no image uses and nobody is
// writing, and returns the diff sizes of the layers freed. Failures are
// logged: the files are unreferenced, so a later collection retries them.
func (s *Store) collectLocked() int64 {
	used := map[string]bool{}
	for id, rec := range s.images {
		used[id] = true
		for _, d := range rec.diffIDs {
			used[d] = true
		}
	}
	var freed int64
	for _, sub := range []string{"blobs", "layers"} {
		folder := s.path(sub, "sha256")
		ents, err := os.ReadDir(folder)
		if err != nil {
			s.logger.Warn("content collection failed", "dir", folder, "err", err)
			continue
		}
		for _, e := range ents {
			key := "sha256:" + e.Name()
			if used[key] || s.leases[key] > 0 {
				continue
			}
			if err := os.Remove(s.path(sub, "sha256", e.Name())); err != nil {
				s.logger.Warn("content collection failed", "digest", key, "err", err)
				continue
			}
			if sub == "layers" {
				freed += s.sizes[key]
				delete(s.sizes, key)
			}
		}
	}
	for d := range s.sizes {
		if !used[d] && s.leases[d] == 0 {
			delete(s.sizes, d)
		}
	}
	return freed
}

// writeLayer stores layer number i of an image: raw may be a plain, gzip or
// zstd tar. The uncompressed sha256 must be diffID and, when wantDigest is
// set, the sha256 of raw must be wantDigest. It returns the uncompressed size.
func (s *Store) writeLayer(ctx context.Context, raw io.Reader, i int, diffID, wantDigest string) (int64, error) {
	want, err := digest.Parse(diffID)
	if err != nil {
		return 0, badContent("invalid diffID for layer %d: %q", i, diffID)
	}
	rawHash := digest.SHA256.Hash()
	br := bufio.NewReader(io.TeeReader(ctxReader{ctx, raw}, rawHash))
	plain, closeFn, err := decompress(br)
	if err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(s.path("tmp"), "layer-*")
	if err != nil {
		return 0, errors.Join(fmt.Errorf("image store: %w", err), closeFn())
	}
	diffHash := digest.SHA256.Hash()
	src := &readErr{r: plain}
	dst := &writeErr{w: io.MultiWriter(f, diffHash)}
	tee := io.TeeReader(src, dst)
	n, err := diffSize(tee)
	if err == nil {
		_, err = io.Copy(io.Discard, tee) // the padding after the end marker
	}
	switch {
	case err == nil, ctx.Err() != nil, dst.err != nil:
	case src.err != nil:
		err = badContent("layer %d: %v", i, src.err)
	default:
		err = badContent("layer %d: not a tar archive: %v", i, err)
	}
	if err == nil {
		err = closeFn()
	} else {
		err = errors.Join(err, closeFn())
	}
	if err == nil && wantDigest != "" {
		// The compressed stream may end after the compressed data.
		_, err = io.Copy(io.Discard, br)
	}
	if err == nil {
		err = checkDigests(rawHash, diffHash, i, want, wantDigest)
	}
	if err != nil {
		return 0, errors.Join(err, f.Close(), os.Remove(f.Name()))
	}
	if err := s.install(f, s.layerPath(want)); err != nil {
		return 0, err
	}
	s.mu.Lock()
	s.sizes[want.String()] = n
	s.mu.Unlock()
	return n, nil
}

// diffSize reads a tar to its end marker and sums what Docker counts as a
// layer's size.
func diffSize(r io.Reader) (int64, error) {
	var n int64
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
			n += hdr.Size
		case tar.TypeSymlink:
			n += int64(len(hdr.Linkname))
		}
	}
}

func checkDigests(rawHash, diffHash hash.Hash, i int, want digest.Digest, wantDigest string) error {
	if wantDigest != "" {
		if got := digest.NewDigest(digest.SHA256, rawHash); got.String() != wantDigest {
			return badContent("invalid digest for layer %d: expected %q, got %q", i, wantDigest, got)
		}
	}
	if got := digest.NewDigest(digest.SHA256, diffHash); got != want {
		return badContent("invalid diffID for layer %d: expected %q, got %q", i, want, got)
	}
	return nil
}

// decompress sniffs the stream's magic bytes.
func decompress(br *bufio.Reader) (io.Reader, func() error, error) {
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, badContent("layer: gzip: %v", err)
		}
		return zr, zr.Close, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, nil, badContent("layer: zstd: %v", err)
		}
		return zr, func() error { zr.Close(); return nil }, nil
	}
	return br, func() error { return nil }, nil
}

// writeConfig stores an image config and returns the image ID.
func (s *Store) writeConfig(raw []byte) (string, error) {
	d := digest.FromBytes(raw)
	if _, err := os.Stat(s.blobPath(d)); err == nil {
		return d.String(), nil
	}
	f, err := os.CreateTemp(s.path("tmp"), "config-*")
	if err != nil {
		return "", fmt.Errorf("image store: %w", err)
	}
	if _, err := f.Write(raw); err != nil {
		return "", errors.Join(fmt.Errorf("image store: %w", err), f.Close(), os.Remove(f.Name()))
	}
	return d.String(), s.install(f, s.blobPath(d))
}

// commit adds the image whose config and layers are stored (and leased by
// the caller) and points refs at it.
func (s *Store) commit(raw []byte, refs []reference.Named) (*record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := digest.FromBytes(raw).String()
	rec := s.images[id]
	err := s.mutateLocked(func() error {
		if rec == nil {
			var err error
			if rec, err = s.newRecord(raw); err != nil {
				return err
			}
			s.images[id] = rec
		}
		for _, r := range refs {
			if old, ok := s.refs[r.String()]; ok && old != id {
				s.logger.Info("reference moved", "ref", reference.FamiliarString(r), "from", old, "image_id", id)
			}
			s.refs[r.String()] = id
			if _, tagged := r.(reference.Tagged); tagged {
				rec.lastTagTime = now()
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}
